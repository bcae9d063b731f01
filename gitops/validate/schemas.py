"""Schemas: built-in kinds against kubernetes-validate's strict OpenAPI schemas, custom resources
against their CRD schema (the repository's own, gitops/schemas/crds/, then any extra
``--schema-location``); deprecated and removed APIs.

One validator per (schema source, apiVersion, kind), built once per process and reused:
a compiled predicate (compiler.py) answers "valid?" and the real ``jsonschema``
Draft 2020-12 validator, with the ``_definitions.json`` of the Kubernetes version in a
``referencing`` registry, reports every error of an invalid document.

Schema locations follow kubeconform's ``-schema-location``:
- a folder in the CRDs-catalog layout: ``<folder>/<group>/<kind>_<version>.json``;
- a template with ``{{.Group}}``, ``{{.ResourceKind}}``, ``{{.ResourceAPIVersion}}``,
  ``{{.KindSuffix}}``, ``{{.StrictSuffix}}``, ``{{.NormalizedKubernetesVersion}}``: a local
  path or an http(s) URL; downloaded schemas are cached in ``<root>/.cache/schemas/``;
- ``default``: accepted for kubeconform compatibility (built-in kinds always come from
  kubernetes-validate).
CRD schemas are made strict the way the API server's strict field validation behaves: an
object schema that lists ``properties`` rejects unknown fields unless it says
``x-kubernetes-preserve-unknown-fields`` (or sets ``additionalProperties`` itself), and
``metadata`` is checked against the Kubernetes ObjectMeta schema.
"""
from __future__ import annotations

import hashlib
import os
import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import kubernetes_validate
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from ..errors import InputError, Problem
from ..inputs.schema_errors import describe, most_specific
from .compiler import Check, Compiler, Unsupported

K8S_SCHEMAS = Path(kubernetes_validate.__file__).resolve().parent / "kubernetes-json-schema"
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
DEFAULT_TEMPLATE = "{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json"
_TEMPLATE_VAR = re.compile(r"\{\{\s*\.(\w+)\s*\}\}")
TEMPLATE_VARS = ("Group", "ResourceKind", "ResourceAPIVersion", "KindSuffix", "StrictSuffix",
                 "NormalizedKubernetesVersion")

