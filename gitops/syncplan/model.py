"""A model of how Argo CD brings one environment up from an empty cluster, built from argocd/ and dist/.

Terraform installs Argo CD with the root Application and its AppProject; the root syncs
argocd/<env>/ and applies its children (AppProjects, Applications) in wave order; each child
Application then applies its own resources in Argo CD's order (gitops/syncplan/order.py). The
model lists that order and the places where a step would wait or fail (``Stall``); ``gitops
sync-plan`` prints it and ``gitops validate`` reports the stalls as ARG005-ARG009 findings.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..validate.argocd_checks import _manifests_under, _norm_url, _path_source, _sources
from ..errors import InputError
from ..validate.documents import Doc, parse_documents
from ..validate.k8s import LONG_RUNNING, dig, pod_template
from . import order
from .providers import BOOTSTRAP, BOOTSTRAP_KINDS, CRD_GROUPS_BY_CHART, is_builtin, rendered_cr_kinds

RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"
RUNS_BEFORE = "meetinity.io/runs-before"
WORKLOAD_LAYER = "workload"
PROTECTED_KINDS = ("Namespace", "ClusterSecretStore")
# Long-running workloads (Deployment, StatefulSet, DaemonSet, Argo Rollouts Rollout...): one list, validate/k8s.py.
WORKLOAD_KINDS = LONG_RUNNING


@dataclass
class Step:
    """One resource of an Application, where Argo CD applies it."""

    doc: Doc | None               # None for what a Helm chart renders (only known from its values)
    group: str
    kind: str
    name: str
    phase: str
    wave: int
    hook: bool = False
    note: str = ""

    @property
    def key(self) -> tuple:
        return order.sort_key(self.phase, self.wave, self.kind, self.name)

    def label(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass
class AppPlan:
    doc: Doc
    wave: int
    sources: list[str]            # repo paths, or "chart <name> <version>"
    steps: list[Step] = field(default_factory=list)
    provides: tuple[str, ...] = ()  # CRD API groups this Application installs

    @property
    def name(self) -> str:
        return self.doc.name

    @property
    def options(self) -> dict[str, str]:
        return order.sync_options(dig(self.doc.data, "spec", "syncPolicy", "syncOptions") or [])

    def skip_dry_run(self, step: Step) -> bool:
        own = order.sync_options(step.doc.annotations.get(order.SYNC_OPTIONS)) if step.doc is not None else {}
        return own.get("SkipDryRunOnMissingResource", self.options.get("SkipDryRunOnMissingResource")) == "true"


@dataclass
class Stall:
    """A step that would wait forever or fail, with the rule that reports it in ``gitops validate``."""

    rule_id: str
    app: AppPlan | None
    doc: Doc | None               # the resource (or Application / AppProject) at fault
    path: tuple
    message: str
    fix: str
    others: list = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"rule_id": self.rule_id, "application": self.app.name if self.app else None,
                "resource": self.doc.ref if self.doc is not None else None,
                "file": self.doc.file if self.doc is not None else None, "message": self.message, "fix": self.fix}


@dataclass
class Plan:
    env: str
    root: AppPlan | None
    children: list[Doc]           # AppProjects and Applications the root applies, in its order
    apps: list[AppPlan]           # child Applications in wave order
    stalls: list[Stall] = field(default_factory=list)

    def provider_of(self, group: str, kind: str) -> str:
        if (group, kind) in BOOTSTRAP_KINDS:
            return BOOTSTRAP
        if is_builtin(group, kind):
            return "built in"
        providers = [a for a in self.apps if group in a.provides]
        return providers[0].name if providers else "nobody"


# ---------------------------------------------------------------------------------------------
# building the plan
# ---------------------------------------------------------------------------------------------

def _child_key(d: Doc) -> tuple:
    return (order.wave(d.annotations), order.KIND_ORDER.get(d.kind, 0), d.name)


def _step(d: Doc) -> Step:
    phases = order.hook_phases(d.annotations)
    return Step(d, d.group, d.kind, d.name, phases[0] if phases else "Sync", order.wave(d.annotations), bool(phases))


def _read(root: Path, rel: str, by_file: dict[str, list[Doc]]) -> list[Doc]:
    docs = by_file.get(rel)
    if docs is None:
        try:
            parsed = parse_documents((root / rel).read_text(encoding="utf-8"), rel)
        except (InputError, OSError, UnicodeDecodeError):
            return []
        docs = [Doc(rel, i, line, data, None, "other") for i, (line, data) in enumerate(parsed)
                if isinstance(data, dict) and data.get("kind")]
        by_file[rel] = docs
    return docs


def _app_plan(root: Path, app: Doc, repo_urls: set[str], by_file: dict[str, list[Doc]]) -> AppPlan:
    plan = AppPlan(app, order.wave(app.annotations), [])
    provides: list[str] = []
    for _, src in _sources(app):
        if src.get("chart"):
            chart = str(src["chart"])
            plan.sources.append(f"chart {chart} {src.get('targetRevision', '')}".strip())
            provides += CRD_GROUPS_BY_CHART.get(chart, ())
            for group, kind, where in rendered_cr_kinds(dig(src, "helm", "valuesObject") or {}):
                plan.steps.append(Step(None, group, kind, f"(chart {chart}, values {where})", "Sync", 0,
                                       note="rendered by the chart"))
            continue
        rel = _path_source(src, repo_urls)
        if rel is None:
            continue
        plan.sources.append(rel)
        files, _ = _manifests_under(root / rel, bool(dig(src, "directory", "recurse")))
        for f in files:
            for d in _read(root, f.relative_to(root).as_posix(), by_file):
                plan.steps.append(_step(d))
                if d.kind == "CustomResourceDefinition":
                    provides.append(str(dig(d.data, "spec", "group") or ""))
    plan.provides = tuple(sorted(set(provides)))
    plan.steps.sort(key=lambda s: s.key)
    return plan


def build_plan(root: Path, env: str, argo_docs: list[Doc], dist_docs: list[Doc], repo_url: str) -> Plan:
    root = Path(root)
    by_file: dict[str, list[Doc]] = {}
    for d in dist_docs + argo_docs:
        by_file.setdefault(d.file, []).append(d)
    repo_urls = {_norm_url(repo_url)}
    env_docs = [d for d in argo_docs if d.env == env and d.group == "argoproj.io"]
    apps = [d for d in env_docs if d.kind == "Application"]
    root_doc = next((a for a in apps if _path_source(dict(dig(a.data, "spec", "source") or {}), repo_urls) == f"argocd/{env}"), None)
    children = sorted([d for d in env_docs if d is not root_doc], key=_child_key)
    plans = [_app_plan(root, a, repo_urls, by_file) for a in sorted(apps, key=_child_key) if a is not root_doc]
    plan = Plan(env, _app_plan(root, root_doc, repo_urls, by_file) if root_doc else None, children, plans)
    projects = {d.name: d for d in env_docs if d.kind == "AppProject"}
    plan.stalls = (list(_crd_stalls(plan)) + list(_secret_stalls(plan)) + list(_hook_stalls(plan))
                   + list(_project_stalls(plan, projects)) + list(_protection_stalls(plan)))
    return plan


# ---------------------------------------------------------------------------------------------
# where a step would wait or fail
# ---------------------------------------------------------------------------------------------

def _crd_stalls(plan: Plan):
    """ARG005: a custom resource whose CRD no earlier-or-same wave provides, or without SkipDryRun."""
    for app in plan.apps:
        for step in app.steps:
            if is_builtin(step.group, step.kind) or step.group in app.provides or step.kind == "CustomResourceDefinition":
                continue
            providers = [a for a in plan.apps if step.group in a.provides]
            target = step.doc or app.doc
            where = ("metadata",) if step.doc is not None else ("spec", "source", "helm", "valuesObject")
            if not providers:
                # Installed outside Argo CD (Terraform, by hand)? Then only the dry run can fail the sync.
                if not app.skip_dry_run(step):
                    yield Stall("ARG005", app, target, where,
                                f"Application {app.name} syncs {step.label()} ({step.group}), but no Application installs "
                                f"its CRD and the sync does not skip the dry run: it fails with 'the server could not "
                                "find the requested resource' unless the CRD exists beforehand",
                                "add the add-on that installs the CRD (charts/addons.py) and its chart to "
                                "gitops/syncplan/providers.py, or set SkipDryRunOnMissingResource=true", [app.doc])
                continue
            provider = min(providers, key=lambda a: a.wave)
            if provider.wave > app.wave:
                yield Stall("ARG005", app, target, where,
                            f"Application {app.name} (wave {app.wave}) syncs {step.label()} before Application "
                            f"{provider.name} (wave {provider.wave}) installs the {step.group} CRD: it stalls in Sync failed",
                            f"give {provider.name} a lower sync wave than {app.name}", [app.doc, provider.doc])
            elif not app.skip_dry_run(step):
                yield Stall("ARG005", app, app.doc, ("spec", "syncPolicy", "syncOptions"),
                            f"Application {app.name} syncs {step.label()} ({step.group}) whose CRD comes from Application "
                            f"{provider.name}; without SkipDryRunOnMissingResource the dry run of the whole sync fails "
                            f"until {provider.name} has synced, and after its retries Argo CD does not retry the revision",
                            f"add SkipDryRunOnMissingResource=true to the syncOptions of {app.name} (charts/argocd.py)",
                            [step.doc or provider.doc])


def _secret_names(d: Doc) -> list[str]:
    pod = pod_template(d)
    if pod is None:
        return []
    names = []
    for c in list(pod.spec.get("containers") or []) + list(pod.spec.get("initContainers") or []):
        if not isinstance(c, dict):
            continue
        for e in c.get("env") or []:
            name = dig(e, "valueFrom", "secretKeyRef", "name")
            if name:
                names.append(str(name))
        for ef in c.get("envFrom") or []:
            name = dig(ef, "secretRef", "name")
            if name:
                names.append(str(name))
    for v in pod.spec.get("volumes") or []:
        name = dig(v, "secret", "secretName")
        if name:
            names.append(str(name))
    return sorted(set(names))


def _position(step: Step) -> tuple:
    return (order.PHASE_ORDER.get(step.phase, 0), step.wave)


def _secret_stalls(plan: Plan):
    """ARG006: a pod that can start before the ExternalSecret that writes its Secret."""
    sources: dict[str, list[tuple[AppPlan, Step]]] = {}
    for app in plan.apps:
        for step in app.steps:
            if step.kind == "ExternalSecret" and step.doc is not None:
                target = dig(step.doc.data, "spec", "target", "name") or step.name
                sources.setdefault(str(target), []).append((app, step))
    for app in plan.apps:
        for step in app.steps:
            if step.doc is None:
                continue
            for secret in _secret_names(step.doc):
                if secret not in sources:
                    continue
                # The writer in the same Application if there is one (ARG003 reports duplicates).
                src_app, src = next((e for e in sources[secret] if e[0] is app), sources[secret][0])
                if src_app is app:
                    if _position(src) < _position(step):
                        continue
                    yield Stall("ARG006", app, step.doc, ("metadata", "annotations"),
                                f"{step.label()} (phase {step.phase}, wave {step.wave}) uses Secret {secret}, which "
                                f"ExternalSecret {src.name} (phase {src.phase}, wave {src.wave}) writes in the same "
                                f"Application {app.name}: its pods can start before the Secret exists (CreateContainerConfigError)",
                                f"give ExternalSecret {src.name} a lower argocd.argoproj.io/sync-wave than {step.label()} "
                                "(charts/syncorder.py)", [src.doc])
                elif src_app.wave >= app.wave:
                    yield Stall("ARG006", app, step.doc, ("metadata",),
                                f"{step.label()} in Application {app.name} (wave {app.wave}) uses Secret {secret}, written by "
                                f"ExternalSecret {src.name} in Application {src_app.name} (wave {src_app.wave}), which "
                                "is not synced before it", f"move ExternalSecret {src.name} into {app.name} at a lower wave, "
                                f"or give {src_app.name} a lower wave than {app.name}", [src.doc, src_app.doc])


def _image_repo(image: str) -> str:
    return re.split(r"[@]", image)[0].rsplit(":", 1)[0] if image else ""


def _hook_stalls(plan: Plan):
    """ARG007: a hook that runs before a workload must be in the workload's Application, before it."""
    workloads: dict[str, tuple[AppPlan, Step]] = {}
    images: dict[str, list[tuple[AppPlan, Step]]] = {}
    for app in plan.apps:
        for step in app.steps:
            if step.kind in WORKLOAD_KINDS and step.doc is not None:
                workloads.setdefault(step.name, (app, step))
                pod = pod_template(step.doc)
                for c in (pod.spec.get("containers") or []) if pod else []:
                    if isinstance(c, dict) and c.get("image"):
                        images.setdefault(_image_repo(str(c["image"])), []).append((app, step))
    for app in plan.apps:
        for step in app.steps:
            if not step.hook or step.doc is None or step.kind not in ("Job", "Pod"):
                continue
            target = step.doc.annotations.get(RUNS_BEFORE)
            candidates = [workloads[target]] if target in workloads else []
            if not target:
                pod = pod_template(step.doc)
                repos = {_image_repo(str(c.get("image", ""))) for c in (pod.spec.get("containers") or []) if isinstance(c, dict)} if pod else set()
                candidates = [w for r in sorted(repos) for w in images.get(r, [])]
            for w_app, w in candidates:
                if w_app is not app:
                    yield Stall("ARG007", app, step.doc, ("metadata", "annotations"),
                                f"hook {step.label()} runs in Application {app.name} but the workload it prepares, "
                                f"{w.label()}, is in Application {w_app.name}: a version bump re-syncs {w_app.name} "
                                f"alone, so the workload rolls without the hook (cross-Application waves only order "
                                f"the root's sync)", f"sync the hook in {w_app.name} (inventory runsBefore: {w.name}; "
                                "charts/argocd.py adds its folder as a source)", [w.doc, w_app.doc])
                elif _position(step) >= _position(w):
                    yield Stall("ARG007", app, step.doc, ("metadata", "annotations"),
                                f"hook {step.label()} (phase {step.phase}, wave {step.wave}) does not run before "
                                f"{w.label()} (phase {w.phase}, wave {w.wave}) in Application {app.name}",
                                f"give the hook a lower sync wave than {w.label()} (charts/syncorder.py)", [w.doc])


