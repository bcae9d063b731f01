"""Typed model of the platform: what the inventory and environment files mean.

Everything downstream (charts, validation, docs, CI matrix, promotion) reads these
frozen dataclasses only; nothing downstream re-reads YAML. Input defaults are declared once,
in the JSON Schemas in ``gitops/schemas`` (``"default"``), and the loader reads them from there
(``gitops.inputs.load.schema_default``); these classes carry no input default of their own.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal, Mapping

ComponentKind = Literal["api", "frontend", "worker", "job", "cronjob", "backing"]
# Kinds that run as pods built from our own images.
WORKLOAD_KINDS = ("api", "frontend", "worker", "job", "cronjob")
# Kinds that serve traffic on a port (get a Service, probes, PDB, HPA).
SERVING_KINDS = ("api", "frontend")
LONG_RUNNING_KINDS = ("api", "frontend", "worker")


@dataclass(frozen=True)
class Resources:
    cpu_request: str
    memory_request: str
    cpu_limit: str
    memory_limit: str


@dataclass(frozen=True)
class CustomMetric:
    """A per-pod metric the HPA scales on, served by Prometheus Adapter.

    ``series`` is the counter the app really emits; the adapter turns its rate
    into ``name``.
    """

    name: str
    series: str
    target_average_value: str


@dataclass(frozen=True)
class Autoscaling:
    min_replicas: int
    max_replicas: int
    cpu_utilization: int
    memory_utilization: int
    custom_metrics: tuple[CustomMetric, ...]
    scale_down_stabilization_seconds: int
    scale_up_percent: int


@dataclass(frozen=True)
class SecretRef:
    """Where a secret env var comes from in the environment's secret store.

    ``key`` is relative to the store's path prefix, e.g. ``services/api-gateway``.
    """

    key: str
    property: str


@dataclass(frozen=True)
class EnvVar:
    name: str
    value: str | None
    secret: SecretRef | None
    required: bool
    description: str
    waivers: tuple[tuple[str, str], ...]  # (rule id, reason): a plain value that looks secret, on purpose

    @property
    def is_secret(self) -> bool:
        return self.secret is not None


@dataclass(frozen=True)
class Dependency:
    """Something a component talks to: another component or a backing service."""

    name: str
    port: int
    optional: bool
    protocol: str


@dataclass(frozen=True)
class Volume:
    name: str
    mount_path: str
    kind: Literal["emptyDir", "persistentVolumeClaim"]
    size: str


@dataclass(frozen=True)
class Health:
    """Which endpoint each probe calls (inventory ``health``).

    ``aggregating_paths`` answer for other services too (the api-gateway's ``/health`` returns 503
    when one upstream is down): a liveness or startup probe there restarts healthy pods during a
    backend outage, so the loader refuses it.
    """

    liveness_path: str
    readiness_path: str
    startup_path: str | None = None   # None: the liveness endpoint
    aggregating_paths: tuple[str, ...] = ()

    @property
    def startup(self) -> str:
        return self.startup_path or self.liveness_path

    @property
    def probe_paths(self) -> dict[str, str]:
        return {"livenessProbe": self.liveness_path, "readinessProbe": self.readiness_path,
                "startupProbe": self.startup}


@dataclass(frozen=True)
class Unauthenticated:
    """Paths the app must answer without credentials (probes, Prometheus) and the env vars the app
    reads its auth-exempt path list from (comma-separated), generated from ``paths``."""

    paths: tuple[str, ...]
    exempt_paths_env: tuple[str, ...] = ()


# Never reachable through a component's declared external egress (charts/network.py opens it,
# XRF023 checks it): the VPC and pod networks (RFC 1918, the RFC 6598 shared space used for secondary
# pod CIDRs) and link-local, which holds the instance metadata service 169.254.169.254. Backing
# services in the VPC get their own rule (the environment's backing endpoint cidr).
PRIVATE_RANGES = ("10.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16")


@dataclass(frozen=True)
class ExternalEgress:
    """Traffic a component sends outside the cluster and the VPC (inventory ``externalEgress``).

    NetworkPolicy matches IP blocks only, never DNS names: ``hosts`` documents what the app calls,
    ``cidrs`` is what the policy opens (the private ranges are always carved out).
    """

    name: str
    hosts: tuple[str, ...]
    port: int
    cidrs: tuple[str, ...]
    protocol: str
    description: str


@dataclass(frozen=True)
class Metrics:
    path: str
    # Port name on the Service; metrics are served on the main port by default.
    port_name: str = "http"


@dataclass(frozen=True)
class Alerting:
    error_ratio: float
    p95_latency_seconds: float
    latency_histogram: str | None = None
    requests_counter: str | None = None


@dataclass(frozen=True)
class CanaryStep:
    """One canary step: shift ``set_weight`` percent to the new version, or pause (``""``: until promoted)."""

    set_weight: int | None = None
    pause: str | None = None


@dataclass(frozen=True)
class DeliverySettings:
    """A ``delivery:`` block as written (inventory, environment, or environment component); None = unset.

    gitops/inputs/delivery.py merges the levels into the effective ``Delivery``.
    """

    strategy: Literal["rolling", "canary", "blueGreen"] | None = None
    steps: tuple[CanaryStep, ...] | None = None
    analysis: bool | None = None
    auto_promotion: bool | None = None


@dataclass(frozen=True)
class Component:
    name: str
    kind: ComponentKind
    description: str
    owner: str
    reviewers: tuple[str, ...]
    tier: str
    status: Literal["active", "planned"]
    language: str
    runtime: str
    source_path: str | None
    dockerfile: str | None
    image_repository: str | None
    build_command: str | None
    start_command: str | None
    port: int | None
    health: Health | None
    metrics: Metrics | None
    env: tuple[EnvVar, ...]
    dependencies: tuple[Dependency, ...]
    volumes: tuple[Volume, ...]
    public_subdomain: str | None
    resources: Resources | None
    autoscaling: Autoscaling | None
    schedule: str | None
    command: tuple[str, ...]
    alerting: Alerting
    cloud_identity: bool
    # Backing services only: the engine and where the managed endpoint lives.
    engine: str | None = None
    source_file: str = ""
    # "owner/name" of the application repository holding source_path (inventory source.repository).
    source_repository: str | None = None
    unauthenticated: Unauthenticated | None = None
    external_egress: tuple[ExternalEgress, ...] = ()
    delivery: DeliverySettings = DeliverySettings()
    # Jobs only: the long-running component whose Application runs this Job as a Sync hook
    # before rolling its workload (inventory runsBefore; charts/syncorder.py, docs/argocd.md).
    runs_before: str | None = None

    @property
    def is_workload(self) -> bool:
        return self.kind in WORKLOAD_KINDS

    @property
    def is_long_running(self) -> bool:
        """Runs continuously (Deployment): scales, has a PDB and a VPA."""
        return self.kind in LONG_RUNNING_KINDS

    @property
    def is_serving(self) -> bool:
        return self.kind in SERVING_KINDS

    @property
    def application(self) -> str:
        """The Argo CD Application that syncs this component's folder: its own, or for a job that runs
        before a workload (runsBefore: a Sync hook there, charts/argocd.py), the workload's."""
        return self.runs_before or self.name

    @property
    def has_service(self) -> bool:
        """Gets a Service (charts/service.py): a serving kind with a port."""
        return bool(self.is_serving and self.port)

    @property
    def ingress_routed(self) -> bool:
        """Reached through ingress-nginx (a Service and a public host), so a canary can shift traffic
        by weight there (charts/rollout.py ``trafficRouting``) instead of by replica counts."""
        return self.has_service and bool(self.public_subdomain)

    @property
    def is_buildable(self) -> bool:
        return self.is_workload and self.status == "active" and self.dockerfile is not None

    @property
    def secret_env(self) -> tuple[EnvVar, ...]:
        return tuple(e for e in self.env if e.is_secret)

    @property
    def plain_env(self) -> tuple[EnvVar, ...]:
        return tuple(e for e in self.env if not e.is_secret)