# APIs removed before the oldest version kubernetes-validate ships (and the notable later ones),
# from the Kubernetes deprecated API migration guide: (apiVersion, kind) -> (removed in, use instead).
REMOVED_APIS: dict[tuple[str, str], tuple[str, str]] = {
    **{("extensions/v1beta1", k): ("1.16", "apps/v1") for k in ("Deployment", "DaemonSet", "ReplicaSet")},
    **{("apps/v1beta1", k): ("1.16", "apps/v1") for k in ("Deployment", "StatefulSet", "ReplicaSet")},
    **{("apps/v1beta2", k): ("1.16", "apps/v1") for k in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")},
    ("extensions/v1beta1", "NetworkPolicy"): ("1.16", "networking.k8s.io/v1"),
    ("extensions/v1beta1", "PodSecurityPolicy"): ("1.16", "Pod Security admission"),
    ("extensions/v1beta1", "Ingress"): ("1.22", "networking.k8s.io/v1"),
    ("networking.k8s.io/v1beta1", "Ingress"): ("1.22", "networking.k8s.io/v1"),
    ("networking.k8s.io/v1beta1", "IngressClass"): ("1.22", "networking.k8s.io/v1"),
    **{("rbac.authorization.k8s.io/v1beta1", k): ("1.22", "rbac.authorization.k8s.io/v1")
       for k in ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")},
    ("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition"): ("1.22", "apiextensions.k8s.io/v1"),
    ("apiregistration.k8s.io/v1beta1", "APIService"): ("1.22", "apiregistration.k8s.io/v1"),
    **{("admissionregistration.k8s.io/v1beta1", k): ("1.22", "admissionregistration.k8s.io/v1")
       for k in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")},
    ("scheduling.k8s.io/v1beta1", "PriorityClass"): ("1.22", "scheduling.k8s.io/v1"),
    ("coordination.k8s.io/v1beta1", "Lease"): ("1.22", "coordination.k8s.io/v1"),
    ("certificates.k8s.io/v1beta1", "CertificateSigningRequest"): ("1.22", "certificates.k8s.io/v1"),
    **{("storage.k8s.io/v1beta1", k): ("1.22", "storage.k8s.io/v1")
       for k in ("CSIDriver", "CSINode", "StorageClass", "VolumeAttachment")},
    ("batch/v1beta1", "CronJob"): ("1.25", "batch/v1"),
    ("discovery.k8s.io/v1beta1", "EndpointSlice"): ("1.25", "discovery.k8s.io/v1"),
    ("events.k8s.io/v1beta1", "Event"): ("1.25", "events.k8s.io/v1"),
    ("autoscaling/v2beta1", "HorizontalPodAutoscaler"): ("1.25", "autoscaling/v2"),
    ("policy/v1beta1", "PodDisruptionBudget"): ("1.25", "policy/v1"),
    ("policy/v1beta1", "PodSecurityPolicy"): ("1.25", "Pod Security admission"),
    ("node.k8s.io/v1beta1", "RuntimeClass"): ("1.25", "node.k8s.io/v1"),
    ("autoscaling/v2beta2", "HorizontalPodAutoscaler"): ("1.26", "autoscaling/v2"),
    **{("flowcontrol.apiserver.k8s.io/v1beta1", k): ("1.26", "flowcontrol.apiserver.k8s.io/v1")
       for k in ("FlowSchema", "PriorityLevelConfiguration")},
    ("storage.k8s.io/v1beta1", "CSIStorageCapacity"): ("1.27", "storage.k8s.io/v1"),
    **{("flowcontrol.apiserver.k8s.io/v1beta2", k): ("1.29", "flowcontrol.apiserver.k8s.io/v1")
       for k in ("FlowSchema", "PriorityLevelConfiguration")},
    **{("flowcontrol.apiserver.k8s.io/v1beta3", k): ("1.32", "flowcontrol.apiserver.k8s.io/v1")
       for k in ("FlowSchema", "PriorityLevelConfiguration")},
}
# Still served, but deprecated: (apiVersion, kind) -> (deprecated in, use instead).
DEPRECATED_APIS: dict[tuple[str, str], tuple[str, str]] = {
    ("v1", "ComponentStatus"): ("1.19", "the /livez and /readyz endpoints"),
    ("v1", "Endpoints"): ("1.33", "discovery.k8s.io/v1 EndpointSlice"),
    **{("flowcontrol.apiserver.k8s.io/v1beta3", k): ("1.29", "flowcontrol.apiserver.k8s.io/v1")
       for k in ("FlowSchema", "PriorityLevelConfiguration")},
}


def _vkey(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


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
    return tuple(sorted(out, key=_vkey))


@lru_cache(maxsize=None)
def schema_version(version: str) -> str:
    """The newest schema set not newer than ``version`` (kubernetes-validate's own rule)."""
    version = normalize_version(version)
    versions = available_versions()
    usable = [v for v in versions if _vkey(v) <= _vkey(version)]
    if not usable or _vkey(version) > _vkey(versions[-1]):
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


_INLINE_FLAGS = re.compile(r"\(\?([imsx]+)\)")


def python_pattern(pattern: str) -> str | None:
    """A CRD ``pattern`` (Go RE2 syntax) as a Python regex, or None if it cannot be expressed.

    RE2 allows a flag group mid-expression (``^(?i)(abort|warn)?$``) applying to the rest;
    Python only at the start, so it becomes a scoped group: ``^(?i:(abort|warn)?$)``.
    """
    try:
        re.compile(pattern)
        return pattern
    except re.error:
        pass
    m = _INLINE_FLAGS.search(pattern)
    if m:
        fixed = pattern[:m.start()] + f"(?{m.group(1)}:" + pattern[m.end():] + ")"
        try:
            re.compile(fixed)
            return fixed
        except re.error:
            return None
    return None


_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_VALUES = ("items", "additionalProperties", "not", "propertyNames", "contains", "if", "then", "else",
                  "additionalItems", "unevaluatedProperties", "unevaluatedItems")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")


def strict_crd_schema(schema):
    """Copy of a CRD schema where object schemas with ``properties`` reject unknown fields.

    ``pattern``s in Go syntax are translated for Python (a pattern Python cannot express is
    dropped, so neither validator crashes on it)."""
    def walk(s):
        if not isinstance(s, dict):
            return s
        out = {}
        for k, v in s.items():
            if k in _SCHEMA_MAPS and isinstance(v, dict):
                out[k] = {name: walk(sub) for name, sub in v.items()}
            elif k in _SCHEMA_VALUES:
                out[k] = walk(v)
            elif k in _SCHEMA_LISTS and isinstance(v, list):
                out[k] = [walk(x) for x in v]
            else:
                out[k] = v
        if isinstance(s.get("pattern"), str):
            fixed = python_pattern(s["pattern"])
            if fixed is None:
                del out["pattern"]
            else:
                out["pattern"] = fixed
        if ("properties" in s and "additionalProperties" not in s and "patternProperties" not in s
                and not s.get("x-kubernetes-preserve-unknown-fields")):
            out["additionalProperties"] = False
        return out

    strict = walk(schema)
    # metadata is checked separately against ObjectMeta; the CRD schema only says "object".
    if isinstance(strict, dict) and isinstance(strict.get("properties"), dict) and "metadata" in strict["properties"]:
        strict["properties"]["metadata"] = {"type": "object"}
    return strict


class Location:
    """One ``--schema-location``: where custom resource schemas are looked up, in order."""

    def __init__(self, spec: str, cache_dir: Path | None):
        self.spec = spec
        self.cache_dir = cache_dir
        self.is_default = spec == "default"
        text = spec[len("file://"):] if spec.startswith("file://") else spec
        self.is_url = text.startswith(("http://", "https://"))
        if self.is_default:
            self.template = None
        elif "{{" in text:
            for var in _TEMPLATE_VAR.findall(text):
                if var not in TEMPLATE_VARS:
                    raise InputError(Problem("--schema-location", "", f"unknown template variable {{{{.{var}}}}} in {spec!r}; "
                                             f"expected one of {', '.join(TEMPLATE_VARS)}"))
            self.template = text
        elif self.is_url:
            self.template = text.rstrip("/") + "/" + DEFAULT_TEMPLATE
        else:
            folder = Path(text)
            if not folder.is_dir():
                raise InputError(Problem("--schema-location", "", f"unreadable schema location {spec!r}: not a folder "
                                         "(expected a folder in the <group>/<kind>_<version>.json layout, or a template/URL)"))
            try:
                next(folder.iterdir(), None)
            except OSError as exc:
                raise InputError(Problem("--schema-location", "", f"unreadable schema location {spec!r}: {exc}")) from None
            self.template = str(folder) + "/" + DEFAULT_TEMPLATE
        if self.template and not self.is_url:
            # A local template must at least have an existing fixed prefix.
            prefix = Path(os.path.dirname(self.template.split("{{", 1)[0]) or ".")
            if not prefix.is_dir():
                raise InputError(Problem("--schema-location", "", f"unreadable schema location {spec!r}: {prefix} does not exist"))

    def render(self, k8s_version: str, api_version: str, kind: str) -> str:
        group, _, version = api_version.rpartition("/")
        values = {
            "Group": group, "ResourceKind": kind.lower(), "ResourceAPIVersion": version,
            "KindSuffix": "-" + (group.split(".")[0] + "-" if group else "") + version,
            "StrictSuffix": "-strict", "NormalizedKubernetesVersion": f"v{k8s_version}.0",
        }
        return _TEMPLATE_VAR.sub(lambda m: values[m.group(1)], self.template or "")

    def fetch(self, k8s_version: str, api_version: str, kind: str) -> tuple[dict, str] | None:
        """(schema, where) or None if this location has no schema for the kind."""
        if self.is_default:
            return None
        where = self.render(k8s_version, api_version, kind)
        if self.is_url:
            text = self._download(where)
            if text is None:
                return None
        else:
            path = Path(where)
            if not path.is_file():
                return None
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise InputError(Problem(where, "", f"unreadable schema: {exc}")) from None
        try:
            return json.loads(text), where
        except ValueError as exc:
            raise InputError(Problem(where, "", f"schema is not valid JSON: {exc}")) from None

    def _download(self, url: str) -> str | None:
        cached = None
        if self.cache_dir is not None:
            cached = self.cache_dir / (hashlib.sha256(url.encode()).hexdigest() + ".json")
            if cached.is_file():
                return cached.read_text(encoding="utf-8")
        try:
            with urllib.request.urlopen(url, timeout=15) as resp:  # noqa: S310 - user-given schema location
                text = resp.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise InputError(Problem(url, "", f"unreadable schema location: HTTP {exc.code} {exc.reason}")) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise InputError(Problem(url, "", f"unreadable schema location: {reason}")) from None
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(".tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(cached)
        return text


_CRD_CACHE: dict[tuple[str, str, str, str], KindSchema | None] = {}


@dataclass
class SchemaIssue:
    rule_id: str
    path: tuple
    message: str
    fix: str


class SchemaStore:
    """Looks up and caches the validator of every (Kubernetes version, apiVersion, kind)."""

    def __init__(self, locations: list[str], cache_dir: Path | None = None, allow_missing: tuple[str, ...] = ()):
        self.locations = [Location(spec, cache_dir) for spec in locations]
        self.allow_missing = tuple(allow_missing)

    def _crd(self, version: str, api_version: str, kind: str) -> KindSchema | None:
        for loc in self.locations:
            key = (loc.spec, version, api_version, kind)
            if key not in _CRD_CACHE:
                found = loc.fetch(version, api_version, kind)
                if found is None:
                    _CRD_CACHE[key] = None
                else:
                    schema, where = found
                    ks = _build(strict_crd_schema(schema), Registry(), where)
                    ks.metadata = object_meta_schema(version)
                    _CRD_CACHE[key] = ks
            if _CRD_CACHE[key] is not None:
                return _CRD_CACHE[key]
        return None

    def _allowed_missing(self, api_version: str, kind: str) -> bool:
        group = api_version.rpartition("/")[0]
        candidates = (kind, f"{group}/{kind}", f"{api_version}/{kind}")
        from fnmatch import fnmatchcase
        return any(fnmatchcase(c, pattern) for pattern in self.allow_missing for c in candidates)

    def check(self, data: dict, k8s_version: str) -> list[SchemaIssue]:
        version = schema_version(k8s_version)
        api_version, kind = data["apiVersion"], data["kind"]
        wanted = normalize_version(k8s_version)
        removed = REMOVED_APIS.get((api_version, kind))
        if removed and _vkey(removed[0]) <= _vkey(wanted):
            return [SchemaIssue("SCH004", ("apiVersion",),
                                f"{api_version} {kind} was removed in Kubernetes {removed[0]}; the target is {wanted}",
                                f"migrate to {removed[1]}")]
        ks = k8s_kind_schema(version, api_version, kind)
        if ks is None:
            served = served_in_some_version(api_version, kind)
            if served and _vkey(served[-1]) < _vkey(version):
                return [SchemaIssue("SCH004", ("apiVersion",),
                                    f"{api_version} {kind} is not served by Kubernetes {wanted} (last served in {served[-1]})",
                                    "migrate to the API version the target Kubernetes serves (kubectl explain / the deprecation guide)")]
            ks = self._crd(version, api_version, kind)
        if ks is None:
            if self._allowed_missing(api_version, kind):
                return []
            where = ", ".join(loc.spec for loc in self.locations) or "none given"
            return [SchemaIssue("SCH002", ("kind",),
                                f"no schema for {api_version} {kind}: not a Kubernetes {wanted} kind and not found in the "
                                f"schema locations ({where})",
                                "fix the apiVersion/kind, add the CRD schema to a --schema-location, or allow it with --allow-kind")]
        issues: list[SchemaIssue] = []
        deprecated = DEPRECATED_APIS.get((api_version, kind))
        if deprecated and _vkey(deprecated[0]) <= _vkey(wanted):
            issues.append(SchemaIssue("SCH003", ("apiVersion",),
                                      f"{api_version} {kind} is deprecated since Kubernetes {deprecated[0]}",
                                      f"use {deprecated[1]}"))
        elif ks.deprecated:
            issues.append(SchemaIssue("SCH003", ("apiVersion",), f"{api_version} {kind}: {ks.deprecated}",
                                      "use the replacement API named in the deprecation notice"))
        if not ks.is_valid(data):
            issues.extend(_issues(ks, data, ()))
        if ks.metadata is not None and "metadata" in data and not ks.metadata.is_valid(data["metadata"]):
            issues.extend(_issues(ks.metadata, data["metadata"], ("metadata",)))
        return issues


def _issues(ks: KindSchema, data, prefix: tuple) -> list[SchemaIssue]:
    out = []
    for err in ks.errors(data):
        leaf = most_specific(err)
        path = prefix + tuple(leaf.absolute_path)
        out.append(SchemaIssue("SCH001", path, describe(leaf), f"make the field match the {ks.source} schema"))
    return out
