"""Synthetic platforms for benchmarks: N components x M environments, realistic objects.

Each component looks like a real Meetinity API (plain and secret env vars, dependencies on
other components and on PostgreSQL, metrics, a custom HPA metric, a public host for one in
four), so it gets the full object set a real component gets.
"""
from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import yaml


def _component(i: int, n: int) -> dict:
    name = f"svc-{i:04d}"
    deps = sorted({(i + 1) % n, (i + 7) % n} - {i})
    comp = {
        "name": name,
        "kind": "api",
        "description": f"Synthetic service {i}",
        "owner": f"team-{i % 8}",
        "reviewers": [f"@bench/team-{i % 8}"],
        "tier": "core",
        "language": "python",
        "runtime": "python:3.11-slim",
        "source": {"path": f"services/{name}", "dockerfile": f"services/{name}/Dockerfile"},
        "image": f"ghcr.io/bench/{name}",
        "build": f"docker build services/{name}",
        "start": "gunicorn --bind 0.0.0.0:8080 app:app",
        "port": 8080,
        "health": {"liveness": "/health", "readiness": "/health"},
        "metrics": {"path": "/metrics"},
        "env": [{"name": f"SETTING_{k}", "value": f"value-{k}"} for k in range(10)]
        + [{"name": f"SECRET_{k}", "secret": True, "required": True} for k in range(3)]
        + [{"name": "DATABASE_URL", "secret": {"key": "shared/database", "property": "url"}, "required": True}],
        "dependencies": [{"name": f"svc-{d:04d}", "port": 8080} for d in deps] + [{"name": "postgresql", "port": 5432}],
        "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"cpu": "20m", "memory": "64Mi"}},
        "autoscaling": {"min": 1, "max": 2, "cpu": 70, "memory": 80,
                        "customMetrics": [{"name": f"svc_{i:04d}_rps", "series": f"svc_{i:04d}_requests_total",
                                           "targetAverageValue": "10"}]},
        "alerting": {"requestsCounter": f"svc_{i:04d}_requests_total"},
    }
    if i % 4 == 0:
        comp["public"] = {"subdomain": f"svc{i:04d}"}
    return comp


def _environment(name: str, previous: str | None, n: int, index: int) -> dict:
    digest = lambda c: "sha256:" + hashlib.sha256(f"{c}:{name}".encode()).hexdigest()  # noqa: E731
    return {
        "name": name,
        "promotesFrom": previous,
        "cluster": {"name": f"bench-{name}", "server": f"https://{name}.k8s.bench.example"},
        "kubernetesVersion": "1.33",
        "namespace": f"bench-{name}",
        "domain": f"{name}.bench.example",
        "secretStore": {"name": f"vault-{name}", "server": f"https://vault.{name}.bench.example",
                        "role": f"bench-{name}", "keyPrefix": name},
        "quota": {"requests": {"cpu": "64", "memory": "256Gi"}, "limits": {"cpu": "128", "memory": "512Gi"}, "pods": 2000},
        "limitRange": {"default": {"cpu": "100m", "memory": "64Mi"}, "defaultRequest": {"cpu": "10m", "memory": "32Mi"},
                       "max": {"cpu": "2", "memory": "2Gi"}, "min": {"cpu": "5m", "memory": "16Mi"}},
        "nodeCapacity": {"instanceType": "m5.4xlarge", "min": 3, "max": 20, "cpuPerNode": "16", "memoryPerNode": "64Gi"},
        "policy": {"requireDigest": index == 2, "autoSync": index != 2},
        "backing": {"postgresql": {"host": f"db.{name}.bench.example", "port": 5432, "cidr": f"10.{index}.0.0/17"}},
        "components": {
            f"svc-{i:04d}": {"enabled": True, "image": {"tag": f"v1.{i}.0", **({"digest": digest(i)} if index == 2 else {})}}
            for i in range(n)
        },
    }


def generate(root: Path, components: int, environments: int) -> Path:
    """Write inventory/ and environments/ for a synthetic platform under ``root``."""
    (root / "inventory").mkdir(parents=True, exist_ok=True)
    (root / "environments").mkdir(parents=True, exist_ok=True)
    for i in range(components):
        comp = _component(i, components)
        (root / "inventory" / f"{comp['name']}.yaml").write_text(yaml.safe_dump(comp, sort_keys=False))
    (root / "inventory" / "postgresql.yaml").write_text(yaml.safe_dump({
        "name": "postgresql", "kind": "backing", "description": "Managed PostgreSQL", "owner": "platform",
        "engine": "aurora-postgresql 15.4", "port": 5432}, sort_keys=False))
    names = ["dev", "staging", "prod"] + [f"env{k}" for k in range(3, environments)]
    previous = None
    for index, name in enumerate(names[:environments]):
        (root / "environments" / f"{name}.yaml").write_text(
            yaml.safe_dump(_environment(name, previous, components, index), sort_keys=False))
        previous = name
    return root


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("root", type=Path)
    parser.add_argument("-n", "--components", type=int, default=200)
    parser.add_argument("-m", "--environments", type=int, default=3)
    args = parser.parse_args()
    print(generate(args.root, args.components, args.environments))
