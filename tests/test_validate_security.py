"""SEC rules on a tampered dist/ and argocd/ (issue 17 items 1 and 8, object size): the loader refuses
these in the inputs; validate catches them when the rendered tree was edited by hand."""
from __future__ import annotations

import pytest

from gitops.inputs.namespaces import reserved_namespaces

from .conftest import run_cli
from .test_validate import edit, validate, vbase, vroot  # noqa: F401  (fixtures)

SETTINGS = "dist/dev/shop-api/configmap-shop-api-settings.yaml"
DEPLOY = "dist/dev/shop-api/deployment-shop-api.yaml"


def test_the_fixed_set_has_no_security_finding(vroot):
    report = validate(vroot)
    assert [f for f in report.findings if f.rule_id.startswith("SEC")] == []


@pytest.mark.parametrize("namespace", ["kube-system", "argocd", "monitoring", "default"])
def test_object_moved_into_a_reserved_namespace(vroot, namespace):
    edit(vroot, DEPLOY, lambda d: d["metadata"].update(namespace=namespace))
    (finding,) = validate(vroot).by_rule("SEC001")
    assert finding.file == DEPLOY and finding.path == "metadata.namespace" and finding.line
    assert finding.objects == [f"Deployment/{namespace}/shop-api"]
    assert f"reserved namespace {namespace!r}" in finding.message and "environments/<env>.yaml namespace" in finding.fix


def test_platform_namespace_renamed_to_kube_system(vroot):
    edit(vroot, "dist/dev/platform/namespace-shop-dev.yaml", lambda d: d["metadata"].update(name="kube-system"))
    findings = validate(vroot).by_rule("SEC001")
    assert [f.objects[0] for f in findings] == ["Namespace/kube-system"]


def test_application_and_project_pointed_at_kube_system(vroot):
    edit(vroot, "argocd/dev/application-shop-api.yaml", lambda d: d["spec"]["destination"].update(namespace="kube-system"))
    edit(vroot, "argocd/dev/appproject-meetinity-dev.yaml",
         lambda d: d["spec"]["destinations"].append({"namespace": "kube-system", "server": "https://kubernetes.default.svc"}))
    findings = validate(vroot).by_rule("SEC001")
    assert sorted((f.objects[0], f.path) for f in findings) == [
        ("AppProject/argocd/meetinity-dev", "spec.destinations[1].namespace"),
        ("Application/argocd/shop-api", "spec.destination.namespace"),
    ]


def test_addon_applications_in_their_own_namespaces_are_not_findings(vroot):
    report = validate(vroot)
    assert "kube-system" in reserved_namespaces() and not report.by_rule("SEC001")  # metrics-server lives in kube-system


def test_plaintext_credential_in_a_configmap_and_its_waiver(vroot):
    edit(vroot, SETTINGS, lambda d: d["data"].update(DB_PASSWORD="hunter2-AKIAABCDEFGHIJKLMNOP"))
    (finding,) = validate(vroot).by_rule("SEC002")
    assert finding.path == "data.DB_PASSWORD" and "AWS access key ID" in finding.message
    proc = run_cli(vroot, "validate", "--env", "dev", "--format", "json")
    assert proc.returncode == 1 and '"rule_id": "SEC002"' in proc.stdout

    edit(vroot, SETTINGS, lambda d: d["metadata"].setdefault("annotations", {}).update(
        {"waiver.meetinity.io/SEC002": "test fixture credential, revoked"}))
    report = validate(vroot)
    assert not report.by_rule("SEC002") and [w.rule_id for w in report.waived] == ["SEC002"]


def test_object_over_one_mebibyte(vroot):
    edit(vroot, SETTINGS, lambda d: d["data"].update(BLOB="x" * (1024 * 1024)))
    (finding,) = validate(vroot).by_rule("SEC003")
    assert finding.objects == ["ConfigMap/shop-dev/shop-api-settings"] and "1 MiB" in finding.message
    edit(vroot, SETTINGS, lambda d: d["data"].update(BLOB="x" * (1024 * 1024 - 2000)))
    assert not validate(vroot).by_rule("SEC003")
