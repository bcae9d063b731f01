"""Argo CD REST client against the local stand-in: shapes, typed errors, retries, token safety."""
from __future__ import annotations

import dataclasses

import pytest

from gitops.ops.argocd_api import (ArgoCD, ArgoCDAuthError, ArgoCDBadResponse, ArgoCDConfigError, ArgoCDNotFound,
                               ArgoCDServerError, ArgoCDTarget, ArgoCDUnreachable, check_server_url, parse_application,
                               target_for)
from gitops.inputs.load import load_platform

from .argocd_fake import FakeArgoCD
from .conftest import MINI

PROJECT = "meetinity-staging"


@pytest.fixture
def target(fake_argocd):
    fake_argocd.reset()
    return ArgoCDTarget("staging", fake_argocd.url, "ARGOCD_SERVER", fake_argocd.token, "ARGOCD_AUTH_TOKEN", PROJECT)


def client(target, **kw):
    sleeps: list[float] = []
    c = ArgoCD(target, timeout=kw.pop("timeout", 2), retries=kw.pop("retries", 3), backoff=0.25, sleep=sleeps.append)
    c.sleeps = sleeps
    return c


def test_reads_sync_health_revision_and_timestamps(fake_argocd, target):
    fake_argocd.add("user-service", PROJECT, sync="OutOfSync", health="Degraded", message="Deployment has 0/2 ready",
             revision="a" * 40, deployed_at="2026-12-01T08:00:00Z")
    app = client(target).application("user-service")
    assert (app.sync, app.health, app.revision) == ("OutOfSync", "Degraded", "a" * 40)
    assert app.health_message == "Deployment has 0/2 ready"
    assert app.deployed_revision == "a" * 40 and app.deployed_at == "2026-12-01T08:00:00Z"
    assert app.operation_phase == "Succeeded" and app.reconciled_at == "2026-12-01T08:00:00Z"
    method, path, status, auth = fake_argocd.log[-1]
    assert path == "/api/v1/applications/user-service?project=meetinity-staging" and status == 200


def test_application_without_status_yet_is_unknown_not_an_error():
    app = parse_application("x", {"metadata": {"name": "x"}, "spec": {}})
    assert (app.sync, app.health, app.revision) == ("Unknown", "Unknown", "")


@pytest.mark.parametrize("body", [[], {"status": {"sync": {"status": 3}}}, {"status": {"history": {}}},
                                  {"metadata": {"name": "other"}}])
def test_shapes_the_api_never_returns_are_rejected(body):
    with pytest.raises(ValueError):
        parse_application("x", body)


def test_unknown_application_is_a_404_because_the_project_is_sent(fake_argocd, target):
    with pytest.raises(ArgoCDNotFound) as exc:
        client(target).application("nope")
    assert "unknown application 'nope'" in str(exc.value) and exc.value.status == 404
    assert fake_argocd.log[-1][1].endswith("project=meetinity-staging")


def test_bad_token_is_an_auth_error_naming_the_variable_not_the_token(fake_argocd, target):
    fake_argocd.add("user-service", PROJECT)
    bad = dataclasses.replace(target, token="s3cret-wrong-token")
    with pytest.raises(ArgoCDAuthError) as exc:
        client(bad).application("user-service")
    assert exc.value.status == 401 and "ARGOCD_AUTH_TOKEN" in str(exc.value)
    assert "s3cret-wrong-token" not in str(exc.value)
    assert len(fake_argocd.log) == 1  # 401 is not retried


def test_403_is_an_auth_error(fake_argocd, target):
    fake_argocd.fail(403)
    with pytest.raises(ArgoCDAuthError) as exc:
        client(target).application("user-service")
    assert exc.value.status == 403 and "RBAC" in str(exc.value)


def test_5xx_is_retried_with_backoff_then_succeeds(fake_argocd, target):
    fake_argocd.add("user-service", PROJECT)
    fake_argocd.fail(503, times=2)
    c = client(target)
    assert c.application("user-service").health == "Healthy"
    assert c.sleeps == [0.25, 0.5] and c.requests == 3


def test_5xx_retries_are_bounded_and_typed(fake_argocd, target):
    fake_argocd.fail(500, times=10)
    c = client(target)
    with pytest.raises(ArgoCDServerError) as exc:
        c.application("user-service")
    assert c.requests == 3 and "after 3 attempt(s): HTTP 500" in str(exc.value) and exc.value.status == 500


def test_malformed_json_is_a_bad_response(fake_argocd, target):
    fake_argocd.fail("garbage")
    with pytest.raises(ArgoCDBadResponse) as exc:
        client(target).application("user-service")
    assert "not an Application object" in str(exc.value)


