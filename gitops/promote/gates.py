"""Promotion gates: each returns a :class:`Gate` (passed, failed, skipped or warning).

The orchestration evaluates every gate it can before any side effect and reports all
failures at once; a failed gate stops the promotion with exit code 1.

Every gate a promotion can report is listed once, in ``GATES`` (name, rule, bypass), in the order a PR
body shows them; docs/promotion.md's gate table lists the same names (tests/test_promote_gates_doc.py).
"""
from __future__ import annotations

import io
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import yaml

from ..errors import GitopsError
from ..inputs.model import Platform
from ..validate import run_validation
from ..validate.report import format_text
from .envfile import plain_values, values_of
from .git import Git
from .holds import hold_relpath, parse_hold, read_hold

ICONS = {"passed": "✅", "failed": "❌", "skipped": "⚠️", "warning": "⚠️"}

# (name, rule, bypass) of every gate, in the order a promotion evaluates and reports them.
GATES: tuple[tuple[str, str, str], ...] = (
    ("order", "the source is the target's promotesFrom", "--skip-gate order --reason TEXT (recorded in the PR and commit)"),
    ("checkout", "clean worktree, on a branch (not detached)", "none"),
    ("hold", "no holds/<target>.yaml locally or on the remote default branch", "gitops release"),
    ("up-to-date", "on the default branch, HEAD is not behind the remote default branch "
                   "(a stale checkout would promote old state)", "none (git pull --ff-only)"),
    ("default-branch", "production (an environment nothing promotes from) only receives versions that the "
                       "source environment has on the remote default branch", "none"),
    ("soak", "the source's Argo CD shows each promoted component's Application Synced at a revision that contains "
             "the promoted version, Healthy, for at least the target's `soak` (gitops/promote/evidence.py)",
     "--skip-gate soak --reason TEXT; `soak: 0s` on the target turns it off"),
    ("alerts", "the source's Prometheus shows no critical alert of the promoted components and no failed canary "
               "analysis (AnalysisRun) during the last `soak`", "--skip-gate alerts --reason TEXT; `soak: 0s` on the target"),
    ("validation", "gitops.validate.run_validation passes on the re-rendered target", "none"),
)
# Gates a user may skip with --skip-gate NAME --reason TEXT (the others have no bypass).
SKIPPABLE = ("order", "soak", "alerts")


@dataclass(frozen=True)
class Gate:
    name: str
    status: str  # passed | failed | skipped | warning
    message: str
    details: str = ""

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def markdown(self) -> str:
        line = f"- {ICONS[self.status]} **{self.name}** ({self.status}): {self.message}"
        if self.details:
            line += "\n\n  <details><summary>details</summary>\n\n  ```\n" + "\n".join(
                "  " + x for x in self.details.strip().splitlines()[:60]) + "\n  ```\n  </details>"
        return line

    def text(self) -> str:
        return f"[{self.status}] {self.name}: {self.message}"

    def as_dict(self) -> dict:
        return {"name": self.name, "status": self.status, "message": self.message}


class GateFailed(GitopsError):
    def __init__(self, gates: list[Gate]):
        failed = [g for g in gates if g.failed]
        lines = [f"promotion refused by {len(failed)} gate(s):"] + [f"  - {g.name}: {g.message}" for g in failed]
        for g in failed:
            if g.details:
                lines.append(f"  {g.name} details:")
                lines += ["    " + x for x in g.details.strip().splitlines()[:40]]
        super().__init__("\n".join(lines))
        self.gates = gates


def order_gate(platform: Platform, source: str, target: str, skip: bool, reason: str | None, who: str = "") -> Gate:
    expected = platform.environment(target).promotes_from
    if expected == source:
        return Gate("order", "passed", f"`{source}` is the predecessor of `{target}` (promotesFrom)")
    why = (f"`{target}` promotes from `{expected}`, not `{source}`" if expected
           else f"`{target}` is the start of the chain (promotesFrom: null); nothing promotes into it")
    if skip:
        return Gate("order", "skipped", f"{why}; gate skipped{f' by {who}' if who else ''}: {reason}")
    return Gate("order", "failed", f"{why}. Promote `{expected or '-'}` -> `{target}`, or pass "
                                   f"--skip-gate order --reason TEXT (recorded in the PR and commit)")


