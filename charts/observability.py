"""Observability of one component in one environment: ServiceMonitor, PrometheusRule, Grafana dashboard.

- ServiceMonitor (monitoring.coreos.com/v1): only for components that serve metrics
  (``component.metrics``), on the Service's named port ``http`` and the declared path. Prometheus
  adds the ``namespace``, ``pod`` and ``service`` target labels the adapter rules
  (gitops/generated/adapter.py) and the alerts below select on.
- PrometheusRule: the alert catalogue ``ALERTS``; each alert applies only where its inputs exist
  (HPA alerts where an HPA exists, 5xx ratio only with ``alerting.requestsCounter``, p95 only with
  ``alerting.latencyHistogram``) and carries ``runbook_url``, ``summary`` and ``description``.
  The runbooks are sections of the generated docs/autoscaling-playbook.md (gitops/generated/playbook.py).
- Grafana dashboard: a ConfigMap labelled ``grafana_dashboard: "1"`` for the Grafana sidecar of
  kube-prometheus-stack (which must search all namespaces: ``sidecar.dashboards.searchNamespace:
  ALL``). The JSON is deterministic (sorted keys, ids numbered in panel order, uid derived from
  env and component) and queries only metrics the component declares plus kube-state-metrics
  (``kube_*``) and cAdvisor (``container_*``) series.

Both CRs carry ``release: kube-prometheus-stack``, the label the stack's Prometheus selects
ServiceMonitors and PrometheusRules by (``serviceMonitorSelectorNilUsesHelmValues`` /
``ruleSelectorNilUsesHelmValues`` default to true).

The builders are plain functions of the context so gitops/generated/playbook.py can document the same
alerts without starting cdk8s; only the construct classes touch ``charts.base``.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import partial
from typing import Callable

from gitops.inputs.quantity import parse_quantity

from .context import HTTP_PORT_NAME, ComponentContext

MONITORING_API = "monitoring.coreos.com/v1"
PROMETHEUS_SELECTOR_LABELS = {"release": "kube-prometheus-stack"}
GRAFANA_DASHBOARD_LABEL = {"grafana_dashboard": "1"}
# Grafana sidecar: put each environment's dashboards in their own folder.
GRAFANA_FOLDER_ANNOTATION = "grafana_folder"
PLAYBOOK_PATH = "docs/autoscaling-playbook.md"
# 30s scrapes: the adapter's rate(...[2m]) window then always holds 4 samples.
SCRAPE_INTERVAL = "30s"
SCRAPE_TIMEOUT = "10s"
RATE_WINDOW = "5m"
MEMORY_NEAR_LIMIT_RATIO = 0.9
RESTARTS_WINDOW = "15m"
RESTARTS_THRESHOLD = 2


# ---------------------------------------------------------------------------------------------
# Selectors
# ---------------------------------------------------------------------------------------------

def _sel(**labels: str) -> str:
    """A PromQL label selector body with labels in a fixed order (namespace first)."""
    parts = []
    for key in ("namespace", *sorted(k for k in labels if k != "namespace")):
        if key in labels:
            value = labels[key]
            op = "=~" if key.endswith("__re") else "="
            parts.append(f'{key.removesuffix("__re")}{op}"{value}"')
    return "{" + ",".join(parts) + "}"


def app_selector(ctx: ComponentContext, **extra: str) -> str:
    """The component's own series, as scraped through its ServiceMonitor (target label ``service``)."""
    return _sel(namespace=ctx.namespace, service=ctx.name, **extra)


def container_selector(ctx: ComponentContext, **extra: str) -> str:
    """cAdvisor / kube-state-metrics per-container series of the component's pods."""
    return _sel(namespace=ctx.namespace, container=ctx.name, **extra)


def hpa_selector(ctx: ComponentContext, **extra: str) -> str:
    return _sel(namespace=ctx.namespace, horizontalpodautoscaler=ctx.name, **extra)


def scrapes(ctx: ComponentContext) -> bool:
    """A ServiceMonitor exists: metrics declared and a Service with the named port in front."""
    c = ctx.component
    return c.metrics is not None and c.is_serving and c.port is not None


