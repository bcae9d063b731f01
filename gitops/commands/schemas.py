"""`gitops schemas import|update|check`: the repository's CRD schemas (gitops/schemas/crds/)."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from .common import EXIT_FINDINGS, emit_json, format_option, handle_errors, progress, root_of


@click.group("schemas")
def schemas_group():
    """CRD schemas of every custom resource the generator emits, pinned in gitops/schemas/crds/lock.json.

    `gitops validate` uses them by default. Import a new add-on version's CRDs with
    `gitops schemas import`, re-fetch every locked source with `gitops schemas update`.
    """


def _report(result, fmt: str) -> None:
    if fmt == "json":
        emit_json({"ok": True, **result.as_dict()})
        return
    for path in result.written:
        click.echo(f"wrote {path}")
    for path in result.removed:
        click.echo(f"removed {path}")
    click.echo(f"{len(result.written)} written, {len(result.unchanged)} unchanged, {len(result.removed)} removed "
               f"from {len(result.sources)} manifest(s)")


@schemas_group.command("import")
@click.argument("sources", nargs=-1, required=True)
@click.option("--project", required=True,
              help="Helm chart that installs these CRDs, as the generator names it (e.g. cert-manager, argo-cd). "
                   "Every schema previously imported for it is replaced.")
@click.option("--version", "version", required=True,
              help="The chart version the platform pins (charts/addons.py; argo-cd: infra/terraform/modules/argocd).")
@click.option("--public-url", default=None,
              help="Public URL of a local SOURCE (of a folder: its URL, file names appended), recorded in the lock "
                   "for `gitops schemas update`. Needed for a local file outside the repository.")
@format_option
@click.pass_context
@handle_errors
def import_command(ctx, sources, project, version, public_url, fmt):
    """Convert the CustomResourceDefinitions in SOURCE... (file, folder or http(s) URL) to strict JSON schemas.

    Every served version becomes gitops/schemas/crds/<group>/<kind>_<version>.json and the lock records
    the project, version, URL and sha256s. Exit 2 on bad input (not YAML, no CRD, HTTP error,
    unreachable host); then no schema file and not the lock changed.
    """
    from ..crds import import_sources
    from ..crds.sources import read_sources

    root = Path(root_of(ctx))
    manifests = read_sources(list(sources), public_url, root)
    _report(import_sources(root, project, version, manifests), fmt)


@schemas_group.command("update")
@click.option("--project", "projects", multiple=True, help="Only this locked project (repeatable). Default: all.")
@format_option
@click.pass_context
@handle_errors
def update_command(ctx, projects, fmt):
    """Fetch every locked source again and re-import it (same project and version).

    Exit 2 when a source cannot be fetched or converted; then nothing changed.
    """
    from ..crds import update
    progress("re-importing the locked CRD sources")
    _report(update(Path(root_of(ctx)), list(projects) or None), fmt)


@schemas_group.command("check")
@format_option
@click.pass_context
@handle_errors
def check_command(ctx, fmt):
    """Exit 1 when a schema file differs from the lock, is missing, or is not in it."""
    from ..crds import schema_dir, verify
    problems = verify(schema_dir(Path(root_of(ctx))))
    if fmt == "json":
        emit_json({"ok": not problems, "problems": [p.as_dict() for p in problems]})
    else:
        for p in problems:
            click.echo(str(p))
        if not problems:
            click.echo("schemas match the lock")
    if problems:
        sys.exit(EXIT_FINDINGS)


COMMANDS = [schemas_group]
