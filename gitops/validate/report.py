"""Output formats of ``gitops validate``: text (people), json (machines, stable), github (PR annotations)."""
from __future__ import annotations

import json

from .findings import Finding, ValidationReport
from .rules import RULES


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary_line(report: ValidationReport) -> str:
    envs = ", ".join(report.environments) or "no environment"
    status = "ok" if report.ok else "FAILED"
    return (f"{status}: {_plural(report.documents, 'document')} in {envs}: {_plural(len(report.errors), 'error')}, "
            f"{_plural(len(report.warnings), 'warning')}, {len(report.waived)} waived ({report.seconds:.2f}s)")


def _where(f: Finding) -> str:
    return f.file + (f":{f.line}" if f.line else "")


def format_text(report: ValidationReport) -> str:
    lines = []
    for f in report.findings:
        lines.append(f"{_where(f)}: {f.severity} {f.rule_id} {f.rule}: {f.message}")
        lines.append(f"    objects: {', '.join(f.objects)}" + (f"  (at {f.path})" if f.path else ""))
        lines.append(f"    fix: {f.fix}")
    if report.waived:
        lines.append("waived:")
        for f in report.waived:
            w = f.waiver
            lines.append(f"  {_where(f)}: {f.rule_id} {f.rule} on {', '.join(f.objects)}: {f.message}")
            lines.append(f"    waiver on {w.object} ({w.file}:{w.line}): {w.reason}")
    lines.append(summary_line(report))
    return "\n".join(lines)


def format_json(report: ValidationReport) -> str:
    return json.dumps(report.as_dict(), indent=2, sort_keys=True)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(report: ValidationReport) -> str:
    """GitHub Actions workflow commands: one ``::error``/``::warning`` annotation per finding."""
    lines = []
    for f in report.findings:
        level = "error" if f.severity == "error" else "warning"
        props = [f"file={_escape_property(f.file)}"]
        if f.line:
            props.append(f"line={f.line}")
        props.append(f"title={_escape_property(f'{f.rule_id} {f.rule}')}")
        body = f"{f.message} [{', '.join(f.objects)}] Fix: {f.fix}"
        lines.append(f"::{level} {','.join(props)}::{_escape_data(body)}")
    for f in report.waived:
        lines.append(f"::notice file={_escape_property(f.file)}"
                     + (f",line={f.line}" if f.line else "")
                     + f"::{_escape_data(f'{f.rule_id} waived on {f.waiver.object}: {f.waiver.reason}')}")
    lines.append(summary_line(report))
    return "\n".join(lines)


def format_rules(fmt: str = "text") -> str:
    if fmt == "json":
        return json.dumps([r.as_dict() for r in RULES.values()], indent=2)
    width = max(len(r.name) for r in RULES.values())
    out = []
    for r in RULES.values():
        out.append(f"{r.id}  {r.severity:<7}  {r.name:<{width}}  {r.summary}")
        out.append(f"{'':6}  {'':7}  {'':<{width}}  why: {r.rationale}")
    return "\n".join(out)


FORMATTERS = {"text": format_text, "json": format_json, "github": format_github}
