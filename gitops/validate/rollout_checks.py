"""Progressive-delivery checks (ROL rules) over one environment: Rollouts, their Services, Ingress,
AnalysisTemplates, and the HPAs that scale them.

What the Argo Rollouts v1.9 controller does with each reference (so what a broken one costs):
- ``selector`` vs template labels: as for a Deployment, pods the selector does not match are never
  counted, so the Rollout never becomes available.
- ``canaryService``/``stableService``/``activeService``/``previewService`` and
  ``trafficRouting.nginx.stableIngress``: a missing one puts the Rollout in ``InvalidSpec``
  (https://argo-rollouts.readthedocs.io/en/stable/features/traffic-management/nginx/: the stable Ingress
  must route to the stable Service; the controller clones it into the canary Ingress).
- analysis ``templates``: a template or argument that cannot be resolved fails the AnalysisRun
  (https://argo-rollouts.readthedocs.io/en/stable/features/analysis/).
"""
from __future__ import annotations

import re
from typing import Iterator

from ..inputs.delivery import delivery_of
from .documents import Doc
from .envset import NAME_LABEL, EnvSet
from .findings import Hit
from .k8s import dig, map_selector_matches, selector_matches

ROLLOUTS_GROUP = "argoproj.io"
# Workload kinds an HPA can scale, by API group (the Rollout serves the scale subresource).
SCALABLE_GROUPS = {"Deployment": "apps", "StatefulSet": "apps", "ReplicaSet": "apps", "Rollout": ROLLOUTS_GROUP}
# Series every pod has without the app exporting anything: kube-state-metrics and cAdvisor.
PLATFORM_SERIES = ("kube_", "container_")
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")

_PROMQL_WORDS = frozenset({"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
                           "group_left", "group_right", "inf", "nan", "le"})
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_IDENT = re.compile(r"(?<![A-Za-z0-9_:.])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?")


def query_series(query: str) -> set[str]:
    """Metric names a PromQL query reads (function and aggregation names, labels and keywords removed)."""
    text = _STRING.sub('""', query)
    text = _GROUPING.sub(" ", text)
    text = _MATCHERS.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = re.sub(r"\{\{[^}]*\}\}", " ", text)  # Argo Rollouts {{args.x}} placeholders outside strings
    names = set()
    for m in _IDENT.finditer(text):
        name, call = m.group(1), m.group(2)
        if call or name.lower() in _PROMQL_WORDS:
            continue
        names.add(name)
    return names


def _rollouts(es: EnvSet) -> list[Doc]:
    return [d for d in es.kind("Rollout") if d.group == ROLLOUTS_GROUP]


def _strategy(doc: Doc) -> tuple[str | None, dict]:
    strategy = dig(doc.data, "spec", "strategy") or {}
    for name in ("canary", "blueGreen"):
        if isinstance(strategy.get(name), dict):
            return name, strategy[name]
    return None, {}


def _pod_labels(doc: Doc) -> dict:
    labels = dig(doc.data, "spec", "template", "metadata", "labels") or {}
    return labels if isinstance(labels, dict) else {}


def check_selectors(es: EnvSet) -> Iterator[Hit]:
    """ROL001."""
    for r in _rollouts(es):
        if dig(r.data, "spec", "workloadRef"):
            continue  # the template (and its labels) live in the referenced Deployment
        selector = dig(r.data, "spec", "selector")
        labels = _pod_labels(r)
        if not selector_matches(selector, labels, empty_matches_all=False):
            yield Hit("ROL001", r, ("spec", "selector"),
                      f"Rollout {r.name} selects {(selector or {}).get('matchLabels') or selector} but its pod template "
                      f"carries {labels}: the controller would never count its own pods",
                      "make spec.selector.matchLabels a subset of spec.template.metadata.labels (app.kubernetes.io/name and instance)")


def _service_refs(kind: str, spec: dict) -> list[tuple[str, str]]:
    fields = ("stableService", "canaryService") if kind == "canary" else ("activeService", "previewService")
    return [(f, spec[f]) for f in fields if isinstance(spec.get(f), str) and spec[f]]


def _ingress_routes_to(ingress: Doc, service: str) -> bool:
    spec = ingress.data.get("spec") or {}
    backends = [dig(spec, "defaultBackend", "service", "name")]
    for rule in spec.get("rules") or []:
        for path in dig(rule, "http", "paths") or []:
            backends.append(dig(path, "backend", "service", "name"))
    return service in backends


