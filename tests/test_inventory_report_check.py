"""`gitops inventory check`: each gap in a copy of the mini inventory raises its stable ID."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

from click.testing import CliRunner

from gitops.cli import main as gitops_main

from .conftest import FIXTURES, REPO, edit_yaml, run_gitops


def run_cli(root, *args: str) -> SimpleNamespace:
    """In-process `gitops --root ROOT ...` (fast); `run_gitops` (a real subprocess) stays for end-to-end checks."""
    result = CliRunner().invoke(gitops_main, ["--root", str(root), *args], catch_exceptions=False)
    return SimpleNamespace(returncode=result.exit_code, stdout=result.stdout, stderr=result.stderr)


def _edit(root: Path, kind: str, name: str, change) -> None:
    path = root / kind / f"{name}.yaml"
    edit_yaml(path, change)


def _check(root: Path, *args: str) -> tuple[int, list[dict]]:
    proc = run_cli(root, "inventory", "check", "--format", "json", *args)
    data = json.loads(proc.stdout)
    assert proc.returncode == (0 if data["ok"] else 1), proc.stderr   # only error-level findings fail
    return proc.returncode, data["findings"]


def _ids(findings) -> set[tuple]:
    return {(f["rule_id"], f["component"], f["env"]) for f in findings}


def test_clean_inventory_has_no_findings(mini):
    code, findings = _check(mini, "--no-dockerfiles")
    assert (code, findings) == (0, [])


def test_inv001_inv002_missing_image_build_or_dockerfile(mini):
    _edit(mini, "inventory", "stock-service", lambda d: d["source"].pop("dockerfile"))
    _edit(mini, "inventory", "stock-report", lambda d: d["source"].pop("dockerfile"))
    code, findings = _check(mini, "--no-dockerfiles")
    assert code == 1
    # nobody builds ghcr.io/meetinity/stock-service any more: both users are told
    assert {("INV002", "stock-report", None), ("INV002", "stock-service", None)} <= _ids(findings)


PLANNED = """\
name: loyalty-api
kind: api
description: Planned loyalty programme API.
owner: growth
status: planned
language: python
runtime: python:3.11-slim
source: {path: services/loyalty-api}
start: uvicorn loyalty.main:app --host 0.0.0.0 --port 8080
port: 8080
"""


def test_inv001_inv003_planned_component_gaps_are_warnings(mini):
    (mini / "inventory" / "loyalty-api.yaml").write_text(PLANNED)
    code, findings = _check(mini, "--no-dockerfiles")
    assert {(f["rule_id"], f["component"], f["severity"]) for f in findings} == {
        ("INV001", "loyalty-api", "warning"), ("INV003", "loyalty-api", "warning")}
    assert "image repository and no build command" in findings[0]["message"]
    assert code == 0          # warnings are reported, not failing


def test_inv004_inv005_secret_store_keys(mini):
    def env_keys(d):
        d["components"]["shop-api"]["secrets"] = {
            "JWT_SECRET": {"key": "prod/services/shop-api"},          # repeats the store's key prefix
            "DATABASE_URL": {"key": "databases/main", "property": "url"},   # not under shared/ or services/
        }
    _edit(mini, "environments", "prod", env_keys)
    _edit(mini, "environments", "dev", lambda d: d["components"]["shop-api"].update(
        secrets={"JWT_SECRET": {"key": "services/shop-api/"}}))             # trailing slash
    _, findings = _check(mini, "--no-dockerfiles")
    ids = _ids(findings)
    assert ("INV005", "shop-api", "prod") in ids
    assert ("INV004", "shop-api", "prod") in ids
    assert ("INV005", "shop-api", "dev") in ids
    messages = " ".join(f["message"] for f in findings)
    assert "JWT_SECRET" in messages and "DATABASE_URL" in messages


def test_inv004_services_key_of_an_unknown_component(mini):
    _edit(mini, "inventory", "stock-report", lambda d: d["env"][0].update(secret={"key": "services/ghost", "property": "url"}))
    _, findings = _check(mini, "--no-dockerfiles")
    assert ("INV004", "stock-report", "dev") in _ids(findings)


def test_inv006_required_plain_variable_unset(mini):
    _edit(mini, "inventory", "shop-api", lambda d: d["env"].append({"name": "CORS_ORIGINS", "required": True}))
    _, findings = _check(mini, "--no-dockerfiles")
    assert {("INV006", "shop-api", "dev"), ("INV006", "shop-api", "prod")} <= _ids(findings)
    # an environment override fixes it for that environment only
    _edit(mini, "environments", "dev", lambda d: d["components"]["shop-api"].update(
        env={"CORS_ORIGINS": "https://shop.dev.example.com"}))
    _, findings = _check(mini, "--no-dockerfiles")
    inv006 = {(f["rule_id"], f["env"]) for f in findings if f["rule_id"] == "INV006"}
    assert inv006 == {("INV006", "prod")}


def test_inv007_dependency_without_a_port_to_reach(mini):
    # prod's postgresql endpoint listens on another port than the one shop-api and the loader agree on
    _edit(mini, "environments", "prod", lambda d: d["backing"]["postgresql"].update(port=6432))
    # and stock-service now depends on stock-report, a cronjob that listens on nothing
    _edit(mini, "inventory", "stock-service", lambda d: d.update(dependencies=[{"name": "stock-report", "port": 8080}]))
    code, findings = _check(mini, "--no-dockerfiles")
    ids = _ids(findings)
    assert code == 1
    assert ("INV007", "shop-api", "prod") in ids and ("INV007", "shop-api", "dev") not in ids
    assert ("INV007", "stock-service", "dev") in ids


def test_inv008_required_dependency_not_enabled(mini):
    _edit(mini, "environments", "prod", lambda d: d["components"]["stock-service"].update(enabled=False))
    _, findings = _check(mini, "--no-dockerfiles")
    assert ("INV008", "shop-api", "prod") in _ids(findings)


def test_inv009_promotion_order_gap_is_an_input_error_everywhere(mini):
    """Enabled in prod but not in dev (prod's source): refused by every command that loads the platform."""
    _edit(mini, "environments", "dev", lambda d: d["components"]["stock-service"].update(enabled=False))
    for args in (("inventory", "check", "--no-dockerfiles"), ("synth", "--check"), ("synth",), ("validate",)):
        proc = run_gitops(mini, *args)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert ("environments/prod.yaml:" in proc.stderr and "at components/stock-service/enabled: expected "
                "stock-service enabled in dev first" in proc.stderr), proc.stderr
    assert not (mini / "dist").exists()


def test_inv010_one_image_two_builds(mini):
    _edit(mini, "inventory", "stock-report", lambda d: d["source"].update(dockerfile="services/stock-service/Dockerfile.report"))
    _, findings = _check(mini, "--no-dockerfiles")
    assert ("INV010", "stock-service", None) in _ids(findings)


def test_dockerfile_findings_from_a_local_checkout(mini, tmp_path):
    src = tmp_path / "src"
    shutil.copytree(FIXTURES / "dockerfiles" / "legacy-moderation-service", src / "services" / "shop-api")
    shutil.copytree(FIXTURES / "dockerfiles" / "good", src / "services" / "stock-service")
    code, findings = _check(mini, "--src", str(src), "--no-hadolint")
    assert code == 1
    df = {(f["rule_id"], f["component"]) for f in findings if f["rule_id"].startswith("DF")}
    assert df == {("DF001", "shop-api"), ("DF002", "shop-api"), ("DF005", "shop-api"), ("DF006", "shop-api")}
    # stock-service and stock-report share services/stock-service/Dockerfile: audited once, and clean
    proc = run_cli(mini, "inventory", "check", "--format", "json", "--src", str(src), "--no-hadolint")
    assert len(json.loads(proc.stdout)["dockerfiles"]) == 2


def test_text_output_and_summary(mini):
    _edit(mini, "environments", "prod", lambda d: d["components"]["stock-service"].update(enabled=False))
    proc = run_gitops(mini, "inventory", "check", "--no-dockerfiles")
    assert proc.returncode == 1
    assert "inventory/shop-api.yaml: INV008 error [prod]:" in proc.stdout
    assert "(INV008 x1) in 4 components" in proc.stdout


def test_real_inventory_check_runs():
    """Read-only: the real inventory loads and the check completes (findings are data, not failures)."""
    proc = run_cli(REPO, "inventory", "check", "--format", "json", "--no-dockerfiles")
    data = json.loads(proc.stdout)
    assert proc.returncode == (0 if data["ok"] else 1), proc.stderr
    for f in data["findings"]:
        assert f["rule_id"].startswith("INV")
