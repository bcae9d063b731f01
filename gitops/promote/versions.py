"""`gitops status` (which version runs where) and `gitops bump` (what the image build job calls)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..errors import InputError, Problem
from ..inputs.load import ENVIRONMENTS_DIR, load_platform
from .body import short_digest
from .envfile import EnvFile, check_value, plain_values
from .holds import read_hold


def _same(a: dict | None, b: dict | None) -> bool:
    """Same version: same tag, and same digest when both environments pin one."""
    if a is None or b is None:
        return True
    if a["tag"] != b["tag"]:
        return False
    return not (a["digest"] and b["digest"] and a["digest"] != b["digest"])


def status(root: Path | str) -> dict:
    root = Path(root)
    platform = load_platform(root)
    envs = [e.name for e in platform.environments]
    rows = version_rows(platform)
    holds = {}
    for env in envs:
        hold = read_hold(root, env)
        if hold:
            holds[env] = {"reason": hold.reason, "heldBy": hold.held_by, "since": hold.since}
    return {"environments": envs, "promotes_from": {e.name: e.promotes_from for e in platform.environments},
            "components": rows, "holds": holds}


def version_rows(platform) -> list[dict]:
    """One row per workload: its image per environment, whether versions differ, and where a promotion is pending."""
    rows = []
    for component in platform.components:
        if not component.is_workload:
            continue
        versions: dict[str, dict | None] = {}
        for env in platform.environments:
            s = env.settings(component.name)
            if s is None or not s.enabled or s.image is None:
                versions[env.name] = None
            else:
                versions[env.name] = {"tag": s.image.tag, "digest": s.image.digest}
        behind = []
        for env in platform.environments:
            prev = env.promotes_from
            if prev and versions.get(env.name) and versions.get(prev) and not _same(versions[env.name], versions[prev]):
                behind.append(env.name)
        present = [v for v in versions.values() if v]
        differs = any(not _same(present[0], v) for v in present[1:]) if present else False
        rows.append({"component": component.name, "versions": versions, "differs": differs,
                     "differs_from_predecessor": behind})
    return rows


def status_text(data: dict) -> str:
    envs = data["environments"]

    def cell(row, env):
        v = row["versions"][env]
        if v is None:
            return "-"
        text = v["tag"] + (f"@{short_digest(v['digest'])}" if v["digest"] else "")
        return text + (" *" if env in row["differs_from_predecessor"] else "")

    header = ["component"] + [f"{e}{' (held)' if e in data['holds'] else ''}" for e in envs] + ["differs"]
    table = [header] + [[r["component"]] + [cell(r, e) for e in envs] + ["yes" if r["differs"] else ""]
                        for r in data["components"]]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    chain = " -> ".join(e for e in envs)
    lines.append("")
    lines.append(f"promotion order: {chain}; * = differs from the environment it promotes from (a promotion is pending)")
    for env, hold in data["holds"].items():
        lines.append(f"hold: {env} held by {hold['heldBy'] or '?'} since {hold['since'] or '?'}: {hold['reason']}")
    return "\n".join(lines) + "\n"


def bump(root: Path | str, env: str, service: str, tag: str, digest: str | None = None,
         progress: Callable[[str], None] | None = None) -> dict:
    """Set one component's image in one environment (minimal diff) and re-render that environment.

    The jobs that must run the same image (``Platform.image_group``: migrations that run before the
    component) get it too, where the environment declares them; ``moved_with`` names them.
    Bad tag/digest, unknown environment or component -> InputError, nothing written.
    If the edited platform does not load or render, the environment file is restored.
    """
    root = Path(root)
    check_value("image.tag", tag, "--tag")
    if digest is not None:
        check_value("image.digest", digest, "--digest")
    platform = load_platform(root)
    names = [e.name for e in platform.environments]
    if env not in names:
        raise InputError(Problem("(command line)", "--env", f"expected one of {', '.join(names)}, found unknown environment {env!r}"))
    rel = f"{ENVIRONMENTS_DIR}/{env}.yaml"
    path = root / rel
    env_file = EnvFile.read(path, rel)
    if not env_file.has_component(service):
        raise InputError(Problem(rel, f"components/{service}", f"{service} is not declared in {env}; add it to the environment first"))
    if service not in {c.name for c in platform.components}:
        raise InputError(Problem("(command line)", "--service", f"expected an inventory component, found unknown {service!r}"))

    def with_image(name: str) -> tuple[dict, dict]:
        old = env_file.values(name)
        new = {k: v for k, v in old.items() if not k.startswith("image.")}
        new["image.tag"] = tag
        if digest:
            new["image.digest"] = digest
        return old, new

    group = [service, *(name for name in platform.image_group(service) if name != service and env_file.has_component(name))]
    updates = {name: with_image(name) for name in group}
    changed = [name for name, (before, after) in updates.items() if plain_values(after) != plain_values(before)]
    old, new = updates[service]
    moved_with = [name for name in changed if name != service]
    if not changed:
        return {"changed": False, "env": env, "service": service, "old": plain_values(old), "new": plain_values(new),
                "moved_with": []}
    original = path.read_bytes()
    for name in changed:
        env_file.set_values(name, updates[name][1])
    path.write_text(env_file.text, encoding="utf-8")
    try:
        load_platform(root)
        from ..pipeline.synth import synth
        synth(root, [env], progress=progress)
    except BaseException:
        path.write_bytes(original)
        raise
    return {"changed": True, "env": env, "service": service, "old": plain_values(old), "new": plain_values(new),
            "moved_with": moved_with}
