"""The one place where Python hands a resource to cdk8s (jsii -> Node).

Why resource bodies are built as Python dicts and handed over whole: every jsii
call is a synchronous round trip to Node (~0.4 ms here), so a typed construct tree
with one node per field costs far more than the YAML it produces. Concepts below are
therefore plain Python classes that emit one ``cdk8s.ApiObject`` per Kubernetes
object into their chart, and the chart resolves them all in a single ``to_json``.

``new_chart`` returns a ``PendingChart``: constructs ``emit`` into it exactly as into a
cdk8s Chart. ``resolve_charts`` then has cdk8s resolve the charts: ``resolve_chart`` creates a
cdk8s Chart in a cdk8s App with one ApiObject per body and returns ``chart.to_json()``. During
`gitops synth` that happens in resolver processes (gitops/pipeline/resolver.py) that booted Node
while the inputs loaded; elsewhere (tests, one-off renders) in this process.

With a ``ChartMemo`` configured (plain ``gitops synth``), a chart whose bodies, id and
generator code are byte-identical to one cdk8s resolved before is answered from that earlier
resolution instead of making the same jsii calls again; ``--no-cache``, ``--check`` and
``npx cdk8s synth`` configure none, so every object goes through cdk8s.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Callable

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


def _cdk8s():
    """cdk8s, imported on first use: importing it starts Node, which a memo hit never needs."""
    import cdk8s  # (the env var above must be set before jsii starts Node)

    return cdk8s


def _emit_api_object(chart: "cdk8s.Chart", body: dict) -> None:
    """Add ``body`` (a complete Kubernetes object) to the cdk8s ``chart`` as one ApiObject.

    Construct ids are ``<kind>-<name>``: unique per chart and stable, so no
    hash suffix ever reaches an object name.
    """
    cdk8s = _cdk8s()
    meta = body["metadata"]
    obj = cdk8s.ApiObject(
        chart, f"{body['kind']}-{meta['name']}",
        api_version=body["apiVersion"], kind=body["kind"], metadata=meta,
    )
    rest = [cdk8s.JsonPatch.add(f"/{key}", value) for key, value in body.items()
            if key not in ("apiVersion", "kind", "metadata")]
    if rest:
        obj.add_json_patch(*rest)


class ChartMemo:
    """cdk8s's resolution of a chart, stored under a hash of everything that determines it.

    The key covers the generator fingerprint (code of gitops/ and charts/, the cdk8s, constructs, jsii and
    PyYAML versions), the chart id and the exact bodies, so an entry can only be reused for
    the very same jsii calls; a changed body, chart or cdk8s version is a different key.
    """

    def __init__(self, folder: Path, salt: str):
        self.folder = Path(folder)
        self.salt = salt

    def key(self, chart_id: str, bodies: list[dict]) -> str:
        h = hashlib.sha256(self.salt.encode() + b"\0" + chart_id.encode() + b"\0")
        h.update(json.dumps(bodies, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
        return h.hexdigest()

    def get(self, key: str) -> list[dict] | None:
        path = self.folder / f"{key}.json"
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("key") != key or not isinstance(data.get("objects"), list):
            return None
        os.utime(path)  # recently used: pruning keeps it
        return data["objects"]

    def put(self, key: str, objects: list[dict]) -> None:
        from gitops.pipeline.tree import write_file_atomic

        data = json.dumps({"key": key, "objects": objects}, sort_keys=True, separators=(",", ":"))
        write_file_atomic(self.folder / f"{key}.json", data.encode())


_MEMO: ChartMemo | None = None


def use_memo(memo: ChartMemo | None) -> None:
    """Configure (or, with None, switch off) the chart memo of this process."""
    global _MEMO
    _MEMO = memo


class ResolverApp:
    """The cdk8s App that charts are resolved in, created on first use (never, if all are memo hits).

    A chart id can be resolved once per App (cdk8s refuses a second construct of the same id), so a
    repeated id gets a fresh App; an App holds nothing that reaches the output.
    """

    def __init__(self, **props):
        self.props = {"outdir": tempfile.gettempdir(), **props}
        self._app = None
        self._ids: set[str] = set()

    def boot(self) -> None:
        """Start Node now (importing cdk8s starts jsii's kernel)."""
        _cdk8s()

    def scope_for(self, chart_id: str) -> "cdk8s.App":
        if self._app is None or chart_id in self._ids:
            self._app = _cdk8s().App(**self.props)
            self._ids = set()
        self._ids.add(chart_id)
        return self._app


def resolve_chart(app: ResolverApp, chart_id: str, bodies: list[dict]) -> list[dict]:
    """cdk8s's resolution of one chart: a Chart with one ApiObject per body, then ``to_json()``."""
    # Names are explicit and human; cdk8s must never append hashes to them.
    chart = _cdk8s().Chart(app.scope_for(chart_id), chart_id, disable_resource_name_hashes=True)
    for body in bodies:
        _emit_api_object(chart, body)
    return list(chart.to_json())


# Where charts that miss the memo are resolved: None = here, through this process's own cdk8s;
# or a callable (chart_id, bodies) -> Future, e.g. gitops.pipeline.resolver_pool's resolver processes.
Submit = Callable[[str, list], Future]
_SUBMIT: Submit | None = None
_LOCAL_APP: ResolverApp | None = None


def use_resolver(submit: Submit | None) -> None:
    """Send the charts that miss the memo to ``submit`` (None: resolve them in this process)."""
    global _SUBMIT
    _SUBMIT = submit


def _resolve_here(chart_id: str, bodies: list[dict]) -> Future:
    """Resolve in this process (no resolver configured), answered as a finished Future."""
    global _LOCAL_APP
    future: Future = Future()
    with _LOCAL_LOCK:  # one jsii kernel per process: one caller at a time
        if _LOCAL_APP is None:
            _LOCAL_APP = ResolverApp()
        future.set_result(resolve_chart(_LOCAL_APP, chart_id, bodies))
    return future


_LOCAL_LOCK = threading.Lock()


class PendingChart:
    """What constructs emit into: the bodies of one chart, resolved through cdk8s by ``resolve_charts``."""

    def __init__(self, chart_id: str):
        self.id = chart_id
        self.bodies: list[dict] = []

    def to_json(self) -> list[dict]:
        return resolve_charts([self])[0]


def resolve_charts(charts: list[PendingChart]) -> list[list[dict]]:
    """cdk8s's objects for each chart, in order: memo hits first, every miss sent to cdk8s at once.

    Submitting every miss before waiting for any lets resolver processes work on them in parallel.
    """
    memo, submit = _MEMO, _SUBMIT or _resolve_here
    results: list[list[dict] | None] = [None] * len(charts)
    waiting: list[tuple[int, str | None, Future]] = []
    for index, chart in enumerate(charts):
        key = memo.key(chart.id, chart.bodies) if memo is not None else None
        hit = memo.get(key) if key is not None else None
        if hit is not None:
            results[index] = hit
        else:
            waiting.append((index, key, submit(chart.id, chart.bodies)))
    for index, key, future in waiting:
        results[index] = future.result()
        if key is not None:
            memo.put(key, results[index])
    return results  # type: ignore[return-value]


def emit(chart: PendingChart, body: dict) -> None:
    """Add ``body`` (a complete Kubernetes object) to ``chart``."""
    chart.bodies.append(body)


def new_chart(chart_id: str) -> PendingChart:
    return PendingChart(chart_id)
