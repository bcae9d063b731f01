"""infra/terraform/modules/argocd: the argo-cd chart values that Argo CD's behaviour here depends on
(read with python-hcl2; tests/test_terraform.py runs fmt and checkov on the same files)."""
from __future__ import annotations

import re
import textwrap
from pathlib import Path

import hcl2
import yaml

from .conftest import REPO

MODULE = REPO / "infra" / "terraform" / "modules" / "argocd"


def _merged(path: Path, kind: str) -> dict:
    out: dict = {}
    for block in hcl2.load(path.open()).get(kind, []):
        out.update({k.strip('"'): v for k, v in block.items()})
    return out


def _locals() -> dict:
    return _merged(MODULE / "main.tf", "locals")


def _heredoc(value: str) -> str:
    """The text of a `<<-EOT ... EOT` string as python-hcl2 returns it."""
    text = value.strip().strip('"')
    if text.startswith("<<"):
        text = text.split("\n", 1)[1]
    return textwrap.dedent(text.rstrip().removesuffix("EOT"))


def test_argocd_cm_pins_annotation_tracking_and_installs_the_application_health_check():
    cm = _locals()["cm"]
    assert '"application.resourceTrackingMethod" = "annotation"' in cm
    assert '"resource.customizations.health.argoproj.io_Application" = local.application_health_lua' in cm
    lua = _locals()["application_health_lua"]
    assert "obj.status.health.status" in lua and 'hs.status = "Progressing"' in lua


def test_notifications_define_every_trigger_the_applications_subscribe_to():
    local = _locals()
    triggers = {k.strip('"').removeprefix("trigger."): yaml.safe_load(_heredoc(v)) for k, v in local["notification_triggers"].items()}
    templates = {k.strip('"').removeprefix("template.") for k in local["notification_templates"]}
    assert set(triggers) == {"on-sync-failed", "on-health-degraded", "on-sync-succeeded"}
    for name, body in triggers.items():
        assert set(body[0]["send"]) <= templates, name
    subscribed = set()
    for path in (REPO / "argocd").glob("*/application-*.yaml"):
        ann = yaml.safe_load(path.read_text())["metadata"].get("annotations") or {}
        subscribed |= {m.group(1) for k in ann if (m := re.match(r"notifications\.argoproj\.io/subscribe\.([^.]+)\.", k))}
    assert subscribed == set(triggers)
    prod = yaml.safe_load((REPO / "argocd/prod/application-user-service.yaml").read_text())["metadata"]["annotations"]
    assert "notifications.argoproj.io/subscribe.on-sync-succeeded.slack" in prod
    values = local["values"]
    assert values["notifications"]["triggers"] == "${local.notification_triggers}"
    assert values["notifications"]["secret"] == {"create": False}   # the token Secret is made out of band


def test_ui_is_private_by_default_and_never_open_to_the_internet():
    variables = _merged(MODULE / "variables.tf", "variable")
    assert variables["ui_exposure"]["default"].strip('"') == "internal"
    assert '"0.0.0.0/0"' in str(variables["ui_source_cidrs"]["validation"])
    service = _locals()["server_service"]
    assert '"service.beta.kubernetes.io/aws-load-balancer-scheme" = "internal"' in service
    assert "loadBalancerSourceRanges = var.ui_source_cidrs" in service
    assert _locals()["values"]["server"]["ingress"]["enabled"] == '${var.ui_exposure == "public"}'
    for env in ("dev", "staging", "prod"):
        settings = (REPO / "infra/terraform/environments" / env / "settings.auto.tfvars").read_text()
        assert "argocd_access" not in settings or '"public"' not in settings


def test_oidc_secret_is_a_kubernetes_secret_reference_never_a_value():
    oidc = _locals()["oidc_config"]
    assert 'format("$%s:%s", var.oidc.client_secret_secret, var.oidc.client_secret_key)' in oidc["clientSecret"]
    variables = _merged(MODULE / "variables.tf", "variable")
    assert "client_secret" not in str(variables["oidc"]["type"]).replace("client_secret_secret", "").replace(
        "client_secret_key", "")
