"""HorizontalPodAutoscaler (autoscaling/v2): CPU and memory targets, optional per-pod custom metrics.

Custom metrics (``Pods`` metrics, ``AverageValue`` per pod) are served by Prometheus Adapter
from rules generated out of the same inventory declarations (gitops/generated/adapter.py), so an HPA
metric always has exactly one rule and that rule reads the series the component exports.

Behaviour (the old charts' HPA behavior and the old autoscaling playbook's numbers):
- scale up: 60 s stabilization, at most ``scaleUpPercent`` (default 100 %, i.e. doubling) per minute;
- scale down: ``scaleDownStabilizationSeconds`` (default 300 s: the highest recommendation of the
  last five minutes wins, so a short dip never removes pods), then at most half the pods per
  minute, so a drop in traffic drains gradually instead of in one step.
Deployments managed by an HPA carry no ``replicas`` (charts/workload.py): the HPA owns it.
"""
from __future__ import annotations

from .context import ComponentContext

SCALE_UP_STABILIZATION_SECONDS = 60
SCALE_DOWN_PERCENT_PER_MINUTE = 50


def _resource_metric(name: str, utilization: int) -> dict:
    return {"type": "Resource", "resource": {"name": name, "target": {"type": "Utilization", "averageUtilization": utilization}}}


def horizontal_pod_autoscaler(ctx: ComponentContext) -> dict | None:
    auto = ctx.resolved.autoscaling
    if auto is None:
        return None
    metrics = [_resource_metric("cpu", auto.cpu_utilization), _resource_metric("memory", auto.memory_utilization)]
    for m in auto.custom_metrics:
        metrics.append({"type": "Pods", "pods": {
            "metric": {"name": m.name},
            "target": {"type": "AverageValue", "averageValue": m.target_average_value},
        }})
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": ctx.metadata(),
        "spec": {
            "scaleTargetRef": ctx.workload_ref,
            "minReplicas": auto.min_replicas,
            "maxReplicas": auto.max_replicas,
            "metrics": metrics,
            "behavior": {
                "scaleUp": {"stabilizationWindowSeconds": SCALE_UP_STABILIZATION_SECONDS, "selectPolicy": "Max",
                            "policies": [{"type": "Percent", "value": auto.scale_up_percent, "periodSeconds": 60}]},
                "scaleDown": {"stabilizationWindowSeconds": auto.scale_down_stabilization_seconds, "selectPolicy": "Max",
                              "policies": [{"type": "Percent", "value": SCALE_DOWN_PERCENT_PER_MINUTE, "periodSeconds": 60}]},
            },
        },
    }


class Autoscaler:
    def __init__(self, chart, ctx: ComponentContext):
        body = horizontal_pod_autoscaler(ctx)
        if body is None:
            return
        from .base import emit  # cdk8s is imported only where objects are emitted

        emit(chart, body)
