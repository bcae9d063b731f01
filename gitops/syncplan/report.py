"""`gitops sync-plan` output: text for people, json for machines."""
from __future__ import annotations

import json

from ..validate.k8s import LONG_RUNNING
from . import order
from .model import AppPlan, Plan, Step
from .providers import is_builtin


def _wait(step: Step) -> str:
    if step.hook:
        return "waits until the hook completes; a failure fails the sync"
    if step.kind == "ExternalSecret":
        return "waits until Ready (its Secret is written)"
    if step.kind in LONG_RUNNING:
        return "waits until rolled out"
    return ""


def _crds(plan: Plan, app: AppPlan) -> list[str]:
    used = sorted({(s.group, s.kind) for s in app.steps if not is_builtin(s.group, s.kind)})
    return [f"{kind} ({group}) from {app.name if group in app.provides else plan.provider_of(group, kind)}"
            for group, kind in used]


def plan_dict(plan: Plan) -> dict:
    def app_dict(app: AppPlan) -> dict:
        return {
            "name": app.name, "wave": app.wave, "project": (app.doc.data.get("spec") or {}).get("project"),
            "sources": app.sources, "provides_crds": list(app.provides),
            "skip_dry_run_on_missing_resource": app.options.get("SkipDryRunOnMissingResource") == "true",
            "crds_from": _crds(plan, app),
            "steps": [{"phase": s.phase, "wave": s.wave, "kind": s.kind, "group": s.group, "name": s.name,
                       "hook": s.hook, "file": s.doc.file if s.doc is not None else None, "waits": _wait(s),
                       "note": s.note} for s in app.steps],
            "stalls": [x.as_dict() for x in plan.stalls if x.app is app],
        }
    return {
        "version": 1, "environment": plan.env, "ok": not plan.stalls,
        "bootstrap": {"installer": "infra/terraform/modules/argocd",
                      "root": plan.root.name if plan.root else None,
                      "root_sources": plan.root.sources if plan.root else []},
        "root_order": [{"kind": d.kind, "name": d.name, "wave": order.wave(d.annotations)} for d in plan.children],
        "applications": [app_dict(a) for a in plan.apps],
        "stalls": [x.as_dict() for x in plan.stalls],
    }


def format_json(plan: Plan) -> str:
    return json.dumps(plan_dict(plan), indent=2, sort_keys=True)


def format_text(plan: Plan) -> str:
    lines = [f"sync plan of {plan.env}: how Argo CD brings it up from an empty cluster", ""]
    root = plan.root.name if plan.root else "(none)"
    lines.append(f"0. terraform (infra/terraform/modules/argocd) installs Argo CD, the root Application {root} "
                 "and its AppProject")
    lines.append(f"1. {root} syncs {', '.join(plan.root.sources) if plan.root else '?'}; it applies its children by wave "
                 "and waits for each wave to be healthy (Application health check in argocd-cm):")
    for d in plan.children:
        lines.append(f"     wave {order.wave(d.annotations):>4}  {d.kind} {d.name}")
    lines.append("2. each Application applies its resources by phase, wave, kind (gitops-engine sync_tasks.go), "
                 "waiting for each wave:")
    for app in plan.apps:
        lines.append("")
        skip = " SkipDryRunOnMissingResource" if app.options.get("SkipDryRunOnMissingResource") == "true" else ""
        lines.append(f"  [wave {app.wave}] Application {app.name} <- {', '.join(app.sources) or '?'}{skip}")
        if app.provides:
            lines.append(f"      provides CRDs: {', '.join(app.provides)}")
        crds = _crds(plan, app)
        if crds:
            lines.append(f"      needs CRDs: {'; '.join(crds)}")
        for s in app.steps:
            wait = _wait(s)
            hook = " (hook)" if s.hook else ""
            lines.append(f"      {s.phase:<8} {s.wave:>3}  {s.kind} {s.name}{hook}" + (f"  -- {wait}" if wait else "")
                         + (f"  [{s.note}]" if s.note else ""))
    lines.append("")
    if plan.stalls:
        lines.append(f"STALLS ({len(plan.stalls)}):")
        for x in plan.stalls:
            where = f"Application {x.app.name}" if x.app else "AppProject"
            res = x.doc.ref if x.doc is not None else ""
            lines.append(f"  {x.rule_id} {where}: {res}: {x.message}")
            lines.append(f"      fix: {x.fix}")
    else:
        lines.append("no step waits forever or fails")
    return "\n".join(lines)
