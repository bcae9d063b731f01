"""Model -> cdk8s charts -> Kubernetes objects -> canonical files, for one environment.

Charts are built here, in the synth process; ``charts.base.submit_charts`` has cdk8s resolve
them (in resolver processes during `gitops synth`, see gitops/pipeline/resolver_pool.py).
"""
from __future__ import annotations

from concurrent.futures import as_completed

from .canonical import dump_object
from ..inputs.conventions import PLATFORM_DIR
from ..inputs.model import Environment, Platform



def object_filename(obj: dict) -> str:
    return f"{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"


def _environment_charts(platform: Platform, env: Environment, only: set[str] | None) -> dict:
    """{folder: PendingChart} for the environment (``only``: just these components' folders)."""
    from charts.base import chart_id, new_chart
    from charts.component import build_component
    from charts.context import ComponentContext
    from charts.platform import PlatformLayer

    charts = {}
    if only is None or PLATFORM_DIR in only:
        chart = new_chart(chart_id(env.name, PLATFORM_DIR))
        PlatformLayer(chart, env)
        charts[PLATFORM_DIR] = chart
    for component in platform.enabled_components(env):
        if only is not None and component.name not in only:
            continue
        chart = new_chart(chart_id(env.name, "component", component.name))
        build_component(chart, ComponentContext.of(platform, env, component))
        charts[component.name] = chart
    return charts


def render_environment(platform: Platform, env: Environment, only: set[str] | None = None) -> dict[str, bytes]:
    """{path relative to dist/<env>: bytes}, resolved through cdk8s.

    ``only`` limits rendering to some components (fast path for one changed service). Every chart
    goes to cdk8s at once; each is turned into files as soon as its answer is in (memo hits at
    once), so the YAML is written while cdk8s still works on the others.
    """
    from charts.base import submit_charts
    from charts.syncorder import place

    charts = _environment_charts(platform, env, only)
    waiting = {resolution.future: (folder, resolution)
               for folder, resolution in zip(charts, submit_charts(list(charts.values())))}
    by_folder: dict[str, list[tuple[str, bytes]]] = {}
    for future in as_completed(waiting):
        folder, resolution = waiting[future]
        objects = resolution.result()
        if folder != PLATFORM_DIR:
            # Sync waves (and hook targets) of component objects: one table, charts/syncorder.py.
            component = platform.component(folder)
            objects = [place(obj, component) for obj in objects]
        by_folder[folder] = [(f"{folder}/{object_filename(obj)}", dump_object(obj)) for obj in objects]
    files: dict[str, bytes] = {}
    for folder in charts:  # the order charts were built in, whatever order cdk8s answered in
        for path, data in by_folder[folder]:
            if path in files:
                raise RuntimeError(f"two objects render to {path}")
            files[path] = data
    return files
