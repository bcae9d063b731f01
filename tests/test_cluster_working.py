"""Issue 13, items 1-4 and 10-12: the apps and the cluster actually work.

Each finding is pinned twice: on what `make synth` (and Terraform) produce for the real platform,
and as a `gitops validate` rule (XRF019-XRF023) that catches the class on a tampered copy of the
fixture platform, whose unbroken copy stays clean.
"""
from __future__ import annotations

import functools
import ipaddress
import json

import hcl2
import pytest
import yaml

from gitops.ops.capacity import capacity
from gitops.inputs.load import load_platform
from gitops.inputs.model import PRIVATE_RANGES
from gitops.inputs.operator_pods import ACME_SOLVER_DEFAULTS
from gitops.inputs.quantity import parse_cpu, parse_memory

from .conftest import REPO, run_gitops, tree_bytes
from .test_validate import DEPLOY, container, edit, load_docs, summary, validate, vbase, vroot, write  # noqa: F401

ENVS = ("dev", "staging", "prod")
CLUSTER = REPO / "infra" / "terraform" / "modules" / "cluster"
SHOP = "Deployment/shop-dev/shop-api"
NP = "dist/dev/shop-api/networkpolicy-shop-api.yaml"
ISSUER = "argocd/dev/cluster-issuers/clusterissuer-letsencrypt.yaml"


@functools.lru_cache(maxsize=None)
def platform():
    return load_platform(REPO)


def _yaml(rel: str) -> dict:
    return yaml.safe_load((REPO / rel).read_text())


def _values(env: str, app: str) -> dict:
    return _yaml(f"argocd/{env}/application-{app}.yaml")["spec"]["source"]["helm"]["valuesObject"]


def _plain(obj):
    """python-hcl2 output with the quotes around keys and string literals removed, comments dropped."""
    if isinstance(obj, dict):
        return {_plain(k): _plain(v) for k, v in obj.items() if k != "__comments__"}
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    if isinstance(obj, str) and len(obj) >= 2 and obj[0] == obj[-1] == '"':
        return obj[1:-1]
    return obj


@functools.lru_cache(maxsize=None)
def _hcl(name: str) -> dict:
    with (CLUSTER / name).open() as fh:
        return _plain(hcl2.load(fh))


def _locals(name: str) -> dict:
    out = {}
    for block in _hcl(name).get("locals", []):
        out.update(block)
    return out


def _resources(name: str, kind: str) -> dict:
    return {k: v for block in _hcl(name).get("resource", []) for t, bodies in block.items() if t == kind
            for k, v in bodies.items()}


def _edit_inventory(root, name: str, fn) -> None:
    path = root / "inventory" / f"{name}.yaml"
    data = yaml.safe_load(path.read_text())
    fn(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


# --- 1. ACME HTTP-01 solver pods fit the LimitRange and the quota ----------------------------------

@pytest.mark.parametrize("env", ENVS)
def test_acme_solver_pods_fit_the_environments_limit_range(env):
    issuer = _yaml(f"argocd/{env}/cluster-issuers/clusterissuer-letsencrypt.yaml")
    resources = issuer["spec"]["acme"]["solvers"][0]["http01"]["ingress"]["podTemplate"]["spec"]["resources"]
    lr = platform().environment(env).limit_range
    for kind in ("requests", "limits"):
        cpu, mem = parse_cpu(resources[kind]["cpu"]), parse_memory(resources[kind]["memory"])
        assert parse_cpu(lr.min_cpu) <= cpu <= parse_cpu(lr.max_cpu), (env, kind)
        assert parse_memory(lr.min_memory) <= mem <= parse_memory(lr.max_memory), (env, kind)
    # cert-manager's defaults would not have fitted staging or prod: that is the defect fixed here.
    if env != "dev":
        assert parse_cpu(ACME_SOLVER_DEFAULTS["requests"]["cpu"]) < parse_cpu(lr.min_cpu)


def test_solver_below_the_limit_range_is_xrf019(vroot):
    edit(vroot, ISSUER, lambda d: d["spec"]["acme"]["solvers"][0]["http01"]["ingress"]["podTemplate"]["spec"]["resources"]
         ["requests"].update(cpu="5m"))
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("XRF019", ["ClusterIssuer/letsencrypt", "LimitRange/shop-dev/container-defaults"])]
    assert "requests.cpu 5m < min 10m" in report.findings[0].message and "no certificate" in report.findings[0].message


