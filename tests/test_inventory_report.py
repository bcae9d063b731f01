"""`gitops inventory`: the inventory table as Markdown, JSON and CSV; docs/service-inventory.md kept fresh."""
from __future__ import annotations

import csv
import io
import json


from gitops.generated.inventory_report import render_markdown
from gitops.inputs.load import load_platform
from gitops.pipeline.outputs import GLOBAL_FILES

from .conftest import MINI, REPO, run_cli, run_gitops




def _json(root) -> dict:
    proc = run_cli(root, "inventory", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_json_lists_every_inventory_component():
    data = _json(MINI)
    names = sorted(p.stem for p in (MINI / "inventory").glob("*.yaml"))
    assert [c["name"] for c in data["components"]] == names
    assert data["environments"] == ["dev", "prod"]


def test_json_record_fields():
    comps = {c["name"]: c for c in _json(MINI)["components"]}
    api = comps["shop-api"]
    assert (api["kind"], api["owner"], api["runtime"], api["port"]) == ("api", "platform", "python:3.11-slim", 8080)
    assert api["build"] == "docker build services/shop-api"
    assert api["start"] == "gunicorn --bind 0.0.0.0:8080 app:app"
    assert api["health"] == {"liveness": "/health", "readiness": "/ready"}
    env = {e["name"]: e for e in api["env"]}
    assert (env["LOG_LEVEL"]["type"], env["LOG_LEVEL"]["required"], env["LOG_LEVEL"]["value"]) == ("plain", False, "info")
    assert (env["JWT_SECRET"]["type"], env["JWT_SECRET"]["required"]) == ("secret", True)
    assert (env["JWT_SECRET"]["secret_key"], env["JWT_SECRET"]["secret_property"]) == ("services/shop-api", "JWT_SECRET")
    assert env["DATABASE_URL"]["secret_key"] == "shared/database"
    assert api["dependencies"] == [{"name": "stock-service", "port": 8080, "optional": False, "protocol": "TCP"},
                                   {"name": "postgresql", "port": 5432, "optional": False, "protocol": "TCP"}]
    assert api["environments"] == ["dev", "prod"] and api["image"] == "ghcr.io/meetinity/shop-api"
    assert comps["stock-report"]["environments"] == ["dev"]            # disabled in prod
    assert comps["stock-service"]["storage"] == [
        {"name": "cache", "mount_path": "/var/cache/stock", "kind": "emptyDir", "size": "512Mi"}]
    assert comps["postgresql"]["environments"] == [] and comps["postgresql"]["engine"] == "aurora-postgresql 15.4"


def test_csv_has_one_row_per_component_with_the_table_columns():
    proc = run_cli(MINI, "inventory", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [r["name"] for r in rows] == ["postgresql", "shop-api", "stock-report", "stock-service"]
    assert set(rows[0]) == {"name", "kind", "status", "owner", "runtime", "build", "start", "port", "health", "env",
                            "dependencies", "storage", "environments", "image"}
    api = rows[1]
    assert "JWT_SECRET(secret,required)" in api["env"] and "LOG_LEVEL(plain)" in api["env"]
    assert api["dependencies"] == "stock-service:8080; postgresql:5432" and api["environments"] == "dev prod"


def test_markdown_document():
    proc = run_cli(MINI, "inventory")          # md is the default
    text = proc.stdout
    assert text.startswith("# Service inventory\n") and "Do not edit" in text
    assert "| component | kind | owner | runtime | port | health | image | dev | prod |" in text
    for name in ("postgresql", "shop-api", "stock-report", "stock-service"):
        assert f"### {name}" in text
    assert "| [stock-report](#stock-report) | cronjob | inventory |" in text
    assert "| `JWT_SECRET` | secret | yes | `services/shop-api` → `JWT_SECRET` |" in text
    assert "| start | `gunicorn --bind 0.0.0.0:8080 app:app` |" in text


def test_docs_file_is_registered_and_deterministic():
    assert ("docs/service-inventory.md", "gitops.generated.inventory_report:render_markdown") in GLOBAL_FILES
    platform = load_platform(MINI)
    assert render_markdown(platform) == render_markdown(load_platform(MINI))
    assert render_markdown(platform).decode() == run_cli(MINI, "inventory").stdout


def test_synth_writes_the_inventory_doc(mini_synth):
    doc = mini_synth / "docs" / "service-inventory.md"
    assert doc.read_bytes() == render_markdown(load_platform(mini_synth))


def test_bad_input_exits_2(mini):
    (mini / "inventory" / "shop-api.yaml").write_text("name: shop-api\nkind: spaceship\n")
    proc = run_gitops(mini, "inventory", "--format", "json")
    assert proc.returncode == 2
    assert json.loads(proc.stdout)["ok"] is False


def test_real_inventory_report_lists_every_component():
    """Read-only against the real inventory."""
    platform = load_platform(REPO)
    data = _json(REPO)
    assert [c["name"] for c in data["components"]] == [c.name for c in platform.components]
    assert len(data["components"]) == len(list((REPO / "inventory").glob("*.yaml")))
