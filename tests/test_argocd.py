"""Argo CD objects (argocd/<env>/): CRD-valid, consistent with dist/, driven by the inventory.

CRD schemas are the repository's own (gitops/schemas/crds/, tests/crd.py).
"""
from __future__ import annotations

import copy
import fnmatch
import re
from pathlib import Path

import pytest
import yaml

from gitops.generated.adapter import adapter_rules
from gitops.inputs.load import load_platform

from .conftest import assert_golden, run_gitops
from .crd import crd_validator

GOLDEN = Path(__file__).resolve().parent / "golden" / "mini-argocd"
ARGO_KINDS = ("Application", "AppProject", "ApplicationSet")
EXACT_VERSION = re.compile(r"^v?[0-9]+\.[0-9]+\.[0-9]+$")


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------

def crd_errors(doc: dict) -> list[str]:
    errors = crd_validator(doc["apiVersion"], doc["kind"]).iter_errors(doc)
    return [f"{doc['kind']}/{doc['metadata']['name']} at /{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in errors]


def docs_in(folder: Path) -> list[tuple[Path, dict]]:
    out = []
    for path in sorted(folder.rglob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        out += [(path, d) for d in yaml.safe_load_all(path.read_text()) if d]
    return out


def env_objects(root: Path, env: str, kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for _, d in docs_in(root / "argocd" / env) if d["kind"] == kind}


def project_allows(project: dict, server: str, namespace: str) -> bool:
    return any(fnmatch.fnmatchcase(server, d.get("server", "")) and fnmatch.fnmatchcase(namespace, d.get("namespace", ""))
               for d in project["spec"].get("destinations", []))


def group_of(api_version: str) -> str:
    return api_version.split("/")[0] if "/" in api_version else ""


# ---------------------------------------------------------------------------------------------
# golden and schemas
# ---------------------------------------------------------------------------------------------

def test_golden_argocd_tree(mini_synth):
    """The fixture's argocd/ is pinned byte for byte. Regenerate with UPDATE_GOLDEN=1."""
    assert_golden(mini_synth / "argocd", GOLDEN)


def test_argo_objects_validate_against_crd_schemas(mini_synth):
    docs = docs_in(mini_synth / "argocd")
    argo = [d for _, d in docs if d["apiVersion"].startswith("argoproj.io/")]
    assert {d["kind"] for d in argo} >= {"Application", "AppProject"}
    assert {d["kind"] for d in argo} <= set(ARGO_KINDS)
    errors = [e for d in argo for e in crd_errors(d)]
    assert not errors, "\n".join(errors)


def test_cluster_issuers_validate_against_cert_manager_schema(mini_synth):
    issuers = [d for _, d in docs_in(mini_synth / "argocd") if d["kind"] == "ClusterIssuer"]
    assert issuers
    errors = [e for d in issuers for e in crd_errors(d)]
    assert not errors, "\n".join(errors)


def test_schema_check_rejects_a_broken_application(mini_synth):
    """The schema check is real: a typo in syncPolicy or a missing destination is reported."""
    app = env_objects(mini_synth, "dev", "Application")["shop-api"]
    typo = copy.deepcopy(app)
    typo["spec"]["syncPolicy"]["automated"]["selfheal"] = True
    missing = copy.deepcopy(app)
    del missing["spec"]["destination"]
    assert any("selfheal" in e for e in crd_errors(typo))
    assert any("destination" in e for e in crd_errors(missing))


# ---------------------------------------------------------------------------------------------
# consistency with dist/ and the AppProjects
# ---------------------------------------------------------------------------------------------

def test_git_sources_exist_and_hold_manifests(mini_synth):
    platform = load_platform(mini_synth)
    checked = 0
    for env in platform.environments:
        for name, app in env_objects(mini_synth, env.name, "Application").items():
            source = app["spec"]["source"]
            if source["repoURL"] != platform.repo_url:
                assert "chart" in source, name
                continue
            folder = mini_synth / source["path"]
            assert folder.is_dir(), f"{env.name}/{name}: {source['path']} does not exist"
            manifests = [p for p in folder.glob("*.yaml") if yaml.safe_load(p.read_text()).get("kind")]
            assert manifests, f"{env.name}/{name}: {source['path']} holds no manifests"
            assert source["targetRevision"] == "main"
            checked += 1
    assert checked >= 2 * 4


def test_projects_allow_every_destination_and_source(mini_synth):
    platform = load_platform(mini_synth)
    for env in platform.environments:
        projects = env_objects(mini_synth, env.name, "AppProject")
        for name, app in env_objects(mini_synth, env.name, "Application").items():
            project = projects[app["spec"]["project"]]
            dest = app["spec"]["destination"]
            assert project_allows(project, dest["server"], dest["namespace"]), f"{env.name}/{name} -> {dest}"
            assert app["spec"]["source"]["repoURL"] in project["spec"]["sourceRepos"], f"{env.name}/{name}"
        # Projects are tight: the workload project reaches only the environment namespace.
        workload = projects[f"meetinity-{env.name}"]["spec"]
        assert workload["sourceRepos"] == [platform.repo_url]
        assert [d["namespace"] for d in workload["destinations"]] == [env.namespace]


def test_every_generated_object_is_permitted_by_its_project(mini_synth):
    """What each Application syncs passes its AppProject's kind and namespace rules."""
    platform = load_platform(mini_synth)
    for env in platform.environments:
        projects = env_objects(mini_synth, env.name, "AppProject")
        for name, app in env_objects(mini_synth, env.name, "Application").items():
            source = app["spec"]["source"]
            if "path" not in source or source["path"] == f"argocd/{env.name}":
                continue
            spec = projects[app["spec"]["project"]]["spec"]
            allowed_cluster = {(r["group"], r["kind"]) for r in spec.get("clusterResourceWhitelist", [])}
            denied = {(r["group"], r["kind"]) for r in spec.get("namespaceResourceBlacklist", [])}
            for path, obj in docs_in(mini_synth / source["path"]):
                gk = (group_of(obj["apiVersion"]), obj["kind"])
                namespace = obj["metadata"].get("namespace")
                if namespace is None:
                    assert gk in allowed_cluster, f"{path}: cluster-scoped {gk} not whitelisted in {spec}"
                else:
                    assert gk not in denied, f"{path}: {gk} is refused by the project"
                    assert project_allows(projects[app["spec"]["project"]], app["spec"]["destination"]["server"],
                                          namespace), f"{path}: namespace {namespace}"


def test_one_application_per_enabled_component_and_kustomization_lists_all(mini_synth):
    platform = load_platform(mini_synth)
    for env in platform.environments:
        apps = env_objects(mini_synth, env.name, "Application")
        components = {c.name for c in platform.enabled_components(env)}
        workloads = {n for n, a in apps.items() if a["metadata"]["labels"]["meetinity.io/layer"] == "workload"}
        assert workloads == components, env.name
        folder = mini_synth / "argocd" / env.name
        listed = yaml.safe_load((folder / "kustomization.yaml").read_text())["resources"]
        assert listed == sorted(p.name for p in folder.glob("*.yaml") if p.name != "kustomization.yaml")
        assert apps["root"]["spec"]["source"]["path"] == f"argocd/{env.name}"
        assert "application-root.yaml" in listed
        # ClusterIssuers are not applied by `kubectl apply -k` (no CRD yet): their own Application syncs them.
        assert not any("/" in entry for entry in listed)
        assert apps["cluster-issuers"]["spec"]["source"]["path"] == f"argocd/{env.name}/cluster-issuers"
        issuers = {d["metadata"]["name"] for _, d in docs_in(folder / "cluster-issuers")}
        assert env.cluster_issuer in issuers, "the Ingresses reference an issuer that is not generated"


# ---------------------------------------------------------------------------------------------
# policy: waves, sync, deletion
# ---------------------------------------------------------------------------------------------

def wave(obj: dict) -> int:
    return int(obj["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])


def test_sync_waves_order_platform_before_jobs_before_services(mini_synth):
    platform = load_platform(mini_synth)
    for env in platform.environments:
        apps = env_objects(mini_synth, env.name, "Application")
        projects = env_objects(mini_synth, env.name, "AppProject")
        addons = [a for a in apps.values() if a["metadata"]["labels"]["meetinity.io/layer"] == "addon"]
        assert max(wave(p) for p in projects.values()) < min(wave(a) for a in addons)
        assert max(wave(a) for a in addons) < wave(apps["platform"])
        assert wave(apps["cert-manager"]) < wave(apps["cluster-issuers"]) < wave(apps["platform"])
        assert wave(apps["external-secrets"]) < wave(apps["platform"])
        assert wave(apps["kube-prometheus-stack"]) < wave(apps["prometheus-adapter"])
        for c in platform.enabled_components(env):
            expected = 0 if c.kind == "job" else 10
            assert wave(apps[c.name]) == expected and wave(apps["platform"]) < expected, (env.name, c.name)


def test_auto_sync_environments_prune_self_heal_and_cascade_components(mini_synth):
    platform = load_platform(mini_synth)
    env = platform.environment("dev")
    assert env.auto_sync
    for name, app in env_objects(mini_synth, "dev", "Application").items():
        policy = app["spec"]["syncPolicy"]
        assert policy["automated"] == {"prune": True, "selfHeal": True}, name
        assert policy["retry"]["limit"] > 0 and policy["retry"]["backoff"]["factor"] >= 2, name
        workload = app["metadata"]["labels"]["meetinity.io/layer"] == "workload"
        # Cascading delete only for components: never for add-ons (CRDs), the platform layer or the root.
        assert app["metadata"].get("finalizers", []) == (["resources-finalizer.argocd.argoproj.io"] if workload else []), name
        # Pruning works (a component removed from git leaves), but a cascading delete of the root does not.
        assert app["metadata"]["annotations"]["argocd.argoproj.io/sync-options"] == "Delete=false", name
    assert "syncWindows" not in env_objects(mini_synth, "dev", "AppProject")["meetinity-dev"]["spec"]


def test_prod_is_manual_windowed_and_keeps_resources_on_deletion(mini_synth):
    platform = load_platform(mini_synth)
    assert not platform.environment("prod").auto_sync
    apps = env_objects(mini_synth, "prod", "Application")
    for name, app in apps.items():
        assert "automated" not in app["spec"]["syncPolicy"], name
        assert "finalizers" not in app["metadata"], name
        assert app["metadata"]["annotations"]["argocd.argoproj.io/sync-options"] == "Delete=false,Prune=false", name
    for name, project in env_objects(mini_synth, "prod", "AppProject").items():
        spec = project["spec"]
        assert spec["syncWindows"] and all(w["applications"] == ["*"] for w in spec["syncWindows"]), name
        role = {r["name"]: r for r in spec["roles"]}["release-manager"]
        assert f"p, proj:{name}:release-manager, applications, sync, {name}/*, allow" in role["policies"]
        assert role["groups"]
        assert project["metadata"]["annotations"]["argocd.argoproj.io/sync-options"] == "Delete=false,Prune=false"


def test_generated_sync_options_and_component_metadata(mini_synth):
    platform = load_platform(mini_synth)
    for env in platform.environments:
        apps = env_objects(mini_synth, env.name, "Application")
        for c in platform.enabled_components(env):
            app = apps[c.name]
            meta, spec = app["metadata"], app["spec"]
            assert meta["labels"]["meetinity.io/team"] == c.owner
            assert meta["labels"]["meetinity.io/tier"] == c.tier
            assert meta["labels"]["meetinity.io/environment"] == env.name
            assert meta["annotations"]["argocd.argoproj.io/manifest-generate-paths"] == "."
            assert meta["annotations"]["argocd.argoproj.io/compare-options"] == "ServerSideDiff=true"
            assert meta["annotations"]["link.argocd.argoproj.io/grafana-dashboard"].startswith(f"https://grafana.{env.domain}/d/")
            assert meta["annotations"]["link.argocd.argoproj.io/runbook"].startswith("https://")
            for trigger in ("on-sync-failed", "on-health-degraded"):
                assert meta["annotations"][f"notifications.argoproj.io/subscribe.{trigger}.slack"] == env.argocd.slack_channel
            options = spec["syncPolicy"]["syncOptions"]
            assert {"CreateNamespace=false", "PruneLast=true", "ServerSideApply=true",
                    "ApplyOutOfSyncOnly=true", "FailOnSharedResource=true"} <= set(options)
            # The generator omits fields controllers own (HPA replicas), so nothing is ignored.
            assert "ignoreDifferences" not in spec


# ---------------------------------------------------------------------------------------------
# add-ons
# ---------------------------------------------------------------------------------------------

def test_prometheus_adapter_serves_the_inventory_rules_from_the_stack_prometheus(mini_synth):
    platform = load_platform(mini_synth)
    for env in platform.environments:
        app = env_objects(mini_synth, env.name, "Application")["prometheus-adapter"]
        values = app["spec"]["source"]["helm"]["valuesObject"]
        assert values["rules"]["custom"] == adapter_rules(platform, env)
        assert values["rules"]["default"] is False
        assert values["prometheus"] == {"url": "http://kube-prometheus-stack-prometheus.monitoring.svc",
                                        "port": 9090, "path": ""}
    dev_rules = env_objects(mini_synth, "dev", "Application")["prometheus-adapter"]["spec"]["source"]["helm"]["valuesObject"]["rules"]["custom"]
    assert [r["name"]["as"] for r in dev_rules] == ["http_requests_per_second"]


def test_addons_are_pinned_charts_and_ingress_nginx_is_not_installed_twice(mini_synth):
    apps = env_objects(mini_synth, "dev", "Application")
    charts = {a["spec"]["source"]["chart"]: a for a in apps.values() if "chart" in a["spec"]["source"]}
    assert set(charts) == {"kube-prometheus-stack", "cert-manager", "external-secrets", "metrics-server",
                           "vpa", "prometheus-adapter"}
    for chart, app in charts.items():
        assert EXACT_VERSION.match(app["spec"]["source"]["targetRevision"]), chart
        assert app["spec"]["source"]["repoURL"].startswith("https://"), chart
        assert app["spec"]["project"] == "platform-dev"
    # infra/terraform/modules/ingress owns the controller; a second install would fight it.
    assert "ingress-nginx" not in charts
    # Each add-on namespace is created (and labelled) by exactly one Application.
    creators = [a["spec"]["destination"]["namespace"] for a in charts.values()
                if "CreateNamespace=true" in a["spec"]["syncPolicy"]["syncOptions"]]
    assert len(creators) == len(set(creators))


# ---------------------------------------------------------------------------------------------
# the inventory drives it: add a component, remove it
# ---------------------------------------------------------------------------------------------

NEW_COMPONENT = """\
name: basket-service
kind: api
description: Baskets, added by the Argo CD test.
owner: checkout
tier: core
language: python
runtime: python:3.11-slim
source: {path: services/basket-service, dockerfile: services/basket-service/Dockerfile}
image: ghcr.io/meetinity/basket-service
build: docker build services/basket-service
start: uvicorn app:app --host 0.0.0.0 --port 8080
port: 8080
health: {liveness: /health, readiness: /health}
resources:
  requests: {cpu: 50m, memory: 64Mi}
  limits: {cpu: 100m, memory: 128Mi}
"""


def _set_component(root: Path, env: str, settings: dict | None) -> None:
    path = root / "environments" / f"{env}.yaml"
    data = yaml.safe_load(path.read_text())
    if settings is None:
        data["components"].pop("basket-service", None)
    else:
        data["components"]["basket-service"] = settings
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_new_component_file_appears_in_every_enabling_environment_and_leaves_on_removal(mini):
    (mini / "inventory" / "basket-service.yaml").write_text(NEW_COMPONENT)
    _set_component(mini, "dev", {"enabled": True, "image": {"tag": "v1.0.0"}})
    _set_component(mini, "prod", {"enabled": True, "image": {"tag": "v1.0.0", "digest": "sha256:" + "3" * 64}})
    run_gitops(mini, "synth", check=True)
    for env, namespace in (("dev", "shop-dev"), ("prod", "shop-prod")):
        app = yaml.safe_load((mini / f"argocd/{env}/application-basket-service.yaml").read_text())
        assert app["spec"]["source"]["path"] == f"dist/{env}/basket-service"
        assert app["spec"]["project"] == f"meetinity-{env}"
        assert app["spec"]["destination"]["namespace"] == namespace
        assert app["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] == "10"
        assert app["metadata"]["labels"]["meetinity.io/team"] == "checkout"
        assert (mini / app["spec"]["source"]["path"] / "deployment-basket-service.yaml").is_file()
        listed = yaml.safe_load((mini / f"argocd/{env}/kustomization.yaml").read_text())["resources"]
        assert "application-basket-service.yaml" in listed
        assert not crd_errors(app)

    (mini / "inventory" / "basket-service.yaml").unlink()
    _set_component(mini, "dev", None)
    _set_component(mini, "prod", None)
    run_gitops(mini, "synth", check=True)
    for env in ("dev", "prod"):
        assert not (mini / f"argocd/{env}/application-basket-service.yaml").exists()
        assert "application-basket-service.yaml" not in (mini / f"argocd/{env}/kustomization.yaml").read_text()
    assert run_gitops(mini, "synth", "--check").returncode == 0


# ---------------------------------------------------------------------------------------------
# environment settings (environments/<env>.yaml `argocd:`)
# ---------------------------------------------------------------------------------------------

def _with_argocd(root: Path, env: str, settings: dict) -> None:
    path = root / "environments" / f"{env}.yaml"
    data = yaml.safe_load(path.read_text())
    data["argocd"] = settings
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_environment_argocd_settings_override_the_defaults(mini):
    from charts.argocd import component_application, platform_project, workload_project

    _with_argocd(mini, "dev", {"slackChannel": "dev-deploys",
                               "syncWindows": [{"kind": "deny", "schedule": "0 22 * * *", "duration": "8h"}]})
    _with_argocd(mini, "prod", {"syncWindows": [], "syncGroups": ["meetinity:release"]})
    platform = load_platform(mini)
    dev, prod = platform.environment("dev"), platform.environment("prod")
    app = component_application(platform, dev, platform.component("shop-api"))
    assert app["metadata"]["annotations"]["notifications.argoproj.io/subscribe.on-sync-failed.slack"] == "dev-deploys"
    windows = workload_project(platform, dev)["spec"]["syncWindows"]
    assert windows == [{"kind": "deny", "schedule": "0 22 * * *", "duration": "8h", "timeZone": "UTC",
                        "manualSync": False, "applications": ["*"]}]
    # An explicit empty list switches prod's default window off; the role follows syncGroups.
    for project in (workload_project(platform, prod), platform_project(platform, prod)):
        assert "syncWindows" not in project["spec"]
        assert project["spec"]["roles"][0]["groups"] == ["meetinity:release"]
        assert not crd_errors(project)


def test_bad_argocd_settings_are_located_input_errors(mini):
    _with_argocd(mini, "prod", {"syncWindows": [{"kind": "sometimes", "schedule": "daily", "duration": "8h"}]})
    proc = run_gitops(mini, "synth")
    assert proc.returncode == 2
    assert "prod.yaml" in proc.stderr + proc.stdout
    assert "argocd/syncWindows/0/kind" in proc.stderr + proc.stdout
    assert not (mini / "argocd").exists()


def test_component_named_like_a_platform_application_is_refused(mini):
    from charts.argocd import check_names
    from gitops.errors import InputError

    source = (mini / "inventory" / "stock-service.yaml").read_text()
    (mini / "inventory" / "cert-manager.yaml").write_text(source.replace("name: stock-service", "name: cert-manager"))
    _set_component_named(mini, "dev", "cert-manager", {"enabled": True, "image": {"tag": "v1.0.0"}})
    platform = load_platform(mini)
    with pytest.raises(InputError, match="reserved for an Argo CD Application"):
        check_names(platform, platform.environment("dev"))


def _set_component_named(root: Path, env: str, name: str, settings: dict) -> None:
    path = root / "environments" / f"{env}.yaml"
    data = yaml.safe_load(path.read_text())
    data["components"][name] = settings
    path.write_text(yaml.safe_dump(data, sort_keys=False))
