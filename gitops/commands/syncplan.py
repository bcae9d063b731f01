"""`gitops sync-plan`: how Argo CD brings one environment up from an empty cluster."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import InputError, Problem
from .common import EXIT_FINDINGS, format_option, handle_errors, root_of


def load_plan(root: Path, env: str):
    """The sync plan of ``env`` from the committed argocd/<env>/ and dist/<env>/ (InputError on bad input)."""
    from ..inputs.load import load_platform
    from ..syncplan.model import build_plan
    from ..validate.documents import manifest_files, read_documents

    platform = load_platform(root)
    known = [e.name for e in platform.environments]
    if env not in known:
        raise InputError(Problem("--env", "", f"expected one of {', '.join(known)}, found unknown environment {env!r}"))
    folders = [(root / "argocd" / env, "argocd"), (root / "dist" / env, "dist")]
    missing = [f"{tree}/{env}/" for folder, tree in folders if not folder.is_dir()]
    if missing:
        raise InputError([Problem(m, "", "folder not found: run `gitops synth` first") for m in missing])
    files = [(p, env, tree) for folder, tree in folders for p in manifest_files(folder)]
    docs = read_documents(root, files)
    return build_plan(root, env, [d for d in docs if d.tree == "argocd"], [d for d in docs if d.tree == "dist"],
                      platform.repo_url)


@click.command("sync-plan")
@click.option("--env", "env", required=True, help="Environment to plan (e.g. prod).")
@format_option
@click.pass_context
@handle_errors
def sync_plan_command(ctx, env, fmt):
    """Print how Argo CD brings ENV up from an empty cluster, from argocd/ENV and dist/ENV.

    Applications in wave order; inside each, its resources in the order Argo CD applies them
    (phase, wave, kind, name; hooks marked), which Application provides each CRD, and every step
    that would wait forever or fail (the same model as validate rules ARG005-ARG009). Exit 0 when
    nothing stalls, 1 when something does (the Application and resource are named), 2 on bad input.
    """
    from ..syncplan.report import format_json, format_text

    plan = load_plan(Path(root_of(ctx)).resolve(), env)
    click.echo(format_json(plan) if fmt == "json" else format_text(plan))
    if plan.stalls:
        sys.exit(EXIT_FINDINGS)


COMMANDS = [sync_plan_command]
