"""`gitops compose`: docker-compose.dev.yml from the inventory, valid against the compose-spec schema."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gitops.generated.compose import render_compose, render_text
from gitops.inputs.load import load_platform
from gitops.pipeline.outputs import GLOBAL_FILES

from .conftest import REPO, run_cli, run_gitops
from .inventory_samples import SHOP_WEB, inventory_yaml




CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"

# Public, on 8080 like shop-api: the compose ports must be resolved.
WEB = inventory_yaml(SHOP_WEB, public={"subdomain": "www"})

PRICING = """\
name: pricing-service
kind: api
description: Another internal API on 8080.
owner: inventory
language: python
runtime: python:3.11-slim
source: {repository: acme/monorepo, path: services/pricing, dockerfile: services/pricing/docker/Dockerfile}
image: ghcr.io/meetinity/pricing-service
build: docker build services/pricing
start: gunicorn --bind 0.0.0.0:8080 "pricing:create_app()" --log-level $LOG_LEVEL
port: 8080
health: {liveness: /health, readiness: /health}
env:
  - {name: GREETING, value: "price is $5"}
dependencies:
  - {name: stock-service, port: 8080}
  - {name: redis, port: 6379, optional: true}
volumes:
  - {name: data, mountPath: /var/lib/pricing, kind: persistentVolumeClaim, size: 1Gi}
resources:
  requests: {cpu: 50m, memory: 64Mi}
  limits: {cpu: 100m, memory: 128Mi}
