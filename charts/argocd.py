"""Argo CD objects of one environment, generated from the same model as dist/<env>/.

What ``argocd/<env>/`` holds (one file per object, plus ``kustomization.yaml`` listing them):

- AppProject ``meetinity-<env>``: every component. Sources: this repository only. Destinations:
  the environment namespace of this cluster only. No cluster-scoped kind; namespaced kinds: only
  ``COMPONENT_KINDS`` (what the generator emits for components; no Secret, no RBAC).
- AppProject ``meetinity-<env>-platform``: the platform layer and the ClusterIssuers. Cluster-scoped
  kinds: Namespace, ClusterSecretStore, ClusterIssuer. Plain Secrets are refused.
- AppProject ``platform-<env>``: the root Application and the add-ons (charts/addons.py).
  Sources: this repository and the pinned chart repositories. Destinations: the add-on
  namespaces and ``argocd``. Cluster-scoped kinds: what the charts need (CRDs, RBAC, webhooks...).
- Application ``root`` (app of apps): syncs ``argocd/<env>`` through its kustomization, itself
  included, so a new Application file is picked up without anyone touching the cluster.
- Application ``platform``: ``dist/<env>/platform`` (namespace, quota, policies, secret store).
- Application ``cluster-issuers``: ``argocd/<env>/cluster-issuers`` (cert-manager ClusterIssuers;
  outside the kustomization because the CRD does not exist when the cluster is bootstrapped).
- One Application per enabled component: ``dist/<env>/<component>``, plus the folders of the jobs
  that run before it (inventory ``runsBefore``: migrations) as further sources; those jobs have
  no Application of their own.
- One Application per add-on (Helm chart at a pinned version, per-environment values).

Argo CD runs inside each environment's cluster (infra/terraform/modules/argocd), so Application
names are not environment-qualified and destinations are the in-cluster API server.

Policy choices (docs/argocd.md explains each):
- Waves: projects -50, add-ons -40..-20, platform -10, stand-alone jobs 0, long-running 10.
  Inside a component Application: charts/syncorder.py (prerequisites, hooks, workload).
- Automated sync with prune, self-heal and retry with backoff where ``policy.autoSync`` is true;
  manual sync otherwise (prod), with sync windows and a ``release-manager`` role.
- ``resources-finalizer`` (cascading delete) only on auto-synced component Applications: a
  component removed from dev/staging takes its objects with it. Never on prod, add-ons, the
  platform layer or the root (deleting those must not delete what they manage).
- Every Application/AppProject object carries ``Delete=false``: deleting the root (cascade is the
  CLI default) leaves them, and what they run, in place. Prod adds ``Prune=false``: a component
  removed from prod leaves its Application and its resources in place until someone removes them.
- Sync options: ServerSideApply (field ownership with HPA/controllers, no annotation size limit),
  ServerSideDiff compare option (no OutOfSync noise from API-server defaults), PruneLast,
  ApplyOutOfSyncOnly, FailOnSharedResource, CreateNamespace=false for the environment namespace
  (the platform layer creates it with its Pod Security labels).
"""
from __future__ import annotations

from gitops.inputs.conventions import ARGOCD_NAMESPACE, PLATFORM_DIR
from gitops.errors import InputError, Problem
from gitops.inputs.model import Component, Environment, Platform, SyncWindow
from gitops.syncplan.providers import CRD_GROUPS_BY_CHART, rendered_cr_kinds

from .addons import ADDON_CLUSTER_RESOURCES, ADDONS, ISSUERS_WAVE, AddOn, addon_namespaces, addon_repositories, grafana_host
from .addons import addons_for
from .context import ComponentContext
from .labels import MANAGED_BY, PART_OF

API = "argoproj.io/v1alpha1"
IN_CLUSTER = "https://kubernetes.default.svc"
TARGET_REVISION = "main"
RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"

ROOT_APP = "root"
PLATFORM_APP = "platform"
ISSUERS_APP = "cluster-issuers"
ISSUERS_DIR = "cluster-issuers"
RELEASE_MANAGER_ROLE = "release-manager"