def test_solver_without_pod_template_gets_cert_managers_defaults(vroot):
    edit(vroot, ISSUER, lambda d: d["spec"]["acme"]["solvers"][0]["http01"]["ingress"].pop("podTemplate"))
    edit(vroot, "dist/dev/platform/limitrange-container-defaults.yaml",
         lambda d: d["spec"]["limits"][0]["min"].update(cpu="50m"))
    report = validate(vroot, envs=["dev"])
    assert ("XRF019", ["ClusterIssuer/letsencrypt", "LimitRange/shop-dev/container-defaults"]) in summary(report)
    assert any("cert-manager's defaults" in f.message for f in report.findings)


def test_solvers_that_do_not_fit_the_quota_at_peak_and_job_outside_the_limit_range(vroot):
    workload_pods = sum(w["max"] for w in _dev_pods_at_max(vroot))

    def tight(d):  # room for every workload at its maximum, not for the solver
        d["spec"]["hard"]["pods"] = str(workload_pods)
    edit(vroot, "dist/dev/platform/resourcequota-compute.yaml", tight)
    report = validate(vroot, envs=["dev"])
    solver = [f for f in report.findings if f.rule_id == "XRF019"]
    assert solver and solver[0].objects == ["ResourceQuota/shop-dev/compute", "ClusterIssuer/letsencrypt"]
    assert "ACME solver pod(s)" in solver[0].message and "at peak" in solver[0].message
    job = "dist/dev/stock-report/cronjob-stock-report.yaml"
    edit(vroot, job, lambda d: d["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["resources"]
         ["limits"].update(memory="3Gi"))
    report = validate(vroot, envs=["dev"])
    assert ("XRF019", ["CronJob/shop-dev/stock-report", "LimitRange/shop-dev/container-defaults"]) in summary(report)


def _dev_pods_at_max(root) -> list[dict]:
    """Pods of every dev workload at its maximum, counted as XRF014 does: HPA max, else replicas, jobs once."""
    out = []
    for path in sorted((root / "dist" / "dev").glob("*/*.yaml")):
        doc = load_docs(root, str(path.relative_to(root)))[0]
        if doc["kind"] == "HorizontalPodAutoscaler":
            out.append({"max": doc["spec"]["maxReplicas"]})
        elif doc["kind"] == "Deployment" and "replicas" in doc["spec"]:
            out.append({"max": doc["spec"]["replicas"]})
        elif doc["kind"] in ("Job", "CronJob"):
            out.append({"max": 1})
    return out


# --- 2. EBS CSI driver, gp3 StorageClass, Prometheus claims it ----------------------------------

def test_prometheus_claims_the_gp3_class_the_cluster_module_creates():
    sc = _resources("controllers.tf", "kubernetes_storage_class_v1")["gp3"]
    assert sc["storage_provisioner"] == "ebs.csi.aws.com" and sc["parameters"]["type"] == "gp3"
    name = _locals("controllers.tf")["gp3_storage_class"]
    for env in ENVS:
        claim = _values(env, "kube-prometheus-stack")["prometheus"]["prometheusSpec"]["storageSpec"]["volumeClaimTemplate"]["spec"]
        assert claim["storageClassName"] == name, env


def test_ebs_csi_add_on_runs_with_its_own_irsa_role():
    addons = _locals("nodes.tf")["eks_addons"]
    assert "aws-ebs-csi-driver" in addons and "ebs-csi-controller" in addons["aws-ebs-csi-driver"]["role_arn"]
    identity = _locals("controllers.tf")["controller_identities"]["ebs-csi-controller"]
    assert identity == {"namespace": "kube-system", "service_account": "ebs-csi-controller-sa"}
    attachment = _resources("controllers.tf", "aws_iam_role_policy_attachment")["ebs_csi"]
    assert attachment["policy_arn"].endswith(":policy/service-role/AmazonEBSCSIDriverPolicy")


# --- 3. probes and unauthenticated paths ----------------------------------------------------------

@pytest.mark.parametrize("env", ENVS)
def test_gateway_probes_only_its_process_and_exempts_probe_and_scrape_paths(env):
    # A Deployment, or a Rollout where the environment delivers the gateway progressively: same pod template.
    (workload,) = [p for p in (REPO / "dist" / env / "api-gateway").glob("*-api-gateway.yaml")
                   if p.name.startswith(("deployment-", "rollout-"))]
    deploy = _yaml(str(workload.relative_to(REPO)))
    c = deploy["spec"]["template"]["spec"]["containers"][0]
    gateway = platform().component("api-gateway")
    paths = {p: c[p]["httpGet"]["path"] for p in ("livenessProbe", "readinessProbe", "startupProbe")}
    assert set(paths.values()) == {"/health/gateway"}
    assert not set(paths.values()) & set(gateway.health.aggregating_paths)
    settings = _yaml(f"dist/{env}/api-gateway/configmap-api-gateway-settings.yaml")["data"]
    sm = _yaml(f"dist/{env}/api-gateway/servicemonitor-api-gateway.yaml")
    needed = set(paths.values()) | {ep["path"] for ep in sm["spec"]["endpoints"]}
    for var in ("API_KEY_EXEMPT_PATHS", "SIGNATURE_EXEMPT_PATHS"):
        assert needed <= set(settings[var].split(",")), (env, var)


def _unauthenticated(paths, env=("API_KEY_EXEMPT_PATHS",)):
    return lambda d: d.update(unauthenticated={"paths": list(paths), "exemptPathsEnv": list(env)})


def test_scrape_and_probes_behind_auth_are_xrf020_until_synth_writes_the_exempt_paths(vroot):
    _edit_inventory(vroot, "shop-api", _unauthenticated(["/health", "/ready", "/metrics"]))
    report = validate(vroot, envs=["dev"])
    rules = summary(report)
    assert [r for r, _ in rules] == ["XRF020"] * 4  # liveness, readiness, startup, the ServiceMonitor's scrape
    assert all(objects == [SHOP] for _, objects in rules)
    assert all("API_KEY_EXEMPT_PATHS" in f.message for f in report.findings)
    run_gitops(vroot, "synth", check=True)  # the fix: the generator writes the variable
    assert validate(vroot, envs=["dev"]).findings == []
    settings = load_docs(vroot, "dist/dev/shop-api/configmap-shop-api-settings.yaml")[0]["data"]
    assert settings["API_KEY_EXEMPT_PATHS"] == "/health,/ready,/metrics"


def test_probe_on_a_path_that_is_not_unauthenticated_is_xrf020(vroot):
    _edit_inventory(vroot, "shop-api", _unauthenticated(["/health", "/ready", "/metrics"]))
    run_gitops(vroot, "synth", check=True)
    edit(vroot, DEPLOY, lambda d: container(d)["readinessProbe"]["httpGet"].update(path="/admin"))
    rules = [r for r, _ in summary(validate(vroot, envs=["dev"]))]
    assert rules.count("XRF020") == 1 and set(rules) == {"XRF003", "XRF020"}


def test_liveness_on_an_aggregating_endpoint_is_xrf021(vroot):
    _edit_inventory(vroot, "shop-api", lambda d: d["health"].update(aggregates=["/ready"]))
    edit(vroot, DEPLOY, lambda d: container(d)["livenessProbe"]["httpGet"].update(path="/ready"))
    report = validate(vroot, envs=["dev"])
    assert ("XRF021", [SHOP]) in summary(report)
    assert "one backend outage restarts every pod" in next(f.message for f in report.findings if f.rule_id == "XRF021")


@pytest.mark.parametrize("health, unauth, where, expected", [
    ({"liveness": "/health", "readiness": "/ready", "aggregates": ["/health"]}, None, "health/liveness",
     "checks only this process for the liveness probe"),
    ({"liveness": "/live", "readiness": "/ready", "startup": "/health", "aggregates": ["/health"]}, None, "health/startup",
     "for the startup probe"),
    ({"liveness": "/health", "readiness": "/ready"}, ["/health", "/ready"], "unauthenticated/paths",
     "metrics scrape path /metrics among the unauthenticated paths"),
])
def test_inventory_refuses_liveness_on_aggregates_and_probes_behind_auth(mini, health, unauth, where, expected):
    def change(d):
        d["health"] = health
        if unauth:
            d["unauthenticated"] = {"paths": unauth}
    _edit_inventory(mini, "shop-api", change)
    before = _inputs_and_outputs(mini)
    proc = run_gitops(mini, "synth")
    assert proc.returncode == 2
    assert f"inventory/shop-api.yaml:" in proc.stderr and f"at {where}: expected" in proc.stderr and expected in proc.stderr
    assert _inputs_and_outputs(mini) == before  # nothing written


def _inputs_and_outputs(root) -> dict:
    """Every file but the scratch folder .cache/ (git-ignored; synth's lock lives there)."""
    return {k: v for k, v in tree_bytes(root).items() if not k.startswith(".cache/")}


def test_exempt_paths_variable_cannot_also_be_declared_under_env(mini):
    _edit_inventory(mini, "shop-api", lambda d: (_unauthenticated(["/health", "/ready", "/metrics"], ["LOG_LEVEL"])(d)))
    proc = run_gitops(mini, "synth")
    assert proc.returncode == 2 and "at unauthenticated/exemptPathsEnv/0: LOG_LEVEL is generated" in proc.stderr


# --- 4. ServiceMonitor only where the image serves metrics --------------------------------------

@pytest.mark.parametrize("env", ENVS)
def test_service_monitors_exactly_for_components_that_serve_metrics(env):
    p = platform()
    monitored = {path.parent.name for path in (REPO / "dist" / env).glob("*/servicemonitor-*.yaml")}
    serving = {c.name for c in p.enabled_components(p.environment(env)) if c.metrics is not None and c.is_serving}
    assert monitored == serving
    assert "user-service" not in monitored  # the monorepo image serves no /metrics


def test_service_monitor_for_a_component_without_metrics_is_xrf022(vroot):
    sm = load_docs(vroot, "dist/dev/shop-api/servicemonitor-shop-api.yaml")[0]
    sm["metadata"]["name"] = "stock-service"
    sm["metadata"]["labels"]["app.kubernetes.io/name"] = "stock-service"
    sm["metadata"]["labels"]["app.kubernetes.io/instance"] = "stock-service-dev"
    sm["spec"]["selector"]["matchLabels"] = {"app.kubernetes.io/instance": "stock-service-dev"}
    write(vroot, "dist/dev/stock-service/servicemonitor-stock-service.yaml", sm)
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("XRF022", ["ServiceMonitor/shop-dev/stock-service"])]
    assert "TargetDown" in report.findings[0].message


