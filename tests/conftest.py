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
# Every finding of every command's --format json has exactly these keys (gitops/findings.py).
FINDING_KEYS = {"rule_id", "rule", "severity", "message", "fix", "file", "line", "path", "env", "component",
                "objects", "source"}


def copy_inputs(src: Path, dst: Path, with_dist: bool = False) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for name in ("inventory", "environments"):
        shutil.copytree(src / name, dst / name)
    if with_dist and (src / "dist").exists():
        shutil.copytree(src / "dist", dst / "dist")
    return dst


ROOT_MARK = "GITOPS_TEST_ROOT"


def marked_env(root: Path, env: dict | None = None) -> dict:
    """``env`` (default: this process's) plus the run's root, which every process it starts inherits:
    how tests find the resolvers of one run (Node's command line does not name the root)."""
    return {**(os.environ if env is None else env), ROOT_MARK: str(root)}


def run_gitops(root: Path, *args: str, check: bool = False, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run([*GITOPS, "--root", str(root), *args], capture_output=True, text=True,
                          cwd=cwd or REPO, env=marked_env(root, env))
    if check and proc.returncode != 0:
        raise AssertionError(f"gitops {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def run_cli(root: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """`gitops --root ROOT ...` in-process through click's runner: the real CLI code without a Python
    start-up per call. ``run_gitops`` (a real subprocess) is for tests where the process is the point
    (signals, exit codes seen by a shell, `python -m gitops`)."""
    from click.testing import CliRunner

    from gitops.cli import main

    result = CliRunner().invoke(main, ["--root", str(root), *args], env=env, catch_exceptions=False)
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def assert_golden(actual_dir: Path, golden_dir: Path) -> None:
    """``actual_dir`` equals the pinned ``golden_dir`` byte for byte; UPDATE_GOLDEN=1 rewrites the golden copy."""
    import os
    if os.environ.get("UPDATE_GOLDEN"):
        shutil.rmtree(golden_dir, ignore_errors=True)
        shutil.copytree(actual_dir, golden_dir)
    actual, expected = tree_bytes(actual_dir), tree_bytes(golden_dir)
    assert sorted(actual) == sorted(expected), "files differ from golden (UPDATE_GOLDEN=1 regenerates)"
    for path in expected:
        assert actual[path] == expected[path], f"{path} differs from golden (UPDATE_GOLDEN=1 regenerates)"


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def private_copy(base: Path, tmp_path: Path) -> Path:
    """A writable copy of a tree built once per session or module, private to one test."""
    root = tmp_path / base.name
    shutil.copytree(base, root)
    return root


def load_docs(root: Path, rel: str) -> list[dict]:
    """The documents of a multi-document YAML file (empty documents dropped)."""
    import yaml
    return [d for d in yaml.safe_load_all((root / rel).read_text()) if d is not None]


def edit_yaml(path: Path, fn) -> None:
    """Rewrite a YAML input file after ``fn`` changed its parsed data in place."""
    import yaml
    data = yaml.safe_load(path.read_text())
    fn(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def load_problems(root: Path) -> list[str]:
    """The `file:line at field: ...` problems load_platform collects for a bad input tree."""
    from gitops.errors import InputError
    from gitops.inputs.load import load_platform
    with pytest.raises(InputError) as info:
        load_platform(root)
    return [str(p) for p in info.value.problems]


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


@pytest.fixture(scope="module")
def fake_github():
    """The local GitHub REST stand-in (tests/github_fake.py), one server per test module."""
    from .github_fake import FakeGitHub
    server = FakeGitHub().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def fake_argocd():
    """The local Argo CD API stand-in (tests/argocd_fake.py), one server per test module."""
    from .argocd_fake import FakeArgoCD
    server = FakeArgoCD().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def fake_prometheus():
    """The local Prometheus query API stand-in (tests/prometheus_fake.py), one server per test module."""
    from .prometheus_fake import FakePrometheus
    server = FakePrometheus().start()
    yield server
    server.stop()


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
