"""HPA custom/external metrics served by the Prometheus Adapter's rules (XRF015, XRF018); ServiceMonitors
that select a Service port (XRF016)."""
from __future__ import annotations

import re
from collections import defaultdict
from typing import Iterator

import yaml

from ..documents import Doc
from ..envset import EnvSet
from ..findings import Hit
from ..k8s import dig, selector_matches


ADAPTER_APP = "prometheus-adapter"


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
