"""Cross-resource checks (XRF rules) over one environment's whole set of objects.

The inventory (gitops.inputs.load) is the source of truth for what the apps really do: the port
they listen on, their health endpoints, required env vars, dependencies and callers.
Objects are matched to inventory components by the label ``app.kubernetes.io/name``.
"""
from __future__ import annotations

import difflib
import ipaddress
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterator

import yaml

from .documents import Doc
from .envset import EnvSet, Workload
from .findings import Hit
from ..inputs.quantity import format_quantity, quantity_or_none
from .k8s import dig, port_matches, selector_matches

CERT_MANAGER_ANNOTATIONS = ("cert-manager.io/cluster-issuer", "cert-manager.io/issuer")
TLS_KEYS = frozenset({"tls.crt", "tls.key", "ca.crt"})
ADAPTER_APP = "prometheus-adapter"


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


def _main_container(w: Workload, component: str):
    containers = w.pod.containers(include_init=False)
    for c in containers:
        if c.name == component:
            return c
    return containers[0] if containers else None


def _inventory_containers(es: EnvSet):
    """(workload, its inventory component, its main container) for every workload the inventory knows."""
    for w in es.workloads:
        comp = es.component(w.component)
        if comp is None:
            continue
        c = _main_container(w, comp.name)
        if c is not None:
            yield w, comp, c


def _named_ports(w: Workload) -> dict[str, int]:
    out = {}
    for c in w.pod.containers():
        for p in c.ports():
            if p.get("name") and isinstance(p.get("containerPort"), int):
                out[p["name"]] = p["containerPort"]
    return out


def check_ports_and_probes(es: EnvSet) -> Iterator[Hit]:
    """XRF001 Service -> pods, XRF002 container port vs the app, XRF003 probes vs health endpoints."""
    for svc in es.kind("Service"):
        spec = svc.data.get("spec") or {}
        if spec.get("type") == "ExternalName" or not spec.get("selector"):
            continue
        selected = es.workloads_selected(spec["selector"], svc.namespace, map_selector=True)
        if not selected:
            yield Hit("XRF001", svc, ("spec", "selector"), f"Service {svc.name} selects no pods: no workload in "
                      f"{svc.namespace} has labels {spec['selector']}", "fix spec.selector to the workload's pod labels")
            continue
        for i, port in enumerate(spec.get("ports") or []):
            if not isinstance(port, dict):
                continue
            target = port.get("targetPort", port.get("port"))
            offered = []
            ok = False
            for w in selected:
                for c in w.pod.containers():
                    for p in c.ports():
                        offered.append(f"{p.get('name') or '-'}={p.get('containerPort')}")
                        if (isinstance(target, int) and p.get("containerPort") == target) or \
                                (isinstance(target, str) and (p.get("name") == target or str(p.get("containerPort")) == target)):
                            ok = True
            if not ok:
                yield Hit("XRF001", svc, ("spec", "ports", i, "targetPort" if "targetPort" in port else "port"),
                          f"Service {svc.name} port {port.get('port')} targets {target!r}, but the selected container(s) "
                          f"expose {', '.join(sorted(set(offered))) or 'no ports'}",
                          "point targetPort at the container port the app listens on (by name, e.g. http)",
                          [w.doc for w in selected])
    for w, comp, c in _inventory_containers(es):
        ports = [p.get("containerPort") for p in c.ports()]
        if comp.port and ports and comp.port not in ports:
            yield Hit("XRF002", w.doc, c.path + ("ports",),
                      f"container {c.name!r} declares port(s) {', '.join(map(str, ports))} but {comp.name} listens on "
                      f"{comp.port} ({comp.source_file or 'inventory'})",
                      f"set containerPort {comp.port} (the generator takes it from the inventory's port)")
        if comp.health is None:
            continue
        named = {p.get("name"): p.get("containerPort") for p in c.ports() if p.get("name")}
        expected = {"livenessProbe": (comp.health.liveness_path,), "readinessProbe": (comp.health.readiness_path,),
                    "startupProbe": (comp.health.startup, comp.health.liveness_path, comp.health.readiness_path)}
        for probe_name, paths in expected.items():
            probe = c.spec.get(probe_name)
            if not isinstance(probe, dict):
                continue
            handler = probe.get("httpGet") or probe.get("tcpSocket")
            if not isinstance(handler, dict):
                continue
            ppath = c.path + (probe_name, "httpGet" if "httpGet" in probe else "tcpSocket")
            if "httpGet" in probe and handler.get("path") not in paths:
                yield Hit("XRF003", w.doc, ppath + ("path",),
                          f"{probe_name} of {c.name!r} calls {handler.get('path')!r}, which {comp.name} does not serve "
                          f"(health endpoints: {', '.join(sorted({comp.health.liveness_path, comp.health.readiness_path}))})",
                          f"probe {paths[0]} (health in {comp.source_file or 'the inventory'})")
            port = handler.get("port")
            number = named.get(port, port) if isinstance(port, str) else port
            if comp.port and number != comp.port:
                yield Hit("XRF003", w.doc, ppath + ("port",),
                          f"{probe_name} of {c.name!r} calls port {port!r}"
                          + (f" (= {number})" if isinstance(port, str) and number is not None else " (no such container port)" if isinstance(port, str) else "")
                          + f", but {comp.name} listens on {comp.port}",
                          f"probe the app's port {comp.port} (by name: http)")


