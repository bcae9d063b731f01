"""`gitops` command line. Thin: parse flags, call the library, map errors to exit codes.

Exit codes: 0 ok, 1 findings (drift, policy violations, failed operation), 2 usage or input error,
130 interrupted (SIGINT / Ctrl-C).
Commands live in gitops/commands/<topic>.py, each exporting ``COMMANDS``; they are
discovered here so adding a topic never edits this file.
"""
from __future__ import annotations

import importlib
import pkgutil
import signal
import sys
import threading

import click

from . import commands as _commands_pkg
from .commands.common import EXIT_INTERRUPTED


class _Group(click.Group):
    """Ctrl-C anywhere in a command: one line and exit 130, never a traceback.

    click's own handling turns KeyboardInterrupt into "Aborted!" and exit 1, which is the
    findings code here: a CI step or script would read an interrupted run as "found problems".
    """

    def invoke(self, ctx: click.Context):
        interrupted: list[int] = []

        def on_sigint(signum, frame):
            interrupted.append(signum)
            raise KeyboardInterrupt

        # The flag also covers what a Ctrl-C causes indirectly: worker processes and git children get
        # the same SIGINT (one process group), so the parent may first see a broken pool or a failed git.
        previous = signal.signal(signal.SIGINT, on_sigint) if threading.current_thread() is threading.main_thread() else None
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            interrupted.append(signal.SIGINT)
        except SystemExit as exc:
            if not interrupted or exc.code in (0, None):
                raise
        except Exception:
            if not interrupted:
                raise
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        click.echo("\ninterrupted: stopped before finishing; re-run the command", err=True)
        sys.exit(EXIT_INTERRUPTED)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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
