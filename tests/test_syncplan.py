"""`gitops sync-plan` and validate rules ARG005-ARG009 on this repository's committed prod output
and on tampered copies of it (each tampering recreates one class of bootstrap stall)."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

from charts.argocd import COMPONENT_KINDS
from gitops.pipeline.canonical import dump_objects
from gitops.syncplan import order
from gitops.validate import run_validation

from .conftest import REPO, load_docs, private_copy, run_gitops
from .inventory_samples import inventory_yaml, migrations_of

ENV = "prod"
# prod delivers user-service progressively (a Rollout) or by RollingUpdate (a Deployment): the plan treats both alike.
WORKLOAD = next(p.name.split("-", 1)[0].title() for p in (REPO / "dist" / ENV / "user-service").glob("*-user-service.yaml")
                if p.name.startswith(("deployment-", "rollout-")))
SYNC_RULES = ("ARG005", "ARG006", "ARG007", "ARG008", "ARG009")


@pytest.fixture(scope="module")
def prod_base(tmp_path_factory) -> Path:
    """The repository's inputs and committed prod output, copied once."""
    base = tmp_path_factory.mktemp("syncplan") / "repo"
    for name in ("inventory", "environments", f"dist/{ENV}", f"argocd/{ENV}"):
        shutil.copytree(REPO / name, base / name)
    return base


@pytest.fixture
def prod(prod_base, tmp_path) -> Path:
    return private_copy(prod_base, tmp_path)


def edit(root: Path, rel: str, fn) -> None:
    objs = load_docs(root, rel)
    for d in objs:
        fn(d)
    (root / rel).write_bytes(dump_objects(objs))


def plan_json(root: Path) -> tuple[int, dict]:
    proc = run_gitops(root, "sync-plan", "--env", ENV, "--format", "json")
    return proc.returncode, json.loads(proc.stdout)


def stalls(root: Path) -> list[tuple[str, str | None, str | None]]:
    code, plan = plan_json(root)
    found = sorted((s["rule_id"], s["application"], s["resource"]) for s in plan["stalls"])
    assert (code == 1) == bool(found) and plan["ok"] == (not found)
    return found


def sync_findings(root: Path) -> list[tuple[str, list[str]]]:
    report = run_validation(root, envs=[ENV], base_ref=None, use_cache=False)
    return sorted((f.rule_id, f.objects) for f in report.findings if f.rule_id in SYNC_RULES)


# ---------------------------------------------------------------------------------------------
# the committed prod output
# ---------------------------------------------------------------------------------------------

def test_prod_plan_shows_the_full_bootstrap_order_and_exits_0():
    proc = run_gitops(REPO, "sync-plan", "--env", ENV)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = proc.stdout
    assert "no step waits forever or fails" in text
    # the root applies projects, then add-ons (CRD providers first), the platform layer, components
    order_in_text = [text.index(f"  {k} {n}\n") for k, n in (
        ("AppProject", "meetinity-prod"), ("Application", "kube-prometheus-stack"), ("Application", "external-secrets"),
        ("Application", "cluster-issuers"), ("Application", "platform"), ("Application", "user-service"))]
    assert order_in_text == sorted(order_in_text)
    code, plan = plan_json(REPO)
    assert code == 0 and plan["ok"] and plan["stalls"] == []
    apps = {a["name"]: a for a in plan["applications"]}
    assert [a["name"] for a in plan["applications"]][0] == "kube-prometheus-stack"
    assert apps["kube-prometheus-stack"]["provides_crds"] == ["monitoring.coreos.com"]
    assert "ExternalSecret (external-secrets.io) from external-secrets" in apps["user-service"]["crds_from"]
    # inside user-service: secrets and accounts, then the migration hook, then the workload
    steps = [(s["kind"], s["name"]) for s in apps["user-service"]["steps"]]
    assert steps.index(("ExternalSecret", "user-service-migrations-secrets")) < steps.index(("Job", "user-service-migrations"))
    assert steps.index(("ServiceAccount", "user-service-migrations")) < steps.index(("Job", "user-service-migrations"))
    assert steps.index(("Job", "user-service-migrations")) < steps.index((WORKLOAD, "user-service"))
    hook = next(s for s in apps["user-service"]["steps"] if s["kind"] == "Job")
    assert hook["hook"] and hook["phase"] == "Sync"
    # the migration jobs have no Application of their own any more
    assert not {"user-service-migrations", "event-service-migrations", "matching-service-migrations",
                "search-index-manager"} & set(apps)


