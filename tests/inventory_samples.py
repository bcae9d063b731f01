"""Inventory entries several test modules add to the `mini` fixture platform, written once.

Each test states only what its case changes (``inventory_yaml(SHOP_WEB, port=3000)``), so a
change to the inventory schema is made here and not in every copy.
"""
from __future__ import annotations

import yaml

# A React front end served by nginx-unprivileged (the shape of the real shop-web).
SHOP_WEB = {
    "name": "shop-web",
    "kind": "frontend",
    "description": "Shop front end.",
    "owner": "web",
    "tier": "frontend",
    "language": "typescript",
    "runtime": "nginxinc/nginx-unprivileged:1.27-alpine",
    "source": {"repository": "acme/shop-web", "path": ".", "dockerfile": "Dockerfile"},
    "image": "ghcr.io/meetinity/shop-web",
    "build": "npm ci && npm run build",
    "start": "nginx -g 'daemon off;'",
    "port": 8080,
    "health": {"liveness": "/health", "readiness": "/health"},
    "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "100m", "memory": "128Mi"}},
}


def migrations_of(workload: str, name: str) -> dict:
    """Job ``name``: ``workload``'s schema migrations from ``workload``'s own image, run before it rolls."""
    return {
        "name": name,
        "kind": "job",
        "runsBefore": workload,
        "description": f"Schema migrations of {workload}.",
        "owner": "inventory",
        "tier": "batch",
        "language": "python",
        "runtime": "python:3.11-slim",
        "source": {"path": f"services/{workload}"},
        "image": f"ghcr.io/meetinity/{workload}",
        "build": f"docker build services/{workload}",
        "start": "alembic upgrade head",
        "command": ["alembic", "upgrade", "head"],
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "100m", "memory": "128Mi"}},
        "env": [{"name": "DATABASE_URL", "secret": {"key": "shared/database", "property": "url"}, "required": True}],
        "dependencies": [{"name": "postgresql", "port": 5432}],
    }


def inventory_yaml(base: dict, **changes) -> str:
    """``base`` with ``changes`` applied at the top level, as inventory YAML (key order kept)."""
    return yaml.safe_dump({**base, **changes}, sort_keys=False)
