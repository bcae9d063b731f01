"""Cross-resource checks (XRF rules) over one environment's whole set of objects, one family per module.

The inventory (gitops.inputs.load) is the source of truth for what the apps really do: the port
they listen on, their health endpoints, required env vars, dependencies and callers.
Objects are matched to inventory components by the label ``app.kubernetes.io/name``.
"""
from __future__ import annotations

from typing import Iterator

from ..envset import EnvSet
from ..findings import Hit
from .containers import check_ports_and_probes, check_required_env
from .ingress import check_hosts_unique, check_ingress
from .metrics import check_hpa, check_service_monitors
from .network import check_network
from .quota import check_quota
from .refs import check_refs

__all__ = ["check_environment", "check_hosts_unique"]


def check_environment(es: EnvSet, hosts: dict) -> Iterator[Hit]:
    yield from check_ports_and_probes(es)
    yield from check_refs(es)
    yield from check_required_env(es)
    yield from check_ingress(es, hosts)
    yield from check_network(es)
    yield from check_quota(es)
    yield from check_hpa(es)
    yield from check_service_monitors(es)
