"""The promotion gates that read the source environment (gitops/promote/evidence.py): soak and alerts.

Real git repositories and the real promotion code; Argo CD and Prometheus are the local stand-ins
(tests/argocd_fake.py, tests/prometheus_fake.py). The template's prod declares `soak: 24h`; staging
runs shop-api v1.3.0 on main (pushed), so `promote staging -> prod` reaches these gates. The clock is
fixed (Options.now): the ages below are exact. Refusals happen before anything is rendered.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import yaml

from gitops.inputs.duration import format_duration, parse_duration
from gitops.promote.evidence import _run_component, alert_query, analysis_query
from gitops.promote.gates import GateFailed
from gitops.promote.promote import Options, promote
from gitops.ops.prometheus_api import parse_vector

from .test_promote_support import DIGEST_A, copy_setup, gitops, template, with_migrations

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def ago(**kw) -> str:
    return (NOW - timedelta(**kw)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def apis(fake_argocd, fake_prometheus):
    return fake_argocd, fake_prometheus


@pytest.fixture
def world(tmp_path, apis, fake_github, monkeypatch):
    """staging runs shop-api v1.3.0 (committed and pushed); its Argo CD shows it Synced and Healthy for 2 days."""
    argocd, prometheus = apis
    argocd.reset(), prometheus.reset(), fake_github.reset()
    setup = copy_setup(template(), tmp_path / "s")
    fake_github.git_dir = setup.bare
    before = setup.git("rev-parse", "HEAD")
    path = setup.root / "environments" / "staging.yaml"
    path.write_text(path.read_text().replace("image: {tag: v1.2.0, digest:", "image: {tag: v1.3.0, digest:", 1)
                    .replace('"sha256:' + "1" * 64 + '"', f'"{DIGEST_A}"', 1))
    main = setup.commit_all("staging: shop-api v1.3.0")
    setup.git("push", "--quiet", "origin", "main")
    project = yaml.safe_load((setup.root / "argocd/staging/application-shop-api.yaml").read_text())["spec"]["project"]
    argocd.add("shop-api", project, revision=main, deployed_at=ago(days=2))
    environ = {"ARGOCD_SERVER_STAGING": argocd.url, "ARGOCD_AUTH_TOKEN_STAGING": argocd.token,
               "PROMETHEUS_URL_STAGING": prometheus.url, "GITOPS_ARGOCD_BACKOFF": "0", "GITOPS_PROMETHEUS_BACKOFF": "0",
               "GITOPS_ARGOCD_TIMEOUT": "5", "GITOPS_PROMETHEUS_TIMEOUT": "5"}
    return dict(setup=setup, argocd=argocd, prometheus=prometheus, github=fake_github, main=main, before=before,
                project=project, environ=environ)


def analysis_run(w, namespace: str, name: str, phase: str) -> None:
    """analysis_run_info as Prometheus stores it: scraped from the controller in argo-rollouts, the run's own
    namespace label renamed exported_namespace (honorLabels false)."""
    w["prometheus"].add("analysis_run_info", namespace="argo-rollouts", exported_namespace=namespace, name=name, phase=phase)


def refuse(w, **kw) -> str:
    options = Options(token=w["github"].token, api_url=w["github"].url, environ=w["environ"], now=lambda: NOW)
    with pytest.raises(GateFailed) as exc:
        promote(w["setup"].root, "staging", "prod", options=options, **kw)
    assert w["setup"].remote_branches() == ["main"] and not w["github"].pulls
    return str(exc.value)


def dry_run(w, **kw):
    options = Options(token=w["github"].token, api_url=w["github"].url, environ=w["environ"], now=lambda: NOW,
                      dry_run=True)
    return promote(w["setup"].root, "staging", "prod", options=options, **kw)


def test_a_job_that_runs_before_its_workload_soaks_in_the_workloads_application(world):
    """shop-api-migrations has no Application of its own (a Sync hook in shop-api's): promoting shop-api
    takes it along, and the soak gate asks shop-api's Application, at a revision with both versions."""
    setup = world["setup"]
    main = with_migrations(setup)
    setup.git("push", "--quiet", "origin", "main")
    world["argocd"].add("shop-api", world["project"], revision=main, deployed_at=ago(days=2))
    outcome = dry_run(world, services=["shop-api"])
    assert [c.name for c in outcome.plan.changes] == ["shop-api", "shop-api-migrations"]
    soak = next(g for g in outcome.plan.gates if g.name == "soak")
    assert soak.status == "passed", soak
    assert "shop-api-migrations" in outcome.body


# --------------------------------------------------------------------------- what the "Done when" names

@pytest.mark.parametrize("status, expected", [
    ({"health": "Degraded", "message": "Deployment has 0/2 ready pods"},
     "health is Degraded (Deployment has 0/2 ready pods), expected Healthy"),
    ({"sync": "OutOfSync"}, "sync status is OutOfSync, expected Synced"),
    ({"deployed_at": ago(hours=3)}, f"Synced and Healthy since {ago(hours=3)} only (3h), less than the 24h soak"),
    ({"health_since": ago(minutes=20)}, f"Synced and Healthy since {ago(minutes=20)} only (20m), less than the 24h soak"),
    ({"operation_phase": "Running"}, "a sync operation is running"),
    ({"operation_phase": "Failed"}, "the last sync operation ended Failed"),
])
def test_soak_refuses_what_staging_does_not_show(world, status, expected):
    w = world
    w["argocd"].add("shop-api", w["project"], **{"revision": w["main"], "deployed_at": ago(days=2), **status})
    message = refuse(w)
    assert "soak:" in message and f"shop-api: {expected}" in message


def test_soak_refuses_an_older_revision(world):
    w = world
    w["argocd"].add("shop-api", w["project"], revision=w["before"], deployed_at=ago(days=2))
    message = refuse(w)
    assert (f"shop-api: synced at an older revision {w['before'][:12]} (v1.2.0@sha256:111111111111…); "
            f"v1.3.0@sha256:aaaaaaaaaaaa… came with {w['main'][:12]}, not yet synced by `staging`") in message
    assert f"the last sync deployed {w['before'][:12]}, which does not run v1.3.0" in message


def test_soak_refuses_a_revision_compared_but_not_deployed(world):
    w = world
    w["argocd"].add("shop-api", w["project"], revision=w["main"], deployed_revision=w["before"], deployed_at=ago(days=2))
    assert f"the last sync deployed {w['before'][:12]}, which does not run v1.3.0" in refuse(w)


def test_soak_refuses_a_revision_this_repository_does_not_have(world):
    w = world
    w["argocd"].add("shop-api", w["project"], revision="f" * 40, deployed_at=ago(days=2))
    assert f"synced revision {'f' * 12} is not a commit of this repository" in refuse(w)


def test_alerts_refuse_a_critical_alert_of_the_component_in_the_window(world):
    w = world
    p = w["prometheus"]
    p.add("ALERTS", alertname="HighErrorRatio", alertstate="firing", severity="critical", component="shop-api",
          environment="staging")
    # not counted: another environment, another component, a warning, a pending alert
    p.add("ALERTS", alertname="HighErrorRatio", alertstate="firing", severity="critical", component="shop-api",
          environment="dev")
    p.add("ALERTS", alertname="ContainerCrashLooping", alertstate="firing", severity="critical",
          component="stock-service", environment="staging")
    p.add("ALERTS", alertname="HighP95Latency", alertstate="firing", severity="warning", component="shop-api",
          environment="staging")
    p.add("ALERTS", alertname="ContainerCrashLooping", alertstate="pending", severity="critical", component="shop-api",
          environment="staging")
    message = refuse(w)
    assert "alerts: critical alert(s) fired in `staging` during the last 24h: shop-api: HighErrorRatio." in message
    assert "soak:" not in message  # the soak gate passed: only the alert refuses
    [query] = [q for q, _ in p.log if "ALERTS" in q]
    assert query == ('max by (component, alertname) (max_over_time(ALERTS{alertstate="firing",severity="critical",'
                     'environment="staging",component=~"shop-api"}[86400s]))')


def test_alerts_refuse_a_failed_canary_analysis(world):
    w = world
    analysis_run(w, "shop-staging", "shop-api-6d4f9b7c8-3", "Failed")
    analysis_run(w, "shop-staging", "shop-api-6d4f9b7c8-2", "Successful")
    analysis_run(w, "shop-prod", "shop-api-77-1", "Error")  # other env
    # stock-service is not promoted (same version in staging and prod): its failed run is not this promotion's
    analysis_run(w, "shop-staging", "stock-service-5c-4", "Failed")
    message = refuse(w)
    assert "canary analysis failed: shop-api: shop-api-6d4f9b7c8-3: Failed." in message
    assert "shop-api-77-1" not in message and "stock-service-5c-4" not in message


def test_passes_when_everything_holds_and_the_body_shows_the_evidence(world):
    w = world
    analysis_run(w, "shop-staging", "shop-api-6d4f9b7c8-2", "Successful")
    outcome = dry_run(w)
    assert outcome.status == "dry-run"
    gates = {g.name: g.status for g in outcome.plan.gates}
    assert gates["soak"] == "passed" and gates["alerts"] == "passed"
    [row] = [line for line in outcome.body.splitlines() if line.startswith("| `shop-api` | Synced")]
    assert row == (f"| `shop-api` | Synced | Healthy | [`{w['main'][:12]}`]({w['github'].url}/meetinity/gitops/commit/"
                   f"{w['main']}) | {ago(days=2)} | 0 | `shop-api-6d4f9b7c8-2: Successful` | "
                   f"[Argo CD]({w['argocd'].url}/applications/argocd/shop-api) · "
                   "[Grafana](https://grafana.staging.example.com/d/meetinity-staging-shop-api) |")
    assert "1 canary analysis run(s), none failed" in outcome.body
    # the Application was asked with its AppProject and the staging token only
    assert [(m, a) for m, _, _, a in w["argocd"].log] == [("GET", f"Bearer {w['argocd'].token}")]
    assert f"project={w['project']}" in w["argocd"].log[0][1]
    assert outcome.as_dict()["evidence"][0]["since"] == ago(days=2)


def test_health_since_unknown_counts_from_the_deployment(world):
    """Argo CD versions without status.health.lastTransitionTime: the deployment time is the start."""
    w = world
    w["argocd"].add("shop-api", w["project"], revision=w["main"], deployed_at=ago(days=2), health_since="")
    assert {g.name: g.status for g in dry_run(w).plan.gates}["soak"] == "passed"


# --------------------------------------------------------------------------- fail closed

@pytest.mark.parametrize("failure, expected", [
    ((401,), "401 injected: the token in ARGOCD_AUTH_TOKEN_STAGING is missing, expired or not valid"),
    ((500, 5), "failed after 3 attempt(s): HTTP 500 Internal error; Argo CD is failing"),
    (("garbage",), "not an Application object"),
    (("slow", 1, 3.0), "unreachable after 1 attempt(s): timed out after 0.5s"),
])
def test_soak_fails_closed_when_argocd_does_not_answer_properly(world, failure, expected):
    w = world
    w["argocd"].fail(*failure)
    if failure[0] == "slow":
        w["environ"].update(GITOPS_ARGOCD_TIMEOUT="0.5", GITOPS_ARGOCD_RETRIES="1")
    message = refuse(w)
    assert "soak:" in message and expected in message


def test_soak_fails_closed_for_an_unknown_application(world):
    w = world
    w["argocd"].reset()
    assert "404 unknown application 'shop-api'" in refuse(w)


def test_soak_fails_closed_without_a_token_or_server(world):
    w = world
    w["environ"].pop("ARGOCD_AUTH_TOKEN_STAGING")
    message = refuse(w)
    assert "cannot ask `staging`'s Argo CD: no Argo CD token for staging" in message
    assert "--skip-gate soak --reason TEXT" in message
    w["environ"]["ARGOCD_AUTH_TOKEN_STAGING"] = "x"
    w["environ"]["ARGOCD_SERVER_STAGING"] = "http://argocd.staging.example.com"
    assert "http:// is accepted for a loopback host only" in refuse(w)


@pytest.mark.parametrize("failure, expected", [
    ((503, 5), "failed after 3 attempt(s): HTTP 503 timeout injected 503"),
    ((401,), "a proxy in front of Prometheus refused the request"),
    ((422,), "422 execution injected 422: Prometheus rejected the query"),
    (("garbage",), "not a Prometheus API answer"),
    (("error",), "status: expected 'success', found 'error'"),
    (("slow", 1, 3.0), "unreachable after 1 attempt(s): timed out after 0.5s"),
])
def test_alerts_fail_closed_when_prometheus_does_not_answer_properly(world, failure, expected):
    w = world
    w["prometheus"].fail(*failure)
    if failure[0] == "slow":
        w["environ"].update(GITOPS_PROMETHEUS_TIMEOUT="0.5", GITOPS_PROMETHEUS_RETRIES="1")
    message = refuse(w)
    assert "alerts: cannot ask `staging`'s Prometheus" in message and expected in message


def test_alerts_fail_closed_when_prometheus_is_unreachable(world):
    w = world
    w["environ"]["PROMETHEUS_URL_STAGING"] = "http://127.0.0.1:9"  # discard port: nothing listens
    w["environ"]["GITOPS_PROMETHEUS_RETRIES"] = "1"
    assert "unreachable after 1 attempt(s): connection failed" in refuse(w)


# --------------------------------------------------------------------------- skipping and turning off

def test_skipped_gates_are_recorded_and_need_a_reason(world):
    w = world
    w["argocd"].add("shop-api", w["project"], revision=w["main"], deployed_at=ago(hours=1))
    w["environ"].pop("PROMETHEUS_URL_STAGING")
    outcome = dry_run(w, skip_gate=["soak", "alerts"], reason="INC-12 hotfix, verified by hand")
    gates = {g.name: g for g in outcome.plan.gates}
    assert gates["soak"].status == "skipped" and "INC-12 hotfix, verified by hand" in gates["soak"].message
    assert gates["alerts"].status == "skipped"
    assert "- ⚠️ **soak** (skipped)" in outcome.body and "- ⚠️ **alerts** (skipped)" in outcome.body
    assert not w["argocd"].log and not w["prometheus"].log  # a skipped gate asks nothing


def test_skip_gate_on_the_command_line(world):
    w = world
    proc = gitops(w["setup"], w["github"], "promote", "--to", "prod", "--skip-gate", "soak", expect=2)
    assert "--skip-gate needs --reason" in proc.stderr
    proc = gitops(w["setup"], w["github"], "promote", "--to", "prod", "--skip-gate", "validation", "--reason", "x", expect=2)
    assert "expected one of order, soak, alerts, found 'validation'" in proc.stderr
    # the old bare flag still skips the order gate (dev -> prod: refused without it); dev and prod run the same
    # shop-api, so the promotion then stops at "nothing to promote"
    proc = gitops(w["setup"], w["github"], "promote", "--from", "dev", "--to", "prod", "--service", "shop-api", expect=1)
    assert "promotes from `staging`, not `dev`" in proc.stderr
    proc = gitops(w["setup"], w["github"], "promote", "--from", "dev", "--to", "prod", "--skip-gate", "--reason", "x",
                  "--service", "shop-api")
    assert "nothing to promote" in proc.stdout
    # the CLI refuses with exit 1 and says what it tried
    w["argocd"].add("shop-api", w["project"], revision=w["main"], deployed_at=ago(days=2), sync="OutOfSync")
    proc = gitops(w["setup"], w["github"], "promote", "--to", "prod", env=w["environ"], expect=1)
    assert "sync status is OutOfSync" in proc.stderr


def test_soak_zero_turns_both_gates_off_with_a_warning(world):
    w = world
    path = w["setup"].root / "environments" / "prod.yaml"
    path.write_text(path.read_text().replace("soak: 24h", "soak: 0s"))
    w["setup"].commit_all("prod: no soak")
    w["setup"].git("push", "--quiet", "origin", "main")
    outcome = dry_run(w)
    gates = {g.name: g for g in outcome.plan.gates}
    assert gates["soak"].status == gates["alerts"].status == "warning"
    assert "declares `soak: 0s`" in gates["soak"].message and not w["argocd"].log
    assert "Gate-Skipped" not in outcome.body


# --------------------------------------------------------------------------- pieces

@pytest.mark.parametrize("text, seconds", [("24h", 86400), ("1h30m", 5400), ("2d", 172800), ("0s", 0),
                                           ("1d2h3m4s", 93784), ("90m", 5400), ("45s", 45)])
def test_parse_duration(text, seconds):
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "24", "h", "1.5h", "30m1h", "-1h", "1w", "1 h", "1H", None])
def test_parse_duration_refuses(text):
    with pytest.raises(ValueError, match="expected a duration such as 24h"):
        parse_duration(text)


