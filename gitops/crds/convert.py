"""CustomResourceDefinition -> strict JSON schemas, one per served version.

The conversion follows kubeconform's openapi2jsonschema (scripts/openapi2jsonschema.py in
https://github.com/yannh/kubeconform), which produced the public CRDs-catalog, with the API
server's own rules where that script is looser:

- an object schema that declares ``properties`` gets ``additionalProperties: false`` unless it
  sets ``additionalProperties`` itself or ``x-kubernetes-preserve-unknown-fields: true``: the API
  server prunes (and with strict field validation rejects) unknown fields the same way
  (https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#field-pruning);
  the root object is strict too, as the API server treats it;
- ``x-kubernetes-int-or-string: true`` (or ``format: int-or-string``) becomes
  ``oneOf: [{type: integer}, {type: string}]`` (the two are disjoint, so oneOf == anyOf);
- ``nullable: true`` adds ``"null"`` to ``type`` (and to ``enum``): the API server accepts null there
  (https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#defaulting-and-nullable);
- only versions with ``served: true``: a version the API server does not serve cannot be applied.

Everything else (descriptions, Go-syntax ``pattern``s, ``x-kubernetes-*`` markers) is kept as
written upstream; the validator translates RE2 patterns when it compiles a schema.
"""
from __future__ import annotations

import json

# Keys whose value is a map of name -> schema, one schema, or a list of schemas.
_SCHEMA_MAPS = ("properties", "patternProperties", "definitions", "$defs", "dependentSchemas")
_SCHEMA_VALUES = ("items", "additionalProperties", "not", "propertyNames", "contains", "additionalItems")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
INT_OR_STRING = [{"type": "integer"}, {"type": "string"}]


def _is_int_or_string(s: dict) -> bool:
    return s.get("x-kubernetes-int-or-string") is True or s.get("format") == "int-or-string"


def strict_schema(schema):
    """A converted copy of one ``openAPIV3Schema`` (the input is not changed)."""
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: strict_schema(sub) for name, sub in value.items()}
        elif key in _SCHEMA_VALUES and isinstance(value, dict):
            out[key] = strict_schema(value)
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [strict_schema(sub) for sub in value]
        else:
            out[key] = value
    if _is_int_or_string(schema):
        out.pop("type", None)
        if out.get("format") == "int-or-string":
            del out["format"]
        # The usual form lists the two types in anyOf; anything richer there is kept as written.
        if all(isinstance(x, dict) and set(x) == {"type"} for x in out.get("anyOf", [])):
            out.pop("anyOf", None)
            out["oneOf"] = [dict(x) for x in INT_OR_STRING]
    if out.pop("nullable", False) is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        elif "oneOf" in out:
            out["oneOf"] = out["oneOf"] + [{"type": "null"}]
        elif "anyOf" in out:
            out["anyOf"] = out["anyOf"] + [{"type": "null"}]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = out["enum"] + [None]
    if ("properties" in out and "additionalProperties" not in out and "patternProperties" not in out
            and out.get("x-kubernetes-preserve-unknown-fields") is not True):
        out["additionalProperties"] = False
    return out


def schema_path(group: str, kind: str, version: str) -> str:
    """The CRDs-catalog layout kubeconform reads: ``<group>/<kind lowercased>_<version>.json``."""
    return f"{group}/{kind.lower()}_{version}.json"


def dump(schema) -> bytes:
    """Canonical bytes (sorted keys, 2-space indent, final newline): same input, same sha256."""
    return (json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def crd_schemas(crd: dict) -> dict[str, bytes]:
    """``{schema path: bytes}`` for every served version of one CRD that has an ``openAPIV3Schema``.

    Raises ValueError naming the missing field when the CRD lacks group, kind or versions."""
    spec = crd.get("spec") if isinstance(crd.get("spec"), dict) else None
    if spec is None:
        raise ValueError("spec: expected a mapping, found none")
    group = spec.get("group")
    kind = (spec.get("names") or {}).get("kind") if isinstance(spec.get("names"), dict) else None
    versions = spec.get("versions")
    if not isinstance(group, str) or not group:
        raise ValueError(f"spec.group: expected the API group, found {group!r}")
    if not isinstance(kind, str) or not kind:
        raise ValueError(f"spec.names.kind: expected the kind, found {kind!r}")
    if not isinstance(versions, list) or not versions:
        raise ValueError(f"spec.versions: expected a list of versions, found {versions!r}")
    out = {}
    for v in versions:
        if not isinstance(v, dict) or not v.get("served") or not isinstance(v.get("name"), str):
            continue
        schema = (v.get("schema") or {}).get("openAPIV3Schema")
        if isinstance(schema, dict):
            out[schema_path(group, kind, v["name"])] = dump(strict_schema(schema))
    return out
