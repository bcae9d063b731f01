"""ConfigMap holding a component's plain (non-secret) settings."""
from __future__ import annotations

import hashlib
import json

from gitops.inputs.secretscan import RULE_ID as SECRET_RULE

from .base import emit
from .context import ComponentContext


def settings_data(ctx: ComponentContext) -> dict[str, str]:
    return ctx.settings


def settings_checksum(ctx: ComponentContext) -> str:
    """Hash of the settings, put on the pod template so a config change rolls the pods."""
    return hashlib.sha256(json.dumps(settings_data(ctx), sort_keys=True).encode()).hexdigest()


class Settings:
    """Plain settings as a ConfigMap, consumed with envFrom. Emitted only when there is something to set."""

    def __init__(self, chart, ctx: ComponentContext):
        data = settings_data(ctx)
        if not data:
            return
        # A plain value the inventory waived as not secret (gitops/inputs/secretscan.py) carries the same
        # waiver for `gitops validate` (SEC002), so both checks agree.
        waived = [f"{e.name}: {dict(e.waivers)[SECRET_RULE]}" for e in ctx.component.env
                  if e.name in data and dict(e.waivers).get(SECRET_RULE)]
        annotations = {f"waiver.meetinity.io/{SECRET_RULE}": "; ".join(waived)} if waived else None
        emit(chart, {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": ctx.metadata(ctx.config_map_name, annotations),
            "data": data,
        })
