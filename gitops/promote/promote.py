"""Promotion and rollback as pull requests between environment folders.

Steps (Kargo-style: each idempotent, skipped when there is nothing to do):

1. load the platform; evaluate the local gates (order, checkout, hold);
2. compute the promotable values to move (schema ``x-promotable`` fields); none -> done;
3. fetch; remote gates (hold on the default branch, production's default-branch rule);
4. look the pull request up by head (also proves GITHUB_TOKEN works before any push);
5. in a temporary ``git worktree`` (the user's checkout is never touched): edit the
   target environment file (minimal diff), re-synthesize ``dist/<target>``, compute
   the semantic diff, run validation, commit with trailers;
6. create/fast-forward the local branch, push it (never forced);
7. open the pull request, or update the one already open for that head; labels,
   reviewers from the inventory; close older promotion PRs into the same environment whose
   services are all promoted by this one (a PR for other services stays open).

A branch that already exists (a re-run) is built upon only when every commit on it is this
promotion's own: ``Promotion-Id`` trailer of this promotion, one parent, only the target's
environment file and generated paths touched, and the environment file exactly what this
promotion writes. The branch name is predictable, so anyone who can push could otherwise
prepare it (say, with a workflow change) and have the tool open the pull request for them.

The branch name carries a hash of the promoted content
(``promote/<from>-to-<to>/<id>``): the same promotion always maps to the same
branch and pull request. History lives in commit trailers (``Promoted-From``,
``Promoted-To``, ``Source-Commit``, ``Services``, ``Promotion-Id``); rollback finds
the last promotion through them and opens a *new* commit restoring the earlier versions.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..ops.diff import diff_trees
from ..errors import GitopsError, InputError, Problem
from ..inputs.load import ENVIRONMENTS_DIR, load_platform
from ..inputs.model import Platform
from ..pipeline.outputs import ENV_FILES, ENV_TREES
from ..pipeline.tree import read_tree
from ..ops.urls import redact
from . import body as bodies
from .body import Plan, ServiceChange
from .envfile import EnvFile, plain_values
from .evidence import source_gates
from .gates import (SKIPPABLE, Gate, GateFailed, Validator, checkout_gate, default_branch_gate, default_validator,
                    hold_gate, order_gate)
from .git import Git, GitError, PushRejected, parse_remote, temp_worktree
from .github import DEFAULT_API, GitHub, GitHubError, split_reviewers, web_url
from .holds import read_hold

TRAILER_KEYS = ("Promoted-From", "Promoted-To", "Source-Commit", "Services", "Promotion-Id",
                "Rollback-Of", "Restored-From", "Environment")
LABEL = "promotion"


@dataclass
class Options:
    remote: str = "origin"
    token: str | None = None
    api_url: str | None = None
    repository: str | None = None     # owner/repo; default: from the remote URL, else GITHUB_REPOSITORY
    dry_run: bool = False
    validator: Validator | None = None
    schema_locations: list[str] | None = None  # extra CRD schema locations for validation (the repository's own come first)
    progress: Callable[[str], None] = field(default=lambda message: None)
    environ: dict | None = None       # where the soak/alerts gates read ARGOCD_*/PROMETHEUS_URL* (None: os.environ)
    now: Callable | None = None       # the soak gate's clock (None: the machine's, UTC)

    @classmethod
    def from_env(cls, **kwargs) -> "Options":
        return cls(token=os.environ.get("GITHUB_TOKEN"), api_url=os.environ.get("GITHUB_API_URL"), **kwargs)


@dataclass
class Outcome:
    status: str                      # nothing | dry-run | opened | updated
    message: str
    plan: Plan | None = None
    body: str = ""
    pull: dict | None = None
    commit: str | None = None
    superseded: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        plan = self.plan
        return {
            "status": self.status, "message": self.message,
            "branch": plan.branch if plan else None, "promotion_id": plan.promotion_id if plan else None,
            "services": {c.name: {"old": plain_values(c.old), "new": plain_values(c.new)} for c in (plan.changes if plan else [])},
            "gates": [g.as_dict() for g in (plan.gates if plan else [])],
            "pull_request": {"number": self.pull.get("number"), "url": self.pull.get("html_url")} if self.pull else None,
            "commit": self.commit, "superseded": self.superseded, "warnings": self.warnings,
            "diff": plan.diff.summary if plan and plan.diff else None,
            "evidence": [e.as_dict() for e in (plan.evidence if plan else [])],
        }


# --------------------------------------------------------------------------- helpers

def _env_rel(env: str) -> str:
    return f"{ENVIRONMENTS_DIR}/{env}.yaml"


def _owned_paths(env: str) -> list[str]:
    """Every path the generator writes for one environment (dist/<env> and registered per-env files)."""
    return [t.format(env=env) for t, _ in ENV_TREES] + [t.format(env=env) for t, _ in ENV_FILES]


def _content_id(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:10]


def _known_env(platform: Platform, name: str, flag: str) -> None:
    names = [e.name for e in platform.environments]
    if name not in names:
        raise InputError(Problem("(command line)", flag, f"expected one of {', '.join(names)}, found unknown environment {name!r}"))


def _reviewers(platform: Platform, services: list[str]) -> tuple[str, ...]:
    out: list[str] = []
    for name in services:
        try:
            out += list(platform.component(name).reviewers)
        except KeyError:
            continue
    return tuple(sorted(set(out)))


def is_promotion_branch_into(ref: str, target: str) -> bool:
    parts = ref.split("/")
    return len(parts) == 3 and parts[0] == "promote" and parts[1].endswith(f"-to-{target}")


class _Context:
    """Repository facts shared by promote and rollback."""

    def __init__(self, root: Path | str, options: Options):
        self.root = Path(root).resolve()
        self.options = options
        self.git = Git(self.root)
        self.top = self.git.toplevel()
        self.prefix = self.git.prefix()
        self.remote = options.remote
        self.default_branch = "main"
        self.remote_ref: str | None = None
        self.warnings: list[str] = []

    def say(self, message: str) -> None:
        self.options.progress(message)

    def fetch(self) -> None:
        try:
            self.git.fetch(self.remote)
        except GitError as exc:
            if not self.options.dry_run:
                raise
            self.warnings.append(f"could not fetch {self.remote} ({exc}); remote gates use the last fetched state")
        self.default_branch = self.git.default_branch(self.remote)
        ref = f"refs/remotes/{self.remote}/{self.default_branch}"
        self.remote_ref = ref if self.git.rev(ref) else None
        if self.remote_ref is None:
            raise GitopsError(f"{self.remote}/{self.default_branch} does not exist: push the default branch first")

    def freshness_gate(self) -> Gate:
        """On the default branch, HEAD must not lag behind the remote (a stale checkout re-promotes old state)."""
        head, branch = self.git.head(), self.git.current_branch()
        remote = self.git.rev(self.remote_ref)
        if branch == self.default_branch and head != remote and self.git.is_ancestor(head, remote):
            behind = self.git.run("rev-list", "--count", f"{head}..{remote}")
            return Gate("up-to-date", "failed", f"{branch} is {behind} commit(s) behind {self.remote}/{branch}: "
                                                f"`git pull --ff-only`, then re-run")
        return Gate("up-to-date", "passed", f"built from {head[:12]} ({branch})")

    def repository(self) -> tuple[str, str]:
        repository = self.options.repository
        if not repository:
            url = self.git.remote_url(self.remote)
            parsed = parse_remote(url)
            repository = "/".join(parsed) if parsed else os.environ.get("GITHUB_REPOSITORY")
        if not repository or "/" not in repository:
            raise GitopsError(f"cannot tell the GitHub repository from remote {self.remote!r} "
                              f"({redact(self.git.remote_url(self.remote))}); set GITHUB_REPOSITORY=owner/repo")
        owner, repo = repository.split("/", 1)
        return owner, repo

    def web(self) -> str | None:
        try:
            owner, repo = self.repository()
        except GitopsError:
            return None
        return f"{web_url(self.options.api_url or DEFAULT_API)}/{owner}/{repo}"

    def github(self) -> GitHub:
        owner, repo = self.repository()
        return GitHub(self.options.token, owner, repo, self.options.api_url, log=self.say)


# --------------------------------------------------------------------------- promote

def _skipped(skip_gate, reason: str | None) -> dict[str, str]:
    """--skip-gate values -> {gate: reason}. ``True`` (the old flag, Python callers) means ``order``."""
    names = ["order"] if skip_gate is True else list(skip_gate or ())
    unknown = sorted({n for n in names if n not in SKIPPABLE})
    if unknown:
        raise InputError(Problem("(command line)", "--skip-gate", f"expected one of {', '.join(SKIPPABLE)}, found "
                                 f"{', '.join(map(repr, unknown))} (the other gates have no bypass)"))
    if names and not (reason or "").strip():
        raise InputError(Problem("(command line)", "--reason", "--skip-gate needs --reason TEXT (it is recorded in the PR and the commit)"))
    return {name: _one_line(reason) for name in names}


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def promote(root: Path | str, source: str | None, target: str, services: list[str] | None = None, *,
            skip_gate: bool | list[str] | tuple[str, ...] = False, reason: str | None = None,
            options: Options | None = None) -> Outcome:
    options = options or Options.from_env()
    ctx = _Context(root, options)
    platform = load_platform(ctx.root)
    _known_env(platform, target, "--to")
    source = source or platform.environment(target).promotes_from
    if not source:
        raise InputError(Problem("(command line)", "--from", f"{target} has no promotesFrom; pass --from ENV"))
    _known_env(platform, source, "--from")
    if source == target:
        raise InputError(Problem("(command line)", "--from", "source and target are the same environment"))
    skipped = _skipped(skip_gate, reason)

    gates = [order_gate(platform, source, target, "order" in skipped, reason, ctx.git.user()),
             checkout_gate(ctx.git), hold_gate(ctx.root, ctx.git, target, None)]
    if any(g.failed for g in gates):
        raise GateFailed(gates)

    src_file = EnvFile.read(ctx.root / _env_rel(source), _env_rel(source))
    dst_file = EnvFile.read(ctx.root / _env_rel(target), _env_rel(target))
    selected = _select(platform, src_file, dst_file, source, target, services)
    changes = [ServiceChange(name, dst_file.values(name), src_file.values(name), _reviewers(platform, [name]))
               for name in selected
               if plain_values(dst_file.values(name)) != plain_values(src_file.values(name))]
    if not changes:
        return Outcome("nothing", f"nothing to promote: {target} already runs {source}'s versions of "
                                  f"{', '.join(selected) or 'every shared service'}; no branch, no pull request")
    if platform.environment(target).requires_digest:
        unpinned = [c.name for c in changes if not c.new.get("image.digest")]
        if unpinned:
            raise InputError([Problem(src_file.display, f"components/{name}/image/digest",
                                      f"{target} requires images pinned by digest but {source} "
                                      f"runs {name} {src_file.values(name).get('image.tag')} without one; record the "
                                      f"digest in {source} first (gitops bump --digest)") for name in unpinned])

    ctx.fetch()
    gates[2] = hold_gate(ctx.root, ctx.git, target, ctx.remote_ref)
    gates.append(ctx.freshness_gate())
    if platform.environment(target).production:
        gates.append(default_branch_gate(ctx.git, source, target, ctx.remote_ref,
                                         {c.name: c.new for c in changes}))
    ctx.say(f"asking {source}'s Argo CD and Prometheus for the promoted versions' record")
    who = ctx.git.user()
    evidence = source_gates(ctx.root, ctx.git, platform, source, target, {c.name: c.new for c in changes},
                            skip={k: f"{v} (by {who})" if who else v for k, v in skipped.items() if k != "order"},
                            environ=options.environ, **({"now": options.now} if options.now else {}))
    gates += evidence.gates
    if any(g.failed for g in gates):
        raise GateFailed(gates)

    promotion_id = _content_id({"action": "promote", "from": source, "to": target,
                                "services": {c.name: plain_values(c.new) for c in changes}})
    plan = Plan(action="promote", target=target, source=source, changes=changes, promotion_id=promotion_id,
                branch=f"promote/{source}-to-{target}/{promotion_id}", base_branch=ctx.default_branch,
                source_commit=ctx.git.head(), base_commit="", reason=reason, gates=gates,
                evidence=evidence.evidence, evidence_window=evidence.window)

    return _deliver(ctx, platform, plan, labels=[LABEL, f"env:{target}"], supersede=True)


def _select(platform: Platform, src: EnvFile, dst: EnvFile, source: str, target: str,
            services: list[str] | None) -> list[str]:
    known = {c.name for c in platform.components}
    if services:
        problems = []
        for name in services:
            if name not in known:
                problems.append(Problem("(command line)", "--service", f"expected an inventory component, found unknown {name!r}"))
            elif not src.enabled(name):
                problems.append(Problem(src.display, f"components/{name}", f"{name} is not enabled in {source}: nothing to promote from there"))
            elif not dst.has_component(name):
                problems.append(Problem(dst.display, f"components/{name}", f"{name} is not declared in {target}; "
                                        "adding a service to an environment is a local decision: add it there first"))
        if problems:
            raise InputError(problems)
        # A job that runs before a component from its image moves with it (Platform.image_group):
        # promoting one without the other would run migrations of another version.
        together = {member for name in services for member in platform.image_group(name)
                    if src.enabled(member) and dst.has_component(member)}
        return sorted(set(services) | together)
    return sorted(n for n in dst.components() if dst.enabled(n) and src.enabled(n) and n in known)


# --------------------------------------------------------------------------- rollback

def find_last_promotion(git: Git, env: str) -> dict | None:
    """Newest commit with ``Promoted-To: env`` reachable from HEAD that no ``Rollback-Of`` trailer already undid."""
    commits = git.log_trailers("HEAD", TRAILER_KEYS)
    undone = {sha for c in commits for sha in c.get("Rollback-Of", [])}
    for c in commits:
        if env in c.get("Promoted-To", []) and not c.get("Rollback-Of") and not any(
                c["sha"].startswith(u) or u.startswith(c["sha"]) for u in undone):
            return c
    return None


def rollback(root: Path | str, env: str, to: str | None = None, *, reason: str | None = None,
             options: Options | None = None) -> Outcome:
    options = options or Options.from_env()
    ctx = _Context(root, options)
    platform = load_platform(ctx.root)
    _known_env(platform, env, "--env")
    gates = [checkout_gate(ctx.git)]
    if any(g.failed for g in gates):
        raise GateFailed(gates)
    hold = read_hold(ctx.root, env)
    if hold:
        gates.append(Gate("hold", "passed", f"{hold.describe()}; rollbacks are allowed under a hold (it stays in place)"))

    if to:
        restored = ctx.git.rev(to)
        if restored is None:
            raise InputError(Problem("(command line)", "--to", f"expected a git commit or ref, found unknown {to!r}"))
        rollback_of = None
    else:
        last = find_last_promotion(ctx.git, env)
        if last is None:
            raise GitopsError(f"no promotion into {env} found in the history of HEAD (commits with a "
                              f"'Promoted-To: {env}' trailer); pass --to REF to choose the version to restore")
        if not last["parents"]:
            raise GitopsError(f"promotion {last['sha'][:12]} has no parent to restore")
        restored, rollback_of = last["parents"][0], last["sha"]

    old_text = ctx.git.show(restored, _env_rel(env))
    if old_text is None:
        raise GitopsError(f"{_env_rel(env)} does not exist at {restored[:12]}")
    ref_file = EnvFile(old_text.decode("utf-8"), f"{_env_rel(env)}@{restored[:12]}")
    cur_file = EnvFile.read(ctx.root / _env_rel(env), _env_rel(env))
    changes = [ServiceChange(name, cur_file.values(name), ref_file.values(name), _reviewers(platform, [name]))
               for name in sorted(cur_file.components())
               if ref_file.has_component(name) and plain_values(cur_file.values(name)) != plain_values(ref_file.values(name))]
    if not changes:
        return Outcome("nothing", f"nothing to roll back: {env} already runs the versions of {restored[:12]}")
    ctx.fetch()
    gates.append(ctx.freshness_gate())
    if any(g.failed for g in gates):
        raise GateFailed(gates)
    promotion_id = _content_id({"action": "rollback", "env": env, "restored": restored,
                                "services": {c.name: plain_values(c.new) for c in changes}})
    plan = Plan(action="rollback", target=env, source=None, changes=changes, promotion_id=promotion_id,
                branch=f"rollback/{env}/{promotion_id}", base_branch=ctx.default_branch,
                source_commit=ctx.git.head(), base_commit="", reason=reason, gates=gates,
                rollback_of=rollback_of, restored_from=restored)

    return _deliver(ctx, platform, plan, labels=[LABEL, "rollback", f"env:{env}"], supersede=False)


# --------------------------------------------------------------------------- shared delivery

def _branch_start(ctx: _Context, branch: str) -> tuple[str, str | None, str | None]:
    """(start commit, local branch tip, remote branch tip). Re-runs continue an existing branch."""
    git = ctx.git
    local = git.rev(f"refs/heads/{branch}")
    remote = git.rev(f"refs/remotes/{ctx.remote}/{branch}")
    if local and remote and local != remote:
        if git.is_ancestor(local, remote):
            return remote, local, remote
        if not git.is_ancestor(remote, local):
            raise GitopsError(f"local branch {branch} and {ctx.remote}/{branch} have diverged; "
                              f"delete one of them (git branch -D {branch}) and re-run")
    return (local or remote or git.head()), local, remote


def edit_env_file(env_file: EnvFile, plan: Plan) -> None:
    """The one edit a promotion or rollback makes: each service's promotable values set to the plan's new ones.

    Used to write the change and to recompute what an existing branch must hold (``_check_own_branch``).
    """
    for c in plan.changes:
        env_file.set_values(c.name, c.new)


def _deliver(ctx: _Context, platform: Platform, plan: Plan, *, labels: list[str], supersede: bool) -> Outcome:
    """Promotion steps 4-7, each one function: look up, prepare the branch, render and commit, push, open the PR."""
    gh, existing = _look_up_pull(ctx, plan)
    start, local_tip, remote_tip = _prepare_branch(ctx, plan)
    rendered = _render_and_commit(ctx, plan, start)
    if isinstance(rendered, Outcome):
        return rendered  # dry run: nothing committed, pushed or opened
    new_commit, text = rendered
    _push_branch(ctx, plan, start, new_commit, local_tip, remote_tip)
    assert gh is not None
    return _open_pull(ctx, gh, platform, plan, existing, text, new_commit, labels=labels, supersede=supersede)


def _look_up_pull(ctx: _Context, plan: Plan) -> tuple[GitHub | None, dict | None]:
    """Step 4: the open pull request for the branch (this also proves the token works, before any push)."""
    git = ctx.git
    if git.current_branch() == plan.branch:
        raise GitopsError(f"you are on {plan.branch}; run this from your default branch")
    gh = None
    existing = None
    if not ctx.options.dry_run:
        gh = ctx.github()
        plan.web = gh.web
        existing = gh.open_pull_for(plan.branch, ctx.default_branch)
    else:
        plan.web = ctx.web()
    if not git.is_ancestor("HEAD", ctx.remote_ref):
        plan.warnings.append(f"HEAD ({plan.source_commit[:12]}) has commits that are not on "
                             f"{ctx.remote}/{ctx.default_branch}; they are part of this pull request")
    return gh, existing


def _prepare_branch(ctx: _Context, plan: Plan) -> tuple[str, str | None, str | None]:
    """Where the commit goes: (start commit, local tip, remote tip); an existing branch only if it is this promotion's own."""
    git = ctx.git
    start, local_tip, remote_tip = _branch_start(ctx, plan.branch)
    base = git.run("merge-base", start, "HEAD") if start != git.head() else git.head()
    plan.base_commit = base
    if start != base:
        _check_own_branch(ctx, plan, start, base)
    return start, local_tip, remote_tip


