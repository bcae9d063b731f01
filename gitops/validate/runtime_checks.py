"""Checks that the platform works at run time, not only that its objects are valid (issue 13).

- XRF019 pods that operators create from the platform's configuration (cert-manager's ACME HTTP-01
  solvers, the pods of Jobs, CronJobs and sync hooks, every workload's pods) fit the namespace's
  LimitRange, and the solvers still fit the ResourceQuota when every workload is at its maximum.
- XRF020 probes and the metrics scrape call paths the app answers without credentials, and the
  app's auth-exempt path variables really list them.
- XRF021 liveness and startup probes never call an endpoint that depends on other services.
- XRF022 a ServiceMonitor only for components whose image serves metrics, on the declared path.
- XRF023 NetworkPolicy egress to IP blocks equals what the inventory declares: backing endpoints
  of its dependencies and its external egress, no more and no less.
"""
from __future__ import annotations

import ipaddress
from decimal import Decimal
from typing import Iterator

from ..inputs.model import PRIVATE_RANGES
from ..inputs.operator_pods import ACME_SOLVER_DEFAULTS
from ..inputs.quantity import format_quantity, quantity_or_none
from .crossref.containers import _inventory_containers
from .crossref.network import _policies_by_label, _policy_selects, _policy_types
from .crossref.quota import _pod_amounts
from .crossref.refs import CERT_MANAGER_ANNOTATIONS, configmap_creators
from .documents import Doc
from .envset import EnvSet, Workload
from .findings import Hit
from .k8s import dig, port_matches

QUOTA_KEYS = ("requests.cpu", "requests.memory", "limits.cpu", "limits.memory")


# --- XRF019 -----------------------------------------------------------------------------------

def _limit_ranges(es: EnvSet) -> dict:
    """namespace -> (LimitRange doc, {"min": {cpu, memory}, "max": {...}, "default": {...}, "defaultRequest": {...}})."""
    out = {}
    for lr in es.kind("LimitRange"):
        for item in dig(lr.data, "spec", "limits") or []:
            if isinstance(item, dict) and item.get("type") == "Container":
                out[lr.namespace] = (lr, {k: {r: quantity_or_none(dig(item, k, r)) for r in ("cpu", "memory")}
                                          for k in ("min", "max", "default", "defaultRequest")})
    return out


def _effective(resources: dict, bounds: dict) -> dict[str, Decimal | None]:
    """requests/limits after the LimitRange defaults (admission fills missing values the same way)."""
    out = {}
    for r in ("cpu", "memory"):
        limit = quantity_or_none(dig(resources, "limits", r))
        if limit is None:
            limit = bounds["default"][r]
        request = quantity_or_none(dig(resources, "requests", r))
        if request is None:
            request = quantity_or_none(dig(resources, "limits", r)) if dig(resources, "limits", r) is not None else bounds["defaultRequest"][r]
        out[f"requests.{r}"], out[f"limits.{r}"] = request, limit
    return out


def _limit_range_violations(amounts: dict, bounds: dict) -> list[str]:
    out = []
    for key, value in amounts.items():
        if value is None:
            continue
        resource = key.split(".")[1]
        low, high = bounds["min"][resource], bounds["max"][resource]
        if low is not None and value < low:
            out.append(f"{key} {format_quantity(value, key)} < min {format_quantity(low, key)}")
        if high is not None and value > high:
            out.append(f"{key} {format_quantity(value, key)} > max {format_quantity(high, key)}")
    return out


def _issuers(es: EnvSet) -> dict[str, Doc]:
    return {d.name: d for d in es.argocd if d.kind == "ClusterIssuer" and d.group == "cert-manager.io"}


