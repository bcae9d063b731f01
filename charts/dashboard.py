"""The Grafana dashboard of one component in one environment (a ConfigMap for the Grafana sidecar).

Queries only metrics the component declares plus kube-state-metrics (``kube_*``) and cAdvisor
(``container_*``) series; the uid is derived from environment and component.
"""
from __future__ import annotations

import hashlib
from functools import partial

from gitops.inputs.quantity import parse_quantity

from .alerts import MEMORY_NEAR_LIMIT_RATIO, long_running, as_percent
from .context import ComponentContext
from .grafana import GRAFANA_DASHBOARD_LABEL, GRAFANA_FOLDER_ANNOTATION, board, board_json, layout, panel, target
from .promql import RATE_WINDOW, app_selector, container_selector, error_ratio_query, hpa_selector, label_selector
from .service_monitor import scrapes


def dashboard_uid(ctx: ComponentContext) -> str:
    """Stable, unique per (environment, component), within Grafana's 40-character limit."""
    uid = f"meetinity-{ctx.env.name}-{ctx.name}"
    if len(uid) > 40:
        digest = hashlib.sha256(uid.encode()).hexdigest()[:8]
        uid = f"{uid[:31]}-{digest}"
    return uid


def dashboard_panels(ctx: ComponentContext) -> list[dict]:
    c, r = ctx.component, ctx.resolved
    panels = []
    counter, hist = c.alerting.requests_counter, c.alerting.latency_histogram
    if scrapes(ctx) and counter:
        panels.append(panel("Request rate", "reqps", [
            target(f"sum by (status) (rate({counter}{app_selector(ctx)}[{RATE_WINDOW}]))", "{{status}}"),
        ], f"Requests per second from {counter}, by status."))
        panels.append(panel("5xx error ratio", "percentunit", [
            target(error_ratio_query(counter, partial(app_selector, ctx)), "5xx ratio"),
        ], "HighErrorRatio fires above the red line for 10 minutes.", c.alerting.error_ratio))
    if scrapes(ctx) and hist:
        panels.append(panel("Latency", "s", [
            target(f"histogram_quantile({q}, sum by (le) (rate({hist}_bucket{app_selector(ctx)}[{RATE_WINDOW}])))", f"p{int(q * 100)}")
            for q in (0.5, 0.95, 0.99)
        ], "HighP95Latency fires when p95 stays above the red line for 10 minutes.", c.alerting.p95_latency_seconds))
    auto = r.autoscaling
    for m in auto.custom_metrics if auto else ():
        panels.append(panel(f"{m.name} per pod (HPA custom metric)", "short", [
            target(f"sum by (pod) (rate({m.series}{app_selector(ctx)}[2m]))", "{{pod}}"),
        ], f"What Prometheus Adapter serves as {m.name} (rate of {m.series}); the HPA targets an average "
           f"of {m.target_average_value} per pod (red line).", float(parse_quantity(m.target_average_value))))
    if auto:
        panels.append(panel("Replicas vs HPA", "short", [
            target(f"kube_horizontalpodautoscaler_status_current_replicas{hpa_selector(ctx)}", "current"),
            target(f"kube_horizontalpodautoscaler_status_desired_replicas{hpa_selector(ctx)}", "desired"),
            target(f"kube_horizontalpodautoscaler_spec_min_replicas{hpa_selector(ctx)}", "min"),
            target(f"kube_horizontalpodautoscaler_spec_max_replicas{hpa_selector(ctx)}", "max"),
        ], f"HPA {auto.min_replicas}..{auto.max_replicas}; HPAMaxedOut fires after 15 minutes at max."))
        panels.append(panel("Utilization vs HPA targets", "percentunit", [
            target(f"sum(rate(container_cpu_usage_seconds_total{container_selector(ctx)}[{RATE_WINDOW}]))"
                    f" / sum(kube_pod_container_resource_requests{container_selector(ctx, resource='cpu')})",
                    f"cpu (target {auto.cpu_utilization}%)"),
            target(f"sum(container_memory_working_set_bytes{container_selector(ctx)})"
                    f" / sum(kube_pod_container_resource_requests{container_selector(ctx, resource='memory')})",
                    f"memory (target {auto.memory_utilization}%)"),
        ], "Average usage as a share of requests: what the HPA compares to its targets. "
           "Below 30% for a month: lower the request (monthly review)."))
    elif long_running(ctx) and ctx.delivery.progressive:
        # kube-state-metrics knows no Rollouts; the Rollouts controller exports these (its own namespace
        # label becomes exported_namespace, see charts/rollouts_dashboard.py).
        panels.append(panel("Replicas", "short", [
            target(f"rollout_info_replicas_available{label_selector(exported_namespace=ctx.namespace, name=ctx.name)}", "available"),
            target(f"rollout_info_replicas_desired{label_selector(exported_namespace=ctx.namespace, name=ctx.name)}", "desired"),
        ], "Fixed replica count (no HPA), from the Argo Rollouts controller."))
    elif long_running(ctx):
        panels.append(panel("Replicas", "short", [
            target(f"kube_deployment_status_replicas_available{label_selector(namespace=ctx.namespace, deployment=ctx.name)}", "available"),
            target(f"kube_deployment_spec_replicas{label_selector(namespace=ctx.namespace, deployment=ctx.name)}", "desired"),
        ], "Fixed replica count (no HPA)."))
    else:
        job_sel = label_selector(namespace=ctx.namespace, job_name__re=ctx.name + "(-[0-9]+)?")
        panels.append(panel("Job runs", "short", [
            target(f"sum(kube_job_status_succeeded{job_sel})", "succeeded"),
            target(f"sum(kube_job_status_failed{job_sel})", "failed"),
        ], "Succeeded and failed Jobs currently kept by Kubernetes."))
    panels.append(panel("CPU vs requests and limits", "short", [
        target(f"sum by (pod) (rate(container_cpu_usage_seconds_total{container_selector(ctx)}[{RATE_WINDOW}]))", "{{pod}}"),
        target(f"max(kube_pod_container_resource_requests{container_selector(ctx, resource='cpu')})", f"request ({r.resources.cpu_request})"),
        target(f"max(kube_pod_container_resource_limits{container_selector(ctx, resource='cpu')})", f"limit ({r.resources.cpu_limit})"),
    ], "CPU cores used per pod against the container request and limit."))
    panels.append(panel("Memory vs requests and limits", "bytes", [
        target(f"sum by (pod) (container_memory_working_set_bytes{container_selector(ctx)})", "{{pod}}"),
        target(f"max(kube_pod_container_resource_requests{container_selector(ctx, resource='memory')})", f"request ({r.resources.memory_request})"),
        target(f"max(kube_pod_container_resource_limits{container_selector(ctx, resource='memory')})", f"limit ({r.resources.memory_limit})"),
    ], f"Working set per pod; MemoryNearLimit fires above {as_percent(MEMORY_NEAR_LIMIT_RATIO)} of the limit."))
    panels.append(panel("Container restarts", "short", [
        target(f"sum by (pod) (increase(kube_pod_container_status_restarts_total{container_selector(ctx)}[1h]))", "{{pod}}"),
    ], "Restarts per pod over the last hour."))
    return layout(panels)


def dashboard(ctx: ComponentContext) -> dict:
    return board(
        title=f"{ctx.name} ({ctx.env.name})",
        uid=dashboard_uid(ctx),
        description=f"{ctx.component.description} Generated from the inventory; edit inventory/ or environments/, not Grafana.",
        tags=["meetinity", ctx.env.name, ctx.component.tier, ctx.name],
        panels=dashboard_panels(ctx),
    )


def dashboard_json(ctx: ComponentContext) -> str:
    return board_json(dashboard(ctx))


def dashboard_config_map(ctx: ComponentContext) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": ctx.metadata(f"{ctx.name}-dashboard", labels=GRAFANA_DASHBOARD_LABEL,
                                 annotations={GRAFANA_FOLDER_ANNOTATION: f"meetinity-{ctx.env.name}"}),
        "data": {f"{ctx.name}.json": dashboard_json(ctx)},
    }
