"""argocd/<env>/ through cdk8s: AppProjects, Applications, ClusterIssuers and a kustomization.

Registered in gitops/pipeline/outputs.py ENV_TREES, next to gitops.pipeline.render; its charts are
resolved by cdk8s like every other (charts.base.resolve_charts). Layout:

    argocd/<env>/<kind>-<name>.yaml          one file per AppProject / Application
    argocd/<env>/kustomization.yaml          lists those files: ``kubectl apply -k argocd/<env>``
                                             bootstraps the cluster; the root Application syncs it
    argocd/<env>/cluster-issuers/*.yaml      ClusterIssuers, synced by the cluster-issuers
                                             Application once cert-manager's CRDs exist
"""
from __future__ import annotations

from .canonical import dump_object, dump_yaml
from ..inputs.model import Environment, Platform
from .render import object_filename

KUSTOMIZATION = "kustomization.yaml"


def kustomization(files: list[str]) -> bytes:
    doc = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": sorted(files),
    }
    return dump_yaml(doc).encode("utf-8")


def render_argocd_objects(platform: Platform, env: Environment) -> tuple[list[dict], list[dict]]:
    """(top-level objects, ClusterIssuers), resolved through cdk8s."""
    from charts.argocd import ISSUERS_DIR, ArgoCDEnvironment
    from charts.base import chart_id, new_chart, resolve_charts

    chart = new_chart(chart_id(env.name, "argocd"))
    issuers = new_chart(chart_id(env.name, "argocd", ISSUERS_DIR))
    ArgoCDEnvironment(chart, issuers, platform, env)
    top, issued = resolve_charts([chart, issuers])
    return top, issued


def render_argocd(platform: Platform, env: Environment) -> dict[str, bytes]:
    """{path relative to argocd/<env>: bytes}."""
    from charts.argocd import ISSUERS_DIR

    top, issuers = render_argocd_objects(platform, env)
    files: dict[str, bytes] = {}
    for folder, objects in (("", top), (f"{ISSUERS_DIR}/", issuers)):
        for obj in objects:
            path = folder + object_filename(obj)
            if path in files:
                raise RuntimeError(f"two objects render to argocd/{env.name}/{path}")
            files[path] = dump_object(obj)
    files[KUSTOMIZATION] = kustomization([p for p in files if "/" not in p])
    return files