WAVE_PROJECTS = -50
WAVE_PLATFORM = -10
# Stand-alone jobs before the services; cron jobs with the services. A job that runs before a
# workload (inventory runsBefore, e.g. migrations) has no Application of its own: it is a Sync hook
# inside that workload's Application (hooked_jobs below, charts/syncorder.py).
KIND_WAVES = {"job": 0, "api": 10, "frontend": 10, "worker": 10, "cronjob": 10}

# Default for environments a person syncs by hand: working hours, Monday to Friday.
DEFAULT_MANUAL_WINDOWS = (
    SyncWindow("allow", "0 8 * * 1-5", "10h", "Europe/Paris", False,
               "prod changes Mon-Fri 08:00-18:00 Paris time; outside it an admin opens a window (docs/argocd.md)"),
)

RETRY = {"limit": 5, "backoff": {"duration": "10s", "factor": 2, "maxDuration": "3m"}}
# Triggers and templates are defined in argocd-notifications-cm by infra/terraform/modules/argocd.
NOTIFY_TRIGGERS = ("on-health-degraded", "on-sync-failed")
# Where a person syncs (prod), the channel also records each successful sync: who shipped what, when.
MANUAL_SYNC_TRIGGERS = ("on-sync-succeeded",)
DOCS_PATH = "docs/argocd.md"
RUNBOOK_ANCHOR = "runbook-sync-failed-or-degraded"


def project_name(env: Environment) -> str:
    """The components' AppProject: namespaced kinds the generator emits, nothing cluster-scoped."""
    return f"meetinity-{env.name}"


def layer_project_name(env: Environment) -> str:
    """The platform layer's AppProject: namespace, guardrails, secret store, ClusterIssuers."""
    return f"meetinity-{env.name}-platform"


def platform_project_name(env: Environment) -> str:
    return f"platform-{env.name}"


def argocd_path(env: Environment) -> str:
    return f"argocd/{env.name}"


def dist_path(env: Environment, folder: str) -> str:
    return f"dist/{env.name}/{folder}"


def repo_web_url(platform: Platform) -> str:
    return platform.repo_url.removesuffix(".git")


def sync_windows(env: Environment) -> tuple[SyncWindow, ...]:
    if env.argocd.sync_windows is not None:
        return env.argocd.sync_windows
    return () if env.auto_sync else DEFAULT_MANUAL_WINDOWS


# ---------------------------------------------------------------------------------------------
# Shared pieces
# ---------------------------------------------------------------------------------------------

def _labels(env: Environment, layer: str, team: str = "platform", tier: str = "platform") -> dict:
    return {
        "app.kubernetes.io/managed-by": MANAGED_BY,
        "app.kubernetes.io/part-of": PART_OF,
        "meetinity.io/environment": env.name,
        "meetinity.io/layer": layer,
        "meetinity.io/team": team,
        "meetinity.io/tier": tier,
    }


def _annotations(env: Environment, wave: int | None, *, git_source: bool) -> dict:
    triggers = NOTIFY_TRIGGERS + (() if env.auto_sync else MANUAL_SYNC_TRIGGERS)
    ann = {f"notifications.argoproj.io/subscribe.{t}.slack": env.argocd.slack_channel for t in triggers}
    # Diff through a server-side dry run: fields the API server defaults are not OutOfSync noise.
    ann["argocd.argoproj.io/compare-options"] = "ServerSideDiff=true"
    if wave is not None:
        ann["argocd.argoproj.io/sync-wave"] = str(wave)
    if git_source:
        # Refresh only when this Application's own folder changes in a commit (webhook path filter).
        ann["argocd.argoproj.io/manifest-generate-paths"] = "."
    # Deleting the root Application (`argocd app delete` cascades by default) must not delete this
    # one and, through its finalizer, what it runs (docs user-guide/sync-options.md "No Resource Deletion").
    # Where a person syncs (prod), removing the file from git must not remove it either.
    ann["argocd.argoproj.io/sync-options"] = "Delete=false" if env.auto_sync else "Delete=false,Prune=false"
    return ann


def _metadata(env: Environment, name: str, labels: dict, annotations: dict, cascade: bool = False) -> dict:
    meta = {"name": name, "namespace": ARGOCD_NAMESPACE, "labels": labels, "annotations": annotations}
    if cascade:
        meta["finalizers"] = [RESOURCES_FINALIZER]
    return meta


