"""Capacity arithmetic per environment: what the workloads ask for at HPA min and at HPA max,
against the namespace ResourceQuota and the node group.

Counting rules (one container per pod, as charts/workload.py renders them):
- a component with an HPA counts ``min`` pods at the low end and ``max`` pods at the high end;
- a Deployment without HPA counts its ``replicas`` at both ends;
- a Job or CronJob counts once (one pod running at a time: ``concurrencyPolicy: Forbid``);
- "max + surge" adds what a rollout runs on top of the maximum (gitops/inputs/delivery.py
  ``Delivery.surge_pods``): ``maxSurge: 25%`` (rounded up) for rolling updates and canaries without
  traffic routing, a full second ReplicaSet for blue-green and traffic-routed canaries. The quota
  also has to admit those pods while every component rolls at once (a promotion). It is reported as
  a warning, not a finding.

Findings (exit 1): the HPA maximum does not fit, i.e. any of requests.cpu, requests.memory,
limits.cpu, limits.memory or pods at max exceeds the ResourceQuota; the requests at max exceed
the allocatable capacity of the node group at ``nodeCapacity.max``; or one pod's requests exceed
one node's allocatable capacity (it could never be scheduled).

Allocatable capacity of a node = ``cpuPerNode``/``memoryPerNode`` minus the system reserve below.

Minimum and maximum nodes: the Cluster Autoscaler (infra/terraform/modules/cluster/controllers.tf)
resizes the node group between ``nodeCapacity.min`` and ``nodeCapacity.max``; it adds a node only
when a pod is Pending for lack of room, and a new node takes minutes to join. So the report gives the
allocatable capacity at both sizes and the nodes each load level needs (a lower bound: requests
divided by one node's allocatable CPU and memory, ignoring bin-packing losses):
- HPA maximum beyond ``nodeCapacity.max``: error (above);
- HPA minimum beyond ``nodeCapacity.min``: warning, every start or restart of the environment waits
  for scale-ups;
- HPA maximum (or max + surge) beyond ``nodeCapacity.min``: info, peaks wait for the autoscaler
  (raise ``min`` if the minutes matter).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

from ..findings import Finding
from ..inputs.delivery import delivery_of
from ..inputs.model import Environment, Platform
from ..inputs.quantity import format_cpu, format_memory, human_cpu, human_memory, parse_cpu, parse_memory
from ..inputs.resolve import resolve

# System reserve per node, subtracted before any workload is placed:
# - 10 % of CPU and memory for the kubelet's kube-reserved/system-reserved and the eviction
#   threshold (the EKS-optimized AMI reserves 70-110m CPU and about 0.6-1.1Gi per m5 node, i.e.
#   under 10 % from m5.large up; 10 % keeps a margin and is easy to check by hand);
# - plus the DaemonSets every node runs (aws-node, kube-proxy, ebs-csi-node, node-exporter, a
#   log shipper): 250m CPU and 512Mi memory of requests together.
SYSTEM_RESERVE_FRACTION = Decimal("0.10")
DAEMONSET_CPU = Decimal("0.25")
DAEMONSET_MEMORY = Decimal(512 * 2**20)
# The platform's own Deployments share the node group with the environment namespace (requests, HA):
# Prometheus 500m/1Gi, Alertmanager 2 x 200m/256Mi, prometheus-adapter 2 x 150m/256Mi, cert-manager
# 2 x 100m/128Mi (charts/addons.py); Argo CD, ingress-nginx, Cluster Autoscaler, CoreDNS and the EBS CSI
# controller (Terraform), Grafana, the operators, metrics-server and the VPA recommender. About 3 CPU
# and 6Gi together; counted once per cluster when sizing nodes.
PLATFORM_CPU = Decimal(3)
PLATFORM_MEMORY = Decimal(6 * 2**30)

RESOURCES = ("requests.cpu", "requests.memory", "limits.cpu", "limits.memory", "pods")


@dataclass(frozen=True)
class Usage:
    """Totals of one or more pods; CPU in cores, memory in bytes (exact Decimals)."""

    requests_cpu: Decimal = Decimal(0)
    requests_memory: Decimal = Decimal(0)
    limits_cpu: Decimal = Decimal(0)
    limits_memory: Decimal = Decimal(0)
    pods: int = 0

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(self.requests_cpu + other.requests_cpu, self.requests_memory + other.requests_memory,
                     self.limits_cpu + other.limits_cpu, self.limits_memory + other.limits_memory,
                     self.pods + other.pods)

    def times(self, n: int) -> "Usage":
        return Usage(self.requests_cpu * n, self.requests_memory * n, self.limits_cpu * n,
                     self.limits_memory * n, self.pods * n)

    def get(self, resource: str) -> Decimal:
        return {
            "requests.cpu": self.requests_cpu, "requests.memory": self.requests_memory,
            "limits.cpu": self.limits_cpu, "limits.memory": self.limits_memory,
            "pods": Decimal(self.pods),
        }[resource]

    def as_dict(self) -> dict:
        return {
            "pods": self.pods,
            "requests_cpu_millicores": int(self.requests_cpu * 1000),
            "requests_memory_bytes": int(self.requests_memory),
            "limits_cpu_millicores": int(self.limits_cpu * 1000),
            "limits_memory_bytes": int(self.limits_memory),
        }


def show(resource: str, value: Decimal) -> str:
    if resource.endswith(".cpu"):
        return human_cpu(value)
    if resource.endswith(".memory"):
        return human_memory(value)
    return str(int(value))


@dataclass(frozen=True)
class ComponentCapacity:
    name: str
    kind: str
    scaling: str  # "hpa", "replicas" or "job"
    min_pods: int
    max_pods: int
    surge_pods: int
    per_pod: Usage
    requests: str
    limits: str

    @property
    def at_min(self) -> Usage:
        return self.per_pod.times(self.min_pods)

    @property
    def at_max(self) -> Usage:
        return self.per_pod.times(self.max_pods)

    @property
    def at_surge(self) -> Usage:
        return self.per_pod.times(self.max_pods + self.surge_pods)

    def as_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "scaling": self.scaling, "min_pods": self.min_pods,
                "max_pods": self.max_pods, "surge_pods": self.surge_pods, "requests": self.requests,
                "limits": self.limits}


# Rule IDs of `gitops capacity` findings (gitops/findings.py is the record and JSON contract).
CAPACITY_RULES = {
    "CAP001": "quota holds the HPA maximum",
    "CAP002": "quota holds every rollout's peak at the HPA maximum",
    "CAP003": "node group holds the HPA maximum",
    "CAP004": "a pod fits on one node",
    "CAP005": "node group holds the HPA maximum plus the platform add-ons",
    "CAP006": "the node group's minimum holds the HPA minima",
    "CAP007": "the node group's minimum holds the HPA maxima (else the autoscaler scales up at peaks)",
}


def _finding(rule_id: str, severity: str, env: str, resource: str, message: str, fix: str) -> Finding:
    return Finding(rule_id, severity, message, fix=fix, env=env, path=resource, rule=CAPACITY_RULES[rule_id],
                   file=f"environments/{env}.yaml")


@dataclass(frozen=True)
class NodeGroup:
    instance_type: str
    nodes_min: int
    nodes_max: int
    per_node_cpu: Decimal
    per_node_memory: Decimal

    @property
    def allocatable_cpu_per_node(self) -> Decimal:
        return self.per_node_cpu * (1 - SYSTEM_RESERVE_FRACTION) - DAEMONSET_CPU

    @property
    def allocatable_memory_per_node(self) -> Decimal:
        return self.per_node_memory * (1 - SYSTEM_RESERVE_FRACTION) - DAEMONSET_MEMORY

    def allocatable(self, nodes: int) -> tuple[Decimal, Decimal]:
        return self.allocatable_cpu_per_node * nodes, self.allocatable_memory_per_node * nodes

    def nodes_needed(self, usage: "Usage") -> int:
        """Fewest nodes whose allocatable CPU and memory hold the requests plus the platform add-ons
        (a lower bound: bin-packing losses are ignored)."""
        cpu, mem = self.allocatable_cpu_per_node, self.allocatable_memory_per_node
        if cpu <= 0 or mem <= 0:
            return 0
        return max(math.ceil((usage.requests_cpu + PLATFORM_CPU) / cpu), math.ceil((usage.requests_memory + PLATFORM_MEMORY) / mem))

    def as_dict(self) -> dict:
        cpu_max, mem_max = self.allocatable(self.nodes_max)
        cpu_min, mem_min = self.allocatable(self.nodes_min)
        return {"instance_type": self.instance_type, "nodes_min": self.nodes_min, "nodes_max": self.nodes_max,
                "allocatable_cpu_millicores_per_node": int(self.allocatable_cpu_per_node * 1000),
                "allocatable_memory_bytes_per_node": int(self.allocatable_memory_per_node),
                "allocatable_cpu_millicores_at_min": int(cpu_min * 1000),
                "allocatable_memory_bytes_at_min": int(mem_min),
                "allocatable_cpu_millicores_at_max": int(cpu_max * 1000),
                "allocatable_memory_bytes_at_max": int(mem_max)}


@dataclass(frozen=True)
class EnvCapacity:
    env: str
    namespace: str
    components: tuple[ComponentCapacity, ...]
    quota: Usage
    nodes: NodeGroup
    findings: tuple[Finding, ...] = field(default=())

    def total(self, which: str) -> Usage:
        out = Usage()
        for c in self.components:
            out = out + getattr(c, which)
        return out

    @property
    def at_min(self) -> Usage:
        return self.total("at_min")

    @property
    def at_max(self) -> Usage:
        return self.total("at_max")

    @property
    def at_surge(self) -> Usage:
        return self.total("at_surge")

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    def as_dict(self) -> dict:
        return {
            "env": self.env, "namespace": self.namespace, "ok": self.ok,
            "components": [c.as_dict() for c in self.components],
            "at_min": self.at_min.as_dict(), "at_max": self.at_max.as_dict(),
            "at_max_with_surge": self.at_surge.as_dict(), "quota": self.quota.as_dict(),
            "nodes": self.nodes.as_dict(), "findings": [f.as_dict() for f in self.findings],
            "nodes_needed": {"at_min": self.nodes.nodes_needed(self.at_min), "at_max": self.nodes.nodes_needed(self.at_max),
                             "at_max_with_surge": self.nodes.nodes_needed(self.at_surge)},
            "platform_addons": {"cpu_millicores": int(PLATFORM_CPU * 1000), "memory_bytes": int(PLATFORM_MEMORY)},
            "system_reserve": {"fraction": str(SYSTEM_RESERVE_FRACTION),
                               "daemonset_cpu_millicores": int(DAEMONSET_CPU * 1000),
                               "daemonset_memory_bytes": int(DAEMONSET_MEMORY)},
        }


def component_capacity(platform: Platform, env: Environment) -> tuple[ComponentCapacity, ...]:
    out = []
    for component in platform.enabled_components(env):
        r = resolve(component, env)
        res = r.resources
        per_pod = Usage(parse_cpu(res.cpu_request), parse_memory(res.memory_request),
                        parse_cpu(res.cpu_limit), parse_memory(res.memory_limit), 1)
        if component.kind in ("job", "cronjob"):
            scaling, low, high, surge = "job", 1, 1, 0
        else:
            if r.autoscaling is not None:
                scaling, low, high = "hpa", r.autoscaling.min_replicas, r.autoscaling.max_replicas
            else:
                scaling, low, high = "replicas", r.replicas, r.replicas
            surge = delivery_of(component, env).surge_pods(high, component.ingress_routed)
        out.append(ComponentCapacity(
            component.name, component.kind, scaling, low, high, surge, per_pod,
            f"{res.cpu_request}/{res.memory_request}", f"{res.cpu_limit}/{res.memory_limit}"))
    return tuple(out)


def _quota(env: Environment) -> Usage:
    q = env.quota
    return Usage(parse_cpu(q.requests_cpu), parse_memory(q.requests_memory), parse_cpu(q.limits_cpu),
                 parse_memory(q.limits_memory), q.pods)


def _node_group(env: Environment) -> NodeGroup:
    n = env.node_capacity
    return NodeGroup(n.instance_type, n.nodes_min, n.nodes_max, parse_cpu(n.cpu_per_node), parse_memory(n.memory_per_node))


def _findings(env: str, components: tuple[ComponentCapacity, ...], quota: Usage, nodes: NodeGroup) -> list[Finding]:
    findings: list[Finding] = []
    at_min, at_max, at_surge = Usage(), Usage(), Usage()
    for c in components:
        at_min, at_max, at_surge = at_min + c.at_min, at_max + c.at_max, at_surge + c.at_surge
    for resource in RESOURCES:
        need, hard = at_max.get(resource), quota.get(resource)
        if need > hard:
            where = "even at HPA min" if at_min.get(resource) > hard else "at HPA max"
            findings.append(_finding("CAP001", "error", env, resource,
                                    f"{resource} {where} needs {show(resource, need)}, the ResourceQuota allows "
                                    f"{show(resource, hard)} (over by {show(resource, need - hard)}); the HPA maximum cannot fit",
                                    "raise quota in the environment file or lower autoscaling.maxReplicas / resources"))
        elif at_surge.get(resource) > hard:
            findings.append(_finding("CAP002", "warning", env, resource,
                                    f"{resource} at HPA max plus the rollout surge needs {show(resource, at_surge.get(resource))}, "
                                    f"the ResourceQuota allows {show(resource, hard)}: a rollout at peak would stall on the quota",
                                    "leave room in quota for the surge, or lower autoscaling.maxReplicas"))
    cpu_cap, mem_cap = nodes.allocatable(nodes.nodes_max)
    for resource, need, cap in (("requests.cpu", at_max.requests_cpu, cpu_cap),
                                ("requests.memory", at_max.requests_memory, mem_cap)):
        if need > cap:
            findings.append(_finding("CAP003", "error", env, f"nodes.{resource.split('.')[1]}",
                                    f"{resource} at HPA max needs {show(resource, need)}, {nodes.nodes_max} x {nodes.instance_type} "
                                    f"offer {show(resource, cap)} allocatable after the system reserve; the HPA maximum cannot fit",
                                    "raise nodeCapacity.max or the instance type, or lower autoscaling.maxReplicas"))
    findings.extend(_node_range_findings(env, at_min, at_max, at_surge, nodes))
    for c in components:
        if c.per_pod.requests_cpu > nodes.allocatable_cpu_per_node or c.per_pod.requests_memory > nodes.allocatable_memory_per_node:
            findings.append(_finding("CAP004", "error", env, "nodes.pod",
                                    f"one {c.name} pod requests {c.requests}, more than one {nodes.instance_type} node can allocate "
                                    f"({format_cpu(nodes.allocatable_cpu_per_node)}/{format_memory(nodes.allocatable_memory_per_node)}); it can never be scheduled",
                                    f"lower {c.name}'s requests or choose a larger nodeCapacity.instanceType"))
    return findings


def _node_range_findings(env: str, at_min: Usage, at_max: Usage, at_surge: Usage, nodes: NodeGroup) -> list[Finding]:
    """How the load levels compare with the node group's minimum size (the maximum is checked above)."""
    out = []
    need_min, need_max, need_surge = nodes.nodes_needed(at_min), nodes.nodes_needed(at_max), nodes.nodes_needed(at_surge)
    group = f"{nodes.nodes_min}-{nodes.nodes_max} x {nodes.instance_type}"
    cpu_cap, mem_cap = nodes.allocatable(nodes.nodes_max)
    if need_max > nodes.nodes_max and at_max.requests_cpu <= cpu_cap and at_max.requests_memory <= mem_cap:
        out.append(_finding("CAP005", "error", env, "nodes.max",
                           f"the HPA maxima plus the platform add-ons ({format_cpu(PLATFORM_CPU)} CPU / {format_memory(PLATFORM_MEMORY)}) "
                           f"need at least {need_max} nodes, the node group stops at {nodes.nodes_max} ({group})", "raise nodeCapacity.max"))
    if need_min > nodes.nodes_min:
        out.append(_finding("CAP006", "warning", env, "nodes.min",
                           f"the HPA minima need at least {need_min} nodes, the node group starts at {nodes.nodes_min} ({group}): "
                           "every start waits for the Cluster Autoscaler", "raise nodeCapacity.min"))
    scale_up = (f"the Cluster Autoscaler adds nodes up to {nodes.nodes_max}, a few minutes per scale-up while new pods "
                "stay Pending")
    if need_max > nodes.nodes_min:
        out.append(_finding("CAP007", "info", env, "nodes.scale-up",
                           f"the minimum of {nodes.nodes_min} nodes cannot hold the HPA maxima: they need at least {need_max} nodes "
                           f"({need_surge} with the rollout surge); {scale_up}", "raise nodeCapacity.min if peaks cannot wait"))
    elif need_surge > nodes.nodes_min:
        out.append(_finding("CAP007", "info", env, "nodes.scale-up",
                           f"the minimum of {nodes.nodes_min} nodes holds the HPA maxima only without the rollout surge, "
                           f"which needs at least {need_surge} nodes; {scale_up}", "raise nodeCapacity.min if peaks cannot wait"))
    return out


