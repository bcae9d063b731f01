"""Everything a component's constructs need, computed once per (component, environment)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from gitops.inputs.delivery import Delivery, delivery_of
from gitops.inputs.model import Component, Environment, Platform, Resolved
from gitops.inputs.resolve import resolve

from .labels import selector_labels, standard_labels

HTTP_PORT_NAME = "http"
PULL_SECRET_NAME = "ghcr-pull-secret"


@dataclass(frozen=True)
class ComponentContext:
    platform: Platform
    env: Environment
    component: Component
    resolved: Resolved

    @classmethod
    def of(cls, platform: Platform, env: Environment, component: Component) -> "ComponentContext":
        return cls(platform, env, component, resolve(component, env))

    @property
    def name(self) -> str:
        return self.component.name

    @property
    def namespace(self) -> str:
        return self.env.namespace

    @property
    def labels(self) -> dict[str, str]:
        return standard_labels(self.component, self.env, self.resolved.version)

    @property
    def selector(self) -> dict[str, str]:
        return selector_labels(self.component, self.env)

    def metadata(self, name: str | None = None, annotations: dict | None = None, labels: dict | None = None) -> dict:
        meta = {"name": name or self.name, "namespace": self.namespace, "labels": {**self.labels, **(labels or {})}}
        if annotations:
            meta["annotations"] = annotations
        return meta

    @cached_property
    def settings(self) -> dict[str, str]:
        """Plain settings (ConfigMap data), computed once: the ConfigMap, envFrom and the pod checksum use it."""
        return dict(sorted(self.resolved.env_values))

    @property
    def config_map_name(self) -> str:
        return f"{self.name}-settings"

    @property
    def secret_name(self) -> str:
        return f"{self.name}-secrets"

    @property
    def tls_secret_name(self) -> str:
        return f"{self.name}-tls"

    @property
    def host(self) -> str | None:
        sub = self.component.public_subdomain
        return f"{sub}.{self.env.domain}" if sub else None

    @property
    def hpa_managed(self) -> bool:
        return self.resolved.autoscaling is not None

    @cached_property
    def delivery(self) -> Delivery:
        return delivery_of(self.component, self.env)

    @property
    def workload_ref(self) -> dict:
        """What HPA and VPA target: the Rollout of a canary/blueGreen component, else its Deployment."""
        if self.delivery.progressive:
            # Rollout serves the scale subresource (.spec.replicas / .status.HPAReplicas / .status.selector):
            # https://argo-rollouts.readthedocs.io/en/stable/features/hpa-support/
            return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": self.name}
        return {"apiVersion": "apps/v1", "kind": "Deployment", "name": self.name}
