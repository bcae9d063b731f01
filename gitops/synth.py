"""`gitops synth`: load -> model -> constructs (per environment, in parallel) -> canonical files -> swap.

Guarantees:
- bad input raises InputError before anything is written;
- each environment's folders are rendered to a temporary folder and swapped in whole;
- environments whose inputs (and generator code) did not change are skipped, unless
  ``no_cache``; the cache lives in .cache/ (never committed);
- ``check`` renders everything and reports drift without writing.
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .errors import InputError
from .load import ENVIRONMENTS_DIR, INVENTORY_DIR, load_platform
from .model import Environment, Platform
from .outputs import ENV_FILES, ENV_TREES, GLOBAL_FILES, resolve_renderer
from .render import PLATFORM_DIR, render_environment
from .tree import TreeDiff, compare_tree, read_tree, stage_tree, swap_in, write_file_atomic

CACHE_DIR = ".cache/synth"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class EnvOutput:
    env: str
    trees: dict[str, dict[str, bytes]]
    files: dict[str, bytes]


@dataclass
class SynthResult:
    rendered: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    drift: dict[str, TreeDiff] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return all(d.clean for d in self.drift.values())


def _generator_fingerprint() -> str:
    """Hash of the generator's own code and pinned toolchain: code changes invalidate the cache."""
    h = hashlib.sha256()
    for folder in ("gitops", "charts"):
        for path in sorted((PROJECT_ROOT / folder).rglob("*")):
            if path.suffix in (".py", ".json") and path.is_file():
                h.update(path.relative_to(PROJECT_ROOT).as_posix().encode())
                h.update(path.read_bytes())
    try:
        from importlib.metadata import version
        h.update(f"cdk8s={version('cdk8s')};pyyaml={version('PyYAML')}".encode())
    except Exception:  # pragma: no cover - metadata missing in odd installs
        pass
    return h.hexdigest()


def inputs_hash(root: Path, env: Environment, fingerprint: str) -> str:
    h = hashlib.sha256(fingerprint.encode())
    for rel in sorted(p.relative_to(root).as_posix() for p in (root / INVENTORY_DIR).glob("*.y*ml")):
        h.update(rel.encode())
        h.update((root / rel).read_bytes())
    env_file = root / ENVIRONMENTS_DIR / f"{env.name}.yaml"
    h.update(env_file.read_bytes() if env_file.exists() else env.name.encode())
    return h.hexdigest()


def _tree_hash(files: dict[str, bytes]) -> str:
    h = hashlib.sha256()
    for rel in sorted(files):
        h.update(rel.encode() + b"\0" + hashlib.sha256(files[rel]).digest())
    return h.hexdigest()


DIST_TREE = "dist/{env}"


def _plan(platform: Platform, env_names: list[str], workers: int) -> list[list[tuple[str, str | None]]]:
    """Split the work into ``workers`` balanced buckets of units.

    A unit is (env, component) for one component's folder, or (env, None) for everything
    else the environment owns (platform layer, other trees, files). Balancing by units
    rather than by environment keeps both cores busy with 3 environments on 2 cores.
    Output bytes do not depend on the split: every unit renders in its own chart.
    """
    units: list[tuple[float, str, str | None]] = []
    for name in env_names:
        env = platform.environment(name)
        enabled = platform.enabled_components(env)
        units.append((2.0 + 0.3 * len(enabled), name, None))
        units.extend((1.0, name, c.name) for c in enabled)
    buckets: list[list[tuple[str, str | None]]] = [[] for _ in range(workers)]
    loads = [0.0] * workers
    for weight, env, comp in sorted(units, key=lambda u: (-u[0], u[1], u[2] or "")):
        i = loads.index(min(loads))
        buckets[i].append((env, comp))
        loads[i] += weight
    return [b for b in buckets if b]


