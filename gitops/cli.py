"""`gitops` command line. Thin: parse flags, call the library, map errors to exit codes.

Exit codes: 0 ok, 1 findings (drift, policy violations, failed operation), 2 usage or input error.
Commands live in gitops/commands/<topic>.py, each exporting ``COMMANDS``; they are
discovered here so adding a topic never edits this file.
"""
from __future__ import annotations

import importlib
import pkgutil

import click

from . import commands as _commands_pkg


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
# The installed distribution's version (pyproject.toml [project] version), read from its metadata.
@click.version_option(package_name="meetinity-gitops", prog_name="gitops", message="%(prog)s %(version)s")
@click.option("--root", type=click.Path(file_okay=False, exists=True), default=".", show_default=True,
              help="Repository root holding inventory/ and environments/.")
@click.pass_context
def main(ctx: click.Context, root: str) -> None:
    """Meetinity GitOps generator: inventory/ + environments/ -> dist/<env>/ for Argo CD."""
    ctx.ensure_object(dict)
    ctx.obj["root"] = root


for _info in sorted(pkgutil.iter_modules(_commands_pkg.__path__), key=lambda m: m.name):
    _module = importlib.import_module(f"{_commands_pkg.__name__}.{_info.name}")
    for _command in getattr(_module, "COMMANDS", ()):
        main.add_command(_command)


if __name__ == "__main__":  # pragma: no cover
    main()
