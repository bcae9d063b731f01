"""Cross-resource rules (XRF), one test per check class, including every manifest-expressible defect
class found in the old Helm/Terraform setup. Each breaks the fixture platform the way the old Helm setup was
broken and pins the exact rule IDs and objects; the unbroken fixture is clean (test_validate.py)."""
from __future__ import annotations

import copy

from .test_validate import DEPLOY, container, edit, load_docs, summary, validate, vbase, vroot, write  # noqa: F401

SHOP = "Deployment/shop-dev/shop-api"
STOCK = "Deployment/shop-dev/stock-service"
SVC = "dist/dev/shop-api/service-shop-api.yaml"
NP = "dist/dev/shop-api/networkpolicy-shop-api.yaml"
ING = "dist/dev/shop-api/ingress-shop-api.yaml"
HPA = "dist/dev/shop-api/horizontalpodautoscaler-shop-api.yaml"
STOCK_DEPLOY = "dist/dev/stock-service/deployment-stock-service.yaml"


def _labels(name="shop-api", env="dev"):
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": f"{name}-{env}",
            "app.kubernetes.io/part-of": "meetinity", "app.kubernetes.io/managed-by": "meetinity-gitops",
            "meetinity.io/environment": env}


def _external_secret(name, target, keys, secret_type=None, component="shop-api"):
    target_spec = {"name": target, "creationPolicy": "Owner"}
    if secret_type:
        target_spec["template"] = {"type": secret_type}
    return {"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret",
            "metadata": {"name": name, "namespace": "shop-dev", "labels": _labels(component)},
            "spec": {"refreshInterval": "1h", "secretStoreRef": {"kind": "ClusterSecretStore", "name": "vault-dev"},
                     "target": target_spec,
                     "data": [{"secretKey": k, "remoteRef": {"key": f"dev/{name}", "property": k}} for k in keys]}}


# --- Service targetPort <-> container port; container port <-> the app ----------------------------
def test_service_port_5000_vs_container_8080(vroot):
    """Old charts: Services targeting 5000-5005 while every app binds 8080."""
    edit(vroot, SVC, lambda d: d["spec"]["ports"][0].update(port=5000, targetPort=5000))
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("XRF001", ["Service/shop-dev/shop-api", SHOP])]
    assert "targets 5000" in report.findings[0].message and "http=8080" in report.findings[0].message
    edit(vroot, SVC, lambda d: d["spec"]["ports"][0].update(targetPort="http"))  # the fix
    assert validate(vroot, envs=["dev"]).findings == []


def test_container_port_that_the_app_does_not_listen_on(vroot):
    """Old charts: containerPort 5000 (named http) while the process binds 8080: Service and probes hit a closed port."""
    edit(vroot, DEPLOY, lambda d: container(d)["ports"][0].update(containerPort=5000))
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("XRF002", [SHOP])] + [("XRF003", [SHOP])] * 3
    assert {f.path.rsplit(".", 2)[-2] for f in report.findings if f.rule_id == "XRF003"} == {
        "httpGet"} and "listens on 8080" in report.findings[0].message


def test_service_selecting_no_pods(vroot):
    edit(vroot, SVC, lambda d: d["spec"]["selector"].update({"app.kubernetes.io/instance": "shop-api-prod"}))
    assert summary(validate(vroot, envs=["dev"])) == [("XRF001", ["Service/shop-dev/shop-api"])]


# --- probes <-> health endpoints ---------------------------------------------------------------------
def test_probes_on_healthz_that_the_app_does_not_serve(vroot):
    """Old charts: probes on /healthz and /ready; the apps serve only /health."""
    def helm_probes(d):
        container(d)["livenessProbe"]["httpGet"]["path"] = "/healthz"
        container(d)["readinessProbe"]["httpGet"]["path"] = "/ready"
    edit(vroot, STOCK_DEPLOY, helm_probes)
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("XRF003", [STOCK])] * 2
    assert {f.path for f in report.findings} == {"spec.template.spec.containers[0].livenessProbe.httpGet.path",
                                                "spec.template.spec.containers[0].readinessProbe.httpGet.path"}
    assert "'/healthz'" in report.findings[0].message and "/health" in report.findings[0].fix


# --- secrets and config maps --------------------------------------------------------------------------
def test_secret_referenced_but_never_created(vroot):
    """Old dev values: pods reference meetinity-shared-database, which dev's ExternalSecrets do not create."""
    edit(vroot, DEPLOY, lambda d: container(d)["env"][0]["valueFrom"]["secretKeyRef"].update(
        name="meetinity-shared-database", key="url"))
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("XRF004", [SHOP])]
    assert "meetinity-shared-database" in report.findings[0].message
    assert report.findings[0].path == "spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef"