def render_bucket(platform: Platform, bucket: list[tuple[str, str | None]]) -> list[EnvOutput]:
    """Render a bucket of units in this (worker) process: one Node process serves them all."""
    by_env: dict[str, list[str | None]] = {}
    for env, comp in bucket:
        by_env.setdefault(env, []).append(comp)
    outputs = []
    for env_name, units in by_env.items():
        env = platform.environment(env_name)
        components = {c for c in units if c is not None}
        whole = None in units
        only = components | ({PLATFORM_DIR} if whole else set())
        trees = {DIST_TREE.format(env=env.name): render_environment(platform, env, only)}
        files = {}
        if whole:
            for template, spec in ENV_TREES:
                if template != DIST_TREE:
                    trees[template.format(env=env.name)] = resolve_renderer(spec)(platform, env)
            files = {t.format(env=env.name): resolve_renderer(spec)(platform, env) for t, spec in ENV_FILES}
        outputs.append(EnvOutput(env.name, trees, files))
    return outputs


def _executor_context():
    # A forked child must never inherit a live jsii kernel (its pipes belong to the parent).
    if "jsii" in sys.modules or "cdk8s" in sys.modules:
        return multiprocessing.get_context("spawn")
    return multiprocessing.get_context("fork")


def render_all(platform: Platform, env_names: list[str], jobs: int | None = None,
               progress: Callable[[str], None] | None = None) -> list[EnvOutput]:
    if not env_names:
        return []
    workers = max(1, jobs or os.cpu_count() or 1)
    buckets = _plan(platform, env_names, workers)
    merged = {name: EnvOutput(name, {}, {}) for name in env_names}
    with ProcessPoolExecutor(max_workers=len(buckets), mp_context=_executor_context()) as pool:
        for parts in pool.map(render_bucket, [platform] * len(buckets), buckets):
            for part in parts:
                target = merged[part.env]
                for tree, files in part.trees.items():
                    target.trees.setdefault(tree, {}).update(files)
                target.files.update(part.files)
    if progress:
        for name in env_names:
            progress(f"rendered {name}")
    # Deterministic order regardless of which worker produced what.
    for out in merged.values():
        out.trees = {t: dict(sorted(f.items())) for t, f in sorted(out.trees.items())}
    return [merged[name] for name in env_names]


def render_global(platform: Platform) -> dict[str, bytes]:
    return {path: resolve_renderer(spec)(platform) for path, spec in GLOBAL_FILES}


def _cache_file(root: Path, env: str) -> Path:
    return root / CACHE_DIR / f"{env}.json"


def _owned_trees(root: Path, env: str) -> dict[str, dict[str, bytes]]:
    return {t.format(env=env): read_tree(root / t.format(env=env)) for t, _ in ENV_TREES}


def synth(root: Path | str = ".", envs: list[str] | None = None, *, check: bool = False, no_cache: bool = False,
          jobs: int | None = None, progress: Callable[[str], None] | None = None,
          services: list[str] | None = None) -> SynthResult:
    root = Path(root).resolve()
    platform = load_platform(root)  # raises InputError before anything is written
    known = [e.name for e in platform.environments]
    if envs:
        unknown = [e for e in envs if e not in known]
        if unknown:
            raise InputError(f"unknown environment(s) {', '.join(unknown)}; expected one of {', '.join(known)}")
    selected = envs or known
    result = SynthResult()

    if services:
        return _synth_services(root, platform, selected, services, result, progress)

    fingerprint = _generator_fingerprint()
    hashes = {name: inputs_hash(root, platform.environment(name), fingerprint) for name in selected}
    to_render = []
    for name in selected:
        if check or no_cache or not _cache_hit(root, name, hashes[name]):
            to_render.append(name)
        else:
            result.skipped.append(name)
            if progress:
                progress(f"unchanged {name} (inputs hash {hashes[name][:12]})")
    outputs = render_all(platform, to_render, jobs, progress)
    global_files = render_global(platform) if (envs is None) else {}
    result.rendered = [o.env for o in outputs]

    if check:
        for out in outputs:
            for tree, files in out.trees.items():
                result.drift[tree] = compare_tree(files, root / tree)
            for path, data in out.files.items():
                result.drift[path] = _file_drift(root, path, data)
        for path, data in global_files.items():
            result.drift[path] = _file_drift(root, path, data)
        return result

    # Stage everything first; swap only once every environment rendered successfully.
    staged = []
    try:
        for out in outputs:
            for tree, files in out.trees.items():
                staged.append((stage_tree(files, root / tree), root / tree))
    except BaseException:
        for staging, _ in staged:
            shutil.rmtree(staging, ignore_errors=True)
        raise
    for staging, target in staged:
        swap_in(staging, target)
        result.written.append(str(target.relative_to(root)))
    for out in outputs:
        for path, data in out.files.items():
            if write_file_atomic(root / path, data):
                result.written.append(path)
        _store_cache(root, out.env, hashes[out.env])
    for path, data in global_files.items():
        if write_file_atomic(root / path, data):
            result.written.append(path)
    return result


