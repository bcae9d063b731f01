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

