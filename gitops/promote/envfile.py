"""Promotable values of environment files, and minimal-diff edits of those files.

Which fields move between environments is read from the environment JSON Schema:
every property of ``componentSettings`` marked ``"x-promotable": true`` (today
``image.tag`` and ``image.digest``). Everything else (replicas, resources, env,
hosts, secret store...) stays local to its environment. Adding a promotable field
to the schema is the only change needed for promotion, bump and rollback to carry it.

Edits use ruamel.yaml's round-trip parser to *locate* the values (line and column of
every key and value, flow or block style, quoting) and then replace exactly those
characters in the original text: comments, key order, quoting, indentation and every
other byte stay as they were, so a promotion's diff is one line per changed value.
The result is re-read with the project's own YAML loader and compared with the
intended data; if a layout is ever too unusual for a splice, the file is re-emitted
through ruamel's round-trip dumper instead (still comment-preserving), and verified
the same way.
"""
from __future__ import annotations

import copy
import io
import json
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from ..errors import GitopsError, InputError, Problem
from ..inputs.schema_errors import describe, most_specific

PROMOTABLE = "x-promotable"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./+-]*")


@lru_cache(maxsize=None)
def environment_schema() -> dict:
    return json.loads(resources.files("gitops.schemas").joinpath("environment.schema.json").read_text())


def _resolve(schema: dict, node: dict) -> dict:
    ref = node.get("$ref", "")
    if ref.startswith("#/"):
        for part in ref[2:].split("/"):
            schema = schema[part]
        return schema
    return node


@lru_cache(maxsize=None)
def promotable_fields() -> tuple[str, ...]:
    """Dotted paths under ``components.<name>`` that a promotion carries, from the schema's x-promotable marks."""
    schema = environment_schema()
    out: list[str] = []

    def walk(node: dict, prefix: tuple[str, ...]) -> None:
        for key, sub in node.get("properties", {}).items():
            sub = _resolve(schema, sub)
            if not sub.get(PROMOTABLE):
                continue
            children = {k: _resolve(schema, v) for k, v in sub.get("properties", {}).items()}
            if any(v.get(PROMOTABLE) for v in children.values()):
                walk(sub, prefix + (key,))
            else:
                out.append(".".join(prefix + (key,)))
    walk(_resolve(schema, schema["$defs"]["componentSettings"]), ())
    return tuple(out)


def field_schema(dotted: str) -> dict:
    """The JSON Schema of one promotable field (used to validate `gitops bump` input)."""
    schema = environment_schema()
    node = _resolve(schema, schema["$defs"]["componentSettings"])
    for part in dotted.split("."):
        node = _resolve(schema, node["properties"][part])
    return node


def check_value(dotted: str, value: str, where: str = "") -> None:
    """InputError when ``value`` does not satisfy the schema of field ``dotted``."""
    validator = Draft202012Validator(field_schema(dotted))
    errors = list(validator.iter_errors(value))
    if errors:
        raise InputError(Problem(where or "(command line)", dotted, describe(most_specific(errors[0]))))


def _get(data, path: tuple):
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def values_of(settings: dict | None) -> dict[str, object]:
    """{dotted field: value} of the promotable fields present in one component's settings."""
    out = {}
    for dotted in promotable_fields():
        value = _get(settings or {}, tuple(dotted.split(".")))
        if value is not None:
            out[dotted] = value
    return out


def plain_values(values: dict[str, object]) -> dict[str, object]:
    """The same values without ruamel's string subclasses (for hashing, JSON and comparisons)."""
    return {k: (str(v) if isinstance(v, str) else v) for k, v in sorted(values.items())}


# --------------------------------------------------------------------------- the file


def _ruamel() -> YAML:
    y = YAML()
    y.preserve_quotes = True
    y.width = 1_000_000
    return y


