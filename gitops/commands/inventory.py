"""`gitops inventory` (report, check) and `gitops matrix` (the CI build matrix)."""
from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import click

from ..ops.inventory_check import CHECKS, check as run_check
from ..generated.inventory_report import render
from ..inputs.load import load_platform
from ..generated.matrix import matrix as build_matrix
from .common import EXIT_FINDINGS, emit_json, handle_errors, root_of


@click.group("inventory", invoke_without_command=True)
@click.option("--format", "fmt", type=click.Choice(["md", "json", "csv"]), default="md", show_default=True,
              help="md: the document synth writes to docs/service-inventory.md; json: every field; csv: one row per component.")
@click.pass_context
@handle_errors
def inventory_group(ctx, fmt):
    """The service inventory: name, kind, owner, runtime, build/start commands, port, health, env vars
    (secret/plain, required), dependencies, storage, environments where enabled, image."""
    if ctx.invoked_subcommand is not None:
        return
    platform = load_platform(root_of(ctx))
    click.echo(render(platform, fmt), nl=False)


CHECK_HELP = (
    "Gaps in the inventory as findings with stable IDs, plus the Dockerfile audit (DF..., hadolint DL...) "
    "of every Dockerfile found in a local checkout. Exit 1 on any error-level finding (warnings are reported).\n\n\b\n"
    + "\n".join(f"{k}  {v}" for k, v in CHECKS.items())
)


@inventory_group.command("check", help=CHECK_HELP)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--src", type=click.Path(file_okay=False), default=None,
              help="Folder holding checkouts of the application repositories (<src>/<repository>/<dockerfile>). "
                   "Default: the parent of --root.")
@click.option("--no-dockerfiles", is_flag=True, help="Skip the Dockerfile audit of local checkouts.")
@click.option("--no-hadolint", is_flag=True, help="Run only the DF rules on local Dockerfiles, not hadolint.")
@click.pass_context
@handle_errors
def check_command(ctx, fmt, src, no_dockerfiles, no_hadolint):
    root = Path(root_of(ctx))
    platform = load_platform(root)
    src_dir = None if no_dockerfiles else Path(src) if src else root.resolve().parent
    result = run_check(platform, src_dir, use_hadolint=not no_hadolint)
    if fmt == "json":
        emit_json(result.as_dict())
    else:
        for finding in result.findings:
            click.echo(str(finding))
        counts = Counter(f.rule_id for f in result.findings)
        summary = ", ".join(f"{k} x{n}" for k, n in sorted(counts.items()))
        audited = f"; {len(result.dockerfiles)} local Dockerfile(s) audited" if result.dockerfiles else ""
        click.echo(f"{len(result.findings)} finding(s)" + (f" ({summary})" if summary else "")
                   + f" in {len(platform.components)} components{audited}")
    sys.exit(0 if result.ok else EXIT_FINDINGS)


@click.command("matrix")
@click.option("--pretty", is_flag=True, help="Indented JSON for humans (default: one line for $GITHUB_OUTPUT).")
@click.pass_context
@handle_errors
def matrix_command(ctx, pretty):
    """Print the GitHub Actions image build matrix: {"include": [...]}, one entry per image built
    from the inventory (name, repository, context, dockerfile, image, components)."""
    import json
    data = build_matrix(load_platform(root_of(ctx)))
    click.echo(json.dumps(data, indent=2 if pretty else None, sort_keys=True,
                          separators=None if pretty else (",", ":")))


COMMANDS = [inventory_group, matrix_command]