def _project_stalls(plan: Plan, projects: dict[str, Doc]):
    """ARG008: projects of component Applications allow no cluster-scoped kind and whitelist namespaced kinds."""
    seen = set()
    for app in plan.apps:
        if app.doc.labels.get("meetinity.io/layer") != WORKLOAD_LAYER:
            continue
        name = str(dig(app.doc.data, "spec", "project") or "default")
        project = projects.get(name)
        if project is None or name in seen:
            continue
        seen.add(name)
        spec = project.data.get("spec") or {}
        cluster = [f"{e.get('group') or 'core'}/{e.get('kind')}" for e in spec.get("clusterResourceWhitelist") or []
                   if isinstance(e, dict)]
        if cluster:
            yield Stall("ARG008", None, project, ("spec", "clusterResourceWhitelist"),
                        f"AppProject {name} holds component Applications ({app.name}, ...) and allows cluster-scoped "
                        f"kinds {', '.join(cluster)}: any component folder could create them",
                        "move the platform objects to their own project and leave clusterResourceWhitelist empty "
                        "(charts/argocd.py)", [app.doc])
        if spec.get("namespaceResourceWhitelist") is None:
            yield Stall("ARG008", None, project, ("spec",),
                        f"AppProject {name} holds component Applications ({app.name}, ...) and allows every namespaced "
                        "kind (no namespaceResourceWhitelist): a component folder could create RoleBindings or Secrets",
                        "whitelist exactly the kinds the generator emits for components (charts/argocd.py COMPONENT_KINDS)",
                        [app.doc])


