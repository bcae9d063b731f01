"""Interrupted and concurrent synths: kill -9 / SIGINT at random points, two synths at once, file modes.

After any interruption every dist/<env> (and argocd/<env>) is wholly the old tree or wholly the new
one, no worker or Node process of the run is alive, and the next run removes every leftover.
"""
from __future__ import annotations

import fcntl
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from gitops.pipeline import tree
from gitops.pipeline.tree import clean_leftovers, stage_tree, swap_in

from .conftest import GITOPS, MINI, REPO, copy_inputs, marked_env, run_gitops, tree_bytes

TREES = ("dist/dev", "dist/prod", "argocd/dev", "argocd/prod")
OLD_TAG, NEW_TAG = "tag: v1.2.0", "tag: v1.2.7"
ITERATIONS = 10


def _set_version(root: Path, tag: str) -> None:
    for env in ("dev", "prod"):
        path = root / "environments" / f"{env}.yaml"
        text = path.read_text()
        path.write_text(text.replace(OLD_TAG, tag).replace(NEW_TAG, tag))


def _trees(root: Path) -> dict[str, dict[str, bytes]]:
    return {t: tree_bytes(root / t) if (root / t).is_dir() else None for t in TREES}


@pytest.fixture(scope="module")
def variants(tmp_path_factory) -> dict[str, dict]:
    """The expected trees for the old and the new version, rendered once."""
    out = {}
    for tag in (OLD_TAG, NEW_TAG):
        root = copy_inputs(MINI, tmp_path_factory.mktemp("variant") / "mini")
        _set_version(root, tag)
        run_gitops(root, "synth", "--no-cache", check=True)
        out[tag] = _trees(root)
    assert out[OLD_TAG]["dist/dev"] != out[NEW_TAG]["dist/dev"]
    return out


def _processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line or environment names ``text`` (the run's root: a test's
    synth and every process it starts carry it, see conftest.marked_env)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = b" ".join((entry / name).read_bytes() for name in ("cmdline", "environ"))
            cmdline = cmdline.replace(b"\0", b" ").decode(errors="replace")
            state = next(line for line in (entry / "status").read_text().splitlines() if line.startswith("State:"))
        except (OSError, StopIteration):
            continue
        if text in cmdline and "Z" not in state.split()[1]:
            found.append(int(entry.name))
    return found


def _wait_until_no_process(root: Path) -> list[int]:
    """Children get SIGKILL from the kernel when their parent dies; give them a moment to be reaped."""
    deadline = time.monotonic() + 20
    alive = _processes_mentioning(str(root))
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = _processes_mentioning(str(root))
    return alive


def _leftovers(root: Path) -> list[str]:
    names = []
    for folder in (root / "dist", root / "argocd", *(root / "dist").glob("*")):
        if folder.is_dir():
            names += [str(p.relative_to(root)) for p in folder.iterdir()
                      if p.name.startswith((tree.STAGING_PREFIX, tree.OLD_PREFIX))]
    names += [str(p.relative_to(root)) for p in (root / "infra").rglob(".generated.auto.tfvars.json.*")]
    return names


def _wait_for_lock_holder(root: Path, proc: subprocess.Popen) -> None:
    lock = root / ".cache/synth.lock"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if lock.is_file() and lock.read_text().strip() == str(proc.pid):
            return
        time.sleep(0.01)


def _interrupt_loop(root: Path, variants, sig: int, seed: int) -> list[int]:
    """Alternate the version, start a synth, send ``sig`` after a random delay; check dist/ each time."""
    run_gitops(root, "synth", "--no-cache", check=True)
    started = time.monotonic()
    run_gitops(root, "synth", "--no-cache", check=True)
    duration = time.monotonic() - started
    rng = random.Random(seed)
    codes = []
    current = OLD_TAG
    for _ in range(ITERATIONS):
        before = _trees(root)
        current = NEW_TAG if current == OLD_TAG else OLD_TAG
        _set_version(root, current)
        proc = subprocess.Popen([*GITOPS, "--root", str(root), "synth", "--no-cache"], cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=marked_env(root))
        if sig == signal.SIGINT:
            # From the moment synth holds the lock (its code runs); an interrupt during interpreter
            # start-up is Python's business, not this tool's.
            _wait_for_lock_holder(root, proc)
        time.sleep(rng.uniform(0, duration))
        proc.send_signal(sig)
        out, err = proc.communicate()
        codes.append(proc.returncode)
        assert "Traceback" not in err, err
        assert _wait_until_no_process(root) == []
        after = _trees(root)
        for name in TREES:
            assert after[name] in (before[name], variants[current][name]), f"{name} is neither old nor new"
    # The next run removes whatever the interruptions left and renders the current inputs.
    run_gitops(root, "synth", check=True)
    assert _leftovers(root) == []
    assert _trees(root) == variants[current]
    return codes


def test_kill_9_at_random_points_leaves_old_or_new(tmp_path, variants):
    root = copy_inputs(MINI, tmp_path / "mini")
    codes = _interrupt_loop(root, variants, signal.SIGKILL, seed=17)
    assert set(codes) <= {-signal.SIGKILL, 0}


