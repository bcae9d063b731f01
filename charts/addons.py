"""Platform add-ons of one environment as Argo CD Applications with Helm sources, plus the ClusterIssuers.

Every add-on is a pinned chart (exact version, never a range) from its upstream repository,
with per-environment values computed from the model; nothing here is written by hand per
environment. Versions are chosen for the environments' Kubernetes 1.33 and for the APIs the
generated manifests use:

- external-secrets >= 0.16 serves ``external-secrets.io/v1`` (charts/secrets.py); 0.10.x only
  served v1beta1, so the ExternalSecrets and the ClusterSecretStore would be rejected.
- cert-manager 1.19 supports Kubernetes 1.31-1.35 (1.16 stopped at 1.31).
- ingress-nginx is NOT an Argo CD Application: infra/terraform/modules/ingress installs it
  (chart 4.13.3) because the load balancer and the Argo CD UI ingress must exist before Argo CD
  runs. Installing it twice is the defect the old setup had with cert-manager (a Terraform
  release v1.14.4 and an unpinned one from deploy.sh, in two namespaces).

Sync waves (lower first; the root Application applies its children in this order):
  -40 kube-prometheus-stack         CRDs every ServiceMonitor/PrometheusRule needs
  -30 cert-manager, external-secrets, metrics-server, vertical-pod-autoscaler,
      argo-rollouts (only where a component is delivered by canary/blueGreen; its ServiceMonitor needs -40)
  -20 prometheus-adapter (needs Prometheus), cluster-issuers (needs cert-manager CRDs)
  -10 platform layer, then components (charts/argocd.py)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from gitops.generated.adapter import adapter_rules
from gitops.inputs.conventions import MONITORING_NAMESPACE
from gitops.crds.lock import crd_project
from gitops.inputs.delivery import delivery_of
from gitops.inputs.model import Environment, Platform
from gitops.inputs.operator_pods import ACME_SOLVER_DEFAULTS
from gitops.inputs.quantity import parse_cpu, parse_memory

from .rollouts_dashboard import dashboard_config_map as rollouts_dashboard

CERT_MANAGER_API = "cert-manager.io/v1"
SELF_SIGNED_ISSUER = "selfsigned-cluster-issuer"
LETSENCRYPT_ISSUER = "letsencrypt"
LETSENCRYPT_SERVER = "https://acme-v02.api.letsencrypt.org/directory"
ACME_EMAIL = "sre@meetinity.com"
INGRESS_CLASS = "nginx"

PROMETHEUS_RELEASE = "kube-prometheus-stack"
# Service of the stack's Prometheus (<release>-prometheus). No route prefix: the old adapter
# values pointed at .../prometheus, a path Prometheus never served (no route prefix was configured).
PROMETHEUS_URL = f"http://{PROMETHEUS_RELEASE}-prometheus.{MONITORING_NAMESPACE}.svc"
PROMETHEUS_PORT = 9090
GRAFANA_ADMIN_SECRET = "grafana-admin"
# StorageClass created by Terraform with the EBS CSI driver (modules/cluster, local gp3_storage_class).
STORAGE_CLASS = "gp3"

ROLLOUTS_NAMESPACE = "argo-rollouts"
PROMETHEUS_COMMUNITY = "https://prometheus-community.github.io/helm-charts"

# Cluster-scoped kinds the add-on charts create (and Namespace for CreateNamespace=true).
# Anything else cluster-scoped is refused by the platform AppProject.
ADDON_CLUSTER_RESOURCES = (
    ("", "Namespace"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("apiregistration.k8s.io", "APIService"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
)

# Namespaces Argo CD creates for the add-ons. Pod Security like the Terraform-made namespaces
# (enforce baseline, warn restricted); monitoring runs node-exporter (host network/PID/paths).
BASELINE_NAMESPACE = {"pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/warn": "restricted"}
PRIVILEGED_NAMESPACE = {"pod-security.kubernetes.io/enforce": "privileged", "pod-security.kubernetes.io/warn": "baseline"}


def high_availability(env: Environment) -> bool:
    """Two replicas (and a PDB) where they can land on different nodes with room to spare."""
    return env.node_capacity.nodes_min >= 3


def replicas(env: Environment) -> int:
    return 2 if high_availability(env) else 1


def grafana_host(env: Environment) -> str:
    return f"grafana.{env.domain}"


@dataclass(frozen=True)
class AddOn:
    """One platform add-on: a pinned Helm chart installed by its own Application."""

    name: str                      # Application name (and Helm release name)
    chart: str
    repo_url: str
    version: str
    namespace: str
    wave: int
    values: Callable[[Platform, Environment], dict]
    description: str
    # Fields a controller (not git) owns on the chart's objects; see ignore_differences below.
    ignore_differences: tuple[dict, ...] = ()
    namespace_labels: dict = field(default_factory=dict)
    create_namespace: bool = True
    # Whether an environment needs it (default: always).
    installed: Callable[[Platform, Environment], bool] = lambda platform, env: True


def _kube_prometheus_stack(platform: Platform, env: Environment) -> dict:
    ha = high_availability(env)
    return {
        # EKS runs the control plane: these targets cannot be scraped and would only fire alerts.
        "kubeControllerManager": {"enabled": False},
        "kubeEtcd": {"enabled": False},
        "kubeProxy": {"enabled": False},
        "kubeScheduler": {"enabled": False},
        "prometheus": {"prometheusSpec": {
            "retention": "15d",
            "retentionSize": "45GiB",
            # Select every ServiceMonitor/PodMonitor/PrometheusRule, not only the release's own:
            # the add-on charts' monitors do not carry the release label.
            "podMonitorSelectorNilUsesHelmValues": False,
            "ruleSelectorNilUsesHelmValues": False,
            "serviceMonitorSelectorNilUsesHelmValues": False,
            "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}},
            # The gp3 class of the EBS CSI driver (infra/terraform/modules/cluster/controllers.tf): without
            # a CSI driver and a class the claim stays Pending and Prometheus never starts.
            "storageSpec": {"volumeClaimTemplate": {"spec": {
                "storageClassName": STORAGE_CLASS,
                "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "50Gi"}},
            }}},
        }},
        "alertmanager": {"alertmanagerSpec": {
            "replicas": 2 if ha else 1,
            "resources": {"requests": {"cpu": "200m", "memory": "256Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}},
        }},
        "grafana": {
            "enabled": True,
            # No generated password: the chart would re-randomize it on every Argo CD render.
            "admin": {"existingSecret": GRAFANA_ADMIN_SECRET, "userKey": "admin-user", "passwordKey": "admin-password"},
            "ingress": {
                "enabled": True,
                "ingressClassName": INGRESS_CLASS,
                "annotations": {"cert-manager.io/cluster-issuer": env.cluster_issuer},
                "hosts": [grafana_host(env)],
                "tls": [{"hosts": [grafana_host(env)], "secretName": "grafana-tls"}],
            },
            # Component dashboards are ConfigMaps in the environment namespace (charts/dashboard.py).
            "sidecar": {"dashboards": {
                "enabled": True, "label": "grafana_dashboard", "labelValue": "1", "searchNamespace": "ALL",
                "folderAnnotation": "grafana_folder", "provider": {"foldersFromFilesStructure": True},
            }},
        },
    }


def _cert_manager(platform: Platform, env: Environment) -> dict:
    n = replicas(env)
    return {
        "crds": {"enabled": True, "keep": True},
        "replicaCount": n,
        "podDisruptionBudget": {"enabled": n > 1, "minAvailable": 1},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "300m", "memory": "256Mi"}},
        "webhook": {"replicaCount": n, "podDisruptionBudget": {"enabled": n > 1, "minAvailable": 1}},
        "prometheus": {"enabled": True, "servicemonitor": {"enabled": True}},
    }


def _external_secrets(platform: Platform, env: Environment) -> dict:
    n = replicas(env)
    # Release name = service account name "external-secrets" in namespace external-secrets: the
    # ClusterSecretStore's Vault auth (charts/platform.py) authenticates as that account.
    return {
        "installCRDs": True,
        # The chart defaults leaderElect to false (deploy/charts/external-secrets/values.yaml,
        # external-secrets/external-secrets v0.20.2): with two replicas both controllers would
        # reconcile every ExternalSecret. With it, one replica holds the lease, the other waits.
        "leaderElect": True,
        "replicaCount": n,
        "podDisruptionBudget": {"enabled": n > 1, "minAvailable": 1},
        "serviceMonitor": {"enabled": True},
        "webhook": {"replicaCount": n},
    }


def _metrics_server(platform: Platform, env: Environment) -> dict:
    # metrics.k8s.io for the HPAs' CPU/memory targets and the VPA recommender; EKS has none by default.
    n = replicas(env)
    return {
        "replicas": n,
        "podDisruptionBudget": {"enabled": n > 1, "minAvailable": 1},
        "metrics": {"enabled": True},
        "serviceMonitor": {"enabled": True},
    }


def _vertical_pod_autoscaler(platform: Platform, env: Environment) -> dict:
    # Every generated VPA runs in updateMode "Off" (charts/vpa.py): only the recommender is needed.
    # The updater and admission controller would evict and mutate pods the HPAs also scale.
    return {
        "recommender": {"enabled": True},
        "updater": {"enabled": False},
        "admissionController": {"enabled": False},
    }


def _prometheus_adapter(platform: Platform, env: Environment) -> dict:
    n = replicas(env)
    return {
        "prometheus": {"url": PROMETHEUS_URL, "port": PROMETHEUS_PORT, "path": ""},
        "replicas": n,
        "podDisruptionBudget": {"enabled": n > 1, "minAvailable": 1},
        "resources": {"requests": {"cpu": "150m", "memory": "256Mi"}, "limits": {"cpu": "400m", "memory": "512Mi"}},
        "metricsRelistInterval": "1m",
        # One rule per custom metric the environment's HPAs use, from the inventory (gitops/generated/adapter.py).
        "rules": {"default": False, "custom": adapter_rules(platform, env)},
    }


def _argo_rollouts(platform: Platform, env: Environment) -> dict:
    # Values of argo-helm charts/argo-rollouts 2.41.0 (values.yaml). The controller elects a leader
    # (--leader-elect defaults to true), so two replicas are safe. Its Rollouts and AnalysisTemplates
    # are generated per component (charts/rollout.py, charts/analysis.py); the dashboard UI is not
    # installed: operators use the Argo CD UI and `kubectl argo rollouts` (docs/progressive-delivery.md).
    n = replicas(env)
    return {
        "installCRDs": True,
        "keepCRDs": True,
        "controller": {
            "replicas": n,
            "pdb": {"enabled": n > 1, "minAvailable": 1},
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}},
            "metrics": {"enabled": True, "serviceMonitor": {"enabled": True}},
        },
        "dashboard": {"enabled": False},
        "extraObjects": [rollouts_dashboard(env, ROLLOUTS_NAMESPACE)],
    }


def _progressive_somewhere(platform: Platform, env: Environment) -> bool:
    return any(delivery_of(c, env).progressive for c in platform.enabled_components(env))


# kube-prometheus-stack renders its admission webhooks with failurePolicy Ignore and a patch Job
# switches them to Fail once certificates exist (prometheus-community/helm-charts#2516): the Job
# owns that field. caBundle is never in the rendered manifest, so it needs no entry.
_WEBHOOK_FAILURE_POLICY = tuple(
    {"group": "admissionregistration.k8s.io", "kind": kind, "jqPathExpressions": [".webhooks[]?.failurePolicy"]}
    for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
)

ADDONS: tuple[AddOn, ...] = (
    AddOn("kube-prometheus-stack", "kube-prometheus-stack", PROMETHEUS_COMMUNITY, "77.14.0", MONITORING_NAMESPACE, -40,
          _kube_prometheus_stack, "Prometheus Operator, Prometheus, Alertmanager, Grafana, node-exporter, kube-state-metrics",
          ignore_differences=_WEBHOOK_FAILURE_POLICY, namespace_labels=PRIVILEGED_NAMESPACE),
    AddOn("cert-manager", "cert-manager", "https://charts.jetstack.io", "v1.19.1", "cert-manager", -30,
          _cert_manager, "certificates for the Ingresses (ClusterIssuers in argocd/<env>/cluster-issuers)",
          namespace_labels=BASELINE_NAMESPACE),
    AddOn("external-secrets", "external-secrets", "https://charts.external-secrets.io", "0.20.2", "external-secrets", -30,
          _external_secrets, "External Secrets Operator: Secrets from the environment's Vault ClusterSecretStore",
          namespace_labels=BASELINE_NAMESPACE),
    AddOn("metrics-server", "metrics-server", "https://kubernetes-sigs.github.io/metrics-server/", "3.13.0", "kube-system", -30,
          _metrics_server, "resource metrics API (metrics.k8s.io) for HPAs and the VPA recommender",
          create_namespace=False),
    AddOn("vertical-pod-autoscaler", "vpa", "https://charts.fairwinds.com/stable", "4.10.1", "vpa", -30,
          _vertical_pod_autoscaler, "VPA recommender for the right-sizing reviews (updateMode Off)",
          namespace_labels=BASELINE_NAMESPACE),
    AddOn("prometheus-adapter", "prometheus-adapter", PROMETHEUS_COMMUNITY, "5.2.0", MONITORING_NAMESPACE, -20,
          _prometheus_adapter, "custom.metrics.k8s.io from Prometheus for the HPAs' custom metrics",
          namespace_labels=PRIVILEGED_NAMESPACE),
    # Chart 2.41.0 ships controller v1.9.0 (appVersion), the version of the Rollout/AnalysisTemplate schemas.
    AddOn("argo-rollouts", "argo-rollouts", "https://argoproj.github.io/argo-helm", "2.41.0", ROLLOUTS_NAMESPACE, -30,
          _argo_rollouts, "Argo Rollouts controller: canary and blue-green Rollouts with Prometheus analysis",
          namespace_labels=BASELINE_NAMESPACE, installed=_progressive_somewhere),
)


# Argo CD's own kinds (Application, AppProject) come with Argo CD itself (infra/terraform/modules/argocd).
def crd_provider(group: str, kind: str) -> AddOn | None:
    """The add-on whose chart installs the CRD of ``group``/``kind`` (the CRD schema lock records it)."""
    chart = crd_project(group, kind)
    return next((a for a in ADDONS if a.chart == chart), None) if chart else None


def addons_for(platform: Platform, env: Environment) -> tuple[AddOn, ...]:
    """The add-ons ``env`` installs (every add-on unless its ``installed`` says otherwise)."""
    return tuple(a for a in ADDONS if a.installed(platform, env))

ISSUERS_WAVE = -20


def addon(name: str) -> AddOn:
    for a in ADDONS:
        if a.name == name:
            return a
    raise KeyError(name)


def addon_namespaces() -> tuple[str, ...]:
    return tuple(sorted({a.namespace for a in ADDONS}))


def addon_repositories() -> tuple[str, ...]:
    return tuple(sorted({a.repo_url for a in ADDONS}))


def acme_solver_resources(env: Environment) -> dict:
    """Resources of the ACME HTTP-01 solver pods cert-manager creates in the Ingress's namespace.

    The defaults sit below every environment's LimitRange minimum (prod 150m/256Mi), so the API server
    rejected the solver pods and no certificate was ever issued. Requests = the larger of cert-manager's
    default and the LimitRange minimum; limits = requests (the smallest pod the namespace admits, and a
    fixed cost on the ResourceQuota). ``ClusterIssuer spec.acme.solvers[].http01.ingress.podTemplate.spec.resources``
    is in the CRD of the installed cert-manager (deploy/crds/cert-manager.io_clusterissuers.yaml, v1.19.1).
    """
    lr = env.limit_range
    cpu = max(ACME_SOLVER_DEFAULTS["requests"]["cpu"], lr.min_cpu, key=parse_cpu)
    memory = max(ACME_SOLVER_DEFAULTS["requests"]["memory"], lr.min_memory, key=parse_memory)
    amounts = {"cpu": cpu, "memory": memory}
    return {"requests": dict(amounts), "limits": dict(amounts)}


def cluster_issuers(env: Environment) -> list[dict]:
    """Both issuers exist in every environment; ``env.cluster_issuer`` picks the one Ingresses use."""
    def meta(name: str) -> dict:
        return {
            "name": name,
            "labels": {"app.kubernetes.io/managed-by": "meetinity-gitops", "app.kubernetes.io/part-of": "meetinity",
                       "meetinity.io/environment": env.name},
            # The CRD comes from the cert-manager Application; never fail a dry run before it exists.
            "annotations": {"argocd.argoproj.io/sync-options": "SkipDryRunOnMissingResource=true"},
        }

    return [
        {"apiVersion": CERT_MANAGER_API, "kind": "ClusterIssuer", "metadata": meta(SELF_SIGNED_ISSUER),
         "spec": {"selfSigned": {}}},
        {"apiVersion": CERT_MANAGER_API, "kind": "ClusterIssuer", "metadata": meta(LETSENCRYPT_ISSUER),
         "spec": {"acme": {
             "server": LETSENCRYPT_SERVER,
             "email": ACME_EMAIL,
             "privateKeySecretRef": {"name": "letsencrypt-account-key"},
             "solvers": [{"http01": {"ingress": {"ingressClassName": INGRESS_CLASS,
                                                 "podTemplate": {"spec": {"resources": acme_solver_resources(env)}}}}}],
         }}},
    ]
