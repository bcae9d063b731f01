"""`gitops capacity`: requests and limits at HPA min/max against the ResourceQuota and the node group."""
from __future__ import annotations

import json
from decimal import Decimal

import yaml

from gitops.ops.capacity import DAEMONSET_CPU, SYSTEM_RESERVE_FRACTION, capacity
from gitops.inputs.load import load_platform

from .conftest import run_cli


def _edit_env(root, env, fn):
    path = root / "environments" / f"{env}.yaml"
    data = yaml.safe_load(path.read_text())
    fn(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_fixture_fits_and_reports_both_environments(mini):
    proc = run_cli(mini, "capacity")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "dev (namespace shop-dev" in proc.stdout and "prod (namespace shop-prod" in proc.stdout
    assert "OK: the HPA maximum fits" in proc.stdout
    assert "System reserve per node" in proc.stdout


def test_counting_rules_hpa_min_max_replicas_and_jobs_once(mini):
    proc = run_cli(mini, "capacity", "--env", "dev", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] is True
    (dev,) = report["environments"]
    rows = {c["name"]: c for c in dev["components"]}
    # shop-api: HPA 2..4; stock-service: no HPA, 1 replica; stock-report: a CronJob, counted once.
    assert (rows["shop-api"]["scaling"], rows["shop-api"]["min_pods"], rows["shop-api"]["max_pods"]) == ("hpa", 2, 4)
    assert (rows["stock-service"]["scaling"], rows["stock-service"]["min_pods"], rows["stock-service"]["max_pods"]) == ("replicas", 1, 1)
    assert (rows["stock-report"]["scaling"], rows["stock-report"]["min_pods"], rows["stock-report"]["max_pods"]) == ("job", 1, 1)
    # at max: 4 x 100m + 50m + 50m requests; 4 x 200m + 100m + 100m limits; 4 x 256Mi + 2 x 128Mi.
    assert dev["at_max"] == {"pods": 6, "requests_cpu_millicores": 500, "limits_cpu_millicores": 1000,
                             "requests_memory_bytes": (4 * 128 + 64 + 64) * 2**20,
                             "limits_memory_bytes": (4 * 256 + 128 + 128) * 2**20}
    assert dev["at_min"]["pods"] == 4 and dev["at_min"]["requests_cpu_millicores"] == 300
    assert dev["quota"]["requests_cpu_millicores"] == 4000 and dev["quota"]["pods"] == 30
    # Node group: 4 x m5.large (2 CPU) minus the documented reserve.
    per_node = Decimal(2) * (1 - SYSTEM_RESERVE_FRACTION) - DAEMONSET_CPU
    assert dev["nodes"]["allocatable_cpu_millicores_at_max"] == int(per_node * 4 * 1000)


def test_oversized_hpa_maximum_is_a_finding_naming_env_and_resource(mini):
    # Deliberately oversized: prod lets shop-api scale to 60 pods of 200m/256Mi limits (12 CPU > quota 8).
    def oversize(data):
        data["components"]["shop-api"]["autoscaling"] = {"max": 60}
    _edit_env(mini, "prod", oversize)
    proc = run_cli(mini, "capacity")
    assert proc.returncode == 1, proc.stdout
    assert "CAP001 error [prod]: limits.cpu at HPA max needs 12.10, the ResourceQuota allows 8.00" in proc.stdout
    assert "CAP001 error [prod]: pods at HPA max needs 61, the ResourceQuota allows 30" in proc.stdout
    assert "FAIL: the HPA maximum does not fit" in proc.stdout
    # The other environment is unaffected (its node-range notes, CAP006/CAP007, are not about this change).
    assert "error [dev]" not in proc.stdout

    proc = run_cli(mini, "capacity", "--format", "json")
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert report["ok"] is False
    errors = {(f["env"], f["path"]) for f in report["findings"] if f["severity"] == "error"}
    assert ("prod", "limits.cpu") in errors and ("prod", "pods") in errors
    assert not any(env == "dev" for env, _ in errors)
    # Only the environment asked for is checked.
    assert run_cli(mini, "capacity", "--env", "dev").returncode == 0


def test_node_group_too_small_is_a_finding(mini):
    def small_nodes(data):
        data["quota"] = {"requests": {"cpu": "100", "memory": "400Gi"}, "limits": {"cpu": "200", "memory": "800Gi"}, "pods": 500}
        data["nodeCapacity"] = {"instanceType": "t3.small", "min": 1, "max": 1, "cpuPerNode": "2", "memoryPerNode": "2Gi"}
        data["components"]["shop-api"]["autoscaling"] = {"max": 30}
    _edit_env(mini, "dev", small_nodes)
    proc = run_cli(mini, "capacity", "--env", "dev")
    assert proc.returncode == 1
    assert "CAP003 error [dev]: requests.cpu at HPA max needs 3.10, 1 x t3.small offer 1.55 allocatable" in proc.stdout
    errors = [line for line in proc.stdout.splitlines() if " error [" in line]
    assert errors and all("allocatable" in line for line in errors)  # the quota is not the problem here


def test_pod_larger_than_a_node_is_a_finding(mini):
    def huge_pod(data):
        data["components"]["stock-service"]["resources"] = {"requests": {"cpu": "2", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "1Gi"}}
    _edit_env(mini, "dev", huge_pod)
    caps = capacity(load_platform(mini), ["dev"])
    messages = [f.message for f in caps[0].findings if f.path == "nodes.pod"]
    assert messages and "stock-service" in messages[0] and "can never be scheduled" in messages[0]


def test_rolling_surge_over_quota_is_a_warning_not_a_failure(mini):
    # At max 6 pods fit a quota of 7 pods; the 25% surge (1 for shop-api, 1 for stock-service) does not.
    def tight(data):
        data["quota"]["pods"] = 7
    _edit_env(mini, "dev", tight)
    proc = run_cli(mini, "capacity", "--env", "dev")
    assert proc.returncode == 0, proc.stdout
    assert "CAP002 warning [dev]: pods at HPA max plus the rollout surge needs 8, the ResourceQuota allows 7" in proc.stdout


def test_unknown_environment_is_a_usage_error(mini):
    proc = run_cli(mini, "capacity", "--env", "qa")
    assert proc.returncode == 2
    assert "unknown environment" in proc.stderr


def test_rollout_peaks_follow_the_delivery_strategy():
    """What each strategy runs on top of its replicas at its peak (Argo Rollouts: blue-green keeps a
    full preview ReplicaSet, a traffic-routed canary keeps the stable one at full size)."""
    from gitops.inputs.delivery import Delivery

    def peak(strategy: str, routed: bool) -> int:
        return Delivery(strategy, (), False, True).surge_pods(6, routed)

    assert [peak("rolling", False), peak("rolling", True)] == [2, 2]  # maxSurge 25%, rounded up
    assert [peak("canary", False), peak("canary", True)] == [2, 6]
    assert [peak("blueGreen", False), peak("blueGreen", True)] == [6, 6]


def test_repository_prod_counts_blue_green_and_routed_canaries_twice_and_its_quota_holds_them():
    from .conftest import REPO

    proc = run_cli(REPO, "capacity", "--env", "prod", "--format", "json")
    (prod,) = json.loads(proc.stdout)["environments"]
    rows = {c["name"]: c for c in prod["components"]}
    assert (rows["admin-portal"]["max_pods"], rows["admin-portal"]["surge_pods"]) == (6, 6)      # blue-green
    assert (rows["api-gateway"]["max_pods"], rows["api-gateway"]["surge_pods"]) == (12, 12)     # canary behind the ingress
    assert (rows["event-service"]["max_pods"], rows["event-service"]["surge_pods"]) == (8, 2)   # canary by replica counts
    assert not [f for f in prod["findings"] if f["rule_id"] in ("CAP001", "CAP002")]