def check_required_env(es: EnvSet) -> Iterator[Hit]:
    """XRF007: every env var the inventory marks required reaches the component's main container."""
    secrets, configmaps = secret_creators(es), configmap_creators(es)
    for w, comp, c in _inventory_containers(es):
        provided: set[str] = {e.get("name") for e in c.spec.get("env") or [] if isinstance(e, dict)}
        unknown_source = False
        for ef in c.spec.get("envFrom") or []:
            if not isinstance(ef, dict):
                continue
            prefix = ef.get("prefix") or ""
            for field, table in (("configMapRef", configmaps), ("secretRef", secrets)):
                ref = ef.get(field)
                if not isinstance(ref, dict):
                    continue
                for created in table.get((w.namespace, ref.get("name")), []):
                    if created.keys is None:
                        unknown_source = True
                    else:
                        provided |= {prefix + k for k in created.keys}
        if unknown_source:
            continue
        missing = [e.name for e in comp.env if e.required and e.name not in provided]
        if missing:
            yield Hit("XRF007", w.doc, c.path, f"required env var(s) {', '.join(missing)} of {comp.name} do not reach container "
                      f"{c.name!r} (not in env, nor in any envFrom ConfigMap/Secret)",
                      f"give them a value (or a secret) in {comp.source_file or 'the inventory'} or in environments/{es.name}.yaml")


_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def host_problem(host: str, domain: str | None) -> str | None:
    if not isinstance(host, str) or not host:
        return "empty host"
    name = host[2:] if host.startswith("*.") else host
    if len(host) > 253:
        return f"host {host!r} is longer than 253 characters"
    labels = name.split(".")
    bad = [lab for lab in labels if len(lab) > 63 or not _DNS_LABEL.match(lab)]
    if bad or len(labels) < 2:
        return f"host {host!r} is not a valid DNS name (lowercase RFC 1123 labels separated by dots)"
    for a, b in zip(labels, labels[1:]):
        if a == b:
            return f"host {host!r} repeats the label {a!r} ({a}.{b})"
    if domain and not (name == domain or name.endswith("." + domain)):
        return f"host {host!r} is not under the environment's domain {domain!r}"
    return None


