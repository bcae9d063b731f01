"""Environment -> ``infra/terraform/environments/<env>/generated.auto.tfvars.json``.

Terraform and the Kubernetes manifests read the same model: the cluster name, the
Kubernetes version, the node group size, the namespaces the cluster must know about
and the workloads that need a cloud identity (an IAM role bound to their
ServiceAccount through IRSA) all come from ``environments/<env>.yaml`` and
``inventory/``. Terraform loads ``*.auto.tfvars.json`` on its own, so the composition
in that folder needs no ``-var-file``.

Every key here is passed through by ``infra/terraform/environments/<env>/variables.tf`` to the
shared module, which types and validates it in ``infra/terraform/modules/environment/variables.tf``
(a test keeps them in step).
Output is canonical JSON (sorted keys, indent 2, trailing newline): same model, same bytes.
"""
from __future__ import annotations

import json

from ..inputs.conventions import ARGOCD_NAMESPACE, INGRESS_NAMESPACE
from ..inputs.model import Environment, Platform


TFVARS_PATH = "infra/terraform/environments/{env}/generated.auto.tfvars.json"


def tfvars_data(platform: Platform, env: Environment) -> dict:
    """The generated Terraform variables of one environment, as plain JSON data."""
    nc = env.node_capacity
    q = env.quota
    identities = [
        {"name": c.name, "namespace": env.namespace, "service_account": c.name}
        for c in platform.enabled_components(env)
        if c.cloud_identity
    ]
    return {
        "environment": env.name,
        "cluster_name": env.cluster_name,
        "kubernetes_version": env.kubernetes_version,
        "domain": env.domain,
        "cluster_issuer": env.cluster_issuer,
        # Where the managed backing services live (the VPC's private subnets): the
        # NetworkPolicies open egress to these ranges, so the VPC must contain them.
        "backing_cidrs": sorted({b.cidr for _, b in env.backing}),
        "namespaces": {
            "workloads": env.namespace,
            "ingress": INGRESS_NAMESPACE,
            "argocd": ARGOCD_NAMESPACE,
        },
        "node_capacity": {
            "instance_type": nc.instance_type,
            "min_size": nc.nodes_min,
            "max_size": nc.nodes_max,
            "cpu_per_node": nc.cpu_per_node,
            "memory_per_node": nc.memory_per_node,
        },
        "namespace_quota": {
            "requests_cpu": q.requests_cpu,
            "requests_memory": q.requests_memory,
            "limits_cpu": q.limits_cpu,
            "limits_memory": q.limits_memory,
        },
        "cloud_identities": sorted(identities, key=lambda i: i["name"]),
    }


def render_tfvars(platform: Platform, env: Environment) -> bytes:
    """Canonical JSON bytes of :func:`tfvars_data` (registered in gitops/pipeline/outputs.py ENV_FILES)."""
    return (json.dumps(tfvars_data(platform, env), sort_keys=True, indent=2) + "\n").encode("utf-8")