def test_kind_order_is_argo_cds():
    """gitops-engine sync_tasks.go: listed kinds in order, every unlisted kind (custom resources) last."""
    assert order.KIND_ORDER["Namespace"] < order.KIND_ORDER["ServiceAccount"] < order.KIND_ORDER["Deployment"] \
        < order.KIND_ORDER["Job"] < order.KIND_ORDER.get("ExternalSecret", 0) == 0
    keys = sorted([order.sort_key("Sync", 0, "ExternalSecret", "a"), order.sort_key("Sync", 0, "Deployment", "b"),
                   order.sort_key("PreSync", 5, "Job", "c"), order.sort_key("Sync", -1, "ConfigMap", "d")])
    assert keys[0][0] == -1 and keys[1][1] == -1 and keys[-1][2] == 0


def test_committed_prod_output_has_no_sync_findings(prod):
    assert sync_findings(prod) == []


def test_component_project_whitelists_exactly_the_kinds_the_generator_emits():
    """COMPONENT_KINDS is the single list: every kind a component folder holds is in it, and each entry is used."""
    emitted = set()
    for env in ("dev", "staging", "prod"):
        for path in (REPO / "dist" / env).glob("*/*.yaml"):
            if path.parent.name == "platform":
                continue
            d = yaml.safe_load(path.read_text())
            emitted.add((d["apiVersion"].rpartition("/")[0], d["kind"]))
    declared = set(COMPONENT_KINDS)
    assert emitted <= declared, emitted - declared
    # PersistentVolumeClaim comes from inventory volumes of kind persistentVolumeClaim (charts/workload.py).
    assert declared - emitted <= {("", "PersistentVolumeClaim")}
    project = load_docs(REPO, f"argocd/{ENV}/appproject-meetinity-{ENV}.yaml")[0]["spec"]
    assert project["clusterResourceWhitelist"] == []
    assert {(e["group"], e["kind"]) for e in project["namespaceResourceWhitelist"]} == declared


# ---------------------------------------------------------------------------------------------
# tampered copies: each names the Application and resource that would stall
# ---------------------------------------------------------------------------------------------

APP = f"argocd/{ENV}/application-user-service.yaml"


def test_cr_without_skip_dry_run_stalls(prod):
    edit(prod, APP, lambda d: d["spec"]["syncPolicy"]["syncOptions"].remove("SkipDryRunOnMissingResource=true"))
    found = stalls(prod)
    assert found and {(r, a) for r, a, _ in found} == {("ARG005", "user-service")}
    proc = run_gitops(prod, "sync-plan", "--env", ENV)
    assert proc.returncode == 1
    assert "ARG005 Application user-service: Application/argocd/user-service" in proc.stdout
    assert "SkipDryRunOnMissingResource" in proc.stdout
    assert {r for r, _ in sync_findings(prod)} == {"ARG005"}


def test_cr_whose_crd_comes_in_a_later_wave_stalls(prod):
    edit(prod, f"argocd/{ENV}/application-external-secrets.yaml",
         lambda d: d["metadata"]["annotations"].update({"argocd.argoproj.io/sync-wave": "20"}))
    found = stalls(prod)
    assert ("ARG005", "platform", "ExternalSecret/meetinity-prod/ghcr-pull-secret") in found
    assert ("ARG005", "user-service", "ExternalSecret/meetinity-prod/user-service-secrets") in found


def test_secret_consumer_before_its_external_secret(prod):
    rel = f"dist/{ENV}/user-service/externalsecret-user-service-secrets.yaml"
    edit(prod, rel, lambda d: d["metadata"].setdefault("annotations", {}).update({"argocd.argoproj.io/sync-wave": "1"}))
    assert stalls(prod) == [("ARG006", "user-service", f"{WORKLOAD}/meetinity-prod/user-service")]
    assert sync_findings(prod) == [("ARG006", [f"{WORKLOAD}/meetinity-prod/user-service",
                                               "ExternalSecret/meetinity-prod/user-service-secrets"])]


def test_hook_in_another_application_than_its_workload(prod):
    """Today's layout: the migration Job synced by its own Application while user-service rolls alone."""
    def single_source(d):
        d["spec"]["source"] = d["spec"].pop("sources")[0]
    edit(prod, APP, single_source)
    migrations = load_docs(prod, APP)[0]
    migrations["metadata"]["name"] = "user-service-migrations"
    migrations["spec"]["source"]["path"] = f"dist/{ENV}/user-service-migrations"
    (prod / f"argocd/{ENV}/application-user-service-migrations.yaml").write_bytes(dump_objects([migrations]))
    assert ("ARG007", "user-service-migrations", "Job/meetinity-prod/user-service-migrations") in stalls(prod)
    assert ("ARG007", ["Job/meetinity-prod/user-service-migrations", f"{WORKLOAD}/meetinity-prod/user-service",
                       "Application/argocd/user-service"]) in sync_findings(prod)


