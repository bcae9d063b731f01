"""Public exposure: an nginx Ingress with TLS from a cert-manager ClusterIssuer."""
from __future__ import annotations

from .base import emit
from .context import HTTP_PORT_NAME, ComponentContext

INGRESS_CLASS = "nginx"


class PublicEndpoint:
    def __init__(self, chart, ctx: ComponentContext):
        host = ctx.host
        if host is None:
            return
        emit(chart, {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": ctx.metadata(annotations={
                # cert-manager's ingress-shim creates the Certificate for the TLS secret below.
                "cert-manager.io/cluster-issuer": ctx.env.cluster_issuer,
                "nginx.ingress.kubernetes.io/force-ssl-redirect": "true",
            }),
            "spec": {
                "ingressClassName": INGRESS_CLASS,
                "tls": [{"hosts": [host], "secretName": ctx.tls_secret_name}],
                "rules": [{
                    "host": host,
                    "http": {"paths": [{
                        "path": "/", "pathType": "Prefix",
                        "backend": {"service": {"name": ctx.name, "port": {"name": HTTP_PORT_NAME}}},
                    }]},
                }],
            },
        })
