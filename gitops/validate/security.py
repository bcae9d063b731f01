"""Security checks on the rendered output (SEC rules): what the loader refuses in the inputs, caught
again in dist/ and argocd/ so a hand-edited or tampered tree cannot slip past review.

- SEC001: nothing of an environment lands in a reserved namespace (gitops/inputs/namespaces.py):
  objects of dist/<env>/, and the Applications/AppProjects that sync dist/ (the add-on
  Applications install into their own namespaces on purpose and are not concerned).
- SEC002: no ConfigMap value that looks like a credential (gitops/inputs/secretscan.py).
- SEC003: no object larger than the API server stores. Objects are sent as JSON; the API
  server refuses ConfigMaps and Secrets whose data exceeds 1 MiB (corev1.MaxSecretSize,
  kubernetes/kubernetes pkg/apis/core/validation/validation.go; "The data stored in a ConfigMap
  cannot exceed 1 MiB", https://kubernetes.io/docs/concepts/configuration/configmap/) and etcd
  any request over 1.5 MiB (--max-request-bytes, https://etcd.io/docs/v3.5/dev-guide/limit/).
  Argo CD applies with ServerSideApply=true here (charts/argocd.py), so no
  last-applied-configuration annotation doubles the size; 1 MiB is the limit used for every object.
"""
from __future__ import annotations

import json
from typing import Iterator

from ..inputs.namespaces import reserved_namespaces
from ..inputs.secretscan import RULE_ID as SECRET_RULE, looks_secret
from .documents import Doc
from .findings import Hit

MAX_OBJECT_BYTES = 1024 * 1024


def check_security(dist_docs: list[Doc], argo_docs: list[Doc]) -> Iterator[Hit]:
    for doc in dist_docs:
        yield from _dist_namespace(doc)
        if doc.kind == "ConfigMap" and doc.api_version == "v1":
            yield from _configmap_secrets(doc)
    for doc in dist_docs + argo_docs:
        yield from _object_size(doc)
    yield from _argocd_namespaces(argo_docs)


def _reserved_hit(doc: Doc, path: tuple, namespace: str, what: str) -> Hit:
    return Hit("SEC001", doc, path, f"{what} the reserved namespace {namespace!r}",
               "give the environment a namespace of its own (environments/<env>.yaml namespace) and re-run "
               "`gitops synth`; reserved: " + ", ".join(sorted(reserved_namespaces())))


def _dist_namespace(doc: Doc) -> Iterator[Hit]:
    reserved = reserved_namespaces()
    if doc.kind == "Namespace" and doc.api_version == "v1" and doc.name in reserved:
        yield _reserved_hit(doc, ("metadata", "name"), doc.name, "dist/ manages")
    elif doc.namespace in reserved:
        yield _reserved_hit(doc, ("metadata", "namespace"), doc.namespace, f"{doc.kind} {doc.name} is deployed into")


def _sources(spec: dict) -> list[dict]:
    sources = [spec.get("source")] + list(spec.get("sources") or [])
    return [s for s in sources if isinstance(s, dict)]


def _argocd_namespaces(argo_docs: list[Doc]) -> Iterator[Hit]:
    """Applications syncing dist/ and the AppProjects they use must not reach a reserved namespace."""
    reserved = reserved_namespaces()
    projects: set[str] = set()
    for doc in argo_docs:
        spec = doc.data.get("spec") if isinstance(doc.data.get("spec"), dict) else {}
        if doc.kind != "Application" or not any(str(s.get("path", "")).startswith("dist/") for s in _sources(spec)):
            continue
        projects.add(str(spec.get("project", "")))
        namespace = (spec.get("destination") or {}).get("namespace")
        if namespace in reserved:
            yield _reserved_hit(doc, ("spec", "destination", "namespace"), namespace, f"Application {doc.name} syncs dist/ into")
    for doc in argo_docs:
        if doc.kind != "AppProject" or doc.name not in projects:
            continue
        for i, dest in enumerate((doc.data.get("spec") or {}).get("destinations") or []):
            namespace = dest.get("namespace") if isinstance(dest, dict) else None
            if namespace in reserved:
                yield _reserved_hit(doc, ("spec", "destinations", i, "namespace"), namespace,
                                    f"AppProject {doc.name} (used by Applications syncing dist/) permits")


def _configmap_secrets(doc: Doc) -> Iterator[Hit]:
    data = doc.data.get("data")
    for key, value in (data.items() if isinstance(data, dict) else ()):
        why = looks_secret(str(key), value) if isinstance(value, str) else None
        if why:
            yield Hit(SECRET_RULE, doc, ("data", key), f"ConfigMap {doc.name} key {key}: {why}",
                      "declare the variable secret: true in the inventory (the value then comes from the secret store), "
                      f"or, if it truly is not secret, waive it on the inventory variable (waivers: {{{SECRET_RULE}: <reason>}})")


def _object_size(doc: Doc) -> Iterator[Hit]:
    size = len(json.dumps(doc.data, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8"))
    if size > MAX_OBJECT_BYTES:
        yield Hit("SEC003", doc, (), f"{doc.kind} {doc.name} is {size} bytes as JSON; the API server stores at most "
                                     f"{MAX_OBJECT_BYTES} (1 MiB)",
                  "shrink the inputs it is built from (long descriptions, settings, dashboards) or split the object")
