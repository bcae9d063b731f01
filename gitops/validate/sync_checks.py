"""ARG005-ARG009: the sync-plan model (gitops/syncplan/model.py) run as validation rules.

Every stall the model finds in an environment (a step Argo CD would wait on forever, or fail)
becomes a finding of its rule, with the model's fix hint."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

from ..inputs.model import Platform
from .documents import Doc
from .findings import Hit


def check_sync_plans(root: Path, platform: Platform, argo_docs: list[Doc], dist_docs: list[Doc],
                     envs: list[str]) -> Iterator[Hit]:
    from ..syncplan.model import build_plan

    for env in envs:
        plan = build_plan(root, env, argo_docs, [d for d in dist_docs if d.env == env], platform.repo_url)
        for stall in plan.stalls:
            yield Hit(stall.rule_id, stall.doc, stall.path, stall.message, stall.fix, list(stall.others), env=env)
