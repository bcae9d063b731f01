"""`npx cdk8s synth` (cdk8s-cli pinned in package.json) produces the same dist/ as `gitops synth`."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from .conftest import REPO, copy_inputs, MINI, run_gitops, tree_bytes

CDK8S = REPO / "node_modules" / ".bin" / "cdk8s"


@pytest.mark.skipif(not CDK8S.exists(), reason="npm dependencies not installed (run make synth)")
def test_cdk8s_cli_matches_gitops_synth(tmp_path):
    via_gitops = copy_inputs(MINI, tmp_path / "a")
    run_gitops(via_gitops, "synth", "--no-cache", check=True)
    via_cli = copy_inputs(MINI, tmp_path / "b")
    (via_cli / "cdk8s.yaml").write_text(
        f"language: python\napp: {sys.executable} {REPO / 'app.py'}\noutput: .cache/cdk8s.out\n")
    env = {**os.environ, "GITOPS_ROOT": str(via_cli)}
    # As package.json's `npm run synth` runs it: without the npm upgrade check (no network, pinned CLI).
    script = json.loads((REPO / "package.json").read_text())["scripts"]["synth"].split()
    assert script[:2] == ["cdk8s", "synth"] and "--no-check-upgrade" in script
    proc = subprocess.run([str(CDK8S), *script[1:]], cwd=via_cli, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Error" not in proc.stderr and "new version" not in proc.stderr, proc.stderr  # no upgrade-check trace
    assert tree_bytes(via_cli / "dist") == tree_bytes(via_gitops / "dist")
    bundles = sorted(p.name for p in (via_cli / ".cache/cdk8s.out").iterdir())
    assert bundles == ["dev.k8s.yaml", "prod.k8s.yaml"]


@pytest.mark.skipif(not CDK8S.exists(), reason="npm dependencies not installed (run make synth)")
def test_cdk8s_cli_bad_input_keeps_dist(tmp_path):
    root = copy_inputs(MINI, tmp_path / "c")
    run_gitops(root, "synth", check=True)
    before = tree_bytes(root / "dist")
    (root / "cdk8s.yaml").write_text(f"language: python\napp: {sys.executable} {REPO / 'app.py'}\noutput: .cache/cdk8s.out\n")
    (root / "inventory/shop-api.yaml").write_text("name: shop-api\nkind: nope\n")
    env = {**os.environ, "GITOPS_ROOT": str(root)}
    proc = subprocess.run([str(CDK8S), "synth"], cwd=root, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode != 0
    assert "inventory/shop-api.yaml" in proc.stdout + proc.stderr
    assert tree_bytes(root / "dist") == before