"""

REDIS = """\
name: redis
kind: backing
description: Managed Redis.
owner: platform
engine: elasticache-redis 7.1
port: 6379
"""


def validate_schema(path: Path) -> None:
    proc = subprocess.run([str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.compose-spec", str(path)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def host_ports(doc: dict) -> dict[str, int]:
    out = {}
    for name, svc in doc["services"].items():
        for spec in svc.get("ports", []):
            # "127.0.0.1:${NAME_PORT:-8080}:8080" -> 8080 (the default host port)
            out[name] = int(spec.split(":-")[1].split("}")[0])
    return out


@pytest.fixture
def bigger(mini: Path) -> Path:
    """mini + a public front end and a second API on 8080 + Redis: port clashes to resolve."""
    (mini / "inventory" / "shop-web.yaml").write_text(WEB)
    (mini / "inventory" / "pricing-service.yaml").write_text(PRICING)
    (mini / "inventory" / "redis.yaml").write_text(REDIS)
    return mini


def _generate(root: Path, *args: str) -> dict:
    proc = run_cli(root, "compose", *args)
    assert proc.returncode == 0, proc.stderr
    return yaml.safe_load((root / "docker-compose.dev.yml").read_text())


def test_default_output_validates_against_the_compose_spec(mini):
    _generate(mini)
    validate_schema(mini / "docker-compose.dev.yml")


def test_services_backing_and_dependencies(mini):
    doc = _generate(mini)
    assert list(doc["services"]) == ["postgresql", "shop-api", "stock-service", "stock-report"]
    pg = doc["services"]["postgresql"]
    assert pg["image"] == "postgres:15.4-alpine"                       # the engine version of the inventory
    assert pg["healthcheck"]["test"][0] == "CMD" and "pg_isready" in pg["healthcheck"]["test"]
    assert pg["volumes"] == ["postgresql-data:/var/lib/postgresql/data"] and "postgresql-data" in doc["volumes"]
    api = doc["services"]["shop-api"]
    assert api["depends_on"] == {"postgresql": {"condition": "service_healthy"},
                                 "stock-service": {"condition": "service_healthy"}}
    assert api["build"] == {"context": "../services/shop-api", "dockerfile": "Dockerfile",
                            "args": {"GIT_SHA": "${GIT_SHA:-local}"}}
    assert api["image"] == "ghcr.io/meetinity/shop-api:local"
    assert api["env_file"] == [{"path": ".env.shop-api", "required": False}]
    assert api["environment"] == {"LOG_LEVEL": "info", "STOCK_URL": "http://stock-service:8080"}
    assert "JWT_SECRET" not in api["environment"] and "DATABASE_URL" not in api["environment"]   # secrets: env files
    assert api["command"] == ["gunicorn", "--bind", "0.0.0.0:8080", "app:app"]
    assert "/ready" in " ".join(api["healthcheck"]["test"])
    assert (api["user"], api["read_only"], api["cap_drop"]) == ("10001:10001", True, ["ALL"])
    assert api["security_opt"] == ["no-new-privileges:true"] and "/tmp" in api["tmpfs"]
    stock = doc["services"]["stock-service"]
    assert "/var/cache/stock" in stock["tmpfs"]                        # emptyDir volume -> tmpfs


def test_jobs_are_behind_a_profile_and_reuse_the_service_image(mini):
    job = _generate(mini)["services"]["stock-report"]
    assert job["profiles"] == ["jobs"] and job["restart"] == "no"
    assert job["image"] == "ghcr.io/meetinity/stock-service:local" and job["pull_policy"] == "never"
    assert "build" not in job and "ports" not in job and "healthcheck" not in job
    assert job["command"] == ["python", "-m", "report"]
    assert job["depends_on"] == {"postgresql": {"condition": "service_healthy"}}


def test_host_ports_are_unique_and_public_components_keep_theirs(bigger):
    doc = _generate(bigger)
    validate_schema(bigger / "docker-compose.dev.yml")
    ports = host_ports(doc)
    assert len(set(ports.values())) == len(ports), ports
    # four components listen on 8080: the public ones (shop-api, shop-web) are served first, by name
    assert (ports["shop-api"], ports["shop-web"]) == (8080, 8081)
    assert (ports["pricing-service"], ports["stock-service"]) == (8082, 8083)
    assert doc["services"]["pricing-service"]["ports"] == [f"127.0.0.1:${{PRICING_SERVICE_PORT:-{ports['pricing-service']}}}:8080"]
    assert (ports["postgresql"], ports["redis"]) == (5432, 6379)


def test_repository_contexts_escaping_and_optional_dependencies(bigger):
    doc = _generate(bigger)
    pricing = doc["services"]["pricing-service"]
    assert pricing["build"]["context"] == "../monorepo/services/pricing"
    assert pricing["build"]["dockerfile"] == "docker/Dockerfile"
    assert doc["services"]["shop-web"]["build"]["context"] == "../shop-web"
    assert pricing["environment"] == {"GREETING": "price is $$5"}                  # literal $, not interpolation
    assert pricing["command"][0] == "/bin/sh" and "$$LOG_LEVEL" in pricing["command"][2]
    assert pricing["depends_on"]["redis"] == {"condition": "service_healthy", "required": False}
    assert pricing["volumes"] == ["pricing-service-data:/var/lib/pricing"]
    assert doc["services"]["redis"]["image"].startswith("redis:7.")
    assert "wget" in doc["services"]["shop-web"]["healthcheck"]["test"]


def test_dependency_cycles_are_broken(mini):
    path = mini / "inventory" / "stock-service.yaml"
    data = yaml.safe_load(path.read_text())
    data["dependencies"] = [{"name": "shop-api", "port": 8080}]
    path.write_text(yaml.safe_dump(data))
    text = render_text(load_platform(mini))
    doc = yaml.safe_load(text)
    assert doc["services"]["shop-api"]["depends_on"]["stock-service"] == {"condition": "service_healthy"}
    assert "depends_on" not in doc["services"]["stock-service"]          # the edge closing the cycle
    assert "left out to break dependency cycles: stock-service -> shop-api" in text


def test_registered_in_global_files_and_written_by_synth(mini_synth):
    assert ("docker-compose.dev.yml", "gitops.generated.compose:render_compose") in GLOBAL_FILES
    written = (mini_synth / "docker-compose.dev.yml").read_bytes()
    assert written == render_compose(load_platform(mini_synth))
    assert written.startswith(b"# Local development stack, generated by `gitops compose`")


def test_output_elsewhere_and_check(mini, tmp_path):
    out = mini / "local" / "stack.yml"
    proc = run_gitops(mini, "compose", "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    doc = yaml.safe_load(out.read_text())
    assert doc["services"]["shop-api"]["build"]["context"] == "../../services/shop-api"   # from local/
    proc = run_cli(mini, "compose", "--output", str(out), "--check")
    assert proc.returncode == 0 and "up to date" in proc.stdout
    out.write_text(out.read_text() + "# hand edit\n")
    proc = run_cli(mini, "compose", "--output", str(out), "--check")
    assert proc.returncode == 1 and "stale" in proc.stdout
    proc = run_cli(mini, "compose", "--output", "-")
    assert proc.stdout == render_text(load_platform(mini))


def test_docker_compose_config_accepts_it(bigger):
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("no docker compose plugin on this machine")
    _generate(bigger)
    proc = subprocess.run([docker, "compose", "-f", str(bigger / "docker-compose.dev.yml"), "config", "--quiet"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_real_inventory_compose(tmp_path):
    """Read-only: the real inventory's stack validates, every active workload is in it, host ports are unique."""
    platform = load_platform(REPO)
    path = tmp_path / "docker-compose.dev.yml"
    path.write_bytes(render_compose(platform))
    validate_schema(path)
    doc = yaml.safe_load(path.read_text())
    expected = {c.name for c in platform.components if c.is_workload and c.status == "active"}
    assert expected <= set(doc["services"])
    ports = host_ports(doc)
    assert len(set(ports.values())) == len(ports)
