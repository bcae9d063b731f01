"""Namespaces an environment must never be deployed into.

An environment's namespace receives a default-deny NetworkPolicy, a restricted Pod Security
label, a ResourceQuota and a LimitRange (charts/platform.py), and its AppProject may deploy
there. In ``kube-system`` that cuts cluster DNS; in ``argocd`` or an add-on's namespace it
breaks the controllers the platform relies on. Reserved:

- the namespaces Kubernetes creates itself (https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/#initial-namespaces);
- Argo CD's and the ingress controller's (installed by Terraform, gitops/inputs/conventions.py);
- every namespace an add-on is installed into (charts/addons.py ``ADDONS``), so a new add-on is
  reserved without editing this file.
"""
from __future__ import annotations

from functools import lru_cache

KUBERNETES_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")


@lru_cache(maxsize=None)
def reserved_namespaces() -> frozenset[str]:
    # charts.addons imports no cdk8s (tests/test_hardening_input.py keeps it so): loading stays cheap.
    from charts.addons import addon_namespaces

    from .conventions import ARGOCD_NAMESPACE, INGRESS_NAMESPACE
    return frozenset((*KUBERNETES_NAMESPACES, ARGOCD_NAMESPACE, INGRESS_NAMESPACE, *addon_namespaces()))