def _render_and_commit(ctx: _Context, plan: Plan, start: str) -> tuple[str | None, str] | Outcome:
    """Step 5, in a temporary worktree: edit the environment file, re-synthesize, diff, validate, commit.

    Returns (new commit or None when the branch already holds it, pull request body), or the
    dry run's Outcome.
    """
    options = ctx.options
    git = ctx.git
    target = plan.target
    env_rel = _env_rel(target)
    validator = options.validator or (lambda root, env: default_validator(root, env, options.schema_locations))

    ctx.say(f"preparing {plan.branch} in a temporary worktree")
    with temp_worktree(git, start) as wt:
        wt_root = wt.cwd / ctx.prefix
        wt_git = Git(wt_root)
        env_file = EnvFile.read(wt_root / env_rel, env_rel)
        edit_env_file(env_file, plan)
        (wt_root / env_rel).write_text(env_file.text, encoding="utf-8")
        from ..pipeline.synth import synth  # heavy import (cdk8s) only when rendering
        synth(wt_root, [target], no_cache=True, progress=ctx.say)
        new_tree = read_tree(wt_root / "dist" / target)
        old_tree = git.tree_files(plan.base_commit, f"dist/{target}")
        plan.diff = diff_trees(old_tree, new_tree, left_label=f"dist/{target}@{plan.base_branch}",
                               right_label=f"dist/{target}@{plan.branch}")
        ctx.say(f"validating {target}")
        gate = validator(wt_root, target)
        plan.gates.append(gate)
        if gate.status == "skipped":
            ctx.warnings.append(gate.message)
        if gate.failed:
            raise GateFailed(plan.gates)
        text = bodies.body(plan)
        if options.dry_run:
            return Outcome("dry-run", f"dry run: would open {plan.branch} ({plan.diff.summary_line()})", plan, text,
                           warnings=ctx.warnings + plan.warnings)
        message = bodies.commit_message(plan)
        paths = [env_rel] + [p for p in _owned_paths(target)]
        new_commit = wt_git.commit_paths(paths, message)
    return new_commit, text