def _sync_policy(env: Environment, options: list[str]) -> dict:
    policy: dict = {"retry": RETRY, "syncOptions": sorted(options)}
    if env.auto_sync:
        policy["automated"] = {"prune": True, "selfHeal": True}
    return policy


def _git_source(platform: Platform, path: str) -> dict:
    return {"repoURL": platform.repo_url, "targetRevision": TARGET_REVISION, "path": path}


# Options of every Application whose source is this repository's generated manifests.
GENERATED_SYNC_OPTIONS = [
    "ApplyOutOfSyncOnly=true",     # large folders: apply only what changed
    "CreateNamespace=false",       # the platform layer owns the namespace and its labels
    "FailOnSharedResource=true",   # two Applications must never fight over one object
    "PruneLast=true",              # delete removed objects only after the rest is healthy
    "ServerSideApply=true",
    # Every generated folder holds custom resources whose CRDs an add-on Application installs
    # (PrometheusRule for every workload, ExternalSecret, ServiceMonitor, VPA; the platform layer's
    # ClusterSecretStore): without it the dry run of the whole sync fails until that add-on has
    # synced, and Argo CD does not retry a revision after its retries (user-guide/sync-options.md
    # "Skip Dry Run for new custom resources types"). `gitops validate` ARG005 checks it.
    "SkipDryRunOnMissingResource=true",
]


# ---------------------------------------------------------------------------------------------
# Applications
# ---------------------------------------------------------------------------------------------

def hooked_jobs(platform: Platform, env: Environment, component: Component) -> tuple[Component, ...]:
    """Enabled jobs that run as Sync hooks in ``component``'s Application (inventory runsBefore)."""
    return tuple(c for c in platform.enabled_components(env) if c.runs_before == component.name)


def component_application(platform: Platform, env: Environment, component: Component) -> dict:
    from .alerts import PLAYBOOK_PATH
    from .dashboard import dashboard_uid

    repo = repo_web_url(platform)
    ctx = ComponentContext.of(platform, env, component)
    hooks = hooked_jobs(platform, env, component)
    ann = _annotations(env, KIND_WAVES[component.kind], git_source=True)
    if hooks:
        # Several sources: refresh when any of the folders changes (absolute paths, ';'-separated;
        # docs operator-manual/high_availability.md "Manifest Paths Annotation").
        ann["argocd.argoproj.io/manifest-generate-paths"] = ";".join(
            "/" + dist_path(env, c.name) for c in (component, *hooks))
    ann["link.argocd.argoproj.io/grafana-dashboard"] = f"https://{grafana_host(env)}/d/{dashboard_uid(ctx)}"
    ann["link.argocd.argoproj.io/runbook"] = f"{repo}/blob/{TARGET_REVISION}/{DOCS_PATH}#{RUNBOOK_ANCHOR}"
    ann["link.argocd.argoproj.io/alerts-playbook"] = f"{repo}/blob/{TARGET_REVISION}/{PLAYBOOK_PATH}"
    ann["link.argocd.argoproj.io/inventory"] = f"{repo}/blob/{TARGET_REVISION}/inventory/{component.name}.yaml"
    if component.source_repository and component.source_path:
        ann["link.argocd.argoproj.io/source-code"] = (
            f"https://github.com/{component.source_repository}/tree/{TARGET_REVISION}/{component.source_path}")
    info = [
        {"name": "Description", "value": component.description},
        {"name": "Owner", "value": component.owner},
        {"name": "Kind", "value": component.kind},
    ]
    if component.reviewers:
        info.append({"name": "Reviewers", "value": ", ".join(component.reviewers)})
    if hooks:
        info.append({"name": "Hooks", "value": ", ".join(f"{c.name} (Sync hook before the workload)" for c in hooks)})
    spec: dict = {"project": project_name(env)}
    if hooks:
        # The hook Jobs keep their own folder (one folder per component in dist/), synced by this
        # Application: one sync runs them with the new image before the Deployment rolls
        # (docs user-guide/multiple_sources.md).
        spec["sources"] = [_git_source(platform, dist_path(env, c.name)) for c in (component, *hooks)]
    else:
        spec["source"] = _git_source(platform, dist_path(env, component.name))
    spec.update({
        "destination": {"server": IN_CLUSTER, "namespace": env.namespace},
        "info": [i for i in info if i["value"]],
        "syncPolicy": _sync_policy(env, GENERATED_SYNC_OPTIONS),
    })
    return _application(env, component.name, _labels(env, "workload", component.owner, component.tier), ann, spec,
                        cascade=env.auto_sync)


