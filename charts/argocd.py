"""Argo CD objects of one environment, generated from the same model as dist/<env>/.

What ``argocd/<env>/`` holds (one file per object, plus ``kustomization.yaml`` listing them):

- AppProject ``meetinity-<env>``: the platform layer and every component. Sources: this
  repository only. Destinations: the environment namespace of this cluster only. Cluster-scoped
  kinds: what the platform layer creates (Namespace, ClusterSecretStore, ClusterIssuer). Plain
  Secrets are refused: secrets come from the secret store, never from git.
- AppProject ``platform-<env>``: the root Application and the add-ons (charts/addons.py).
  Sources: this repository and the pinned chart repositories. Destinations: the add-on
  namespaces and ``argocd``. Cluster-scoped kinds: what the charts need (CRDs, RBAC, webhooks...).
- Application ``root`` (app of apps): syncs ``argocd/<env>`` through its kustomization, itself
  included, so a new Application file is picked up without anyone touching the cluster.
- Application ``platform``: ``dist/<env>/platform`` (namespace, quota, policies, secret store).
- Application ``cluster-issuers``: ``argocd/<env>/cluster-issuers`` (cert-manager ClusterIssuers;
  outside the kustomization because the CRD does not exist when the cluster is bootstrapped).
- One Application per enabled component: ``dist/<env>/<component>``.
- One Application per add-on (Helm chart at a pinned version, per-environment values).

Argo CD runs inside each environment's cluster (infra/terraform/modules/argocd), so Application
names are not environment-qualified and destinations are the in-cluster API server.

Policy choices (docs/argocd.md explains each):
- Waves: projects -50, add-ons -40..-20, platform -10, jobs (migrations) 0, long-running 10.
- Automated sync with prune, self-heal and retry with backoff where ``policy.autoSync`` is true;
  manual sync otherwise (prod), with sync windows and a ``release-manager`` role.
- ``resources-finalizer`` (cascading delete) only on auto-synced component Applications: a
  component removed from dev/staging takes its objects with it. Never on prod, add-ons, the
  platform layer or the root (deleting those must not delete what they manage).
- Prod Application/AppProject objects carry ``Prune=false,Delete=false``: a component removed
  from prod leaves its Application and its resources in place until someone removes them.
- Sync options: ServerSideApply (field ownership with HPA/controllers, no annotation size limit),
  ServerSideDiff compare option (no OutOfSync noise from API-server defaults), PruneLast,
  ApplyOutOfSyncOnly, FailOnSharedResource, CreateNamespace=false for the environment namespace
  (the platform layer creates it with its Pod Security labels).
"""
from __future__ import annotations

from gitops.conventions import ARGOCD_NAMESPACE, PLATFORM_DIR
from gitops.errors import InputError, Problem
from gitops.model import Component, Environment, Platform, SyncWindow

from .addons import ADDON_CLUSTER_RESOURCES, ADDONS, ISSUERS_WAVE, AddOn, addon_namespaces, addon_repositories, grafana_host
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
# Migration jobs before the services that need the new schema; cron jobs with the services.
KIND_WAVES = {"job": 0, "api": 10, "frontend": 10, "worker": 10, "cronjob": 10}

# Default for environments a person syncs by hand: working hours, Monday to Friday.
DEFAULT_MANUAL_WINDOWS = (
    SyncWindow("allow", "0 8 * * 1-5", "10h", "Europe/Paris", False,
               "prod changes Mon-Fri 08:00-18:00 Paris time; outside it an admin opens a window (docs/argocd.md)"),
)

RETRY = {"limit": 5, "backoff": {"duration": "10s", "factor": 2, "maxDuration": "3m"}}
NOTIFY_TRIGGERS = ("on-health-degraded", "on-sync-failed")
DOCS_PATH = "docs/argocd.md"
RUNBOOK_ANCHOR = "runbook-sync-failed-or-degraded"


def project_name(env: Environment) -> str:
    return f"meetinity-{env.name}"


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
    ann = {f"notifications.argoproj.io/subscribe.{t}.slack": env.argocd.slack_channel for t in NOTIFY_TRIGGERS}
    # Diff through a server-side dry run: fields the API server defaults are not OutOfSync noise.
    ann["argocd.argoproj.io/compare-options"] = "ServerSideDiff=true"
    if wave is not None:
        ann["argocd.argoproj.io/sync-wave"] = str(wave)
    if git_source:
        # Refresh only when this Application's own folder changes in a commit (webhook path filter).
        ann["argocd.argoproj.io/manifest-generate-paths"] = "."
    if not env.auto_sync:
        # Removing the file from git must not remove the Application (or, through it, anything else).
        ann["argocd.argoproj.io/sync-options"] = "Delete=false,Prune=false"
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
]


# ---------------------------------------------------------------------------------------------
# Applications
# ---------------------------------------------------------------------------------------------

def component_application(platform: Platform, env: Environment, component: Component) -> dict:
    from .observability import PLAYBOOK_PATH, dashboard_uid

    repo = repo_web_url(platform)
    ctx = ComponentContext.of(platform, env, component)
    ann = _annotations(env, KIND_WAVES[component.kind], git_source=True)
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
    return {
        "apiVersion": API,
        "kind": "Application",
        "metadata": _metadata(env, component.name, _labels(env, "workload", component.owner, component.tier), ann,
                              cascade=env.auto_sync),
        "spec": {
            "project": project_name(env),
            "source": _git_source(platform, dist_path(env, component.name)),
            "destination": {"server": IN_CLUSTER, "namespace": env.namespace},
            "info": [i for i in info if i["value"]],
            "syncPolicy": _sync_policy(env, GENERATED_SYNC_OPTIONS),
        },
    }