def test_secret_key_that_the_external_secret_does_not_create(vroot):
    edit(vroot, DEPLOY, lambda d: container(d)["env"][0]["valueFrom"]["secretKeyRef"].update(key="DATABASE_URI"))
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("XRF004", [SHOP, "ExternalSecret/shop-dev/shop-api-secrets"])]
    assert "did you mean 'DATABASE_URL'" in report.findings[0].message


def test_secret_created_but_referenced_by_nobody(vroot):
    """Old charts: per-service Vault ExternalSecrets create Secrets no Deployment mounts."""
    write(vroot, "dist/dev/shop-api/externalsecret-shop-api-dev-shop-api-env.yaml",
          _external_secret("shop-api-dev-shop-api-env", "shop-api-dev-shop-api-env", ["MATCHING_THRESHOLD"]))
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("XRF005", ["ExternalSecret/shop-dev/shop-api-dev-shop-api-env"])]
    assert report.findings[0].severity == "warning"


def test_config_map_reference_without_config_map(vroot):
    edit(vroot, DEPLOY, lambda d: container(d)["envFrom"][0]["configMapRef"].update(name="shop-api-config"))
    report = validate(vroot, envs=["dev"])
    # the reference, and its consequence: the required STOCK_URL no longer reaches the container
    assert summary(report) == [("XRF006", [SHOP]), ("XRF007", [SHOP])]
    ref = next(f for f in report.findings if f.rule_id == "XRF006")
    assert "did you mean 'shop-api-settings'" in ref.message


def test_required_env_var_not_provided(vroot):
    """Old charts: matching reads DATABASE_URI but the chart injects only REDIS_URL."""
    edit(vroot, DEPLOY, lambda d: container(d).update(env=[e for e in container(d)["env"] if e["name"] != "DATABASE_URL"]))
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("XRF007", [SHOP])]
    assert "DATABASE_URL" in report.findings[0].message


def test_image_pull_secret_never_created(vroot):
    """Old cd.yml: the pull secret existed only as an imperative kubectl step."""
    (vroot / "dist/dev/platform/externalsecret-ghcr-pull-secret.yaml").unlink()
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("XRF017", ["CronJob/shop-dev/stock-report"]), ("XRF017", [SHOP]), ("XRF017", [STOCK])]


# --- ingress: TLS and hosts ---------------------------------------------------------------------------
def test_tls_secret_name_mismatch(vroot):
    """Old prod values: the Ingress wants api-gateway-tls, the ExternalSecret creates api-gateway-prod-tls; no cert-manager."""
    edit(vroot, ING, lambda d: d["metadata"].pop("annotations"))
    write(vroot, "dist/dev/shop-api/externalsecret-shop-api-dev-tls.yaml",
          _external_secret("shop-api-dev-tls", "shop-api-dev-tls", ["tls.crt", "tls.key"], "kubernetes.io/tls"))
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("XRF005", ["ExternalSecret/shop-dev/shop-api-dev-tls"]),
                               ("XRF008", ["Ingress/shop-dev/shop-api", "ExternalSecret/shop-dev/shop-api-dev-tls"])]
    tls = next(f for f in report.findings if f.rule_id == "XRF008")
    assert "did you mean 'shop-api-dev-tls'" in tls.message and tls.path == "spec.tls[0].secretName"


def test_ingress_without_cert_manager_annotation(vroot):
    """Old charts: no Ingress carries a cert-manager annotation; nothing produces the <svc>-tls secrets."""
    edit(vroot, ING, lambda d: d["metadata"].update(annotations={"nginx.ingress.kubernetes.io/force-ssl-redirect": "true"}))
    assert summary(validate(vroot, envs=["dev"])) == [("XRF008", ["Ingress/shop-dev/shop-api"])]


def test_host_repeating_the_environment(vroot):
    """Old dev values: the host came out as api.dev.dev.meetinity.internal."""
    def host(d):
        d["spec"]["rules"][0]["host"] = "shop.dev.dev.example.com"
        d["spec"]["tls"][0]["hosts"] = ["shop.dev.dev.example.com"]
    edit(vroot, ING, host)
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("XRF009", ["Ingress/shop-dev/shop-api"])]
    assert "repeats the label 'dev'" in report.findings[0].message


def test_malformed_host_and_host_outside_the_domain(vroot):
    def host(d):
        d["spec"]["rules"][0]["host"] = "Shop_API.dev.example.com"
        d["spec"]["tls"][0]["hosts"] = ["Shop_API.dev.example.com"]
    edit(vroot, ING, host)
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("XRF009", ["Ingress/shop-dev/shop-api"])]
    assert "not a valid DNS name" in report.findings[0].message


