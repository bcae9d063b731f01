"""`gitops` command line. Thin: parse flags, call the library, map errors to exit codes.

Exit codes: 0 ok, 1 findings (drift, policy violations, failed operation), 2 usage or input error,
130 interrupted (SIGINT / Ctrl-C).
Commands live in gitops/commands/<topic>.py, each exporting ``COMMANDS``. The table below maps a
command name to its module, which is imported only when that command runs (pip's lazy command
table): `gitops capacity` never loads the Dockerfile parser or the promotion machinery.
tests/test_cli.py fails when a module's COMMANDS and this table disagree.
"""
from __future__ import annotations

import importlib
import os
import sys

import click

from .commands.common import EXIT_INTERRUPTED
from .ctrl_c import SafeInterrupts

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
    "status": "status",
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
    """Commands load lazily; Ctrl-C anywhere in a command: one line and exit 130, never a traceback.

    click's own handling turns KeyboardInterrupt into "Aborted!" and exit 1, which is the
    findings code here: a CI step or script would read an interrupted run as "found problems".
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return load_command(cmd_name)

    def invoke(self, ctx: click.Context):
        # ``interrupted`` also covers what a Ctrl-C causes indirectly: resolver processes and git
        # children get the same SIGINT (one process group), so this process may first see a broken
        # resolver or a failed git. KeyboardInterrupt itself is raised only outside importlib (ctrl_c).
        with SafeInterrupts() as ctrl_c:
            try:
                return super().invoke(ctx)
            except KeyboardInterrupt:
                pass
            except SystemExit as exc:
                if not ctrl_c.interrupted or exc.code in (0, None):
                    raise
            except Exception:
                if not ctrl_c.interrupted:
                    raise
        click.echo("\ninterrupted: stopped before finishing; re-run the command", err=True)
        # The command's own clean-up (locks, temp folders, child processes) ran while the
        # KeyboardInterrupt unwound. Interpreter shutdown would now join every non-daemon thread,
        # and a thread still rendering, or blocked on a lock the interrupt left held (gitops/ctrl_c.py
        # explains how an import can), only delays or hangs the exit. Flush and leave at once.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)


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