def test_hook_after_its_workload_in_the_same_application(prod):
    rel = f"dist/{ENV}/user-service-migrations/job-user-service-migrations.yaml"
    edit(prod, rel, lambda d: d["metadata"]["annotations"].update({"argocd.argoproj.io/sync-wave": "5"}))
    assert stalls(prod) == [("ARG007", "user-service", "Job/meetinity-prod/user-service-migrations")]


def test_component_project_allowing_cluster_scoped_kinds(prod):
    rel = f"argocd/{ENV}/appproject-meetinity-{ENV}.yaml"
    edit(prod, rel, lambda d: d["spec"].update(clusterResourceWhitelist=[{"group": "", "kind": "Namespace"}]))
    assert ("ARG008", ["AppProject/argocd/meetinity-prod", "Application/argocd/admin-portal"]) in sync_findings(prod)
    edit(prod, rel, lambda d: (d["spec"].update(clusterResourceWhitelist=[]), d["spec"].pop("namespaceResourceWhitelist")))
    assert [r for r, _, _ in stalls(prod)] == ["ARG008"]


def test_unprotected_namespace_cluster_secret_store_and_children(prod):
    edit(prod, f"dist/{ENV}/platform/namespace-meetinity-prod.yaml",
         lambda d: d["metadata"]["annotations"].pop("argocd.argoproj.io/sync-options"))
    edit(prod, f"dist/{ENV}/platform/clustersecretstore-vault-prod.yaml",
         lambda d: d["metadata"]["annotations"].update({"argocd.argoproj.io/sync-options": "Prune=confirm"}))
    edit(prod, APP, lambda d: d["metadata"]["annotations"].pop("argocd.argoproj.io/sync-options"))
    edit(prod, f"argocd/{ENV}/application-root.yaml",
         lambda d: d["metadata"].update(finalizers=["resources-finalizer.argocd.argoproj.io"]))
    assert stalls(prod) == [("ARG009", "platform", "ClusterSecretStore/vault-prod"),
                            ("ARG009", "platform", "Namespace/meetinity-prod"),
                            ("ARG009", "root", "Application/argocd/root"),
                            ("ARG009", "root", "Application/argocd/user-service")]
    assert {r for r, _ in sync_findings(prod)} == {"ARG009"}


def test_bad_input_is_exit_2_and_unknown_env_is_located(prod):
    proc = run_gitops(prod, "sync-plan", "--env", "qa")
    assert proc.returncode == 2 and "unknown environment 'qa'" in proc.stderr
    (prod / f"argocd/{ENV}/application-user-service.yaml").write_text("kind: [unclosed\n")
    proc = run_gitops(prod, "sync-plan", "--env", ENV)
    assert proc.returncode == 2 and "application-user-service.yaml" in proc.stderr


def test_list_rules_shows_the_sync_rules():
    proc = run_gitops(REPO, "validate", "--list-rules")
    assert proc.returncode == 0
    for rule in SYNC_RULES:
        assert rule in proc.stdout


# ---------------------------------------------------------------------------------------------
# inventory runsBefore: the hook goes into its workload's Application; bad references are input errors
# ---------------------------------------------------------------------------------------------

MIGRATIONS = inventory_yaml(migrations_of("stock-service", "stock-migrations"))


