"""Secret and ConfigMap references (XRF004-006, XRF017): every name a pod mounts or reads exists in its
namespace, made by a Secret, ExternalSecret, SealedSecret, cert-manager Certificate or ingress-shim, with the keys read.
"""
from __future__ import annotations

import difflib
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterator

from ..documents import Doc
from ..envset import EnvSet, Workload
from ..findings import Hit
from ..k8s import dig


CERT_MANAGER_ANNOTATIONS = ("cert-manager.io/cluster-issuer", "cert-manager.io/issuer")
TLS_KEYS = frozenset({"tls.crt", "tls.key", "ca.crt"})


@dataclass
class Created:
    """Something that makes a Secret or ConfigMap exist in a namespace."""

    doc: Doc
    name: str
    keys: frozenset | None   # None: unknown (dataFrom, templates from elsewhere)
    type: str | None = None


def secret_creators(es: EnvSet) -> dict[tuple, list[Created]]:
    if "secrets" in es.cache:
        return es.cache["secrets"]
    out: dict[tuple, list[Created]] = es.cache.setdefault("secrets", defaultdict(list))
    for d in es.docs:
        ns, kind, data = d.namespace, d.kind, d.data
        spec = data.get("spec") or {}
        if kind == "ExternalSecret" and d.group == "external-secrets.io":
            target = spec.get("target") or {}
            name = target.get("name") or d.name
            template = target.get("template") or {}
            keys: set | None = {x.get("secretKey") for x in spec.get("data") or [] if isinstance(x, dict)}
            if spec.get("dataFrom") or template.get("templateFrom"):
                keys = None
            if keys is not None and template.get("data"):
                tkeys = set(template["data"])
                keys = tkeys | keys if template.get("mergePolicy") == "Merge" else tkeys
            out[(ns, name)].append(Created(d, name, frozenset(keys) if keys is not None else None, template.get("type")))
        elif kind == "SealedSecret" and d.group == "bitnami.com":
            template = spec.get("template") or {}
            name = dig(template, "metadata", "name") or d.name
            keys = set(spec.get("encryptedData") or {}) | set(template.get("data") or {})
            out[(ns, name)].append(Created(d, name, frozenset(keys), template.get("type")))
        elif kind == "Secret" and d.api_version == "v1":
            keys = set(data.get("data") or {}) | set(data.get("stringData") or {})
            out[(ns, d.name)].append(Created(d, d.name, frozenset(keys), data.get("type")))
        elif kind == "Certificate" and d.group == "cert-manager.io" and spec.get("secretName"):
            out[(ns, spec["secretName"])].append(Created(d, spec["secretName"], TLS_KEYS, "kubernetes.io/tls"))
        elif kind == "Ingress" and any(a in d.annotations for a in CERT_MANAGER_ANNOTATIONS):
            # cert-manager's ingress-shim creates a Certificate (and so the secret) for each TLS entry.
            for tls in spec.get("tls") or []:
                if isinstance(tls, dict) and tls.get("secretName"):
                    out[(ns, tls["secretName"])].append(Created(d, tls["secretName"], TLS_KEYS, "kubernetes.io/tls"))
    return out


def configmap_creators(es: EnvSet) -> dict[tuple, list[Created]]:
    if "configmaps" in es.cache:
        return es.cache["configmaps"]
    out: dict[tuple, list[Created]] = es.cache.setdefault("configmaps", defaultdict(list))
    for d in es.kind("ConfigMap"):
        keys = set(d.data.get("data") or {}) | set(d.data.get("binaryData") or {})
        out[(d.namespace, d.name)].append(Created(d, d.name, frozenset(keys)))
    return out


@dataclass
class Ref:
    doc: Doc
    path: tuple
    kind: str          # "Secret" | "ConfigMap"
    name: str
    key: str | None
    optional: bool
    how: str           # human description: "env DATABASE_URL (secretKeyRef)"


def pod_refs(w: Workload) -> Iterator[Ref]:
    doc, spec = w.doc, w.pod.spec
    for c in w.pod.containers():
        for i, e in enumerate(c.spec.get("env") or []):
            if not isinstance(e, dict):
                continue
            vf = e.get("valueFrom") or {}
            for field, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
                ref = vf.get(field)
                if isinstance(ref, dict) and ref.get("name"):
                    yield Ref(doc, c.path + ("env", i, "valueFrom", field), kind, ref["name"], ref.get("key"),
                              bool(ref.get("optional")), f"container {c.name!r} env {e.get('name')} ({field})")
        for i, ef in enumerate(c.spec.get("envFrom") or []):
            if not isinstance(ef, dict):
                continue
            for field, kind in (("secretRef", "Secret"), ("configMapRef", "ConfigMap")):
                ref = ef.get(field)
                if isinstance(ref, dict) and ref.get("name"):
                    yield Ref(doc, c.path + ("envFrom", i, field), kind, ref["name"], None,
                              bool(ref.get("optional")), f"container {c.name!r} envFrom ({field})")
    for i, v in enumerate(spec.get("volumes") or []):
        if not isinstance(v, dict):
            continue
        vpath = w.pod.spec_path + ("volumes", i)
        if isinstance(v.get("secret"), dict) and v["secret"].get("secretName"):
            s = v["secret"]
            for key in [it.get("key") for it in s.get("items") or [] if isinstance(it, dict)] or [None]:
                yield Ref(doc, vpath + ("secret",), "Secret", s["secretName"], key, bool(s.get("optional")), f"volume {v.get('name')}")
        if isinstance(v.get("configMap"), dict) and v["configMap"].get("name"):
            s = v["configMap"]
            for key in [it.get("key") for it in s.get("items") or [] if isinstance(it, dict)] or [None]:
                yield Ref(doc, vpath + ("configMap",), "ConfigMap", s["name"], key, bool(s.get("optional")), f"volume {v.get('name')}")
        for j, src in enumerate(dig(v, "projected", "sources") or []):
            for field, kind in (("secret", "Secret"), ("configMap", "ConfigMap")):
                s = src.get(field) if isinstance(src, dict) else None
                if isinstance(s, dict) and s.get("name"):
                    for key in [it.get("key") for it in s.get("items") or [] if isinstance(it, dict)] or [None]:
                        yield Ref(doc, vpath + ("projected", "sources", j, field), kind, s["name"], key,
                                  bool(s.get("optional")), f"projected volume {v.get('name')}")


