"""HorizontalPodAutoscaler (autoscaling/v2): CPU and memory targets, optional per-pod custom metrics.

Custom metrics are served by Prometheus Adapter from rules generated out of the same
inventory declarations (see charts/adapter_rules.py), so an HPA metric always has a rule.
"""
from __future__ import annotations

from .base import emit
from .context import ComponentContext


def _resource_metric(name: str, utilization: int) -> dict:
    return {"type": "Resource", "resource": {"name": name, "target": {"type": "Utilization", "averageUtilization": utilization}}}


class Autoscaler:
    def __init__(self, chart, ctx: ComponentContext):
        auto = ctx.resolved.autoscaling
        if auto is None:
            return
        metrics = [_resource_metric("cpu", auto.cpu_utilization), _resource_metric("memory", auto.memory_utilization)]
        for m in auto.custom_metrics:
            metrics.append({"type": "Pods", "pods": {
                "metric": {"name": m.name},
                "target": {"type": "AverageValue", "averageValue": m.target_average_value},
            }})
        emit(chart, {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": ctx.metadata(),
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": ctx.name},
                "minReplicas": auto.min_replicas,
                "maxReplicas": auto.max_replicas,
                "metrics": metrics,
                "behavior": {
                    "scaleUp": {"stabilizationWindowSeconds": 60, "selectPolicy": "Max",
                                "policies": [{"type": "Percent", "value": auto.scale_up_percent, "periodSeconds": 60}]},
                    "scaleDown": {"stabilizationWindowSeconds": auto.scale_down_stabilization_seconds, "selectPolicy": "Max",
                                  "policies": [{"type": "Percent", "value": 50, "periodSeconds": 60}]},
                },
            },
        })
