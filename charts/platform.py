"""The shared platform layer of one environment (what the Helm umbrella chart carried).

Namespace with Pod Security "restricted", ResourceQuota, LimitRange, default-deny
NetworkPolicy, the Vault ClusterSecretStore and the GHCR pull secret (via External
Secrets). Each environment lives in its own cluster and namespace; unlike the Helm
setup, no namespace admits traffic from other environments.
"""
from __future__ import annotations

from gitops.inputs.conventions import INGRESS_NAMESPACE, PLATFORM_DIR
from gitops.inputs.model import Environment, SecretRef

from .base import emit
from .context import PULL_SECRET_NAME
from .labels import platform_labels
from .secrets import EXTERNAL_SECRETS_API, remote_key, store_ref

# Argo CD applies lower waves first: the namespace before what lives in it.
WAVE_NAMESPACE = "-20"
WAVE_GUARDRAILS = "-10"
EXTERNAL_SECRETS_NAMESPACE = "external-secrets"
ACME_SOLVER_PORT = 8089
# The cluster-scoped objects (Namespace, ClusterSecretStore) hold everything else: never deleted
# with an Application (`argocd app delete` cascades by default), pruned only after someone confirms
# (Argo CD docs user-guide/sync-options.md "No Resource Deletion", "Resource Pruning With Confirmation").
PROTECTED_SYNC_OPTIONS = "Delete=false,Prune=confirm"


def _meta(env: Environment, name: str, *, namespaced: bool = True, wave: str = WAVE_GUARDRAILS, labels: dict | None = None) -> dict:
    meta = {"name": name, "labels": {**platform_labels(env, PLATFORM_DIR), **(labels or {})},
            "annotations": {"argocd.argoproj.io/sync-wave": wave}}
    if namespaced:
        meta["namespace"] = env.namespace
    else:
        meta["annotations"]["argocd.argoproj.io/sync-options"] = PROTECTED_SYNC_OPTIONS
    return meta


class PlatformLayer:
    def __init__(self, chart, env: Environment):
        ns_labels = {
            "meetinity.io/environment": env.name,
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "latest",
            "pod-security.kubernetes.io/warn": "restricted",
            **dict(env.labels),
        }
        emit(chart, {"apiVersion": "v1", "kind": "Namespace",
                     "metadata": _meta(env, env.namespace, namespaced=False, wave=WAVE_NAMESPACE, labels=ns_labels)})
        q = env.quota
        emit(chart, {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": _meta(env, "compute"),
                     "spec": {"hard": {
                         "limits.cpu": q.limits_cpu, "limits.memory": q.limits_memory,
                         "pods": str(q.pods),
                         "requests.cpu": q.requests_cpu, "requests.memory": q.requests_memory,
                         "services.loadbalancers": "0", "services.nodeports": "0",
                     }}})
        lr = env.limit_range
        emit(chart, {"apiVersion": "v1", "kind": "LimitRange", "metadata": _meta(env, "container-defaults"),
                     "spec": {"limits": [{
                         "type": "Container",
                         "default": {"cpu": lr.default_cpu, "memory": lr.default_memory},
                         "defaultRequest": {"cpu": lr.default_request_cpu, "memory": lr.default_request_memory},
                         "max": {"cpu": lr.max_cpu, "memory": lr.max_memory},
                         "min": {"cpu": lr.min_cpu, "memory": lr.min_memory},
                     }]}})
        emit(chart, {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": _meta(env, "default-deny-all"),
                     "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}})
        # cert-manager answers HTTP-01 challenges from solver pods in this namespace; behind the
        # default-deny policy Let's Encrypt certificates would never issue without this opening.
        emit(chart, {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": _meta(env, "allow-acme-http01-solver"),
                     "spec": {
                         "podSelector": {"matchLabels": {"acme.cert-manager.io/http01-solver": "true"}},
                         "policyTypes": ["Ingress"],
                         "ingress": [{
                             "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": INGRESS_NAMESPACE}}}],
                             "ports": [{"port": ACME_SOLVER_PORT, "protocol": "TCP"}],
                         }],
                     }})
        s = env.secret_store
        emit(chart, {"apiVersion": EXTERNAL_SECRETS_API, "kind": "ClusterSecretStore",
                     "metadata": _meta(env, s.name, namespaced=False, wave=WAVE_NAMESPACE),
                     "spec": {
                         "conditions": [{"namespaces": [env.namespace]}],
                         "provider": {"vault": {
                             "server": s.server, "path": s.path, "version": s.version,
                             "auth": {"kubernetes": {
                                 "mountPath": "kubernetes", "role": s.role,
                                 "serviceAccountRef": {"name": "external-secrets", "namespace": EXTERNAL_SECRETS_NAMESPACE},
                             }},
                         }},
                     }})
        emit(chart, {"apiVersion": EXTERNAL_SECRETS_API, "kind": "ExternalSecret", "metadata": _meta(env, PULL_SECRET_NAME),
                     "spec": {
                         "refreshInterval": "1h",
                         "secretStoreRef": store_ref(env),
                         "target": {"name": PULL_SECRET_NAME, "creationPolicy": "Owner", "deletionPolicy": "Retain",
                                    "template": {"type": "kubernetes.io/dockerconfigjson"}},
                         "data": [{"secretKey": ".dockerconfigjson",
                                   "remoteRef": {"key": remote_key(env, SecretRef(env.pull_secret_key, "dockerconfigjson")),
                                                 "property": "dockerconfigjson"}}],
                     }})
