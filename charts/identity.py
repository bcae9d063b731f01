"""ServiceAccount: one per workload, with the API token never mounted by default."""
from __future__ import annotations

from .base import emit
from .context import ComponentContext


class ServiceIdentity:
    """A dedicated ServiceAccount. Pods do not talk to the Kubernetes API, so the token stays unmounted."""

    def __init__(self, chart, ctx: ComponentContext):
        emit(chart, {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": ctx.metadata(),
            "automountServiceAccountToken": False,
        })