def test_format_duration_reads_back():
    for seconds in list(range(0, 200)) + [3599, 3600, 86399, 86400, 93784, 10 ** 7]:
        text = format_duration(timedelta(seconds=seconds))
        assert parse_duration(text) == timedelta(seconds=seconds), text


def test_soak_pattern_of_the_schema_is_the_parser_grammar():
    import json
    import re

    from .conftest import REPO
    schema = json.loads((REPO / "gitops/schemas/environment.schema.json").read_text())["properties"]["soak"]
    for text in ["24h", "1h30m", "2d", "0s", "1d2h3m4s", "24", "1.5h", "30m1h", "1w", "h"]:
        try:
            parse_duration(text)
            parsed = True
        except ValueError:
            parsed = False
        assert parsed == (re.fullmatch(schema["pattern"], text) is not None and len(text) >= schema["minLength"]), text
    parse_duration(schema["default"])


def test_environment_soak_default_and_declared():
    from gitops.inputs.load import load_platform
    from .conftest import REPO
    platform = load_platform(REPO)
    assert platform.environment("prod").soak == "24h"
    assert platform.environment("staging").soak == "0s"  # the schema default: no soak unless declared


def test_run_component_attribution():
    names = ["user-service", "user-service-migrations", "shop-api"]
    assert _run_component("shop-api-6d4f9b7c8-3", names) == "shop-api"
    assert _run_component("shop-api-6d4f9b7c8-3-2", names) == "shop-api"  # step analysis
    assert _run_component("user-service-migrations-5f6d7c-1", names) == "user-service-migrations"
    assert _run_component("shop-api", names) is None and _run_component("other-5f-1", names) is None
    assert _run_component("shop-api-123-4", ["shop", "shop-api"]) == "shop-api"  # not shop with hash "api"