def _application(env: Environment, name: str, labels: dict, annotations: dict, spec: dict,
                 cascade: bool = False) -> dict:
    return {
        "apiVersion": API,
        "kind": "Application",
        "metadata": _metadata(env, name, labels, annotations, cascade=cascade),
        "spec": spec,
    }


def _git_application(platform: Platform, env: Environment, name: str, *, layer: str, wave: int | None,
                     project: str, path: str, namespace: str, description: str, options: list[str]) -> dict:
    """An Application of plain manifests under `path` in this repository (the platform layer, the
    ClusterIssuers, the root). No finalizer: deleting one must never delete what it synced."""
    return _application(env, name, _labels(env, layer), _annotations(env, wave, git_source=True), {
        "project": project,
        "source": _git_source(platform, path),
        "destination": {"server": IN_CLUSTER, "namespace": namespace},
        "info": [{"name": "Description", "value": description}],
        "syncPolicy": _sync_policy(env, options),
    })


def platform_application(platform: Platform, env: Environment) -> dict:
    # No finalizer: deleting this Application must never delete the namespace and all in it.
    # The ClusterSecretStore/ExternalSecret CRDs come from the external-secrets Application.
    return _git_application(
        platform, env, PLATFORM_APP, layer="platform", wave=WAVE_PLATFORM, project=layer_project_name(env),
        path=dist_path(env, PLATFORM_DIR), namespace=env.namespace,
        description="namespace, quota, limit range, default-deny policy, secret store",
        options=GENERATED_SYNC_OPTIONS)


def issuers_application(platform: Platform, env: Environment) -> dict:
    return _git_application(
        platform, env, ISSUERS_APP, layer="platform", wave=ISSUERS_WAVE, project=layer_project_name(env),
        path=f"{argocd_path(env)}/{ISSUERS_DIR}", namespace=env.namespace,
        description=f"ClusterIssuers; Ingresses here use {env.cluster_issuer}",
        options=["FailOnSharedResource=true", "PruneLast=true", "ServerSideApply=true"])


def root_application(platform: Platform, env: Environment) -> dict:
    # No finalizer: deleting the root must leave every environment Application running.
    return _git_application(
        platform, env, ROOT_APP, layer="bootstrap", wave=None, project=platform_project_name(env),
        path=argocd_path(env), namespace=ARGOCD_NAMESPACE,
        description=f"app of apps: every Argo CD object of {env.name} (argocd/{env.name})",
        options=["PruneLast=true", "ServerSideApply=true"])


def _namespace_owners() -> dict[str, str]:
    """The add-on that creates (and labels) each add-on namespace: the earliest wave, then name."""
    owners: dict[str, str] = {}
    for a in sorted(ADDONS, key=lambda a: (a.wave, a.name)):
        if a.create_namespace:
            owners.setdefault(a.namespace, a.name)
    return owners


def addon_application(platform: Platform, env: Environment, addon: AddOn) -> dict:
    ann = _annotations(env, addon.wave, git_source=False)
    options = ["PruneLast=true", "ServerSideApply=true"]
    policy_extra: dict = {}
    if _namespace_owners().get(addon.namespace) == addon.name:
        options.append("CreateNamespace=true")
        if addon.namespace_labels:
            policy_extra["managedNamespaceMetadata"] = {"labels": dict(addon.namespace_labels)}
    else:
        options.append("CreateNamespace=false")
    if addon.ignore_differences:
        # Sync must not write back the fields ignored below (their controller owns them).
        options.append("RespectIgnoreDifferences=true")
    own = CRD_GROUPS_BY_CHART.get(addon.chart, ())
    if any(group not in own for group, _, _ in rendered_cr_kinds(addon.values(platform, env))):
        # Its chart renders a ServiceMonitor whose CRD kube-prometheus-stack installs (ARG005).
        options.append("SkipDryRunOnMissingResource=true")
    spec: dict = {
        "project": platform_project_name(env),
        "source": {
            "repoURL": addon.repo_url,
            "chart": addon.chart,
            "targetRevision": addon.version,
            "helm": {"releaseName": addon.name, "valuesObject": addon.values(platform, env)},
        },
        "destination": {"server": IN_CLUSTER, "namespace": addon.namespace},
        "info": [{"name": "Description", "value": addon.description},
                 {"name": "Chart", "value": f"{addon.chart} {addon.version} ({addon.repo_url})"}],
        "syncPolicy": {**_sync_policy(env, options), **policy_extra},
    }
    if addon.ignore_differences:
        spec["ignoreDifferences"] = [dict(d) for d in addon.ignore_differences]
    # No finalizer: deleting an add-on Application must not delete its CRDs (and every CR with them).
    return _application(env, addon.name, _labels(env, "addon"), ann, spec)


