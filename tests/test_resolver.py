"""The cdk8s resolvers (gitops/pipeline/resolver.js run by Node, resolver_pool.py, cdk8s_js.py).

Resolution is a pure function of (chart id, bodies): the Node resolver makes the construct calls that
cdk8s's Python bindings make in process (charts.base.resolve_chart) and gives the same objects, for
every chart of the repository and for random bodies; both refuse the same metadata; a chart cdk8s
refuses and a resolver that dies are errors that name the chart; library console output never
reaches the reply channel.
"""
from __future__ import annotations

import datetime
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from charts.base import ResolverApp, resolve_chart
from gitops.pipeline import cdk8s_js
from gitops.pipeline.resolver_pool import HEADER, MARKER, RESOLVER, ResolverError, ResolverPool, _read_frame, _write_frame

from .conftest import MINI, REPO, copy_inputs, run_gitops, tree_bytes

CONFIGMAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "x"}, "data": {"k": "v"}}


@pytest.fixture(scope="module")
def shared_pool():
    started = ResolverPool(1)
    yield started
    started.close()


def test_node_resolver_gives_what_cdk8s_python_bindings_give_for_every_chart(shared_pool):
    """Every chart `gitops synth` builds for this repository's inputs, resolved both ways."""
    import charts.base as base
    from gitops.inputs.load import load_platform
    from gitops.pipeline.synth import render_all, render_global

    compared, differing = [], []

    def both_ways(chart_id, bodies):
        through_jsii = base._resolve_here(chart_id, bodies).result()
        through_node = shared_pool.submit(chart_id, bodies).result(timeout=60)
        compared.append(len(bodies))
        # The same objects, keys in the same order (cdk8s sorts them): the same YAML.
        if json.dumps(through_node) != json.dumps(through_jsii):
            differing.append(chart_id)
        return base._finished(through_jsii)

    base.use_resolver(both_ways)
    try:
        platform = load_platform(REPO)
        render_all(platform, [e.name for e in platform.environments])
        render_global(platform)
    finally:
        base.use_resolver(None)
    assert sum(compared) > 500 and differing == []


def _random_value(rng: random.Random, depth: int = 0):
    kinds = ["str", "int", "float", "bool", "none"] + (["dict", "list"] if depth < 4 else [])
    kind = rng.choice(kinds)
    if kind == "str":
        return "".join(rng.choice("ab- _:/\"\n\té€😀{}$\ud800") for _ in range(rng.randint(0, 8)))
    if kind == "int":
        return rng.randint(-2**40, 2**40)
    if kind == "float":
        return rng.choice([0.5, -1.25, 1e-7, 3.0, 1e21])
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "none":
        return None
    if kind == "dict":
        return {_random_key(rng): _random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]


def _random_key(rng: random.Random) -> str:
    return "".join(rng.choice("abcXYZ-_.09é") for _ in range(rng.randint(1, 6)))


def _random_body(rng: random.Random, index: int) -> dict:
    metadata: dict = {"name": f"object-{index}"}
    if rng.random() < 0.7:
        metadata["labels"] = {_random_key(rng): _random_key(rng) for _ in range(rng.randint(0, 3))}
    if rng.random() < 0.5:
        metadata["annotations"] = {_random_key(rng): str(_random_value(rng)) for _ in range(rng.randint(0, 3))}
    if rng.random() < 0.5:
        metadata["namespace"] = rng.choice(["x", "team-a", ""])
    if rng.random() < 0.2:
        metadata["finalizers"] = [_random_key(rng) for _ in range(rng.randint(0, 2))]
    if rng.random() < 0.2:
        metadata["labels" if rng.random() < 0.5 else "annotations"] = None  # jsii drops a null field
    body = {"apiVersion": rng.choice(["v1", "apps/v1", "example.io/v1alpha1"]), "kind": rng.choice(["ConfigMap", "Thing"]),
            "metadata": metadata}
    for _ in range(rng.randint(0, 4)):
        body[rng.choice(["spec", "data", "rules", "stringData", "x-extra", "immutable"])] = _random_value(rng)
    return body


