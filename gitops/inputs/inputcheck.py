"""Checks on the raw text of every input file that no JSON Schema keyword expresses well.

- **Control characters** are refused in every identifier (mapping keys, names, tags, digests,
  domains, URLs, ...): a trailing newline in an image tag renders ``app.kubernetes.io/version: |``
  (a block scalar holding a newline), which the API server rejects as a label value, and
  invisible characters (bidi overrides, zero-width spaces) make two names that look equal differ.
  Free text (descriptions, shell commands, setting values) may hold newlines and tabs, nothing else.
- **Sizes**: one input file is at most :data:`MAX_FILE_BYTES`, one string at most
  :data:`MAX_STRING` characters. A component's description and settings are copied into several
  objects (ConfigMaps, dashboards, Argo CD annotations) and the API server refuses any object
  over 1 MiB (etcd's request limit, https://kubernetes.io/docs/concepts/configuration/configmap/
  "The data stored in a ConfigMap cannot exceed 1 MiB"), so no single input string may come close.
"""
from __future__ import annotations

import re
from typing import Iterator

from ..errors import Problem
from .yamlsource import SourceDoc

MAX_FILE_BYTES = 256 * 1024
MAX_STRING = 16 * 1024

# C0 and C1 control characters, DEL, line/paragraph separators, zero-width and bidi controls.
_INVISIBLE = "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
IDENTIFIER_FORBIDDEN = re.compile(f"[\x00-\x1f\x7f-\x9f{_INVISIBLE}]")
FREE_TEXT_FORBIDDEN = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_INVISIBLE}]")  # \t and \n allowed

# Fields whose value is free text (matched on the field path with list indexes removed).
FREE_TEXT_FIELDS = {
    ("description",), ("env", "description"), ("env", "value"),        # inventory
    ("start",), ("build",), ("command",),
    ("components", "*", "env", "*"),                                    # environment setting values
    ("argocd", "syncWindows", "description"),
}


def _shape(path: tuple) -> tuple:
    return tuple(p for p in path if not isinstance(p, int))


def _free_text(path: tuple) -> bool:
    shape = _shape(path)
    return any(len(shape) == len(f) and all(a == "*" or a == b for a, b in zip(f, shape)) for f in FREE_TEXT_FIELDS)


def _strings(data, path: tuple = ()) -> Iterator[tuple[tuple, str, bool]]:
    """(path, text, is_key) for every string in a parsed document, keys included."""
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str):
                yield path + (key,), key, True
            yield from _strings(value, path + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _strings(value, path + (i,))
    elif isinstance(data, str):
        yield path, data, False


def _show(text: str) -> str:
    shown = repr(text)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def string_problems(doc: SourceDoc) -> list[Problem]:
    """Control characters in identifiers (or in free text, beyond tab and newline) and oversized strings."""
    problems = []
    for path, text, is_key in _strings(doc.data):
        where = "/".join(map(str, path))
        line = doc.line_of(path)
        if len(text) > MAX_STRING:
            problems.append(Problem(doc.file, where, f"expected at most {MAX_STRING} characters, found {len(text)}", line))
            continue
        forbidden = FREE_TEXT_FORBIDDEN if (not is_key and _free_text(path)) else IDENTIFIER_FORBIDDEN
        bad = forbidden.search(text)
        if bad:
            what = "key" if is_key else "value"
            problems.append(Problem(doc.file, where, f"expected a {what} without control or invisible characters, found "
                                    f"{bad.group()!r} at position {bad.start()} in {_show(text)}", line))
    return problems


def file_size_problem(size: int, display: str) -> Problem | None:
    if size > MAX_FILE_BYTES:
        return Problem(display, "", f"expected an input file of at most {MAX_FILE_BYTES // 1024} KiB, found {size} bytes")
    return None