# ---------------------------------------------------------------------------------------------
# AppProjects
# ---------------------------------------------------------------------------------------------

def _project_common(env: Environment, name: str) -> dict:
    spec: dict = {}
    windows = sync_windows(env)
    if windows:
        spec["syncWindows"] = [_window(w) for w in windows]
    if not env.auto_sync:
        spec["roles"] = [{
            "name": RELEASE_MANAGER_ROLE,
            "description": f"may sync {name} Applications by hand (manual-sync environment)",
            "groups": list(env.argocd.sync_groups),
            "policies": [f"p, proj:{name}:{RELEASE_MANAGER_ROLE}, applications, {action}, {name}/*, allow"
                         for action in ("get", "sync")],
        }]
    return spec


def _window(w: SyncWindow) -> dict:
    out = {"kind": w.kind, "schedule": w.schedule, "duration": w.duration, "timeZone": w.time_zone,
           "manualSync": w.manual_sync, "applications": ["*"]}
    if w.description:
        out["description"] = w.description
    return out


def _project_metadata(env: Environment, name: str) -> dict:
    ann = {"argocd.argoproj.io/sync-wave": str(WAVE_PROJECTS),
           # Like the Applications: a cascading delete of the root leaves the projects in place.
           "argocd.argoproj.io/sync-options": "Delete=false" if env.auto_sync else "Delete=false,Prune=false"}
    return {"name": name, "namespace": ARGOCD_NAMESPACE, "labels": _labels(env, "bootstrap"), "annotations": ann}


# Cluster-scoped kinds the platform-layer project may create: what dist/<env>/platform and the
# ClusterIssuers need, nothing else (no CRDs, no RBAC outside the namespace).
LAYER_CLUSTER_RESOURCES = (
    ("", "Namespace"),
    ("cert-manager.io", "ClusterIssuer"),
    ("external-secrets.io", "ClusterSecretStore"),
)
# Plain Secrets never come from git: External Secrets (or Sealed Secrets) controllers create them.
WORKLOAD_NAMESPACE_BLACKLIST = (("", "Secret"),)

# Every kind the generator emits for a component (charts/component.py constructs; the Job hooks
# included), and the only kinds a component Application may sync: no Secret, no RBAC, nothing
# cluster-scoped. tests/test_argocd.py checks that the rendered components use exactly these.
COMPONENT_KINDS = (
    ("", "ConfigMap"),
    ("", "PersistentVolumeClaim"),
    ("", "Service"),
    ("", "ServiceAccount"),
    ("apps", "Deployment"),
    ("argoproj.io", "AnalysisTemplate"),   # progressive delivery (charts/rollout.py, charts/analysis.py)
    ("argoproj.io", "Rollout"),
    ("autoscaling", "HorizontalPodAutoscaler"),
    ("autoscaling.k8s.io", "VerticalPodAutoscaler"),
    ("batch", "CronJob"),
    ("batch", "Job"),
    ("external-secrets.io", "ExternalSecret"),
    ("monitoring.coreos.com", "PrometheusRule"),
    ("monitoring.coreos.com", "ServiceMonitor"),
    ("networking.k8s.io", "Ingress"),
    ("networking.k8s.io", "NetworkPolicy"),
    ("policy", "PodDisruptionBudget"),
)


