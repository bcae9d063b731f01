"""PromQL selectors and queries over a component's series, shared by the alerts (charts/alerts.py),
the dashboard (charts/dashboard.py) and the canary analysis (charts/analysis.py).
"""
from __future__ import annotations

from typing import Callable

from .context import ComponentContext

RATE_WINDOW = "5m"


def label_selector(**labels: str) -> str:
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
    return label_selector(namespace=ctx.namespace, service=ctx.name, **extra)


def container_selector(ctx: ComponentContext, **extra: str) -> str:
    """cAdvisor / kube-state-metrics per-container series of the component's pods."""
    return label_selector(namespace=ctx.namespace, container=ctx.name, **extra)


def hpa_selector(ctx: ComponentContext, **extra: str) -> str:
    return label_selector(namespace=ctx.namespace, horizontalpodautoscaler=ctx.name, **extra)


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
    return lambda **extra: label_selector(namespace=ctx.namespace, pod__re=pod_regex, **extra)
