"""The one place where Python hands a resource to cdk8s (jsii -> Node).

Why resource bodies are built as Python dicts and handed over whole: every jsii
call is a synchronous round trip to Node (~0.4 ms here), so a typed construct tree
with one node per field costs far more than the YAML it produces. Concepts below are
therefore plain Python classes that emit one ``cdk8s.ApiObject`` per Kubernetes
object into their chart, and the chart resolves them all in a single ``to_json``.

``new_chart`` returns a ``PendingChart``: constructs ``emit`` into it exactly as into a
cdk8s Chart. ``resolve_charts`` then has cdk8s resolve the charts: ``resolve_chart`` creates a
cdk8s Chart in a cdk8s App with one ApiObject per body (metadata as its props, every other
top-level field as a JSON patch) and returns ``chart.to_json()``. During `gitops synth` the same
construct calls run in Node (gitops/pipeline/resolver.js, one request per chart instead of jsii's
3-4 round trips per object), in a resolver that booted while the inputs loaded; elsewhere (tests,
one-off renders) here, through cdk8s's Python bindings. Both load the same cdk8s code (the
JavaScript the cdk8s Python package embeds) and give the same objects (tests/test_resolver.py).

With a ``ChartMemo`` configured (plain ``gitops synth``), an object whose body, chart id and
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
    if not isinstance(meta.get("name"), str):  # cdk8s would make up a name; resolver.js refuses too
        raise TypeError(f"{body['kind']} metadata.name: expected a string, found {meta.get('name')!r}")
    obj = cdk8s.ApiObject(
        chart, f"{body['kind']}-{meta['name']}",
        api_version=body["apiVersion"], kind=body["kind"], metadata=meta,
    )
    rest = [cdk8s.JsonPatch.add(f"/{key}", value) for key, value in body.items()
            if key not in ("apiVersion", "kind", "metadata")]
    if rest:
        obj.add_json_patch(*rest)


class ChartMemo:
    """cdk8s's resolution of every object of a chart, kept per chart and looked up per object.

    One file per chart, named by a hash of the generator fingerprint (code of gitops/ and charts/,
    the cdk8s, constructs, jsii and PyYAML versions) and the chart id, maps the hash of each body to
    what cdk8s made of it. A body whose exact bytes were resolved before in the same chart under the
    same generator is answered from the file; only the others go through cdk8s. That is sound
    because cdk8s resolves each object on its own: ``Chart.toJson()`` is
    ``chartToKube(chart).map(obj => obj.toJson())`` and ``ApiObject.toJson()`` resolves only that
    object's props, metadata and JSON patches (cdk8s 2.70.115 lib/app.js ``_synthChart``,
    lib/api-object.js ``toJson``); chart-level defaults (namespace, labels) would reach every object,
    and charts here set none. A one-line change in one component thus costs cdk8s the few objects it
    changed, not the whole chart (an environment's Argo CD chart holds ~27 Applications).

    ``reused`` and ``resolved`` count objects over the run (the memo is used from several threads).
    """

    def __init__(self, folder: Path, salt: str):
        self.folder = Path(folder)
        self.salt = salt
        self.reused = 0
        self.resolved = 0
        self._count_lock = threading.Lock()

    def chart_key(self, chart_id: str) -> str:
        return hashlib.sha256(self.salt.encode() + b"\0" + chart_id.encode()).hexdigest()

    @staticmethod
    def body_key(body: dict) -> str:
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def get(self, chart_key: str) -> dict[str, dict]:
        """The chart's resolved objects by body hash; empty when there is no usable file."""
        path = self.folder / f"{chart_key}.json"
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("key") != chart_key or not isinstance(data.get("objects"), dict):
            return {}
        os.utime(path)  # recently used: pruning keeps it
        return {k: v for k, v in data["objects"].items() if isinstance(v, dict)}

    def put(self, chart_key: str, objects: dict[str, dict]) -> None:
        """Store the chart's current objects (only these: the file never grows with old versions)."""
        from gitops.pipeline.tree import write_file_atomic

        data = json.dumps({"key": chart_key, "objects": objects}, sort_keys=True, separators=(",", ":"))
        write_file_atomic(self.folder / f"{chart_key}.json", data.encode())

    def count(self, reused: int, resolved: int) -> None:
        with self._count_lock:
            self.reused += reused
            self.resolved += resolved


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

    def scope_for(self, chart_id: str) -> "cdk8s.App":
        if self._app is None or chart_id in self._ids:
            self._app = _cdk8s().App(**self.props)
            self._ids = set()
        self._ids.add(chart_id)
        return self._app


def resolve_chart(app: ResolverApp, chart_id: str, bodies: list[dict]) -> list[dict]:
    """cdk8s's resolution of one chart: a Chart with one ApiObject per body, then ``to_json()``.

    gitops/pipeline/resolver.js ``resolveChart`` makes the same calls in Node; change both together.
    """
    # cdk8s gets the bodies' JSON, as in the Node resolver: tuples become lists, and what JSON cannot
    # hold (a set, NaN, a datetime) is refused here, whichever path resolves the chart.
    bodies = json.loads(json.dumps(bodies, allow_nan=False))
    # Names are explicit and human; cdk8s must never append hashes to them.
    chart = _cdk8s().Chart(app.scope_for(chart_id), chart_id, disable_resource_name_hashes=True)
    for body in bodies:
        _emit_api_object(chart, body)
    return list(chart.to_json())


# Where charts that miss the memo are resolved: None = here, through this process's own cdk8s;
# or a callable (chart_id, bodies) -> Future, e.g. gitops.pipeline.resolver_pool's Node resolvers.
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
    with _LOCAL_LOCK:  # one jsii kernel per process: one caller at a time
        if _LOCAL_APP is None:
            _LOCAL_APP = ResolverApp()
        return _finished(resolve_chart(_LOCAL_APP, chart_id, bodies))


_LOCAL_LOCK = threading.Lock()


class PendingChart:
    """What constructs emit into: the bodies of one chart, resolved through cdk8s by ``resolve_charts``."""

    def __init__(self, chart_id: str):
        self.id = chart_id
        self.bodies: list[dict] = []

    def to_json(self) -> list[dict]:
        return resolve_charts([self])[0]


class Resolution:
    """One chart on its way through cdk8s: ``future`` finishes when cdk8s has answered (at once for
    a memo hit); ``result()`` then gives the chart's objects in emit order and records the new
    resolutions in the memo (in the caller's thread: the resolver's reader thread only reads)."""

    def __init__(self, future: Future, memo: ChartMemo | None = None, chart_key: str = "",
                 keys: list[str] | None = None, known: dict[str, dict] | None = None):
        self.future = future
        self._memo, self._chart_key, self._keys, self._known = memo, chart_key, keys, known
        self._objects: list[dict] | None = None

    def result(self) -> list[dict]:
        if self._objects is None:
            resolved = self.future.result()
            if self._memo is None:
                self._objects = resolved
            else:
                missing_keys = [key for key in self._keys if key not in self._known]
                current = {key: self._known[key] for key in self._keys if key in self._known}
                current |= dict(zip(missing_keys, resolved))
                self._memo.put(self._chart_key, current)
                self._objects = [current[key] for key in self._keys]
        return self._objects


def _finished(objects: list[dict]) -> Future:
    future: Future = Future()
    future.set_result(objects)
    return future


def submit_charts(charts: list[PendingChart]) -> list[Resolution]:
    """Start resolving ``charts``: memo hits are finished at once, every miss goes to cdk8s now.

    A chart's misses go to cdk8s as one chart of just those bodies (each object resolves on its
    own, see ChartMemo). Submitting every chart before waiting for any lets resolver processes work
    in parallel, and lets the caller turn finished charts into files while cdk8s works on the rest.
    """
    memo, submit = _MEMO, _SUBMIT or _resolve_here
    resolutions = []
    for chart in charts:
        if memo is None:
            resolutions.append(Resolution(submit(chart.id, chart.bodies)))
            continue
        chart_key = memo.chart_key(chart.id)
        known = memo.get(chart_key)
        keys = [memo.body_key(body) for body in chart.bodies]
        missing = [i for i, key in enumerate(keys) if key not in known]
        memo.count(reused=len(keys) - len(missing), resolved=len(missing))
        if not missing:
            resolutions.append(Resolution(_finished([known[key] for key in keys])))
        else:
            future = submit(chart.id, [chart.bodies[i] for i in missing])
            resolutions.append(Resolution(future, memo, chart_key, keys, known))
    return resolutions


def resolve_charts(charts: list[PendingChart]) -> list[list[dict]]:
    """cdk8s's objects for each chart, in order (``submit_charts``, then wait for all)."""
    return [resolution.result() for resolution in submit_charts(charts)]


def emit(chart: PendingChart, body: dict) -> None:
    """Add ``body`` (a complete Kubernetes object) to ``chart``."""
    chart.bodies.append(body)


def chart_id(*parts: str) -> str:
    """A chart's id from its parts, e.g. ``chart_id("prod", "component", "web")``.

    Dot-separated: environment and component names are DNS labels, which have no dots, so two
    different charts never share an id (the chart memo keeps one file per id; a shared one only
    costs speed, as both charts keep replacing it, but "prod-eu"+"web" and "prod"+"eu-web", or a
    component named "argocd", would otherwise do exactly that).
    """
    return ".".join(parts)


def new_chart(chart_id: str) -> PendingChart:
    return PendingChart(chart_id)