def environment_capacity(platform: Platform, env: Environment) -> EnvCapacity:
    components = component_capacity(platform, env)
    quota, nodes = _quota(env), _node_group(env)
    return EnvCapacity(env.name, env.namespace, components, quota, nodes,
                       tuple(_findings(env.name, components, quota, nodes)))


def capacity(platform: Platform, env_names: list[str] | None = None) -> list[EnvCapacity]:
    envs = [platform.environment(n) for n in env_names] if env_names else list(platform.environments)
    return [environment_capacity(platform, e) for e in envs]


# ---------------------------------------------------------------------------------------------
# Text report
# ---------------------------------------------------------------------------------------------

def _row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return [_row(header, widths), *(_row(r, widths) for r in rows)]


def summary_rows(cap: EnvCapacity) -> list[list[str]]:
    n = cap.nodes
    rows = []
    for label, usage in (("at HPA min", cap.at_min), ("at HPA max", cap.at_max),
                         ("at max + surge", cap.at_surge), ("ResourceQuota", cap.quota)):
        rows.append([label, *(show(r, usage.get(r)) for r in RESOURCES)])
    for which, count in (("min", n.nodes_min), ("max", n.nodes_max)):
        cpu_cap, mem_cap = n.allocatable(count)
        rows.append([f"nodes at {which} ({count} x {n.instance_type}, allocatable)",
                     human_cpu(cpu_cap), human_memory(mem_cap), "-", "-", "-"])
    return rows


