"""VerticalPodAutoscaler (autoscaling.k8s.io/v1) in recommendation mode, for right-sizing reviews.

``updateMode: "Off"``: the recommender publishes target/lower/upper bounds in the VPA status
and never evicts or resizes a pod. That is what lets it coexist with the HPA, which scales the
same Deployment on CPU and memory utilization: a VPA in Auto mode would change the requests the
HPA's utilization is computed against. The quarterly review (docs/autoscaling-playbook.md)
reads the recommendations with ``kubectl describe vpa``.

Bounds, derived from the effective resources so a review never sees an unappliable number:
- ``minAllowed`` = half the request, but never below the namespace LimitRange minimum;
- ``maxAllowed`` = twice the limit, but never above the LimitRange maximum (a request above it
  would be rejected by the API server anyway).
Only Deployments (api, frontend, worker) get one; jobs are too short-lived to be measured.
"""
from __future__ import annotations

from gitops.inputs.quantity import format_cpu, format_memory, parse_cpu, parse_memory

from .context import ComponentContext

VPA_API = "autoscaling.k8s.io/v1"


def vpa_bounds(ctx: ComponentContext) -> tuple[dict[str, str], dict[str, str]]:
    res, lr = ctx.resolved.resources, ctx.env.limit_range
    cpu_min = max(parse_cpu(res.cpu_request) / 2, parse_cpu(lr.min_cpu))
    mem_min = max(parse_memory(res.memory_request) / 2, parse_memory(lr.min_memory))
    cpu_max = max(min(parse_cpu(res.cpu_limit) * 2, parse_cpu(lr.max_cpu)), cpu_min)
    mem_max = max(min(parse_memory(res.memory_limit) * 2, parse_memory(lr.max_memory)), mem_min)
    return ({"cpu": format_cpu(cpu_min), "memory": format_memory(mem_min)},
            {"cpu": format_cpu(cpu_max), "memory": format_memory(mem_max)})


def applies(ctx: ComponentContext) -> bool:
    return ctx.component.is_long_running


def vertical_pod_autoscaler(ctx: ComponentContext) -> dict:
    min_allowed, max_allowed = vpa_bounds(ctx)
    return {
        "apiVersion": VPA_API,
        "kind": "VerticalPodAutoscaler",
        "metadata": ctx.metadata(),
        "spec": {
            "targetRef": ctx.workload_ref,
            "updatePolicy": {"updateMode": "Off"},
            "resourcePolicy": {"containerPolicies": [{
                "containerName": ctx.name,
                "controlledResources": ["cpu", "memory"],
                "minAllowed": min_allowed,
                "maxAllowed": max_allowed,
            }]},
        },
    }


class RightSizing:
    def __init__(self, chart, ctx: ComponentContext):
        if not applies(ctx):
            return
        from .base import emit

        emit(chart, vertical_pod_autoscaler(ctx))

