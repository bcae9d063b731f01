"""The alert catalogue ``ALERTS`` and the PrometheusRule of a component.

Each alert applies only where its inputs exist (HPA alerts where an HPA exists, 5xx ratio only with
``alerting.requestsCounter``, p95 only with ``alerting.latencyHistogram``) and carries ``runbook_url``,
``summary`` and ``description``. The runbooks are sections of the generated
docs/autoscaling-playbook.md (gitops/generated/playbook.py), which documents the same alerts from
these plain functions without starting cdk8s.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

from .context import ComponentContext
from .promql import (RATE_WINDOW, app_selector, container_selector, error_ratio_query, hpa_selector, label_selector,
                     p95_latency_query)
from .service_monitor import MONITORING_API, PROMETHEUS_SELECTOR_LABELS, scrapes

PLAYBOOK_PATH = "docs/autoscaling-playbook.md"
MEMORY_NEAR_LIMIT_RATIO = 0.9
RESTARTS_WINDOW = "15m"
RESTARTS_THRESHOLD = 2


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


def long_running(ctx: ComponentContext) -> bool:
    return ctx.component.is_long_running


def _is_job(ctx: ComponentContext) -> bool:
    return ctx.component.kind in ("job", "cronjob")


def _errors_expr(ctx: ComponentContext) -> str:
    return (error_ratio_query(ctx.component.alerting.requests_counter, partial(app_selector, ctx))
            + f" > {ctx.component.alerting.error_ratio:g}")


def _latency_expr(ctx: ComponentContext) -> str:
    return (p95_latency_query(ctx.component.alerting.latency_histogram, partial(app_selector, ctx))
            + f" > {ctx.component.alerting.p95_latency_seconds:g}")


def as_percent(ratio: float) -> str:
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
        summary=lambda ctx: f"{ctx.name} ({ctx.env.name}) answers more than {as_percent(ctx.component.alerting.error_ratio)} of requests with 5xx",
        description=lambda ctx: (
            f"Share of 5xx responses in {ctx.component.alerting.requests_counter} (label status=~\"5..\") "
            f"above {as_percent(ctx.component.alerting.error_ratio)} over {RATE_WINDOW} windows for 10 minutes."),
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
        name="ContainerRestarting", severity="warning", for_="5m", applies=long_running,
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
        name="ContainerCrashLooping", severity="critical", for_="15m", applies=long_running,
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
        summary=lambda ctx: f"{ctx.name} ({ctx.env.name}) memory above {as_percent(MEMORY_NEAR_LIMIT_RATIO)} of its limit",
        description=lambda ctx: (
            f"Working set of a {ctx.name} container above {as_percent(MEMORY_NEAR_LIMIT_RATIO)} of its memory limit "
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
            f"max by (job_name) (kube_job_status_failed{label_selector(namespace=ctx.namespace, job_name__re=ctx.name + '(-[0-9]+)?')}) > 0"),
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
