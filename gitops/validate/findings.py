"""Findings and the validation report (the public result of ``run_validation``)."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..findings import Finding, report_document
from .documents import Doc


def format_path(path: tuple) -> str:
    """('spec', 'containers', 0, 'image') -> 'spec.containers[0].image'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


@dataclass
class Hit:
    """A finding as a check produces it: the primary object and field; file and line are resolved later."""

    rule_id: str
    doc: Doc | None
    path: tuple
    message: str
    fix: str
    others: list = field(default_factory=list)   # other involved objects: Doc or "Kind/ns/name"
    file: str | None = None                      # only when there is no document (e.g. a removed folder)
    line: int | None = None
    env: str | None = None

    def objects(self) -> list[str]:
        refs = [self.doc.ref] if self.doc is not None else []
        for other in self.others:
            ref = other.ref if isinstance(other, Doc) else str(other)
            if ref not in refs:
                refs.append(ref)
        return refs


@dataclass
class Waiver:
    rule_id: str
    reason: str
    object: str   # the object carrying the annotation
    file: str
    line: int | None

    def as_dict(self) -> dict:
        return {"rule_id": self.rule_id, "reason": self.reason, "object": self.object, "file": self.file, "line": self.line}


@dataclass
class ValidationReport:
    findings: list[Finding] = field(default_factory=list)   # not waived
    waived: list[Finding] = field(default_factory=list)     # waived (each has .waiver)
    documents: int = 0
    environments: list[str] = field(default_factory=list)
    schema_locations: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def by_rule(self, rule_id: str) -> list[Finding]:
        return [f for f in self.findings if f.rule_id == rule_id]

    def as_dict(self) -> dict:
        return report_document(self.findings, documents=self.documents, environments=list(self.environments),
                               waived=[f.as_dict() for f in self.waived])
