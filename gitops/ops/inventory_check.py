"""Gaps in the inventory, as findings with stable IDs (``gitops inventory check``).

| id | gap |
|---|---|
| INV001 | a workload has no image repository or no build command |
| INV002 | an active workload's image is built by nobody: no component with that image has a Dockerfile |
| INV003 | a serving component (api, frontend) declares no health endpoint |

INV001 and INV003 are warnings for planned components (they are not built yet) and errors for
active ones. The command exits 1 when any error-level finding remains; warnings (and hadolint's
warning/info levels) are reported without failing.
| INV004 | a secret's store key (after the environment's override) is not under a known prefix: ``shared/<name>`` or ``services/<inventory component>`` |
| INV005 | a secret's store key is malformed in an environment: empty or ``.``/``..`` segment, trailing slash, or it repeats the store prefix (an environment key prefix or the KV mount) |
| INV006 | a required plain variable has no inventory value and no override in an environment that enables the component |
| INV007 | a dependency has no port to reach: the target listens on no port, the environment's endpoint for a backing dependency listens on another port, or an optional backing dependency has no endpoint there |
| INV008 | a required dependency is not enabled in an environment that enables the component |
| INV009 | retired: a component enabled in an environment but not in the one it is promoted from is an input error of the loader (``gitops.inputs.load``), so synth and validate refuse it too |
| INV010 | components sharing an image build it from different sources (context or Dockerfile) |
| DF0xx, DLxxxx, SCxxxx | Dockerfile findings (``gitops dockerfile lint``) for each Dockerfile found in a local checkout |

Secret keys are checkable because every secret resolves to a store key by convention: ``secret: true``
means ``services/<component>`` with the variable name as property, and an environment can only
re-map it under ``components.<name>.secrets``. The store adds the environment's key prefix itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..dockerfile.lint import image_owner_rank, lint
from ..findings import Finding, report_document
from ..inputs.model import Component, Environment, Platform
from ..inputs.resolve import resolve

CHECKS = {
    "INV001": "image repository and build command",
    "INV002": "image built by some component",
    "INV003": "health endpoint",
    "INV004": "secret key under a known prefix",
    "INV005": "secret key well formed",
    "INV006": "required variable set",
    "INV007": "dependency port",
    "INV008": "required dependency enabled",
    "INV010": "one build per image",
}
SECRET_PREFIXES = ("shared/", "services/")
KV_MOUNTS = ("kv/", "data/", "secret/", "kv/data/")


@dataclass
class CheckResult:
    findings: list[Finding]
    dockerfiles: list[str]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def ok(self) -> bool:
        """No error-level finding (warnings and hadolint info/warnings are reported, not failing)."""
        return not self.errors

    def as_dict(self) -> dict:
        return report_document(self.findings, dockerfiles=self.dockerfiles)


def _f(id_: str, c: Component, message: str, env: Environment | None = None, severity: str = "error") -> Finding:
    return Finding(id_, severity, message, file=c.source_file or f"inventory/{c.name}.yaml", component=c.name,
                   env=env.name if env else None, rule=CHECKS.get(id_, ""))


def _active(c: Component) -> bool:
    return c.is_workload and c.status == "active"


def _images(platform: Platform) -> list[Finding]:
    out = []
    built: dict[str, list[Component]] = {}
    for c in platform.components:
        if c.is_buildable and c.image_repository:
            built.setdefault(c.image_repository, []).append(c)
    for c in platform.components:
        if not c.is_workload:
            continue
        # A planned component may still lack these; they are reported as warnings until it is activated.
        severity = "error" if c.status == "active" else "warning"
        later = "" if c.status == "active" else " (planned: needed before it is enabled anywhere)"
        missing = [what for what, value in (("image repository", c.image_repository),
                                            ("build command", c.build_command)) if not value]
        if missing:
            out.append(_f("INV001", c, f"no {' and no '.join(missing)}: CI cannot build it and the manifests "
                                       f"cannot pull it{later}", severity=severity))
        if c.is_serving and c.health is None:
            out.append(_f("INV003", c, f"{c.kind} without a health endpoint: probes and the load balancer cannot "
                                       f"tell whether it serves; add health.liveness/readiness{later}",
                          severity=severity))
        if _active(c) and c.image_repository and c.image_repository not in built:
            out.append(_f("INV002", c, f"image {c.image_repository} is built by no component: add source.dockerfile "
                                       "to this component (or to the service whose image it reuses)"))
    for image, comps in sorted(built.items()):
        sources = {(c.source_repository, c.source_path, c.dockerfile) for c in comps}
        if len(sources) > 1:
            owner = min(comps, key=image_owner_rank)
            others = ", ".join(f"{c.name} ({c.dockerfile})" for c in sorted(comps, key=image_owner_rank) if c is not owner)
            out.append(_f("INV010", owner, f"image {image} is built from {owner.dockerfile} here and from different "
                                           f"sources by {others}: one image, one build"))
    return out


def _secret_key_problem(key: str, platform: Platform, env: Environment) -> tuple[str, str] | None:
    prefixes = {e.secret_store.key_prefix.strip("/") for e in platform.environments}
    segments = key.split("/")
    if key.endswith("/") or any(s in ("", ".", "..") for s in segments):
        return "INV005", f"store key {key!r} has an empty, '.' or '..' segment"
    if segments[0] in prefixes or any(key.startswith(m) for m in KV_MOUNTS) or key.startswith(env.secret_store.path.strip("/") + "/"):
        return "INV005", (f"store key {key!r} repeats a store prefix; keys are relative to "
                          f"{env.secret_store.path}/{env.secret_store.key_prefix}/ (the store adds it)")
    if not key.startswith(SECRET_PREFIXES):
        return "INV004", f"store key {key!r} is under no known prefix (expected shared/<name> or services/<component>)"
    if key.startswith("services/"):
        owner = segments[1] if len(segments) > 1 else ""
        names = {c.name for c in platform.components}
        if owner not in names:
            return "INV004", f"store key {key!r} names no inventory component (services/<component>)"
    return None


def _per_environment(platform: Platform) -> list[Finding]:
    out = []
    comps = {c.name: c for c in platform.components}
    for env in platform.environments:
        enabled = {c.name for c in platform.enabled_components(env)}
        for c in platform.enabled_components(env):
            resolved = resolve(c, env)
            for var, ref in resolved.secret_refs:
                problem = _secret_key_problem(ref.key, platform, env)
                if problem:
                    out.append(_f(problem[0], c, f"{var}: {problem[1]}", env))
            values = dict(resolved.env_values)
            for var in c.plain_env:
                if var.required and not values.get(var.name):
                    out.append(_f("INV006", c, f"required variable {var.name} has no inventory value and no "
                                               f"override in environments/{env.name}.yaml", env))
            for dep in c.dependencies:
                target = comps.get(dep.name)
                if target is None:
                    continue
                if target.kind == "backing":
                    endpoint = env.backing_endpoint(dep.name)
                    if endpoint is None:
                        out.append(_f("INV007", c, f"depends on {dep.name}:{dep.port} but environments/{env.name}.yaml "
                                                   f"declares no backing endpoint for it (host and port)", env))
                    elif endpoint.port != dep.port:
                        out.append(_f("INV007", c, f"depends on {dep.name} on port {dep.port}, but its endpoint in "
                                                   f"{env.name} listens on {endpoint.port}", env))
                    continue
                if target.port is None:
                    out.append(_f("INV007", c, f"depends on {dep.name}:{dep.port}, but {dep.name} ({target.kind}) "
                                               "listens on no port", env))
                elif not dep.optional and dep.name not in enabled:
                    out.append(_f("INV008", c, f"requires {dep.name}, which is not enabled in {env.name}", env))
    return out


def local_dockerfile(component: Component, src: Path) -> Path | None:
    """Where the component's Dockerfile sits in a checkout of its repository under ``src``."""
    if not component.dockerfile:
        return None
    base = src / component.source_repository.rsplit("/", 1)[-1] if component.source_repository else src
    return base / component.dockerfile


def _dockerfiles(platform: Platform, src: Path, use_hadolint: bool) -> tuple[list[Finding], list[str]]:
    targets: dict[Path, Component] = {}
    for c in sorted((c for c in platform.components if c.is_buildable), key=image_owner_rank):
        path = local_dockerfile(c, src)
        if path is not None and path.is_file():
            targets.setdefault(path.resolve(), c)
    if not targets:
        return [], []
    labels = {p: p.as_posix() for p in targets}
    report = lint(list(targets.items()), use_hadolint=use_hadolint, labels=labels)
    return report.findings, report.files


def check(platform: Platform, src: Path | None = None, *, use_hadolint: bool = True) -> CheckResult:
    findings = _images(platform) + _per_environment(platform)
    files: list[str] = []
    if src is not None:
        df_findings, files = _dockerfiles(platform, src, use_hadolint)
        findings += df_findings
    return CheckResult(sorted(set(findings), key=Finding.sort_key), files)
