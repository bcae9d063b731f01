"""The platform's Dockerfile rules (DF001...), each a small function over a parsed Dockerfile.

IDs are stable: never renumber, only add. ``RULES`` is the catalogue printed by
``gitops dockerfile lint --list-rules`` and documented in the README.

| id | rule |
|---|---|
| DF000 | the Dockerfile parses (BuildKit parser) |
| DF001 | multistage build: build tools and caches stay out of the runtime image |
| DF002 | the final stage sets ``USER`` to a non-root user (not root, not 0) |
| DF003 | every base image is pinned to a version (a tag with a version number) or a digest |
| DF004 | no ``latest`` tag |
| DF005 | the dependency layer is cached: ``RUN --mount=type=cache`` or manifests copied before ``COPY . .`` |
| DF006 | a ``.dockerignore`` sits next to the Dockerfile |
| DF007 | the ``.dockerignore`` excludes .git, venv, .venv and node_modules |
| DF008 | no secret-like ``ENV``/``ARG`` (``*SECRET*``, ``*PASSWORD*``, ``*TOKEN*``, ``*KEY*``) with a value |
| DF009 | ``EXPOSE`` equals the inventory port of the component |
| DF010 | a ``HEALTHCHECK`` or a probe declared in the inventory (not for jobs or port-less workers) |
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..inputs.conventions import RUN_AS
from ..findings import Finding
from ..inputs.model import Component
from .parse import Instruction, ParsedDockerfile, Stage, arg_items, env_items, substitute


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    check: Callable[["LintContext"], list[tuple[int | None, str]]]


@dataclass
class LintContext:
    parsed: ParsedDockerfile
    path: Path
    component: Component | None = None

    @property
    def final(self) -> Stage:
        return self.parsed.stages[-1]


# ---------------------------------------------------------------- helpers

def split_image(ref: str) -> tuple[str, str | None, str | None]:
    """"repo[:tag][@digest]" -> (repo, tag, digest). A ':' before the last '/' is a registry port."""
    name, _, digest = ref.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        return name[:colon], name[colon + 1:], digest or None
    return name, None, digest or None


def _external_images(ctx: LintContext) -> list[tuple[int, str]]:
    """(line, image ref) of every FROM / COPY --from that names an image rather than a stage."""
    parsed = ctx.parsed
    out = []
    for stage in parsed.stages:
        if parsed.stage_named(stage.base) is None or parsed.stage_named(stage.base).index >= stage.index:
            if stage.base.lower() != "scratch":
                out.append((stage.line, stage.base))
        for instr in stage.instructions:
            src = instr.flag("from") if instr.cmd in ("COPY", "ADD") else None
            if src and parsed.stage_named(src) is None:
                out.append((instr.line, src))
    return out


def _resolve(ref: str, ctx: LintContext) -> tuple[str, list[str]]:
    return substitute(ref, ctx.parsed.global_args)


def effective_user(ctx: LintContext) -> tuple[str | None, int | None]:
    """The USER the final stage runs as (inherited through stage parents), and its line."""
    for stage in ctx.parsed.lineage(ctx.final):
        users = stage.all("USER")
        if users:
            last = users[-1]
            return (last.value[0] if last.value else ""), last.line
    return None, None


def exposed_ports(ctx: LintContext) -> list[tuple[int, str]]:
    ports = []
    for stage in ctx.parsed.lineage(ctx.final):
        for instr in stage.all("EXPOSE"):
            for v in instr.value:
                ports.append((instr.line, v.split("/")[0]))
    return ports


def healthcheck(ctx: LintContext) -> Instruction | None:
    for stage in ctx.parsed.lineage(ctx.final):
        checks = stage.all("HEALTHCHECK")
        if checks:
            return checks[-1]
    return None


# ---------------------------------------------------------------- rules

def _multistage(ctx: LintContext):
    if len(ctx.parsed.stages) < 2:
        return [(ctx.final.line, "single-stage build: compilers, caches and build-only files ship in the runtime "
                                 "image; build in a builder stage and COPY --from it into a slim runtime stage")]
    return []


ROOT_USERS = {"root", "0"}


def _non_root(ctx: LintContext):
    user, line = effective_user(ctx)
    if user is None:
        return [(ctx.final.line, f"the final stage sets no USER, so the container runs as root; add USER {RUN_AS} "
                                 "(the uid the Kubernetes manifests run as)")]
    name = user.split(":")[0].strip()
    if name.lower() in ROOT_USERS:
        return [(line, f"the final USER is root ({user!r}); switch to a non-root user such as {RUN_AS}")]
    return []


_VERSIONED = re.compile(r"\d")


def _pinned(ctx: LintContext):
    out = []
    for line, raw in _external_images(ctx):
        ref, unresolved = _resolve(raw, ctx)
        if unresolved:
            out.append((line, f"base image {raw!r} depends on build argument(s) {', '.join(sorted(set(unresolved)))} "
                              "with no default, so the image it builds from is not pinned"))
            continue
        _, tag, digest = split_image(ref)
        if digest:
            continue
        if tag is None:
            out.append((line, f"base image {ref!r} has no tag (it means latest); pin a version, e.g. {ref}:<x.y.z>, "
                              "or a digest"))
        elif tag != "latest" and not _VERSIONED.search(tag):
            out.append((line, f"base image {ref!r} uses the floating tag {tag!r}; pin a version (or a digest)"))
    return out


def _no_latest(ctx: LintContext):
    out = []
    for line, raw in _external_images(ctx):
        ref, unresolved = _resolve(raw, ctx)
        if unresolved:
            continue
        _, tag, digest = split_image(ref)
        if tag == "latest":
            out.append((line, f"base image {ref!r} uses the 'latest' tag" + (" (the digest pins it, but the tag misleads)" if digest else "")))
    return out


INSTALL = re.compile(
    r"\b(?:pip3?|python[0-9.]*\s+-m\s+pip|uv\s+pip)\s+install\b|\b(?:npm)\s+(?:ci|install|i)\b|\byarn\s+install\b"
    r"|\bpnpm\s+(?:install|i)\b|\bpoetry\s+install\b|\bpipenv\s+(?:install|sync)\b|\buv\s+sync\b|\bbundle\s+install\b"
    r"|\bgo\s+mod\s+download\b"
)


def _copies_whole_context(instr: Instruction) -> bool:
    if instr.cmd not in ("COPY", "ADD") or instr.flag("from"):
        return False
    sources = list(instr.value[:-1])
    return any(s.rstrip("/") in (".", "", "./") or s in ("*", "./*") for s in sources)


def _dependency_cache(ctx: LintContext):
    out = []
    for stage in ctx.parsed.stages:
        whole_copy: Instruction | None = None
        for instr in stage.instructions:
            if _copies_whole_context(instr) and whole_copy is None:
                whole_copy = instr
            if instr.cmd != "RUN" or not INSTALL.search(instr.text):
                continue
            cached = any(f.startswith("--mount=") and "type=cache" in f for f in instr.flags)
            if not cached and whole_copy is not None:
                out.append((instr.line, f"dependencies are installed after `{whole_copy.original.strip()}` (line "
                                        f"{whole_copy.line}) without a cache mount: every source change re-installs "
                                        "them; COPY the manifests (requirements*.txt, package*.json) first and "
                                        "install before COPY . ., or use RUN --mount=type=cache"))
    return out


REQUIRED_IGNORES = (".git", "venv", ".venv", "node_modules")


def dockerignore_path(dockerfile: Path) -> Path | None:
    """BuildKit reads <Dockerfile>.dockerignore first, then the context's .dockerignore."""
    for candidate in (dockerfile.with_name(dockerfile.name + ".dockerignore"), dockerfile.parent / ".dockerignore"):
        if candidate.is_file():
            return candidate
    return None