def _push_branch(ctx: _Context, plan: Plan, start: str, new_commit: str | None, local_tip: str | None,
                 remote_tip: str | None) -> str:
    """Step 6: create or fast-forward the local branch and push it (never forced); returns its tip."""
    git = ctx.git
    head = new_commit or start
    if head == git.head():
        raise GitopsError("internal error: the promotion produced no commit")  # pragma: no cover

    # From here on the branch exists locally: a failure tells the user how to resume.
    if new_commit or local_tip is None:
        git.update_branch(plan.branch, head, local_tip)
    if remote_tip != head:
        ctx.say(f"pushing {plan.branch}")
        try:
            git.push(ctx.remote, head, plan.branch)
        except PushRejected as exc:
            raise GitopsError(f"{exc}\nThe local branch {plan.branch} is kept ({head[:12]}). Fix the cause, then resume "
                              f"with `git push {ctx.remote} {plan.branch}` and re-run this command (it adopts the branch "
                              "and opens or updates the pull request).") from exc
    return head


def _open_pull(ctx: _Context, gh: GitHub, platform: Platform, plan: Plan, existing: dict | None, text: str,
               new_commit: str | None, *, labels: list[str], supersede: bool) -> Outcome:
    """Step 7: open or update the pull request; labels, reviewers, superseded promotions closed."""
    title = bodies.title(plan)
    try:
        if existing:
            pull = gh.update_pull(existing["number"], title=title, body=text)
            created = False
        else:
            pull, created = gh.create_or_adopt_pull(branch=plan.branch, base=plan.base_branch, title=title, body=text)
            if not created:
                pull = gh.update_pull(pull["number"], title=title, body=text)
        number = pull["number"]
        gh.add_labels(number, labels)
        users, teams = split_reviewers(_reviewers(platform, plan.services), gh.owner)
        try:
            gh.request_reviewers(number, users, teams)
        except GitHubError as exc:
            if exc.status != 422:
                raise
            ctx.warnings.append(f"could not request reviewers {', '.join(users + teams)}: {exc}")
        superseded = _supersede(ctx, gh, plan, pull) if supersede else []
        _still_open(gh, pull)
    except GitHubError as exc:
        raise GitopsError(f"{exc}\nThe branch {plan.branch} is pushed; re-run the same command to open or update "
                          "its pull request (it never opens a duplicate).") from exc
    verb = "opened" if created else "updated"
    message = f"{verb} pull request #{number} {pull.get('html_url', '')} ({plan.branch})"
    if superseded:
        message += f"; closed superseded #{', #'.join(map(str, superseded))}"
    return Outcome(verb, message, plan, text, pull, new_commit, superseded, ctx.warnings + plan.warnings)


