"""ServiceMonitor, PrometheusRule and Grafana dashboards: CRD-valid, parseable, consistent with the inventory.

Runs on the small fixture and on the real inventory/ and environments/ (copied to a temp
folder; never synthesized in place).

CRD schemas are the repository's own (gitops/schemas/crds/, tests/crd.py). PromQL goes through
``promql-parser`` (Python bindings of GreptimeDB's Rust PromQL parser).
"""
from __future__ import annotations

import copy
import functools
import json
import re
from pathlib import Path

import jsonschema
import promql_parser
import pytest
import yaml

from gitops.inputs.load import load_platform

from .conftest import REPO, copy_inputs, run_gitops
from .crd import crd_validator as strict_crd_validator

CUSTOM_GROUPS = ("monitoring.coreos.com/v1", "autoscaling.k8s.io/v1")
STANDARD_METRIC = re.compile(r"^(kube_|container_|rollout_info_)")  # rollout_info_*: the Argo Rollouts controller
PLAYBOOK = "docs/autoscaling-playbook.md"


# ---------------------------------------------------------------------------------------------
# helpers (also used by test_autoscaling.py)
# ---------------------------------------------------------------------------------------------

def crd_validator(api_version: str, kind: str) -> jsonschema.protocols.Validator:
    return strict_crd_validator(api_version, kind, strict=True)


