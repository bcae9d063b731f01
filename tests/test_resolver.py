"""The cdk8s resolver processes (gitops/pipeline/resolver.py, resolver_pool.py, jsii_direct.js).

Resolution is a pure function of (chart id, bodies): same bytes through jsii's direct channel and its
stock relay, with any number of resolvers; a chart cdk8s refuses and a resolver that dies are errors
that name the chart; the launcher keeps JavaScript's console output off the API channel.
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gitops.pipeline import synth as synth_module
from gitops.pipeline.resolver import RELAY_SWITCH
from gitops.pipeline.resolver_pool import ResolverError, ResolverPool

from .conftest import MINI, REPO, copy_inputs, run_gitops, tree_bytes

CONFIGMAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "x"}, "data": {"k": "v"}}


def _outputs(root: Path) -> dict[str, bytes]:
    return tree_bytes(root / "dist") | {f"argocd/{k}": v for k, v in tree_bytes(root / "argocd").items()}


def test_direct_channel_and_stock_relay_give_identical_bytes(tmp_path):
    direct = copy_inputs(MINI, tmp_path / "direct")
    relay = copy_inputs(MINI, tmp_path / "relay")
    run_gitops(direct, "synth", "--no-cache", check=True)
    run_gitops(relay, "synth", "--no-cache", check=True, env={**os.environ, RELAY_SWITCH: "1"})
    assert _outputs(direct) and _outputs(direct) == _outputs(relay)


@pytest.fixture
def pool(tmp_path):
    started = ResolverPool(2, tmp_path)
    yield started
    started.close()


def test_resolver_answers_what_cdk8s_renders(pool):
    assert pool.submit("one", [CONFIGMAP]).result(timeout=60) == [CONFIGMAP]


def test_a_chart_cdk8s_refuses_is_an_error_naming_the_chart(pool):
    # "a/b" becomes the JSON patch path /a/b, whose parent does not exist: cdk8s fails to serialize.
    future = pool.submit("broken-chart", [{**CONFIGMAP, "a/b": 1}])
    with pytest.raises(ResolverError, match="cdk8s could not resolve chart 'broken-chart'"):
        future.result(timeout=60)
    assert pool.submit("after", [CONFIGMAP]).result(timeout=60) == [CONFIGMAP]  # the resolver lives on


def test_a_resolver_that_dies_fails_its_chart_and_every_later_one(tmp_path):
    pool = ResolverPool(1, tmp_path)
    try:
        assert pool.submit("warm", [CONFIGMAP]).result(timeout=60) == [CONFIGMAP]
        os.kill(pool._processes[0].pid, signal.SIGKILL)
        with pytest.raises(ResolverError, match=r"ended \(exit code -9\) while resolving chart 'lost'"):
            pool.submit("lost", [CONFIGMAP]).result(timeout=60)
        with pytest.raises(ResolverError, match="exit code -9"):
            pool.submit("later", [CONFIGMAP]).result(timeout=5)
    finally:
        pool.close()


def test_a_resolver_whose_parent_is_gone_exits_quietly(tmp_path):
    """A killed synth closes its pipes before the death signal reaches the resolver (CI saw a
    BrokenPipeError traceback from `kill -9` of synth): the reply that cannot be sent ends it silently."""
    from gitops.pipeline.resolver import write_frame

    proc = subprocess.Popen([sys.executable, "-O", "-m", "gitops.pipeline.resolver", "--tmpdir", str(tmp_path),
                             "--parent", str(os.getpid())], cwd=REPO, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # nobody reads the answer
    write_frame(proc.stdin, ("orphan", [CONFIGMAP]))
    proc.stdin.close()
    assert proc.wait(timeout=60) == 0
    assert proc.stderr.read() == b""
    proc.stderr.close()


def test_close_leaves_no_resolver_running(tmp_path):
    pool = ResolverPool(2, tmp_path)
    pids = [p.pid for p in pool._processes]
    pool.close()
    assert all(p.returncode is not None for p in pool._processes)
    assert not [pid for pid in pids if Path(f"/proc/{pid}").exists()
                and "Z" not in (Path(f"/proc/{pid}/status").read_text().split("State:")[1].split()[0])]


@pytest.mark.parametrize("memo_warm,expected", [(True, 1), (False, os.cpu_count() or 1)])
def test_resolver_count_counts_node_boots(memo_warm, expected):
    assert synth_module._default_resolvers(memo_warm) == expected


def test_launcher_keeps_console_output_off_the_api_channel(tmp_path):
    """jsii_direct.js maps fd 3 onto stdin/stdout and wraps console output as {"stdout": base64} on stderr."""
    (tmp_path / "bin").mkdir()
    (tmp_path / "lib").mkdir()
    shutil.copy(REPO / "gitops/pipeline/jsii_direct.js", tmp_path / "bin/jsii-direct.js")
    # A stand-in for jsii's lib/program.js: talks on fd 3 the way the kernel does, and prints noise.
    (tmp_path / "lib/program.js").write_text(
        "const fs = require('fs');\n"
        "console.log('noise from a library');\n"
        "const buffer = Buffer.alloc(64);\n"
        "const n = fs.readSync(3, buffer, 0, 64, null);\n"
        "fs.writeSync(3, 'hello ' + buffer.subarray(0, n).toString());\n")
    proc = subprocess.run(["node", str(tmp_path / "bin/jsii-direct.js")], input=b"kernel\n", capture_output=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"hello kernel\n"
    assert [json.loads(line) for line in proc.stderr.splitlines()] == [
        {"stdout": base64.b64encode(b"noise from a library\n").decode()}]


def test_launcher_ends_quietly_when_the_host_is_gone(tmp_path):
    """A write to the API channel after the Python host died is EPIPE: exit 0, no stack trace."""
    (tmp_path / "bin").mkdir()
    (tmp_path / "lib").mkdir()
    shutil.copy(REPO / "gitops/pipeline/jsii_direct.js", tmp_path / "bin/jsii-direct.js")
    (tmp_path / "lib/program.js").write_text(
        "const fs = require('fs');\n"
        "fs.readSync(3, Buffer.alloc(1), 0, 1, null);\n"  # waits until the host has closed stdout
        "for (;;) fs.writeSync(3, 'an answer nobody reads\\n');\n")
    proc = subprocess.Popen(["node", str(tmp_path / "bin/jsii-direct.js")], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    proc.stdin.write(b"x")
    proc.stdin.close()
    assert proc.wait(timeout=60) == 0
    assert proc.stderr.read() == b""
    proc.stderr.close()


def test_a_chart_that_cannot_be_sent_fails_alone(pool):
    with pytest.raises(ResolverError, match="'unpicklable' could not be sent to cdk8s"):
        pool.submit("unpicklable", [{**CONFIGMAP, "data": {"k": lambda: None}}]).result(timeout=60)
    assert pool.submit("after", [CONFIGMAP]).result(timeout=60) == [CONFIGMAP]


def test_a_chart_submitted_while_the_pool_fails_is_answered_not_lost(tmp_path):
    """submit() racing the reader's _fail(): the chart is queued before the pool is marked broken
    (and then drained with the error) or refused at once; never left waiting forever.

    The submitting thread is held for 0.5 s right after it leaves the pool's lock, which is where
    a thread switch would let the reader fail the pool and drain the queue in between."""
    import queue
    import threading
    import time

    from gitops.pipeline import resolver_pool as rp

    class Gone:  # a resolver whose stdin is closed and whose stdout ends after 0.1 s
        class stdin:
            @staticmethod
            def write(data):
                raise BrokenPipeError(32, "gone")

            @staticmethod
            def flush():
                pass

        class stdout:
            @staticmethod
            def read(n):
                time.sleep(0.1)
                return b""

        @staticmethod
        def wait(timeout=None):
            return -9

    class SwitchAfterRelease:
        def __init__(self):
            self._lock = threading.Lock()

        def __enter__(self):
            self._lock.acquire()

        def __exit__(self, *exc):
            self._lock.release()
            if threading.current_thread().name == "late-render":
                time.sleep(0.5)

    pool = rp.ResolverPool.__new__(rp.ResolverPool)
    pool._queue, pool._broken, pool._lock = queue.SimpleQueue(), None, SwitchAfterRelease()
    channel = rp._Channel(Gone())
    first = pool.submit("first", [])
    for target in (pool._send, pool._receive):
        threading.Thread(target=target, args=(channel,), daemon=True).start()
    late = []
    submitter = threading.Thread(target=lambda: late.append(pool.submit("late", [])), name="late-render")
    submitter.start()
    submitter.join()
    for future in (first, late[0]):
        with pytest.raises(ResolverError, match="ended"):
            future.result(timeout=5)


def test_a_synth_that_renders_nothing_leaves_no_prestarted_resolver(tmp_path):
    """`gitops synth` starts a resolver before it knows whether anything changed: a cache hit or an
    input error kills it and removes its temp folder."""
    from .test_synth_crash import _processes_mentioning

    root = copy_inputs(MINI, tmp_path / "mini")
    run_gitops(root, "synth", check=True)
    hit = run_gitops(root, "synth", check=True)
    assert "unchanged" in hit.stdout
    refused = run_gitops(root, "synth", "--env", "no-such-env")
    assert refused.returncode == 2, refused.stderr
    assert not (root / ".cache/synth-tmp").exists()
    assert _processes_mentioning(str(root)) == []


def test_only_folders_of_dead_runs_are_cleaned(tmp_path):
    from gitops.pipeline import crashsafe

    base = tmp_path / crashsafe.TMP_DIR
    dead, alive = base / "999999999", base / str(os.getppid())  # no such pid / the process that runs pytest
    for folder in (dead, alive):
        (folder / "jsii").mkdir(parents=True)
    (base / "stray-file").write_text("x")
    crashsafe.clean_stale_tmpdirs(tmp_path)
    assert sorted(p.name for p in base.iterdir()) == [alive.name]
    own = crashsafe.run_tmpdir(tmp_path)
    crashsafe.remove_tmpdir(tmp_path)
    assert not own.exists() and alive.exists()  # another live run's folder stays, and so its parent


def test_synth_with_the_default_root_adopts_its_prestarted_resolver(tmp_path):
    """`make synth` runs `gitops synth` in the checkout, with --root left at ".": the prestarted
    resolver must get an absolute temp folder (Node refuses a relative one) and be the one used."""
    from .conftest import GITOPS

    root = copy_inputs(MINI, tmp_path / "mini")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([*GITOPS, "synth", "--no-cache", "--jobs", "1"], cwd=root, capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "Error" not in proc.stderr, proc.stderr
    assert (root / "dist").is_dir() and not (root / ".cache/synth-tmp").exists()