def check_ingress(es: EnvSet, hosts: dict) -> Iterator[Hit]:
    """XRF008 TLS, XRF009 host syntax; collects hosts into ``hosts`` for XRF010 across environments."""
    secrets = secret_creators(es)
    domain = es.env.domain if es.env else None
    for ing in es.kind("Ingress"):
        spec = ing.data.get("spec") or {}
        issued_by_shim = any(a in ing.annotations for a in CERT_MANAGER_ANNOTATIONS)
        tls_hosts: set[str] = set()
        for i, tls in enumerate(spec.get("tls") or []):
            if not isinstance(tls, dict):
                continue
            tls_hosts |= set(tls.get("hosts") or [])
            name = tls.get("secretName")
            if not name:
                yield Hit("XRF008", ing, ("spec", "tls", i), f"TLS entry {i} of Ingress {ing.name} has no secretName: the "
                          "controller serves its default certificate", "set secretName and the cert-manager.io/cluster-issuer annotation")
                continue
            creators = [c for c in secrets.get((ing.namespace, name), []) if c.doc is not ing]
            if not issued_by_shim and not creators:
                candidates = [n for (ns, n), cs in secrets.items() if ns == ing.namespace
                              and any(c.type == "kubernetes.io/tls" or "tls" in n for c in cs)]
                yield Hit("XRF008", ing, ("spec", "tls", i, "secretName"),
                          f"TLS secret {name} of Ingress {ing.name} is issued by nothing: no cert-manager annotation, no "
                          f"Certificate and no secret of that name in {ing.namespace}{_close(name, candidates)}",
                          f"add the annotation cert-manager.io/cluster-issuer (or a Certificate with secretName {name}), "
                          "or point secretName at the secret that exists",
                          [c.doc for (ns, n), cs in secrets.items() for c in cs if ns == ing.namespace and n in candidates][:3])
        for i, rule in enumerate(spec.get("rules") or []):
            host = rule.get("host") if isinstance(rule, dict) else None
            if host is None:
                continue
            problem = host_problem(host, domain)
            if problem:
                yield Hit("XRF009", ing, ("spec", "rules", i, "host"), problem,
                          f"use <subdomain>.{domain}" if domain else "use a valid DNS name")
            if spec.get("tls") is not None and host not in tls_hosts and not any(
                    h.startswith("*.") and host.endswith(h[1:]) for h in tls_hosts):
                yield Hit("XRF008", ing, ("spec", "rules", i, "host"), f"host {host} of Ingress {ing.name} is not covered by any TLS entry",
                          "add the host to spec.tls[].hosts")
            paths = [p.get("path", "/") for p in dig(rule, "http", "paths") or [] if isinstance(p, dict)] or ["/"]
            for p in paths:
                hosts.setdefault(host, []).append((es.name, ing, ("spec", "rules", i, "host"), p))


def check_hosts_unique(hosts: dict) -> Iterator[Hit]:
    """XRF010: a host belongs to one environment, and a host+path to one Ingress."""
    for host, uses in sorted(hosts.items()):
        envs = sorted({env for env, *_ in uses})
        if len(envs) > 1:
            first = uses[0]
            for env, ing, path, _ in uses[1:]:
                if env != first[0]:
                    yield Hit("XRF010", ing, path, f"host {host} is used in environments {', '.join(envs)}",
                              "give each environment its own host (<subdomain>.<environment domain>)", [first[1]], env=env)
            continue
        seen: dict[str, Doc] = {}
        for env, ing, path, p in uses:
            other = seen.get(p)
            if other is not None and other is not ing:
                yield Hit("XRF010", ing, path, f"host {host} path {p} is claimed by two Ingresses in {env}",
                          "keep one Ingress per host and path", [other], env=env)
            seen.setdefault(p, ing)


def _policy_selects(np: Doc, w: Workload) -> bool:
    return np.namespace == w.namespace and selector_matches(dig(np.data, "spec", "podSelector") or {}, w.pod.labels)


def _policy_types(np: Doc) -> set[str]:
    spec = np.data.get("spec") or {}
    types = spec.get("policyTypes")
    if types:
        return set(types)
    return {"Ingress"} | ({"Egress"} if "egress" in spec else set())


