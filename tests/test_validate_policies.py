"""Policy rules (POL): each test breaks one thing in the fixture platform and pins the exact finding."""
from __future__ import annotations

import pytest

from .test_validate import DEPLOY, container, edit, summary, validate, vbase, vroot, write  # noqa: F401

D = ["Deployment/shop-dev/shop-api"]
CRON = "dist/dev/stock-report/cronjob-stock-report.yaml"


def _pod(d):
    return d["spec"]["template"]["spec"]


def _ctx(d):
    return container(d)["securityContext"]


@pytest.mark.parametrize("rule,mutate", [
    ("POL001", lambda d: (_ctx(d).pop("runAsNonRoot"), _pod(d)["securityContext"].pop("runAsNonRoot"))),
    ("POL001", lambda d: (_ctx(d).update(runAsUser=0))),
    ("POL002", lambda d: _ctx(d).update(readOnlyRootFilesystem=False)),
    ("POL003", lambda d: _ctx(d).pop("allowPrivilegeEscalation")),
    ("POL003", lambda d: _ctx(d).update(privileged=True)),
    ("POL004", lambda d: _ctx(d)["capabilities"].update(drop=["NET_RAW"])),
    ("POL004", lambda d: _ctx(d)["capabilities"].update(add=["NET_ADMIN"])),
    ("POL005", lambda d: (_ctx(d).pop("seccompProfile"), _pod(d)["securityContext"].pop("seccompProfile"))),
    ("POL005", lambda d: _ctx(d).update(seccompProfile={"type": "Unconfined"})),
    ("POL006", lambda d: container(d)["resources"].pop("limits")),
    ("POL007", lambda d: container(d).pop("readinessProbe")),
    ("POL008", lambda d: container(d).update(image="ghcr.io/meetinity/shop-api:latest")),
    ("POL008", lambda d: container(d).update(image="ghcr.io/meetinity/shop-api")),
    ("POL012", lambda d: _pod(d).update(automountServiceAccountToken=True)),
])
def test_pod_policy(vroot, rule, mutate):
    edit(vroot, DEPLOY, mutate)
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [(rule, D)]
    assert report.findings[0].path.startswith("spec.template.spec")


def test_the_facts_jaeger_sidecar_without_resources_and_root_containers(vroot):
    """Old charts: the jaeger-agent sidecar has resources: {}; moderation/payment/search run as root."""
    def add_sidecar(d):
        sidecar = {"name": "jaeger-agent", "image": "jaegertracing/jaeger-agent:1.52.0", "resources": {},
                   "securityContext": {"runAsUser": 0, "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False,
                                       "capabilities": {"drop": ["ALL"]}}}
        _pod(d)["containers"].append(sidecar)
    edit(vroot, DEPLOY, add_sidecar)
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("POL001", D), ("POL006", D), ("POL007", D)]
    assert all("'jaeger-agent'" in f.message for f in report.findings)


def test_token_automount_falls_back_to_the_service_account(vroot):
    edit(vroot, DEPLOY, lambda d: _pod(d).pop("automountServiceAccountToken"))
    assert validate(vroot, envs=["dev"]).findings == []  # the ServiceAccount has it off
    edit(vroot, "dist/dev/shop-api/serviceaccount-shop-api.yaml", lambda d: d.pop("automountServiceAccountToken"))
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("POL012", D + ["ServiceAccount/shop-dev/shop-api"])]


def test_prod_images_must_be_pinned_by_digest(vroot):
    rel = "dist/prod/shop-api/deployment-shop-api.yaml"
    edit(vroot, rel, lambda d: container(d).update(image="ghcr.io/meetinity/shop-api:v1.2.0"))
    report = validate(vroot, envs=["prod"])
    assert summary(report) == [("POL009", ["Deployment/shop-prod/shop-api"])]
    assert "environments/prod.yaml" in report.findings[0].fix
    # dev does not require digests
    edit(vroot, DEPLOY, lambda d: container(d).update(image="ghcr.io/meetinity/shop-api:v1.2.0"))
    assert validate(vroot, envs=["dev"]).findings == []