# ---------------------------------------------------------------------------------------------
# Alert catalogue
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AlertSpec:
    """One alert of the catalogue. ``anchor`` is the runbook section in the playbook."""

    name: str
    severity: str
    for_: str
    applies: Callable[[ComponentContext], bool]
    expr: Callable[[ComponentContext], str]
    summary: Callable[[ComponentContext], str]
    description: Callable[[ComponentContext], str]
    meaning: str
    runbook: tuple[str, ...]

    @property
    def anchor(self) -> str:
        # GitHub's heading slug of "### <name>" (the playbook's runbook heading).
        return self.name.lower()


def _has_hpa(ctx: ComponentContext) -> bool:
    return ctx.resolved.autoscaling is not None


def _can_max_out(ctx: ComponentContext) -> bool:
    # With min == max the HPA always sits "at max": that is a fixed size, not an alert.
    auto = ctx.resolved.autoscaling
    return auto is not None and auto.max_replicas > auto.min_replicas


def _long_running(ctx: ComponentContext) -> bool:
    return ctx.component.is_long_running


def _is_job(ctx: ComponentContext) -> bool:
    return ctx.component.kind in ("job", "cronjob")


# The request and latency queries, shared by the alerts, the dashboard and the canary analysis
# (charts/analysis.py): ``selector(**extra)`` returns the label selector of the series to read.

def error_ratio_query(counter: str, selector: Callable[..., str], window: str = RATE_WINDOW,
                      *, no_errors_is_zero: bool = False) -> str:
    """Share of 5xx among the requests counted by ``counter``."""
    errors = f"sum(rate({counter}{selector(status__re='5..')}[{window}]))"
    if no_errors_is_zero:  # a status="5xx" series exists only after the first error
        errors = f"({errors} or vector(0))"
    return f"{errors} / sum(rate({counter}{selector()}[{window}]))"


def p95_latency_query(histogram: str, selector: Callable[..., str], window: str = RATE_WINDOW) -> str:
    return f"histogram_quantile(0.95, sum by (le) (rate({histogram}_bucket{selector()}[{window}])))"


def pods_selector(ctx: ComponentContext, pod_regex: str) -> Callable[..., str]:
    """Series of the pods whose name matches ``pod_regex``, whichever Service they were scraped through."""
    return lambda **extra: _sel(namespace=ctx.namespace, pod__re=pod_regex, **extra)


def _errors_expr(ctx: ComponentContext) -> str:
    return (error_ratio_query(ctx.component.alerting.requests_counter, partial(app_selector, ctx))
            + f" > {ctx.component.alerting.error_ratio:g}")


def _latency_expr(ctx: ComponentContext) -> str:
    return (p95_latency_query(ctx.component.alerting.latency_histogram, partial(app_selector, ctx))
            + f" > {ctx.component.alerting.p95_latency_seconds:g}")


def _pct(ratio: float) -> str:
    return f"{ratio * 100:g}%"


