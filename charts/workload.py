"""Workloads: a hardened pod template, wrapped in a Deployment, Job or CronJob by kind.

Secure by default (no knob turns these off): non-root, read-only root filesystem
with a writable /tmp, no privilege escalation, every capability dropped,
RuntimeDefault seccomp, requests and limits, probes on the endpoints the app
really serves (from the inventory), pull secret from the secret store.
"""
from __future__ import annotations

from gitops.inputs.conventions import ROLLING_MAX_SURGE_PERCENT, RUN_AS

from .base import emit
from .config import settings_checksum, settings_data
from .context import HTTP_PORT_NAME, PULL_SECRET_NAME, ComponentContext

TMP_VOLUME = "tmp"


def container_security_context() -> dict:
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": RUN_AS,
        "runAsGroup": RUN_AS,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def pod_security_context() -> dict:
    return {
        "fsGroup": RUN_AS,
        "runAsGroup": RUN_AS,
        "runAsNonRoot": True,
        "runAsUser": RUN_AS,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _probe(path: str, *, period: int, failure: int, initial: int = 0) -> dict:
    probe = {
        "httpGet": {"path": path, "port": HTTP_PORT_NAME, "scheme": "HTTP"},
        "periodSeconds": period,
        "timeoutSeconds": 3,
        "failureThreshold": failure,
        "successThreshold": 1,
    }
    if initial:
        probe["initialDelaySeconds"] = initial
    return probe


def _env(ctx: ComponentContext) -> list[dict]:
    # Each secret key explicitly, so `gitops validate` can match it to the ExternalSecret.
    return [
        {"name": var, "valueFrom": {"secretKeyRef": {"name": ctx.secret_name, "key": var}}}
        for var, _ in sorted(ctx.resolved.secret_refs)
    ]


def _volumes(ctx: ComponentContext) -> tuple[list[dict], list[dict]]:
    volumes = [{"name": TMP_VOLUME, "emptyDir": {"sizeLimit": "256Mi"}}]
    mounts = [{"name": TMP_VOLUME, "mountPath": "/tmp"}]
    for vol in ctx.component.volumes:
        if vol.kind == "persistentVolumeClaim":
            volumes.append({"name": vol.name, "persistentVolumeClaim": {"claimName": f"{ctx.name}-{vol.name}"}})
        else:
            volumes.append({"name": vol.name, "emptyDir": {"sizeLimit": vol.size}})
        mounts.append({"name": vol.name, "mountPath": vol.mount_path})
    return volumes, mounts


def container(ctx: ComponentContext, mounts: list[dict]) -> dict:
    c, r = ctx.component, ctx.resolved
    spec: dict = {
        "name": c.name,
        "image": r.image,
        "imagePullPolicy": "IfNotPresent",
        "resources": {
            "requests": {"cpu": r.resources.cpu_request, "memory": r.resources.memory_request},
            "limits": {"cpu": r.resources.cpu_limit, "memory": r.resources.memory_limit},
        },
        "securityContext": container_security_context(),
        "volumeMounts": mounts,
    }
    if c.command:
        spec["command"] = list(c.command)
    if settings_data(ctx):
        spec["envFrom"] = [{"configMapRef": {"name": ctx.config_map_name}}]
    env = _env(ctx)
    if env:
        spec["env"] = env
    if c.port:
        spec["ports"] = [{"name": HTTP_PORT_NAME, "containerPort": c.port, "protocol": "TCP"}]
    if c.health and c.port:
        spec["livenessProbe"] = _probe(c.health.liveness_path, period=10, failure=3)
        spec["readinessProbe"] = _probe(c.health.readiness_path, period=5, failure=3)
        # Slow starts (migrations, model loading) get time without a lax liveness probe.
        spec["startupProbe"] = _probe(c.health.startup, period=5, failure=30)
    return spec


def pod_spec(ctx: ComponentContext, restart_policy: str = "Always") -> dict:
    volumes, mounts = _volumes(ctx)
    spec = {
        "automountServiceAccountToken": False,
        "containers": [container(ctx, mounts)],
        "enableServiceLinks": False,
        "imagePullSecrets": [{"name": PULL_SECRET_NAME}],
        "restartPolicy": restart_policy,
        "securityContext": pod_security_context(),
        "serviceAccountName": ctx.name,
        "terminationGracePeriodSeconds": 30,
        "volumes": volumes,
    }
    if restart_policy == "Always":
        spec["topologySpreadConstraints"] = [{
            "labelSelector": {"matchLabels": ctx.selector},
            "maxSkew": 1,
            "topologyKey": "topology.kubernetes.io/zone",
            "whenUnsatisfiable": "ScheduleAnyway",
        }]
    return spec


def pod_template(ctx: ComponentContext, restart_policy: str = "Always") -> dict:
    annotations = {"checksum/settings": settings_checksum(ctx)}
    return {
        "metadata": {"labels": ctx.labels, "annotations": annotations},
        "spec": pod_spec(ctx, restart_policy),
    }


def scanner_waivers(ctx: ComponentContext) -> dict | None:
    """Documented exceptions for external scanners (checkov), kept next to the object they concern."""
    if not ctx.resolved.secret_refs:
        return None
    # The applications read their settings, secrets included, from environment variables (their settings modules read os.environ);
    # the values come from the secret store through ExternalSecret and never touch git.
    return {"checkov.io/skip1": "CKV_K8S_35=the apps read secrets from env vars; values come from ExternalSecret, never git"}


class Workload:
    """The component's pods: Deployment (api, frontend, worker), Job or CronJob."""

    def __init__(self, chart, ctx: ComponentContext):
        kind = ctx.component.kind
        if ctx.component.is_long_running and not ctx.delivery.progressive:  # else a Rollout (charts/rollout.py)
            emit(chart, self._deployment(ctx))
        elif kind == "job":
            emit(chart, self._job(ctx))
        elif kind == "cronjob":
            emit(chart, self._cronjob(ctx))
        for vol in ctx.component.volumes:
            if vol.kind == "persistentVolumeClaim":
                emit(chart, {
                    "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                    "metadata": ctx.metadata(f"{ctx.name}-{vol.name}"),
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": vol.size}}},
                })

    @staticmethod
    def _deployment(ctx: ComponentContext) -> dict:
        spec: dict = {
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": ctx.selector},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": f"{ROLLING_MAX_SURGE_PERCENT}%", "maxUnavailable": 0}},
            "template": pod_template(ctx),
        }
        # The HPA owns replicas; writing them here would fight it and show OutOfSync in Argo CD.
        if not ctx.hpa_managed:
            spec["replicas"] = ctx.resolved.replicas
        return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": ctx.metadata(annotations=scanner_waivers(ctx)),
                "spec": spec}

    @staticmethod
    def _job_spec(ctx: ComponentContext) -> dict:
        return {
            "backoffLimit": 2,
            "activeDeadlineSeconds": 3600,
            "template": pod_template(ctx, restart_policy="Never"),
        }

    @classmethod
    def _job(cls, ctx: ComponentContext) -> dict:
        # A Job's pod template is immutable: Argo CD recreates it as a sync hook on every sync.
        annotations = {
            "argocd.argoproj.io/hook": "Sync",
            "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation",
        }
        return {"apiVersion": "batch/v1", "kind": "Job", "metadata": ctx.metadata(annotations={**annotations, **(scanner_waivers(ctx) or {})}),
                "spec": cls._job_spec(ctx)}

    @classmethod
    def _cronjob(cls, ctx: ComponentContext) -> dict:
        return {
            "apiVersion": "batch/v1", "kind": "CronJob", "metadata": ctx.metadata(annotations=scanner_waivers(ctx)),
            "spec": {
                "concurrencyPolicy": "Forbid",
                "failedJobsHistoryLimit": 3,
                "jobTemplate": {"metadata": {"labels": ctx.labels}, "spec": cls._job_spec(ctx)},
                "schedule": ctx.component.schedule,
                "startingDeadlineSeconds": 600,
                "successfulJobsHistoryLimit": 3,
                "timeZone": "Etc/UTC",
            },
        }
