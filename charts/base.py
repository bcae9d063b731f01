"""The one place where Python hands a resource to cdk8s (jsii -> Node).

Why resource bodies are built as Python dicts and handed over whole: every jsii
call is a synchronous round trip to Node (~0.4 ms here), so a typed construct tree
with one node per field costs far more than the YAML it produces. Concepts below are
therefore plain Python classes that emit one ``cdk8s.ApiObject`` per Kubernetes
object into their chart, and the chart resolves them all in a single ``to_json``.

``new_chart`` returns a ``PendingChart``: constructs ``emit`` into it exactly as into a
cdk8s Chart, and ``to_json()`` creates the cdk8s Chart and its ApiObjects in the App and
resolves them. With a ``ChartMemo`` configured (plain ``gitops synth``), a chart whose
bodies, id and generator code are byte-identical to one cdk8s resolved before is answered
from that earlier resolution instead of making the same jsii calls again; ``--no-cache``
and ``npx cdk8s synth`` configure none, so every object goes through cdk8s.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


def _cdk8s():
    """cdk8s, imported on first use: importing it starts Node, which a memo hit never needs.

    A synth worker imports it in a background thread as soon as it starts, so Node boots while
    the worker builds bodies; the first real need waits on Python's import lock until it is ready.
    """
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

    The key covers the generator fingerprint (code of gitops/ and charts/, the cdk8s and
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


class LazyApp:
    """A cdk8s App created when the first chart has to go through cdk8s (never, if all are memo hits)."""

    def __init__(self, **props):
        self.props = props
        self._app = None

    def real(self) -> "cdk8s.App":
        if self._app is None:
            self._app = _cdk8s().App(**self.props)
        return self._app


def new_app(**props) -> LazyApp:
    return LazyApp(**props)


class PendingChart:
    """What constructs emit into: the bodies of one chart, resolved through cdk8s by ``to_json``."""

    def __init__(self, app: "LazyApp | cdk8s.App", chart_id: str):
        self.app = app
        self.id = chart_id
        self.bodies: list[dict] = []

    def to_json(self) -> list[dict]:
        memo = _MEMO
        key = memo.key(self.id, self.bodies) if memo is not None else None
        if key is not None:
            hit = memo.get(key)
            if hit is not None:
                return hit
        # Names are explicit and human; cdk8s must never append hashes to them.
        app = self.app.real() if isinstance(self.app, LazyApp) else self.app
        chart = _cdk8s().Chart(app, self.id, disable_resource_name_hashes=True)
        for body in self.bodies:
            _emit_api_object(chart, body)
        objects = list(chart.to_json())
        if key is not None:
            memo.put(key, objects)
        return objects


def emit(chart: "PendingChart | cdk8s.Chart", body: dict) -> None:
    """Add ``body`` (a complete Kubernetes object) to ``chart``."""
    if isinstance(chart, PendingChart):
        chart.bodies.append(body)
    else:
        _emit_api_object(chart, body)


def new_chart(app: "LazyApp | cdk8s.App", chart_id: str) -> PendingChart:
    return PendingChart(app, chart_id)
