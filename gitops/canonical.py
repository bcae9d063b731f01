"""Canonical YAML: the byte format of everything in dist/.

apiVersion, kind, metadata first, every other mapping key sorted, block style,
literal blocks for multi-line strings, no line folding. Same object -> same bytes.
"""
from __future__ import annotations

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


def dump_object(obj: dict) -> bytes:
    return dump_yaml(canonical_object(obj)).encode("utf-8")


def dump_objects(objs: list[dict]) -> bytes:
    return b"---\n".join(dump_object(o) for o in objs)
