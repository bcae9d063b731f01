"""Compile a JSON Schema (draft 2020-12) into one Python predicate: a fast "is this valid?".

``jsonschema`` interprets a schema on every call (keyword dispatch, ``$ref`` lookups
through ``referencing``, error objects built lazily but generators everywhere): a strict
Deployment takes about 1 ms. Most documents are valid, so validation asks this compiled
predicate first and runs the real ``jsonschema`` validator only when it says "invalid";
every reported error still comes from ``jsonschema`` (paths, messages, all of them).

Soundness rule: the predicate implements the draft 2020-12 semantics of ``jsonschema``
for the keywords it supports, exactly (same type rules: bool is not an integer, 1.0 is;
same ``enum``/``const`` equality; ``pattern`` is ``re.search``; ``format`` is an
annotation). A schema using any other assertion keyword known to ``jsonschema``
(``if``, ``contains``, ``unevaluatedProperties``...) raises ``Unsupported`` and the
caller validates with ``jsonschema`` alone. Keywords unknown to draft 2020-12 (descriptions,
``x-kubernetes-*``) are ignored, as ``jsonschema`` ignores them. tests/test_validate_schemas.py
checks the predicate against ``jsonschema`` on thousands of mutated documents.
"""
from __future__ import annotations

import numbers
import re
from typing import Any, Callable

from jsonschema import Draft202012Validator
from jsonschema._utils import equal as _js_equal, uniq as _js_uniq

Check = Callable[[Any], bool]

ASSERTION_KEYWORDS = frozenset(Draft202012Validator.VALIDATORS)
SUPPORTED = frozenset({
    "$ref", "type", "properties", "additionalProperties", "patternProperties", "required", "items",
    "enum", "const", "pattern", "minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties",
    "allOf", "anyOf", "oneOf", "not", "propertyNames", "format",
})


class Unsupported(Exception):
    """The schema uses an assertion keyword the compiler does not implement."""


def _always(_x) -> bool:
    return True


def _never(_x) -> bool:
    return False


def _is_integer(x) -> bool:
    if x.__class__ is bool:
        return False
    if isinstance(x, int):
        return True
    return isinstance(x, float) and x.is_integer()


def _is_number(x) -> bool:
    return isinstance(x, numbers.Number) and not isinstance(x, bool)


_EXACT: dict[str, Check] = {
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "string": lambda x: isinstance(x, str),
    "integer": _is_integer,
    "number": _is_number,
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
}
# The exact classes YAML/JSON loading produces. For each type name: classes whose every value
# is accepted ("yes") and classes whose every value is rejected ("no"); anything else (a float
# for "integer", a subclass, a date) goes through the exact check.
NoneType = type(None)
ALL = frozenset({str, NoneType, bool, dict, list, int, float})
_YES = {"object": {dict}, "array": {list}, "string": {str}, "integer": {int}, "number": {int, float},
        "boolean": {bool}, "null": {NoneType}}
_NO = {name: ALL - (yes | ({float} if name == "integer" else set())) for name, yes in _YES.items()}


def _type_sets(spec) -> tuple[frozenset, frozenset]:
    names = [spec] if isinstance(spec, str) else list(spec)
    for n in names:
        if n not in _EXACT:
            raise Unsupported(f"type {n!r}")
    yes = frozenset().union(*(_YES[n] for n in names)) if names else frozenset()
    no = frozenset(ALL).intersection(*(_NO[n] for n in names)) if names else ALL
    return yes, no


def _type_check(spec) -> Check:
    names = [spec] if isinstance(spec, str) else list(spec)
    yes, no = _type_sets(spec)
    exact = [_EXACT[n] for n in names]

    def check(x):
        c = x.__class__
        if c in yes:
            return True
        if c in no:
            return False
        for f in exact:
            if f(x):
                return True
        return False
    return check


def _enum_check(values: list) -> Check:
    if values and all(isinstance(v, str) for v in values):
        allowed = frozenset(values)
        return lambda x: isinstance(x, str) and x in allowed
    return lambda x: any(_js_equal(x, v) for v in values)


_PURE_KEYWORDS = frozenset({"type", "$ref", "oneOf", "anyOf", "allOf", "format"})


