"""Canonical YAML: the byte format of everything in dist/.

apiVersion, kind, metadata first, every other mapping key sorted, block style,
literal blocks for multi-line strings, no line folding. Same object -> same bytes.
"""
from __future__ import annotations

import re
from functools import lru_cache

import yaml

_BaseDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
HEAD_KEYS = ("apiVersion", "kind", "metadata")


class CanonicalDumper(_BaseDumper):  # type: ignore[misc, valid-type]
    pass


def _str_representer(dumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


CanonicalDumper.add_representer(str, _str_representer)


def _sorted(value):
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def canonical_object(obj: dict) -> dict:
    out = {k: _sorted(obj[k]) for k in HEAD_KEYS if k in obj}
    for k in sorted(obj):
        if k not in out:
            out[k] = _sorted(obj[k])
    return out


def dump_yaml(obj) -> str:
    return yaml.dump(obj, Dumper=CanonicalDumper, default_flow_style=False, sort_keys=False,
                     allow_unicode=True, width=1_000_000, explicit_start=False)


_PLAIN_CANDIDATE = re.compile(r"[A-Za-z0-9_/][A-Za-z0-9_./-]*")
_RESOLVER = yaml.resolver.Resolver()
_STR_TAG = "tag:yaml.org,2002:str"


@lru_cache(maxsize=65536)
def _scalar_lines(value) -> tuple[str, tuple[str, ...]]:
    """PyYAML's own rendering of one scalar as a mapping value: (first line, block lines).

    Asking PyYAML keeps quoting rules exactly PyYAML's (plain, 'single', "double",
    literal blocks); the cache makes each distinct scalar cost one call per process.
    """
    if (isinstance(value, str) and _PLAIN_CANDIDATE.fullmatch(value)
            and _RESOLVER.resolve(yaml.ScalarNode, value, (True, False)) == _STR_TAG):
        return value, ()  # reads back as this same string: PyYAML writes it plain too
    text = dump_yaml({"k": value})
    first, *rest = text[3:].rstrip("\n").split("\n")
    return first, tuple(rest)


def _emit_scalar(value, column: int, out: list[str]) -> None:
    if value is None:
        out.append("null\n")
    elif value is True:
        out.append("true\n")
    elif value is False:
        out.append("false\n")
    elif type(value) is int:
        out.append(f"{value}\n")
    else:
        first, rest = _scalar_lines(value)
        out.append(first + "\n")
        pad = " " * column
        for line in rest:  # literal block content is indented relative to its parent's column
            out.append(f"{pad}{line}\n" if line else "\n")


def _emit_mapping(mapping: dict, column: int, out: list[str], inline_first: bool = False) -> None:
    pad = " " * column
    for i, (key, value) in enumerate(mapping.items()):
        key_text, key_rest = _scalar_lines(key)
        if key_rest or len(key_text) > 120:
            raise _Unsupported
        out.append(key_text if (inline_first and i == 0) else pad + key_text)
        if isinstance(value, dict) and value:
            out.append(":\n")
            _emit_mapping(value, column + 2, out)
        elif isinstance(value, list) and value:
            out.append(":\n")
            _emit_sequence(value, column, out)  # PyYAML writes sequences indentless under a key
        else:
            out.append(": ")
            _emit_value(value, column, out)


def _emit_sequence(items: list, column: int, out: list[str], inline_first: bool = False) -> None:
    pad = " " * column
    for i, item in enumerate(items):
        out.append("- " if (inline_first and i == 0) else pad + "- ")
        if isinstance(item, dict) and item:
            _emit_mapping(item, column + 2, out, inline_first=True)
        elif isinstance(item, list) and item:
            _emit_sequence(item, column + 2, out, inline_first=True)
        else:
            _emit_value(item, column, out)


def _emit_value(value, column: int, out: list[str]) -> None:
    if isinstance(value, dict):
        out.append("{}\n")  # only empty mappings reach here
    elif isinstance(value, list):
        out.append("[]\n")
    else:
        _emit_scalar(value, column, out)


class _Unsupported(Exception):
    """A shape the fast emitter does not write; PyYAML writes it instead."""


def fast_dump_yaml(obj: dict) -> str:
    """Byte-identical to ``dump_yaml`` for mappings, without PyYAML's per-node representer cost.

    Synth spends most of its Python time here, so structure is walked directly and only
    distinct scalars go through PyYAML (cached). tests/test_canonical.py proves identity.
    """
    if not isinstance(obj, dict) or not obj:
        return dump_yaml(obj)
    out: list[str] = []
    try:
        _emit_mapping(obj, 0, out)
    except _Unsupported:
        return dump_yaml(obj)
    return "".join(out)


def dump_object(obj: dict) -> bytes:
    return fast_dump_yaml(canonical_object(obj)).encode("utf-8")


def dump_objects(objs: list[dict]) -> bytes:
    """Several objects as one multi-document YAML file."""
    return b"---\n".join(dump_object(o) for o in objs)
