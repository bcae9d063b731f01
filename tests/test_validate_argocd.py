"""Argo CD rules (ARG): source paths, project destinations and permissions, single ownership, and
components removed from prod compared with a git base ref."""
from __future__ import annotations

import copy
import subprocess

import pytest

from gitops.errors import InputError
from gitops.validate.argocd_checks import argo_glob, destination_permitted

from .conftest import run_cli
from .test_validate import edit, load_docs, summary, validate, vbase, vroot, write  # noqa: F401

APP = "argocd/dev/application-shop-api.yaml"
PROJECT = "argocd/dev/appproject-meetinity-dev.yaml"


def test_source_path_missing_or_without_manifests(vroot):
    edit(vroot, APP, lambda d: d["spec"]["source"].update(path="dist/dev/shop-api-v2"))
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("ARG001", ["Application/argocd/shop-api"])]
    assert "dist/dev/shop-api-v2, which does not exist" in report.findings[0].message
    assert report.findings[0].path == "spec.source.path"

    (vroot / "dist/dev/empty").mkdir()
    edit(vroot, APP, lambda d: d["spec"]["source"].update(path="dist/dev/empty"))
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("ARG001", ["Application/argocd/shop-api"])]
    assert "holds no manifests" in report.findings[0].message


def test_kustomization_listing_a_missing_file(vroot):
    (vroot / "argocd/dev/application-stock-report.yaml").unlink()
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("ARG001", ["Application/argocd/root"])]
    assert "application-stock-report.yaml, which does not exist" in report.findings[0].message


def test_destination_not_permitted_by_the_project(vroot):
    edit(vroot, APP, lambda d: d["spec"]["destination"].update(namespace="shop-other"))
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("ARG002", ["Application/argocd/shop-api", "AppProject/argocd/meetinity-dev"])]
    assert "namespace 'shop-other'" in report.findings[0].message
    # Argo CD globs: a project allowing shop-* permits it again... and a '!' entry denies
    edit(vroot, PROJECT, lambda d: d["spec"]["destinations"].append({"namespace": "shop-*", "server": "https://kubernetes.default.svc"}))
    assert validate(vroot, envs=["dev"]).findings == []
    edit(vroot, PROJECT, lambda d: d["spec"]["destinations"].insert(0, {"namespace": "!shop-other", "server": "*"}))
    assert summary(validate(vroot, envs=["dev"])) == [("ARG002", ["Application/argocd/shop-api", "AppProject/argocd/meetinity-dev"])]


def test_unknown_project(vroot):
    edit(vroot, APP, lambda d: d["spec"].update(project="meetinity"))
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("ARG002", ["Application/argocd/shop-api"])]
    assert "AppProject meetinity, which is not defined" in report.findings[0].message


def test_project_refuses_a_plain_secret_and_foreign_namespaces(vroot):
    labels = {"app.kubernetes.io/name": "shop-api", "app.kubernetes.io/instance": "shop-api-dev",
              "app.kubernetes.io/part-of": "meetinity", "app.kubernetes.io/managed-by": "meetinity-gitops",
              "meetinity.io/environment": "dev"}
    write(vroot, "dist/dev/shop-api/configmap-elsewhere.yaml", {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "elsewhere", "namespace": "shop-other", "labels": labels},
        "data": {"a": "b"}})
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("ARG002", ["Application/argocd/shop-api", "AppProject/argocd/meetinity-dev",
                                           "ConfigMap/shop-other/elsewhere"])]


def test_two_applications_owning_the_same_resources(vroot):
    (app,) = load_docs(vroot, APP)
    twin = copy.deepcopy(app)
    twin["metadata"]["name"] = "shop-api-twin"
    write(vroot, "argocd/dev/application-shop-api-twin.yaml", twin)
    report = validate(vroot, envs=["dev"])
    owned = len(list((vroot / "dist/dev/shop-api").glob("*.yaml")))
    assert len(report.findings) == owned
    assert {f.rule_id for f in report.findings} == {"ARG003"}
    # files are read in name order: the twin comes first, so shop-api is the second owner named
    assert all(f.objects[:2] == ["Application/argocd/shop-api", "Application/argocd/shop-api-twin"] for f in report.findings)
    assert any(f.objects[2] == "Deployment/shop-dev/shop-api" for f in report.findings)


