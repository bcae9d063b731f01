"""CRD schemas made strict the way the API server's strict field validation behaves: an object schema
that lists ``properties`` rejects unknown fields unless it says ``x-kubernetes-preserve-unknown-fields``
(or sets ``additionalProperties`` itself); ``metadata`` is checked against ObjectMeta separately.
CRD ``pattern`` values are Go RE2 and are translated to Python regexes.
"""
from __future__ import annotations

import re


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
