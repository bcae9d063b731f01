"""Argo Rollouts ``Rollout`` for canary and blueGreen components (gitops/inputs/delivery.py decides which).

Full pod template, not ``workloadRef``: with ``workloadRef`` the Rollout borrows the template of a
Deployment that Argo Rollouts then scales to zero (and, from v1.5, scales by itself per
``workloadRef.scaleDown``), so git would hold a Deployment whose replicas a controller rewrites and that
the HPA, PDB and validate checks would have to ignore. A full template keeps one object per component
that runs its pods, the same hardened template as the Deployment (charts/workload.py ``pod_template``)
and one target for the HPA and VPA (``ComponentContext.workload_ref``).
https://argo-rollouts.readthedocs.io/en/stable/migrating/ (both ways, and the scale-to-zero behaviour)

Spec fields (https://argo-rollouts.readthedocs.io/en/stable/features/specification/):
- ``selector`` / ``template``: as a Deployment's; the controller adds ``rollouts-pod-template-hash``.
- canary (https://argo-rollouts.readthedocs.io/en/stable/features/canary/): ``steps`` of ``setWeight`` and
  ``pause``; ``canaryService`` (``<name>-canary``) always exists for a component with a Service, so the new
  pods can be reached and scraped on their own. With an Ingress: ``stableService`` (the component's
  Service) and ``trafficRouting.nginx.stableIngress`` (its Ingress), so ingress-nginx splits requests by
  weight through the canary Ingress the controller creates
  (https://argo-rollouts.readthedocs.io/en/stable/features/traffic-management/nginx/). Without an Ingress:
  no ``stableService`` and no traffic routing, so the component's Service keeps selecting every pod and
  the weight is approximated by replica counts (basic canary), which is how in-cluster callers reach it.
- ``analysis`` (background, from ``startingStep`` after the first ``setWeight``): charts/analysis.py.
- blueGreen (https://argo-rollouts.readthedocs.io/en/stable/features/bluegreen/): ``activeService`` (the
  component's Service), ``previewService`` (``<name>-preview``), ``autoPromotionEnabled``; with analysis,
  ``postPromotionAnalysis`` measures the new pods once they take the traffic and aborts back if it fails.
- ``replicas`` only without an HPA (the HPA scales the Rollout through its scale subresource).
- ``rollbackWindow``: a return to one of the last ``ROLLBACK_WINDOW`` revisions (``gitops rollback``) skips
  steps and analysis (https://argo-rollouts.readthedocs.io/en/stable/features/rollback/); returning to the
  stable ReplicaSet of an unfinished canary is fast-tracked anyway.
"""
from __future__ import annotations

from gitops.inputs.conventions import ROLLING_MAX_SURGE_PERCENT
from gitops.inputs.model import CanaryStep

from .analysis import ROLLOUTS_API, analysed, analysis_ref, analysis_template
from .base import emit
from .context import ComponentContext
from .service import has_service, service
from .workload import pod_template, scanner_waivers

REVISION_HISTORY = 5
# Old pods kept after a switch or an abort, so traffic can move back at once (upstream default 30s).
SCALE_DOWN_DELAY_SECONDS = 30
# Must stay below REVISION_HISTORY: only ReplicaSets still kept can be returned to.
ROLLBACK_WINDOW = 3


def canary_service_name(ctx: ComponentContext) -> str:
    return f"{ctx.name}-canary"


def preview_service_name(ctx: ComponentContext) -> str:
    return f"{ctx.name}-preview"


def _step(step: CanaryStep) -> dict:
    if step.set_weight is not None:
        return {"setWeight": step.set_weight}
    return {"pause": {"duration": step.pause} if step.pause else {}}


def _canary(ctx: ComponentContext) -> dict:
    steps = ctx.delivery.steps
    canary: dict = {
        "maxSurge": f"{ROLLING_MAX_SURGE_PERCENT}%",
        "maxUnavailable": 0,
        "steps": [_step(s) for s in steps],
    }
    if has_service(ctx):
        canary["canaryService"] = canary_service_name(ctx)
        if ctx.component.ingress_routed:
            canary["stableService"] = ctx.name
            canary["trafficRouting"] = {"nginx": {"stableIngress": ctx.name}}
    if analysed(ctx):
        first_weight = next(i for i, s in enumerate(steps) if s.set_weight is not None)
        canary["analysis"] = {**analysis_ref(ctx), "startingStep": first_weight + 1}
    return {"canary": canary}


def _blue_green(ctx: ComponentContext) -> dict:
    blue_green: dict = {
        "activeService": ctx.name,
        "previewService": preview_service_name(ctx),
        "autoPromotionEnabled": ctx.delivery.auto_promotion,
        "scaleDownDelaySeconds": SCALE_DOWN_DELAY_SECONDS,
    }
    if analysed(ctx):
        blue_green["postPromotionAnalysis"] = analysis_ref(ctx)
    return {"blueGreen": blue_green}


def rollout(ctx: ComponentContext) -> dict:
    spec: dict = {
        "revisionHistoryLimit": REVISION_HISTORY,
        "rollbackWindow": {"revisions": ROLLBACK_WINDOW},
        "selector": {"matchLabels": ctx.selector},
        "strategy": _blue_green(ctx) if ctx.delivery.strategy == "blueGreen" else _canary(ctx),
        "template": pod_template(ctx),
    }
    if not ctx.hpa_managed:
        spec["replicas"] = ctx.resolved.replicas
    return {"apiVersion": ROLLOUTS_API, "kind": "Rollout",
            "metadata": ctx.metadata(annotations=scanner_waivers(ctx)), "spec": spec}


def extra_services(ctx: ComponentContext) -> list[dict]:
    if not has_service(ctx):
        return []
    name = preview_service_name(ctx) if ctx.delivery.strategy == "blueGreen" else canary_service_name(ctx)
    return [service(ctx, name)]


class ProgressiveDelivery:
    """Rollout, its canary or preview Service and its AnalysisTemplate, for canary/blueGreen components."""

    def __init__(self, chart, ctx: ComponentContext):
        if not (ctx.component.is_long_running and ctx.delivery.progressive):
            return
        emit(chart, rollout(ctx))
        for body in extra_services(ctx):
            emit(chart, body)
        if analysed(ctx):
            emit(chart, analysis_template(ctx))
