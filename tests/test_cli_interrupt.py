"""Ctrl-C anywhere in the CLI: one line on stderr and exit 130 (issue 17, Low), never a traceback or 1.

The SIGINT is real and sent at a known point (no timing): a small driver patches one library
function to signal the process group, as a terminal does on Ctrl-C, then runs the CLI.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import REPO

DRIVER = """
import os, signal, sys
import {module} as target
original = target.{function}
def interrupted(*args, **kwargs):
    os.killpg(os.getpgrp(), signal.SIGINT)   # what the terminal does: every process of the group
    return original(*args, **kwargs)
target.{function} = interrupted
from gitops.cli import main
main(sys.argv[1:], prog_name="gitops")
"""


def _run(root, module: str, function: str, *args: str) -> subprocess.CompletedProcess:
    code = DRIVER.format(module=module, function=function)
    return subprocess.run([sys.executable, "-c", code, "--root", str(root), *args], capture_output=True, text=True,
                          cwd=REPO, start_new_session=True, timeout=300)


@pytest.mark.parametrize("module,function,args", [
    ("gitops.pipeline.synth", "render_all", ("synth", "--no-cache")),          # resolver processes and Node running
    ("gitops.validate", "load_platform", ("validate",)),
    ("gitops.commands.inventory", "load_platform", ("inventory",)),
])
def test_sigint_exits_130_with_one_line(mini, module, function, args):
    proc = _run(mini, module, function, *args)
    assert proc.returncode == 130, proc.stderr
    assert "Traceback" not in proc.stderr and "Aborted!" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "interrupted: stopped before finishing; re-run the command"



LEAKED_IMPORT_LOCK = """
import _imp, os, signal, sys, threading, time
import click
from gitops import cli

@click.command("stuck")
def stuck():
    # What an unlucky Ctrl-C does: KeyboardInterrupt between importlib's `_imp.acquire_lock()` and
    # its `try:` leaves the global import lock held by the main thread...
    _imp.acquire_lock()
    # ...while a worker thread imports (synth renders in threads; charts import lazily).
    threading.Thread(target=__import__, args=("xml.dom.minidom",)).start()
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(30)

cli.COMMAND_MODULES["stuck"] = "unused"
cli.load_command = lambda name: stuck
cli.main(["stuck"], prog_name="gitops")
"""


def test_interrupt_exits_even_when_a_thread_waits_on_a_leaked_import_lock():
    """Interpreter shutdown would join the blocked thread forever; the CLI must exit 130 regardless."""
    proc = subprocess.run([sys.executable, "-c", LEAKED_IMPORT_LOCK], capture_output=True, text=True, cwd=REPO,
                          timeout=60)
    assert proc.returncode == 130, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "interrupted: stopped before finishing; re-run the command"


SLOW_IMPORT = """
import os, signal, sys, time
os.kill(os.getpid(), signal.SIGINT)   # Ctrl-C while this module is being imported
{body}
print("import finished", file=sys.stderr, flush=True)
"""

IMPORTING_COMMAND = """
import sys
import click
from gitops import cli
sys.path.insert(0, {folder!r})

@click.command("importing")
def importing():
    import slow_module
    print("after the import", file=sys.stderr, flush=True)
    import time
    time.sleep(30)

cli.COMMAND_MODULES["importing"] = "unused"
cli.load_command = lambda name: importing
cli.main(["importing"], prog_name="gitops")
"""


def _import_under_ctrl_c(tmp_path, body: str) -> subprocess.CompletedProcess:
    (tmp_path / "slow_module.py").write_text(SLOW_IMPORT.format(body=body))
    return subprocess.run([sys.executable, "-c", IMPORTING_COMMAND.format(folder=str(tmp_path))],
                          capture_output=True, text=True, cwd=REPO, timeout=60)


def test_ctrl_c_during_an_import_lands_when_the_import_returns(tmp_path):
    """KeyboardInterrupt inside importlib can leave the global import lock held (gitops/cli.py SafeInterrupts)."""
    proc = _import_under_ctrl_c(tmp_path, "time.sleep(0.3)")
    assert proc.returncode == 130, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[0] == "import finished"  # the module ran to its end: the import was not torn
    # ...and the interrupt landed within one retry after it, in the 30 s sleep at the latest.
    assert lines[-1] == "interrupted: stopped before finishing; re-run the command"
    assert "Traceback" not in proc.stderr


def test_ctrl_c_during_an_import_that_never_returns_still_ends_the_command(tmp_path):
    proc = _import_under_ctrl_c(tmp_path, "while True:\n    time.sleep(0.05)")
    assert proc.returncode == 130, proc.stderr
    assert "import finished" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "interrupted: stopped before finishing; re-run the command"


def test_inside_import_sees_importlib_frames_only_during_an_import(tmp_path):
    from gitops.cli import inside_import

    (tmp_path / "frame_probe.py").write_text("import sys\nFRAME = sys._getframe()\n")
    sys.path.insert(0, str(tmp_path))
    try:
        import frame_probe
        assert inside_import(frame_probe.FRAME)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("frame_probe", None)
    assert not inside_import(sys._getframe())


DEFERRED_SWAPS = """
import sys, time
from gitops.cli import SafeInterrupts
from gitops.pipeline import crashsafe
sys.path.insert(0, {folder!r})
state = []
with SafeInterrupts():
    try:
        import slow_module                      # Ctrl-C inside the import: deferred, retry armed
        with crashsafe.signals_deferred():      # entered before the retry fires
            state.append("swap 1")
            time.sleep(0.2)
            state.append("swap 2")
        time.sleep(5)
    except KeyboardInterrupt:
        state.append("interrupted")
print(state)
"""


def test_a_deferred_ctrl_c_waits_for_swaps_that_began_meanwhile(tmp_path):
    """The retry re-sends SIGINT, so crashsafe.signals_deferred holds it back like any other."""
    (tmp_path / "slow_module.py").write_text(SLOW_IMPORT.format(body="time.sleep(0.005)"))
    proc = subprocess.run([sys.executable, "-c", DEFERRED_SWAPS.format(folder=str(tmp_path))],
                          capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.stdout.strip() == "['swap 1', 'swap 2', 'interrupted']", proc.stderr