def checkout_gate(git: Git) -> Gate:
    branch = git.current_branch()
    if branch is None:
        return Gate("checkout", "failed", "HEAD is detached: check out a branch (usually the default branch) first")
    dirty = git.dirty()
    if dirty:
        shown = ", ".join(dirty[:5]) + (" ..." if len(dirty) > 5 else "")
        return Gate("checkout", "failed", f"the worktree has uncommitted changes ({shown}): commit or stash them; "
                                          "a promotion is built from HEAD and must not silently leave them out")
    return Gate("checkout", "passed", f"clean worktree on branch `{branch}`")


def hold_gate(root: Path, git: Git, env: str, remote_ref: str | None) -> Gate:
    local = read_hold(root, env)
    remote = parse_hold(env, git.show(remote_ref, hold_relpath(env)), f"{remote_ref}:{hold_relpath(env)}") if remote_ref else None
    hold = local or remote
    if hold:
        where = "in this checkout" if local else f"on {remote_ref.replace('refs/remotes/', '')}"
        return Gate("hold", "failed", f"{hold.describe()} ({hold_relpath(env)} {where}); "
                                      f"`gitops release --env {env}` lifts it")
    return Gate("hold", "passed", f"no hold on `{env}`")


def default_branch_gate(git: Git, source: str, target: str, remote_ref: str, promoted: dict[str, dict]) -> Gate:
    """Production only receives versions that the source environment already runs on the default branch."""
    label = remote_ref.replace("refs/remotes/", "")
    text = git.show(remote_ref, f"environments/{source}.yaml")
    if text is None:
        return Gate("default-branch", "failed", f"environments/{source}.yaml does not exist on {label}")
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        return Gate("default-branch", "failed", f"environments/{source}.yaml on {label} is not valid YAML: {exc}")
    mismatches = []
    for name, values in sorted(promoted.items()):
        on_main = plain_values(values_of(((data.get("components") or {}).get(name))))
        if on_main != plain_values(values):
            mismatches.append(f"{name} {_fmt(values)} (on {label}: {_fmt(on_main) or 'absent'})")
    if mismatches:
        return Gate("default-branch", "failed",
                    f"promoting to `{target}` needs versions that `{source}` runs on {label}; not there yet: "
                    + "; ".join(mismatches) + f". Merge the `{source}` promotion first (and fetch).")
    return Gate("default-branch", "passed", f"every promoted version is what `{source}` runs on {label}")


def _fmt(values: dict) -> str:
    tag = values.get("image.tag")
    digest = values.get("image.digest")
    return f"{tag}" + (f"@{str(digest)[:19]}…" if digest else "") if tag else ", ".join(f"{k}={v}" for k, v in values.items())


Validator = Callable[[Path, str], Gate]


def default_validator(root: Path, env: str, schema_locations: list[str] | None = None) -> Gate:
    """Run `gitops validate` (gitops.validate.run_validation) on one environment of ``root``.

    ``root`` is the temporary worktree: a checkout of the repository, so it validates against the
    CRD schemas it commits (gitops/schemas/crds); ``schema_locations`` are extra locations.
    """
    with redirect_stdout(io.StringIO()):
        report = run_validation(root, envs=[env], schema_locations=list(schema_locations or []) or None)
    counts = f" ({len(report.errors)} error(s), {len(report.warnings)} warning(s))"
    if report.ok:
        return Gate("validation", "passed", f"`gitops validate` passed for `{env}`" + counts)
    return Gate("validation", "failed", f"`gitops validate` found problems in `{env}`" + counts, format_text(report))
