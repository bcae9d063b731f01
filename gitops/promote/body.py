"""Pull request title, body (Markdown) and commit message of a promotion or rollback.

Deterministic (no timestamps): re-running the same promotion produces the same text,
so updating the pull request is a no-op unless something really changed.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from ..ops.diff import SemanticDiff
from .gates import Gate

MAX_BODY = 60_000  # GitHub rejects bodies over 65,536 characters


@dataclass
class ServiceChange:
    name: str
    old: dict            # promotable values in the target before
    new: dict            # promotable values after
    reviewers: tuple[str, ...] = ()


@dataclass
class Plan:
    action: str                      # promote | rollback
    target: str
    source: str | None               # environment promoted from (promote)
    changes: list[ServiceChange]
    promotion_id: str
    branch: str
    base_branch: str
    source_commit: str               # HEAD the promotion was built from
    base_commit: str                 # dist/<target> compared against this commit
    reason: str | None = None
    gates: list[Gate] = field(default_factory=list)
    diff: SemanticDiff | None = None
    rollback_of: str | None = None
    restored_from: str | None = None
    web: str | None = None           # https://github.com/<owner>/<repo>
    warnings: list[str] = field(default_factory=list)
    evidence: list = field(default_factory=list)   # gitops.promote.evidence.Evidence, one per promoted component
    evidence_window: str = ""                      # the target's soak, e.g. "24h"

    @property
    def services(self) -> list[str]:
        return [c.name for c in self.changes]

    @property
    def skipped_gates(self) -> list[Gate]:
        return [g for g in self.gates if g.status == "skipped" and g.name != "validation"]


def short_digest(digest) -> str:
    if not digest:
        return ""
    digest = str(digest)
    algo, _, hexpart = digest.partition(":")
    return f"{algo}:{hexpart[:12]}" if hexpart else digest[:19]


def version_of(values: dict) -> str:
    tag = values.get("image.tag")
    if tag is None:
        return "(none)"
    digest = values.get("image.digest")
    return f"{tag}@{short_digest(digest)}" if digest else str(tag)


def _one_line(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def title(plan: Plan) -> str:
    parts = [f"{c.name} {c.new.get('image.tag', '')}".strip() for c in plan.changes]
    listed = ", ".join(parts) if len(parts) <= 3 else f"{len(parts)} services"
    if plan.action == "rollback":
        return f"Roll back {plan.target}: {listed}"
    return f"Promote {plan.source} → {plan.target}: {listed}"


def _listing(plan: Plan) -> str:
    return ", ".join(f"{c.name} {c.new.get('image.tag', '')}".strip() for c in plan.changes[:3])


def commit_message(plan: Plan) -> str:
    names = ", ".join(plan.services)
    if plan.action == "rollback":
        subject = f"rollback({plan.target}): restore {_listing(plan)}"
        intro = (f"Roll back {plan.target} to the versions of {plan.restored_from[:12]}"
                 + (f" (before promotion {plan.rollback_of[:12]})" if plan.rollback_of else "") + ".")
    else:
        subject = f"promote({plan.target}): {_listing(plan)} from {plan.source}"
        intro = f"Promote {len(plan.changes)} service(s) from {plan.source} to {plan.target}."
    if len(plan.changes) > 3:
        subject = f"{plan.action}({plan.target}): {len(plan.changes)} services" + (f" from {plan.source}" if plan.source else "")
    lines = [subject, "", intro, ""]
    lines += [f"- {c.name}: {version_of(c.old)} -> {version_of(c.new)}" for c in plan.changes]
    lines.append("")
    trailers = []
    if plan.action == "rollback":
        if plan.rollback_of:
            trailers.append(("Rollback-Of", plan.rollback_of))
        trailers.append(("Restored-From", plan.restored_from or ""))
        trailers.append(("Environment", plan.target))
    else:
        trailers.append(("Promoted-From", plan.source or ""))
        trailers.append(("Promoted-To", plan.target))
    trailers.append(("Source-Commit", plan.source_commit))
    trailers.append(("Services", names))
    trailers.append(("Promotion-Id", plan.promotion_id))
    for gate in plan.skipped_gates:
        trailers.append(("Gate-Skipped", f"{gate.name}: {_one_line(plan.reason)}"))
    if plan.reason:
        trailers.append(("Reason", _one_line(plan.reason)))
    lines += [f"{k}: {v}" for k, v in trailers]
    return "\n".join(lines) + "\n"


def _link(plan: Plan, sha: str | None, label: str | None = None) -> str:
    if not sha:
        return "-"
    text = f"`{label or sha[:12]}`"
    return f"[{text}]({plan.web}/commit/{sha})" if plan.web else text


def _cell(text: str) -> str:
    return _one_line(text).replace("|", "/") or "-"


def _evidence(plan: Plan) -> list[str]:
    """What the source environment's Argo CD and Prometheus said (the soak and alerts gates' evidence)."""
    window = plan.evidence_window
    out = [f"### Evidence from `{plan.source}`", "",
           f"Read from `{plan.source}`'s Argo CD and Prometheus when this pull request was built; soak required by "
           f"`{plan.target}`: **{window}**.", "",
           f"| service | sync | health | synced revision | since | critical alerts ({window}) | canary analysis ({window}) | links |",
           "|---|---|---|---|---|---|---|---|"]
    for e in plan.evidence:
        alerts = ("-" if e.critical_alerts is None else
                  f"**{len(e.critical_alerts)}**: {', '.join(e.critical_alerts)}" if e.critical_alerts else "0")
        analysis = ("-" if e.analysis is None else "; ".join(f"`{a}`" for a in e.analysis) if e.analysis else "none")
        links = [f"[Argo CD]({e.argocd_url})" if e.argocd_url else "", f"[Grafana]({e.grafana_url})" if e.grafana_url else ""]
        out.append(f"| `{e.component}` | {_cell(e.sync)} | {_cell(e.health)} | {_link(plan, e.revision) if e.revision else '-'} "
                   f"| {_cell(e.since)} | {alerts} | {analysis} | {' · '.join(x for x in links if x) or '-'} |")
    problems = [f"- `{e.component}`: {_one_line(p)}" for e in plan.evidence for p in e.problems]
    out += [""] + problems + ([""] if problems else [])
    return out


def body(plan: Plan, *, max_resources: int = 150) -> str:
    text = _body(plan, max_resources)
    while len(text) > MAX_BODY and max_resources > 5:
        max_resources //= 2
        text = _body(plan, max_resources)
    return text[:MAX_BODY]


def _body(plan: Plan, max_resources: int) -> str:
    out: list[str] = []
    if plan.action == "rollback":
        out.append(f"## ⏪ Roll back `{plan.target}`")
        out.append("")
        out.append(f"Restores the promoted versions of `{plan.target}` from {_link(plan, plan.restored_from)}"
                   + (f", i.e. undoes promotion {_link(plan, plan.rollback_of)}" if plan.rollback_of else "")
                   + ". This is a new commit: history is not rewritten.")
    else:
        out.append(f"## 🚀 Promote `{plan.source}` → `{plan.target}`")
        out.append("")
        out.append(f"Moves the versions of **{len(plan.changes)}** service(s) from `environments/{plan.source}.yaml` "
                   f"to `environments/{plan.target}.yaml`; everything local to `{plan.target}` (replicas, resources, "
                   "hosts, secret store...) is unchanged.")
    out.append("")
    out.append("| | |")
    out.append("|---|---|")
    if plan.source:
        out.append(f"| from | `{plan.source}` |")
    out.append(f"| to | `{plan.target}` |")
    out.append(f"| services | {', '.join(f'`{s}`' for s in plan.services)} |")
    out.append(f"| promotion id | `{plan.promotion_id}` |")
    if plan.reason:
        out.append(f"| reason | {_one_line(plan.reason).replace('|', '/')} |")
    out.append("")

    out.append("### Images")
    out.append("")
    out.append("| service | tag | digest |")
    out.append("|---|---|---|")
    for c in plan.changes:
        ot, nt = c.old.get("image.tag"), c.new.get("image.tag")
        od, nd = c.old.get("image.digest"), c.new.get("image.digest")
        tag = f"`{ot}` → **`{nt}`**" if ot != nt else f"`{nt}` (unchanged)"
        if od == nd:
            digest = f"`{short_digest(nd)}` (unchanged)" if nd else "-"
        else:
            digest = f"{f'`{short_digest(od)}`' if od else '_none_'} → **{f'`{short_digest(nd)}`' if nd else '_none_'}**"
        out.append(f"| `{c.name}` | {tag} | {digest} |")
    out.append("")

    out.append(f"### Rendered changes in `dist/{plan.target}`")
    out.append("")
    if plan.diff is not None:
        out.append(plan.diff.to_markdown(max_resources=max_resources).rstrip())
    else:
        out.append("_not computed_")
    out.append("")

    if plan.evidence:
        out += _evidence(plan)

    out.append("### Gates")
    out.append("")
    out += [g.markdown() for g in plan.gates]
    for w in plan.warnings:
        out.append(f"- ⚠️ {w}")
    out.append("")

    out.append("### Commits")
    out.append("")
    out.append(f"- Built from: {_link(plan, plan.source_commit)}"
               + (f" (`environments/{plan.source}.yaml` as promoted)" if plan.source else ""))
    out.append(f"- Rendered diff against: {_link(plan, plan.base_commit)} (`{plan.base_branch}`)")
    if plan.web:
        out.append(f"- Compare: [{plan.base_branch}...{plan.branch}]({plan.web}/compare/{plan.base_branch}...{plan.branch})")
    out.append("")

    out.append("### Reviewer checklist")
    out.append("")
    if plan.action == "rollback":
        out += [f"- [ ] The restored versions are the last known good ones for `{plan.target}`",
                "- [ ] The rendered diff only changes images (and the labels/annotations derived from them)",
                f"- [ ] A hold is in place if promotions must stay stopped (`gitops hold --env {plan.target} --reason ...`)",
                "- [ ] After merge: sync in Argo CD and watch the rollout"]
    else:
        out += [f"- [ ] These versions were verified in `{plan.source}` (tests, dashboards, error rates)",
                "- [ ] The rendered diff changes only what this promotion intends (no unexpected replicas, resources, "
                "env, ports or RBAC changes)",
                "- [ ] Every gate above passed, or a skipped gate is justified by the reason",
                f"- [ ] No incident or freeze in progress for `{plan.target}` (`gitops hold --env {plan.target}` stops promotions)",
                f"- [ ] Rollback path known: `gitops rollback --env {plan.target}`"]
    out.append("")
    marker = {"action": plan.action, "from": plan.source, "to": plan.target, "id": plan.promotion_id,
              "services": plan.services}  # read by the status page (gitops/ops/status_data.py) to place the PR on its rows
    out.append("<sub>Generated by `gitops " + ("rollback" if plan.action == "rollback" else "promote")
               + "`; re-running it with the same content updates this pull request.</sub>")
    out.append(f"<!-- gitops-promotion {json.dumps(marker, sort_keys=True)} -->")
    return "\n".join(out) + "\n"