@dataclass(frozen=True)
class Image:
    tag: str
    digest: str | None = None


@dataclass(frozen=True)
class ComponentSettings:
    """Per-environment values for one component. ``None`` means: inventory default."""

    enabled: bool
    image: Image | None
    replicas: int | None = None
    resources: Resources | None = None
    autoscaling: Autoscaling | None = None
    env: tuple[tuple[str, str], ...] = ()
    secret_keys: tuple[tuple[str, SecretRef], ...] = ()
    delivery: DeliverySettings = DeliverySettings()


@dataclass(frozen=True)
class SecretStore:
    name: str
    kind: Literal["ClusterSecretStore", "SecretStore"]
    server: str
    path: str
    version: str
    role: str
    key_prefix: str


@dataclass(frozen=True)
class BackingEndpoint:
    host: str
    port: int
    cidr: str


@dataclass(frozen=True)
class Quota:
    requests_cpu: str
    requests_memory: str
    limits_cpu: str
    limits_memory: str
    pods: int


@dataclass(frozen=True)
class LimitRangeSpec:
    default_cpu: str
    default_memory: str
    default_request_cpu: str
    default_request_memory: str
    max_cpu: str
    max_memory: str
    min_cpu: str
    min_memory: str


@dataclass(frozen=True)
class NodeCapacity:
    instance_type: str
    nodes_min: int
    nodes_max: int
    cpu_per_node: str
    memory_per_node: str


