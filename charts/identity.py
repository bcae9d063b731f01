"""ServiceAccount: one per workload, with the API token never mounted by default."""
from __future__ import annotations

from .base import emit
from .context import ComponentContext


class ServiceIdentity:
    """A dedicated ServiceAccount. Pods do not talk to the Kubernetes API, so the token stays unmounted."""

    def __init__(self, chart, ctx: ComponentContext):
        annotations = None
        role = workload_role_arn(ctx)
        if role:
            # IRSA: the role infra/terraform/modules/cluster creates for every cloudIdentity component.
            annotations = {"eks.amazonaws.com/role-arn": role}
        emit(chart, {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": ctx.metadata(annotations=annotations),
            "automountServiceAccountToken": False,
        })


def workload_role_arn(ctx: ComponentContext) -> str | None:
    if not (ctx.component.cloud_identity and ctx.env.aws_account_id):
        return None
    # Same name as infra/terraform/modules/sizing (workload_roles): <cluster>-<component>, 64 chars max.
    return f"arn:aws:iam::{ctx.env.aws_account_id}:role/{(ctx.env.cluster_name + '-' + ctx.name)[:64]}"