def _check_own_branch(ctx: _Context, plan: Plan, start: str, base: str) -> None:
    """Refuse (exit 1, naming the commit) an existing branch holding anything this promotion would not write."""
    git = ctx.git
    env_rel = _env_rel(plan.target)
    allowed = [ctx.prefix + env_rel] + [ctx.prefix + p for p in _owned_paths(plan.target)]

    def refuse(sha: str, why: str) -> GitopsError:
        subject = git.run("log", "-1", "--format=%s", sha)
        return GitopsError(f"{plan.branch} already exists and holds commit {sha[:12]} ({subject!r}) that is not this "
                           f"promotion's own: {why}. Not building on it or opening a pull request for it. Inspect it "
                           f"(git log {ctx.remote}/{plan.branch}); if nobody should have pushed it, delete the branch "
                           f"(git push {ctx.remote} --delete {plan.branch}) and re-run.")

    for sha in git.run("rev-list", f"{base}..{start}").split():
        parents, _, ids = git.run("log", "-1", "--format=%P%x1f%(trailers:key=Promotion-Id,valueonly,separator=%x1d)",
                                  sha).partition("\x1f")
        if len(parents.split()) != 1:
            raise refuse(sha, "it is a merge commit")
        if plan.promotion_id not in [i.strip() for i in ids.split("\x1d")]:
            raise refuse(sha, f"it has no 'Promotion-Id: {plan.promotion_id}' trailer")
        touched = git.run("diff-tree", "--no-commit-id", "--name-only", "-r", sha).splitlines()
        foreign = [p for p in touched if not any(p == a or p.startswith(a.rstrip("/") + "/") for a in allowed)]
        if foreign:
            raise refuse(sha, f"it changes {', '.join(foreign[:5])}, outside what a promotion into {plan.target} may touch "
                              f"({env_rel} and its generated paths)")
    base_text, tip_text = git.show(base, env_rel), git.show(start, env_rel)
    if base_text is not None and tip_text is not None:
        expected = EnvFile(base_text.decode("utf-8"), env_rel)
        edit_env_file(expected, plan)
        if tip_text.decode("utf-8") != expected.text:
            raise refuse(start, f"its {env_rel} differs from what this promotion writes")