def acme_solvers(es: EnvSet) -> Iterator[tuple[Doc, tuple, dict, str, int]]:
    """(issuer, path of the solver's resources, resources, namespace, concurrent solver pods) per namespace using it.

    cert-manager runs one solver pod per pending challenge, i.e. per DNS name of the Ingresses that
    name the issuer in the namespace (all of them at once on the first issuance).
    """
    issuers = _issuers(es)
    hosts: dict[tuple[str, str | None], set[str]] = {}
    for ing in es.kind("Ingress"):
        name = next((ing.annotations[a] for a in CERT_MANAGER_ANNOTATIONS if a in ing.annotations), None)
        if name in issuers:
            names = {h for t in dig(ing.data, "spec", "tls") or [] if isinstance(t, dict) for h in t.get("hosts") or []}
            hosts.setdefault((name, ing.namespace), set()).update(names)
    for (name, namespace), names in sorted(hosts.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        issuer = issuers[name]
        for i, solver in enumerate(dig(issuer.data, "spec", "acme", "solvers") or []):
            ingress = dig(solver, "http01", "ingress") if isinstance(solver, dict) else None
            if not isinstance(ingress, dict):
                continue
            path = ("spec", "acme", "solvers", i, "http01", "ingress", "podTemplate", "spec", "resources")
            resources = dig(ingress, "podTemplate", "spec", "resources")
            yield issuer, path, resources if isinstance(resources, dict) else ACME_SOLVER_DEFAULTS, namespace, len(names)


def check_operator_pods(es: EnvSet) -> Iterator[Hit]:
    """XRF019: operator-created pods fit the namespace's LimitRange and (solvers) its ResourceQuota."""
    ranges = _limit_ranges(es)
    for w in es.workloads:
        if w.namespace not in ranges:
            continue
        lr, bounds = ranges[w.namespace]
        for c in w.pod.containers():
            bad = _limit_range_violations(_effective(c.spec.get("resources") or {}, bounds), bounds)
            if bad:
                yield Hit("XRF019", w.doc, c.path + ("resources",),
                          f"the {w.doc.kind} controller creates pods whose container {c.name!r} the LimitRange {lr.name} of "
                          f"{w.namespace} rejects: {'; '.join(bad)}",
                          f"size the container within the LimitRange (environments/{es.name}.yaml limitRange)", [lr])
    solvers = list(acme_solvers(es))
    for issuer, path, resources, namespace, count in solvers:
        if namespace not in ranges:
            continue
        lr, bounds = ranges[namespace]
        bad = _limit_range_violations(_effective(resources, bounds), bounds)
        if bad:
            default = " (cert-manager's defaults: no podTemplate resources)" if resources is ACME_SOLVER_DEFAULTS else ""
            yield Hit("XRF019", issuer, path if resources is not ACME_SOLVER_DEFAULTS else path[:-3],
                      f"cert-manager creates ACME HTTP-01 solver pods for ClusterIssuer {issuer.name} in {namespace}{default}, "
                      f"which the LimitRange {lr.name} rejects: {'; '.join(bad)}; the challenges never complete and no "
                      "certificate is issued",
                      "set podTemplate.spec.resources of the http01 solver within the LimitRange (charts/addons.py "
                      "acme_solver_resources)", [lr])
    yield from _solvers_within_quota(es, ranges, solvers)


def _solvers_within_quota(es: EnvSet, ranges: dict, solvers: list) -> Iterator[Hit]:
    for quota in es.kind("ResourceQuota"):
        ns = quota.namespace
        mine = [s for s in solvers if s[3] == ns]
        if not mine:
            continue
        hard = dig(quota.data, "spec", "hard") or {}
        bounds = ranges.get(ns, (None, {k: {"cpu": None, "memory": None} for k in ("min", "max", "default", "defaultRequest")}))[1]
        defaults = {f"limits.{r}": bounds["default"][r] for r in ("cpu", "memory") if bounds["default"][r] is not None}
        defaults.update({f"requests.{r}": bounds["defaultRequest"][r] for r in ("cpu", "memory") if bounds["defaultRequest"][r] is not None})
        used = {k: Decimal(0) for k in QUOTA_KEYS + ("pods",)}
        for w in es.workloads:
            if w.namespace != ns:
                continue
            amounts = _pod_amounts(w, defaults)
            for k in QUOTA_KEYS:
                used[k] += amounts[k] * w.max_replicas
            used["pods"] += w.max_replicas
        # Only the largest issuer's solvers count: Ingresses of one namespace name one issuer at a time.
        issuer, _, resources, _, count = max(mine, key=lambda s: s[4])
        need = {k: (v or Decimal(0)) * count for k, v in _effective(resources, bounds).items()}
        need["pods"] = Decimal(count)
        for key in QUOTA_KEYS + ("pods",):
            if key not in hard or (limit := quantity_or_none(hard[key])) is None:
                continue
            # Workloads alone over the quota are XRF014's finding; this one is about the solvers tipping it over.
            if used[key] <= limit < used[key] + need[key]:
                fmt = (lambda v: f"{v:f}") if key == "pods" else (lambda v: format_quantity(v, key))
                yield Hit("XRF019", quota, ("spec", "hard", key),
                          f"with every workload of {ns} at its maximum ({key} {fmt(used[key])}) the {count} ACME solver pod(s) of "
                          f"ClusterIssuer {issuer.name} need {fmt(need[key])} more, but ResourceQuota {quota.name} allows {hard[key]}: "
                          "certificates cannot be issued or renewed at peak",
                          f"raise {key} in environments/{es.name}.yaml quota or lower the maxima", [issuer])


# --- XRF020 / XRF021 --------------------------------------------------------------------------

PROBES = ("livenessProbe", "readinessProbe", "startupProbe")


def _container_env(es: EnvSet, w: Workload, c) -> dict[str, str]:
    """Plain values of the container's env: literal env entries and envFrom ConfigMaps (no prefix)."""
    values: dict[str, str] = {}
    configmaps = configmap_creators(es)
    for ef in c.spec.get("envFrom") or []:
        ref = ef.get("configMapRef") if isinstance(ef, dict) else None
        if isinstance(ref, dict):
            for created in configmaps.get((w.namespace, ref.get("name")), []):
                data = created.doc.data.get("data") or {}
                values.update({(ef.get("prefix") or "") + k: v for k, v in data.items() if isinstance(v, str)})
    for e in c.spec.get("env") or []:
        if isinstance(e, dict) and isinstance(e.get("value"), str):
            values[e["name"]] = e["value"]
    return values


def _scrape_paths(es: EnvSet, component: str) -> list[tuple[Doc, tuple, str]]:
    out = []
    for sm in es.kind("ServiceMonitor"):
        if sm.labels.get("app.kubernetes.io/name") != component:
            continue
        for i, ep in enumerate(dig(sm.data, "spec", "endpoints") or []):
            if isinstance(ep, dict):
                out.append((sm, ("spec", "endpoints", i, "path"), ep.get("path") or "/metrics"))
    return out


def check_probe_paths(es: EnvSet) -> Iterator[Hit]:
    """XRF020 probe/scrape paths reachable without credentials, XRF021 liveness independent of other services."""
    for w, comp, c in _inventory_containers(es):
        probes = [(p, c.spec[p]["httpGet"].get("path")) for p in PROBES
                  if isinstance(c.spec.get(p), dict) and isinstance(c.spec[p].get("httpGet"), dict)]
        if comp.health:
            for probe, path in probes:
                if probe != "readinessProbe" and path in comp.health.aggregating_paths:
                    yield Hit("XRF021", w.doc, c.path + (probe, "httpGet", "path"),
                              f"{probe} of {comp.name} calls {path}, which answers for other services too ({comp.source_file}: "
                              "health.aggregates): one backend outage restarts every pod of this component",
                              f"probe an endpoint that checks only the process ({comp.health.liveness_path} in the inventory)")
        auth = comp.unauthenticated
        if auth is None:
            continue
        env = _container_env(es, w, c)
        calls = [(w.doc, c.path + (p, "httpGet", "path"), path, p) for p, path in probes]
        calls += [(sm, p, path, "ServiceMonitor") for sm, p, path in _scrape_paths(es, comp.name)]
        for doc, path_in_doc, path, who in calls:
            if path not in auth.paths:
                yield Hit("XRF020", doc, path_in_doc,
                          f"{who} of {comp.name} calls {path}, which is not among its unauthenticated paths "
                          f"({', '.join(auth.paths)}): the kubelet and Prometheus send no credentials and get 401",
                          f"call one of the declared paths or add {path} to unauthenticated/paths in {comp.source_file}")
                continue
            for var in auth.exempt_paths_env:
                listed = [p.strip() for p in env.get(var, "").split(",") if p.strip()]
                if path not in listed:
                    yield Hit("XRF020", w.doc, c.path + ("envFrom",),
                              f"{who} of {comp.name} calls {path}, but the container's {var} "
                              f"({env.get(var, 'unset: the app exempts only its default')!s}) does not list it: the app answers 401",
                              f"set {var} to the unauthenticated paths (the generator writes it from {comp.source_file})")


# --- XRF022 -----------------------------------------------------------------------------------

def check_service_monitor_sources(es: EnvSet) -> Iterator[Hit]:
    """XRF022: ServiceMonitors only where the inventory says the image serves metrics, on that path."""
    for sm in es.kind("ServiceMonitor"):
        comp = es.component(sm.labels.get("app.kubernetes.io/name"))
        if comp is None:
            continue
        if comp.metrics is None:
            yield Hit("XRF022", sm, ("spec", "endpoints"),
                      f"ServiceMonitor {sm.name} scrapes {comp.name}, whose image serves no metrics ({comp.source_file} declares "
                      "no metrics:): the target is down forever and TargetDown fires",
                      f"delete the ServiceMonitor, or declare metrics: in {comp.source_file} once the image serves them")
            continue
        for doc, path, served in _scrape_paths(es, comp.name):
            if doc is sm and served != comp.metrics.path:
                yield Hit("XRF022", sm, path, f"ServiceMonitor {sm.name} scrapes {served}, but {comp.name} serves metrics on "
                          f"{comp.metrics.path}", f"scrape {comp.metrics.path}")


# --- XRF023 -----------------------------------------------------------------------------------

def _private_only(excepts) -> bool:
    private = [ipaddress.ip_network(r) for r in PRIVATE_RANGES]
    try:
        return all(any(ipaddress.ip_network(e, strict=False).subnet_of(p) for p in private) for e in excepts or [])
    except (TypeError, ValueError):
        return False


def _block_covers(block: dict, cidr: str) -> bool:
    try:
        return ipaddress.ip_network(cidr, strict=False).subnet_of(ipaddress.ip_network(block.get("cidr"), strict=False))
    except (TypeError, ValueError):
        return False


def check_declared_egress(es: EnvSet) -> Iterator[Hit]:
    """XRF023: IP-block egress equals the declared backing endpoints and external egress."""
    if es.env is None:
        return
    indexed, broad = _policies_by_label(es)
    for w in es.workloads:
        comp = es.component(w.component)
        if comp is None:
            continue
        candidates = broad + [np for k, v in w.pod.labels.items() for np in indexed.get((w.namespace, k, v), ())]
        egress = []
        for np in sorted({id(n): n for n in candidates}.values(), key=lambda d: (d.file, d.index)):
            if _policy_selects(np, w) and "Egress" in _policy_types(np):
                egress.append(np)
        if not egress:
            continue
        declared: list[tuple[str, int, str, str]] = []   # (cidr, port, protocol, what)
        for dep in comp.dependencies:
            target = es.component(dep.name)
            endpoint = es.env.backing_endpoint(dep.name) if target is not None and target.kind == "backing" else None
            if endpoint is not None:
                declared.append((endpoint.cidr, endpoint.port, dep.protocol, f"backing service {dep.name}"))
        for ext in comp.external_egress:
            declared += [(cidr, ext.port, ext.protocol, f"external egress {ext.name}") for cidr in ext.cidrs]
        rules = [(np, i, r) for np in egress for i, r in enumerate(dig(np.data, "spec", "egress") or []) if isinstance(r, dict)]
        for cidr, port, protocol, what in declared:
            if what.startswith("external") and not any(
                    port_matches(r.get("ports"), port, protocol)
                    and any(_block_covers(p["ipBlock"], cidr) and _private_only(p["ipBlock"].get("except"))
                            for p in r.get("to") or [] if isinstance(p, dict) and isinstance(p.get("ipBlock"), dict))
                    for _, _, r in rules):
                yield Hit("XRF023", w.doc, ("metadata", "name"),
                          f"{comp.name} declares {what} to {cidr} port {port}/{protocol}, but no egress rule of "
                          f"{', '.join(np.name for np in egress)} allows it: the calls time out once NetworkPolicies are enforced",
                          f"allow egress to {cidr} on port {port} (charts/network.py generates it from {comp.source_file})", egress)
        for np, i, r in rules:
            for j, peer in enumerate(r.get("to") or []):
                block = peer.get("ipBlock") if isinstance(peer, dict) else None
                if not isinstance(block, dict):
                    continue
                ports = [p for p in r.get("ports") or [] if isinstance(p, dict)] or [{}]
                for p in ports:
                    ok = any(_block_covers({"cidr": cidr}, block.get("cidr", ""))
                             and (not p or port_matches([p], port, protocol))
                             and (p or False)
                             for cidr, port, protocol, _ in declared)
                    if not ok:
                        where = f"port {p.get('port')}/{p.get('protocol', 'TCP')}" if p else "every port"
                        yield Hit("XRF023", np, ("spec", "egress", i, "to", j, "ipBlock"),
                                  f"NetworkPolicy {np.name} lets {comp.name} reach {block.get('cidr')} on {where}, which "
                                  f"{comp.source_file} does not declare (dependencies on backing services, externalEgress)",
                                  f"declare the destination in {comp.source_file} or remove the rule", [w.doc])


def check_runtime(es: EnvSet) -> Iterator[Hit]:
    yield from check_operator_pods(es)
    yield from check_probe_paths(es)
    yield from check_service_monitor_sources(es)
    yield from check_declared_egress(es)
