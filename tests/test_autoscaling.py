"""HPA, VPA, Prometheus Adapter rules and the generated autoscaling playbook."""
from __future__ import annotations

import dataclasses

import pytest
import yaml

from gitops.errors import InputError

from charts.context import ComponentContext
from charts.vpa import vpa_bounds
from gitops.generated.adapter import adapter_rules
from gitops.inputs.load import load_platform
from gitops.inputs.model import CustomMetric
from gitops.inputs.resolve import resolve
from gitops.pipeline.synth import synth

from .conftest import MINI, REPO, run_gitops
from .test_observability import PLAYBOOK, by_kind, crd_errors


def _doc(root, env, component, kind):
    return yaml.safe_load((root / "dist" / env / component / f"{kind}-{component}.yaml").read_text())


def _platforms():
    out = [pytest.param(MINI, id="mini")]
    if (REPO / "inventory").is_dir():
        out.append(pytest.param(REPO, id="real"))
    return out


# ---------------------------------------------------------------------------------------------
# HPA
# ---------------------------------------------------------------------------------------------

def test_hpa_from_inventory_and_environment(mini_synth):
    hpa = _doc(mini_synth, "prod", "shop-api", "horizontalpodautoscaler")
    spec = hpa["spec"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 4)
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "shop-api"}
    cpu, mem, custom = spec["metrics"]
    assert cpu["resource"] == {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}
    assert mem["resource"] == {"name": "memory", "target": {"type": "Utilization", "averageUtilization": 80}}
    assert custom["pods"] == {"metric": {"name": "http_requests_per_second"},
                              "target": {"type": "AverageValue", "averageValue": "20"}}
    assert spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300
    assert spec["behavior"]["scaleUp"]["policies"] == [{"type": "Percent", "value": 100, "periodSeconds": 60}]
    # The HPA owns the replica count: the Deployment does not set one.
    assert "replicas" not in _doc(mini_synth, "prod", "shop-api", "deployment")["spec"]


