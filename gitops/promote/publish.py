"""`gitops publish`: mirror dist/<env> into a dedicated environment repository.

For teams whose Argo CD watches a separate repository: ``<env>/`` there is replaced
by ``dist/<env>/``, committed with a ``Source-Commit:`` trailer pointing at the generator
commit, and pushed (never forced). Nothing changed -> no commit.

What is published is what the remote's default branch holds, never the working tree: a local,
unpushed or unreviewed commit (say one pointing ``dist/prod`` at another image) must not reach
the clusters by skipping the pull request. The default branch is fetched, checked out in a
temporary worktree, and published only when its ``dist/<env>`` is exactly what its inputs
generate (``gitops synth --check``) and passes ``gitops validate``; otherwise exit 1 naming the
commit. The user's checkout is not read or touched.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Callable

from ..errors import GitopsError, InputError, Problem
from ..pipeline.tree import read_tree
from ..ops.urls import redact
from .gates import Validator, default_validator
from .git import Git, GitError, temp_worktree


def publish(root: Path | str, repo_url: str, envs: list[str] | None = None, *, branch: str | None = None,
            remote: str = "origin", schema_locations: list[str] | None = None, validator: Validator | None = None,
            progress: Callable[[str], None] | None = None) -> dict:
    root = Path(root).resolve()
    say = progress or (lambda message: None)
    shown_url = redact(repo_url)  # the URL may carry a token: only this form is printed
    git = Git(root)
    prefix = git.prefix()
    git.fetch(remote)
    default = git.default_branch(remote)
    source = git.rev(f"refs/remotes/{remote}/{default}")
    if source is None:
        raise GitopsError(f"{remote}/{default} does not exist: publish reads what the default branch holds")
    if git.rev("HEAD") != source:
        say(f"publishing {remote}/{default} ({source[:12]}), not your checkout: only reviewed, pushed commits are published")
    try:
        source_url = redact(git.remote_url(remote))  # recorded in a trailer, forever
    except GitError:
        source_url = str(git.toplevel())
    check = validator or (lambda wt_root, env: default_validator(wt_root, env, schema_locations))

    with temp_worktree(git, source) as wt:
        wt_root = wt.cwd / prefix
        dist = wt_root / "dist"
        available = sorted(p.name for p in dist.iterdir() if p.is_dir() and not p.name.startswith(".")) if dist.is_dir() else []
        envs = list(envs or available)
        missing = [e for e in envs if e not in available]
        if missing or not envs:
            raise InputError(Problem("(command line)", "--env", f"no rendered dist/<env> on {remote}/{default} for "
                                     f"{', '.join(missing) or 'any environment'} (available: {', '.join(available) or 'none'})"))
        _check_fresh_and_valid(wt_root, envs, f"{remote}/{default} ({source[:12]})", check, say)
        trees = {env: read_tree(dist / env) for env in envs}
    return _push_mirror(repo_url, shown_url, trees, source, source_url, branch, say)


def _check_fresh_and_valid(wt_root: Path, envs: list[str], where: str, check: Validator,
                           say: Callable[[str], None]) -> None:
    from ..pipeline.synth import synth  # heavy import (cdk8s) only when rendering
    say(f"checking that dist/{{{','.join(envs)}}} on {where} is what its inputs generate")
    try:
        result = synth(wt_root, envs, check=True)
    except InputError as exc:
        raise GitopsError(f"{where} is not publishable: its inputs do not load:\n  " + str(exc).replace("\n", "\n  ")) from exc
    if not result.clean:
        lines = [line for path, diff in sorted(result.drift.items()) for line in diff.lines(f"{path}/")]
        raise GitopsError(f"{where} is not publishable: these files are not what `gitops synth` generates "
                          "(hand-edited or stale):\n  " + "\n  ".join(lines[:20]))
    for env in envs:
        say(f"validating {env}")
        gate = check(wt_root, env)
        if gate.failed or gate.status == "skipped":
            raise GitopsError(f"{where} is not publishable: {gate.message}\n{gate.details}".rstrip())


def _push_mirror(repo_url: str, shown_url: str, trees: dict[str, dict[str, bytes]], source: str, source_url: str,
                 branch: str | None, say: Callable[[str], None]) -> dict:
    envs = list(trees)
    tmp = Path(tempfile.mkdtemp(prefix="gitops-publish-"))
    try:
        clone = tmp / "repo"
        Git(tmp).run("clone", "--quiet", repo_url, str(clone))
        target = Git(clone)
        branch = branch or target.current_branch() or "main"
        if target.rev("HEAD") is None:  # empty repository
            target.run("checkout", "--quiet", "--orphan", branch)
        elif target.current_branch() != branch:
            if target.rev(f"refs/remotes/origin/{branch}"):
                target.run("checkout", "--quiet", "-B", branch, f"origin/{branch}")
            else:
                target.run("checkout", "--quiet", "-b", branch)
        for env, files in trees.items():
            dest = clone / env
            if dest.exists():
                shutil.rmtree(dest)
            for rel, data in files.items():
                path = dest / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
        message = (f"publish {', '.join(envs)} from {source[:12]}\n\n"
                   f"Mirror of dist/<env> generated by `gitops synth`; do not edit by hand.\n\n"
                   f"Source-Commit: {source}\nSource-Repository: {source_url}\nEnvironments: {', '.join(envs)}\n")
        commit = target.commit_paths(envs, message)
        if commit is None:
            say(f"{shown_url}: {', '.join(envs)} already up to date")
            return {"changed": False, "commit": None, "source_commit": source, "environments": envs, "branch": branch}
        try:
            target.run("push", "--quiet", "origin", f"HEAD:refs/heads/{branch}")
        except GitError as exc:
            raise GitopsError(f"push to {shown_url} ({branch}) was rejected; someone else published meanwhile? "
                              f"Re-run `gitops publish` (it starts from the latest state).\n{exc}") from exc
        say(f"published {', '.join(envs)} to {shown_url} ({branch}) as {commit[:12]}")
        return {"changed": True, "commit": commit, "source_commit": source, "environments": envs, "branch": branch}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
