"""`gitops validate`: schemas, policies and cross-resource checks over dist/<env>/ and argocd/.

Public API::

    run_validation(root, envs=None, schema_locations=None, base_ref=None) -> ValidationReport

``ValidationReport.findings`` (not waived), ``.waived``, ``.ok`` (no error-severity finding),
``.documents``. Bad input (unparsable YAML, a document without apiVersion/kind, an unreadable
schema location, a waiver naming an unknown rule) raises ``gitops.errors.InputError``.

Rules: gitops/validate/rules.py (``gitops validate --list-rules``). Waivers: an annotation
``waiver.meetinity.io/<RULE-ID>: "<reason>"`` on an object named by the finding.
"""
from __future__ import annotations

import gc
import itertools
import os
import time
from pathlib import Path

from ..errors import InputError, Problem
from ..inputs.load import check_environment_names, load_platform
from .argocd_checks import check_argocd, check_decommissions
from .crossref import check_environment, check_hosts_unique
from .runtime_checks import check_runtime
from .documents import Doc, LineIndex, ParseCache, manifest_files, read_documents
from .envset import EnvSet
from .findings import Finding, Hit, ValidationReport, Waiver, format_path
from .object_meta import check_object_meta
from .pod_spec import check_pod_spec
from .policies import check_disruption_budgets, check_document
from .rollout_checks import check_rollouts
from .rules import RULES
from .schemas import SchemaStore, schema_version
from .sync_checks import check_sync_plans
from .security import check_security

__all__ = ["run_validation", "ValidationReport", "Finding", "Waiver", "RULES", "default_schema_locations",
           "WAIVER_PREFIX"]

WAIVER_PREFIX = "waiver.meetinity.io/"
MIN_REASON = 10
SCHEMA_CACHE = ".cache/schemas"
PARSE_CACHE = ".cache/validate/documents.marshal"


def default_schema_locations(root: Path) -> list[str]:
    """The repository's own CRD schemas (gitops/schemas/crds/, pinned by its lock.json): ``root``'s
    copy when it has one (a checkout validates against the schemas it commits, fresh imports
    included), then the copy installed with the package (package data), for any other ``root``."""
    from ..crds import PACKAGE_SCHEMAS, schema_dir
    own = schema_dir(Path(root)).resolve()
    folders = [own] if own.is_dir() else []
    if PACKAGE_SCHEMAS.is_dir() and PACKAGE_SCHEMAS not in folders:
        folders.append(PACKAGE_SCHEMAS)
    return [str(f) for f in folders]


def _collect_files(root: Path, selected: list[str], known: list[str]) -> list[tuple[Path, str | None, str]]:
    problems, files = [], []
    for env in selected:
        folder = root / "dist" / env
        if not folder.is_dir():
            problems.append(Problem(f"dist/{env}/", "", "folder not found: run `gitops synth` first"))
            continue
        files += [(p, env, "dist") for p in manifest_files(folder)]
    argocd = root / "argocd"
    prefix = len(str(argocd)) + 1
    for p in manifest_files(argocd):
        parts = str(p)[prefix:].split(os.sep)
        env = parts[0] if len(parts) > 1 and parts[0] in known else None
        if env is None or env in selected:
            files.append((p, env, "argocd"))
    if problems:
        raise InputError(problems)
    return files


def _waivers(root: Path, docs: list[Doc]) -> dict[str, dict[str, Waiver]]:
    """object ref -> rule id -> waiver; InputError for unknown rule IDs or empty reasons."""
    out: dict[str, dict[str, Waiver]] = {}
    problems = []
    index = None
    for d in docs:
        for key, reason in d.annotations.items():
            if not isinstance(key, str) or not key.startswith(WAIVER_PREFIX):
                continue
            rule_id = key[len(WAIVER_PREFIX):]
            if index is None:
                index = LineIndex(root)
            line = index.line(d.file, d.index, ("metadata", "annotations", key))
            if rule_id not in RULES:
                problems.append(Problem(d.file, f"metadata.annotations.{key}", f"waiver names unknown rule {rule_id!r}; "
                                        "expected one of the IDs listed by `gitops validate --list-rules`", line))
                continue
            if not isinstance(reason, str) or len(reason.strip()) < MIN_REASON:
                problems.append(Problem(d.file, f"metadata.annotations.{key}", f"waiver of {rule_id} needs a reason "
                                        f"(at least {MIN_REASON} characters), found {reason!r}", line))
                continue
            out.setdefault(d.ref, {})[rule_id] = Waiver(rule_id, reason.strip(), d.ref, d.file, line)
    if problems:
        raise InputError(problems)
    return out