ALERTS: tuple[AlertSpec, ...] = (
    AlertSpec(
        name="HPAMaxedOut", severity="warning", for_="15m", applies=_can_max_out,
        expr=lambda ctx: (
            f"kube_horizontalpodautoscaler_status_current_replicas{hpa_selector(ctx)}"
            f" >= kube_horizontalpodautoscaler_spec_max_replicas{hpa_selector(ctx)}"),
        summary=lambda ctx: f"{ctx.name} ({ctx.env.name}) has run at its HPA maximum for 15 minutes",
        description=lambda ctx: (
            f"The HPA {ctx.namespace}/{ctx.name} is at maxReplicas "
            f"({ctx.resolved.autoscaling.max_replicas}) and cannot add pods; latency and errors "
            f"will follow if load keeps rising."),
        meaning="The HPA wants more pods than maxReplicas allows, for 15 minutes in a row.",
        runbook=(
            "Check what drives the scaling: `kubectl describe hpa <component> -n <namespace>` (current vs target per metric).",
            "Look at the component's Grafana dashboard: is it real traffic (request rate up) or a regression (CPU per request up)?",
            "Real traffic: raise `autoscaling.max` in `environments/<env>.yaml`, then run `gitops capacity --env <env>`: the new maximum must fit the ResourceQuota and the node group.",
            "Regression: roll back by promotion (revert the version bump) rather than raising the ceiling.",
        ),
    ),
    AlertSpec(
        name="HPAMetricsUnavailable", severity="warning", for_="10m", applies=_has_hpa,
        expr=lambda ctx: (
            "kube_horizontalpodautoscaler_status_condition"
            f"{hpa_selector(ctx, condition='ScalingActive', status='false')} == 1"),
        summary=lambda ctx: f"The HPA of {ctx.name} ({ctx.env.name}) cannot compute its metrics",
        description=lambda ctx: (
            f"ScalingActive=false on {ctx.namespace}/{ctx.name} for 10 minutes: the HPA is frozen at "
            f"its current size. Custom metrics: "
            + (", ".join(m.name for m in ctx.resolved.autoscaling.custom_metrics) or "none") + "."),
        meaning="The HPA cannot read any of its metrics, so it neither scales up nor down.",
        runbook=(
            "`kubectl describe hpa <component> -n <namespace>`: the condition message names the failing metric.",
            "CPU/memory: check metrics-server (`kubectl top pods -n <namespace>`).",
            "Custom metric: `kubectl get --raw \"/apis/custom.metrics.k8s.io/v1beta1/namespaces/<namespace>/pods/*/<metric>\"`; an empty list means no adapter rule matched or no series was scraped.",
            "Check the adapter rule exists for the metric (generated from the inventory's `customMetrics`) and that the series the rule names is what the app really exports (`curl <pod>:8080/metrics`).",
            "Check the ServiceMonitor target is up in Prometheus (Status > Targets, job `<component>`).",
        ),
    ),
    AlertSpec(
        name="CustomMetricMissing", severity="warning", for_="15m",
        applies=lambda ctx: _has_hpa(ctx) and bool(ctx.resolved.autoscaling.custom_metrics),
        expr=lambda ctx: " or ".join(
            f"absent({m.series}{app_selector(ctx)})" for m in ctx.resolved.autoscaling.custom_metrics),
        summary=lambda ctx: f"The series behind the custom HPA metrics of {ctx.name} ({ctx.env.name}) are missing",
        description=lambda ctx: (
            "No samples for " + ", ".join(f"{m.series} (serves {m.name})" for m in ctx.resolved.autoscaling.custom_metrics)
            + f" in {ctx.namespace} for 15 minutes. With one metric missing the HPA still scales up on the "
              "others but never scales down."),
        meaning="A series an HPA custom metric is computed from is not scraped (or not emitted) any more.",
        runbook=(
            "`curl <pod-ip>:<port>/metrics | grep <series>` from a debug pod: does the app emit the counter under that exact name?",
            "Prometheus Status > Targets: is the ServiceMonitor target `<component>` up?",
            "Renamed counter in the app: update `customMetrics[].series` in the inventory or environment file; the adapter rule follows on `make synth`.",
        ),
    ),
    AlertSpec(
        name="HighErrorRatio", severity="critical", for_="10m",
        applies=lambda ctx: scrapes(ctx) and ctx.component.alerting.requests_counter is not None,
        expr=_errors_expr,
        summary=lambda ctx: f"{ctx.name} ({ctx.env.name}) answers more than {_pct(ctx.component.alerting.error_ratio)} of requests with 5xx",
        description=lambda ctx: (
            f"Share of 5xx responses in {ctx.component.alerting.requests_counter} (label status=~\"5..\") "
            f"above {_pct(ctx.component.alerting.error_ratio)} over {RATE_WINDOW} windows for 10 minutes."),
        meaning="The component fails a significant share of requests.",
        runbook=(
            "Open the component's dashboard: did errors start with a deployment (version label) or with load (replicas at max)?",
            "`kubectl logs -n <namespace> deploy/<component> --since=15m` for the failing routes; check its dependencies' dashboards.",
            "Started with a promotion: revert the promotion commit (the previous version is one PR away).",
            "Started with load: see HPAMaxedOut.",
        ),
    ),
    AlertSpec(
        name="HighP95Latency", severity="warning", for_="10m",
        applies=lambda ctx: scrapes(ctx) and ctx.component.alerting.latency_histogram is not None,
        expr=_latency_expr,
        summary=lambda ctx: f"{ctx.name} ({ctx.env.name}) p95 latency above {ctx.component.alerting.p95_latency_seconds:g}s",
        description=lambda ctx: (
            f"95th percentile of {ctx.component.alerting.latency_histogram} above "
            f"{ctx.component.alerting.p95_latency_seconds:g}s over {RATE_WINDOW} windows for 10 minutes."),
        meaning="Requests are slower than the component's declared objective.",
        runbook=(
            "Compare CPU usage with the request on the dashboard: pods pinned at their CPU limit are throttled (raise requests/limits or the HPA target).",
            "Check replicas vs HPA max and the latency of dependencies (database, downstream services).",
            "A single slow route: check the logs and recent promotions.",
        ),
    ),
    AlertSpec(
        name="ContainerRestarting", severity="warning", for_="5m", applies=_long_running,
        expr=lambda ctx: (
            f"sum by (pod) (increase(kube_pod_container_status_restarts_total{container_selector(ctx)}[{RESTARTS_WINDOW}]))"
            f" > {RESTARTS_THRESHOLD}"),
        summary=lambda ctx: f"{ctx.name} ({ctx.env.name}) containers keep restarting",
        description=lambda ctx: (
            f"A pod of {ctx.namespace}/{ctx.name} restarted more than {RESTARTS_THRESHOLD} times in {RESTARTS_WINDOW}."),
        meaning="Containers exit or fail their liveness probe repeatedly.",
        runbook=(
            "`kubectl get pods -n <namespace> -l app.kubernetes.io/name=<component>` then `kubectl describe pod` (Last State: OOMKilled? exit code?).",
            "`kubectl logs --previous` for the crash; OOMKilled: see MemoryNearLimit.",
            "Liveness failures under load: check the probe endpoint's latency and CPU throttling.",
        ),
    ),
    AlertSpec(
        name="ContainerCrashLooping", severity="critical", for_="15m", applies=_long_running,
        expr=lambda ctx: (
            "max by (pod) (max_over_time(kube_pod_container_status_waiting_reason"
            f"{container_selector(ctx, reason='CrashLoopBackOff')}[5m])) >= 1"),
        summary=lambda ctx: f"{ctx.name} ({ctx.env.name}) is in CrashLoopBackOff",
        description=lambda ctx: f"A container of {ctx.namespace}/{ctx.name} has been waiting in CrashLoopBackOff for 15 minutes.",
        meaning="A container cannot start at all.",
        runbook=(
            "`kubectl logs --previous -n <namespace> <pod>`: missing setting or secret, failed migration, bad image.",
            "`kubectl get externalsecret -n <namespace>`: a secret that did not sync leaves env vars missing.",
            "New version: revert the promotion commit.",
        ),
    ),
    AlertSpec(
        name="MemoryNearLimit", severity="warning", for_="15m", applies=lambda ctx: True,
        expr=lambda ctx: (
            f"max by (pod) (sum by (pod) (container_memory_working_set_bytes{container_selector(ctx)})"
            f" / sum by (pod) (kube_pod_container_resource_limits{container_selector(ctx, resource='memory')}))"
            f" > {MEMORY_NEAR_LIMIT_RATIO:g}"),
        summary=lambda ctx: f"{ctx.name} ({ctx.env.name}) memory above {_pct(MEMORY_NEAR_LIMIT_RATIO)} of its limit",
        description=lambda ctx: (
            f"Working set of a {ctx.name} container above {_pct(MEMORY_NEAR_LIMIT_RATIO)} of its memory limit "
            f"({ctx.resolved.resources.memory_limit}) for 15 minutes; the kernel OOM-kills it at the limit."),
        meaning="A container is close to being OOM-killed.",
        runbook=(
            "Steady growth over hours: a leak; restart is a stop-gap, file a bug with the dashboard graph.",
            "Plateau near the limit: read the VPA recommendation (`kubectl describe vpa <component> -n <namespace>`) and raise `resources.limits.memory` (and the request) in `environments/<env>.yaml`.",
            "Then `gitops capacity --env <env>`: the new limits at HPA max must fit the quota.",
        ),
    ),
    AlertSpec(
        name="JobFailed", severity="warning", for_="5m", applies=_is_job,
        expr=lambda ctx: (
            f"max by (job_name) (kube_job_status_failed{_sel(namespace=ctx.namespace, job_name__re=ctx.name + '(-[0-9]+)?')}) > 0"),
        summary=lambda ctx: f"A {ctx.name} job ({ctx.env.name}) failed",
        description=lambda ctx: f"A Job run by {ctx.namespace}/{ctx.name} ({ctx.component.kind}) ended in failure.",
        meaning="A batch run failed after its retries (backoffLimit).",
        runbook=(
            "`kubectl get jobs -n <namespace>` and `kubectl logs job/<job-name> -n <namespace>`.",
            "Migrations: the new version may not start until this succeeds; do not promote further.",
        ),
    ),
)


