"""Everything one component gets in one environment, composed from the concept constructs."""
from __future__ import annotations

from .autoscaling import Autoscaler
from .availability import DisruptionBudget
from .config import Settings
from .context import ComponentContext
from .identity import ServiceIdentity
from .ingress import PublicEndpoint
from .network import NetworkAccess
from .observability import Dashboard, Monitoring
from .rollout import ProgressiveDelivery
from .secrets import ComponentSecrets
from .service import ServiceEndpoint
from .vpa import RightSizing
from .workload import Workload

# Order matters only for readability of the chart; output files are sorted anyway.
CONSTRUCTS = (
    ServiceIdentity, Settings, ComponentSecrets, Workload, ProgressiveDelivery, ServiceEndpoint,
    Autoscaler, RightSizing, DisruptionBudget, NetworkAccess, PublicEndpoint,
    Monitoring, Dashboard,
)


def build_component(chart, ctx: ComponentContext) -> None:
    for construct in CONSTRUCTS:
        construct(chart, ctx)