@dataclass(frozen=True)
class SyncWindow:
    """An Argo CD sync window of the environment's AppProjects (cron schedule, duration, time zone)."""

    kind: Literal["allow", "deny"]
    schedule: str
    duration: str
    time_zone: str
    manual_sync: bool
    description: str


@dataclass(frozen=True)
class ArgoCDSettings:
    """How Argo CD runs the environment (environment file ``argocd:``, every field optional).

    ``sync_windows`` None means the generator's default: a business-hours window for
    environments without automated sync (prod), none otherwise.
    """

    slack_channel: str
    sync_windows: tuple[SyncWindow, ...] | None
    sync_groups: tuple[str, ...]
    server: str | None  # Argo CD API/UI URL; None: https://argocd.<domain> (Environment.argocd_server)


@dataclass(frozen=True)
class Environment:
    name: str
    promotes_from: str | None
    cluster_name: str
    cluster_server: str
    kubernetes_version: str
    namespace: str
    domain: str
    secret_store: SecretStore
    cluster_issuer: str
    pull_secret_key: str
    quota: Quota
    limit_range: LimitRangeSpec
    node_capacity: NodeCapacity
    backing: tuple[tuple[str, BackingEndpoint], ...]
    components: tuple[tuple[str, ComponentSettings], ...]
    # policy.requireDigest as written; ask ``requires_digest``, which also covers production.
    require_digest: bool
    auto_sync: bool
    argocd: ArgoCDSettings
    labels: tuple[tuple[str, str], ...] = ()
    source_file: str = ""
    decommissioned: tuple[str, ...] = ()
    aws_account_id: str | None = None
    delivery: DeliverySettings = DeliverySettings()
    # The one definition of "production", computed once by the loader from the promotion chain: the end of a
    # chain (something promotes into it, nothing promotes out of it). Gates, policies and validation ask this.
    production: bool = False
    # Promotion evidence (gitops/promote/evidence.py): how long the source must have run a version Synced, Healthy
    # and without critical alerts before it is promoted *into* this environment ("0s": no soak, no alerts gate).
    # Always set by the loader (schema default); "" only for an Environment built by hand.
    soak: str = ""
    prometheus: str | None = None  # Prometheus API URL as written (prometheus.server); ask ``prometheus_server``

    @property
    def requires_digest(self) -> bool:
        """Images must be pinned by digest here: production always, any other environment that opts in."""
        return self.production or self.require_digest

    # cached_property writes the instance __dict__ directly, so it works on frozen dataclasses.
    @cached_property
    def _settings_by_name(self) -> dict[str, ComponentSettings]:
        return dict(self.components)

    def settings(self, component: str) -> ComponentSettings | None:
        return self._settings_by_name.get(component)

    @property
    def argocd_server(self) -> str:
        """Where this environment's Argo CD answers: ``argocd.server``, else ``https://argocd.<domain>``,
        the host infra/terraform/modules/argocd gives the argo-cd chart (``global.domain``)."""
        return (self.argocd.server or f"https://argocd.{self.domain}").rstrip("/")

    @property
    def prometheus_server(self) -> str:
        """Where this environment's Prometheus HTTP API answers: ``prometheus.server``, else ``https://prometheus.<domain>``
        (the same naming as argocd.<domain> and grafana.<domain>; the monitoring add-on itself serves no Ingress for
        it, so a cluster without one declares the URL it publishes, or a port-forward sets PROMETHEUS_URL)."""
        return (self.prometheus or f"https://prometheus.{self.domain}").rstrip("/")

    def backing_endpoint(self, name: str) -> BackingEndpoint | None:
        return dict(self.backing).get(name)


