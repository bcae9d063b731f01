"""Every built-in Kubernetes document in a synthesized tree passes kubernetes-validate's strict schema."""
from __future__ import annotations

import kubernetes_validate
import pytest
import yaml

from gitops.inputs.load import load_platform

BUILTIN_GROUPS = ("v1", "apps/v1", "batch/v1", "policy/v1", "autoscaling/v2", "networking.k8s.io/v1", "rbac.authorization.k8s.io/v1")


def _strict_errors(root):
    platform = load_platform(root)
    errors = []
    count = 0
    for env in platform.environments:
        for path in sorted((root / "dist" / env.name).rglob("*.yaml")):
            for doc in yaml.safe_load_all(path.read_text()):
                if doc["apiVersion"] not in BUILTIN_GROUPS:
                    continue
                count += 1
                try:
                    kubernetes_validate.validate(doc, env.kubernetes_version, strict=True)
                except kubernetes_validate.ValidationError as exc:
                    errors.append(f"{path}: {exc.message}")
    return count, errors


def test_fixture_dist_is_strictly_valid(mini_synth):
    count, errors = _strict_errors(mini_synth)
    assert count > 20
    assert errors == []


def test_strict_schema_catches_unknown_field(mini_synth, tmp_path):
    doc = yaml.safe_load((mini_synth / "dist/dev/shop-api/deployment-shop-api.yaml").read_text())
    doc["spec"]["replicaz"] = 2
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, "1.33", strict=True)