class Compiler:
    """Compiles schemas reached from one ``referencing`` resolver; ``$ref`` targets are shared."""

    def __init__(self):
        self._memo: dict[int, Check] = {}
        self._yes: dict[int, frozenset] = {}   # id(check) -> classes it accepts outright
        self._keep: list = []  # keep memo keys (ids) alive
        self._roots: set[int] = set()
        self._pure_memo: dict[int, tuple | None] = {}

    def compile_root(self, schema, resolver) -> Check:
        """Compile a document's schema; ``resolver`` must be based at the schema's ``$id`` if it has one."""
        if isinstance(schema, dict):
            self._roots.add(id(schema))
        return self.compile(schema, resolver)

    def compile(self, schema, resolver) -> Check:
        if schema is True:
            return _always
        if schema is False:
            return _never
        if not isinstance(schema, dict):
            raise Unsupported(f"schema of type {type(schema).__name__}")
        key = id(schema)
        if key in self._memo:
            return self._memo[key]
        # Placeholder first: recursive schemas (JSONSchemaProps) refer back to themselves.
        cell: list[Check] = []
        self._memo[key] = lambda x: cell[0](x)
        self._keep.append(schema)
        fn = self._compile(schema, resolver)
        cell.append(fn)
        self._memo[key] = fn
        pure = self._pure(schema, resolver, ())
        if pure is not None and pure[0]:
            self._yes[id(fn)] = pure[0]
            self._keep.append(fn)
        return fn

    def yes(self, fn: Check) -> frozenset | None:
        """Classes ``fn`` accepts for every value (pure type schemas only), else None."""
        if fn is _always:
            return ALL
        return self._yes.get(id(fn))

    def _pure(self, schema, resolver, seen: tuple) -> tuple[frozenset, frozenset] | None:
        """(yes, no) class sets when the schema only constrains the JSON type, else None."""
        if schema is True:
            return ALL, frozenset()
        if schema is False:
            return frozenset(), ALL
        if not isinstance(schema, dict) or id(schema) in seen:
            return None
        key = id(schema)
        if key in self._pure_memo:
            return self._pure_memo[key]
        result = self._pure_uncached(schema, resolver, seen + (key,))
        self._pure_memo[key] = result
        self._keep.append(schema)
        return result

    def _pure_uncached(self, schema: dict, resolver, seen: tuple) -> tuple[frozenset, frozenset] | None:
        if any(k in ASSERTION_KEYWORDS and k not in _PURE_KEYWORDS for k in schema):
            return None
        yes, no = ALL, frozenset()

        def conj(part):
            nonlocal yes, no
            yes, no = yes & part[0], no | part[1]

        if "type" in schema:
            conj(_type_sets(schema["type"]))
        if "$ref" in schema:
            resolved = resolver.lookup(schema["$ref"])
            part = self._pure(resolved.contents, resolved.resolver, seen)
            if part is None:
                return None
            conj(part)
        for kw in ("allOf", "anyOf", "oneOf"):
            if kw not in schema:
                continue
            parts = [self._pure(s, resolver, seen) for s in schema[kw]]
            if any(p is None for p in parts) or not parts:
                return None
            if kw == "allOf":
                for p in parts:
                    conj(p)
            elif kw == "anyOf":
                conj((frozenset().union(*(p[0] for p in parts)), frozenset(ALL).intersection(*(p[1] for p in parts))))
            else:
                one = frozenset(c for c in ALL if sum(c in p[0] for p in parts) == 1
                                and all(c in p[0] or c in p[1] for p in parts))
                none = frozenset(c for c in ALL if all(c in p[1] for p in parts) or sum(c in p[0] for p in parts) >= 2)
                conj((one, none))
        return yes, no

    def _compile(self, schema: dict, resolver) -> Check:
        unknown = [k for k in schema if k in ASSERTION_KEYWORDS and k not in SUPPORTED]
        if unknown:
            raise Unsupported(", ".join(sorted(unknown)))
        if "$id" in schema and id(schema) not in self._roots:
            raise Unsupported("$id below the root")
        checks: list[Check] = []

        if "$ref" in schema:
            resolved = resolver.lookup(schema["$ref"])
            checks.append(self.compile(resolved.contents, resolved.resolver))

        type_spec = schema.get("type")
        type_names = None if type_spec is None else ([type_spec] if isinstance(type_spec, str) else list(type_spec))
        object_like = any(k in schema for k in ("properties", "additionalProperties", "patternProperties",
                                                "required", "minProperties", "maxProperties", "propertyNames"))
        array_like = any(k in schema for k in ("items", "minItems", "maxItems", "uniqueItems"))
        if type_names is not None and object_like and set(type_names) <= {"object", "null"}:
            checks.append(self._object(schema, resolver, allow_null="null" in type_names))
        elif type_names is not None and array_like and set(type_names) <= {"array", "null"}:
            checks.append(self._array(schema, resolver, typed=True, allow_null="null" in type_names))
        else:
            if type_spec is not None:
                checks.append(_type_check(type_spec))
            if object_like:
                checks.append(self._object(schema, resolver, allow_null=None))
            if array_like:
                checks.append(self._array(schema, resolver, typed=False, allow_null=False))

        if "enum" in schema:
            checks.append(_enum_check(schema["enum"]))
        if "const" in schema:
            const = schema["const"]
            checks.append(lambda x: _js_equal(x, const))

        if "pattern" in schema:
            rx = re.compile(schema["pattern"])
            checks.append(lambda x: not isinstance(x, str) or rx.search(x) is not None)
        if "minLength" in schema:
            lo = schema["minLength"]
            checks.append(lambda x: not isinstance(x, str) or len(x) >= lo)
        if "maxLength" in schema:
            hi = schema["maxLength"]
            checks.append(lambda x: not isinstance(x, str) or len(x) <= hi)

        for kw, op in (("minimum", lambda a, b: a >= b), ("maximum", lambda a, b: a <= b),
                       ("exclusiveMinimum", lambda a, b: a > b), ("exclusiveMaximum", lambda a, b: a < b)):
            if kw in schema:
                bound = schema[kw]
                checks.append(lambda x, bound=bound, op=op: not _is_number(x) or op(x, bound))

        for kw in ("allOf", "anyOf", "oneOf"):
            if kw in schema:
                subs = [self.compile(s, resolver) for s in schema[kw]]
                if kw == "allOf":
                    checks.append(lambda x, subs=subs: all(s(x) for s in subs))
                elif kw == "anyOf":
                    checks.append(lambda x, subs=subs: any(s(x) for s in subs))
                else:
                    checks.append(lambda x, subs=subs: sum(1 for s in subs if s(x)) == 1)
        if "not" in schema:
            neg = self.compile(schema["not"], resolver)
            checks.append(lambda x: not neg(x))

        pure = self._pure(schema, resolver, ())
        checks = [c for c in checks if c is not _always]
        if not checks:
            return _always
        if len(checks) == 1:
            combined = checks[0]
        elif len(checks) == 2:
            a, b = checks
            combined = lambda x: a(x) and b(x)  # noqa: E731
        else:
            combined = lambda x: all(c(x) for c in checks)  # noqa: E731
        if pure is not None and pure[0]:
            yes = pure[0]
            # A pure type schema: decide the common classes without calling the sub-checks.
            return lambda x: x.__class__ in yes or combined(x)
        return combined

    def _array(self, schema: dict, resolver, *, typed: bool, allow_null: bool) -> Check:
        item = self.compile(schema["items"], resolver) if "items" in schema else _always
        item_yes = self.yes(item) or frozenset()
        lo, hi = schema.get("minItems"), schema.get("maxItems")
        unique = bool(schema.get("uniqueItems"))

        def check(x):
            if x.__class__ is not list and not isinstance(x, list):
                if typed:
                    return allow_null and x is None
                return True
            if lo is not None and len(x) < lo:
                return False
            if hi is not None and len(x) > hi:
                return False
            if item is not _always:
                for v in x:
                    if v.__class__ not in item_yes and not item(v):
                        return False
            if unique and not _js_uniq(x):
                return False
            return True
        return check

    def _object(self, schema: dict, resolver, *, allow_null: bool | None) -> Check:
        """allow_null None: not typed (non-objects pass); True/False: typed object(/null)."""
        props = {k: self.compile(v, resolver) for k, v in (schema.get("properties") or {}).items()}
        simple = {k: y for k, f in props.items() if (y := self.yes(f))}
        additional_schema = schema.get("additionalProperties", True)
        additional = self.compile(additional_schema, resolver)
        add_yes = self.yes(additional) or frozenset()
        patterns = [(re.compile(p), self.compile(s, resolver)) for p, s in (schema.get("patternProperties") or {}).items()]
        required = frozenset(schema.get("required") or ())
        min_p, max_p = schema.get("minProperties"), schema.get("maxProperties")
        names = self.compile(schema["propertyNames"], resolver) if "propertyNames" in schema else None
        get, sget = props.get, simple.get
        typed = allow_null is not None
        null_ok = bool(allow_null)

        if patterns or names is not None or min_p is not None or max_p is not None:
            def check(x):
                if not isinstance(x, dict):
                    return (not typed) or (null_ok and x is None)
                if required and not required <= x.keys():
                    return False
                if min_p is not None and len(x) < min_p:
                    return False
                if max_p is not None and len(x) > max_p:
                    return False
                for k, v in x.items():
                    if names is not None and not names(k):
                        return False
                    matched = False
                    f = get(k)
                    if f is not None:
                        matched = True
                        if not f(v):
                            return False
                    for rx, pf in patterns:
                        if rx.search(k):
                            matched = True
                            if not pf(v):
                                return False
                    if not matched and not additional(v):
                        return False
                return True
            return check

        # Closed objects (additionalProperties: false) need no loop of their own: `additional` is
        # `_never` and `add_yes` empty, so an unknown key fails here just as it should.
        def check_keys(x):
            if x.__class__ is not dict and not isinstance(x, dict):
                return (not typed) or (null_ok and x is None)
            if required and not required <= x.keys():
                return False
            for k, v in x.items():
                s = sget(k)
                if s is not None and v.__class__ in s:
                    continue
                f = get(k)
                if f is None:
                    if v.__class__ not in add_yes and not additional(v):
                        return False
                elif not f(v):
                    return False
            return True
        return check_keys
