"""API tables: Kubernetes APIs removed or deprecated in a given version (SCH003, SCH004), and version ordering."""
from __future__ import annotations


# APIs removed before the oldest version kubernetes-validate ships (and the notable later ones),
# from the Kubernetes deprecated API migration guide: (apiVersion, kind) -> (removed in, use instead).
REMOVED_APIS: dict[tuple[str, str], tuple[str, str]] = {
    **{("extensions/v1beta1", k): ("1.16", "apps/v1") for k in ("Deployment", "DaemonSet", "ReplicaSet")},
    **{("apps/v1beta1", k): ("1.16", "apps/v1") for k in ("Deployment", "StatefulSet", "ReplicaSet")},
    **{("apps/v1beta2", k): ("1.16", "apps/v1") for k in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")},
    ("extensions/v1beta1", "NetworkPolicy"): ("1.16", "networking.k8s.io/v1"),
    ("extensions/v1beta1", "PodSecurityPolicy"): ("1.16", "Pod Security admission"),
    ("extensions/v1beta1", "Ingress"): ("1.22", "networking.k8s.io/v1"),
    ("networking.k8s.io/v1beta1", "Ingress"): ("1.22", "networking.k8s.io/v1"),
    ("networking.k8s.io/v1beta1", "IngressClass"): ("1.22", "networking.k8s.io/v1"),
    **{("rbac.authorization.k8s.io/v1beta1", k): ("1.22", "rbac.authorization.k8s.io/v1")
       for k in ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")},
    ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"): ("1.22", "apiextensions.k8s.io/v1"),
    ("apiregistration.k8s.io/v1beta1", "APIService"): ("1.22", "apiregistration.k8s.io/v1"),
    **{("admissionregistration.k8s.io/v1beta1", k): ("1.22", "admissionregistration.k8s.io/v1")
       for k in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")},
    ("scheduling.k8s.io/v1beta1", "PriorityClass"): ("1.22", "scheduling.k8s.io/v1"),
    ("coordination.k8s.io/v1beta1", "Lease"): ("1.22", "coordination.k8s.io/v1"),
    ("certificates.k8s.io/v1beta1", "CertificateSigningRequest"): ("1.22", "certificates.k8s.io/v1"),
    **{("storage.k8s.io/v1beta1", k): ("1.22", "storage.k8s.io/v1")
       for k in ("CSIDriver", "CSINode", "StorageClass", "VolumeAttachment")},
    ("batch/v1beta1", "CronJob"): ("1.25", "batch/v1"),
    ("discovery.k8s.io/v1beta1", "EndpointSlice"): ("1.25", "discovery.k8s.io/v1"),
    ("events.k8s.io/v1beta1", "Event"): ("1.25", "events.k8s.io/v1"),
    ("autoscaling/v2beta1", "HorizontalPodAutoscaler"): ("1.25", "autoscaling/v2"),
    ("policy/v1beta1", "PodDisruptionBudget"): ("1.25", "policy/v1"),
    ("policy/v1beta1", "PodSecurityPolicy"): ("1.25", "Pod Security admission"),
    ("node.k8s.io/v1beta1", "RuntimeClass"): ("1.25", "node.k8s.io/v1"),
    ("autoscaling/v2beta2", "HorizontalPodAutoscaler"): ("1.26", "autoscaling/v2"),
    **{("flowcontrol.apiserver.k8s.io/v1beta1", k): ("1.26", "flowcontrol.apiserver.k8s.io/v1")
       for k in ("FlowSchema", "PriorityLevelConfiguration")},
    ("storage.k8s.io/v1beta1", "CSIStorageCapacity"): ("1.27", "storage.k8s.io/v1"),
    **{("flowcontrol.apiserver.k8s.io/v1beta2", k): ("1.29", "flowcontrol.apiserver.k8s.io/v1")
       for k in ("FlowSchema", "PriorityLevelConfiguration")},
    **{("flowcontrol.apiserver.k8s.io/v1beta3", k): ("1.32", "flowcontrol.apiserver.k8s.io/v1")
       for k in ("FlowSchema", "PriorityLevelConfiguration")},
}
# Still served, but deprecated: (apiVersion, kind) -> (deprecated in, use instead).
DEPRECATED_APIS: dict[tuple[str, str], tuple[str, str]] = {
    ("v1", "ComponentStatus"): ("1.19", "the /livez and /readyz endpoints"),
    ("v1", "Endpoints"): ("1.33", "discovery.k8s.io/v1 EndpointSlice"),
    **{("flowcontrol.apiserver.k8s.io/v1beta3", k): ("1.29", "flowcontrol.apiserver.k8s.io/v1")
       for k in ("FlowSchema", "PriorityLevelConfiguration")},
}


def version_key(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)