def test_queries_use_the_labels_the_generated_rules_carry():
    from gitops.inputs.load import load_platform
    from .conftest import REPO
    env = load_platform(REPO).environment("staging")
    assert alert_query(env, ["user-service", "api-gateway"], "1h") == (
        'max by (component, alertname) (max_over_time(ALERTS{alertstate="firing",severity="critical",'
        'environment="staging",component=~"api-gateway|user-service"}[3600s]))')
    assert analysis_query(env, "1h") == (
        'max by (name, phase) (max_over_time(analysis_run_info{exported_namespace="meetinity-staging"}[3600s])) == 1')
    rule = yaml.safe_load((REPO / "dist/staging/api-gateway/prometheusrule-api-gateway.yaml").read_text())
    critical = [r for g in rule["spec"]["groups"] for r in g["rules"] if r["labels"]["severity"] == "critical"]
    assert critical and all(r["labels"]["component"] == "api-gateway" and r["labels"]["environment"] == "staging"
                            for r in critical)


@pytest.mark.parametrize("data, problem", [
    ([], "expected a JSON object"),
    ({"status": "error", "errorType": "bad_data", "error": "x"}, "expected 'success'"),
    ({"status": "success", "data": {"resultType": "matrix", "result": []}}, "resultType: vector"),
    ({"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": 1}]}}, "value"),
    ({"status": "success", "data": {"resultType": "vector", "result": ["x"]}}, "expected objects with a metric"),
])
def test_parse_vector_refuses_shapes_the_api_does_not_produce(data, problem):
    with pytest.raises(ValueError, match=problem):
        parse_vector(data)


