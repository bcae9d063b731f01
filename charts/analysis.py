"""AnalysisTemplate of a canary/blueGreen component: is the new version as healthy as the alerts demand?

Built from the same inventory declarations and the same PromQL as the component's PrometheusRule
(charts/alerts.py): ``alerting.requestsCounter`` gives the success rate, ``alerting.latencyHistogram``
the p95 latency, kube-state-metrics the crash loops; the thresholds are ``alerting.errorRatio`` and
``alerting.p95LatencySeconds``. A component that declares neither series (or serves no metrics) gets no
template: its canary runs without analysis and ``gitops validate`` warns (ROL007).

Only the new pods are measured: the Rollout passes the pod-template hash of the new ReplicaSet
(``valueFrom.podTemplateHashValue: Latest``), and the queries select pods named ``<rollout>-<hash>-*``
(ReplicaSets are named ``<rollout>-<pod-template-hash>``), whichever Service they were scraped through.

Each measurement is a ``scalar(...)`` so the Prometheus provider hands a single float to the
conditions; no traffic yet gives NaN, which meets neither condition and counts as Inconclusive
(argo-rollouts utils/evaluate/evaluate.go: neither condition true -> AnalysisPhaseInconclusive;
``isNaN`` is part of the expression environment). More than ``inconclusiveLimit`` inconclusive
measurements end the run Inconclusive and the Rollout pauses for a human (promote or abort);
more than ``failureLimit`` failed measurements fail it and the Rollout aborts back to stable.
Fields: https://argo-rollouts.readthedocs.io/en/stable/features/analysis/ and
https://argo-rollouts.readthedocs.io/en/stable/analysis/prometheus/
"""
from __future__ import annotations

from gitops.inputs.delivery import duration_seconds

from .addons import PROMETHEUS_PORT, PROMETHEUS_URL
from .context import ComponentContext
from .promql import container_selector, error_ratio_query, p95_latency_query, pods_selector
from .service_monitor import scrapes

ROLLOUTS_API = "argoproj.io/v1alpha1"
NEW_PODS_HASH_ARG = "new-pods-hash"
PROMETHEUS_ADDRESS = f"{PROMETHEUS_URL}:{PROMETHEUS_PORT}"
INTERVAL_SECONDS = 60
INTERVAL = "1m"
# rate() over 2m holds four samples at the 30s scrape interval; the first measurement waits for them.
WINDOW = "2m"
INITIAL_DELAY = WINDOW
MIN_COUNT = 3
FAILURE_LIMIT = 1          # a second failed measurement fails the run (one blip is tolerated)
INCONCLUSIVE_LIMIT = 2     # the third measurement without traffic pauses the rollout for a human
CONSECUTIVE_ERROR_LIMIT = 4  # Prometheus unreachable: upstream default, written down for the reader


def template_name(ctx: ComponentContext) -> str:
    return ctx.name


def analysed(ctx: ComponentContext) -> bool:
    """The delivery asks for analysis and the component exports something to analyse."""
    alerting = ctx.component.alerting
    return (ctx.delivery.progressive and ctx.delivery.analysis and scrapes(ctx)
            and bool(alerting.requests_counter or alerting.latency_histogram))


def measurement_count(ctx: ComponentContext) -> int:
    """Measurements covering the canary's timed pauses (the run is terminated when the rollout completes)."""
    paused = sum(duration_seconds(s.pause) or 0 for s in ctx.delivery.steps if s.pause is not None)
    return max(MIN_COUNT, paused // INTERVAL_SECONDS)


def _new_pods(ctx: ComponentContext) -> str:
    return f"{ctx.name}-{{{{args.{NEW_PODS_HASH_ARG}}}}}-.*"


def _metric(ctx: ComponentContext, name: str, query: str, success: str, failure: str | None) -> dict:
    metric = {
        "name": name,
        "interval": INTERVAL,
        "initialDelay": INITIAL_DELAY,
        "count": measurement_count(ctx),
        "failureLimit": FAILURE_LIMIT,
        "inconclusiveLimit": INCONCLUSIVE_LIMIT,
        "consecutiveErrorLimit": CONSECUTIVE_ERROR_LIMIT,
        "successCondition": success,
        "provider": {"prometheus": {"address": PROMETHEUS_ADDRESS, "query": query}},
    }
    if failure is not None:
        metric["failureCondition"] = failure
    return metric


def analysis_metrics(ctx: ComponentContext) -> list[dict]:
    alerting = ctx.component.alerting
    pods = pods_selector(ctx, _new_pods(ctx))
    metrics = []
    if alerting.requests_counter:
        floor = round(1 - alerting.error_ratio, 6)
        query = f"scalar(1 - ({error_ratio_query(alerting.requests_counter, pods, WINDOW, no_errors_is_zero=True)}))"
        metrics.append(_metric(ctx, "success-rate", query,
                               f"!isNaN(result) && result >= {floor:g}", f"!isNaN(result) && result < {floor:g}"))
    if alerting.latency_histogram:
        limit = alerting.p95_latency_seconds
        query = f"scalar({p95_latency_query(alerting.latency_histogram, pods, WINDOW)})"
        metrics.append(_metric(ctx, "p95-latency", query,
                               f"!isNaN(result) && result <= {limit:g}", f"!isNaN(result) && result > {limit:g}"))
    crash = container_selector(ctx, reason="CrashLoopBackOff", pod__re=_new_pods(ctx))
    # No waiting series at all means no crash loop: 0, never NaN, so this one is never inconclusive.
    metrics.append(_metric(ctx, "no-crash-loops", f"scalar(sum(kube_pod_container_status_waiting_reason{crash}) or vector(0))",
                           "result == 0", None))
    return metrics


def analysis_template(ctx: ComponentContext) -> dict:
    return {
        "apiVersion": ROLLOUTS_API,
        "kind": "AnalysisTemplate",
        "metadata": ctx.metadata(template_name(ctx)),
        "spec": {
            "args": [{"name": NEW_PODS_HASH_ARG}],
            "metrics": analysis_metrics(ctx),
        },
    }


def analysis_ref(ctx: ComponentContext) -> dict:
    """The ``analysis`` block of a Rollout strategy using this template on the new pods."""
    return {
        "templates": [{"templateName": template_name(ctx)}],
        "args": [{"name": NEW_PODS_HASH_ARG, "valueFrom": {"podTemplateHashValue": "Latest"}}],
    }