def test_sigint_at_random_points_exits_130_old_or_new(tmp_path, variants):
    root = copy_inputs(MINI, tmp_path / "mini")
    codes = _interrupt_loop(root, variants, signal.SIGINT, seed=18)
    # 130 from the synth command; -SIGINT when the signal lands in interpreter shutdown, after
    # everything was written (Python restores the default handler there; a shell shows 130 too).
    assert set(codes) <= {130, -signal.SIGINT, 0}
    assert 130 in codes


def test_two_concurrent_synths_serialize(tmp_path, variants):
    root = copy_inputs(MINI, tmp_path / "mini")
    _set_version(root, NEW_TAG)
    procs = [subprocess.Popen([*GITOPS, "--root", str(root), "synth", "--no-cache"], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate() + (p.returncode,) for p in procs]
    for out, err, code in results:
        assert code == 0, err
        assert "Traceback" not in err
    assert _trees(root) == variants[NEW_TAG]
    assert _leftovers(root) == []


def test_second_synth_waits_for_the_lock_and_says_so(tmp_path, variants):
    root = copy_inputs(MINI, tmp_path / "mini")
    lock = root / ".cache/synth.lock"
    lock.parent.mkdir(parents=True)
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        held.write("4242\n")
        held.flush()
        proc = subprocess.Popen([*GITOPS, "--root", str(root), "synth"], cwd=REPO,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = proc.stderr.readline()  # blocks until the synth reports that it waits
        assert "waiting for another gitops synth (pid 4242)" in first
        assert not (root / "dist").exists()
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    assert _trees(root) == variants[OLD_TAG]


@pytest.mark.parametrize("umask, folder_mode, file_mode", [(0o022, 0o755, 0o644), (0o027, 0o750, 0o640)])
def test_generated_modes_follow_the_umask(tmp_path, umask, folder_mode, file_mode):
    root = copy_inputs(MINI, tmp_path / "mini")
    proc = subprocess.run([*GITOPS, "--root", str(root), "synth"], cwd=REPO, capture_output=True, text=True,
                          preexec_fn=lambda: os.umask(umask))
    assert proc.returncode == 0, proc.stderr
    assert (root / "dist/dev").stat().st_mode & 0o777 == folder_mode
    assert (root / "dist/dev/shop-api").stat().st_mode & 0o777 == folder_mode
    assert (root / "argocd/prod").stat().st_mode & 0o777 == folder_mode
    for path in [root / "dist/dev/shop-api/deployment-shop-api.yaml", root / "docs/service-inventory.md",
                 root / ".github/CODEOWNERS", root / "infra/terraform/environments/dev/generated.auto.tfvars.json"]:
        assert path.stat().st_mode & 0o777 == file_mode, path


def _swap_twice_then_check(tmp_path: Path) -> None:
    target = tmp_path / "dist" / "dev"
    swap_in(stage_tree({"a.yaml": b"old\n"}, target), target)
    swap_in(stage_tree({"b.yaml": b"new\n"}, target), target)
    assert tree_bytes(target) == {"b.yaml": b"new\n"}
    assert sorted(p.name for p in target.parent.iterdir()) == ["dev"]


def test_swap_with_rename_exchange(tmp_path):
    if tree._EXCHANGE is None:
        pytest.fail("renameat2(RENAME_EXCHANGE) is expected on the Linux machines this project supports")
    _swap_twice_then_check(tmp_path)


def test_swap_fallback_without_rename_exchange(tmp_path, monkeypatch):
    monkeypatch.setattr(tree, "_EXCHANGE", None)
    _swap_twice_then_check(tmp_path)


def test_clean_leftovers_restores_a_tree_the_fallback_left_missing(tmp_path):
    dist = tmp_path / "dist"
    (dist / ".old-dev-123").mkdir(parents=True)
    (dist / ".old-dev-123" / "x.yaml").write_bytes(b"old\n")
    (dist / "prod").mkdir()
    (dist / ".old-prod-9").mkdir()
    (dist / ".tmp-prod-abc").mkdir()
    clean_leftovers(dist)
    assert sorted(p.name for p in dist.iterdir()) == ["dev", "prod"]
    assert tree_bytes(dist / "dev") == {"x.yaml": b"old\n"}


def test_normal_synth_leaves_no_temp_file_and_no_process(tmp_path):
    """The resolvers write nothing (cdk8s runs in Node on what the pipe brings) and end with the run."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    root = copy_inputs(MINI, tmp_path / "mini")
    before = sorted((root / ".cache").rglob("*")) if (root / ".cache").exists() else []
    proc = subprocess.run([*GITOPS, "--root", str(root), "synth", "--no-cache"], cwd=REPO, capture_output=True,
                          text=True, env=marked_env(root, {**os.environ, "TMPDIR": str(tmp)}))
    assert proc.returncode == 0, proc.stderr
    assert list(tmp.iterdir()) == []
    assert before == [] and sorted(p.name for p in (root / ".cache").iterdir()) == ["synth", "synth.lock"]
    assert _wait_until_no_process(root) == []