def render_text(caps: list[EnvCapacity]) -> str:
    lines: list[str] = []
    for cap in caps:
        n = cap.nodes
        lines.append(f"{cap.env} (namespace {cap.namespace}; nodes {n.nodes_min}-{n.nodes_max} x {n.instance_type}, "
                     f"{format_cpu(n.per_node_cpu)} CPU / {format_memory(n.per_node_memory)} each)")
        lines.extend("  " + line for line in _table(
            ["component", "scaling", "pods min", "pods max", "requests/pod", "limits/pod"],
            [[c.name, c.scaling, str(c.min_pods), str(c.max_pods), c.requests, c.limits] for c in cap.components]))
        lines.append("")
        lines.extend("  " + line for line in _table(["", *RESOURCES], summary_rows(cap)))
        lines.append(f"  nodes needed (requests / allocatable per node): {n.nodes_needed(cap.at_min)} at HPA min, "
                     f"{n.nodes_needed(cap.at_max)} at HPA max, {n.nodes_needed(cap.at_surge)} at max + surge "
                     f"(node group {n.nodes_min}-{n.nodes_max})")
        for f in cap.findings:
            lines.append(f"  {f}")
        lines.append(f"  {'OK: the HPA maximum fits' if cap.ok else 'FAIL: the HPA maximum does not fit'}")
        lines.append("")
    lines.append(f"System reserve per node: {int(SYSTEM_RESERVE_FRACTION * 100)}% of CPU and memory (kubelet, system, "
                 f"eviction) plus {format_cpu(DAEMONSET_CPU)} CPU / {format_memory(DAEMONSET_MEMORY)} for DaemonSets; "
                 f"nodes needed also count the platform add-ons ({format_cpu(PLATFORM_CPU)} CPU / {format_memory(PLATFORM_MEMORY)}).")
    return "\n".join(lines) + "\n"