class EnvFile:
    """One environment file: read promotable values, set them with a minimal textual diff."""

    def __init__(self, text: str, display: str = "environment file"):
        self.original = text
        self.text = text
        self.display = display
        try:
            self._data = yaml.load(text, Loader=_Loader)
        except yaml.YAMLError as exc:
            raise InputError(Problem(display, "", f"malformed YAML: {exc}")) from exc
        if not isinstance(self._data, dict):
            raise InputError(Problem(display, "(document)", "expected a mapping"))
        self._expected = copy.deepcopy(self._data)
        self._rt = self._parse(text)
        self._spliced = True

    @classmethod
    def read(cls, path: Path, display: str | None = None) -> "EnvFile":
        return cls(path.read_text(encoding="utf-8"), display or str(path))

    def _parse(self, text: str) -> CommentedMap:
        return _ruamel().load(text)

    # ------------------------------------------------------------------ reading
    @property
    def data(self) -> dict:
        return self._expected

    def components(self) -> dict:
        return self._expected.get("components") or {}

    def has_component(self, name: str) -> bool:
        return name in self.components()

    def enabled(self, name: str) -> bool:
        return bool((self.components().get(name) or {}).get("enabled"))

    def values(self, name: str) -> dict[str, object]:
        """Promotable values of one component, keeping the source's quoting style (ruamel scalars)."""
        node = _get(self._rt, ("components", name))
        return values_of(node if isinstance(node, dict) else None)

    # ------------------------------------------------------------------ editing
    def set_values(self, name: str, values: dict[str, object]) -> list[str]:
        """Make component ``name``'s promotable fields equal ``values`` (absent key = field removed).

        Returns the dotted fields that changed.
        """
        if not self.has_component(name):
            raise InputError(Problem(self.display, f"components/{name}", f"{name} is not declared in this environment"))
        changed = []
        for dotted in promotable_fields():
            path = ("components", name) + tuple(dotted.split("."))
            want = values.get(dotted)
            have = _get(self._expected, path)
            if (str(want) if isinstance(want, str) else want) == have:
                continue
            changed.append(dotted)
            self._apply_expected(path, want)
            if self._spliced:
                try:
                    if want is None:
                        self._splice_delete(path)
                    else:
                        self._splice_set(path, want)
                    self._rt = self._parse(self.text)
                except _CannotSplice:
                    self._spliced = False
            if not self._spliced:
                self._rt_set(path, want)
        if changed:
            self._finish()
        return changed

    def set_field(self, path: tuple, want) -> bool:
        """Set one scalar anywhere in the file (e.g. ``("promotesFrom",)``) with the same minimal splice.

        Returns whether it changed. Unlike ``set_values`` the field need not be promotable: used by
        `gitops new` to re-point an environment's ``promotesFrom``.
        """
        if _get(self._expected, path) == want:
            return False
        self._apply_expected(path, want)
        try:
            self._splice_set(path, want)
            self._rt = self._parse(self.text)
        except _CannotSplice:
            raise GitopsError(f"{self.display}: could not edit {'/'.join(path)} in place; edit it by hand") from None
        if not self._verified(self.text):
            raise GitopsError(f"{self.display}: could not edit {'/'.join(path)} without changing other values")
        return True

    def add_component(self, name: str, settings: dict) -> None:
        """Add ``components.<name>`` (block style, in name order) holding ``settings``, one line per key.

        The entry goes before the first component whose name sorts after it, above that entry's own
        comment lines, so every existing line and comment stays where it was.
        """
        if self.has_component(name):
            raise InputError(Problem(self.display, f"components/{name}", f"{name} is already declared in this environment"))
        comps = self._rt.get("components")
        if not isinstance(comps, CommentedMap) or comps.fa.flow_style() or not comps:
            raise GitopsError(f"{self.display}: components is not a block mapping; add {name} by hand")
        indent = comps.lc.key(next(iter(comps)))[1]
        entry = f"{' ' * indent}{name}:\n" + "".join(
            f"{' ' * (indent + 2)}{key}: {_format_flow(value)}\n" for key, value in settings.items())
        lines = self.text.splitlines(keepends=True)
        later = [k for k in comps if str(k) > name]
        if later:
            at = comps.lc.key(later[0])[0]
        else:
            # After the last component: before the next top-level key (and its comments), else at the end.
            keys = list(self._rt)
            after = keys[keys.index("components") + 1:]
            at = self._rt.lc.key(after[0])[0] if after else len(lines)
        # Comment lines at the next entry's indentation (or less) introduce it; deeper ones end the previous entry.
        while (at < len(lines) and at > 0 and lines[at - 1].lstrip().startswith("#")
               and len(lines[at - 1]) - len(lines[at - 1].lstrip()) <= indent):
            at -= 1
        if at == len(lines) and lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        self.text = "".join(lines[:at]) + entry + "".join(lines[at:])
        self._expected.setdefault("components", {})[name] = json.loads(json.dumps(settings))
        if not self._verified(self.text):
            raise GitopsError(f"{self.display}: could not add {name} without changing other values; add it by hand")
        self._rt = self._parse(self.text)

    def _apply_expected(self, path: tuple, want) -> None:
        node = self._expected
        for part in path[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        if want is None:
            node.pop(path[-1], None)
        else:
            node[path[-1]] = str(want) if isinstance(want, str) else want

    def _finish(self) -> None:
        if self._spliced and self._verified(self.text):
            return
        # Fallback: apply every intended value through ruamel's round-trip dumper.
        rt = self._parse(self.original)
        self._copy_into(rt, self._expected)
        out = io.StringIO()
        y = _ruamel()
        y.representer.add_representer(type(None), lambda r, d: r.represent_scalar("tag:yaml.org,2002:null", "null"))
        y.dump(rt, out)
        text = out.getvalue()
        if not self._verified(text):
            raise GitopsError(f"{self.display}: could not edit the file without changing other values; edit it by hand")
        self.text = text

    def _copy_into(self, rt: CommentedMap, expected: dict) -> None:
        for name in expected.get("components") or {}:
            for dotted in promotable_fields():
                path = ("components", name) + tuple(dotted.split("."))
                self._rt_set(path, _get(expected, path), rt)

    def _rt_set(self, path: tuple, want, rt: CommentedMap | None = None) -> None:
        node = self._rt if rt is None else rt
        for part in path[:-1]:
            if part not in node or not isinstance(node[part], dict):
                if want is None:
                    return
                child = CommentedMap()
                child.fa.set_flow_style()
                node[part] = child
            node = node[part]
        if want is None:
            node.pop(path[-1], None)
        else:
            node[path[-1]] = want

    def _verified(self, text: str) -> bool:
        try:
            return yaml.load(text, Loader=_Loader) == self._expected
        except yaml.YAMLError:
            return False

    # ------------------------------------------------------------------ splicing
    def _offset(self, line: int, col: int) -> int:
        pos = 0
        for _ in range(line):
            pos = self.text.index("\n", pos) + 1
        return pos + col

    def _container(self, path: tuple) -> CommentedMap | None:
        node = self._rt
        for part in path:
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return node if isinstance(node, CommentedMap) else None

    def _value_end(self, parent: CommentedMap, key: str) -> int:
        line, col = parent.lc.value(key)
        start = self._offset(line, col)
        value = parent[key]
        if isinstance(value, (dict, list)):
            if not getattr(value, "fa", None) or not value.fa.flow_style():
                raise _CannotSplice()
            return _flow_end(self.text, start)
        return _scalar_end(self.text, start, parent.fa.flow_style())

    def _splice_set(self, path: tuple, want) -> None:
        parent_path, key = path[:-1], path[-1]
        # Deepest existing container on the way to the value.
        depth = len(parent_path)
        while depth > 0 and self._container(parent_path[:depth]) is None:
            depth -= 1
        parent = self._container(parent_path[:depth])
        if parent is None:
            raise _CannotSplice()
        missing = parent_path[depth:]
        if not missing and key in parent:
            if isinstance(parent[key], (dict, list)):
                raise _CannotSplice()
            line, col = parent.lc.value(key)
            start = self._offset(line, col)
            end = _scalar_end(self.text, start, parent.fa.flow_style())
            self.text = self.text[:start] + _format_scalar(want, like=parent[key]) + self.text[end:]
            return
        # Insert "k: v" (or "k: {k2: v}" for missing intermediate maps) into ``parent``.
        entry_key = missing[0] if missing else key
        value_text = _format_scalar(want)
        for part in reversed(missing[1:] + (key,) if missing else ()):
            value_text = f"{{{part}: {value_text}}}"
        self._insert(parent, entry_key, value_text)

    def _insert(self, parent: CommentedMap, key: str, value_text: str) -> None:
        keys = list(parent.keys())
        if parent.fa.flow_style():
            if not keys:
                start = self._offset(parent.lc.line, parent.lc.col)
                if self.text[start] != "{":
                    raise _CannotSplice()
                self.text = self.text[:start + 1] + f"{key}: {value_text}" + self.text[start + 1:]
                return
            end = self._value_end(parent, keys[-1])
            self.text = self.text[:end] + f", {key}: {value_text}" + self.text[end:]
            return
        # Block map: add a line after a sibling whose value fits on its key's line.
        for sibling in reversed(keys):
            kline, kcol = parent.lc.key(sibling)
            try:
                end = self._value_end(parent, sibling)
            except _CannotSplice:
                continue
            if self.text.count("\n", 0, end) != kline:
                continue
            eol = self.text.find("\n", end)
            eol = len(self.text) if eol < 0 else eol
            self.text = self.text[:eol] + "\n" + " " * kcol + f"{key}: {value_text}" + self.text[eol:]
            return
        raise _CannotSplice()

    def _splice_delete(self, path: tuple) -> None:
        parent = self._container(path[:-1])
        key = path[-1]
        if parent is None or key not in parent:
            return
        kline, kcol = parent.lc.key(key)
        kstart = self._offset(kline, kcol)
        vend = self._value_end(parent, key)
        if parent.fa.flow_style():
            before = kstart
            while before > 0 and self.text[before - 1] in " \t":
                before -= 1
            if before > 0 and self.text[before - 1] == ",":
                self.text = self.text[:before - 1] + self.text[vend:]
                return
            after = vend
            while after < len(self.text) and self.text[after] in " \t":
                after += 1
            if after < len(self.text) and self.text[after] == ",":
                after += 1
                while after < len(self.text) and self.text[after] in " \t":
                    after += 1
                self.text = self.text[:kstart] + self.text[after:]
                return
            self.text = self.text[:kstart] + self.text[vend:]
            return
        if self.text.count("\n", 0, vend) != kline:
            raise _CannotSplice()
        line_start = self._offset(kline, 0)
        eol = self.text.find("\n", vend)
        self.text = self.text[:line_start] + (self.text[eol + 1:] if eol >= 0 else "")


class _CannotSplice(Exception):
    pass


def _format_scalar(value, like=None) -> str:
    """YAML text for a scalar: the existing value's quoting if any, else the new value's, else plain when safe."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    style = like if like is not None else value
    text = str(value)
    if isinstance(style, SingleQuotedScalarString):
        return "'" + text.replace("'", "''") + "'"
    if isinstance(style, DoubleQuotedScalarString):
        return json.dumps(text)
    if _PLAIN.fullmatch(text):
        try:
            if yaml.load(f"k: {text}", Loader=_Loader) == {"k": text}:
                return text
        except yaml.YAMLError:
            pass
    return json.dumps(text)


def _format_flow(value) -> str:
    """A value on one line: scalars as ``_format_scalar``, mappings as ``{k: v, ...}`` flow style."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_format_flow(v)}" for k, v in value.items()) + "}"
    return _format_scalar(value)


def _scalar_end(text: str, start: int, flow: bool) -> int:
    ch = text[start] if start < len(text) else ""
    if ch == '"':
        i = start + 1
        while i < len(text):
            if text[i] == "\\":
                i += 2
                continue
            if text[i] == '"':
                return i + 1
            i += 1
        raise _CannotSplice()
    if ch == "'":
        i = start + 1
        while i < len(text):
            if text[i] == "'":
                if i + 1 < len(text) and text[i + 1] == "'":
                    i += 2
                    continue
                return i + 1
            i += 1
        raise _CannotSplice()
    if ch in "|>&*!":
        raise _CannotSplice()
    i = start
    while i < len(text) and text[i] != "\n":
        if flow and text[i] in ",}]":
            break
        if text[i] == "#" and i > start and text[i - 1] in " \t":
            break
        i += 1
    while i > start and text[i - 1] in " \t":
        i -= 1
    return i


def _flow_end(text: str, start: int) -> int:
    if text[start] not in "{[":
        raise _CannotSplice()
    depth, i = 0, start
    while i < len(text):
        ch = text[i]
        if ch in "\"'":
            i = _scalar_end(text, i, True)
            continue
        if ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise _CannotSplice()
