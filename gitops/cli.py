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
import signal
import sys
import threading
import time
from types import FrameType

import click

from .commands.common import EXIT_INTERRUPTED

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


# Ctrl-C for the CLI: a KeyboardInterrupt only where Python can unwind it, never inside an import.
#
# Python raises KeyboardInterrupt at whatever bytecode the main thread runs when SIGINT arrives.
# Inside importlib that is not safe: ``_get_module_lock`` (and the weakref callback it registers,
# which runs whenever a module lock is freed) calls ``_imp.acquire_lock()`` and only then enters its
# ``try:``. An interrupt between the two leaves the global import lock held by the main thread for
# good, and every other thread that imports waits forever. Worse, in the weakref callback the
# exception is swallowed ("Exception ignored in ..."), so the command carries on as if nothing
# happened and then waits for a render thread that can never finish. Both were seen here:
# `gitops synth` hung after Ctrl-C in tests/test_synth_crash.py (synth renders in threads that
# import chart modules lazily while the main thread loads the inputs).
#
# So the handler looks at where the main thread is. Outside importlib it raises at once, as Python
# would. Inside, it records the interrupt and retries every ``RETRY_S`` (an ``ITIMER_REAL`` alarm)
# until the import has returned, and raises anyway after ``GIVE_UP_S``: an import that is itself
# stuck must not make Ctrl-C useless (the CLI then leaves with ``os._exit``, see LazyGroup.invoke,
# so a lock left behind by that import cannot hang the exit).
RETRY_S = 0.01
GIVE_UP_S = 2.0
IMPORT_MACHINERY = "<frozen importlib._bootstrap"  # _bootstrap and _bootstrap_external


def inside_import(frame: FrameType | None) -> bool:
    """Whether ``frame`` or any of its callers is importlib's own code."""
    while frame is not None:
        if frame.f_code.co_filename.startswith(IMPORT_MACHINERY):
            return True
        frame = frame.f_back
    return False


class SafeInterrupts:
    """Within the block, SIGINT raises KeyboardInterrupt at the first point outside importlib.

    ``interrupted`` tells afterwards whether a SIGINT arrived at all, also when the command ended
    through another error it caused (a child process of the same process group got the signal too).
    Off the main thread Python delivers no signals, so nothing is installed there.
    """

    def __init__(self) -> None:
        self.interrupted = False
        self._since: float | None = None
        self._retrying = False  # the alarm is ours while a deferred interrupt waits
        self._previous: dict[int, object] = {}

    def __enter__(self) -> "SafeInterrupts":
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGALRM):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        if self._previous:
            if self._retrying:
                signal.setitimer(signal.ITIMER_REAL, 0)
            for signum, handler in self._previous.items():
                signal.signal(signum, handler)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGALRM:
            if not self._retrying:  # not our alarm: whoever set it gets it
                previous = self._previous.get(signal.SIGALRM)
                if callable(previous):
                    previous(signum, frame)
                return
            # The retry goes through SIGINT again rather than raising here, so whatever handles
            # SIGINT now decides: crashsafe.signals_deferred, entered meanwhile, holds it back
            # until its swaps are done instead of having them torn by this alarm.
            self._retrying = False
            signal.raise_signal(signal.SIGINT)
            return
        self.interrupted = True
        if self._since is None:
            self._since = time.monotonic()
        if inside_import(frame) and time.monotonic() - self._since < GIVE_UP_S:
            self._retrying = True
            signal.setitimer(signal.ITIMER_REAL, RETRY_S)
            return
        raise KeyboardInterrupt


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
        # resolver or a failed git. KeyboardInterrupt itself is raised only outside importlib (SafeInterrupts).
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
        if not ctrl_c.interrupted:  # a KeyboardInterrupt raised by code (e.g. click's test runner)
            sys.exit(EXIT_INTERRUPTED)
        # A real SIGINT. The command's own clean-up (locks, temp folders, child processes) ran
        # while the KeyboardInterrupt unwound. Interpreter shutdown would now join every non-daemon
        # thread, and a thread still rendering, or blocked on a lock the interrupt left held
        # (SafeInterrupts above explains how an import can), only delays or hangs the exit.
        # Flush and leave at once.
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