def test_prometheus_settings_precedence():
    from dataclasses import replace

    from gitops.inputs.load import load_platform
    from gitops.ops.prometheus_api import PrometheusConfigError, prometheus_target

    from .conftest import REPO
    env = load_platform(REPO).environment("staging")
    assert prometheus_target(env, {}).server == "https://prometheus.staging.meetinity.com"
    declared = replace(env, prometheus="https://prom.example.com/prometheus/")
    t = prometheus_target(declared, {})
    assert (t.server, t.server_from) == ("https://prom.example.com/prometheus", "environments/staging.yaml prometheus.server")
    t = prometheus_target(declared, {"PROMETHEUS_URL": "http://127.0.0.1:9090", "PROMETHEUS_URL_STAGING": "http://[::1]:9091"})
    assert (t.server, t.server_from) == ("http://[::1]:9091", "PROMETHEUS_URL_STAGING")
    with pytest.raises(PrometheusConfigError, match="PROMETHEUS_URL: http:// is accepted for a loopback host only"):
        prometheus_target(env, {"PROMETHEUS_URL": "http://prometheus.staging.example.com"})


@pytest.mark.parametrize("line, field", [("soak: 1w", "soak"), ("soak: 24", "soak"),
                                         ("prometheus: {server: http://prometheus.example.com}", "prometheus/server")])
def test_bad_soak_or_prometheus_in_an_environment_file_is_an_input_error(tmp_path, line, field):
    from gitops.errors import InputError
    from gitops.inputs.load import load_platform

    from .conftest import MINI, copy_inputs
    root = copy_inputs(MINI, tmp_path / "r")
    path = root / "environments" / "prod.yaml"
    path.write_text(path.read_text() + line + "\n")
    with pytest.raises(InputError) as exc:
        load_platform(root)
    assert "environments/prod.yaml:31 at " + field + ": expected" in str(exc.value)
