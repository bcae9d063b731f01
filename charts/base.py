"""The one place where Python hands a resource to cdk8s (jsii -> Node).

Why resource bodies are built as Python dicts and handed over whole: every jsii
call is a synchronous round trip to Node (~0.4 ms here), so a typed construct tree
with one node per field costs far more than the YAML it produces. Concepts below are
therefore plain Python classes that emit one ``cdk8s.ApiObject`` per Kubernetes
object into their chart, and the chart resolves them all in a single ``to_json``.
"""
from __future__ import annotations

import os

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import cdk8s  # noqa: E402  (the env var above must be set before jsii starts Node)


def emit(chart: cdk8s.Chart, body: dict) -> None:
    """Add ``body`` (a complete Kubernetes object) to ``chart`` as one ApiObject.

    Construct ids are ``<kind>-<name>``: unique per chart and stable, so no
    hash suffix ever reaches an object name.
    """
    meta = body["metadata"]
    obj = cdk8s.ApiObject(
        chart, f"{body['kind']}-{meta['name']}",
        api_version=body["apiVersion"], kind=body["kind"], metadata=meta,
    )
    rest = [cdk8s.JsonPatch.add(f"/{key}", value) for key, value in body.items()
            if key not in ("apiVersion", "kind", "metadata")]
    if rest:
        obj.add_json_patch(*rest)


def new_chart(app: cdk8s.App, chart_id: str) -> cdk8s.Chart:
    # Names are explicit and human; cdk8s must never append hashes to them.
    return cdk8s.Chart(app, chart_id, disable_resource_name_hashes=True)
