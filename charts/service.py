"""ClusterIP Service in front of a serving component, targeting the named container port."""
from __future__ import annotations

from .base import emit
from .context import HTTP_PORT_NAME, ComponentContext


def service(ctx: ComponentContext, name: str | None = None) -> dict:
    """The component's Service; ``name`` for the canary/preview Services of a Rollout (charts/rollout.py)."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": ctx.metadata(name),
        "spec": {
            "type": "ClusterIP",
            "selector": ctx.selector,
            "ports": [{"name": HTTP_PORT_NAME, "port": ctx.component.port,
                       "targetPort": HTTP_PORT_NAME, "protocol": "TCP"}],
        },
    }


def has_service(ctx: ComponentContext) -> bool:
    return ctx.component.has_service


class ServiceEndpoint:
    def __init__(self, chart, ctx: ComponentContext):
        if has_service(ctx):
            emit(chart, service(ctx))
