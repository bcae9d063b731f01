"""NetworkPolicy per component: ingress only from declared callers, egress only to declared dependencies.

The namespace's default-deny policy (platform.py) closes everything else.
"""
from __future__ import annotations

import ipaddress

from gitops.inputs.conventions import INGRESS_NAMESPACE, MONITORING_NAMESPACE
from gitops.inputs.model import PRIVATE_RANGES, Component

from .base import emit
from .context import ComponentContext
from .labels import selector_labels


DNS_EGRESS = {
    "to": [{
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
    }],
    "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
}


def external_peer(cidr: str) -> dict:
    """ipBlock for a declared external destination, with the private ranges inside it carved out.

    NetworkPolicy peers are IP blocks only (no DNS names: https://kubernetes.io/docs/concepts/services-networking/network-policies/
    "what you can't do with network policies"), and SaaS endpoints such as Google OAuth or Stripe
    sit behind changing CDN addresses, so the inventory's ``cidrs`` default to the public internet
    on the declared port only.
    """
    net = ipaddress.ip_network(cidr)
    carved = [r for r in PRIVATE_RANGES if ipaddress.ip_network(r).subnet_of(net)]
    block: dict = {"cidr": cidr}
    if carved:
        block["except"] = carved
    return {"ipBlock": block}


def _namespace_peer(namespace: str) -> dict:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}


def _ingress_rules(ctx: ComponentContext) -> list[dict]:
    c = ctx.component
    if not (c.is_serving and c.port):
        return []
    port = [{"port": c.port, "protocol": "TCP"}]
    rules = []
    callers = ctx.platform.callers_of(c.name, ctx.env)
    if callers:
        rules.append({"from": [{"podSelector": {"matchLabels": selector_labels(caller, ctx.env)}} for caller in callers],
                      "ports": port})
    if c.public_subdomain:
        rules.append({"from": [_namespace_peer(INGRESS_NAMESPACE)], "ports": port})
    if c.metrics:
        rules.append({"from": [_namespace_peer(MONITORING_NAMESPACE)], "ports": port})
    return rules


def _egress_rules(ctx: ComponentContext) -> list[dict]:
    rules = [DNS_EGRESS]
    enabled = {x.name for x in ctx.platform.enabled_components(ctx.env)}
    for dep in sorted(ctx.component.dependencies, key=lambda d: d.name):
        target: Component = ctx.platform.component(dep.name)
        ports = [{"port": dep.port, "protocol": dep.protocol}]
        if target.kind == "backing":
            endpoint = ctx.env.backing_endpoint(dep.name)
            if endpoint is None:
                continue
            rules.append({"to": [{"ipBlock": {"cidr": endpoint.cidr}}],
                          "ports": [{"port": endpoint.port, "protocol": dep.protocol}]})
        elif dep.name in enabled:
            rules.append({"to": [{"podSelector": {"matchLabels": selector_labels(target, ctx.env)}}], "ports": ports})
    # One rule per distinct (destination, port): Google and LinkedIn OAuth both come out as the public
    # internet on 443.
    for ext in sorted(ctx.component.external_egress, key=lambda x: x.name):
        rule = {"to": [external_peer(cidr) for cidr in ext.cidrs], "ports": [{"port": ext.port, "protocol": ext.protocol}]}
        if rule not in rules:
            rules.append(rule)
    return rules


class NetworkAccess:
    def __init__(self, chart, ctx: ComponentContext):
        ingress = _ingress_rules(ctx)
        spec = {
            "podSelector": {"matchLabels": ctx.selector},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress,
            "egress": _egress_rules(ctx),
        }
        if not ingress:
            del spec["ingress"]
        emit(chart, {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                     "metadata": ctx.metadata(), "spec": spec})