def test_service_monitor_on_another_path_is_xrf022(vroot):
    edit(vroot, "dist/dev/shop-api/servicemonitor-shop-api.yaml", lambda d: d["spec"]["endpoints"][0].update(path="/stats"))
    assert summary(validate(vroot, envs=["dev"])) == [("XRF022", ["ServiceMonitor/shop-dev/shop-api"])]


# --- 10. NetworkPolicy enforcement and declared external egress ---------------------------------

def test_vpc_cni_enforces_network_policies():
    assert _locals("nodes.tf")["eks_addons"]["vpc-cni"]["configuration"] == {"enableNetworkPolicy": "true"}
    addon = _resources("nodes.tf", "aws_eks_addon")["this"]
    assert "jsonencode(each.value.configuration)" in addon["configuration_values"]


@pytest.mark.parametrize("component, count", [("user-service", 2), ("payment-service", 2), ("analytics-service", 1)])
def test_declared_external_egress_and_nothing_else_leaves_the_vpc(component, count):
    comp = platform().component(component)
    assert len(comp.external_egress) == count
    for env in ENVS:
        np = _yaml(f"dist/{env}/{component}/networkpolicy-{component}.yaml")
        blocks = [(p["ipBlock"], r["ports"]) for r in np["spec"]["egress"] for p in r.get("to", []) if "ipBlock" in p]
        backing = {platform().environment(env).backing_endpoint(d.name).cidr for d in comp.dependencies
                   if platform().component(d.name).kind == "backing" and platform().environment(env).backing_endpoint(d.name)}
        public = [(b, ports) for b, ports in blocks if b["cidr"] not in backing]
        assert public, (env, component)
        for block, ports in public:
            assert block["cidr"] == "0.0.0.0/0" and ports == [{"port": 443, "protocol": "TCP"}]
            # The VPC (backing services have their own rule) and the metadata service stay closed.
            assert sorted(block["except"]) == sorted(PRIVATE_RANGES)
            assert any(ipaddress.ip_address("169.254.169.254") in ipaddress.ip_network(r) for r in block["except"])


