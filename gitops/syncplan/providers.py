"""Who provides each API kind when Argo CD brings an environment up from an empty cluster.

The CRD-provider table: the API groups whose CustomResourceDefinitions each add-on chart installs,
read from the CRD schema lock (gitops/schemas/crds/lock.json: each chart's own CRD manifest, at the
version charts/addons.py pins; `gitops schemas import` keeps it current). It decides where ``SkipDryRunOnMissingResource`` is needed
(charts/argocd.py) and which Application ``gitops sync-plan`` names as the provider of a CRD.
A new add-on that installs CRDs imports its chart's CRDs (`gitops schemas import`). Pure Python: validation imports it without cdk8s.
"""
from __future__ import annotations

from ..crds.lock import crd_kinds_by_project

# chart name (Application spec.source.chart) -> API groups of the CRDs it installs. The charts install
# them because their values say so (cert-manager crds.enabled, external-secrets installCRDs) or always
# (kube-prometheus-stack crds/, the vpa and argo-rollouts charts).
CRD_GROUPS_BY_CHART: dict[str, tuple[str, ...]] = {
    chart: tuple(sorted({group for group, _ in kinds})) for chart, kinds in crd_kinds_by_project().items()}

# Installed before any Application syncs: Argo CD itself (infra/terraform/modules/argocd).
BOOTSTRAP_KINDS = frozenset({("argoproj.io", "Application"), ("argoproj.io", "AppProject"),
                             ("argoproj.io", "ApplicationSet")})
BOOTSTRAP = "terraform (Argo CD chart)"

# Groups the Kubernetes API server serves itself (plus metrics.k8s.io from metrics-server, an APIService).
BUILTIN_GROUPS = frozenset({
    "", "apps", "batch", "autoscaling", "policy", "networking.k8s.io", "rbac.authorization.k8s.io",
    "storage.k8s.io", "scheduling.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io",
    "admissionregistration.k8s.io", "coordination.k8s.io", "discovery.k8s.io", "node.k8s.io",
    "certificates.k8s.io", "events.k8s.io", "flowcontrol.apiserver.k8s.io", "resource.k8s.io",
})

MONITORING_GROUP = "monitoring.coreos.com"


def is_builtin(group: str, kind: str) -> bool:
    return group in BUILTIN_GROUPS or (group, kind) in BOOTSTRAP_KINDS


def rendered_cr_kinds(values) -> list[tuple[str, str, str]]:
    """(group, kind, values path) of the custom resources a chart renders because its values enable them.

    Charts render a ServiceMonitor where their values say ``serviceMonitor``/``servicemonitor``
    ``enabled: true`` (cert-manager ``prometheus.servicemonitor``, external-secrets and
    metrics-server ``serviceMonitor``); that CRD comes from kube-prometheus-stack."""
    found: list[tuple[str, str, str]] = []

    def walk(node, path: tuple) -> None:
        if not isinstance(node, dict):
            return
        for key, value in sorted(node.items()):
            if str(key).lower() == "servicemonitor" and isinstance(value, dict) and value.get("enabled") is True:
                found.append((MONITORING_GROUP, "ServiceMonitor", ".".join(path + (key, "enabled"))))
            walk(value, path + (str(key),))

    walk(values, ())
    return found