def test_random_bodies_resolve_alike_through_node_and_python_bindings(shared_pool):
    rng = random.Random(20261202)
    app = ResolverApp()
    for round_ in range(80):
        bodies = [_random_body(rng, i) for i in range(rng.randint(1, 5))]
        chart_id = f"random.{round_}"
        assert json.dumps(shared_pool.submit(chart_id, bodies).result(timeout=60)) == \
            json.dumps(resolve_chart(app, chart_id, bodies)), bodies


def _with(**changes) -> dict:
    return {**CONFIGMAP, **changes}


def _without(key: str) -> dict:
    return {k: v for k, v in CONFIGMAP.items() if k != key}


@pytest.mark.parametrize("body, expected", [
    (_with(metadata={"name": "a", "generateName": "g"}), "metadata.generateName: not a field of cdk8s's cdk8s.ApiObjectMetadata as its Python binding takes it"),
    (_with(metadata={"name": "a", "ownerReferences": []}), "metadata.ownerReferences: not a field of cdk8s's cdk8s.ApiObjectMetadata as its Python binding"),
    (_with(metadata={"name": "a", "labels": {"k": 1}}), "metadata.labels.k: expected a string, found 1"),
    (_with(metadata={"name": "a", "labels": {"k": None}}), "metadata.labels.k: expected a string, found null"),
    (_with(metadata={"name": "a", "namespace": 5}), "metadata.namespace: expected a string, found 5"),
    (_with(metadata={"name": "a", "finalizers": "f"}), "metadata.finalizers: expected a list"),
    (_with(metadata={"labels": {}}), "metadata.name: expected a string, found nothing"),
    (_with(metadata={"name": None}), "metadata.name: expected a string, found nothing"),
    (_without("metadata"), "metadata.name: expected a string, found nothing"),
    (_without("kind"), "object 0.kind: required by cdk8s's cdk8s.ApiObjectProps, missing"),
    (_with(apiVersion=1), "object 0 (ConfigMap a).apiVersion: expected a string, found 1"),
    (_with(metadata={"name": "a", "labels": {"__proto__": "v"}}), 'metadata.labels.__proto__: the key "__proto__" cannot be carried'),
    (_with(data={"__proto__": "v"}), 'object 0 (ConfigMap a).data.__proto__: the key "__proto__" cannot be carried'),
    (_with(spec={"a": [{"b": {"__proto__": {}}}]}), 'object 0 (ConfigMap a).spec.a[0].b.__proto__: the key "__proto__"'),
    ({**CONFIGMAP, "__proto__": {}}, 'object 0 (ConfigMap a).__proto__: the key "__proto__" cannot be carried'),
])
def test_bodies_cdk8s_cannot_take_are_refused_by_both_paths(shared_pool, body, expected):
    with pytest.raises(ResolverError, match="cdk8s could not resolve chart 'refused'") as refused:
        shared_pool.submit("refused", [body]).result(timeout=60)
    assert expected in str(refused.value)
    assert "\n    at " not in str(refused.value)  # the reason, not a JavaScript stack
    with pytest.raises(Exception):  # the Python bindings (jsii) refuse it too
        resolve_chart(ResolverApp(), "refused", [body])


@pytest.mark.parametrize("mapping", [{"$jsii.byref": "x"}, {"$jsii.date": "2026-01-01T00:00:00Z"}, {"$jsii.map": {"a": "b"}},
                                     {"$jsii.enum": "x/y"}, {"$jsii.byref": "x", "$jsii.interfaces": []}])
def test_jsii_wire_tokens_are_refused_where_jsii_would_not_keep_them(shared_pool, mapping):
    body = _with(data={"k": mapping})
    with pytest.raises(ResolverError, match=r"object 0 \(ConfigMap a\).data.k: a mapping whose only key is .* is a jsii wire token"):
        shared_pool.submit("token", [body]).result(timeout=60)
    try:  # jsii's Python runtime reads the mapping back as a reference, date, enum or map
        through_jsii = resolve_chart(ResolverApp(), "token", [body])
    except Exception:
        return
    assert through_jsii != [body]


def test_wire_tokens_among_other_keys_are_data_both_ways(shared_pool):
    body = _with(data={"k": {"$jsii.map": "x", "other": "y"}, "$jsii.date": "z"})
    assert shared_pool.submit("data", [body]).result(timeout=60) == resolve_chart(ResolverApp(), "data", [body]) == [body]