def _pattern_matches(pattern: str, name: str) -> bool:
    pattern = pattern.strip()
    while pattern.startswith("./"):
        pattern = pattern[2:]
    pattern = pattern.lstrip("/")
    for suffix in ("/**", "/*", "/"):
        if pattern.endswith(suffix) and len(pattern) > len(suffix):
            pattern = pattern[: -len(suffix)]
            break
    if pattern.startswith("**/"):
        pattern = pattern[3:]
    return fnmatch.fnmatchcase(name, pattern) or pattern == "**"


def ignored(patterns: list[str], name: str) -> bool:
    """Docker's rule: patterns apply in order, the last match wins, '!' re-includes."""
    excluded = False
    for raw in patterns:
        neg = raw.startswith("!")
        if _pattern_matches(raw[1:] if neg else raw, name):
            excluded = not neg
    return excluded


def read_dockerignore(path: Path) -> list[str]:
    lines = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            lines.append(line)
    return lines


def _dockerignore_present(ctx: LintContext):
    if dockerignore_path(ctx.path) is None:
        return [(None, f"no .dockerignore next to {ctx.path.name}: .git, committed virtualenvs and node_modules "
                       "are sent to the daemon and COPY . . puts them in the image")]
    return []


def _dockerignore_content(ctx: LintContext):
    path = dockerignore_path(ctx.path)
    if path is None:
        return []
    patterns = read_dockerignore(path)
    missing = [name for name in REQUIRED_IGNORES if not ignored(patterns, name)]
    if missing:
        return [(None, f"{path.name} does not exclude {', '.join(missing)}")]
    return []


SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|(?:^|_)(?:API_?)?KEY(?:$|_|S$)|APIKEY|PRIVATE", re.I)


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(name))


def _no_secrets(ctx: LintContext):
    out = []
    blocks = [ctx.parsed.preamble] + [stage.instructions for stage in ctx.parsed.stages]
    for instructions in blocks:
        for instr in instructions:
            if instr.cmd == "ENV":
                pairs = env_items(instr)
            elif instr.cmd == "ARG":
                pairs = [(k, v) for k, v in arg_items(instr) if v is not None]
            else:
                continue
            for name, value in pairs:
                if is_secret_name(name) and value.strip():
                    out.append((instr.line, f"{instr.cmd} {name} bakes a secret-like value into the image "
                                            "(layers and `docker history` keep it); pass it at run time from the "
                                            "secret store, or use RUN --mount=type=secret at build time"))
    return out


def _expose(ctx: LintContext):
    comp = ctx.component
    if comp is None or comp.port is None:
        return []
    ports = exposed_ports(ctx)
    if not ports:
        return [(ctx.final.line, f"no EXPOSE; {comp.name} listens on {comp.port} (inventory), add EXPOSE {comp.port}")]
    values = sorted({p for _, p in ports})
    if str(comp.port) not in values:
        return [(ports[0][0], f"EXPOSE {' '.join(values)} but {comp.name} listens on {comp.port} (inventory)")]
    return []


RUN_TO_COMPLETION = ("job", "cronjob")


def _health(ctx: LintContext):
    check = healthcheck(ctx)
    if check is not None and not (check.value and check.value[0].upper() == "NONE"):
        return []
    comp = ctx.component
    # A declared probe covers it; jobs run to completion; a port-less worker has nothing to probe over HTTP.
    if comp is not None and (comp.health is not None or comp.kind in RUN_TO_COMPLETION or comp.port is None):
        return []
    what = "HEALTHCHECK NONE" if check is not None else "no HEALTHCHECK"
    if comp is None:
        return [(ctx.final.line, f"{what} and no inventory component to take a probe from (pass --component)")]
    return [(ctx.final.line, f"{what} and {comp.name} declares no health probe in the inventory")]


RULES: tuple[Rule, ...] = (
    Rule("DF001", "multistage build", _multistage),
    Rule("DF002", "final USER is non-root", _non_root),
    Rule("DF003", "base images pinned to a version or digest", _pinned),
    Rule("DF004", "no latest tag", _no_latest),
    Rule("DF005", "dependency layer cached", _dependency_cache),
    Rule("DF006", ".dockerignore present", _dockerignore_present),
    Rule("DF007", ".dockerignore excludes .git, venv, .venv, node_modules", _dockerignore_content),
    Rule("DF008", "no secrets in ENV/ARG", _no_secrets),
    Rule("DF009", "EXPOSE equals the inventory port", _expose),
    Rule("DF010", "HEALTHCHECK or a declared probe", _health),
)
PARSE_RULE = "DF000"


def run_rules(ctx: LintContext, file_label: str) -> list[Finding]:
    findings = []
    for rule in RULES:
        for line, message in rule.check(ctx):
            findings.append(Finding(rule.id, "error", message, file=file_label, line=line, rule=rule.title,
                                    component=ctx.component.name if ctx.component else None))
    return findings
