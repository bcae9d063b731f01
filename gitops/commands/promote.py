"""Promotion commands: promote, diff, bump, publish, rollback, hold, release (status: commands/status.py).

Thin: parse flags, call gitops.promote / gitops.ops.diff, print, map errors to exit codes
(0 ok or nothing to do, 1 refused or failed operation, 2 usage or input error).
"""
from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path

import click

from ..ops.diff import diff_against_ref, diff_envs
from ..errors import InputError, Problem
from .common import EXIT_FINDINGS, emit_json, format_option, handle_errors, progress, root_of

diff_format_option = click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text",
                                  show_default=True, help="text for terminals, markdown for PR comments, json for machines.")
github_options = [
    click.option("--remote", default="origin", show_default=True, help="Git remote to push to and read the default branch from."),
    click.option("--github-repo", "repository", default=None,
                 help="owner/repo on GitHub (default: from the remote URL, else $GITHUB_REPOSITORY)."),
    click.option("--schema-location", "schema_locations", multiple=True, envvar="GITOPS_SCHEMA_LOCATION",
                 help="Extra CRD schema folder or URL template for validation, after the repository's own (repeatable)."),
]


def _github(fn):
    for option in reversed(github_options):
        fn = option(fn)
    return fn


def _options(remote, repository, schema_locations=(), dry_run=False, quiet=False):
    from ..promote.promote import Options
    return Options.from_env(remote=remote, repository=repository, dry_run=dry_run,
                            schema_locations=list(schema_locations) or None,
                            progress=(lambda m: None) if quiet else progress)


def _report(outcome, fmt: str) -> None:
    if fmt == "json":
        data = outcome.as_dict()
        if outcome.status == "dry-run":
            data["body"] = outcome.body
        emit_json(data)
        return
    for warning in outcome.warnings:
        click.echo(f"warning: {warning}", err=True)
    if outcome.status == "dry-run":
        click.echo(outcome.body)
    click.echo(outcome.message)


@click.command("promote")
@click.option("--from", "source", default=None, help="Source environment (default: the target's promotesFrom).")
@click.option("--to", "target", required=True, help="Target environment.")
@click.option("--service", "services", multiple=True, help="Only this component (repeatable), with the jobs that run before it "
              "from the same image. Default: every component enabled in both.")
@click.option("--dry-run", is_flag=True, help="Render, diff and validate in a temporary worktree; print the PR body; push nothing.")
@click.option("--reason", default=None, help="Why; recorded in the PR and the commit (required with --skip-gate).")
# NAME is optional so that the older `--skip-gate --reason TEXT` (a flag, only the order gate had a bypass)
# keeps its meaning: a bare --skip-gate is `--skip-gate order`.
@click.option("--skip-gate", "skip_gate", multiple=True, is_flag=False, flag_value="order", metavar="NAME",
              help="Skip one gate: order (a source that is not the target's predecessor), soak or alerts (the "
                   "source environment's Argo CD / Prometheus record). Repeatable; needs --reason; recorded in the "
                   "PR body and the commit. A bare --skip-gate means order.")
@_github
@format_option
@click.pass_context
@handle_errors
def promote_command(ctx, source, target, services, dry_run, reason, skip_gate, remote, repository, schema_locations, fmt):
    """Open (or update) a pull request moving image versions from one environment to the next.

    Copies the schema's promotable fields (image tag and digest) of the chosen services into
    environments/<to>.yaml, re-renders dist/<to>, validates, commits on
    promote/<from>-to-<to>/<id> with trailers, pushes, and opens the PR (GITHUB_TOKEN,
    GITHUB_API_URL). Nothing to promote exits 0 without a branch. Needs a clean checkout.

    First the soak and alerts gates ask the source environment's Argo CD (ARGOCD_AUTH_TOKEN_<FROM>,
    ARGOCD_SERVER_<FROM>) and Prometheus (PROMETHEUS_URL_<FROM>) whether it ran the versions Synced,
    Healthy and without critical alerts for the target's `soak`; they fail closed (docs/promotion.md).
    """
    from ..promote.promote import promote
    outcome = promote(root_of(ctx), source, target, list(services) or None, skip_gate=skip_gate, reason=reason,
                      options=_options(remote, repository, schema_locations, dry_run, quiet=fmt == "json"))
    _report(outcome, fmt)


