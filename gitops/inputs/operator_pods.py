"""Pods that operators create from the platform's configuration, and what they ask for by default.

cert-manager answers each ACME HTTP-01 challenge with a solver pod in the Ingress's namespace
(pkg/issuer/acme/http/pod.go). Unless the issuer's ``podTemplate.spec.resources`` says otherwise,
the pod gets the controller's defaults, flags ``--acme-http01-solver-resource-{request,limits}-{cpu,memory}``
(cert-manager internal/apis/config/controller/v1alpha1/defaults.go): requests 10m/64Mi, limits 100m/64Mi.
Those are below every environment's LimitRange minimum, so the API server refuses the pod and the
challenge never completes. charts/addons.py sizes the solvers; ``gitops validate`` (XRF019) checks them.
"""
from __future__ import annotations

ACME_SOLVER_DEFAULTS = {
    "requests": {"cpu": "10m", "memory": "64Mi"},
    "limits": {"cpu": "100m", "memory": "64Mi"},
}