def image_group(components: Mapping[str, Component], name: str) -> tuple[str, ...]:
    """``name`` and every component that must run exactly its image version, sorted.

    A job that runs before a workload (inventory runsBefore: migrations, as a Sync hook of the
    workload's Application) from the workload's own image repository migrates for the version it runs
    before: the two form one group. The loader refuses a group whose members run different images in
    an environment; ``gitops bump`` and ``gitops promote --service`` move a group together. Anything
    else is a group of one.
    """
    component = components[name]
    workload = components.get(component.runs_before) if component.runs_before else component
    if workload is None or workload.image_repository is None or component.image_repository != workload.image_repository:
        return (name,)
    return tuple(sorted({workload.name, *(c.name for c in components.values()
                                          if c.runs_before == workload.name and c.image_repository == workload.image_repository)}))


@dataclass(frozen=True)
class Platform:
    """The whole loaded input: every component and every environment."""

    components: tuple[Component, ...]
    environments: tuple[Environment, ...]
    repo_url: str = "https://github.com/meetinity/gitops.git"

    @cached_property
    def _by_name(self) -> dict[str, Component]:
        return {c.name: c for c in self.components}

    @cached_property
    def _enabled(self) -> dict[str, tuple[Component, ...]]:
        return {}

    def component(self, name: str) -> Component:
        return self._by_name[name]

    def image_group(self, name: str) -> tuple[str, ...]:
        return image_group(self._by_name, name)

    def environment(self, name: str) -> Environment:
        for e in self.environments:
            if e.name == name:
                return e
        raise KeyError(name)

    def enabled_components(self, env: Environment) -> tuple[Component, ...]:
        """Workloads the environment enables, in inventory (name) order."""
        cached = self._enabled.get(env.name)
        if cached is None:
            cached = self._enabled[env.name] = tuple(
                c for c in self.components
                if c.is_workload and c.status == "active" and (s := env.settings(c.name)) is not None and s.enabled
            )
        return cached

    def callers_of(self, name: str, env: Environment) -> tuple[Component, ...]:
        return tuple(
            c for c in self.enabled_components(env)
            if any(d.name == name for d in c.dependencies)
        )


@dataclass(frozen=True)
class Resolved:
    """Effective values of one component in one environment (inventory + overrides)."""

    component: Component
    env: Environment
    image: str
    version: str
    resources: Resources
    autoscaling: Autoscaling | None
    replicas: int
    env_values: tuple[tuple[str, str], ...]
    secret_refs: tuple[tuple[str, SecretRef], ...] = field(default=())