def platform_application(platform: Platform, env: Environment) -> dict:
    ann = _annotations(env, WAVE_PLATFORM, git_source=True)
    return {
        "apiVersion": API,
        "kind": "Application",
        # No finalizer: deleting this Application must never delete the namespace and all in it.
        "metadata": _metadata(env, PLATFORM_APP, _labels(env, "platform"), ann),
        "spec": {
            "project": project_name(env),
            "source": _git_source(platform, dist_path(env, PLATFORM_DIR)),
            "destination": {"server": IN_CLUSTER, "namespace": env.namespace},
            "info": [{"name": "Description", "value": "namespace, quota, limit range, default-deny policy, secret store"}],
            # The ClusterSecretStore/ExternalSecret CRDs come from the external-secrets Application.
            "syncPolicy": _sync_policy(env, GENERATED_SYNC_OPTIONS + ["SkipDryRunOnMissingResource=true"]),
        },
    }


def issuers_application(platform: Platform, env: Environment) -> dict:
    ann = _annotations(env, ISSUERS_WAVE, git_source=True)
    return {
        "apiVersion": API,
        "kind": "Application",
        "metadata": _metadata(env, ISSUERS_APP, _labels(env, "platform"), ann),
        "spec": {
            "project": project_name(env),
            "source": _git_source(platform, f"{argocd_path(env)}/{ISSUERS_DIR}"),
            "destination": {"server": IN_CLUSTER, "namespace": env.namespace},
            "info": [{"name": "Description", "value": f"ClusterIssuers; Ingresses here use {env.cluster_issuer}"}],
            "syncPolicy": _sync_policy(env, ["FailOnSharedResource=true", "PruneLast=true", "ServerSideApply=true"]),
        },
    }


def root_application(platform: Platform, env: Environment) -> dict:
    ann = _annotations(env, None, git_source=True)
    return {
        "apiVersion": API,
        "kind": "Application",
        # No finalizer: deleting the root must leave every environment Application running.
        "metadata": _metadata(env, ROOT_APP, _labels(env, "bootstrap"), ann),
        "spec": {
            "project": platform_project_name(env),
            "source": _git_source(platform, argocd_path(env)),
            "destination": {"server": IN_CLUSTER, "namespace": ARGOCD_NAMESPACE},
            "info": [{"name": "Description", "value": f"app of apps: every Argo CD object of {env.name} (argocd/{env.name})"}],
            "syncPolicy": _sync_policy(env, ["PruneLast=true", "ServerSideApply=true"]),
        },
    }


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
    return {
        "apiVersion": API,
        "kind": "Application",
        # No finalizer: deleting an add-on Application must not delete its CRDs (and every CR with them).
        "metadata": _metadata(env, addon.name, _labels(env, "addon"), ann),
        "spec": spec,
    }


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
    ann = {"argocd.argoproj.io/sync-wave": str(WAVE_PROJECTS)}
    if not env.auto_sync:
        ann["argocd.argoproj.io/sync-options"] = "Delete=false,Prune=false"
    return {"name": name, "namespace": ARGOCD_NAMESPACE, "labels": _labels(env, "bootstrap"), "annotations": ann}


# Cluster-scoped kinds the meetinity project may create: what dist/<env>/platform and the
# ClusterIssuers need, nothing else (no CRDs, no RBAC outside the namespace).
WORKLOAD_CLUSTER_RESOURCES = (
    ("", "Namespace"),
    ("cert-manager.io", "ClusterIssuer"),
    ("external-secrets.io", "ClusterSecretStore"),
)
# Plain Secrets never come from git: External Secrets (or Sealed Secrets) controllers create them.
WORKLOAD_NAMESPACE_BLACKLIST = (("", "Secret"),)


def workload_project(platform: Platform, env: Environment) -> dict:
    name = project_name(env)
    return {
        "apiVersion": API,
        "kind": "AppProject",
        "metadata": _project_metadata(env, name),
        "spec": {
            "description": f"Meetinity {env.name}: platform layer and components generated into dist/{env.name}",
            "sourceRepos": [platform.repo_url],
            "destinations": [{"server": IN_CLUSTER, "namespace": env.namespace}],
            "clusterResourceWhitelist": [{"group": g, "kind": k} for g, k in WORKLOAD_CLUSTER_RESOURCES],
            "namespaceResourceBlacklist": [{"group": g, "kind": k} for g, k in WORKLOAD_NAMESPACE_BLACKLIST],
            **_project_common(env, name),
        },
    }


def platform_project(platform: Platform, env: Environment) -> dict:
    name = platform_project_name(env)
    namespaces = sorted({ARGOCD_NAMESPACE, *addon_namespaces()})
    return {
        "apiVersion": API,
        "kind": "AppProject",
        "metadata": _project_metadata(env, name),
        "spec": {
            "description": f"{env.name} cluster add-ons (pinned Helm charts) and the root Application",
            "sourceRepos": sorted({platform.repo_url, *addon_repositories()}),
            "destinations": [{"server": IN_CLUSTER, "namespace": ns} for ns in namespaces],
            "clusterResourceWhitelist": [{"group": g, "kind": k} for g, k in ADDON_CLUSTER_RESOURCES],
            **_project_common(env, name),
        },
    }


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
        platform_project(platform, env),
        root_application(platform, env),
        platform_application(platform, env),
        issuers_application(platform, env),
    ]
    objects += [addon_application(platform, env, a) for a in ADDONS]
    objects += [component_application(platform, env, c) for c in platform.enabled_components(env)]
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