def _file_drift(root: Path, path: str, data: bytes) -> TreeDiff:
    diff = TreeDiff()
    target = root / path
    if not target.is_file():
        diff.missing.append("")
    elif target.read_bytes() != data:
        diff.changed.append("")
    return diff


def _cache_hit(root: Path, env: str, inputs: str) -> bool:
    cache = _cache_file(root, env)
    if not cache.is_file():
        return False
    try:
        recorded = json.loads(cache.read_text())
    except ValueError:
        return False
    if recorded.get("inputs") != inputs:
        return False
    # Hand edits or a git checkout of dist/ also invalidate the cache.
    return recorded.get("outputs") == _tree_hash_all(root, env)


def _tree_hash_all(root: Path, env: str) -> str:
    combined = {}
    for tree, files in _owned_trees(root, env).items():
        combined.update({f"{tree}/{k}": v for k, v in files.items()})
    for template, _ in ENV_FILES:
        path = root / template.format(env=env)
        if path.is_file():
            combined[template.format(env=env)] = path.read_bytes()
    return _tree_hash(combined)


def _store_cache(root: Path, env: str, inputs: str) -> None:
    cache = _cache_file(root, env)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"inputs": inputs, "outputs": _tree_hash_all(root, env)}))


def _synth_services(root: Path, platform: Platform, selected: list[str], services: list[str],
                    result: SynthResult, progress) -> SynthResult:
    """Re-render only some components' folders in dist/<env> (the one-changed-service fast path)."""
    names = {c.name for c in platform.components}
    unknown = [s for s in services if s not in names]
    if unknown:
        raise InputError(f"unknown component(s) {', '.join(unknown)}")
    units = [(env, service) for env in selected for service in services
             if service in {c.name for c in platform.enabled_components(platform.environment(env))}]
    rendered: dict[str, dict[str, bytes]] = {env: {} for env in selected}
    if units:
        workers = max(1, min(len(units), os.cpu_count() or 1))
        buckets = [units[i::workers] for i in range(workers)]
        with ProcessPoolExecutor(max_workers=len(buckets), mp_context=_executor_context()) as pool:
            for parts in pool.map(render_bucket, [platform] * len(buckets), buckets):
                for part in parts:
                    rendered[part.env].update(part.trees[DIST_TREE.format(env=part.env)])
    for env_name, files in rendered.items():
        dist = root / "dist" / env_name
        enabled = {c.name for c in platform.enabled_components(platform.environment(env_name))}
        for service in services:
            sub = {k.split("/", 1)[1]: v for k, v in files.items() if k.split("/", 1)[0] == service}
            target = dist / service
            if service in enabled:
                swap_in(stage_tree(sub, target), target)
                result.written.append(str(target.relative_to(root)))
            elif target.exists():
                shutil.rmtree(target)
                result.written.append(str(target.relative_to(root)))
        _cache_file(root, env_name).unlink(missing_ok=True)
        result.rendered.append(env_name)
        if progress:
            progress(f"rendered {', '.join(services)} in {env_name}")
    return result
