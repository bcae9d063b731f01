"""`gitops status`: which version runs where, what waits to be promoted, as text, JSON or an HTML page."""
from __future__ import annotations

from pathlib import Path

import click

from ..errors import InputError, Problem
from .common import handle_errors, progress, root_of


@click.command("status")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text", show_default=True,
              help="text for terminals; json (stable, docs/status.md) for machines; html: the release dashboard page.")
@click.option("--output", "output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to this file instead of stdout (any format).")
@click.pass_context
@handle_errors
def status_command(ctx, fmt, output):
    """Which version of each component runs in each environment, and where a promotion is pending.

    \b
    Also shows holds (holds/<env>.yaml), the last promotion into each environment (commit
    trailers), open promotion/rollback pull requests (with GITHUB_TOKEN) and Argo CD sync and
    health per cell (with ARGOCD_AUTH_TOKEN[_<ENV>]; server from the environment file's
    argocd.server or ARGOCD_SERVER[_<ENV>]). What cannot be reached is said on the page, not fatal.
    Exit 0 whenever the page could be built; 2 on bad inventory/environment input.
    """
    import json

    from ..promote.versions import status_text
    from ..ops.status_data import build
    data = build(root_of(ctx), progress=progress)
    if fmt == "json":
        text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    elif fmt == "html":
        from ..ops.status_html import render
        text = render(data)
    else:
        text = status_text(data) + "".join(f"warning: {w['source']}: {w['message']}\n" for w in data["warnings"])
    if output is None:
        click.echo(text, nl=False)
        return
    path = Path(output)
    if not path.parent.is_dir():
        raise InputError(Problem("(command line)", "--output", f"expected a file in an existing folder, found {output!r}"))
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    click.echo(f"wrote {output}", err=True)


COMMANDS = [status_command]