def run_validation(root: Path, envs: list[str] | None = None, schema_locations: list[str] | None = None,
                   base_ref: str | None = None, *, k8s_version: str | None = None,
                   allow_kinds: tuple[str, ...] = (), use_cache: bool = True) -> ValidationReport:
    """Validate dist/<env>/ (every environment, or ``envs``) and argocd/ under ``root``.

    ``schema_locations``: extra CRD schema folders/URL templates, tried after the repository's own
    schemas (default_schema_locations). ``base_ref``: git ref compared for removals from prod (default HEAD when ``root``
    is in a git repository). ``k8s_version`` overrides each environment's kubernetesVersion;
    ``allow_kinds`` lists kinds (``Kind``, ``group/Kind`` or globs) allowed without a schema.
    ``use_cache``: reuse parsed documents of unchanged files from ``<root>/.cache/validate/``.
    """
    # Validation builds a large acyclic object graph (every parsed document); the cyclic garbage
    # collector would rescan it again and again for nothing. Reference counting frees everything.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _run(root, envs, schema_locations, base_ref, k8s_version, allow_kinds, use_cache)
    finally:
        if gc_was_enabled:
            gc.enable()


def _run(root, envs, schema_locations, base_ref, k8s_version, allow_kinds, use_cache) -> ValidationReport:
    started = time.perf_counter()
    root = Path(root).resolve()
    platform = load_platform(root)
    known = [e.name for e in platform.environments]
    if envs:
        check_environment_names(root, envs)
    selected = [e for e in known if not envs or e in envs]
    if k8s_version is not None:
        schema_version(k8s_version)  # InputError early for an unsupported version
    locations = default_schema_locations(root) + [loc for loc in schema_locations or () if loc]
    store = SchemaStore(locations, cache_dir=root / SCHEMA_CACHE, allow_missing=tuple(allow_kinds))

    cache = ParseCache(root / PARSE_CACHE if use_cache else None)
    docs = read_documents(root, _collect_files(root, selected, known), cache)
    waivers = _waivers(root, docs)
    hits: list[Hit] = []

    env_versions = {e.name: e.kubernetes_version for e in platform.environments}
    # Global argocd/ documents (no environment) are checked against the newest environment's version.
    default_version = max(env_versions.values(), key=lambda v: tuple(map(int, v.split(".")[:2])))
    for d in docs:
        version = k8s_version or env_versions.get(d.env or "", default_version)
        for issue in store.check(d.data, version):
            hits.append(Hit(issue.rule_id, d, issue.path, issue.message, issue.fix))
        hits.extend(check_object_meta(d))
        hits.extend(check_pod_spec(d, version))

    dist_docs = [d for d in docs if d.tree == "dist"]
    argo_docs = [d for d in docs if d.tree == "argocd"]
    global_argo = [d for d in argo_docs if d.env is None]
    hosts: dict = {}
    for name in selected:
        env = platform.environment(name)
        es = EnvSet.build(name, env, platform, [d for d in dist_docs if d.env == name],
                          [d for d in argo_docs if d.env == name] + global_argo)
        for d in es.docs:
            hits.extend(check_document(d, es))
        hits.extend(check_disruption_budgets(es))
        for hit in itertools.chain(check_environment(es, hosts), check_runtime(es), check_rollouts(es)):
            hit.env = hit.env or name
            hits.append(hit)
    hits.extend(check_hosts_unique(hosts))
    hits.extend(check_argocd(root, platform, argo_docs, dist_docs))
    hits.extend(check_sync_plans(root, platform, argo_docs, dist_docs, selected))
    hits.extend(check_security(dist_docs, argo_docs))
    hits.extend(check_decommissions(root, platform, argo_docs, base_ref, selected))

    # A document that fails its schema would be rejected by the API server anyway; cross-resource
    # findings about it are consequences (a port "8080" string never matches 8080): report the cause only.
    invalid = {h.doc.ref for h in hits if h.doc is not None and h.rule_id in ("SCH001", "SCH002", "SCH004", "SCH005", "SCH006")}
    if invalid:
        hits = [h for h in hits if h.rule_id[:3] not in ("XRF", "ARG", "ROL") or not invalid.intersection(h.objects())]

    cache.save()  # only after every input error had its chance: bad input writes nothing
    report = ValidationReport(documents=len(docs), environments=selected, schema_locations=locations)
    index = LineIndex(root)
    seen = set()
    for hit in hits:
        finding = _finding(hit, index)
        key = (finding.rule_id, finding.file, finding.line, finding.path, finding.message)
        if key in seen:
            continue
        seen.add(key)
        for ref in finding.objects:
            waiver = waivers.get(ref, {}).get(finding.rule_id)
            if waiver is not None:
                finding.waiver = waiver
                break
        (report.waived if finding.waiver else report.findings).append(finding)
    report.findings.sort(key=Finding.sort_key)
    report.waived.sort(key=Finding.sort_key)
    report.seconds = time.perf_counter() - started
    return report


def _finding(hit: Hit, index: LineIndex) -> Finding:
    rule = RULES[hit.rule_id]
    if hit.doc is not None:
        file = hit.doc.file
        line = index.line(file, hit.doc.index, hit.path) if hit.path else hit.doc.line
        env = hit.env or hit.doc.env
    else:
        file = hit.file or ""
        line = hit.line or (index.line(file, 0, ("decommissioned",)) if file else None)
        env = hit.env
    return Finding(rule.id, rule.severity, hit.message, fix=hit.fix, file=file, line=line, path=format_path(hit.path),
                   env=env, objects=tuple(hit.objects()), rule=rule.name)