def test_environment_overrides_reach_the_hpa(mini):
    env = mini / "environments/prod.yaml"
    data = yaml.safe_load(env.read_text())
    data["components"]["shop-api"]["autoscaling"] = {"max": 7, "scaleDownStabilizationSeconds": 600}
    env.write_text(yaml.safe_dump(data, sort_keys=False))
    synth(mini, ["prod"], no_cache=True)
    spec = _doc(mini, "prod", "shop-api", "horizontalpodautoscaler")["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 7)  # min inherited from the inventory
    assert spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 600
    assert spec["metrics"][2]["pods"]["metric"]["name"] == "http_requests_per_second"


def test_no_hpa_or_vpa_for_fixed_size_or_batch_components(mini_synth):
    kinds = {(env, folder, doc["kind"]) for env, folder, doc in
             by_kind(mini_synth, "HorizontalPodAutoscaler") + by_kind(mini_synth, "VerticalPodAutoscaler")}
    assert ("prod", "stock-service", "HorizontalPodAutoscaler") not in kinds
    assert ("prod", "stock-service", "VerticalPodAutoscaler") in kinds  # right-sizing still useful
    assert not any(folder == "stock-report" for _, folder, _ in kinds)


# ---------------------------------------------------------------------------------------------
# Prometheus Adapter rules
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("root", _platforms())
def test_every_hpa_custom_metric_has_exactly_one_adapter_rule(root):
    platform = load_platform(root)
    for env in platform.environments:
        rules = adapter_rules(platform, env)
        wanted = {}
        for component in platform.enabled_components(env):
            auto = resolve(component, env).autoscaling
            for metric in auto.custom_metrics if auto else ():
                matching = [r for r in rules if r["name"]["as"] == metric.name]
                assert len(matching) == 1, f"{env.name}/{component.name}: {metric.name}"
                rule = matching[0]
                # The rule reads exactly the series the component exports.
                assert rule["seriesQuery"].startswith(metric.series + "{")
                assert rule["name"]["matches"] == f"^{metric.series}$"
                assert set(rule["resources"]["overrides"]) == {"namespace", "pod"}
                wanted[metric.name] = metric.series
        # ... and no rule serves a metric no HPA uses.
        assert {r["name"]["as"] for r in rules} == set(wanted), env.name


def test_rendered_hpas_and_adapter_rules_agree(mini_synth):
    platform = load_platform(mini_synth)
    for env in platform.environments:
        served = {r["name"]["as"] for r in adapter_rules(platform, env)}
        for e, folder, hpa in by_kind(mini_synth, "HorizontalPodAutoscaler"):
            if e != env.name:
                continue
            for metric in hpa["spec"]["metrics"]:
                if metric["type"] == "Pods":
                    assert metric["pods"]["metric"]["name"] in served, f"{e}/{folder}"


def test_adapter_refuses_one_metric_name_for_two_series():
    platform = load_platform(MINI)
    dev = platform.environment("dev")
    shop = platform.component("shop-api")
    other = dataclasses.replace(platform.component("stock-service"), autoscaling=dataclasses.replace(
        shop.autoscaling, custom_metrics=(CustomMetric("http_requests_per_second", "stock_requests_total", "5"),)))
    broken = dataclasses.replace(platform, components=tuple(
        other if c.name == "stock-service" else c for c in platform.components))
    with pytest.raises(ValueError, match="http_requests_per_second"):
        adapter_rules(broken, dev)


# ---------------------------------------------------------------------------------------------
# VPA
# ---------------------------------------------------------------------------------------------

def test_vpa_is_recommendation_only_with_bounds_from_resources(mini_synth):
    vpa = _doc(mini_synth, "prod", "shop-api", "verticalpodautoscaler")
    assert crd_errors(vpa) == []
    spec = vpa["spec"]
    assert spec["updatePolicy"] == {"updateMode": "Off"}
    assert spec["targetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "shop-api"}
    (policy,) = spec["resourcePolicy"]["containerPolicies"]
    assert policy["containerName"] == "shop-api"
    # shop-api: requests 100m/128Mi, limits 200m/256Mi -> half the request .. twice the limit.
    assert policy["minAllowed"] == {"cpu": "50m", "memory": "64Mi"}
    assert policy["maxAllowed"] == {"cpu": "400m", "memory": "512Mi"}
    deployment = _doc(mini_synth, "prod", "shop-api", "deployment")
    assert policy["containerName"] in {c["name"] for c in deployment["spec"]["template"]["spec"]["containers"]}


def test_vpa_bounds_are_clamped_to_the_limit_range():
    platform = load_platform(MINI)
    env = platform.environment("prod")
    tight = dataclasses.replace(env, limit_range=dataclasses.replace(
        env.limit_range, min_cpu="80m", min_memory="100Mi", max_cpu="300m", max_memory="300Mi"))
    low, high = vpa_bounds(ComponentContext.of(platform, tight, platform.component("shop-api")))
    assert low == {"cpu": "80m", "memory": "100Mi"}
    assert high == {"cpu": "300m", "memory": "300Mi"}


# ---------------------------------------------------------------------------------------------
# Playbook
# ---------------------------------------------------------------------------------------------

def test_playbook_documents_every_component_and_number(mini_synth):
    text = (mini_synth / PLAYBOOK).read_text()
    assert text.startswith("# Autoscaling and observability playbook")
    for heading in ("## Environment `dev`", "## Environment `prod`", "### Weekly: HPA stability",
                    "### Monthly: utilization against requests", "### Quarterly: right-sizing from VPA recommendations",
                    "## Alerts and runbooks", "### HPAMaxedOut", "### HPAMetricsUnavailable", "### MemoryNearLimit"):
        assert heading in text
    row = next(line for line in text.splitlines() if line.startswith("| `shop-api` | 100m / 128Mi"))
    for cell in ("200m / 256Mi", "2–4 (HPA)", "70% / 80%", "`http_requests_per_second` 20/pod (from `shop_http_requests_total`)",
                 "300s", "50m/64Mi → 400m/512Mi"):
        assert cell in row
    assert "> 5% 5xx (`shop_http_requests_total`)" in text and "> 1s (`shop_http_request_duration_seconds`)" in text
    # Review cadence thresholds and the commands to run.
    for needle in ("**12 per hour**", "**30%**", "**more than 20% for two consecutive weeks**",
                   "kubectl describe vpa <component> -n <namespace>", "gitops capacity --env <env>"):
        assert needle in text
    assert "| at HPA max | 0.50 | 0.63Gi | 1.00 | 1.25Gi | 6 |" in text


def test_playbook_is_checked_fresh_and_follows_the_inventory(mini):
    run_gitops(mini, "synth", check=True)
    assert run_gitops(mini, "synth", "--check").returncode == 0
    playbook = mini / PLAYBOOK
    playbook.write_text(playbook.read_text() + "hand edit\n")
    proc = run_gitops(mini, "synth", "--check")
    assert proc.returncode == 1 and PLAYBOOK in proc.stdout
    # An inventory change reaches the playbook on the next synth.
    env = mini / "environments/prod.yaml"
    data = yaml.safe_load(env.read_text())
    data["components"]["shop-api"]["autoscaling"] = {"max": 9}
    env.write_text(yaml.safe_dump(data, sort_keys=False))
    run_gitops(mini, "synth", check=True)
    assert "2–9 (HPA)" in playbook.read_text() and "hand edit" not in playbook.read_text()


def test_custom_metrics_nobody_scrapes_are_refused_before_any_output(mini):
    """An HPA metric without a scraped endpoint blocks scale-down; the loader refuses it (exit 2)."""
    inv = mini / "inventory/shop-api.yaml"
    data = yaml.safe_load(inv.read_text())
    del data["metrics"]
    inv.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(InputError) as info:
        synth(mini, no_cache=True)
    assert any("shop_http_requests_total" in str(p) for p in info.value.problems)
    assert not (mini / "dist").exists()
