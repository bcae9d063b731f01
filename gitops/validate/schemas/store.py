"""The schema store: for each document, the built-in kind's schema or the first schema location's CRD
schema (made strict), and the SCH issues it raises.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from referencing import Registry

from ...inputs.schema_errors import describe, most_specific
from .apis import DEPRECATED_APIS, REMOVED_APIS, version_key
from .builtin import (KindSchema, _build, k8s_kind_schema, normalize_version, object_meta_schema, schema_version,
                      served_in_some_version)
from .crd_strict import strict_crd_schema
from .locations import Location


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
        if removed and version_key(removed[0]) <= version_key(wanted):
            return [SchemaIssue("SCH004", ("apiVersion",),
                                f"{api_version} {kind} was removed in Kubernetes {removed[0]}; the target is {wanted}",
                                f"migrate to {removed[1]}")]
        ks = k8s_kind_schema(version, api_version, kind)
        if ks is None:
            served = served_in_some_version(api_version, kind)
            if served and version_key(served[-1]) < version_key(version):
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
        if deprecated and version_key(deprecated[0]) <= version_key(wanted):
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