def _moved_services(ctx: _Context, pull: dict) -> set[str] | None:
    """Services an open promotion PR moves (``Services:`` trailer of its head commit), None if unknown."""
    head = pull.get("head") or {}
    for ref in (head.get("sha"), f"refs/remotes/{ctx.remote}/{head.get('ref', '')}"):
        if ref and ctx.git.rev(ref):
            values = ctx.git.log_trailers(f"{ref}^!", ("Services",))
            names = values[0].get("Services") if values else None
            if names:
                return {n.strip() for v in names for n in v.split(",") if n.strip()}
    return None


def _supersede(ctx: _Context, gh: GitHub, plan: Plan, pull: dict) -> list[int]:
    """Close older promotion PRs into the same environment whose every service this one also promotes.

    Older only (a lower number): two runs racing never close each other. Each PR's state is
    re-read right before it is closed (it may have been merged or closed meanwhile).
    """
    closed = []
    mine = set(plan.services)
    for other in gh.open_pulls(base=plan.base_branch):
        ref = (other.get("head") or {}).get("ref", "")
        number = other.get("number")
        if number == pull["number"] or ref == plan.branch or not is_promotion_branch_into(ref, plan.target):
            continue
        if not isinstance(number, int) or number > pull["number"]:
            continue  # a newer promotion: it supersedes this one, not the reverse
        theirs = _moved_services(ctx, other)
        if theirs is None:
            ctx.warnings.append(f"#{number} ({ref}): cannot tell which services it promotes; left open")
            continue
        if not theirs <= mine:
            continue  # it also moves services this promotion does not: still needed
        if gh.get_pull(number).get("state") != "open":
            continue
        gh.comment(number, f"Superseded by #{pull['number']} ({pull.get('html_url', '')}): a newer promotion "
                           f"into `{plan.target}` (`{plan.branch}`) of {', '.join(sorted(theirs))}. Closing this one; "
                           "its branch is kept.")
        gh.update_pull(number, state="closed")
        closed.append(number)
    return closed


def _still_open(gh: GitHub, pull: dict) -> None:
    """Re-read the pull request after the writes: a concurrent run or a person may have closed it."""
    state = gh.get_pull(pull["number"]).get("state")
    if state != "open":
        raise GitopsError(f"pull request #{pull['number']} is {state} after this run updated it (closed by someone "
                          "else meanwhile?); re-run to open a fresh one")