def namespace_labels(es: EnvSet, namespace: str | None) -> dict:
    """Labels of a namespace as the cluster sees them: the Namespace object's, plus kubernetes.io/metadata.name."""
    cache = es.cache.setdefault("ns-labels", {})
    if namespace not in cache:
        ns = es.find("Namespace", None, namespace or "")
        cache[namespace] = {**(ns.labels if ns is not None else {}), "kubernetes.io/metadata.name": namespace or ""}
    return cache[namespace]


def _peer_matches_pods(peer: dict, own_ns: str | None, target_ns: str | None, labels: dict, ns_labels: dict) -> bool:
    if "ipBlock" in peer:
        # Pod IPs are not known statically: only an allow-all block certainly reaches them.
        try:
            return ipaddress.ip_network(str((peer["ipBlock"] or {}).get("cidr")), strict=False).prefixlen == 0
        except ValueError:
            return False
    ns_sel = peer.get("namespaceSelector")
    if ns_sel is None:
        if target_ns != own_ns:
            return False
    elif ns_sel and not selector_matches(ns_sel, ns_labels):
        return False
    pod_sel = peer.get("podSelector")
    return pod_sel is None or selector_matches(pod_sel, labels)


def _peer_covers_cidr(peer: dict, cidr: str) -> bool:
    block = peer.get("ipBlock")
    if not isinstance(block, dict):
        return False
    try:
        net = ipaddress.ip_network(block.get("cidr", ""), strict=False)
        want = ipaddress.ip_network(cidr, strict=False)
        if not want.subnet_of(net):
            return False
        return not any(want.overlaps(ipaddress.ip_network(e, strict=False)) for e in block.get("except") or [])
    except (ValueError, TypeError):
        return False


def _policies_by_label(es: EnvSet) -> tuple[dict, list]:
    """NetworkPolicies indexed by one matchLabels pair of their podSelector (+ those without one)."""
    indexed: dict[tuple, list[Doc]] = defaultdict(list)
    broad: list[Doc] = []
    for np in es.kind("NetworkPolicy"):
        match = (dig(np.data, "spec", "podSelector") or {}).get("matchLabels") or {}
        if match:
            k, v = next(iter(match.items()))
            indexed[(np.namespace, k, v)].append(np)
        else:
            broad.append(np)
    return indexed, broad


