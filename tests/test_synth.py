"""Synth behaviour: golden output, determinism, stale detection, ownership, cache, parallel == serial."""
from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from gitops.inputs.load import load_platform
from gitops.pipeline.synth import synth

from .conftest import assert_golden, run_gitops, tree_bytes

GOLDEN = Path(__file__).resolve().parent / "golden" / "mini"


def test_golden_output(mini_synth):
    """The fixture platform's dist/ is pinned byte for byte. Regenerate with UPDATE_GOLDEN=1."""
    assert_golden(mini_synth / "dist", GOLDEN)


def test_every_enabled_component_present_in_every_enabling_env(mini_synth):
    platform = load_platform(mini_synth)
    for env in platform.environments:
        folders = {p.name for p in (mini_synth / "dist" / env.name).iterdir()}
        expected = {c.name for c in platform.enabled_components(env)} | {"platform"}
        assert folders == expected, env.name


def test_canonical_key_order_and_no_hash_suffix(mini_synth):
    for path in (mini_synth / "dist").rglob("*.yaml"):
        text = path.read_text()
        assert text.startswith("apiVersion: "), path
        doc = yaml.safe_load(text)
        assert list(doc)[:3] == ["apiVersion", "kind", "metadata"], path
        assert path.name == f"{doc['kind'].lower()}-{doc['metadata']['name']}.yaml"


def test_synth_twice_is_byte_identical(mini):
    synth(mini, no_cache=True)
    first = tree_bytes(mini / "dist")
    synth(mini, no_cache=True)
    assert tree_bytes(mini / "dist") == first


def test_parallel_and_serial_give_identical_bytes(mini):
    synth(mini, no_cache=True, jobs=1)
    serial = tree_bytes(mini / "dist")
    shutil.rmtree(mini / "dist")
    synth(mini, no_cache=True, jobs=2)
    assert tree_bytes(mini / "dist") == serial


def test_check_reports_changed_missing_and_stale(mini):
    run_gitops(mini, "synth", check=True)
    assert run_gitops(mini, "synth", "--check").returncode == 0
    dep = mini / "dist/dev/shop-api/deployment-shop-api.yaml"
    dep.write_text(dep.read_text().replace("v1.2.0", "v9"))
    (mini / "dist/dev/shop-api/configmap-shop-api-settings.yaml").unlink()
    (mini / "dist/prod/stray.yaml").write_text("kind: Nope\n")
    proc = run_gitops(mini, "synth", "--check")
    assert proc.returncode == 1
    assert "changed dist/dev/shop-api/deployment-shop-api.yaml" in proc.stdout
    assert "missing dist/dev/shop-api/configmap-shop-api-settings.yaml" in proc.stdout
    assert "stale dist/prod/stray.yaml" in proc.stdout
    assert proc.stdout.startswith("stale: dist/dev, dist/prod;")


def test_check_names_stale_files_outside_dist(mini):
    run_gitops(mini, "synth", check=True)
    (mini / ".github/CODEOWNERS").write_text("* @someone\n")
    app = next((mini / "argocd/dev").glob("application-*.yaml"))
    app.write_text(app.read_text() + "# edited\n")
    proc = run_gitops(mini, "synth", "--check")
    assert proc.returncode == 1
    assert proc.stdout.startswith("stale: .github/CODEOWNERS, argocd/dev;"), proc.stdout
    assert "dist/" not in proc.stdout.splitlines()[0]
    assert f"changed argocd/dev/{app.name}" in proc.stdout and "changed .github/CODEOWNERS" in proc.stdout


def test_removing_component_removes_its_files_only(mini):
    synth(mini, no_cache=True)
    prod_before = tree_bytes(mini / "dist/prod")
    env = mini / "environments/dev.yaml"
    data = yaml.safe_load(env.read_text())
    data["components"]["stock-report"]["enabled"] = False
    env.write_text(yaml.safe_dump(data, sort_keys=False))
    synth(mini)
    assert not (mini / "dist/dev/stock-report").exists()
    assert tree_bytes(mini / "dist/prod") == prod_before


def test_env_flag_touches_only_that_environment(mini):
    synth(mini, no_cache=True)
    dev_before = tree_bytes(mini / "dist/dev")
    env = mini / "environments/prod.yaml"
    env.write_text(env.read_text().replace("tag: v1.2.0", "tag: v1.3.0"))
    # prod changed but dev is not selected: dev must stay byte-identical.
    synth(mini, ["prod"], no_cache=True)
    assert tree_bytes(mini / "dist/dev") == dev_before
    assert "v1.3.0" in (mini / "dist/prod/shop-api/deployment-shop-api.yaml").read_text()


def test_input_hash_skips_only_unchanged_environments(mini):
    first = synth(mini)
    assert sorted(first.rendered) == ["dev", "prod"]
    again = synth(mini)
    assert again.rendered == [] and sorted(again.skipped) == ["dev", "prod"]
    env = mini / "environments/prod.yaml"
    env.write_text(env.read_text().replace("tag: v1.2.0", "tag: v1.3.0"))
    third = synth(mini)
    assert third.rendered == ["prod"] and third.skipped == ["dev"]
    # A hand edit of dist/ invalidates the cache too.
    dep = mini / "dist/dev/shop-api/deployment-shop-api.yaml"
    dep.write_text(dep.read_text() + "# edited\n")
    fourth = synth(mini)
    assert fourth.rendered == ["dev"]
    assert "# edited" not in dep.read_text()


def test_single_service_render_matches_full_render(mini):
    synth(mini, no_cache=True)
    full = tree_bytes(mini / "dist")
    shutil.rmtree(mini / "dist/dev/shop-api")
    proc = run_gitops(mini, "synth", "--env", "dev", "--service", "shop-api")
    assert proc.returncode == 0, proc.stderr
    assert tree_bytes(mini / "dist") == full


def test_cloud_identity_gets_the_terraform_role(mini):
    inv = mini / "inventory/stock-service.yaml"
    inv.write_text(inv.read_text() + "cloudIdentity: true\n")
    env = mini / "environments/dev.yaml"
    env.write_text(env.read_text() + 'awsAccountId: "123456789012"\n')
    synth(mini, ["dev"], no_cache=True)
    sa = yaml.safe_load((mini / "dist/dev/stock-service/serviceaccount-stock-service.yaml").read_text())
    assert sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == "arn:aws:iam::123456789012:role/shop-dev-stock-service"
    other = yaml.safe_load((mini / "dist/dev/shop-api/serviceaccount-shop-api.yaml").read_text())
    assert "eks.amazonaws.com/role-arn" not in other["metadata"].get("annotations", {})