def _delete_protected(d: Doc) -> bool:
    return order.sync_options(d.annotations.get(order.SYNC_OPTIONS)).get("Delete") in ("false", "confirm")


def _protection_stalls(plan: Plan):
    """ARG009: Namespaces, ClusterSecretStores and child Applications survive a cascading delete."""
    for app in plan.apps:
        for step in app.steps:
            if step.doc is not None and step.kind in PROTECTED_KINDS and not _delete_protected(step.doc):
                yield Stall("ARG009", app, step.doc, ("metadata", "annotations"),
                            f"{step.label()} is deleted with Application {app.name} (`argocd app delete` cascades by "
                            "default), and everything in it with it",
                            "annotate it argocd.argoproj.io/sync-options: Delete=false,Prune=confirm (charts/platform.py)",
                            [app.doc])
    if plan.root is not None:
        for d in plan.children:
            if d.kind == "Application" and not _delete_protected(d):
                yield Stall("ARG009", plan.root, d, ("metadata", "annotations"),
                            f"Application {d.name} is deleted (with its resources) when the root Application "
                            f"{plan.root.name} is deleted with cascade", "annotate the child Application "
                            "argocd.argoproj.io/sync-options: Delete=false (charts/argocd.py)", [plan.root.doc])
        if RESOURCES_FINALIZER in (plan.root.doc.metadata.get("finalizers") or []):
            yield Stall("ARG009", plan.root, plan.root.doc, ("metadata", "finalizers"),
                        f"root Application {plan.root.name} carries {RESOURCES_FINALIZER}: deleting it deletes every "
                        "Application of the environment", "remove the finalizer from the root Application")