@click.command("rollback")
@click.option("--env", "env", required=True, help="Environment to roll back.")
@click.option("--to", "to", default=None, help="Git ref whose versions to restore (default: before the last promotion into ENV).")
@click.option("--reason", default=None, help="Why; recorded in the PR and the commit.")
@_github
@format_option
@click.pass_context
@handle_errors
def rollback_command(ctx, env, to, reason, remote, repository, schema_locations, fmt):
    """Open a pull request restoring an environment's versions from an earlier commit.

    Default: the commit before the last promotion into ENV (found through the
    Promoted-To trailers) that no earlier rollback undid. A new commit, never a rewrite;
    allowed while the environment is on hold.
    """
    from ..promote.promote import rollback
    outcome = rollback(root_of(ctx), env, to, reason=reason, options=_options(remote, repository, schema_locations, quiet=fmt == "json"))
    _report(outcome, fmt)


@click.command("diff")
@click.argument("envs", nargs=-1)
@click.option("--base", default=None, help="Compare dist/<env> at this git ref with the working tree (or --head).")
@click.option("--head", default=None, help="With --base: compare against this ref instead of the working tree.")
@click.option("--env", "only", multiple=True, help="With --base: only this environment (repeatable). Default: all in dist/.")
@click.option("--exit-code", is_flag=True, help="Exit 1 when there are differences.")
@diff_format_option
@click.pass_context
@handle_errors
def diff_command(ctx, envs, base, head, only, exit_code, fmt):
    """Semantic per-resource diff of rendered manifests.

    \b
    gitops diff dev prod                 two environments (matched by kind/name)
    gitops diff --base origin/main       every dist/<env> against a git ref
    gitops diff --base HEAD~1 --env prod one environment
    """
    root = Path(root_of(ctx))
    if base is None:
        if len(envs) != 2:
            raise InputError(Problem("(command line)", "ENVS", "expected two environments (gitops diff A B) or --base REF"))
        for env in envs:
            if not (root / "dist" / env).is_dir():
                raise InputError(Problem("(command line)", "ENVS", f"dist/{env} does not exist; run `gitops synth` first"))
        results = [diff_envs(root, envs[0], envs[1])]
    else:
        if envs:
            raise InputError(Problem("(command line)", "ENVS", "with --base, choose environments with --env"))
        from ..promote.git import Git
        for flag, ref in (("--base", base), ("--head", head)):
            if ref and Git(root).rev(ref) is None:
                raise InputError(Problem("(command line)", flag, f"expected a git commit or ref, found unknown {ref!r}"))
        names = set(only)
        if not names:
            names = {p.name for p in (root / "dist").iterdir() if p.is_dir() and not p.name.startswith(".")} if (root / "dist").is_dir() else set()
            try:
                listing = Git(root).run("ls-tree", "--name-only", base, "--", "dist/")
                names |= {Path(line).name for line in listing.splitlines() if line}
            except Exception:  # the ref is checked (with a clear message) by the diff itself
                pass
        results = [diff_against_ref(root, base, env, head) for env in sorted(names)]
    changed = any(not r.empty for r in results)
    if fmt == "json":
        emit_json({"ok": not changed, "diffs": [r.as_dict() for r in results]})
    else:
        click.echo("\n".join(r.render(fmt).rstrip("\n") for r in results))
    if exit_code and changed:
        sys.exit(EXIT_FINDINGS)


def _tag_rule() -> str:
    """The schema's own words for image.tag, so --help and the check cannot disagree."""
    schema = json.loads(resources.files("gitops.schemas").joinpath("environment.schema.json").read_text())
    return schema["$defs"]["componentSettings"]["properties"]["image"]["properties"]["tag"]["x-expected"]


@click.command("bump")
@click.option("--env", "env", required=True, help="Environment to update (usually dev).")
@click.option("--service", required=True, help="Component whose image was built (the jobs that run before it "
              "from the same image move with it).")
@click.option("--tag", required=True, help=f"Image tag: {_tag_rule()}. Checked against environment.schema.json "
                                           "(the tags images.yml pushes; a moving tag such as latest names no build).")
