"""Pods at HPA max against the namespace ResourceQuota, LimitRange defaults included (XRF014)."""
from __future__ import annotations

from decimal import Decimal
from typing import Iterator

from ...inputs.quantity import format_quantity, quantity_or_none
from ..envset import EnvSet, Workload
from ..findings import Hit
from ..k8s import dig


RESOURCES = ("requests.cpu", "requests.memory", "limits.cpu", "limits.memory")


def _pod_amounts(w: Workload, defaults: dict[str, Decimal]) -> dict[str, Decimal]:
    """Effective per-pod requests/limits: max(sum of containers, largest init container), LimitRange defaults filled in."""
    def container_amounts(c) -> dict[str, Decimal]:
        res = c.spec.get("resources") or {}
        out = {}
        for resource in ("cpu", "memory"):
            limit = quantity_or_none(dig(res, "limits", resource))
            if limit is None:
                limit = defaults.get(f"limits.{resource}")
            request = quantity_or_none(dig(res, "requests", resource))
            if request is None:
                request = limit if dig(res, "limits", resource) is not None else defaults.get(f"requests.{resource}")
            out[f"limits.{resource}"] = limit or Decimal(0)
            out[f"requests.{resource}"] = request or Decimal(0)
        return out

    regular = [container_amounts(c) for c in w.pod.containers() if not c.init or c.sidecar]
    init = [container_amounts(c) for c in w.pod.containers() if c.init and not c.sidecar]
    total = {r: sum((a[r] for a in regular), Decimal(0)) for r in RESOURCES}
    for r in RESOURCES:
        biggest_init = max((a[r] for a in init), default=Decimal(0))
        total[r] = max(total[r], biggest_init)
    return total


def check_quota(es: EnvSet) -> Iterator[Hit]:
    """XRF014: every workload at its maximum replica count fits the namespace's ResourceQuota."""
    for quota in es.kind("ResourceQuota"):
        hard = dig(quota.data, "spec", "hard") or {}
        ns = quota.namespace
        defaults: dict[str, Decimal] = {}
        for lr in es.kind("LimitRange"):
            if lr.namespace != ns:
                continue
            for item in dig(lr.data, "spec", "limits") or []:
                if isinstance(item, dict) and item.get("type") == "Container":
                    for resource in ("cpu", "memory"):
                        if (v := quantity_or_none(dig(item, "default", resource))) is not None:
                            defaults[f"limits.{resource}"] = v
                        if (v := quantity_or_none(dig(item, "defaultRequest", resource))) is not None:
                            defaults[f"requests.{resource}"] = v
        workloads = [w for w in es.workloads if w.namespace == ns]
        contributions = []
        for w in workloads:
            amounts = _pod_amounts(w, defaults)
            contributions.append((w, w.max_replicas, amounts))
        for key in RESOURCES + ("pods",):
            limit_key = key if key in hard else {"requests.cpu": "cpu", "requests.memory": "memory"}.get(key)
            if limit_key not in hard:
                continue
            limit = quantity_or_none(hard[limit_key])
            if limit is None:
                continue
            if key == "pods":
                parts = [(w, Decimal(n)) for w, n, _ in contributions]
            else:
                parts = [(w, a[key] * n) for w, n, a in contributions]
            total = sum((v for _, v in parts), Decimal(0))
            if total > limit:
                top = sorted(parts, key=lambda p: p[1], reverse=True)[:3]
                fmt = (lambda v: f"{v:f}") if key == "pods" else (lambda v: format_quantity(v, key))
                yield Hit("XRF014", quota, ("spec", "hard", limit_key),
                          f"at maximum replicas the workloads in {ns} need {key} {fmt(total)} but ResourceQuota {quota.name} "
                          f"allows {hard[limit_key]} (largest: "
                          + ", ".join(f"{w.doc.name} {fmt(v)} at {w.max_replicas} replica(s)" for w, v in top) + ")",
                          f"raise {limit_key} in environments/{es.name}.yaml quota, or lower limits/maximum replicas",
                          [w.doc for w, _ in top])