OWNER = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": "u-1", "blockOwnerDeletion": True}


@pytest.mark.parametrize("body", [
    _with(data={"__proto__": None, "k": "v"}),                       # the null goes first, then nothing is wrong
    _with(data={"k": [{"$jsii.map": None}, None, {"a": None}]}),
    {**CONFIGMAP, "metadata/labels": None},                          # adding undefined removes what the path names
    {**CONFIGMAP, "data/k": None},
    {**CONFIGMAP, "spec": None},
    _with(metadata={"name": "a", "owner_references": [OWNER]}),      # a keyword of the Python binding; the items
    _with(metadata={"name": "a", "owner_references": [{**OWNER, "controller": None}]}),  # are the kernel's
    _with(data={"k": ("a", "b")}),                                    # both get JSON: a tuple is a list
    _with(data={"big": 2**53 + 1, "small": 5e-324, "neg": -0.0, "float": 1.0}),
])
def test_edge_bodies_resolve_alike_both_ways(shared_pool, body):
    through_node = shared_pool.submit("edge", [body]).result(timeout=60)
    assert json.dumps(through_node) == json.dumps(resolve_chart(ResolverApp(), "edge", [body]))


@pytest.mark.parametrize("body", [{**CONFIGMAP, "a/b": None}, {**CONFIGMAP, "constructor": None},
                                  {**CONFIGMAP, "__proto__": None}])
def test_edge_bodies_both_paths_refuse(shared_pool, body):
    with pytest.raises(ResolverError, match="cdk8s could not resolve chart 'edge'"):
        shared_pool.submit("edge", [body]).result(timeout=60)
    with pytest.raises(Exception):
        resolve_chart(ResolverApp(), "edge", [body])


@pytest.mark.parametrize("body, expected", [
    (_with(data={"x": {"$jsii.map": {"a": "b"}, "y": None}}), "a mapping whose only key is \"$jsii.map\""),
    (_with(data={"huge": 10**400}), "object 0 (ConfigMap a).data.huge: the number is beyond a double's range"),
    (_with(metadata={"name": "a", "owner_references": [{**OWNER, "extra": 1}]}),
     "metadata.owner_references[0].extra: not a field of cdk8s's cdk8s.OwnerReference as jsii's kernel reads it"),
])
def test_bodies_jsii_would_change_are_refused(shared_pool, body, expected):
    with pytest.raises(ResolverError) as refused:
        shared_pool.submit("changed", [body]).result(timeout=60)
    assert expected in str(refused.value)
    try:
        through_jsii = resolve_chart(ResolverApp(), "changed", [body])
    except Exception:
        return
    assert through_jsii != [body]


@pytest.mark.parametrize("value", [datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc), {1}, float("inf")])
def test_values_json_cannot_hold_are_refused_both_ways(shared_pool, value):
    body = _with(data={"k": value})
    with pytest.raises(ResolverError, match="could not be sent to cdk8s"):
        shared_pool.submit("not-json", [body]).result(timeout=60)
    with pytest.raises((TypeError, ValueError)):
        resolve_chart(ResolverApp(), "not-json", [body])


def test_library_is_the_javascript_the_cdk8s_python_package_embeds():
    folder = cdk8s_js.node_modules()
    for package in cdk8s_js.PACKAGES:
        installed = json.loads((folder / package / "package.json").read_text())["version"]
        assert cdk8s_js.tarball(package).name == f"{package}@{installed}.jsii.tgz"
    assert cdk8s_js.node_modules() == folder  # extracted once


def test_extraction_refuses_a_tarball_member_outside_its_folder(tmp_path, monkeypatch):
    import io
    import tarfile

    evil = tmp_path / "cdk8s@9.9.9.jsii.tgz"
    with tarfile.open(evil, "w:gz") as archive:
        data = b"pwned"
        member = tarfile.TarInfo("package/../../escaped.txt")
        member.size = len(data)
        archive.addfile(member, io.BytesIO(data))
    monkeypatch.setattr(cdk8s_js, "CACHE", tmp_path / "cache")
    monkeypatch.setattr(cdk8s_js, "tarball", lambda package: evil)
    with pytest.raises(tarfile.OutsideDestinationError):
        cdk8s_js.node_modules()
    assert not list(tmp_path.rglob("escaped.txt"))
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [".lock"]  # no folder, complete or not