def test_host_used_in_two_environments(vroot):
    def host(d):
        d["spec"]["rules"][0]["host"] = "shop.dev.example.com"
        d["spec"]["tls"][0]["hosts"] = ["shop.dev.example.com"]
    edit(vroot, "dist/prod/shop-api/ingress-shop-api.yaml", host)
    report = validate(vroot)
    assert summary(report) == [("XRF009", ["Ingress/shop-prod/shop-api"]),
                               ("XRF010", ["Ingress/shop-prod/shop-api", "Ingress/shop-dev/shop-api"])]
    assert "not under the environment's domain 'prod.example.com'" in report.findings[0].message


def test_host_and_path_claimed_by_two_ingresses(vroot):
    (ing,) = load_docs(vroot, ING)
    other = copy.deepcopy(ing)
    other["metadata"]["name"] = "shop-api-canary"
    write(vroot, "dist/dev/shop-api/ingress-shop-api-canary.yaml", other)
    report = validate(vroot, envs=["dev"])
    # files are read in name order: the canary claims the host first, the second claim is the finding
    assert summary(report) == [("XRF010", ["Ingress/shop-dev/shop-api", "Ingress/shop-dev/shop-api-canary"])]


# --- network policies ---------------------------------------------------------------------------------
def test_egress_policy_blocking_the_database(vroot):
    """Old Terraform: the env NetworkPolicy allowed same-env namespaces, DNS and 80/443 only: Aurora 5432 was blocked."""
    def helm_policy(d):
        dns = d["spec"]["egress"][0]
        d["spec"]["egress"] = [
            {"to": [{"namespaceSelector": {"matchLabels": {"meetinity.io/environment": "dev"}}}]},
            dns,
            {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 443, "protocol": "TCP"}, {"port": 80, "protocol": "TCP"}]},
        ]
    edit(vroot, NP, helm_policy)
    report = validate(vroot, envs=["dev"])
    # The internet on 80/443 is an opening the inventory never declared (XRF023), once per port.
    assert summary(report) == [("XRF011", [SHOP, "NetworkPolicy/shop-dev/default-deny-all", "NetworkPolicy/shop-dev/shop-api"])] + \
        [("XRF023", ["NetworkPolicy/shop-dev/shop-api", SHOP])] * 2
    assert "postgresql at 10.0.0.0/17 port 5432/TCP" in report.findings[0].message


def test_egress_without_a_component_dependency_and_without_dns(vroot):
    def strip(d):
        d["spec"]["egress"] = [r for r in d["spec"]["egress"][1:] if r["ports"][0]["port"] != 8080]
    edit(vroot, NP, strip)
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [
        ("XRF011", [SHOP, "NetworkPolicy/shop-dev/default-deny-all", "NetworkPolicy/shop-dev/shop-api"]),
        ("XRF012", [SHOP, "NetworkPolicy/shop-dev/default-deny-all", "NetworkPolicy/shop-dev/shop-api"])]
    assert "stock-service pods on port 8080/TCP" in report.findings[0].message


def test_ingress_policy_blocking_a_declared_caller(vroot):
    """Old Terraform: allow-api-gateway admitted callers on port 5000 while the apps listen on 8080."""
    edit(vroot, "dist/dev/stock-service/networkpolicy-stock-service.yaml",
         lambda d: d["spec"]["ingress"][0]["ports"][0].update(port=5000))
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("XRF013", [STOCK, "NetworkPolicy/shop-dev/default-deny-all",
                                           "NetworkPolicy/shop-dev/stock-service", SHOP])]
    assert "shop-api calls stock-service on port 8080" in report.findings[0].message


# --- quota, autoscaling, monitoring -------------------------------------------------------------------
def test_quota_smaller_than_limits_times_max_replicas(vroot):
    """Old values: every environment exceeded its quota at HPA max."""
    edit(vroot, "dist/dev/platform/resourcequota-compute.yaml", lambda d: d["spec"]["hard"].update({"limits.cpu": "900m"}))
    report = validate(vroot, envs=["dev"])
    (f,) = report.findings
    assert f.rule_id == "XRF014" and f.objects[0] == "ResourceQuota/shop-dev/compute"
    assert set(f.objects[1:]) == {SHOP, STOCK, "CronJob/shop-dev/stock-report"}
    assert "limits.cpu 1" in f.message and "shop-api 800m at 4 replica(s)" in f.message


def test_hpa_metric_without_adapter_rule(vroot):
    """Old prod values: search-service scales on search_queries_per_second, which no adapter rule serves."""
    edit(vroot, HPA, lambda d: d["spec"]["metrics"].append(
        {"type": "Pods", "pods": {"metric": {"name": "search_queries_per_second"},
                                  "target": {"type": "AverageValue", "averageValue": "40"}}}))
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("XRF015", ["HorizontalPodAutoscaler/shop-dev/shop-api", "Application/argocd/prometheus-adapter"])]
    assert "search_queries_per_second" in report.findings[0].message and report.findings[0].path == "spec.metrics[3]"