def check_references(es: EnvSet) -> Iterator[Hit]:
    """ROL002."""
    for r in _rollouts(es):
        kind, spec = _strategy(r)
        if kind is None:
            continue
        labels = _pod_labels(r)
        base = ("spec", "strategy", kind)
        for field, name in _service_refs(kind, spec):
            svc = es.find("Service", r.namespace, name)
            if svc is None:
                yield Hit("ROL002", r, base + (field,),
                          f"Rollout {r.name} names {field} {name}, which does not exist in {r.namespace}",
                          f"add the Service {name} (charts/rollout.py emits it) or correct {field}")
            elif labels and not map_selector_matches(dig(svc.data, "spec", "selector"), labels):
                yield Hit("ROL002", r, base + (field,),
                          f"{field} {name} of Rollout {r.name} does not select its pods (selector "
                          f"{dig(svc.data, 'spec', 'selector')})",
                          "give the Service the Rollout's selector labels; the controller adds the pod-template hash itself",
                          [svc])
        nginx = dig(spec, "trafficRouting", "nginx")
        if kind != "canary" or not isinstance(nginx, dict):
            continue
        stable = spec.get("stableService")
        if not stable or not spec.get("canaryService"):
            yield Hit("ROL002", r, base + ("trafficRouting",),
                      f"Rollout {r.name} routes traffic through nginx without both stableService and canaryService",
                      "set stableService (the Service the Ingress routes to) and canaryService")
        names = [("stableIngress", nginx.get("stableIngress"))] + [
            (f"additionalStableIngresses[{i}]", n) for i, n in enumerate(nginx.get("additionalStableIngresses") or [])]
        for field, name in names:
            if not name:
                continue
            ingress = es.find("Ingress", r.namespace, name)
            if ingress is None:
                yield Hit("ROL002", r, base + ("trafficRouting", "nginx", field.split("[")[0]),
                          f"Rollout {r.name} names {field} {name}, which does not exist in {r.namespace}",
                          "name the component's Ingress, or drop trafficRouting for a component without one")
            elif stable and not _ingress_routes_to(ingress, stable):
                yield Hit("ROL002", r, base + ("trafficRouting", "nginx", field.split("[")[0]),
                          f"Ingress {name} does not route to the stableService {stable} of Rollout {r.name}",
                          f"point the Ingress backend at Service {stable}", [ingress])


def _analysis_refs(kind: str, spec: dict) -> list[tuple[tuple, dict]]:
    """(path below the strategy, analysis block) for every analysis a strategy runs."""
    out = []
    if kind == "canary":
        if isinstance(spec.get("analysis"), dict):
            out.append((("analysis",), spec["analysis"]))
        for i, step in enumerate(spec.get("steps") or []):
            if isinstance(step, dict) and isinstance(step.get("analysis"), dict):
                out.append((("steps", i, "analysis"), step["analysis"]))
    else:
        for field in ("prePromotionAnalysis", "postPromotionAnalysis"):
            if isinstance(spec.get(field), dict):
                out.append(((field,), spec[field]))
    return out


def _templates_used(es: EnvSet, r: Doc) -> Iterator[tuple[tuple, dict, Doc | None, dict]]:
    """(path, template ref, template doc or None, the analysis block) for each template a Rollout uses."""
    kind, spec = _strategy(r)
    for path, block in _analysis_refs(kind, spec) if kind else ():
        for i, ref in enumerate(block.get("templates") or []):
            if not isinstance(ref, dict):
                continue
            name = ref.get("templateName", "")
            if ref.get("clusterScope"):
                found = next((d for d in es.kind("ClusterAnalysisTemplate") if d.name == name), None)
            else:
                found = es.find("AnalysisTemplate", r.namespace, name)
            yield ("spec", "strategy", kind, *path, "templates", i), ref, found, block


def check_analysis_templates(es: EnvSet) -> Iterator[Hit]:
    """ROL003."""
    for r in _rollouts(es):
        for path, ref, template, block in _templates_used(es, r):
            name = ref.get("templateName")
            if template is None:
                kind = "ClusterAnalysisTemplate" if ref.get("clusterScope") else "AnalysisTemplate"
                yield Hit("ROL003", r, path, f"Rollout {r.name} uses {kind} {name}, which does not exist in {r.namespace}",
                          "add the template (charts/analysis.py emits one per analysed component) or correct templateName")
                continue
            given = {a.get("name") for a in block.get("args") or [] if isinstance(a, dict)}
            for arg in dig(template.data, "spec", "args") or []:
                if isinstance(arg, dict) and "value" not in arg and "valueFrom" not in arg and arg.get("name") not in given:
                    yield Hit("ROL003", r, path, f"AnalysisTemplate {name} needs argument {arg.get('name')}, "
                              f"which Rollout {r.name} does not pass", f"add args: [{{name: {arg.get('name')}, ...}}] next to the template",
                              [template])


def exported_series(component) -> set[str]:
    """Series the component's own pods export, from the inventory."""
    series = set()
    alerting = component.alerting
    if alerting.requests_counter:
        series.add(alerting.requests_counter)
    if alerting.latency_histogram:
        series.update(alerting.latency_histogram + s for s in HISTOGRAM_SUFFIXES)
    for m in component.autoscaling.custom_metrics if component.autoscaling else ():
        series.add(m.series)
    return series if component.metrics is not None else set()