def test_same_application_names_in_two_clusters_are_not_a_conflict(vbase):
    # dev and prod both have "root", "platform", "shop-api": separate clusters, separate Argo CDs.
    assert {d["metadata"]["name"] for d in load_docs(vbase, "argocd/prod/application-root.yaml")} == {"root"}
    assert validate(vbase).findings == []


def test_argo_glob_and_destination_rules():
    assert argo_glob("shop-*", "shop-dev") and not argo_glob("shop-*", "kube-system")
    assert argo_glob("{dev,prod}-?", "dev-1") and argo_glob("*", "")
    dests = [{"server": "https://kubernetes.default.svc", "namespace": "meetinity-*"},
             {"server": "*", "namespace": "!meetinity-prod"}]
    assert destination_permitted(dests, "https://kubernetes.default.svc", "", "meetinity-dev")
    assert not destination_permitted(dests, "https://kubernetes.default.svc", "", "meetinity-prod")
    assert destination_permitted([{"name": "in-cluster", "namespace": "*"}], "", "in-cluster", "x")


# --- removals from prod --------------------------------------------------------------------------
def _git(root, *args):
    subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                   check=True, capture_output=True)


@pytest.fixture
def repo(vroot):
    _git(vroot, "init", "-q", "-b", "main")
    _git(vroot, "add", "-A")
    _git(vroot, "commit", "-q", "-m", "base")
    return vroot


def _decommission_stock_service(root):
    import shutil
    shutil.rmtree(root / "dist/prod/stock-service")
    (root / "argocd/prod/application-stock-service.yaml").unlink()
    kust = root / "argocd/prod/kustomization.yaml"
    kust.write_text("".join(l for l in kust.read_text().splitlines(True) if "stock-service" not in l))


def test_component_removed_from_prod_needs_acknowledgement(repo):
    _decommission_stock_service(repo)
    report = validate(repo, envs=["prod"])
    assert summary(report) == [("ARG004", ["Application/stock-service"]), ("ARG004", ["dist/prod/stock-service/"])]
    assert all(f.file == "environments/prod.yaml" for f in report.findings)
    env = repo / "environments/prod.yaml"
    env.write_text(env.read_text() + "decommissioned: [stock-service]\n")
    assert validate(repo, envs=["prod"]).findings == []
    # an explicit base that never had it: nothing to acknowledge either
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "decommission stock-service")
    env.write_text(env.read_text().replace("decommissioned: [stock-service]\n", ""))
    assert validate(repo, envs=["prod"], base_ref="HEAD").findings == []
    assert summary(validate(repo, envs=["prod"], base_ref="HEAD~1")) == [
        ("ARG004", ["Application/stock-service"]), ("ARG004", ["dist/prod/stock-service/"])]
    proc = run_cli(repo, "validate", "--env", "prod", "--base", "HEAD~1")
    assert proc.returncode == 1 and "ARG004" in proc.stdout


def test_bad_base_ref_is_an_input_error(repo, vbase):
    with pytest.raises(InputError, match="expected a git commit"):
        validate(repo, base_ref="no-such-branch")
    with pytest.raises(InputError, match="not a git repository"):
        validate(vbase, base_ref="HEAD")
    assert validate(vbase).findings == []  # default base: a folder outside git has no history to compare


def test_application_folded_into_another_as_a_hook_source_is_not_a_removal(repo):
    """A job that becomes a Sync hook of its workload's Application (runsBefore) loses its own
    Application but keeps its folder, now synced by that Application: nothing leaves prod."""
    import yaml as _yaml
    app = repo / "argocd/prod/application-stock-service.yaml"
    doc = _yaml.safe_load(app.read_text())
    source = doc["spec"].pop("source")
    doc["spec"]["sources"] = [source, {**source, "path": "dist/prod/shop-api"}]
    app.write_text(_yaml.safe_dump(doc))
    (repo / "argocd/prod/application-shop-api.yaml").unlink()
    kust = repo / "argocd/prod/kustomization.yaml"
    kust.write_text("".join(l for l in kust.read_text().splitlines(True) if "application-shop-api" not in l))
    assert [f for f in validate(repo, envs=["prod"]).findings if f.rule_id == "ARG004"] == []
    # ... but the same Application gone while nothing syncs its folder is a removal
    doc["spec"]["sources"] = [source]
    app.write_text(_yaml.safe_dump(doc))
    assert ("ARG004", ["Application/shop-api"]) in summary(validate(repo, envs=["prod"]))