def _kinds(pairs) -> list[dict]:
    return [{"group": g, "kind": k} for g, k in pairs]


def _project(env: Environment, name: str, spec: dict) -> dict:
    """An AppProject: ``spec`` plus the sync windows and manual-sync role every project shares."""
    return {
        "apiVersion": API,
        "kind": "AppProject",
        "metadata": _project_metadata(env, name),
        "spec": {**spec, **_project_common(env, name)},
    }


def workload_project(platform: Platform, env: Environment) -> dict:
    """Components only. An empty clusterResourceWhitelist allows no cluster-scoped kind and a
    namespaceResourceWhitelist allows only the kinds listed (docs user-guide/projects.md)."""
    return _project(env, project_name(env), {
        "description": f"Meetinity {env.name}: the components generated into dist/{env.name}/<component>",
        "sourceRepos": [platform.repo_url],
        "destinations": [{"server": IN_CLUSTER, "namespace": env.namespace}],
        "clusterResourceWhitelist": [],
        "namespaceResourceWhitelist": _kinds(COMPONENT_KINDS),
    })


def layer_project(platform: Platform, env: Environment) -> dict:
    """The platform layer and the ClusterIssuers: the only cluster-scoped objects outside the add-ons."""
    return _project(env, layer_project_name(env), {
        "description": f"Meetinity {env.name}: platform layer (dist/{env.name}/platform) and ClusterIssuers",
        "sourceRepos": [platform.repo_url],
        "destinations": [{"server": IN_CLUSTER, "namespace": env.namespace}],
        "clusterResourceWhitelist": _kinds(LAYER_CLUSTER_RESOURCES),
        "namespaceResourceBlacklist": _kinds(WORKLOAD_NAMESPACE_BLACKLIST),
    })


def platform_project(platform: Platform, env: Environment) -> dict:
    namespaces = sorted({ARGOCD_NAMESPACE, *addon_namespaces()})
    return _project(env, platform_project_name(env), {
        "description": f"{env.name} cluster add-ons (pinned Helm charts) and the root Application",
        "sourceRepos": sorted({platform.repo_url, *addon_repositories()}),
        "destinations": [{"server": IN_CLUSTER, "namespace": ns} for ns in namespaces],
        "clusterResourceWhitelist": _kinds(ADDON_CLUSTER_RESOURCES),
    })


# ---------------------------------------------------------------------------------------------
# The whole environment
# ---------------------------------------------------------------------------------------------

RESERVED_NAMES = (ROOT_APP, PLATFORM_APP, ISSUERS_APP, *(a.name for a in ADDONS))


def check_names(platform: Platform, env: Environment) -> None:
    """Application names share one namespace: a component may not take an add-on's name."""
    problems = [
        Problem(c.source_file, "name", f"component name {c.name!r} is reserved for an Argo CD Application "
                f"of the platform ({', '.join(sorted(RESERVED_NAMES))}); rename the component")
        for c in platform.enabled_components(env) if c.name in RESERVED_NAMES
    ]
    if problems:
        raise InputError(problems)


def argocd_objects(platform: Platform, env: Environment) -> list[dict]:
    """Every object of argocd/<env>/ (top level; the ClusterIssuers are charts/addons.cluster_issuers)."""
    check_names(platform, env)
    objects = [
        workload_project(platform, env),
        layer_project(platform, env),
        platform_project(platform, env),
        root_application(platform, env),
        platform_application(platform, env),
        issuers_application(platform, env),
    ]
    objects += [addon_application(platform, env, a) for a in addons_for(platform, env)]
    # A job that runs before a workload is synced by that workload's Application, not its own.
    objects += [component_application(platform, env, c) for c in platform.enabled_components(env) if not c.runs_before]
    return objects


class ArgoCDEnvironment:
    """Emits argocd/<env>/ objects into ``chart`` and the ClusterIssuers into ``issuers_chart``."""

    def __init__(self, chart, issuers_chart, platform: Platform, env: Environment):
        from .addons import cluster_issuers
        from .base import emit  # cdk8s is imported only where objects are emitted

        for obj in argocd_objects(platform, env):
            emit(chart, obj)
        for obj in cluster_issuers(env):
            emit(issuers_chart, obj)