def test_slow_answer_times_out_and_is_reported_as_unreachable(fake_argocd, target):
    fake_argocd.fail("slow", times=5, seconds=3)
    c = client(target, timeout=0.3, retries=2)
    with pytest.raises(ArgoCDUnreachable) as exc:
        c.application("user-service")
    assert "timed out after 0.3s" in str(exc.value) and c.requests == 2


def test_nothing_listening_is_unreachable():
    target = ArgoCDTarget("dev", "http://127.0.0.1:9", "ARGOCD_SERVER", "tok-123456", "ARGOCD_AUTH_TOKEN", "meetinity-dev")
    c = client(target, retries=1)
    with pytest.raises(ArgoCDUnreachable) as exc:
        c.application("x")
    assert "connection failed" in str(exc.value) and "tok-123456" not in str(exc.value)


def test_a_redirect_to_another_origin_is_not_followed_and_the_token_stays(fake_argocd, target):
    other = FakeArgoCD().start()
    try:
        fake_argocd.fail("redirect", location=f"{other.url}/api/v1/applications/user-service")
        with pytest.raises(ArgoCDUnreachable) as exc:
            client(target).application("user-service")
        assert "redirect to another origin" in str(exc.value)
        assert other.log == []  # never contacted, so it never saw the token
    finally:
        other.stop()


def test_a_same_origin_redirect_is_followed(fake_argocd, target):
    fake_argocd.add("user-service", PROJECT)
    fake_argocd.fail("redirect", location=f"{fake_argocd.url}/api/v1/applications/user-service?project={PROJECT}")
    assert client(target).application("user-service").sync == "Synced"


def test_token_echoed_by_a_hostile_server_is_scrubbed(fake_argocd, target):
    fake_argocd.fail(418)
    hostile = dataclasses.replace(target, token="injected")
    with pytest.raises(ArgoCDServerError) as exc:
        client(hostile).application("user-service")
    assert "injected" not in str(exc.value)


@pytest.mark.parametrize("url", ["http://argocd.example.com", "ftp://x", "argocd.example.com",
                                 "https://user:pw@argocd.example.com", "https://argocd.example.com/?a=b"])
def test_server_urls_that_are_refused(url):
    with pytest.raises(ArgoCDConfigError):
        check_server_url(url, "ARGOCD_SERVER")


@pytest.mark.parametrize("url", ["https://argocd.example.com/", "http://127.0.0.1:8080", "http://localhost:1",
                                 "http://[::1]:8080/argo"])
def test_server_urls_that_are_accepted(url):
    assert not check_server_url(url, "x").endswith("/")


def test_settings_resolution_per_environment():
    platform = load_platform(MINI)
    env = platform.environments[0]
    default = target_for(env, {})
    assert default.server == f"https://argocd.{env.domain}" and default.token is None
    assert default.project == f"meetinity-{env.name}"
    suffix = env.name.upper()
    over = target_for(env, {"ARGOCD_SERVER": "https://a.example", f"ARGOCD_SERVER_{suffix}": "https://b.example",
                            "ARGOCD_AUTH_TOKEN": "t1", f"ARGOCD_AUTH_TOKEN_{suffix}": "t2"})
    assert (over.server, over.server_from, over.token, over.token_from) == (
        "https://b.example", f"ARGOCD_SERVER_{suffix}", "t2", f"ARGOCD_AUTH_TOKEN_{suffix}")
    with pytest.raises(ArgoCDConfigError) as exc:
        target_for(env, {"ARGOCD_SERVER": "http://argocd.example.com"})
    assert "loopback" in str(exc.value)
    with pytest.raises(ArgoCDConfigError):
        ArgoCD(default)  # no token: refuses to build a client


def test_environment_file_server_is_loaded_and_checked_by_the_schema(tmp_path):
    from .conftest import copy_inputs, run_gitops
    root = copy_inputs(MINI, tmp_path / "m")
    env_file = sorted((root / "environments").glob("*.yaml"))[0]
    env_file.write_text(env_file.read_text() + "argocd:\n  server: https://argocd.internal.example\n")
    env = next(e for e in load_platform(root).environments if e.name == env_file.stem)
    assert env.argocd_server == "https://argocd.internal.example"
    env_file.write_text(env_file.read_text().replace("https://argocd.internal.example", "http://argocd.internal.example"))
    proc = run_gitops(root, "status")
    assert proc.returncode == 2 and "argocd/server" in proc.stderr
