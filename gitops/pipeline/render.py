"""Model -> cdk8s charts -> Kubernetes objects -> canonical files, for one environment.

Charts are built here, in the synth process; ``charts.base.resolve_charts`` has cdk8s resolve
them (in resolver processes during `gitops synth`, see gitops/pipeline/resolver_pool.py).
"""
from __future__ import annotations

from .canonical import dump_object
from ..inputs.conventions import PLATFORM_DIR
from ..inputs.model import Environment, Platform



def object_filename(obj: dict) -> str:
    return f"{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"


def render_environment_objects(platform: Platform, env: Environment,
                               only: set[str] | None = None) -> dict[str, list[dict]]:
    """{folder: [objects]} for the environment, resolved through cdk8s.

    ``only`` limits rendering to some components (fast path for one changed service).
    """
    from charts.base import new_chart, resolve_charts
    from charts.component import build_component
    from charts.context import ComponentContext
    from charts.platform import PlatformLayer
    from charts.syncorder import place

    charts = {}
    if only is None or PLATFORM_DIR in only:
        chart = new_chart(f"{env.name}-{PLATFORM_DIR}")
        PlatformLayer(chart, env)
        charts[PLATFORM_DIR] = chart
    for component in platform.enabled_components(env):
        if only is not None and component.name not in only:
            continue
        chart = new_chart(f"{env.name}-{component.name}")
        build_component(chart, ComponentContext.of(platform, env, component))
        charts[component.name] = chart
    # Every chart at once: the ones cdk8s must resolve go to the resolvers together.
    out = dict(zip(charts, resolve_charts(list(charts.values()))))
    # Sync waves (and hook targets) of component objects: one table, charts/syncorder.py.
    for folder, objects in out.items():
        if folder != PLATFORM_DIR:
            component = platform.component(folder)
            out[folder] = [place(obj, component) for obj in objects]
    return out


def render_environment(platform: Platform, env: Environment, only: set[str] | None = None) -> dict[str, bytes]:
    """{path relative to dist/<env>: bytes}."""
    files: dict[str, bytes] = {}
    for folder, objects in render_environment_objects(platform, env, only).items():
        for obj in objects:
            path = f"{folder}/{object_filename(obj)}"
            if path in files:
                raise RuntimeError(f"two objects render to {path}")
            files[path] = dump_object(obj)
    return files
