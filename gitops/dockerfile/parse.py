"""Dockerfile -> stages of instructions, through the official BuildKit parser.

The ``dockerfile`` package (asottile/dockerfile) wraps moby/buildkit's Go parser, so line
continuations, the escape directive, comments, JSON vs shell form and heredocs are read exactly
as ``docker build`` reads them. This module only adds what the rules need on top: stages,
global ``ARG`` defaults and ``${VAR}`` substitution in image references.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import dockerfile as _buildkit


class DockerfileSyntaxError(ValueError):
    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class Instruction:
    cmd: str                      # upper-case instruction, e.g. "RUN"
    flags: tuple[str, ...]        # e.g. ("--mount=type=cache,target=/root/.cache/pip",)
    value: tuple[str, ...]        # arguments as BuildKit splits them
    original: str
    line: int                     # 1-based first line
    json: bool = False
    heredocs: tuple[str, ...] = ()

    def flag(self, name: str) -> str | None:
        """Value of ``--name=value`` (last one wins), or None."""
        found = None
        for f in self.flags:
            key, _, val = f.partition("=")
            if key == f"--{name}":
                found = val
        return found

    @property
    def text(self) -> str:
        """Command text a shell would run: shell form, JSON form and heredoc bodies alike."""
        return " ".join((*self.value, *self.heredocs))


@dataclass
class Stage:
    index: int
    base: str                     # image reference as written (may contain ${VAR})
    name: str | None              # "AS name", lower-cased as BuildKit does
    line: int
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, cmd: str) -> list[Instruction]:
        return [i for i in self.instructions if i.cmd == cmd]


@dataclass
class ParsedDockerfile:
    path: str
    global_args: dict[str, str | None]
    stages: list[Stage]
    preamble: list[Instruction] = field(default_factory=list)   # ARGs before the first FROM

    @property
    def final(self) -> Stage | None:
        return self.stages[-1] if self.stages else None

    def stage_named(self, ref: str) -> Stage | None:
        """The earlier stage a FROM/--from refers to (by name or index), else None."""
        ref_l = ref.lower()
        for s in self.stages:
            if s.name == ref_l or (ref.isdigit() and s.index == int(ref)):
                return s
        return None

    def parent_stage(self, stage: Stage) -> Stage | None:
        parent = self.stage_named(stage.base)
        return parent if parent is not None and parent.index < stage.index else None

    def lineage(self, stage: Stage) -> list[Stage]:
        """The stage, then the stages it is built FROM (nearest first)."""
        chain = [stage]
        while (parent := self.parent_stage(chain[-1])) is not None and parent not in chain:
            chain.append(parent)
        return chain


INSTRUCTIONS = frozenset({
    "FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT",
    "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
})

_VAR = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-+])?(?P<word>[^}]*)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")


def substitute(text: str, args: dict[str, str | None]) -> tuple[str, list[str]]:
    """Expand $VAR, ${VAR}, ${VAR:-default}, ${VAR:+alt} with ARG defaults.

    Returns (text, names of variables that have no value).
    """
    unresolved: list[str] = []

    def repl(m: re.Match) -> str:
        name = m.group("braced") or m.group("plain")
        value = args.get(name)
        op, word = m.group("op"), m.group("word") or ""
        if op in ("-", ":-"):
            return value if value else word
        if op in ("+", ":+"):
            return word if value else ""
        if value is None:
            unresolved.append(name)
            return ""
        return value

    return _VAR.sub(repl, text), unresolved


def _split_arg(item: str) -> tuple[str, str | None]:
    name, eq, default = item.partition("=")
    if not eq:
        return name, None
    if len(default) >= 2 and default[0] == default[-1] and default[0] in "\"'":
        default = default[1:-1]
    return name, default


def arg_items(instr: Instruction) -> list[tuple[str, str | None]]:
    return [_split_arg(v) for v in instr.value]


def env_items(instr: Instruction) -> list[tuple[str, str]]:
    """ENV pairs; BuildKit gives (k1, v1, k2, v2, ...) for both ``k=v`` and legacy ``k v`` forms."""
    vals = list(instr.value)
    pairs = []
    for k, v in zip(vals[0::2], vals[1::2]):
        if len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'":
            v = v[1:-1]
        pairs.append((k, v))
    return pairs


def parse_text(text: str, path: str = "Dockerfile") -> ParsedDockerfile:
    if not text.strip():
        raise DockerfileSyntaxError("empty Dockerfile: expected at least one FROM")
    try:
        commands = _buildkit.parse_string(text)
    except _buildkit.GoParseError as exc:
        message = str(exc).strip()
        m = re.search(r"line (\d+)", message)
        raise DockerfileSyntaxError(message, int(m.group(1)) if m else None) from None
    global_args: dict[str, str | None] = {}
    stages: list[Stage] = []
    preamble: list[Instruction] = []
    for c in commands:
        instr = Instruction(
            cmd=c.cmd.upper(), flags=tuple(c.flags), value=tuple(c.value), original=c.original,
            line=c.start_line, json=bool(c.json), heredocs=tuple(h.content for h in c.heredocs),
        )
        if instr.cmd not in INSTRUCTIONS:
            raise DockerfileSyntaxError(f"unknown instruction {c.cmd!r}", instr.line)
        if instr.cmd == "FROM":
            vals = list(instr.value)
            if not vals or not vals[0]:
                raise DockerfileSyntaxError("FROM needs an image", instr.line)
            name = vals[2].lower() if len(vals) >= 3 and vals[1].lower() == "as" else None
            stages.append(Stage(index=len(stages), base=vals[0] if vals else "", name=name, line=instr.line))
            continue
        if not stages:
            if instr.cmd == "ARG":
                global_args.update(arg_items(instr))
                preamble.append(instr)
                continue
            raise DockerfileSyntaxError(f"{instr.cmd} before the first FROM", instr.line)
        stages[-1].instructions.append(instr)
    if not stages:
        raise DockerfileSyntaxError("no FROM instruction")
    return ParsedDockerfile(path=path, global_args=global_args, stages=stages, preamble=preamble)


def parse_file(path: Path | str) -> ParsedDockerfile:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DockerfileSyntaxError(f"cannot read: {exc}") from None
    return parse_text(text, str(path))