def check_network(es: EnvSet) -> Iterator[Hit]:
    """XRF011 egress to declared dependencies, XRF012 DNS, XRF013 ingress from declared callers."""
    if es.env is None or es.platform is None:
        return
    indexed, broad = _policies_by_label(es)
    enabled = {c.name for c in es.platform.enabled_components(es.env)}
    for w in es.workloads:
        comp = es.component(w.component)
        if comp is None:
            continue
        candidates = broad + [np for k, v in w.pod.labels.items() for np in indexed.get((w.namespace, k, v), ())]
        seen: set[int] = set()
        selecting = []
        for np in sorted(candidates, key=lambda d: (d.file, d.index)):
            if id(np) not in seen and _policy_selects(np, w):
                seen.add(id(np))
                selecting.append(np)
        egress = [np for np in selecting if "Egress" in _policy_types(np)]
        if egress:
            rules = [(np, r) for np in egress for r in (dig(np.data, "spec", "egress") or []) if isinstance(r, dict)]
            blocked = [proto for proto in ("UDP", "TCP") if not any(port_matches(r.get("ports"), 53, proto) for _, r in rules)]
            if blocked:
                yield Hit("XRF012", w.doc, ("metadata", "name"), f"egress of {comp.name} does not allow DNS "
                          f"({', '.join('53/' + p for p in blocked)}); policies selecting it: {', '.join(np.name for np in egress)}",
                          "allow egress to kube-system kube-dns on 53/UDP and 53/TCP", egress)
            for dep in comp.dependencies:
                target = es.component(dep.name)
                if target is None:
                    continue
                if target.kind == "backing":
                    endpoint = es.env.backing_endpoint(dep.name)
                    if endpoint is None:
                        continue
                    ok = any(port_matches(r.get("ports"), endpoint.port, dep.protocol)
                             and (not r.get("to") or any(_peer_covers_cidr(p, endpoint.cidr) for p in r["to"] if isinstance(p, dict)))
                             for _, r in rules)
                    what = f"{dep.name} at {endpoint.cidr} port {endpoint.port}/{dep.protocol}"
                else:
                    if dep.name not in enabled:
                        continue
                    targets = es.component_workloads(dep.name)
                    if not targets:
                        continue
                    t = targets[0]
                    named = _named_ports(t)
                    ok = any(port_matches(r.get("ports"), dep.port, dep.protocol, named)
                             and (not r.get("to") or any(_peer_matches_pods(p, w.namespace, t.namespace, t.pod.labels, namespace_labels(es, t.namespace))
                                                         for p in r["to"] if isinstance(p, dict)))
                             for _, r in rules)
                    what = f"{dep.name} pods on port {dep.port}/{dep.protocol}"
                if not ok:
                    yield Hit("XRF011", w.doc, ("metadata", "name"),
                              f"{comp.name} depends on {what}, but no egress rule of {', '.join(np.name for np in egress)} allows it",
                              f"add an egress rule to {dep.name} on port {dep.port} (declared in {comp.source_file or 'the inventory'})",
                              egress)
        ingress = [np for np in selecting if "Ingress" in _policy_types(np)]
        if ingress and comp.port:
            rules = [r for np in ingress for r in (dig(np.data, "spec", "ingress") or []) if isinstance(r, dict)]
            named = _named_ports(w)
            for caller in es.callers_of(comp.name):
                callers = es.component_workloads(caller.name)
                if not callers:
                    continue
                k = callers[0]
                port = next((d.port for d in caller.dependencies if d.name == comp.name), comp.port)
                ok = any(port_matches(r.get("ports"), port, "TCP", named)
                         and (not r.get("from") or any(_peer_matches_pods(p, w.namespace, k.namespace, k.pod.labels, namespace_labels(es, k.namespace))
                                                       for p in r["from"] if isinstance(p, dict)))
                         for r in rules)
                if not ok:
                    yield Hit("XRF013", w.doc, ("metadata", "name"),
                              f"{caller.name} calls {comp.name} on port {port}, but no ingress rule of "
                              f"{', '.join(np.name for np in ingress)} admits it",
                              f"admit pods of {caller.name} on port {port} in {comp.name}'s NetworkPolicy",
                              ingress + [k.doc])


RESOURCES = ("requests.cpu", "requests.memory", "limits.cpu", "limits.memory")


def _pod_amounts(w: Workload, defaults: dict[str, Decimal]) -> dict[str, Decimal]:
    """Effective per-pod requests/limits: max(sum of containers, largest init container), LimitRange defaults filled in."""
    def container_amounts(c) -> dict[str, Decimal]:
        res = c.spec.get("resources") or {}
        out = {}
        for resource in ("cpu", "memory"):
            limit = quantity_or_none(dig(res, "limits", resource))
            if limit is None:
                limit = defaults.get(f"limits.{resource}")
            request = quantity_or_none(dig(res, "requests", resource))
            if request is None:
                request = limit if dig(res, "limits", resource) is not None else defaults.get(f"requests.{resource}")
            out[f"limits.{resource}"] = limit or Decimal(0)
            out[f"requests.{resource}"] = request or Decimal(0)
        return out

    regular = [container_amounts(c) for c in w.pod.containers() if not c.init or c.sidecar]
    init = [container_amounts(c) for c in w.pod.containers() if c.init and not c.sidecar]
    total = {r: sum((a[r] for a in regular), Decimal(0)) for r in RESOURCES}
    for r in RESOURCES:
        biggest_init = max((a[r] for a in init), default=Decimal(0))
        total[r] = max(total[r], biggest_init)
    return total