@click.option("--digest", default=None, help="Image digest sha256:<64 hex> (required where policy.requireDigest).")
@format_option
@click.pass_context
@handle_errors
def bump_command(ctx, env, service, tag, digest, fmt):
    """Set a component's image in one environment file (minimal diff) and re-render it.

    What the image build job calls after pushing an image. Writes nothing on bad input (exit 2).
    """
    from ..promote.versions import bump
    result = bump(root_of(ctx), env, service, tag, digest, progress=None if fmt == "json" else progress)
    if fmt == "json":
        emit_json(result)
    elif result["changed"]:
        old, new = result["old"], result["new"]
        click.echo(f"{service} in {env}: {old.get('image.tag', '-')} -> {new['image.tag']}"
                   + (f" ({new['image.digest']})" if new.get("image.digest") else "")
                   + (f", with {', '.join(result['moved_with'])} (same image)" if result["moved_with"] else "")
                   + f"; re-rendered dist/{env}")
    else:
        click.echo(f"{service} in {env} is already {tag}; nothing changed")


@click.command("publish")
@click.option("--repo", "repo_url", required=True, help="Git URL of the environment repository Argo CD watches.")
@click.option("--env", "envs", multiple=True, help="Environment to publish (repeatable). Default: every dist/<env>.")
@click.option("--branch", default=None, help="Branch of the environment repository (default: its default branch).")
@click.option("--remote", default="origin", show_default=True, help="Remote whose default branch is published.")
@click.option("--schema-location", "schema_locations", multiple=True, envvar="GITOPS_SCHEMA_LOCATION",
              help="CRD schema folder or URL template for validation (repeatable; default: the validator's).")
@format_option
@click.pass_context
@handle_errors
def publish_command(ctx, repo_url, envs, branch, remote, schema_locations, fmt):
    """Mirror dist/<env> of the default branch into <env>/ of a dedicated environment repository.

    Publishes what REMOTE's default branch holds (fetched), never the working tree, and only
    when its dist/<env> is exactly what `gitops synth` generates and passes `gitops validate`;
    otherwise exits 1 naming the commit. The commit carries a Source-Commit trailer.
    """
    from ..promote.publish import publish
    result = publish(root_of(ctx), repo_url, list(envs) or None, branch=branch, remote=remote,
                     schema_locations=list(schema_locations) or None, progress=None if fmt == "json" else progress)
    if fmt == "json":
        emit_json(result)
    elif result["changed"]:
        click.echo(f"published {', '.join(result['environments'])} as {result['commit'][:12]} "
                   f"(Source-Commit: {result['source_commit'][:12]})")
    else:
        click.echo(f"nothing to publish: {', '.join(result['environments'])} already up to date")


@click.command("hold")
@click.option("--env", "env", required=True, help="Environment to stop promotions into.")
@click.option("--reason", required=True, help="Why (shown to whoever tries to promote).")
@click.option("--no-commit", is_flag=True, help="Only write holds/<env>.yaml; do not commit it.")
@format_option
@click.pass_context
@handle_errors
def hold_command(ctx, env, reason, no_commit, fmt):
    """Stop promotions into ENV: writes and commits holds/<env>.yaml (push it to share)."""
    from ..promote.holds import place_hold
    result = place_hold(root_of(ctx), env, reason, commit=not no_commit)
    emit_json(result) if fmt == "json" else click.echo(result["message"])


@click.command("release")
@click.option("--env", "env", required=True, help="Environment to resume promotions into.")
@click.option("--no-commit", is_flag=True, help="Only delete holds/<env>.yaml; do not commit.")
@format_option
@click.pass_context
@handle_errors
def release_command(ctx, env, no_commit, fmt):
    """Resume promotions into ENV: removes and commits holds/<env>.yaml (push it to share)."""
    from ..promote.holds import release_hold
    result = release_hold(root_of(ctx), env, commit=not no_commit)
    emit_json(result) if fmt == "json" else click.echo(result["message"])


COMMANDS = [promote_command, rollback_command, diff_command, bump_command, publish_command,
            hold_command, release_command]
