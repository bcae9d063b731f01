"""One wording for JSON Schema failures: "expected ..., found ..." in plain words.

Used by the input loader (inventory/, environments/) and by `gitops validate` (manifests), so a
user reads the same sentence for the same mistake wherever it is found. Callers add the place
(file, line, field path); this module only says what was expected and what was found.

A schema can say in words what a pattern means with the annotation ``"x-expected"`` (e.g. the image
tag: "a pinned tag (vX.Y.Z or sha-<7>)"); otherwise the pattern itself is quoted.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # jsonschema loads only when something failed (gitops/inputs/load.py validators)
    from jsonschema.exceptions import ValidationError

# Bounds in words, by keyword: (phrase, unit) -> "expected at least 1 item".
_BOUNDS = {
    "minimum": ("at least", ""), "maximum": ("at most", ""),
    "exclusiveMinimum": ("more than", ""), "exclusiveMaximum": ("less than", ""),
    "minLength": ("at least", " character(s)"), "maxLength": ("at most", " character(s)"),
    "minItems": ("at least", " item(s)"), "maxItems": ("at most", " item(s)"),
    "minProperties": ("at least", " field(s)"), "maxProperties": ("at most", " field(s)"),
}
MAX_LISTED_FIELDS = 15


def short(value) -> str:
    """A value as the user wrote it, cut at 60 characters: strings quoted ('8080' is not 8080), the rest in JSON."""
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def most_specific(err: ValidationError) -> ValidationError:
    """The error to report for a oneOf/anyOf failure: the deepest cause, when one branch got further.

    When every branch failed at the same place, the branch whose type matched is what the user meant:
    its errors are kept and the other branches' type mismatches dropped (``alternatives`` words them).
    """
    while err.context:
        depth = max(len(e.absolute_path) for e in err.context)
        if depth <= len(err.absolute_path):
            return err
        deepest = [e for e in err.context if len(e.absolute_path) == depth]
        err = min(deepest, key=lambda e: (e.validator == "type", e.message))
    return err


def _alternatives(err: ValidationError) -> list[ValidationError]:
    causes = [e for e in err.context if len(e.absolute_path) == len(err.absolute_path)]
    meant = [e for e in causes if e.validator != "type"]
    return meant or causes


def expected(err: ValidationError) -> str:
    """What the schema wanted, in words ("type integer", "one of a, b", "at most 5")."""
    v, s = err.validator, err.validator_value
    if v in ("pattern", "const", "enum") and isinstance(err.schema, dict) and err.schema.get("x-expected"):
        return err.schema["x-expected"]
    if v == "type":
        return "type " + (" or ".join(s) if isinstance(s, list) else s)
    if v == "enum":
        return "one of " + ", ".join(map(str, s))
    if v == "const":
        return short(s)
    if v == "pattern":
        return f"a string matching {s}"
    if v in _BOUNDS:
        phrase, unit = _BOUNDS[v]
        return f"{phrase} {s}{unit}"
    if v == "not" and isinstance(s, dict) and "const" in s:
        return f"anything but {short(s['const'])}"
    if v == "uniqueItems":
        return "no duplicate items"
    if v in ("oneOf", "anyOf") and err.context:
        words: list[str] = []
        for cause in _alternatives(err):
            word = expected(cause)
            if word not in words:
                words.append(word)
        types = [w[len("type "):] for w in words if w.startswith("type ")]
        if len(types) == len(words) > 1:
            words = ["type " + " or ".join(types)]
        return " or ".join(words)
    return err.message if len(err.message) <= 200 else err.message[:197] + "..."


def unknown_fields(err: ValidationError) -> list[str]:
    """The fields an ``additionalProperties: false`` failure is about."""
    allowed = set((err.schema.get("properties") or {}))
    return sorted(set(err.instance) - allowed) if isinstance(err.instance, dict) else []


def unknown_fields_message(err: ValidationError, fields: list[str] | None = None) -> str:
    allowed = sorted((err.schema.get("properties") or {}))
    listing = ", ".join(allowed[:MAX_LISTED_FIELDS]) + (", ..." if len(allowed) > MAX_LISTED_FIELDS else "")
    extra = unknown_fields(err) if fields is None else fields
    return f"unknown field(s) {', '.join(extra)}; expected one of: {listing or '(no fields)'}"


def missing_field(err: ValidationError) -> str:
    """The field a ``required`` failure is about."""
    return err.message.split(" is a required")[0].strip("'\"")


def describe(err: ValidationError) -> str:
    """The whole sentence for one (most specific) error."""
    if err.validator == "additionalProperties":
        return unknown_fields_message(err)
    if err.validator == "required":
        return f"missing required field: {missing_field(err)}"
    return f"expected {expected(err)}, found {short(err.instance)}"
