"""Read YAML while remembering the line of every field, so errors can point at it."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import InputError, Problem

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class SourceDoc:
    file: str
    data: object
    lines: dict[tuple, int] = field(default_factory=dict)
    key_lines: dict[tuple, int] = field(default_factory=dict)  # line of each mapping key, by its path

    def line_of(self, path: tuple) -> int | None:
        # Walk up until a recorded ancestor: a missing field is reported at its parent.
        path = tuple(path)
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path[:-1]

    def line_of_key(self, path: tuple) -> int | None:
        """The line of the key itself (a block value starts a line later), else as ``line_of``."""
        return self.key_lines.get(tuple(path)) or self.line_of(path)


MAX_NODES = 200_000  # alias expansion bombs stop here
MAX_DEPTH = 64


class _Budget:
    def __init__(self) -> None:
        self.nodes = 0
        self.active: set[int] = set()  # nodes on the current path: a repeat is a recursive alias


def _construct(node: yaml.Node, path: tuple, lines: dict, file: str, budget: _Budget | None = None,
               key_lines: dict | None = None):
    budget = budget or _Budget()
    budget.nodes += 1
    where = "/".join(map(str, path))
    if budget.nodes > MAX_NODES or len(path) > MAX_DEPTH:
        raise InputError(Problem(file, where, f"document too large or too deeply nested (limits: {MAX_NODES} nodes, depth {MAX_DEPTH})",
                                 node.start_mark.line + 1))
    if id(node) in budget.active:
        raise InputError(Problem(file, where, "recursive alias: a node cannot contain itself", node.start_mark.line + 1))
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
        budget.active.add(id(node))
        try:
            return _construct_collection(node, path, lines, file, budget, {} if key_lines is None else key_lines)
        finally:
            budget.active.discard(id(node))
    lines[path] = node.start_mark.line + 1
    # Scalars: the safe constructor turns the resolved tag into int, bool, null, str...
    try:
        return yaml.constructor.SafeConstructor().construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        raise InputError(Problem(file, where, f"invalid value: {exc}", node.start_mark.line + 1)) from exc


def _construct_collection(node: yaml.Node, path: tuple, lines: dict, file: str, budget: _Budget, key_lines: dict):
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise InputError(Problem(file, "/".join(map(str, path)), "mapping keys must be plain strings", key_node.start_mark.line + 1))
            key = key_node.value
            if key in out:
                raise InputError(Problem(file, "/".join(map(str, path + (key,))), f"duplicate key {key!r}", key_node.start_mark.line + 1))
            key_lines[path + (key,)] = key_node.start_mark.line + 1
            out[key] = _construct(value_node, path + (key,), lines, file, budget, key_lines)
        return out
    return [_construct(v, path + (i,), lines, file, budget, key_lines) for i, v in enumerate(node.value)]


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.splitlines()
    return lines[line][column:column + 1] if line < len(lines) else ""


def load_yaml(path: Path, display: str | None = None) -> SourceDoc:
    display = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(Problem(display, "", f"cannot read file: {exc}")) from exc
    try:
        node = yaml.compose(text, Loader=_Loader)
    except RecursionError as exc:
        raise InputError(Problem(display, "", "malformed YAML: nesting too deep")) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        msg = getattr(exc, "problem", None) or str(exc)
        if mark is not None and ("tab character" in msg or _char_at(text, mark.line, mark.column) == "\t"):
            # PyYAML says "found character '\t' that cannot start any token" or "found a tab character that
            # violates indentation": YAML forbids tabs in indentation
            # (YAML 1.2.2 §6.1, https://yaml.org/spec/1.2.2/#61-indentation-spaces).
            msg = (f"expected spaces for indentation, found a tab (column {mark.column + 1}); "
                   "YAML does not allow tabs there: replace it with spaces")
        raise InputError(Problem(display, "", f"malformed YAML: {msg}", mark.line + 1 if mark else None)) from exc
    lines: dict[tuple, int] = {}
    key_lines: dict[tuple, int] = {}
    data = _construct(node, (), lines, display, key_lines=key_lines) if node is not None else None
    return SourceDoc(display, data, lines, key_lines)
