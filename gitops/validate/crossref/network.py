"""NetworkPolicies against the inventory's dependencies and callers (XRF011-013)."""
from __future__ import annotations

import ipaddress
from collections import defaultdict
from typing import Iterator

from ..documents import Doc
from ..envset import EnvSet, Workload
from ..findings import Hit
from ..k8s import dig, port_matches, selector_matches
from .containers import _named_ports


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
