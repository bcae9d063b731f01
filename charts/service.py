"""ClusterIP Service in front of a serving component, targeting the named container port."""
from __future__ import annotations

from .base import emit
from .context import HTTP_PORT_NAME, ComponentContext


class ServiceEndpoint:
    def __init__(self, chart, ctx: ComponentContext):
        if not (ctx.component.is_serving and ctx.component.port):
            return
        emit(chart, {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": ctx.metadata(),
            "spec": {
                "type": "ClusterIP",
                "selector": ctx.selector,
                "ports": [{"name": HTTP_PORT_NAME, "port": ctx.component.port,
                           "targetPort": HTTP_PORT_NAME, "protocol": "TCP"}],
            },
        })