def check_analysis_series(es: EnvSet) -> Iterator[Hit]:
    """ROL004."""
    for t in es.kind("AnalysisTemplate"):
        if t.group != ROLLOUTS_GROUP:
            continue
        component = es.component(t.labels.get(NAME_LABEL))
        if component is None:
            continue
        exported = exported_series(component)
        for i, metric in enumerate(dig(t.data, "spec", "metrics") or []):
            query = dig(metric, "provider", "prometheus", "query")
            if not isinstance(query, str):
                continue
            unknown = sorted(s for s in query_series(query) if s not in exported and not s.startswith(PLATFORM_SERIES))
            if unknown:
                yield Hit("ROL004", t, ("spec", "metrics", i, "provider", "prometheus", "query"),
                          f"analysis metric {metric.get('name')} of {component.name} reads {', '.join(unknown)}, which "
                          f"{component.name} does not export (declared: {', '.join(sorted(exported)) or 'nothing'})",
                          f"use inventory/{component.name}.yaml alerting.requestsCounter / latencyHistogram (and metrics:), "
                          "or kube_*/container_* series")


def check_hpa_targets(es: EnvSet) -> Iterator[Hit]:
    """ROL005."""
    for hpa in es.kind("HorizontalPodAutoscaler"):
        ref = dig(hpa.data, "spec", "scaleTargetRef") or {}
        kind, name, api_version = ref.get("kind"), ref.get("name"), str(ref.get("apiVersion", ""))
        group = api_version.rpartition("/")[0]
        if kind in SCALABLE_GROUPS and group != SCALABLE_GROUPS[kind]:
            yield Hit("ROL005", hpa, ("spec", "scaleTargetRef", "apiVersion"),
                      f"HorizontalPodAutoscaler {hpa.name} targets {kind} with apiVersion {api_version}; {kind} is served by "
                      f"{SCALABLE_GROUPS[kind]}", f"use apiVersion {'argoproj.io/v1alpha1' if kind == 'Rollout' else 'apps/v1'}")
            continue
        if es.find(kind or "", hpa.namespace, name or "") is not None:
            continue
        actual = [k for k in SCALABLE_GROUPS if k != kind and es.find(k, hpa.namespace, name or "") is not None]
        if actual:
            yield Hit("ROL005", hpa, ("spec", "scaleTargetRef", "kind"),
                      f"HorizontalPodAutoscaler {hpa.name} targets {kind} {name}, but {name} runs as a {actual[0]}",
                      f"set scaleTargetRef to kind {actual[0]} (apiVersion "
                      f"{'argoproj.io/v1alpha1' if actual[0] == 'Rollout' else 'apps/v1'})",
                      [es.find(actual[0], hpa.namespace, name)])


def check_single_workload(es: EnvSet) -> Iterator[Hit]:
    """ROL006."""
    for r in _rollouts(es):
        component = r.labels.get(NAME_LABEL)
        for w in es.component_workloads(component) if component else ():
            if w.doc.kind == "Deployment" and w.namespace == r.namespace:
                yield Hit("ROL006", w.doc, ("kind",),
                          f"{component} runs as Rollout {r.name} and as Deployment {w.doc.name}: both serve its traffic",
                          "delete the Deployment (gitops synth emits only the Rollout for canary/blueGreen components)", [r])


def check_missing_analysis(es: EnvSet) -> Iterator[Hit]:
    """ROL007: the environment asks for analysis, the Rollout has none (the component lacks the metrics)."""
    if es.env is None:
        return
    for r in _rollouts(es):
        component = es.component(r.labels.get(NAME_LABEL))
        if component is None or not delivery_of(component, es.env).analysis:
            continue
        kind, spec = _strategy(r)
        if kind and not _analysis_refs(kind, spec):
            missing = [f for f, v in (("metrics", component.metrics), ("alerting.requestsCounter", component.alerting.requests_counter),
                                      ("alerting.latencyHistogram", component.alerting.latency_histogram)) if v is None]
            yield Hit("ROL007", r, ("spec", "strategy", kind),
                      f"{component.name} is delivered by {kind} with analysis in {es.name}, but has no analysis: "
                      f"inventory/{component.name}.yaml lacks {', '.join(missing)}",
                      f"declare metrics: and alerting.requestsCounter / latencyHistogram in inventory/{component.name}.yaml "
                      f"(the series the app exports), or set delivery.analysis: false for it in environments/{es.name}.yaml")


def check_rollouts(es: EnvSet) -> Iterator[Hit]:
    yield from check_selectors(es)
    yield from check_references(es)
    yield from check_analysis_templates(es)
    yield from check_analysis_series(es)
    yield from check_hpa_targets(es)
    yield from check_single_workload(es)
    yield from check_missing_analysis(es)