def check_quota(es: EnvSet) -> Iterator[Hit]:
    """XRF014: every workload at its maximum replica count fits the namespace's ResourceQuota."""
    for quota in es.kind("ResourceQuota"):
        hard = dig(quota.data, "spec", "hard") or {}
        ns = quota.namespace
        defaults: dict[str, Decimal] = {}
        for lr in es.kind("LimitRange"):
            if lr.namespace != ns:
                continue
            for item in dig(lr.data, "spec", "limits") or []:
                if isinstance(item, dict) and item.get("type") == "Container":
                    for resource in ("cpu", "memory"):
                        if (v := quantity_or_none(dig(item, "default", resource))) is not None:
                            defaults[f"limits.{resource}"] = v
                        if (v := quantity_or_none(dig(item, "defaultRequest", resource))) is not None:
                            defaults[f"requests.{resource}"] = v
        workloads = [w for w in es.workloads if w.namespace == ns]
        contributions = []
        for w in workloads:
            amounts = _pod_amounts(w, defaults)
            contributions.append((w, w.max_replicas, amounts))
        for key in RESOURCES + ("pods",):
            limit_key = key if key in hard else {"requests.cpu": "cpu", "requests.memory": "memory"}.get(key)
            if limit_key not in hard:
                continue
            limit = quantity_or_none(hard[limit_key])
            if limit is None:
                continue
            if key == "pods":
                parts = [(w, Decimal(n)) for w, n, _ in contributions]
            else:
                parts = [(w, a[key] * n) for w, n, a in contributions]
            total = sum((v for _, v in parts), Decimal(0))
            if total > limit:
                top = sorted(parts, key=lambda p: p[1], reverse=True)[:3]
                fmt = (lambda v: f"{v:f}") if key == "pods" else (lambda v: format_quantity(v, key))
                yield Hit("XRF014", quota, ("spec", "hard", limit_key),
                          f"at maximum replicas the workloads in {ns} need {key} {fmt(total)} but ResourceQuota {quota.name} "
                          f"allows {hard[limit_key]} (largest: "
                          + ", ".join(f"{w.doc.name} {fmt(v)} at {w.max_replicas} replica(s)" for w, v in top) + ")",
                          f"raise {limit_key} in environments/{es.name}.yaml quota, or lower limits/maximum replicas",
                          [w.doc for w, _ in top])


def adapter_rule_names(es: EnvSet) -> tuple[Doc | None, set[str], set[str]]:
    """(the prometheus-adapter Application, custom metric names, external metric names)."""
    app = next((d for d in es.argocd if d.kind == "Application" and d.name == ADAPTER_APP), None)
    custom: set[str] = set()
    external: set[str] = set()
    if app is None:
        return None, custom, external
    spec = app.data.get("spec") or {}
    sources = [spec.get("source")] + list(spec.get("sources") or [])
    for src in sources:
        helm = (src or {}).get("helm") or {}
        values = helm.get("valuesObject")
        if values is None and isinstance(helm.get("values"), str):
            try:
                values = yaml.load(helm["values"], Loader=yaml.CSafeLoader)
            except yaml.YAMLError:
                values = None
        rules = (values or {}).get("rules") if isinstance(values, dict) else None
        if not isinstance(rules, dict):
            continue
        for key, names in (("custom", custom), ("external", external)):
            for r in rules.get(key) or []:
                if not isinstance(r, dict):
                    continue
                name = dig(r, "name", "as")
                if name:
                    names.add(name)
                else:
                    series = re.match(r"^\s*([A-Za-z_:][A-Za-z0-9_:]*)", str(r.get("seriesQuery", "")))
                    if series:
                        names.add(series.group(1))
    return app, custom, external