def test_cronjob_pods_are_checked_but_need_no_probes(vroot):
    edit(vroot, CRON, lambda d: d["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0].update(
        image="ghcr.io/meetinity/stock-service:latest"))
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("POL008", ["CronJob/shop-dev/stock-report"])]
    assert report.findings[0].path == "spec.jobTemplate.spec.template.spec.containers[0].image"


def test_plain_secret_in_git(vroot):
    """Old deploy.sh creates plain Secrets platform-database / platform-redis."""
    write(vroot, "dist/dev/shop-api/secret-platform-database.yaml", {
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": "platform-database", "namespace": "shop-dev", "labels": {
            "app.kubernetes.io/name": "shop-api", "app.kubernetes.io/instance": "shop-api-dev",
            "app.kubernetes.io/part-of": "meetinity", "app.kubernetes.io/managed-by": "meetinity-gitops",
            "meetinity.io/environment": "dev"}},
        "stringData": {"url": "postgresql://meetinity:secret@db/meetinity"}})
    report = validate(vroot, envs=["dev"])
    # the plain Secret; Argo CD's project refuses Secrets anyway; and (a warning) nothing uses it
    assert summary(report) == [("ARG002", ["Application/argocd/shop-api", "AppProject/argocd/meetinity-dev",
                                           "Secret/shop-dev/platform-database"]),
                               ("POL010", ["Secret/shop-dev/platform-database"]),
                               ("XRF005", ["Secret/shop-dev/platform-database"])]


def test_required_labels(vroot):
    rel = "dist/dev/shop-api/service-shop-api.yaml"
    edit(vroot, rel, lambda d: d["metadata"]["labels"].pop("app.kubernetes.io/part-of"))
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("POL011", ["Service/shop-dev/shop-api"])]
    assert "app.kubernetes.io/part-of" in report.findings[0].message
    edit(vroot, rel, lambda d: d["metadata"]["labels"].update({"app.kubernetes.io/part-of": "meetinity",
                                                               "meetinity.io/environment": "prod"}))
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("POL011", ["Service/shop-dev/shop-api"])]
    assert "dist/dev/" in report.findings[0].message


def test_pdb_that_blocks_every_eviction_at_minimum_replicas(vroot):
    """Old values: dev PDB minAvailable 1 with 1 replica; prod matching PDB 2 with HPA min 2."""
    pdb = "dist/dev/stock-service/poddisruptionbudget-stock-service.yaml"
    edit(vroot, pdb, lambda d: (d["spec"].pop("maxUnavailable"), d["spec"].update(minAvailable=1)))
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("POL013", ["PodDisruptionBudget/shop-dev/stock-service", "Deployment/shop-dev/stock-service"])]
    assert "minimum of 1 replica(s)" in report.findings[0].message

    hpa_pdb = "dist/dev/shop-api/poddisruptionbudget-shop-api.yaml"
    edit(vroot, pdb, lambda d: (d["spec"].pop("minAvailable"), d["spec"].update(maxUnavailable=1)))
    edit(vroot, hpa_pdb, lambda d: (d["spec"].pop("maxUnavailable"), d["spec"].update(minAvailable=2)))
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("POL013", ["PodDisruptionBudget/shop-dev/shop-api", "Deployment/shop-dev/shop-api",
                                           "HorizontalPodAutoscaler/shop-dev/shop-api"])]
    edit(vroot, hpa_pdb, lambda d: d["spec"].update(minAvailable="50%"))  # 1 of 2 may go: fine
    assert validate(vroot, envs=["dev"]).findings == []


def test_hpa_min_greater_than_max(vroot):
    rel = "dist/dev/shop-api/horizontalpodautoscaler-shop-api.yaml"
    edit(vroot, rel, lambda d: d["spec"].update(minReplicas=5, maxReplicas=3))
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("POL014", ["HorizontalPodAutoscaler/shop-dev/shop-api"])]