# Kinds that create secrets or cannot point at one: not scanned for references.
_NO_SECRET_REFS = frozenset({"ExternalSecret", "SealedSecret", "Secret", "ConfigMap", "PrometheusRule", "Namespace",
                             "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy", "Service",
                             "LimitRange", "ResourceQuota", "VerticalPodAutoscaler"})


def _secret_names_mentioned(es: EnvSet) -> set[tuple]:
    """(namespace, name) of every Secret any object points at, by any field (generic scan)."""
    seen: set[tuple] = set()

    def walk(obj, ns, parent_key=""):
        if isinstance(obj, dict):
            for k, v in obj.items():
                if isinstance(v, str) and (k == "secretName" or (k == "name" and parent_key.lower().endswith("secretref"))
                                           or (k == "name" and parent_key in ("secretKeyRef", "imagePullSecrets", "secrets"))):
                    seen.add((ns, v))
                    seen.add((obj.get("namespace", ns), v))
                walk(v, ns, k)
        elif isinstance(obj, list):
            for v in obj:
                walk(v, ns, parent_key)

    for d in es.docs:
        if d.kind in _NO_SECRET_REFS:
            continue
        walk(d.data.get("spec"), d.namespace)
        if d.kind == "ServiceAccount":
            walk({"imagePullSecrets": d.data.get("imagePullSecrets") or [], "secrets": d.data.get("secrets") or []}, d.namespace)
    return seen


def _close(name: str, candidates) -> str:
    match = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def check_refs(es: EnvSet) -> Iterator[Hit]:
    """XRF004 secrets, XRF006 config maps, XRF005 secrets nobody uses, XRF017 pull secrets."""
    secrets, configmaps = secret_creators(es), configmap_creators(es)
    for w in es.workloads:
        ns = w.namespace
        for ref in pod_refs(w):
            table, rule = (secrets, "XRF004") if ref.kind == "Secret" else (configmaps, "XRF006")
            created = table.get((ns, ref.name))
            if not created:
                if ref.optional:
                    continue
                names = [n for (n_ns, n) in table if n_ns == ns]
                yield Hit(rule, ref.doc, ref.path, f"{ref.how} references {ref.kind} {ref.name}, which nothing creates in "
                          f"{ns}{_close(ref.name, names)}",
                          f"create {ref.kind} {ref.name} (an ExternalSecret/SealedSecret target or a ConfigMap) or fix the reference"
                          if ref.kind == "Secret" else f"create ConfigMap {ref.name} or fix the reference")
                continue
            if ref.key is not None and not ref.optional:
                known = [c for c in created if c.keys is not None]
                if known and len(known) == len(created) and not any(ref.key in c.keys for c in known):
                    keys = sorted(set().union(*(c.keys for c in known)))
                    yield Hit(rule, ref.doc, ref.path,
                              f"{ref.how} needs key {ref.key} of {ref.kind} {ref.name}, which has only {', '.join(keys) or 'no keys'}"
                              f"{_close(ref.key, keys)}",
                              f"add {ref.key} to {created[0].doc.ref} or fix the key", [c.doc for c in created])
        for i, ps in enumerate(w.pod.spec.get("imagePullSecrets") or []):
            name = ps.get("name") if isinstance(ps, dict) else None
            if name and not secrets.get((ns, name)):
                yield Hit("XRF017", w.doc, w.pod.spec_path + ("imagePullSecrets", i),
                          f"imagePullSecret {name} is not created in {ns}", f"create {name} (ExternalSecret of type "
                          "kubernetes.io/dockerconfigjson from the secret store) or fix the name")
    for sa in es.kind("ServiceAccount"):
        for i, ps in enumerate(sa.data.get("imagePullSecrets") or []):
            name = ps.get("name") if isinstance(ps, dict) else None
            if name and not secrets.get((sa.namespace, name)):
                yield Hit("XRF017", sa, ("imagePullSecrets", i), f"imagePullSecret {name} is not created in {sa.namespace}",
                          f"create {name} or remove it from the ServiceAccount")
    mentioned = _secret_names_mentioned(es)
    for (ns, name), created in sorted(secrets.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])):
        for c in created:
            if c.doc.kind not in ("ExternalSecret", "SealedSecret", "Secret"):
                continue
            if (ns, name) not in mentioned:
                yield Hit("XRF005", c.doc, ("metadata", "name"), f"{c.doc.kind} {c.doc.name} creates Secret {name}, which nothing in "
                          f"{ns} references", "mount it (env secretKeyRef/envFrom) in the workload that needs it, or delete it")