def runbook_url(ctx: ComponentContext, alert: AlertSpec) -> str:
    repo = ctx.platform.repo_url.removesuffix(".git")
    return f"{repo}/blob/main/{PLAYBOOK_PATH}#{alert.anchor}"


def alerts_for(ctx: ComponentContext) -> list[AlertSpec]:
    return [a for a in ALERTS if a.applies(ctx)]


def alert_rules(ctx: ComponentContext) -> list[dict]:
    return [{
        "alert": a.name,
        "expr": a.expr(ctx),
        "for": a.for_,
        "labels": {"severity": a.severity, "component": ctx.name, "environment": ctx.env.name,
                   "team": ctx.component.owner},
        "annotations": {"summary": a.summary(ctx), "description": a.description(ctx),
                        "runbook_url": runbook_url(ctx, a)},
    } for a in alerts_for(ctx)]


def prometheus_rule(ctx: ComponentContext) -> dict:
    return {
        "apiVersion": MONITORING_API,
        "kind": "PrometheusRule",
        "metadata": ctx.metadata(labels=PROMETHEUS_SELECTOR_LABELS),
        "spec": {"groups": [{"name": f"{ctx.name}.{ctx.env.name}", "rules": alert_rules(ctx)}]},
    }


def service_monitor(ctx: ComponentContext) -> dict:
    return {
        "apiVersion": MONITORING_API,
        "kind": "ServiceMonitor",
        "metadata": ctx.metadata(labels=PROMETHEUS_SELECTOR_LABELS),
        "spec": {
            "selector": {"matchLabels": ctx.selector},
            "namespaceSelector": {"matchNames": [ctx.namespace]},
            "endpoints": [{
                "port": ctx.component.metrics.port_name or HTTP_PORT_NAME,
                "path": ctx.component.metrics.path,
                "scheme": "http",
                "interval": SCRAPE_INTERVAL,
                "scrapeTimeout": SCRAPE_TIMEOUT,
            }],
        },
    }