def check_hpa(es: EnvSet) -> Iterator[Hit]:
    """XRF015 custom metrics served by the adapter, XRF018 scale targets exist."""
    app, custom, external = adapter_rule_names(es)
    for hpa in es.kind("HorizontalPodAutoscaler"):
        spec = hpa.data.get("spec") or {}
        ref = spec.get("scaleTargetRef") or {}
        if ref and es.find(ref.get("kind", ""), hpa.namespace, ref.get("name", "")) is None:
            yield Hit("XRF018", hpa, ("spec", "scaleTargetRef"),
                      f"HorizontalPodAutoscaler {hpa.name} scales {ref.get('kind')} {ref.get('name')}, which does not exist in {hpa.namespace}",
                      "point scaleTargetRef at the component's Deployment")
        for i, m in enumerate(spec.get("metrics") or []):
            mtype = m.get("type") if isinstance(m, dict) else None
            if mtype not in ("Pods", "Object", "External"):
                continue
            name = dig(m, mtype[0].lower() + mtype[1:], "metric", "name")
            served = external if mtype == "External" else custom
            if name and name not in served:
                where = (f"Application {ADAPTER_APP} (argocd/{es.name}/) has rules.{'external' if mtype == 'External' else 'custom'} "
                         f"for {', '.join(sorted(served)) or 'nothing'}" if app is not None
                         else f"no Application {ADAPTER_APP} in argocd/{es.name}/")
                yield Hit("XRF015", hpa, ("spec", "metrics", i), f"{mtype} metric {name} of HorizontalPodAutoscaler {hpa.name} "
                          f"has no Prometheus Adapter rule: {where}",
                          f"add a rule with name.as: {name} (gitops/generated/adapter.py generates them from the inventory's customMetrics)",
                          [app] if app is not None else [])


def check_service_monitors(es: EnvSet) -> Iterator[Hit]:
    """XRF016: ServiceMonitors select a Service that has the named port."""
    services_by_ns: dict = defaultdict(list)
    for s in es.kind("Service"):
        services_by_ns[s.namespace].append(s)
    for sm in es.kind("ServiceMonitor"):
        if sm.group != "monitoring.coreos.com":
            continue
        spec = sm.data.get("spec") or {}
        nsel = spec.get("namespaceSelector") or {}
        if nsel.get("any"):
            namespaces = None
        else:
            namespaces = set(nsel.get("matchNames") or [sm.namespace])
        selector = spec.get("selector") or {}
        pool = [s for ns in sorted(services_by_ns, key=str) if namespaces is None or ns in namespaces for s in services_by_ns[ns]]
        matched = [s for s in pool if selector_matches(selector, s.labels, empty_matches_all=True)]
        if not matched:
            yield Hit("XRF016", sm, ("spec", "selector"), f"ServiceMonitor {sm.name} selects no Service "
                      f"(selector {selector.get('matchLabels') or selector})", "match the component's Service labels")
            continue
        for i, ep in enumerate(spec.get("endpoints") or []):
            port = ep.get("port") if isinstance(ep, dict) else None
            if not port:
                continue
            names = {p.get("name") for s in matched for p in dig(s.data, "spec", "ports") or [] if isinstance(p, dict)}
            if port not in names:
                yield Hit("XRF016", sm, ("spec", "endpoints", i, "port"),
                          f"ServiceMonitor {sm.name} scrapes port {port!r} but Service(s) {', '.join(s.name for s in matched)} "
                          f"have port(s) {', '.join(sorted(n for n in names if n)) or 'without names'}",
                          "use the Service port's name (http)", matched)


def check_environment(es: EnvSet, hosts: dict) -> Iterator[Hit]:
    yield from check_ports_and_probes(es)
    yield from check_refs(es)
    yield from check_required_env(es)
    yield from check_ingress(es, hosts)
    yield from check_network(es)
    yield from check_quota(es)
    yield from check_hpa(es)
    yield from check_service_monitors(es)
