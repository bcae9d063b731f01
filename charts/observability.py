"""Observability of one component in one environment, as constructs: ServiceMonitor and PrometheusRule
(``Monitoring``), Grafana dashboard (``Dashboard``).

One job per module: charts/service_monitor.py (scraping), charts/alerts.py (the alert catalogue and
its PrometheusRule), charts/dashboard.py (the component dashboard, on charts/grafana.py's shared
panel helpers), charts/promql.py (the selectors and queries they share). Those are plain functions
of the context so gitops/generated/playbook.py can document the same alerts without starting cdk8s;
only the construct classes below touch ``charts.base``.
"""
from __future__ import annotations

from .alerts import alerts_for, prometheus_rule
from .context import ComponentContext
from .dashboard import dashboard_config_map
from .service_monitor import scrapes, service_monitor


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