def test_hpa_metric_when_the_adapter_has_no_rules_or_is_missing(vroot):
    edit(vroot, "argocd/dev/application-prometheus-adapter.yaml",
         lambda d: d["spec"]["source"]["helm"]["valuesObject"]["rules"].update(custom=[]))
    assert summary(validate(vroot, envs=["dev"])) == [
        ("XRF015", ["HorizontalPodAutoscaler/shop-dev/shop-api", "Application/argocd/prometheus-adapter"])]
    (vroot / "argocd/dev/application-prometheus-adapter.yaml").unlink()
    kust = vroot / "argocd/dev/kustomization.yaml"
    kust.write_text(kust.read_text().replace("- application-prometheus-adapter.yaml\n", ""))
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("XRF015", ["HorizontalPodAutoscaler/shop-dev/shop-api"])]
    assert "no Application prometheus-adapter in argocd/dev/" in report.findings[0].message


def test_service_monitor_port_and_selector(vroot):
    rel = "dist/dev/shop-api/servicemonitor-shop-api.yaml"
    edit(vroot, rel, lambda d: d["spec"]["endpoints"][0].update(port="metrics"))
    assert summary(validate(vroot, envs=["dev"])) == [("XRF016", ["ServiceMonitor/shop-dev/shop-api", "Service/shop-dev/shop-api"])]
    edit(vroot, rel, lambda d: (d["spec"]["endpoints"][0].update(port="http"),
                                d["spec"]["selector"]["matchLabels"].update({"app.kubernetes.io/name": "shop"})))
    assert summary(validate(vroot, envs=["dev"])) == [("XRF016", ["ServiceMonitor/shop-dev/shop-api"])]


def test_hpa_scaling_a_missing_deployment(vroot):
    edit(vroot, HPA, lambda d: d["spec"]["scaleTargetRef"].update(name="shop-api-v2"))
    assert summary(validate(vroot, envs=["dev"])) == [("XRF018", ["HorizontalPodAutoscaler/shop-dev/shop-api"])]


def _permit(root, *kinds: tuple[str, str]) -> None:
    """Also whitelist ``(group, kind)`` in the components' AppProject (it lists what the generator emits)."""
    edit(root, "argocd/dev/appproject-meetinity-dev.yaml", lambda d: d["spec"]["namespaceResourceWhitelist"].extend(
        {"group": g, "kind": k} for g, k in kinds))


def test_certificate_and_sealed_secret_are_creators(vroot):
    """The fixes the checks accept besides cert-manager's ingress-shim and ExternalSecrets."""
    _permit(vroot, ("cert-manager.io", "Certificate"), ("bitnami.com", "SealedSecret"))
    edit(vroot, ING, lambda d: d["metadata"].pop("annotations"))
    write(vroot, "dist/dev/shop-api/certificate-shop-api.yaml", {
        "apiVersion": "cert-manager.io/v1", "kind": "Certificate",
        "metadata": {"name": "shop-api", "namespace": "shop-dev", "labels": _labels()},
        "spec": {"secretName": "shop-api-tls", "dnsNames": ["shop.dev.example.com"],
                 "issuerRef": {"kind": "ClusterIssuer", "name": "letsencrypt"}}})
    edit(vroot, DEPLOY, lambda d: container(d)["env"].append(
        {"name": "PAYMENT_KEY", "valueFrom": {"secretKeyRef": {"name": "shop-api-sealed", "key": "PAYMENT_KEY"}}}))
    write(vroot, "dist/dev/shop-api/sealedsecret-shop-api-sealed.yaml", {
        "apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret",
        "metadata": {"name": "shop-api-sealed", "namespace": "shop-dev", "labels": _labels()},
        "spec": {"encryptedData": {"PAYMENT_KEY": "AgBy3i4OJSWK+PiTySYZZA=="}}})
    # The platform installs no sealed-secrets controller, so the repository has no SealedSecret schema.
    sealed = ("bitnami.com/SealedSecret",)
    assert validate(vroot, envs=["dev"], allow_kinds=sealed).findings == []
    edit(vroot, DEPLOY, lambda d: container(d)["env"][-1]["valueFrom"]["secretKeyRef"].update(key="PAYMENT_TOKEN"))
    assert summary(validate(vroot, envs=["dev"], allow_kinds=sealed)) == [
        ("XRF004", [SHOP, "SealedSecret/shop-dev/shop-api-sealed"])]
