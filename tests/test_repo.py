"""Properties of the committed repository: generated files are fresh, every component is where it belongs."""
from __future__ import annotations

import yaml

from gitops.inputs.delivery import delivery_of
from gitops.inputs.load import load_platform
from gitops.pipeline.render import PLATFORM_DIR

from .conftest import REPO, run_gitops


def test_committed_outputs_are_fresh():
    """podinfo rule: regenerating from the committed inputs must reproduce the committed outputs."""
    proc = run_gitops(REPO, "synth", "--check")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_enabled_component_in_every_enabling_environment():
    platform = load_platform(REPO)
    for env in platform.environments:
        dist = REPO / "dist" / env.name
        folders = {p.name for p in dist.iterdir() if p.is_dir()}
        assert folders == {c.name for c in platform.enabled_components(env)} | {PLATFORM_DIR}, env.name
        for component in platform.enabled_components(env):
            kinds = {yaml.safe_load(p.read_text())["kind"] for p in (dist / component.name).glob("*.yaml")}
            workload = {"job": "Job", "cronjob": "CronJob"}.get(component.kind, "Deployment")
            if delivery_of(component, env).progressive:
                workload = "Rollout"  # canary/blueGreen (docs/progressive-delivery.md)
            assert {workload, "ServiceAccount", "NetworkPolicy"} <= kinds, (env.name, component.name)
            if component.is_serving:
                assert {"Service", "PodDisruptionBudget"} <= kinds, (env.name, component.name)
            if component.public_subdomain:
                assert "Ingress" in kinds


def test_planned_components_are_never_deployed():
    platform = load_platform(REPO)
    planned = {c.name for c in platform.components if c.status == "planned"}
    assert planned, "the inventory keeps master-data-service as planned"
    for env in platform.environments:
        assert not planned & {p.name for p in (REPO / "dist" / env.name).iterdir()}
