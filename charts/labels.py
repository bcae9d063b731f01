"""Standard app.kubernetes.io labels, shared by every object of a component."""
from __future__ import annotations

from gitops.inputs.model import Component, Environment

PART_OF = "meetinity"
MANAGED_BY = "meetinity-gitops"


def selector_labels(component: Component, env: Environment) -> dict[str, str]:
    # Selectors are immutable on Deployments: only name and instance, never the version.
    return {
        "app.kubernetes.io/instance": f"{component.name}-{env.name}",
        "app.kubernetes.io/name": component.name,
    }


def standard_labels(component: Component, env: Environment, version: str) -> dict[str, str]:
    return {
        **selector_labels(component, env),
        "app.kubernetes.io/component": component.kind,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/version": version[:63],
        "meetinity.io/environment": env.name,
        "meetinity.io/team": component.owner,
        "meetinity.io/tier": component.tier,
    }


def platform_labels(env: Environment, name: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/component": "platform",
        "app.kubernetes.io/instance": f"{name}-{env.name}",
        "app.kubernetes.io/managed-by": MANAGED_BY,
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/version": "1",
        "meetinity.io/environment": env.name,
    }
