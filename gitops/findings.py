"""The one finding record and JSON contract of every command that reports findings.

``gitops validate``, ``gitops capacity``, ``gitops inventory check`` and ``gitops dockerfile lint``
all report :class:`Finding` objects, and their ``--format json`` output is one envelope
(:func:`report_document`)::

    {"version": 1, "ok": bool,
     "summary": {"errors": N, "warnings": N, "infos": N[, "waived": N]},
     "findings": [ {rule_id, rule, severity, message, fix, file, line, path, env, component,
                    objects, source}, ... ],
     ...command-specific keys (e.g. "environments", "dockerfiles", "waived")}

Every finding key is always present (``null`` / ``""`` / ``[]`` when it does not apply), so a
consumer reads every command the same way. ``severity`` is ``error`` (fails the command, exit 1),
``warning`` or ``info``; ``source`` says which checker produced it (``gitops`` or ``hadolint``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

SEVERITIES = ("error", "warning", "info")
CONTRACT_VERSION = 1


@dataclass(eq=True)
class Finding:
    rule_id: str
    severity: str
    message: str
    fix: str = ""
    file: str = ""
    line: int | None = None
    path: str = ""                      # field path inside the object or file, e.g. spec.replicas
    env: str | None = None
    component: str | None = None
    objects: list[str] = field(default_factory=list)   # "Kind/namespace/name", primary object first
    source: str = "gitops"
    rule: str = ""                      # the rule's short name
    waiver: object | None = field(default=None, compare=False)   # validate's Waiver when waived

    def __post_init__(self):
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, found {self.severity!r}")
        self.objects = list(self.objects)

    def __hash__(self) -> int:
        return hash((self.rule_id, self.severity, self.message, self.file, self.line, self.path, self.env,
                     self.component, tuple(self.objects), self.source))

    def sort_key(self) -> tuple:
        return (self.file, self.line or 0, self.rule_id, self.env or "", self.component or "", self.path, self.message)

    @property
    def where(self) -> str:
        if self.file:
            return self.file + (f":{self.line}" if self.line else "")
        return self.component or self.env or ""

    def __str__(self) -> str:
        scope = f" [{self.env}]" if self.env else ""
        return f"{self.where}: {self.rule_id} {self.severity}{scope}: {self.message}"

    def as_dict(self) -> dict:
        out = {"rule_id": self.rule_id, "rule": self.rule, "severity": self.severity, "message": self.message,
               "fix": self.fix, "file": self.file or None, "line": self.line, "path": self.path, "env": self.env,
               "component": self.component, "objects": list(self.objects), "source": self.source}
        if self.waiver is not None:
            out["waiver"] = self.waiver.as_dict()
        return out


def summary(findings: Iterable[Finding]) -> dict:
    counts = {"errors": 0, "warnings": 0, "infos": 0}
    for f in findings:
        counts[f"{f.severity}s"] += 1
    return counts


def report_document(findings: list[Finding], ok: bool | None = None, **extra) -> dict:
    """The JSON envelope every findings command prints; ``ok`` defaults to "no error-level finding"."""
    counts = summary(findings)
    if "waived" in extra:   # commands with waivers (validate) count them too
        counts["waived"] = len(extra["waived"])
    return {"version": CONTRACT_VERSION, "ok": counts["errors"] == 0 if ok is None else ok, "summary": counts,
            "findings": [f.as_dict() for f in findings], **extra}
