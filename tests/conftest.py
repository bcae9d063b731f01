"""Shared fixtures: temp copies of input trees, and a CLI runner that returns (exit code, output)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
MINI = FIXTURES / "mini"
GITOPS = [sys.executable, "-m", "gitops"]


def copy_inputs(src: Path, dst: Path, with_dist: bool = False) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for name in ("inventory", "environments"):
        shutil.copytree(src / name, dst / name)
    if with_dist and (src / "dist").exists():
        shutil.copytree(src / "dist", dst / "dist")
    return dst


def run_gitops(root: Path, *args: str, check: bool = False, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run([*GITOPS, "--root", str(root), *args], capture_output=True, text=True,
                          cwd=cwd or REPO, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"gitops {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    """A fresh copy of the small fixture platform (inputs only)."""
    return copy_inputs(MINI, tmp_path / "mini")


@pytest.fixture(scope="session")
def mini_synth(tmp_path_factory) -> Path:
    """The small fixture synthesized once per session (read-only for tests)."""
    root = copy_inputs(MINI, tmp_path_factory.mktemp("mini-synth") / "mini")
    run_gitops(root, "synth", "--no-cache", check=True)
    return root


# --- skips ------------------------------------------------------------------------------------
# A test may skip only when a tool that the project's own set-up (`make deps`, `make tools`) does
# not install is missing; README "Tests" lists them. Under CI=true any other skip fails the run:
# missing project data or an uninstalled dependency is a defect, not a reason to pass quietly.
EXTERNAL_TOOL_SKIPS = (
    "terraform binary not installed",
    "no docker compose plugin on this machine",
    "nginx is not installed",
)


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1")


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return reason.removeprefix("Skipped: ")


def _fail_forbidden_skip(report) -> None:
    if report.skipped and not hasattr(report, "wasxfail") and _in_ci():
        reason = _skip_reason(report)
        if reason not in EXTERNAL_TOOL_SKIPS:
            report.outcome = "failed"
            report.longrepr = (f"skipped under CI=true: {reason!r} is not a missing external tool "
                               f"(allowed: {'; '.join(EXTERNAL_TOOL_SKIPS)})")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    _fail_forbidden_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    _fail_forbidden_skip(outcome.get_result())
