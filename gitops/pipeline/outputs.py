"""Registry of everything `gitops synth` generates besides dist/<env>/.

Ownership follows Tanka's export rule: every generated path is owned by exactly one
environment (``ENV_TREES``, ``ENV_FILES``) or by the platform as a whole
(``GLOBAL_FILES``). Replacing one environment never touches another's paths.

Renderers are imported lazily by dotted name so this module stays import-light.
"""
from __future__ import annotations

import importlib
from typing import Callable

# (path template with {env}, "module:function(platform, env) -> dict[relpath, bytes]")
# Folders: replaced as a whole (stale files disappear).
ENV_TREES: list[tuple[str, str]] = [
    ("dist/{env}", "gitops.pipeline.render:render_environment"),
    ("argocd/{env}", "gitops.pipeline.argocd_render:render_argocd"),
]

# (path template with {env}, "module:function(platform, env) -> bytes")
ENV_FILES: list[tuple[str, str]] = [
    ("infra/terraform/environments/{env}/generated.auto.tfvars.json", "gitops.generated.tfvars:render_tfvars"),
]

# (path, "module:function(platform) -> bytes")
GLOBAL_FILES: list[tuple[str, str]] = [
    (".github/CODEOWNERS", "gitops.generated.codeowners:render_codeowners"),
    ("docs/autoscaling-playbook.md", "gitops.generated.playbook:render_playbook"),
    ("docs/service-inventory.md", "gitops.generated.inventory_report:render_markdown"),
    ("docker-compose.dev.yml", "gitops.generated.compose:render_compose"),
]


def resolve_renderer(spec: str) -> Callable:
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)