@pytest.fixture
def pool(tmp_path):
    started = ResolverPool(2)
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
    pool = ResolverPool(1)
    try:
        assert pool.submit("warm", [CONFIGMAP]).result(timeout=60) == [CONFIGMAP]
        os.kill(pool._processes[0].pid, signal.SIGKILL)
        with pytest.raises(ResolverError, match=r"ended \(exit code -9\) while resolving chart 'lost'"):
            pool.submit("lost", [CONFIGMAP]).result(timeout=60)
        with pytest.raises(ResolverError, match="exit code -9"):
            pool.submit("later", [CONFIGMAP]).result(timeout=5)
    finally:
        pool.close()


def test_close_leaves_no_resolver_running(tmp_path):
    pool = ResolverPool(2)
    pids = [p.pid for p in pool._processes]
    pool.close()
    assert all(p.returncode is not None for p in pool._processes)
    assert not [pid for pid in pids if Path(f"/proc/{pid}").exists()
                and "Z" not in (Path(f"/proc/{pid}/status").read_text().split("State:")[1].split()[0])]


@pytest.mark.parametrize("value", [lambda: None, {1, 2}, float("nan")])
def test_a_chart_that_cannot_be_sent_fails_alone(pool, value):
    with pytest.raises(ResolverError, match="'not-json' could not be sent to cdk8s"):
        pool.submit("not-json", [{**CONFIGMAP, "data": {"k": value}}]).result(timeout=60)
    assert pool.submit("after", [CONFIGMAP]).result(timeout=60) == [CONFIGMAP]


def test_a_chart_submitted_while_the_pool_fails_is_answered_not_lost(tmp_path):
    """submit() racing the reader's _fail(): the chart is queued before the pool is marked broken
    (and then drained with the error) or refused at once; never left waiting forever.

    The submitting thread is held for 0.5 s right after it leaves the pool's lock, which is where
    a thread switch would let the reader fail the pool and drain the queue in between."""
    import queue
    import threading

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


def _fake_library(folder: Path, on_load: str) -> Path:
    """A node_modules folder whose "cdk8s" runs ``on_load`` and resolves nothing (bodies come back)."""
    cdk8s = folder / "cdk8s"
    cdk8s.mkdir(parents=True)
    (cdk8s / "package.json").write_text('{"name": "cdk8s", "main": "index.js"}')
    string = {"primitive": "string"}
    (cdk8s / ".jsii").write_text(json.dumps({"types": {
        "cdk8s.ApiObjectProps": {"properties": [{"name": "apiVersion", "type": string}, {"name": "kind", "type": string},
                                                {"name": "metadata", "optional": True, "type": {"fqn": "cdk8s.ApiObjectMetadata"}}]},
        "cdk8s.ApiObjectMetadata": {"properties": [{"name": name, "optional": True, "type": string}
                                                   for name in ("name", "namespace")]}}}))
    (cdk8s / "index.js").write_text(on_load + """
class App {}
class Chart { constructor() { this.objects = []; } toJson() { return this.objects; } }
class ApiObject { constructor(chart, id, props) { this.props = props; chart.objects.push(props); } addJsonPatch() {} }
module.exports = { App, Chart, ApiObject, JsonPatch: { add: () => null } };
""")
    return folder