# ---------------------------------------------------------------------------------------------
# Grafana dashboard
# ---------------------------------------------------------------------------------------------

def dashboard_uid(ctx: ComponentContext) -> str:
    """Stable, unique per (environment, component), within Grafana's 40-character limit."""
    uid = f"meetinity-{ctx.env.name}-{ctx.name}"
    if len(uid) > 40:
        digest = hashlib.sha256(uid.encode()).hexdigest()[:8]
        uid = f"{uid[:31]}-{digest}"
    return uid


def _target(expr: str, legend: str) -> dict:
    return {"expr": expr, "legendFormat": legend}


def _panel(title: str, unit: str, targets: list[dict], description: str, threshold: float | None = None) -> dict:
    defaults: dict = {"unit": unit, "min": 0}
    if threshold is not None:
        defaults["thresholds"] = {"mode": "absolute", "steps": [
            {"color": "green", "value": None}, {"color": "red", "value": threshold}]}
        defaults["custom"] = {"thresholdsStyle": {"mode": "line"}}
    return {"title": title, "type": "timeseries", "description": description,
            "fieldConfig": {"defaults": defaults, "overrides": []}, "targets": targets}


def dashboard_panels(ctx: ComponentContext) -> list[dict]:
    c, r = ctx.component, ctx.resolved
    panels = []
    counter, hist = c.alerting.requests_counter, c.alerting.latency_histogram
    if scrapes(ctx) and counter:
        panels.append(_panel("Request rate", "reqps", [
            _target(f"sum by (status) (rate({counter}{app_selector(ctx)}[{RATE_WINDOW}]))", "{{status}}"),
        ], f"Requests per second from {counter}, by status."))
        panels.append(_panel("5xx error ratio", "percentunit", [
            _target(error_ratio_query(counter, partial(app_selector, ctx)), "5xx ratio"),
        ], "HighErrorRatio fires above the red line for 10 minutes.", c.alerting.error_ratio))
    if scrapes(ctx) and hist:
        panels.append(_panel("Latency", "s", [
            _target(f"histogram_quantile({q}, sum by (le) (rate({hist}_bucket{app_selector(ctx)}[{RATE_WINDOW}])))", f"p{int(q * 100)}")
            for q in (0.5, 0.95, 0.99)
        ], "HighP95Latency fires when p95 stays above the red line for 10 minutes.", c.alerting.p95_latency_seconds))
    auto = r.autoscaling
    for m in auto.custom_metrics if auto else ():
        panels.append(_panel(f"{m.name} per pod (HPA custom metric)", "short", [
            _target(f"sum by (pod) (rate({m.series}{app_selector(ctx)}[2m]))", "{{pod}}"),
        ], f"What Prometheus Adapter serves as {m.name} (rate of {m.series}); the HPA targets an average "
           f"of {m.target_average_value} per pod (red line).", float(parse_quantity(m.target_average_value))))
    if auto:
        panels.append(_panel("Replicas vs HPA", "short", [
            _target(f"kube_horizontalpodautoscaler_status_current_replicas{hpa_selector(ctx)}", "current"),
            _target(f"kube_horizontalpodautoscaler_status_desired_replicas{hpa_selector(ctx)}", "desired"),
            _target(f"kube_horizontalpodautoscaler_spec_min_replicas{hpa_selector(ctx)}", "min"),
            _target(f"kube_horizontalpodautoscaler_spec_max_replicas{hpa_selector(ctx)}", "max"),
        ], f"HPA {auto.min_replicas}..{auto.max_replicas}; HPAMaxedOut fires after 15 minutes at max."))
        panels.append(_panel("Utilization vs HPA targets", "percentunit", [
            _target(f"sum(rate(container_cpu_usage_seconds_total{container_selector(ctx)}[{RATE_WINDOW}]))"
                    f" / sum(kube_pod_container_resource_requests{container_selector(ctx, resource='cpu')})",
                    f"cpu (target {auto.cpu_utilization}%)"),
            _target(f"sum(container_memory_working_set_bytes{container_selector(ctx)})"
                    f" / sum(kube_pod_container_resource_requests{container_selector(ctx, resource='memory')})",
                    f"memory (target {auto.memory_utilization}%)"),
        ], "Average usage as a share of requests: what the HPA compares to its targets. "
           "Below 30% for a month: lower the request (monthly review)."))
    elif _long_running(ctx) and ctx.delivery.progressive:
        # kube-state-metrics knows no Rollouts; the Rollouts controller exports these (its own namespace
        # label becomes exported_namespace, see charts/rollouts_dashboard.py).
        panels.append(_panel("Replicas", "short", [
            _target(f"rollout_info_replicas_available{_sel(exported_namespace=ctx.namespace, name=ctx.name)}", "available"),
            _target(f"rollout_info_replicas_desired{_sel(exported_namespace=ctx.namespace, name=ctx.name)}", "desired"),
        ], "Fixed replica count (no HPA), from the Argo Rollouts controller."))
    elif _long_running(ctx):
        panels.append(_panel("Replicas", "short", [
            _target(f"kube_deployment_status_replicas_available{_sel(namespace=ctx.namespace, deployment=ctx.name)}", "available"),
            _target(f"kube_deployment_spec_replicas{_sel(namespace=ctx.namespace, deployment=ctx.name)}", "desired"),
        ], "Fixed replica count (no HPA)."))
    else:
        job_sel = _sel(namespace=ctx.namespace, job_name__re=ctx.name + "(-[0-9]+)?")
        panels.append(_panel("Job runs", "short", [
            _target(f"sum(kube_job_status_succeeded{job_sel})", "succeeded"),
            _target(f"sum(kube_job_status_failed{job_sel})", "failed"),
        ], "Succeeded and failed Jobs currently kept by Kubernetes."))
    panels.append(_panel("CPU vs requests and limits", "short", [
        _target(f"sum by (pod) (rate(container_cpu_usage_seconds_total{container_selector(ctx)}[{RATE_WINDOW}]))", "{{pod}}"),
        _target(f"max(kube_pod_container_resource_requests{container_selector(ctx, resource='cpu')})", f"request ({r.resources.cpu_request})"),
        _target(f"max(kube_pod_container_resource_limits{container_selector(ctx, resource='cpu')})", f"limit ({r.resources.cpu_limit})"),
    ], "CPU cores used per pod against the container request and limit."))
    panels.append(_panel("Memory vs requests and limits", "bytes", [
        _target(f"sum by (pod) (container_memory_working_set_bytes{container_selector(ctx)})", "{{pod}}"),
        _target(f"max(kube_pod_container_resource_requests{container_selector(ctx, resource='memory')})", f"request ({r.resources.memory_request})"),
        _target(f"max(kube_pod_container_resource_limits{container_selector(ctx, resource='memory')})", f"limit ({r.resources.memory_limit})"),
    ], f"Working set per pod; MemoryNearLimit fires above {_pct(MEMORY_NEAR_LIMIT_RATIO)} of the limit."))
    panels.append(_panel("Container restarts", "short", [
        _target(f"sum by (pod) (increase(kube_pod_container_status_restarts_total{container_selector(ctx)}[1h]))", "{{pod}}"),
    ], "Restarts per pod over the last hour."))
    # Stable ids and a two-column grid, both derived from the panel order only.
    for index, panel in enumerate(panels):
        panel["id"] = index + 1
        panel["gridPos"] = {"h": 8, "w": 12, "x": 12 * (index % 2), "y": 8 * (index // 2)}
        panel["datasource"] = {"type": "prometheus", "uid": "${datasource}"}
        for ref, target in enumerate(panel["targets"]):
            target["refId"] = chr(ord("A") + ref)
            target["datasource"] = panel["datasource"]
    return panels


def dashboard(ctx: ComponentContext) -> dict:
    return {
        "annotations": {"list": []},
        "description": f"{ctx.component.description} Generated from the inventory; edit inventory/ or environments/, not Grafana.",
        "editable": False,
        "graphTooltip": 1,
        "links": [],
        "panels": dashboard_panels(ctx),
        "refresh": "1m",
        "schemaVersion": 39,
        "tags": ["meetinity", ctx.env.name, ctx.component.tier, ctx.name],
        "templating": {"list": [{
            "name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
            "hide": 0, "current": {}, "options": [], "refresh": 1, "regex": "",
        }]},
        "time": {"from": "now-6h", "to": "now"},
        "timepicker": {},
        "timezone": "utc",
        "title": f"{ctx.name} ({ctx.env.name})",
        "uid": dashboard_uid(ctx),
        "version": 1,
    }


def dashboard_json(ctx: ComponentContext) -> str:
    return json.dumps(dashboard(ctx), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def dashboard_config_map(ctx: ComponentContext) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": ctx.metadata(f"{ctx.name}-dashboard", labels=GRAFANA_DASHBOARD_LABEL,
                                 annotations={GRAFANA_FOLDER_ANNOTATION: f"meetinity-{ctx.env.name}"}),
        "data": {f"{ctx.name}.json": dashboard_json(ctx)},
    }


# ---------------------------------------------------------------------------------------------
# Constructs
# ---------------------------------------------------------------------------------------------

class Monitoring:
    """ServiceMonitor (when the component serves metrics) and PrometheusRule (every workload)."""

    def __init__(self, chart, ctx: ComponentContext):
        from .base import emit  # cdk8s is imported only where objects are emitted

        if scrapes(ctx):
            emit(chart, service_monitor(ctx))
        if alerts_for(ctx):
            emit(chart, prometheus_rule(ctx))


class Dashboard:
    """Grafana dashboard ConfigMap for the Grafana sidecar."""

    def __init__(self, chart, ctx: ComponentContext):
        from .base import emit

        emit(chart, dashboard_config_map(ctx))
