"""`gitops compose`: the local docker compose stack from the inventory."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from ..generated.compose import COMPOSE_FILE, checkout_prefix_for, render_text
from ..inputs.load import load_platform
from ..pipeline.tree import write_file_atomic
from .common import EXIT_FINDINGS, handle_errors, root_of


@click.command("compose")
@click.option("--output", default=None, help=f"File to write (default: {COMPOSE_FILE} at --root); '-' for stdout.")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when the file differs from the inventory.")
@click.pass_context
@handle_errors
def compose_command(ctx, output, check):
    """Generate docker-compose.dev.yml: every active workload built from its checkout
    (../<repository>/<path>), unique host ports, env from git-ignored .env.<component> files,
    PostgreSQL/Redis/Kafka/OpenSearch stand-ins with healthchecks, depends_on service_healthy,
    named volumes. `gitops synth` writes the same file."""
    root = Path(root_of(ctx))
    platform = load_platform(root)
    if output == "-":
        click.echo(render_text(platform, ".."), nl=False)
        return
    target = Path(output) if output else root / COMPOSE_FILE
    text = render_text(platform, checkout_prefix_for(root, target))
    if check:
        current = target.read_text() if target.is_file() else None
        if current != text:
            click.echo(f"{target} is stale; run `gitops compose` (or `make synth`) and commit it")
            sys.exit(EXIT_FINDINGS)
        click.echo(f"{target} is up to date")
        return
    changed = write_file_atomic(target, text.encode())
    click.echo(f"{'wrote' if changed else 'unchanged'} {target}")


COMMANDS = [compose_command]