def test_declared_external_egress_missing_from_the_policy_is_xrf023(vroot):
    _edit_inventory(vroot, "shop-api", lambda d: d.update(externalEgress=[{"name": "stripe", "hosts": ["api.stripe.com"], "port": 443}]))
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("XRF023", [SHOP, "NetworkPolicy/shop-dev/default-deny-all", "NetworkPolicy/shop-dev/shop-api"])]
    assert "external egress stripe to 0.0.0.0/0 port 443/TCP" in report.findings[0].message
    run_gitops(vroot, "synth", check=True)
    assert validate(vroot, envs=["dev"]).findings == []


def test_undeclared_ip_block_egress_is_xrf023(vroot):
    edit(vroot, NP, lambda d: d["spec"]["egress"].append(
        {"to": [{"ipBlock": {"cidr": "8.8.8.8/32"}}], "ports": [{"port": 53, "protocol": "UDP"}]}))
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("XRF023", ["NetworkPolicy/shop-dev/shop-api", SHOP])]
    assert "8.8.8.8/32 on port 53/UDP" in report.findings[0].message


# --- 11. Cluster Autoscaler and min/max nodes in `gitops capacity` ------------------------------

def test_cluster_autoscaler_discovers_the_node_group_with_its_own_irsa_role():
    release = _resources("controllers.tf", "helm_release")["cluster_autoscaler"]
    assert release["chart"] == "cluster-autoscaler" and release["namespace"]
    identity = _locals("controllers.tf")["controller_identities"]["cluster-autoscaler"]
    assert identity["service_account"] == "cluster-autoscaler"
    text = (CLUSTER / "controllers.tf").read_text()
    assert "autoDiscovery = { clusterName = var.cluster_name }" in text
    assert 'aws:ResourceTag/k8s.io/cluster-autoscaler/${var.cluster_name}' in text  # resizes only its own groups
    assert '"owned"' in text


