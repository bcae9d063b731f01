"""ServiceMonitor (monitoring.coreos.com/v1) of a component that serves metrics.

Only for components that serve metrics (``component.metrics``), on the Service's named port ``http``
and the declared path. Prometheus adds the ``namespace``, ``pod`` and ``service`` target labels the
adapter rules (gitops/generated/adapter.py), the alerts (charts/alerts.py) and the dashboard select on.

ServiceMonitors and PrometheusRules carry ``release: kube-prometheus-stack``, the label the stack's
Prometheus selects them by (``serviceMonitorSelectorNilUsesHelmValues`` /
``ruleSelectorNilUsesHelmValues`` default to true).
"""
from __future__ import annotations

from .context import HTTP_PORT_NAME, ComponentContext

MONITORING_API = "monitoring.coreos.com/v1"
PROMETHEUS_SELECTOR_LABELS = {"release": "kube-prometheus-stack"}
# 30s scrapes: the adapter's rate(...[2m]) window then always holds 4 samples.
SCRAPE_INTERVAL = "30s"
SCRAPE_TIMEOUT = "10s"


def scrapes(ctx: ComponentContext) -> bool:
    """A ServiceMonitor exists: metrics declared and a Service with the named port in front."""
    c = ctx.component
    return c.metrics is not None and c.is_serving and c.port is not None


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
