"""PodDisruptionBudget that always leaves room for one voluntary eviction.

``maxUnavailable: 1`` rather than ``minAvailable``: with one replica, the old Helm
chart's ``minAvailable: 1`` blocked every node drain.
"""
from __future__ import annotations

from .base import emit
from .context import ComponentContext


class DisruptionBudget:
    def __init__(self, chart, ctx: ComponentContext):
        if not ctx.component.is_long_running:
            return
        emit(chart, {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": ctx.metadata(),
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": ctx.selector},
                     "unhealthyPodEvictionPolicy": "AlwaysAllow"},
        })
