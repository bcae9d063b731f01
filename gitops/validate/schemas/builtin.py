"""Built-in kinds: kubernetes-validate's strict OpenAPI schemas of the target Kubernetes version, one
validator per (version, apiVersion, kind), built once per process: a compiled predicate (compiler.py)
answers "valid?" and the real ``jsonschema`` Draft 2020-12 validator, with the version's
``_definitions.json`` in a ``referencing`` registry, reports every error of an invalid document.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import kubernetes_validate
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from ...errors import InputError, Problem
from ..compiler import Check, Compiler, Unsupported
from .apis import version_key


K8S_SCHEMAS = Path(kubernetes_validate.__file__).resolve().parent / "kubernetes-json-schema"
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


@lru_cache(maxsize=None)
def normalize_version(version: str) -> str:
    """'1.33', 'v1.33.2' -> '1.33'; InputError for anything else."""
    v = str(version).strip().lstrip("v")
    if not re.fullmatch(r"\d+\.\d+(\.\d+)?", v):
        raise InputError(Problem("--k8s-version", "", f"expected a Kubernetes version like 1.33, found {version!r}"))
    return ".".join(v.split(".")[:2])


@lru_cache(maxsize=None)
def available_versions() -> tuple[str, ...]:
    out = []
    for d in K8S_SCHEMAS.iterdir():
        m = re.fullmatch(r"v(\d+\.\d+)\.\d+-local-strict", d.name)
        if m:
            out.append(m.group(1))
    return tuple(sorted(out, key=version_key))


@lru_cache(maxsize=None)
def schema_version(version: str) -> str:
    """The newest schema set not newer than ``version`` (kubernetes-validate's own rule)."""
    version = normalize_version(version)
    versions = available_versions()
    usable = [v for v in versions if version_key(v) <= version_key(version)]
    if not usable or version_key(version) > version_key(versions[-1]):
        raise InputError(Problem("--k8s-version", "", f"kubernetes-validate ships schemas for Kubernetes "
                                 f"{versions[0]}..{versions[-1]}, found {version}"))
    return usable[-1]


def _k8s_dir(version: str) -> Path:
    return K8S_SCHEMAS / f"v{version}.0-local-strict"


@lru_cache(maxsize=None)
def _k8s_registry(version: str) -> tuple[Registry, dict]:
    defs = json.loads((_k8s_dir(version) / "_definitions.json").read_text())
    return Registry().with_resource(defs["$id"], Resource.from_contents(defs)), defs


def _k8s_file(api_version: str, kind: str) -> str:
    # rbac.authorization.k8s.io/v1 -> rbac-v1 ; v1 -> v1 (kubernetes-validate's naming)
    api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    return f"{kind.lower()}-{api}.json"


def _describe_deprecation(schema: dict) -> str | None:
    text = schema.get("description", "")
    m = re.search(r"Deprecated[:\s][^.]*\.?|deprecated in v?\d+\.\d+\+?[^.]*\.?", text)
    return m.group(0).strip() if m else None


@dataclass
class KindSchema:
    """A compiled validator for one kind from one source, reused for every document of that kind."""

    source: str
    validator: Draft202012Validator
    fast: Check | None
    metadata: "KindSchema | None" = None   # ObjectMeta check for custom resources
    deprecated: str | None = None

    def is_valid(self, data) -> bool:
        if self.fast is not None:
            return self.fast(data)
        return self.validator.is_valid(data)

    def errors(self, data) -> list:
        return sorted(self.validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])


def _build(schema: dict, registry: Registry, source: str, compiler: Compiler | None = None) -> KindSchema:
    """``compiler``: shared by every kind of one Kubernetes version, so common definitions compile once."""
    validator = Draft202012Validator(schema, registry=registry)
    base = schema.get("$id", "") if isinstance(schema, dict) else ""
    try:
        fast = (compiler or Compiler()).compile_root(schema, registry.resolver(base_uri=base))
    except Unsupported:
        fast = None
    return KindSchema(source, validator, fast)


_K8S_COMPILERS: dict[str, Compiler] = {}


def _k8s_compiler(version: str) -> Compiler:
    return _K8S_COMPILERS.setdefault(version, Compiler())


_K8S_KINDS: dict[tuple[str, str, str], KindSchema | None] = {}
_K8S_META: dict[str, KindSchema] = {}


def k8s_kind_schema(version: str, api_version: str, kind: str) -> KindSchema | None:
    """Built-in kind schema for a schema version (see schema_version), or None if the API has no such kind."""
    key = (version, api_version, kind)
    if key not in _K8S_KINDS:
        path = _k8s_dir(version) / _k8s_file(api_version, kind)
        ks = None
        if path.is_file():
            schema = json.loads(path.read_text())
            gvk = schema.get("x-kubernetes-group-version-kind") or []
            group, _, ver = api_version.rpartition("/")
            # Only top-level kinds (not e.g. "PodSpec"), and the apiVersion's group must really match.
            if any(g.get("kind") == kind and g.get("version") == ver and g.get("group", "") == group for g in gvk):
                registry, _ = _k8s_registry(version)
                ks = _build(schema, registry, f"Kubernetes {version} (kubernetes-validate, strict)", _k8s_compiler(version))
                ks.deprecated = _describe_deprecation(schema)
        _K8S_KINDS[key] = ks
    return _K8S_KINDS[key]


def object_meta_schema(version: str) -> KindSchema:
    if version not in _K8S_META:
        registry, defs = _k8s_registry(version)
        schema = {"$ref": f"{defs['$id']}#/$defs/{OBJECT_META}"}
        _K8S_META[version] = _build(schema, registry, f"Kubernetes {version} ObjectMeta", _k8s_compiler(version))
    return _K8S_META[version]


@lru_cache(maxsize=None)
def served_in_some_version(api_version: str, kind: str) -> tuple[str, ...]:
    return tuple(v for v in available_versions() if (_k8s_dir(v) / _k8s_file(api_version, kind)).is_file()
            and k8s_kind_schema(v, api_version, kind) is not None)
