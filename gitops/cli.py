"""`gitops` command line. Thin: parse flags, call the library, map errors to exit codes.

Exit codes: 0 ok, 1 findings (drift, policy violations, failed operation), 2 usage or input error.
Commands live in gitops/commands/<topic>.py, each exporting ``COMMANDS``. The table below maps a
command name to its module, which is imported only when that command runs (pip's lazy command
table): `gitops capacity` never loads the Dockerfile parser or the promotion machinery.
tests/test_cli.py fails when a module's COMMANDS and this table disagree.
"""
from __future__ import annotations

import importlib

import click

COMMAND_MODULES = {
    "bump": "promote",
    "capacity": "capacity",
    "compose": "compose",
    "diff": "promote",
    "dockerfile": "dockerfile",
    "hold": "promote",
    "inventory": "inventory",
    "matrix": "inventory",
    "new": "new",
    "promote": "promote",
    "publish": "promote",
    "release": "promote",
    "rollback": "promote",
    "schemas": "schemas",
    "status": "promote",
    "sync-plan": "syncplan",
    "synth": "synth",
    "validate": "validate",
}


def load_command(name: str) -> click.Command | None:
    module = COMMAND_MODULES.get(name)
    if module is None:
        return None
    commands = importlib.import_module(f"{__package__}.commands.{module}").COMMANDS
    return next((c for c in commands if c.name == name), None)


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return load_command(cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
# The installed distribution's version (pyproject.toml [project] version), read from its metadata.
@click.version_option(package_name="meetinity-gitops", prog_name="gitops", message="%(prog)s %(version)s")
@click.option("--root", type=click.Path(file_okay=False, exists=True), default=".", show_default=True,
              help="Repository root holding inventory/ and environments/.")
@click.pass_context
def main(ctx: click.Context, root: str) -> None:
    """Meetinity GitOps generator: inventory/ + environments/ -> dist/<env>/ for Argo CD."""
    ctx.ensure_object(dict)
    ctx.obj["root"] = root


if __name__ == "__main__":  # pragma: no cover
    main()
