"""Where each object of a component sits in its Argo CD Application's sync: wave and hook.

Argo CD sorts an Application's resources by phase (PreSync, Sync, PostSync), then sync wave,
then kind, then name, applies one (phase, wave) group at a time and waits for the group to be
healthy before the next (gitops-engine ``pkg/sync/sync_tasks.go`` ``Less``, in
github.com/argoproj/argo-cd; docs ``user-guide/sync-waves.md``). Kind order alone is not
enough here: a kind missing from that file's ``kindOrder`` (every custom resource, so
ExternalSecret) sorts after Deployment and Job, so pods would start before their Secret exists.
Waves of every component object:

  -1  prerequisites of the pods: ServiceAccount, ConfigMap, ExternalSecret, NetworkPolicy,
      PersistentVolumeClaim. An ExternalSecret is healthy only once its Secret is written (Argo
      CD's built-in check ``resource_customizations/external-secrets.io/ExternalSecret/health.lua``),
      and the namespace denies all egress by default, so a pod needs its NetworkPolicy first.
   0  the Job hooks that run before a workload (inventory ``runsBefore``; migrations). Phase
      ``Sync``, not ``PreSync``: PreSync hooks run before any wave of the Sync phase, i.e. before
      the Job's own ServiceAccount, Secret and egress exist on a fresh namespace.
   1  the workload and everything that serves or watches it (Service, HPA, PDB, Ingress, VPA,
      ServiceMonitor, PrometheusRule, CronJob).

A Job hook of another component's Application (``runsBefore``) therefore runs with the new image
on every sync, after its Secret and before the Deployment rolls: a plain version bump re-syncs
that one Application, so the order holds without the root Application re-syncing (cross-Application
waves only order the root's own sync). ``BeforeHookCreation`` deletes the previous run first, so
the fixed Job name can be re-created on every sync (docs ``user-guide/resource_hooks.md``).
"""
from __future__ import annotations

from gitops.inputs.model import Component

WAVE_ANNOTATION = "argocd.argoproj.io/sync-wave"
HOOK_ANNOTATION = "argocd.argoproj.io/hook"
HOOK_DELETE_POLICY_ANNOTATION = "argocd.argoproj.io/hook-delete-policy"
# The workload a Job hook runs before; `gitops validate` (ARG007) checks they share one Application.
RUNS_BEFORE_ANNOTATION = "meetinity.io/runs-before"

WAVE_PREREQUISITES = -1
WAVE_HOOKS = 0
WAVE_WORKLOAD = 1

PREREQUISITE_KINDS = frozenset({"ServiceAccount", "ConfigMap", "ExternalSecret", "NetworkPolicy", "PersistentVolumeClaim"})


def wave_of(obj: dict) -> int:
    if obj["kind"] in PREREQUISITE_KINDS:
        return WAVE_PREREQUISITES
    if HOOK_ANNOTATION in (obj["metadata"].get("annotations") or {}):
        return WAVE_HOOKS
    return WAVE_WORKLOAD


def place(obj: dict, component: Component) -> dict:
    """``obj`` with its sync wave (and, for a Job that runs before a workload, that workload's name)."""
    meta = obj["metadata"]
    annotations = dict(meta.get("annotations") or {})
    annotations[WAVE_ANNOTATION] = str(wave_of(obj))
    if obj["kind"] == "Job" and component.runs_before:
        annotations[RUNS_BEFORE_ANNOTATION] = component.runs_before
    return {**obj, "metadata": {**meta, "annotations": dict(sorted(annotations.items()))}}
