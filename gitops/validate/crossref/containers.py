"""The main container against the inventory: port, probes (XRF001-003) and required env vars (XRF007)."""
from __future__ import annotations

from typing import Iterator

from ..envset import EnvSet, Workload
from ..findings import Hit
from .refs import configmap_creators, secret_creators


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