def crd_errors(doc: dict) -> list[str]:
    validator = crd_validator(doc["apiVersion"], doc["kind"])
    return [f"{doc['kind']}/{doc['metadata']['name']} at /{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(doc)]


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.cache
def _documents(root: Path) -> tuple:
    out = []
    for path in sorted((root / "dist").rglob("*.yaml")):
        env, folder = path.relative_to(root / "dist").parts[:2]
        out += [(env, folder, doc) for doc in yaml.load_all(path.read_text(), Loader=_Loader)]
    return tuple(out)


def documents(root: Path):
    """(env, component folder, document) for every object in dist/ (read once per tree; copies)."""
    return [(env, folder, copy.deepcopy(doc)) for env, folder, doc in _documents(root)]


def by_kind(root: Path, kind: str):
    return [(env, folder, doc) for env, folder, doc in documents(root) if doc["kind"] == kind]


def metric_names(expr: str) -> set[str]:
    """Every metric a PromQL expression reads, from the real parser's AST."""
    names: set[str] = set()

    def visit(node):
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            names.add(node.name)
    promql_parser.walk(promql_parser.parse(expr), visit)
    return names


def github_slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    slug = heading.strip().lower()
    slug = re.sub(r"[^\w\- ]", "", slug)
    return slug.replace(" ", "-")


def declared_metrics(platform, env_name: str, component: str) -> set[str]:
    from charts.context import ComponentContext
    env = platform.environment(env_name)
    ctx = ComponentContext.of(platform, env, platform.component(component))
    out = set()
    a = ctx.component.alerting
    if a.requests_counter:
        out.add(a.requests_counter)
    if a.latency_histogram:
        out |= {a.latency_histogram + s for s in ("", "_bucket", "_sum", "_count")}
    for m in ctx.resolved.autoscaling.custom_metrics if ctx.resolved.autoscaling else ():
        out.add(m.series)
    return out


# ---------------------------------------------------------------------------------------------
# fixtures: the small fixture, and the real inventory
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def real_synth(tmp_path_factory) -> Path:
    root = copy_inputs(REPO, tmp_path_factory.mktemp("real-synth") / "real")
    run_gitops(root, "synth", "--no-cache", check=True)
    return root


@pytest.fixture(params=["mini", "real"])
def synthesized(request) -> Path:
    return request.getfixturevalue("mini_synth" if request.param == "mini" else "real_synth")


# ---------------------------------------------------------------------------------------------
# CRD schemas
# ---------------------------------------------------------------------------------------------

def test_custom_resources_validate_against_crd_schemas(synthesized):
    kinds, errors = set(), []
    for _, _, doc in documents(synthesized):
        if doc["apiVersion"] in CUSTOM_GROUPS:
            kinds.add(doc["kind"])
            errors += crd_errors(doc)
    assert {"ServiceMonitor", "PrometheusRule", "VerticalPodAutoscaler"} <= kinds
    assert errors == []


def test_strict_crd_schema_catches_unknown_and_invalid_fields(mini_synth):
    monitor = yaml.safe_load((mini_synth / "dist/prod/shop-api/servicemonitor-shop-api.yaml").read_text())
    assert crd_errors(monitor) == []
    typo = copy.deepcopy(monitor)
    typo["spec"]["endpoints"][0]["portName"] = typo["spec"]["endpoints"][0].pop("port")
    assert crd_errors(typo)
    rule = yaml.safe_load((mini_synth / "dist/prod/shop-api/prometheusrule-shop-api.yaml").read_text())
    rule["spec"]["groups"][0]["rules"][0]["for"] = "fifteen minutes"
    assert any("for" in e for e in crd_errors(rule))


# ---------------------------------------------------------------------------------------------
# PrometheusRule
# ---------------------------------------------------------------------------------------------

def test_promql_parser_rejects_broken_expressions():
    # The parse test below proves something only if the parser really rejects bad PromQL.
    for bad in ("sum(rate(x_total[5m])", "rate(x_total)", "x_total{a=}", "histogram_quantile(0.95 x)"):
        with pytest.raises(ValueError):
            promql_parser.parse(bad)


def test_every_alert_expression_parses(synthesized):
    count = 0
    for _, _, doc in by_kind(synthesized, "PrometheusRule"):
        for group in doc["spec"]["groups"]:
            for rule in group["rules"]:
                promql_parser.parse(rule["expr"])
                count += 1
    assert count > 0


def test_every_alert_carries_a_runbook_that_exists(synthesized):
    platform = load_platform(synthesized)
    playbook = (synthesized / PLAYBOOK).read_text()
    anchors = {github_slug(line.lstrip("#")) for line in playbook.splitlines() if line.startswith("#")}
    prefix = platform.repo_url.removesuffix(".git") + "/blob/main/" + PLAYBOOK + "#"
    for env, folder, doc in by_kind(synthesized, "PrometheusRule"):
        assert doc["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        for rule in doc["spec"]["groups"][0]["rules"]:
            notes = rule["annotations"]
            assert notes["summary"].strip() and notes["description"].strip(), rule["alert"]
            assert notes["runbook_url"].startswith(prefix), notes["runbook_url"]
            assert notes["runbook_url"].removeprefix(prefix) in anchors, f"{env}/{folder}: {rule['alert']}"
            assert rule["labels"]["severity"] in ("warning", "critical")
            assert rule["labels"]["component"] == folder and rule["labels"]["environment"] == env


def _alerts(root, env, component):
    path = root / "dist" / env / component / f"prometheusrule-{component}.yaml"
    rule = yaml.safe_load(path.read_text())
    return {r["alert"]: r for r in rule["spec"]["groups"][0]["rules"]}


def test_alerts_follow_what_the_component_declares(mini_synth):
    shop = _alerts(mini_synth, "prod", "shop-api")
    assert set(shop) == {"HPAMaxedOut", "HPAMetricsUnavailable", "CustomMetricMissing", "HighErrorRatio",
                         "HighP95Latency", "ContainerRestarting", "ContainerCrashLooping", "MemoryNearLimit"}
    assert shop["HPAMaxedOut"]["for"] == "15m"
    assert "kube_horizontalpodautoscaler_spec_max_replicas" in shop["HPAMaxedOut"]["expr"]
    unable = shop["HPAMetricsUnavailable"]["expr"]
    assert 'condition="ScalingActive"' in unable and 'status="false"' in unable
    assert metric_names(shop["HighErrorRatio"]["expr"]) == {"shop_http_requests_total"}
    assert shop["HighErrorRatio"]["expr"].endswith("> 0.05")
    assert metric_names(shop["HighP95Latency"]["expr"]) == {"shop_http_request_duration_seconds_bucket"}
    assert metric_names(shop["CustomMetricMissing"]["expr"]) == {"shop_http_requests_total"}
    # stock-service declares no metrics, no HPA: only the container-level alerts.
    assert set(_alerts(mini_synth, "prod", "stock-service")) == {"ContainerRestarting", "ContainerCrashLooping", "MemoryNearLimit"}
    # A CronJob: failures and memory, no restarts (restartPolicy Never).
    assert set(_alerts(mini_synth, "dev", "stock-report")) == {"JobFailed", "MemoryNearLimit"}


def test_alerts_select_the_environment_namespace(synthesized):
    platform = load_platform(synthesized)
    for env, _, doc in by_kind(synthesized, "PrometheusRule"):
        namespace = platform.environment(env).namespace
        for rule in doc["spec"]["groups"][0]["rules"]:
            assert f'namespace="{namespace}"' in rule["expr"], rule["alert"]


# ---------------------------------------------------------------------------------------------
# ServiceMonitor
# ---------------------------------------------------------------------------------------------

def test_every_service_monitor_selects_an_existing_service_port(synthesized):
    platform = load_platform(synthesized)
    services = by_kind(synthesized, "Service")
    monitors = by_kind(synthesized, "ServiceMonitor")
    assert monitors
    for env, folder, monitor in monitors:
        spec = monitor["spec"]
        assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        assert spec["namespaceSelector"]["matchNames"] == [monitor["metadata"]["namespace"]]
        wanted = spec["selector"]["matchLabels"]
        matches = [svc for e, _, svc in services
                   if e == env and svc["metadata"]["namespace"] == monitor["metadata"]["namespace"]
                   and wanted.items() <= svc["metadata"]["labels"].items()]
        # A Rollout's canary/preview Service is scraped too: the new pods' series come through it
        # during a canary (charts/analysis.py measures them by pod, whichever Service scraped them).
        names = sorted(svc["metadata"]["name"] for svc in matches)
        assert names in ([folder], [folder, f"{folder}-canary"], [folder, f"{folder}-preview"]), \
            f"{env}/{folder}: ServiceMonitor selects {names}"
        matches = [svc for svc in matches if svc["metadata"]["name"] == folder]
        port_names = {p["name"] for p in matches[0]["spec"]["ports"]}
        component = platform.component(folder)
        for endpoint in spec["endpoints"]:
            assert endpoint["port"] in port_names
            assert endpoint["path"] == component.metrics.path


def test_service_monitor_exactly_for_components_with_metrics(synthesized):
    platform = load_platform(synthesized)
    monitored = {(env, folder) for env, folder, _ in by_kind(synthesized, "ServiceMonitor")}
    expected = {(env.name, c.name) for env in platform.environments for c in platform.enabled_components(env)
                if c.metrics is not None and c.is_serving and c.port}
    assert monitored == expected


# ---------------------------------------------------------------------------------------------
# Grafana dashboards
# ---------------------------------------------------------------------------------------------

def _dashboards(root):
    out = []
    for env, folder, doc in by_kind(root, "ConfigMap"):
        if doc["metadata"]["labels"].get("grafana_dashboard") == "1":
            (name, text), = doc["data"].items()
            out.append((env, folder, name, text))
    return out


def test_every_workload_has_one_dashboard(synthesized):
    platform = load_platform(synthesized)
    found = {(env, folder) for env, folder, _, _ in _dashboards(synthesized)}
    assert found == {(env.name, c.name) for env in platform.environments for c in platform.enabled_components(env)}


def test_dashboard_json_is_valid_and_deterministic(synthesized):
    uids = set()
    for env, folder, name, text in _dashboards(synthesized):
        assert name == f"{folder}.json"
        board = json.loads(text)
        assert text == json.dumps(board, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        ids = [p["id"] for p in board["panels"]]
        assert ids == list(range(1, len(ids) + 1))
        assert len(board["uid"]) <= 40 and board["uid"] not in uids
        uids.add(board["uid"])
        titles = {p["title"] for p in board["panels"]}
        assert {"CPU vs requests and limits", "Memory vs requests and limits"} <= titles
        for panel in board["panels"]:
            assert [t["refId"] for t in panel["targets"]] == [chr(ord("A") + i) for i in range(len(panel["targets"]))]


def test_dashboards_query_only_declared_or_standard_metrics(synthesized):
    platform = load_platform(synthesized)
    for env, folder, _, text in _dashboards(synthesized):
        allowed = declared_metrics(platform, env, folder)
        for panel in json.loads(text)["panels"]:
            for target in panel["targets"]:
                for metric in metric_names(target["expr"]):
                    assert metric in allowed or STANDARD_METRIC.match(metric), (
                        f"{env}/{folder} panel {panel['title']!r} reads undeclared {metric}")


def test_dashboard_panels_follow_declarations(mini_synth):
    boards = {(env, folder): json.loads(text) for env, folder, _, text in _dashboards(mini_synth)}
    shop = {p["title"] for p in boards[("prod", "shop-api")]["panels"]}
    assert {"Request rate", "5xx error ratio", "Latency", "Replicas vs HPA",
            "http_requests_per_second per pod (HPA custom metric)"} <= shop
    stock = {p["title"] for p in boards[("prod", "stock-service")]["panels"]}
    assert "Request rate" not in stock and "Replicas vs HPA" not in stock and "Replicas" in stock
    assert "Job runs" in {p["title"] for p in boards[("dev", "stock-report")]["panels"]}


def test_declared_metric_check_would_catch_an_undeclared_series():
    assert metric_names('sum(rate(foo_total{service="x"}[5m])) / on(pod) group_left() kube_pod_info') == {"foo_total", "kube_pod_info"}
