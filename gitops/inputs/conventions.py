"""Platform conventions that several outputs must agree on, each written once.

Charts, the Dockerfile and compose generators, Terraform inputs, capacity and validation import
these names; none of them restates a value. Keep this module free of imports (the model, the
charts and the operations all read it).
"""
from __future__ import annotations

# The unprivileged uid/gid every container runs as: pod securityContext (charts/workload.py), the
# generated Dockerfiles' USER, and the compose stack's `user:` must match, or files the image owns
# become unreadable under the read-only root filesystem.
RUN_AS = 10001

# The input folders under the repository root: one YAML file per component, one per environment.
INVENTORY_DIR = "inventory"
ENVIRONMENTS_DIR = "environments"

# dist/<env>/<PLATFORM_DIR>/ holds the namespace layer (namespace, quota, policies, stores); the
# platform Application syncs that folder.
PLATFORM_DIR = "platform"

# Namespaces installed by Terraform (infra/terraform/modules/ingress, modules/argocd) that the
# generated NetworkPolicies and Argo CD objects name.
INGRESS_NAMESPACE = "ingress-nginx"
ARGOCD_NAMESPACE = "argocd"
# kube-prometheus-stack and prometheus-adapter (charts/addons.py); component NetworkPolicies admit
# Prometheus scrapes from it.
MONITORING_NAMESPACE = "monitoring"

# Deployment rollingUpdate.maxSurge, in percent of the replicas. The API server rounds a
# percentage surge up (k8s.io/apimachinery intstr.GetScaledValueFromIntOrPercent with roundUp=true),
# which `gitops capacity` reproduces when it adds the surge on top of the HPA maximum.
ROLLING_MAX_SURGE_PERCENT = 25
