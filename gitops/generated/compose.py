"""docker-compose.dev.yml: the local stack, generated from the inventory (``gitops compose``).

Conventions (documented in the file's header too):
- every active workload is a service named like the component, so the inventory's in-cluster URLs
  (``http://user-service:8080``) resolve the same way locally; jobs and cronjobs sit behind the
  ``jobs`` profile (``docker compose --profile jobs run --rm <job>``);
- build context: application repositories are checked out next to this one, so the context is
  ``../<repository name>/<source path>`` (relative to the compose file); the Dockerfile path is
  relative to that context;
- ports: the container port is the inventory port; host ports are unique and bound to 127.0.0.1.
  Backing services first, then public components, then the rest (by name): each gets its own
  port when free, else the next free one. ``<NAME>_PORT`` in ``.env`` moves any of them;
- env: inventory plain values inline (``$`` escaped); secrets and per-developer values come from
  ``.env.<component>`` files (``required: false``; git-ignored, never committed);
- backing services (PostgreSQL, Redis, Kafka, OpenSearch) run as local stand-ins with
  healthchecks and named volumes; dependants wait with ``condition: service_healthy``;
- containers run like the Kubernetes pods: uid 10001, read-only root filesystem with a /tmp
  tmpfs, all capabilities dropped, no privilege escalation.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from ..inputs.conventions import RUN_AS
from ..dockerfile.generate import exec_form, template_for
from ..errors import InputError
from ..inputs.model import Component, Platform

COMPOSE_FILE = "docker-compose.dev.yml"
JOB_KINDS = ("job", "cronjob")


@dataclass(frozen=True)
class StandIn:
    image: str
    port: int
    healthcheck: list[str]
    environment: dict[str, str] = field(default_factory=dict)
    command: list[str] | None = None
    data_path: str | None = None
    url: str = ""
    note: str = ""


def _version(engine: str | None) -> str | None:
    m = re.search(r"(\d+(?:\.\d+)*)", engine or "")
    return m.group(1) if m else None


def stand_in(component: Component) -> StandIn | None:
    """The local container standing in for a managed backing service, or None when there is none."""
    engine = (component.engine or component.name).lower()
    name = component.name
    if "postgres" in engine:
        version = _version(component.engine) or "15"
        return StandIn(
            image=f"postgres:{version}-alpine", port=5432,
            healthcheck=["CMD", "pg_isready", "--username", "postgres"],
            environment={"POSTGRES_HOST_AUTH_METHOD": "trust"},
            data_path="/var/lib/postgresql/data",
            url=f"postgresql://postgres@{name}:5432/postgres",
            note="trust authentication: bound to 127.0.0.1, local data only",
        )
    if "redis" in engine or "valkey" in engine:
        return StandIn(
            image="redis:7.2.5-alpine", port=6379, healthcheck=["CMD", "redis-cli", "ping"],
            command=["redis-server", "--save", "60", "1000", "--loglevel", "warning"],
            data_path="/data", url=f"redis://{name}:6379/0",
            note=f"Redis OSS 7.2 standing in for {component.engine or 'Redis'}: same protocol, no TLS locally",
        )
    if "kafka" in engine:
        return StandIn(
            image="apache/kafka:3.7.0", port=9092,
            healthcheck=["CMD", "/opt/kafka/bin/kafka-broker-api-versions.sh", "--bootstrap-server", "localhost:9092"],
            environment={
                "CLUSTER_ID": "MkU3OEVBNTcwNTJENDM2Qg",
                "KAFKA_NODE_ID": "1",
                "KAFKA_PROCESS_ROLES": "broker,controller",
                "KAFKA_LISTENERS": "PLAINTEXT://:9092,CONTROLLER://:9093",
                "KAFKA_ADVERTISED_LISTENERS": f"PLAINTEXT://{name}:9092",
                "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
                "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@localhost:9093",
                "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
                "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
                "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
                "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
            },
            url=f"{name}:9092", note=f"single-node KRaft over PLAINTEXT, the cluster uses TLS on {component.port}; "
                                     "topics are ephemeral",
        )
    if "opensearch" in engine or "elasticsearch" in engine:
        version = _version(component.engine) or "2.11"
        if version.count(".") == 1:
            version += ".1"
        return StandIn(
            image=f"opensearchproject/opensearch:{version}", port=9200,
            healthcheck=["CMD", "curl", "-fsS", "http://localhost:9200/_cluster/health"],
            environment={"discovery.type": "single-node", "DISABLE_SECURITY_PLUGIN": "true",
                         "DISABLE_INSTALL_DEMO_CONFIG": "true", "OPENSEARCH_JAVA_OPTS": "-Xms512m -Xmx512m"},
            data_path="/usr/share/opensearch/data", url=f"http://{name}:9200",
            note="single node, security plugin off, plain HTTP",
        )
    return None


def env_var_name(name: str) -> str:
    return re.sub(r"[^A-Z0-9]", "_", name.upper())


def escape(value: str) -> str:
    """Compose interpolates ``$``: inventory values are literal, so double it."""
    return value.replace("$", "$$")


def build_context(component: Component, prefix: str) -> tuple[str, str]:
    """(context, dockerfile relative to the context) for a component, ``prefix`` = path to the checkouts."""
    repo = component.source_repository.rsplit("/", 1)[-1] if component.source_repository else None
    src = PurePosixPath(component.source_path or ".")
    context = PurePosixPath(prefix, repo) / src if repo else PurePosixPath(prefix) / src
    dockerfile = PurePosixPath(component.dockerfile or (src / "Dockerfile").as_posix())
    rel = os.path.relpath(dockerfile.as_posix(), src.as_posix())
    return _clean(context.as_posix()), PurePosixPath(rel).as_posix()


def _clean(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == ".." and parts and parts[-1] != "..":
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts) or "."


def _healthcheck(component: Component) -> dict | None:
    if component.port is None or component.health is None or component.kind in JOB_KINDS:
        return None
    url = f"http://127.0.0.1:{component.port}{component.health.readiness_path}"
    try:
        template = template_for(component)
    except InputError:
        return None
    if template == "frontend":
        test = ["CMD", "wget", "-q", "-O", "/dev/null", url]
    else:
        test = ["CMD", "python", "-c",
                f"import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('{url}', timeout=3).status < 400 else 1)"]
    return {"test": test, "interval": "15s", "timeout": "5s", "retries": 5, "start_period": "30s"}


def _allocate_ports(wanted: list[tuple[str, int]]) -> dict[str, int]:
    used: set[int] = set()
    out: dict[str, int] = {}
    for name, port in wanted:
        host = port
        while host in used:
            host += 1
        used.add(host)
        out[name] = host
    return out


def _reaches(graph: dict[str, list[str]], start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(graph.get(node, ()))
    return False


def compose_model(platform: Platform, checkout_prefix: str = "..") -> tuple[dict, list[str]]:
    """(compose document, header lines)."""
    workloads = [c for c in platform.components if c.is_workload and c.status == "active"]
    by_name = {c.name: c for c in platform.components}
    needed_backing = sorted({d.name for c in workloads for d in c.dependencies
                             if d.name in by_name and by_name[d.name].kind == "backing"})
    stand_ins = {n: s for n in needed_backing if (s := stand_in(by_name[n])) is not None}
    missing = [n for n in needed_backing if n not in stand_ins]
    long_running = [c for c in workloads if c.kind not in JOB_KINDS]

    order = [(n, s.port) for n, s in sorted(stand_ins.items())]
    order += [(c.name, c.port) for c in sorted(long_running, key=lambda c: (c.public_subdomain is None, c.name))
              if c.port is not None]
    host_ports = _allocate_ports(order)

    health = {n: True for n in stand_ins}
    health.update({c.name: _healthcheck(c) is not None for c in long_running})
    graph: dict[str, list[str]] = {}
    dropped: list[str] = []
    builders: dict[str, Component] = {}
    for c in sorted((c for c in workloads if c.is_buildable and c.image_repository),
                    key=lambda c: (c.kind in JOB_KINDS, c.name)):
        builders.setdefault(c.image_repository, c)

    services: dict[str, dict] = {}
    volumes: dict[str, dict] = {}
    for n, s in sorted(stand_ins.items()):
        svc: dict = {"image": s.image}
        if s.command:
            svc["command"] = s.command
        if s.environment:
            svc["environment"] = dict(s.environment)
        svc["ports"] = [f"127.0.0.1:${{{env_var_name(n)}_PORT:-{host_ports[n]}}}:{s.port}"]
        if s.data_path:
            svc["volumes"] = [f"{n}-data:{s.data_path}"]
            volumes[f"{n}-data"] = {}
        svc["healthcheck"] = {"test": s.healthcheck, "interval": "10s", "timeout": "5s", "retries": 10,
                              "start_period": "20s"}
        svc["restart"] = "unless-stopped"
        services[n] = svc

    for c in sorted(workloads, key=lambda c: (c.kind in JOB_KINDS, c.name)):
        svc = {}
        owner = builders.get(c.image_repository or "")
        image = f"{c.image_repository}:local" if c.image_repository else None
        if c.is_buildable and owner is c:
            context, dockerfile = build_context(c, checkout_prefix)
            svc["build"] = {"context": context, "dockerfile": dockerfile, "args": {"GIT_SHA": "${GIT_SHA:-local}"}}
            if image:
                svc["image"] = image
        elif image and owner is not None:
            svc["image"] = image
            svc["pull_policy"] = "never"  # built locally by the service that owns the image
        elif c.is_buildable:
            context, dockerfile = build_context(c, checkout_prefix)
            svc["build"] = {"context": context, "dockerfile": dockerfile, "args": {"GIT_SHA": "${GIT_SHA:-local}"}}
        elif image:
            svc["image"] = image
        else:
            continue
        if c.kind in JOB_KINDS:
            svc["profiles"] = ["jobs"]
        try:
            svc["command"] = [escape(a) for a in exec_form(c)]
        except InputError:
            pass
        svc["env_file"] = [{"path": f".env.{c.name}", "required": False}]
        plain = {e.name: escape(e.value) for e in c.plain_env if e.value is not None}
        if plain:
            svc["environment"] = plain
        if c.port is not None and c.name in host_ports:
            svc["ports"] = [f"127.0.0.1:${{{env_var_name(c.name)}_PORT:-{host_ports[c.name]}}}:{c.port}"]
        deps: dict[str, dict] = {}
        for d in sorted(c.dependencies, key=lambda d: d.name):
            if d.name not in services and d.name not in {w.name for w in long_running}:
                continue
            if _reaches(graph, d.name, c.name):
                dropped.append(f"{c.name} -> {d.name}")
                continue
            graph.setdefault(c.name, []).append(d.name)
            cond = "service_healthy" if health.get(d.name) else "service_started"
            deps[d.name] = {"condition": cond} | ({"required": False} if d.optional else {})
        if deps:
            svc["depends_on"] = deps
        check = _healthcheck(c)
        if check:
            svc["healthcheck"] = check
        svc["user"] = f"{RUN_AS}:{RUN_AS}"
        svc["read_only"] = True
        tmpfs = ["/tmp"]
        vols = []
        for v in c.volumes:
            if v.kind == "persistentVolumeClaim":
                vols.append(f"{c.name}-{v.name}:{v.mount_path}")
                volumes[f"{c.name}-{v.name}"] = {}
            else:
                tmpfs.append(v.mount_path)
        svc["tmpfs"] = tmpfs
        if vols:
            svc["volumes"] = vols
        svc["cap_drop"] = ["ALL"]
        svc["security_opt"] = ["no-new-privileges:true"]
        svc["restart"] = "no" if c.kind in JOB_KINDS else "unless-stopped"
        services[c.name] = svc

    doc: dict = {"services": services}
    if volumes:
        doc["volumes"] = dict(sorted(volumes.items()))

    header = [
        "Local development stack, generated by `gitops compose` from inventory/ (gitops/generated/compose.py).",
        "Do not edit: change the inventory and run `make synth` (CI fails when this file is stale).",
        "",
        "  docker compose -f docker-compose.dev.yml up --build        # services + backing stand-ins",
        "  docker compose -f docker-compose.dev.yml --profile jobs run --rm <job>",
        "",
        "Build contexts: application repositories checked out next to this one (../<repository>/<path>).",
        "Secrets and per-developer values: .env.<component> next to this file (git-ignored, optional).",
        "Host ports (override with <NAME>_PORT in .env):",
    ]
    for name, port in sorted(host_ports.items(), key=lambda kv: kv[1]):
        header.append(f"  {port:>5}  {name}")
    if stand_ins:
        header.append("Local stand-ins for managed backing services (use these URLs in .env.<component>):")
        for n, s in sorted(stand_ins.items()):
            header.append(f"  {n}: {s.image} at {s.url}" + (f"; {s.note}" if s.note else ""))
    if missing:
        header.append("No local stand-in (point the variables at a shared instance in .env.<component>): "
                      + ", ".join(f"{n} ({by_name[n].engine or by_name[n].kind})" for n in missing))
    if dropped:
        header.append("depends_on left out to break dependency cycles: " + ", ".join(dropped))
    return doc, header


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # libyaml emitter (the pinned wheels have it)
    """Short lists of scalars (commands, healthcheck tests, ports) in flow style: one line each."""


def _represent_list(dumper: yaml.SafeDumper, data: list):
    flow = all(isinstance(x, str) for x in data) and sum(len(x) + 2 for x in data) <= 140
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _represent_list)


def render_text(platform: Platform, checkout_prefix: str = "..") -> str:
    doc, header = compose_model(platform, checkout_prefix)
    body = yaml.dump(doc, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=4096, allow_unicode=True)
    return "".join(f"# {line}".rstrip() + "\n" for line in header) + "\n" + body


def render_compose(platform: Platform) -> bytes:
    """GLOBAL_FILES renderer: docker-compose.dev.yml at the repository root."""
    return render_text(platform, "..").encode()


def checkout_prefix_for(root: Path, output: Path) -> str:
    """Path from the output file's folder to the folder holding the application checkouts (root/..)."""
    return Path(os.path.relpath(root.resolve().parent, output.resolve().parent)).as_posix()