def test_capacity_reports_min_and_max_nodes_and_that_prods_minimum_cannot_hold_the_maxima():
    (prod,) = capacity(platform(), ["prod"])
    data = prod.as_dict()
    nodes = data["nodes"]
    assert nodes["allocatable_cpu_millicores_at_min"] * nodes["nodes_max"] == nodes["allocatable_cpu_millicores_at_max"] * nodes["nodes_min"]
    assert data["nodes_needed"]["at_max"] > nodes["nodes_min"] >= data["nodes_needed"]["at_min"]
    assert data["nodes_needed"]["at_max"] <= nodes["nodes_max"] and prod.ok
    scale_up = [f for f in prod.findings if f.rule_id == "CAP007"]
    assert scale_up and scale_up[0].severity == "info" and "cannot hold the HPA maxima" in scale_up[0].message


def test_capacity_text_shows_both_node_group_sizes():
    proc = run_gitops(REPO, "capacity", "--env", "prod")
    assert proc.returncode == 0
    assert "nodes at min (4 x m5.2xlarge, allocatable)" in proc.stdout
    assert "nodes at max (12 x m5.2xlarge, allocatable)" in proc.stdout
    assert "nodes needed (requests / allocatable per node):" in proc.stdout
    data = json.loads(run_gitops(REPO, "capacity", "--env", "prod", "--format", "json").stdout)
    (prod,) = data["environments"]
    assert prod["nodes_needed"]["at_max"] > prod["nodes"]["nodes_min"]


def test_capacity_warns_when_the_minimum_cannot_hold_the_hpa_minima(mini):
    path = mini / "environments" / "dev.yaml"
    data = yaml.safe_load(path.read_text())
    data["nodeCapacity"].update(min=1, max=8, cpuPerNode="1", memoryPerNode="4Gi")
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    (dev,) = capacity(load_platform(mini), ["dev"])
    assert [f.severity for f in dev.findings if f.rule_id == "CAP006"] == ["warning"]


# --- 12. external-secrets leader election -------------------------------------------------------

@pytest.mark.parametrize("env", ENVS)
def test_external_secrets_elects_a_leader_whenever_it_runs_more_than_one_replica(env):
    values = _values(env, "external-secrets")
    assert values["leaderElect"] is True, (env, values["replicaCount"])