def _enable(root: Path, env: str, name: str, settings: dict | None) -> None:
    path = root / "environments" / f"{env}.yaml"
    data = yaml.safe_load(path.read_text())
    if settings is None:
        data["components"].pop(name, None)
    else:
        data["components"][name] = settings
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_runs_before_puts_the_job_hook_in_the_workload_application(mini):
    (mini / "inventory" / "stock-migrations.yaml").write_text(MIGRATIONS)
    # From stock-service's image, so at its version (gitops/inputs/model.py image_group).
    _enable(mini, "dev", "stock-migrations", {"enabled": True, "image": {"tag": "v0.9.1"}})
    run_gitops(mini, "synth", check=True)
    assert not (mini / "argocd/dev/application-stock-migrations.yaml").exists()
    app = load_docs(mini, "argocd/dev/application-stock-service.yaml")[0]
    assert [s["path"] for s in app["spec"]["sources"]] == ["dist/dev/stock-service", "dist/dev/stock-migrations"]
    assert app["metadata"]["annotations"]["argocd.argoproj.io/manifest-generate-paths"] == \
        "/dist/dev/stock-service;/dist/dev/stock-migrations"
    job = load_docs(mini, "dist/dev/stock-migrations/job-stock-migrations.yaml")[0]["metadata"]["annotations"]
    assert job["argocd.argoproj.io/hook"] == "Sync" and job["argocd.argoproj.io/hook-delete-policy"] == "BeforeHookCreation"
    assert job["meetinity.io/runs-before"] == "stock-service" and job["argocd.argoproj.io/sync-wave"] == "0"
    es = load_docs(mini, "dist/dev/stock-migrations/externalsecret-stock-migrations-secrets.yaml")[0]
    assert es["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] == "-1"
    deploy = load_docs(mini, "dist/dev/stock-service/deployment-stock-service.yaml")[0]
    assert deploy["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] == "1"
    proc = run_gitops(mini, "sync-plan", "--env", "dev", "--format", "json")
    assert proc.returncode == 0, proc.stdout
    steps = [(s["kind"], s["name"]) for a in json.loads(proc.stdout)["applications"] if a["name"] == "stock-service"
             for s in a["steps"]]
    assert steps.index(("Job", "stock-migrations")) < steps.index(("Deployment", "stock-service"))


@pytest.mark.parametrize("change, expected", [
    (lambda t: t.replace("runsBefore: stock-service", "runsBefore: stock-servise"),
     "runsBefore: expected the name of an inventory component, found unknown 'stock-servise'"),
    (lambda t: t.replace("runsBefore: stock-service", "runsBefore: postgresql"),
     "runsBefore: expected a long-running component (api, frontend, worker), found 'postgresql'"),
    (lambda t: t.replace("kind: job", "kind: cronjob") + "schedule: '@daily'\n",
     "runsBefore: only job components run as a hook before a workload; this one is 'cronjob'"),
])
def test_bad_runs_before_is_a_located_input_error(mini, change, expected):
    (mini / "inventory" / "stock-migrations.yaml").write_text(change(MIGRATIONS))
    _enable(mini, "dev", "stock-migrations", {"enabled": True, "image": {"tag": "v1.0.0"}})
    proc = run_gitops(mini, "synth")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "inventory/stock-migrations.yaml:3" in proc.stderr and expected in proc.stderr
    assert not (mini / "dist").exists() and not (mini / "argocd").exists()


def test_hook_whose_workload_is_disabled_is_an_input_error(mini):
    (mini / "inventory" / "stock-migrations.yaml").write_text(MIGRATIONS)
    _enable(mini, "prod", "stock-migrations", {"enabled": True, "image": {"tag": "v1.0.0", "digest": "sha256:" + "4" * 64}})
    _enable(mini, "prod", "stock-service", {"enabled": False})
    proc = run_gitops(mini, "synth")
    assert proc.returncode == 2
    assert "prod.yaml" in proc.stderr and "stock-migrations runs before stock-service" in proc.stderr
    assert not (mini / "dist").exists()


DOCS = REPO / "docs" / "argocd.md"
BEGIN, END = "<!-- sync-plan prod: begin -->\n", "<!-- sync-plan prod: end -->\n"


def test_docs_show_the_current_prod_plan():
    """docs/argocd.md pastes `gitops sync-plan --env prod`; UPDATE_GOLDEN=1 refreshes it."""
    proc = run_gitops(REPO, "sync-plan", "--env", ENV)
    assert proc.returncode == 0
    block = f"{BEGIN}```text\n{proc.stdout.rstrip()}\n```\n{END}"
    text = DOCS.read_text()
    start, end = text.index(BEGIN), text.index(END) + len(END)
    if os.environ.get("UPDATE_GOLDEN"):
        text = text[:start] + block + text[end:]
        DOCS.write_text(text)
        start, end = start, start + len(block)
    assert text[start:end] == block, "docs/argocd.md shows an old sync plan: UPDATE_GOLDEN=1 pytest tests/test_syncplan.py -k docs"


def test_cr_that_no_application_installs(prod):
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "meetinity-prod"}}
    (prod / f"dist/{ENV}/user-service/widget-w.yaml").write_bytes(dump_objects([widget]))
    # with SkipDryRunOnMissingResource the CRD may come from outside Argo CD: the plan shows "from nobody"
    code, plan = plan_json(prod)
    assert code == 0
    assert "Widget (example.com) from nobody" in {a["name"]: a for a in plan["applications"]}["user-service"]["crds_from"]
    edit(prod, APP, lambda d: d["spec"]["syncPolicy"]["syncOptions"].remove("SkipDryRunOnMissingResource=true"))
    assert ("ARG005", "user-service", "Widget/meetinity-prod/w") in stalls(prod)
