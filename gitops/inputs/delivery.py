"""How each component's new versions replace the running ones, per environment (docs/progressive-delivery.md).

Three strategies:

- ``rolling``: a Deployment with RollingUpdate (what every component had before).
- ``canary``: an Argo Rollouts Rollout that shifts traffic in weighted steps with pauses, optionally
  with background analysis from the component's alerting metrics (charts/analysis.py).
- ``blueGreen``: a Rollout with a preview Service; the active Service switches when the new version
  is ready (automatically, or on ``kubectl argo rollouts promote``).

Where the settings come from, most specific first, field by field:

1. ``environments/<env>.yaml`` ``components.<name>.delivery``;
2. ``inventory/<name>.yaml`` ``delivery``;
3. ``environments/<env>.yaml`` ``delivery``, for the kinds in ``ENVIRONMENT_DEFAULT_KINDS`` only
   (``analysis`` for ``ANALYSIS_KINDS`` only): workers have no Service to shift traffic through and
   stay rolling unless their own file says otherwise;
4. the ``default`` of each field in gitops/schemas/component.schema.json ``$defs/delivery`` (rolling;
   the canary steps used when a canary declares none), read by ``default_delivery()``.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from ..errors import Problem
from .conventions import ROLLING_MAX_SURGE_PERCENT
from .model import CanaryStep, Component, DeliverySettings, Environment

ENVIRONMENT_DEFAULT_KINDS = ("api", "frontend")
ANALYSIS_KINDS = ("api",)
PROGRESSIVE = ("canary", "blueGreen")


@dataclass(frozen=True)
class Delivery:
    """Effective delivery of one component in one environment."""

    strategy: str
    steps: tuple[CanaryStep, ...]
    analysis: bool
    auto_promotion: bool

    @property
    def progressive(self) -> bool:
        return self.strategy in PROGRESSIVE

    def surge_pods(self, replicas: int, ingress_routed: bool) -> int:
        """Pods a rollout of ``replicas`` pods runs on top of them at its peak (quota and nodes must hold both).

        - rolling (a Deployment) and a canary without traffic routing: ``maxSurge`` with
          ``maxUnavailable: 0`` (charts/workload.py, charts/rollout.py): up to
          ROLLING_MAX_SURGE_PERCENT more pods, rounded up, before old ones go;
        - blueGreen: the preview ReplicaSet at full size next to the active one (charts/rollout.py
          sets no ``previewReplicaCount``), until promotion plus ``scaleDownDelaySeconds``
          (https://argo-rollouts.readthedocs.io/en/stable/features/bluegreen/);
        - a canary with traffic routing: the stable ReplicaSet stays at full size while the canary
          grows (``dynamicStableScale`` off), and after the last step the canary is at full size too
          until ``scaleDownDelaySeconds``
          (https://argo-rollouts.readthedocs.io/en/stable/features/canary/#dynamic-stable-scale-with-traffic-routing).
        """
        if self.strategy == "blueGreen" or (self.strategy == "canary" and ingress_routed):
            return replicas
        return math.ceil(replicas * ROLLING_MAX_SURGE_PERCENT / 100)


@lru_cache(maxsize=None)
def default_delivery() -> Delivery:
    """Level 4: the defaults the input schema declares (component.schema.json ``$defs/delivery``)."""
    from .load import schema_default  # load imports this module for its input checks

    def default(field: str):
        return schema_default("component", "delivery", field)

    return Delivery(
        strategy=default("strategy"),
        steps=tuple(CanaryStep(s.get("setWeight"), s.get("pause")) for s in default("steps")),
        analysis=default("analysis"),
        auto_promotion=default("autoPromotion"),
    )


def _levels(component: Component, env: Environment) -> list[tuple[DeliverySettings, bool]]:
    """(settings, may set analysis) from the most specific level to the least."""
    settings = env.settings(component.name)
    levels = []
    if settings is not None:
        levels.append((settings.delivery, True))
    levels.append((component.delivery, True))
    if component.kind in ENVIRONMENT_DEFAULT_KINDS:
        levels.append((env.delivery, component.kind in ANALYSIS_KINDS))
    return levels


def delivery_of(component: Component, env: Environment) -> Delivery:
    """The effective delivery of ``component`` in ``env`` (only long-running components can be progressive)."""
    default = default_delivery()
    if not component.is_long_running:
        return default
    levels = _levels(component, env)

    def pick(attr: str, default):
        for level, may_analyse in levels:
            value = getattr(level, attr)
            if value is not None and (attr != "analysis" or may_analyse):
                return value
        return default

    return Delivery(
        strategy=pick("strategy", default.strategy),
        steps=pick("steps", default.steps),
        analysis=pick("analysis", default.analysis),
        auto_promotion=pick("auto_promotion", default.auto_promotion),
    )


_DURATION = re.compile(r"^([0-9]+)([smh])$")


def duration_seconds(text: str) -> int | None:
    """'5m' -> 300; '' (indefinite pause) -> None."""
    m = _DURATION.match(text or "")
    if not m:
        return None
    return int(m.group(1)) * {"s": 1, "m": 60, "h": 3600}[m.group(2)]


def settings_problems(where: str, path: tuple, settings: DeliverySettings, line_of, kind: str | None = None) -> list[Problem]:
    """Input errors in one ``delivery:`` block; ``line_of(path)`` locates them in ``where``."""
    problems = []
    if kind is not None and settings.strategy in PROGRESSIVE and kind not in ("api", "frontend", "worker"):
        problems.append(Problem(where, "/".join(path + ("strategy",)),
                                f"expected rolling for a {kind} (only long-running components are progressive), "
                                f"found {settings.strategy}", line_of(path + ("strategy",))))
    if kind == "worker" and settings.strategy == "blueGreen":
        problems.append(Problem(where, "/".join(path + ("strategy",)),
                                "expected rolling or canary for a worker (blueGreen switches a Service, and a worker has none), "
                                "found blueGreen", line_of(path + ("strategy",))))
    weights = [s.set_weight for s in settings.steps or () if s.set_weight is not None]
    if settings.steps is not None and not weights:
        problems.append(Problem(where, "/".join(path + ("steps",)),
                                "expected at least one setWeight step, found only pauses", line_of(path + ("steps",))))
    if weights != sorted(weights):
        problems.append(Problem(where, "/".join(path + ("steps",)),
                                f"expected setWeight values in increasing order, found {', '.join(map(str, weights))}",
                                line_of(path + ("steps",))))
    return problems
