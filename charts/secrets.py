"""Secrets come from the environment's secret store through External Secrets Operator, never from git."""
from __future__ import annotations

from gitops.inputs.model import Environment, SecretRef

from .base import emit
from .context import ComponentContext

EXTERNAL_SECRETS_API = "external-secrets.io/v1"
REFRESH_INTERVAL = "1h"


def remote_key(env: Environment, ref: SecretRef) -> str:
    return f"{env.secret_store.key_prefix}/{ref.key}"


def store_ref(env: Environment) -> dict:
    return {"kind": env.secret_store.kind, "name": env.secret_store.name}


class ComponentSecrets:
    """One ExternalSecret creating ``<component>-secrets`` with every secret env var as a key."""

    def __init__(self, chart, ctx: ComponentContext):
        refs = sorted(ctx.resolved.secret_refs)
        if not refs:
            return
        emit(chart, {
            "apiVersion": EXTERNAL_SECRETS_API,
            "kind": "ExternalSecret",
            "metadata": ctx.metadata(ctx.secret_name),
            "spec": {
                "refreshInterval": REFRESH_INTERVAL,
                "secretStoreRef": store_ref(ctx.env),
                "target": {"name": ctx.secret_name, "creationPolicy": "Owner", "deletionPolicy": "Retain"},
                "data": [
                    {"secretKey": var, "remoteRef": {"key": remote_key(ctx.env, ref), "property": ref.property}}
                    for var, ref in refs
                ],
            },
        })
