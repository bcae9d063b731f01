"""Shared CLI plumbing: error -> exit code mapping, output formats, progress on stderr."""
from __future__ import annotations

import functools
import json
import sys

import click

from ..errors import GitopsError, InputError
from ..ops.urls import redact_text

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT: what shells and CI runners expect from a process stopped by Ctrl-C

format_option = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                             show_default=True, help="Output format; json is stable for machines.")


def root_of(ctx: click.Context) -> str:
    return (ctx.find_root().obj or {}).get("root", ".")


def progress(message: str) -> None:
    click.echo(message, err=True)


def emit_json(data) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True))


def handle_errors(fn):
    """InputError -> exit 2 with one line per problem; GitopsError -> exit 1."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except InputError as exc:
            fmt = kwargs.get("fmt")
            if fmt == "json":
                emit_json({"ok": False, "errors": [p.as_dict() for p in exc.problems]})
            else:
                click.echo(f"error: {len(exc.problems)} problem(s) in the input; nothing was written", err=True)
                for problem in exc.problems:
                    click.echo(f"  {problem}", err=True)
            sys.exit(EXIT_INPUT)
        except GitopsError as exc:
            click.echo(f"error: {redact_text(str(exc))}", err=True)  # a URL in it may carry a credential
            sys.exit(EXIT_FINDINGS)
    return wrapper
