"""The order Argo CD applies an Application's resources in, as gitops-engine computes it.

``pkg/sync/sync_tasks.go`` (github.com/argoproj/argo-cd, formerly argoproj/gitops-engine) sorts
sync tasks by (1) phase PreSync < Sync < PostSync < SyncFail, (2) sync wave, (3) kind in the order
of ``kindOrder`` below (taken from Helm's kind sorter; any kind not listed, i.e. every custom
resource, sorts after all of them), (4) name. Resources without the hook annotation run in the
Sync phase. Argo CD applies one (phase, wave) group, waits until it is healthy (hooks: completed),
then goes on (docs user-guide/sync-waves.md).
"""
from __future__ import annotations

PHASES = ("PreSync", "Sync", "PostSync", "SyncFail")
PHASE_ORDER = {p: i - 1 for i, p in enumerate(PHASES)}   # syncPhaseOrder: -1, 0, 1, 2

KIND_ORDER_LIST = (
    "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy", "PodDisruptionBudget",
    "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass", "PersistentVolume",
    "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole", "ClusterRoleList", "ClusterRoleBinding",
    "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod",
    "ReplicationController", "ReplicaSet", "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob",
    "IngressClass", "Ingress", "APIService",
)
# kindOrder[kind] = i - len(kinds): every listed kind is negative, an unlisted kind is 0 (last).
KIND_ORDER = {k: i - len(KIND_ORDER_LIST) for i, k in enumerate(KIND_ORDER_LIST)}

WAVE = "argocd.argoproj.io/sync-wave"
HOOK = "argocd.argoproj.io/hook"
HOOK_DELETE_POLICY = "argocd.argoproj.io/hook-delete-policy"
SYNC_OPTIONS = "argocd.argoproj.io/sync-options"


def wave(annotations: dict) -> int:
    try:
        return int(str(annotations.get(WAVE, "0")).strip())
    except ValueError:
        return 0


def hook_phases(annotations: dict) -> tuple[str, ...]:
    """The phases a hook runs in (a hook may name several, comma-separated); () for a plain resource."""
    raw = annotations.get(HOOK)
    if not raw:
        return ()
    return tuple(p.strip() for p in str(raw).split(",") if p.strip() in PHASES) or ()


def phase(annotations: dict) -> str:
    phases = hook_phases(annotations)
    return phases[0] if phases else "Sync"


def sort_key(phase_name: str, wave_number: int, kind: str, name: str) -> tuple:
    return (PHASE_ORDER.get(phase_name, 0), wave_number, KIND_ORDER.get(kind, 0), name)


def sync_options(value) -> dict[str, str]:
    """``"A=true,B=false"`` or ``["A=true", ...]`` -> {"A": "true", "B": "false"} (whitespace trimmed)."""
    items = value if isinstance(value, list) else str(value or "").split(",")
    out = {}
    for item in items:
        key, _, val = str(item).strip().partition("=")
        if key:
            out[key.strip()] = val.strip()
    return out