def test_library_console_output_goes_to_stderr_not_into_replies(tmp_path):
    library = _fake_library(tmp_path / "lib", "console.log('noise from a library'); process.stdout.write('more');")
    proc = subprocess.Popen(["node", str(RESOLVER), str(library)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    _write_frame(proc.stdin, ["one", [CONFIGMAP]])
    proc.stdin.close()
    assert _read_frame(proc.stdout) == ["one", [{k: CONFIGMAP[k] for k in ("apiVersion", "kind", "metadata")}], None]
    assert proc.stdout.read() == b""
    assert proc.wait(timeout=60) == 0
    assert proc.stderr.read() == b"noise from a library\nmore"
    proc.stdout.close()
    proc.stderr.close()


def test_a_resolver_whose_parent_is_gone_exits_quietly():
    """A killed synth closes its pipes before the death signal reaches the resolver (CI saw a
    BrokenPipe traceback from `kill -9` of synth): the reply that cannot be sent ends it silently."""
    proc = subprocess.Popen(["node", str(RESOLVER), str(cdk8s_js.node_modules())], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # nobody reads the answer
    _write_frame(proc.stdin, ["orphan", [CONFIGMAP]])
    proc.stdin.close()
    assert proc.wait(timeout=60) == 0
    assert proc.stderr.read() == b""
    proc.stderr.close()


def test_a_resolver_dies_with_its_killed_parent():
    """PR_SET_PDEATHSIG: a parent killed while its resolver waits takes the resolver with it."""
    code = (f"import sys, time; sys.path.insert(0, {str(REPO)!r}); "
            "from gitops.pipeline.resolver_pool import start_resolver; "
            "p = start_resolver(); print(p.pid, flush=True); time.sleep(60)")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    parent.stdout.close()
    for _ in range(100):
        if not Path(f"/proc/{child}").exists() or "Z" in Path(f"/proc/{child}/stat").read_text().split(")")[1][:3]:
            break
        time.sleep(0.05)
    else:
        os.kill(child, signal.SIGKILL)
        pytest.fail("the resolver outlived its killed parent")


def test_a_synth_that_renders_nothing_leaves_no_prestarted_resolver(tmp_path):
    """`gitops synth` starts a resolver before it knows whether anything changed: a cache hit or an
    input error kills it."""
    from .test_synth_crash import _processes_mentioning

    root = copy_inputs(MINI, tmp_path / "mini")
    run_gitops(root, "synth", check=True)
    hit = run_gitops(root, "synth", check=True)
    assert "unchanged" in hit.stdout
    refused = run_gitops(root, "synth", "--env", "no-such-env")
    assert refused.returncode == 2, refused.stderr
    assert _processes_mentioning(str(root)) == []


def test_synth_adopts_its_prestarted_resolver(tmp_path, monkeypatch):
    """The resolver `gitops synth` starts first thing is the one the run uses: one Node boot."""
    from gitops.pipeline import resolver_pool

    from .conftest import run_cli

    started = []
    real = resolver_pool.start_resolver
    monkeypatch.setattr(resolver_pool, "start_resolver", lambda: started.append(real()) or started[-1])
    root = copy_inputs(MINI, tmp_path / "mini")
    result = run_cli(root, "synth", "--no-cache")
    assert result.returncode == 0, result.stderr
    assert len(started) == 1 and started[0].returncode is not None  # used, then killed and reaped


def test_synth_in_the_checkout_with_the_default_root_prints_no_error(tmp_path):
    """`make synth` runs `gitops synth` in the checkout, with --root left at "." (a relative root
    once gave the resolver a relative temp folder, and a jsii traceback)."""
    from .conftest import GITOPS

    root = copy_inputs(MINI, tmp_path / "mini")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([*GITOPS, "synth", "--no-cache"], cwd=root, capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "Error" not in proc.stderr, proc.stderr
    assert (root / "dist").is_dir()


def test_without_node_synth_says_so_and_a_cache_hit_still_works(tmp_path):
    root = copy_inputs(MINI, tmp_path / "mini")
    run_gitops(root, "synth", check=True)
    before = tree_bytes(root / "dist")
    no_node = {**os.environ, "PATH": str(tmp_path / "empty-bin")}
    hit = run_gitops(root, "synth", env=no_node)
    assert hit.returncode == 0 and "unchanged" in hit.stdout, hit.stderr
    refused = run_gitops(root, "synth", "--no-cache", env=no_node)
    assert refused.returncode == 1
    assert refused.stderr.strip() == "error: Node.js (`node`) is not on PATH: cdk8s runs in Node (see README, set-up)"
    assert tree_bytes(root / "dist") == before


def test_a_library_folder_emptied_by_hand_is_extracted_again(tmp_path, monkeypatch):
    monkeypatch.setattr(cdk8s_js, "CACHE", tmp_path / "cache")
    folder = cdk8s_js.node_modules()
    (folder / "cdk8s" / "package.json").unlink()
    assert cdk8s_js.node_modules() == folder
    assert (folder / "cdk8s" / "package.json").is_file() and (folder / "cdk8s" / "lib" / "index.js").is_file()


def test_concurrent_first_extractions_each_get_a_complete_folder(tmp_path):
    """Four runs extract into an empty cache at once: one extracts, the others wait for it, and no
    run removes a folder another one was given (each checks its folder every 5 ms for 1.5 s)."""
    script = (f"import sys, time; sys.path.insert(0, {str(REPO)!r}); from pathlib import Path; "
              "from gitops.pipeline import cdk8s_js; cdk8s_js.CACHE = Path(sys.argv[1]); "
              "folder = cdk8s_js.node_modules(); end = time.monotonic() + 1.5; complete = True\n"
              "while time.monotonic() < end: complete = complete and cdk8s_js._complete(folder); time.sleep(0.005)\n"
              "print(complete, folder)")
    runs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "cache")], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(4)]
    answers = [run.communicate(timeout=120) + (run.returncode,) for run in runs]
    assert all(code == 0 and err == "" for _, err, code in answers), answers
    assert len({out for out, _, _ in answers}) == 1 and answers[0][0].startswith("True ")


def test_a_cache_that_cannot_be_written_is_a_one_line_error(tmp_path, monkeypatch):
    from gitops.pipeline.resolver_pool import start_resolver

    (tmp_path / "a-file").write_text("")
    monkeypatch.setattr(cdk8s_js, "CACHE", tmp_path / "a-file" / "cache")
    with pytest.raises(ResolverError, match=r"cannot prepare cdk8s's JavaScript in .*a-file/cache: "):
        start_resolver()


def test_a_request_the_resolver_cannot_read_fails_alone():
    """Not JSON (or, in real life, bigger than a JavaScript string): that chart fails, the next works."""
    proc = subprocess.Popen(["node", str(RESOLVER), str(cdk8s_js.node_modules())], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    garbage = b"[not json"
    proc.stdin.write(HEADER.pack(MARKER, len(garbage)) + garbage)
    _write_frame(proc.stdin, ["after", [CONFIGMAP]])
    proc.stdin.close()
    chart_id, objects, error = _read_frame(proc.stdout)
    assert (chart_id, objects) == (None, None) and "SyntaxError" in error
    assert _read_frame(proc.stdout) == ["after", [CONFIGMAP], None]
    assert proc.wait(timeout=60) == 0
    proc.stdout.close()
    proc.stderr.close()


def test_anything_else_on_the_resolvers_stdout_loses_the_channel_without_hanging(tmp_path, monkeypatch):
    """A library writing to fd 1 itself (past the stdout redirect): no frame marker, so the pool stops
    that resolver and fails its charts instead of waiting for a frame length read from the noise."""
    library = _fake_library(tmp_path / "lib", "require('fs').writeSync(1, 'hello from a library that bypasses stdout');")
    monkeypatch.setattr(cdk8s_js, "node_modules", lambda: library)
    pool = ResolverPool(1)
    try:
        with pytest.raises(ResolverError, match="ended"):
            pool.submit("one", [CONFIGMAP]).result(timeout=30)
    finally:
        pool.close()


def test_a_pool_that_fails_to_start_leaves_no_resolver(monkeypatch):
    from gitops.pipeline import resolver_pool

    started = []
    real = resolver_pool.start_resolver

    def second_fails():
        if started:
            raise ResolverError("no second resolver")
        started.append(real())
        return started[-1]

    monkeypatch.setattr(resolver_pool, "start_resolver", second_fails)
    with pytest.raises(ResolverError, match="no second resolver"):
        ResolverPool(2)
    assert started[0].returncode is not None  # killed and reaped


def test_staging_folders_of_killed_extractions_are_removed(tmp_path, monkeypatch):
    monkeypatch.setattr(cdk8s_js, "CACHE", tmp_path / "cache")
    leftover = tmp_path / "cache" / f".{'0' * 32}-999999"
    (leftover / "node_modules").mkdir(parents=True)
    cdk8s_js.node_modules()
    assert not leftover.exists()
