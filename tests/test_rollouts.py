"""Progressive delivery (Argo Rollouts): delivery settings, generated objects, the add-on, ROL rules.

The fixture platform stays rolling (other tests pin its Deployments); ``rbase`` is a copy whose prod
delivers by canary with analysis (shop-api: nginx traffic routing and analysis; stock-service: no
Ingress, no metrics -> replica-weighted canary without analysis) and whose dev delivers shop-api
blue-green with analysis. Its progressive-delivery objects are pinned in tests/golden/mini-rollouts
(regenerate with UPDATE_GOLDEN=1).
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
import yaml

from charts.analysis import analysed
from charts.context import ComponentContext
from charts.alerts import prometheus_rule
from gitops.inputs.delivery import default_delivery, delivery_of
from gitops.inputs.load import load_platform
from gitops.inputs.model import CanaryStep, DeliverySettings
from gitops.validate.rollout_checks import query_series

from .conftest import MINI, REPO, copy_inputs, private_copy, run_cli, run_gitops, tree_bytes
from .test_validate import edit, load_docs, summary, validate, write

GOLDEN = Path(__file__).resolve().parent / "golden" / "mini-rollouts"
PINNED = re.compile(r"(rollout-|analysistemplate-|service-.*-(canary|preview)|horizontalpodautoscaler-|"
                    r"verticalpodautoscaler-|application-argo-rollouts)")
ROLLOUT = "dist/prod/shop-api/rollout-shop-api.yaml"
STOCK_ROLLOUT = "dist/prod/stock-service/rollout-stock-service.yaml"
TEMPLATE = "dist/prod/shop-api/analysistemplate-shop-api.yaml"
SHOP = "Rollout/shop-prod/shop-api"

PROD_DELIVERY = {"strategy": "canary", "analysis": True,
                 "steps": [{"setWeight": 10}, {"pause": "5m"}, {"setWeight": 50}, {"pause": ""}]}
DEV_SHOP_DELIVERY = {"strategy": "blueGreen", "autoPromotion": False, "analysis": True}


def expected_missing_analysis(root: Path) -> list[tuple[str, str]]:
    """(env, Rollout ref) of every canary whose environment asks for analysis the component cannot give."""
    platform = load_platform(root)
    out = []
    for env in platform.environments:
        for c in platform.enabled_components(env):
            ctx = ComponentContext.of(platform, env, c)
            if ctx.delivery.progressive and ctx.delivery.analysis and not analysed(ctx):
                out.append((env.name, f"Rollout/{env.namespace}/{c.name}"))
    return sorted(out)


def _edit_yaml(path: Path, fn) -> None:
    data = yaml.safe_load(path.read_text())
    fn(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def progressive_inputs(root: Path) -> Path:
    _edit_yaml(root / "environments/prod.yaml", lambda d: d.update(delivery=PROD_DELIVERY))
    _edit_yaml(root / "environments/dev.yaml", lambda d: d["components"]["shop-api"].update(delivery=DEV_SHOP_DELIVERY))
    return root


@pytest.fixture(scope="session")
def rbase(tmp_path_factory) -> Path:
    root = progressive_inputs(copy_inputs(MINI, tmp_path_factory.mktemp("rollouts") / "mini"))
    run_gitops(root, "synth", "--no-cache", check=True)
    return root


@pytest.fixture
def rroot(rbase, tmp_path) -> Path:
    return private_copy(rbase, tmp_path)


def _doc(root: Path, rel: str) -> dict:
    return load_docs(root, rel)[0]


# --- delivery settings ---------------------------------------------------------------------------
def test_precedence_field_by_field(rbase):
    platform = load_platform(rbase)
    prod, dev = platform.environment("prod"), platform.environment("dev")
    shop, stock, report = (platform.component(n) for n in ("shop-api", "stock-service", "stock-report"))
    assert delivery_of(shop, prod).strategy == "canary" and delivery_of(shop, prod).analysis
    assert delivery_of(shop, prod).steps == (CanaryStep(10), CanaryStep(pause="5m"), CanaryStep(50), CanaryStep(pause=""))
    # environment component override beats the environment default; unset fields fall through to the schema defaults
    assert delivery_of(shop, dev).strategy == "blueGreen" and delivery_of(shop, dev).auto_promotion is False
    assert delivery_of(stock, dev) == default_delivery()
    # jobs never progressive, whatever the environment says
    assert not delivery_of(report, prod).progressive


def test_environment_default_reaches_api_and_frontend_only():
    from dataclasses import replace

    platform = load_platform(REPO)
    prod = platform.environment("prod")
    for c in platform.enabled_components(prod):
        d = delivery_of(c, prod)
        assert d.progressive == (c.kind in ("api", "frontend")), c.name
        # analysis is asked for api components only (admin-portal's own override sets no analysis)
        assert d.analysis == (c.kind == "api"), c.name
    # a worker follows its own delivery, never the environment's
    worker = replace(platform.component("api-gateway"), kind="worker")
    assert not delivery_of(worker, prod).progressive
    assert delivery_of(replace(worker, delivery=DeliverySettings(strategy="canary")), prod).strategy == "canary"


def test_dev_stays_rolling_staging_short_canary_prod_analysed():
    platform = load_platform(REPO)
    for env in platform.environments:
        for c in platform.enabled_components(env):
            d = delivery_of(c, env)
            if env.name == "dev":
                assert d.strategy == "rolling", c.name
            if env.name == "staging" and c.kind in ("api", "frontend"):
                assert d.strategy == "canary" and d.steps == default_delivery().steps and not d.analysis, c.name


@pytest.mark.parametrize("where, edit_fn, message", [
    ("inventory/stock-report.yaml", lambda d: d.update(delivery={"strategy": "canary"}),
     "expected rolling for a cronjob"),
    ("environments/prod.yaml", lambda d: d.update(delivery={"strategy": "canary", "steps": [{"pause": "1m"}]}),
     "expected at least one setWeight step"),
    ("environments/prod.yaml", lambda d: d.update(delivery={"steps": [{"setWeight": 50}, {"setWeight": 20}]}),
     "expected setWeight values in increasing order, found 50, 20"),
    ("environments/prod.yaml", lambda d: d.update(delivery={"strategy": "linear"}),
     "expected one of rolling, canary, blueGreen"),
    ("environments/dev.yaml", lambda d: d["components"]["shop-api"].update(delivery={"steps": [{"setWeight": 120}]}),
     "components/shop-api/delivery/steps/0"),
])
def test_bad_delivery_input_exits_2_and_writes_nothing(mini, where, edit_fn, message):
    if "stock-report" in where:
        text = (mini / where).read_text()
        kind = yaml.safe_load(text)["kind"]
        assert kind in ("job", "cronjob")
        message = message.replace("cronjob", kind)
    run_gitops(mini, "synth", "--no-cache", check=True)
    before = tree_bytes(mini / "dist")
    _edit_yaml(mini / where, edit_fn)
    proc = run_gitops(mini, "synth", "--no-cache")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr + proc.stdout
    assert where in proc.stderr + proc.stdout
    assert tree_bytes(mini / "dist") == before


def test_worker_cannot_be_blue_green():
    from gitops.inputs.delivery import settings_problems

    problems = settings_problems("inventory/w.yaml", ("delivery",), DeliverySettings(strategy="blueGreen"),
                                 lambda path: 7, "worker")
    assert [(p.path, p.line) for p in problems] == [("delivery/strategy", 7)]
    assert "a worker has none" in problems[0].message


# --- generated objects -----------------------------------------------------------------------------
def test_golden_progressive_delivery_objects(rbase):
    actual = {k: v for k, v in {**{f"dist/{k}": v for k, v in tree_bytes(rbase / "dist").items()},
                                **{f"argocd/{k}": v for k, v in tree_bytes(rbase / "argocd").items()}}.items()
              if PINNED.search(k.rsplit("/", 1)[-1])}
    if os.environ.get("UPDATE_GOLDEN"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for rel, data in actual.items():
            (GOLDEN / rel).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / rel).write_bytes(data)
    expected = tree_bytes(GOLDEN)
    assert sorted(actual) == sorted(expected)
    for rel in expected:
        assert actual[rel] == expected[rel], f"{rel} differs from golden"


@pytest.mark.parametrize("root_name", ["repo", "variant"])
def test_one_workload_kind_per_component(root_name, rbase):
    root = REPO if root_name == "repo" else rbase
    platform = load_platform(root)
    for env in platform.environments:
        for c in platform.enabled_components(env):
            if not c.is_long_running:
                continue
            folder = root / "dist" / env.name / c.name
            progressive = delivery_of(c, env).progressive
            assert (folder / f"rollout-{c.name}.yaml").is_file() == progressive, (env.name, c.name)
            assert (folder / f"deployment-{c.name}.yaml").is_file() == (not progressive), (env.name, c.name)


def test_canary_with_ingress_routes_through_nginx(rbase):
    canary = _doc(rbase, ROLLOUT)["spec"]["strategy"]["canary"]
    assert canary["stableService"] == "shop-api" and canary["canaryService"] == "shop-api-canary"
    assert canary["trafficRouting"] == {"nginx": {"stableIngress": "shop-api"}}
    ingress = _doc(rbase, "dist/prod/shop-api/ingress-shop-api.yaml")
    assert ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] == canary["stableService"]
    assert canary["steps"] == [{"setWeight": 10}, {"pause": {"duration": "5m"}}, {"setWeight": 50}, {"pause": {}}]
    assert canary["analysis"]["startingStep"] == 1
    assert canary["analysis"]["args"] == [{"name": "new-pods-hash", "valueFrom": {"podTemplateHashValue": "Latest"}}]


def test_canary_without_ingress_weights_by_replicas(rbase):
    canary = _doc(rbase, STOCK_ROLLOUT)["spec"]["strategy"]["canary"]
    # No stableService: the component's Service keeps selecting old and new pods alike.
    assert "stableService" not in canary and "trafficRouting" not in canary
    assert canary["canaryService"] == "stock-service-canary"
    assert "analysis" not in canary  # stock-service declares no request metrics


def test_blue_green_with_preview_and_post_promotion_analysis(rbase):
    spec = _doc(rbase, "dist/dev/shop-api/rollout-shop-api.yaml")["spec"]["strategy"]["blueGreen"]
    assert spec["activeService"] == "shop-api" and spec["previewService"] == "shop-api-preview"
    assert spec["autoPromotionEnabled"] is False
    assert spec["postPromotionAnalysis"]["templates"] == [{"templateName": "shop-api"}]
    assert (rbase / "dist/dev/shop-api/service-shop-api-preview.yaml").is_file()


def test_hpa_vpa_and_pdb_follow_the_rollout(rbase):
    for kind in ("horizontalpodautoscaler", "verticalpodautoscaler"):
        doc = _doc(rbase, f"dist/prod/shop-api/{kind}-shop-api.yaml")
        ref = doc["spec"].get("scaleTargetRef") or doc["spec"]["targetRef"]
        assert ref == {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "name": "shop-api"}
    rollout = _doc(rbase, ROLLOUT)
    pdb = _doc(rbase, "dist/prod/shop-api/poddisruptionbudget-shop-api.yaml")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= rollout["spec"]["template"]["metadata"]["labels"].items()
    assert "replicas" not in rollout["spec"]  # the HPA owns it


def test_analysis_reads_the_alert_series_with_the_alert_thresholds(rbase):
    platform = load_platform(rbase)
    env, shop = platform.environment("prod"), platform.component("shop-api")
    ctx = ComponentContext.of(platform, env, shop)
    alert_series = set().union(*(query_series(r["expr"]) for r in prometheus_rule(ctx)["spec"]["groups"][0]["rules"]))
    metrics = {m["name"]: m for m in _doc(rbase, TEMPLATE)["spec"]["metrics"]}
    assert sorted(metrics) == ["no-crash-loops", "p95-latency", "success-rate"]
    for m in metrics.values():
        assert query_series(m["provider"]["prometheus"]["query"]) <= alert_series, m["name"]
        assert m["provider"]["prometheus"]["address"] == "http://kube-prometheus-stack-prometheus.monitoring.svc:9090"
        assert m["interval"] == "1m" and m["failureLimit"] == 1 and m["inconclusiveLimit"] == 2
        assert m["count"] == 5  # one a minute over the 5m of timed pauses (the indefinite one adds none)
        assert 'pod=~"shop-api-{{args.new-pods-hash}}-.*"' in m["provider"]["prometheus"]["query"]
    assert metrics["success-rate"]["successCondition"] == f"!isNaN(result) && result >= {1 - shop.alerting.error_ratio:g}"
    assert metrics["p95-latency"]["failureCondition"] == f"!isNaN(result) && result > {shop.alerting.p95_latency_seconds:g}"


def test_addon_installed_only_where_a_component_is_progressive(rbase, mini_synth):
    assert (rbase / "argocd/prod/application-argo-rollouts.yaml").is_file()
    assert not (mini_synth / "argocd/prod/application-argo-rollouts.yaml").exists()
    assert not (REPO / "argocd/dev/application-argo-rollouts.yaml").exists()
    app = _doc(REPO, "argocd/prod/application-argo-rollouts.yaml")
    assert app["spec"]["source"]["targetRevision"] == "2.41.0"  # ships controller v1.9.0
    waves = {name: int(_doc(REPO, f"argocd/prod/{name}")["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
             for name in ("application-kube-prometheus-stack.yaml", "application-argo-rollouts.yaml",
                          "application-api-gateway.yaml")}
    assert waves["application-kube-prometheus-stack.yaml"] < waves["application-argo-rollouts.yaml"]
    assert waves["application-argo-rollouts.yaml"] < waves["application-api-gateway.yaml"]
    values = app["spec"]["source"]["helm"]["valuesObject"]
    assert values["controller"]["metrics"] == {"enabled": True, "serviceMonitor": {"enabled": True}}
    dashboard = values["extraObjects"][0]
    assert dashboard["metadata"]["labels"] == {"grafana_dashboard": "1"}
    text = dashboard["data"]["argo-rollouts.json"]
    assert "{{" not in text and "exported_namespace=\\\"meetinity-prod\\\"" in text


def test_crd_provider_table_names_the_rollouts_addon():
    from charts.addons import crd_provider

    for kind in ("Rollout", "AnalysisTemplate", "AnalysisRun"):
        assert crd_provider("argoproj.io", kind).name == "argo-rollouts"
    assert crd_provider("argoproj.io", "Application") is None  # Argo CD's own, installed by Terraform


def test_query_series_ignores_functions_labels_and_placeholders():
    q = ('scalar(1 - ((sum(rate(a_total{pod=~"x-{{args.h}}-.*",status=~"5.."}[2m])) or vector(0)) '
         '/ sum by (le) (rate(b_bucket{x="sum(y)"}[2m])) and on(pod) c offset 5m))')
    assert query_series(q) == {"a_total", "b_bucket", "c"}


# --- gitops validate on tampered copies ------------------------------------------------------------
def test_variant_is_strict_valid_with_only_the_expected_warning(rbase):
    report = validate(rbase)
    assert report.errors == []
    assert summary(report) == [("ROL007", ["Rollout/shop-prod/stock-service"])]
    assert expected_missing_analysis(rbase) == [("prod", "Rollout/shop-prod/stock-service")]


def _canary(d):
    return d["spec"]["strategy"]["canary"]


@pytest.mark.parametrize("rel, fn, expected", [
    (ROLLOUT, lambda d: d["spec"]["selector"]["matchLabels"].update({"app.kubernetes.io/name": "shop"}),
     ("ROL001", [SHOP])),
    (ROLLOUT, lambda d: _canary(d).update(canaryService="shop-api-canary-typo"), ("ROL002", [SHOP])),
    (ROLLOUT, lambda d: _canary(d)["trafficRouting"]["nginx"].update(stableIngress="shop"), ("ROL002", [SHOP])),
    ("dist/prod/shop-api/ingress-shop-api.yaml",
     lambda d: d["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"].update(name="shop-api-canary"),
     ("ROL002", [SHOP, "Ingress/shop-prod/shop-api"])),
    (ROLLOUT, lambda d: _canary(d)["analysis"]["templates"][0].update(templateName="shop"), ("ROL003", [SHOP])),
    (ROLLOUT, lambda d: _canary(d)["analysis"].pop("args"), ("ROL003", [SHOP, "AnalysisTemplate/shop-prod/shop-api"])),
    (TEMPLATE, lambda d: d["spec"]["metrics"][0]["provider"]["prometheus"].update(
        query='scalar(sum(rate(http_requests_total{namespace="shop-prod"}[2m])))'),
     ("ROL004", ["AnalysisTemplate/shop-prod/shop-api"])),
    ("dist/prod/shop-api/horizontalpodautoscaler-shop-api.yaml",
     lambda d: d["spec"]["scaleTargetRef"].update(apiVersion="apps/v1"),
     ("ROL005", ["HorizontalPodAutoscaler/shop-prod/shop-api"])),
])
def test_tampered_strategy_is_caught(rroot, rel, fn, expected):
    edit(rroot, rel, fn)
    findings = [f for f in validate(rroot, envs=["prod"]).findings if f.rule_id != "ROL007"]
    assert sorted((f.rule_id, f.objects) for f in findings) == [expected]
    assert findings[0].fix


def test_hpa_left_on_the_deployment(rroot):
    edit(rroot, "dist/prod/shop-api/horizontalpodautoscaler-shop-api.yaml",
         lambda d: d["spec"]["scaleTargetRef"].update(apiVersion="apps/v1", kind="Deployment"))
    findings = [f for f in validate(rroot, envs=["prod"]).findings if f.rule_id != "ROL007"]
    hpa = "HorizontalPodAutoscaler/shop-prod/shop-api"
    assert sorted((f.rule_id, f.objects) for f in findings) == [("ROL005", [hpa, SHOP]), ("XRF018", [hpa])]
    assert "runs as a Rollout" in next(f.message for f in findings if f.rule_id == "ROL005")


def test_pdb_of_a_rollout_selecting_no_pods(rroot):
    edit(rroot, "dist/prod/shop-api/poddisruptionbudget-shop-api.yaml",
         lambda d: d["spec"]["selector"]["matchLabels"].update({"app.kubernetes.io/instance": "shop-api-dev"}))
    findings = [f for f in validate(rroot, envs=["prod"]).findings if f.rule_id != "ROL007"]
    assert [(f.rule_id, f.objects) for f in findings] == [("XRF018", ["PodDisruptionBudget/shop-prod/shop-api"])]


def test_deployment_left_next_to_the_rollout(rroot):
    rollout = _doc(rroot, ROLLOUT)
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": rollout["metadata"],
                  "spec": {"selector": rollout["spec"]["selector"], "template": rollout["spec"]["template"]}}
    write(rroot, "dist/prod/shop-api/deployment-shop-api.yaml", deployment)
    findings = [f for f in validate(rroot, envs=["prod"]).findings if f.rule_id == "ROL006"]
    assert [(f.rule_id, f.objects) for f in findings] == [("ROL006", ["Deployment/shop-prod/shop-api", SHOP])]


def test_cli_exits_1_on_a_broken_strategy_reference(rroot):
    assert run_cli(rroot, "validate").returncode == 0
    edit(rroot, ROLLOUT, lambda d: _canary(d).update(stableService="shop-api-stable"))
    result = run_cli(rroot, "validate")
    assert result.returncode == 1
    assert f"{ROLLOUT}:" in result.stdout and "error ROL002 rollout-strategy-references" in result.stdout
    assert "stableService shop-api-stable, which does not exist" in result.stdout


def test_dashboard_replicas_of_a_rollout_without_hpa_come_from_the_controller(rbase):
    import json

    board = json.loads(next(iter(_doc(rbase, "dist/prod/stock-service/configmap-stock-service-dashboard.yaml")["data"].values())))
    replicas = next(p for p in board["panels"] if p["title"] == "Replicas")
    exprs = [t["expr"] for t in replicas["targets"]]
    assert exprs == ['rollout_info_replicas_available{exported_namespace="shop-prod",name="stock-service"}',
                     'rollout_info_replicas_desired{exported_namespace="shop-prod",name="stock-service"}']
