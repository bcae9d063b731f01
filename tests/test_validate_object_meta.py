"""SCH005 on a tampered dist/: the name, label, annotation and key syntax the API server checks on
create and the OpenAPI schemas do not encode. The loader refuses such labels in an environment file."""
from __future__ import annotations

import pytest

from gitops.inputs.k8s_syntax import label_value_problem, name_problem, qualified_name_problem

from .conftest import run_cli
from .test_validate import assert_error_at, edit, validate, vbase, vroot  # noqa: F401  (fixtures)

SETTINGS = "dist/dev/shop-api/configmap-shop-api-settings.yaml"
DEPLOY = "dist/dev/shop-api/deployment-shop-api.yaml"
SERVICE = "dist/dev/shop-api/service-shop-api.yaml"


def test_the_fixture_and_the_repository_have_no_finding(vroot):
    assert validate(vroot).by_rule("SCH005") == []
    from .conftest import REPO

    assert validate(REPO).by_rule("SCH005") == []


def _labels(key, value):
    return lambda d: d["metadata"].setdefault("labels", {}).update({key: value})


@pytest.mark.parametrize("rel, change, path, words", [
    (SETTINGS, _labels("bad key!", "x"), "metadata.labels.bad key!", "label key 'bad key!': expected a name of at most 63"),
    (SETTINGS, _labels("Example.com/x", "x"), "metadata.labels.Example.com/x", "expected its prefix 'Example.com' to be a DNS-1123 subdomain"),
    (SETTINGS, _labels("team", "x y"), "metadata.labels.team", "label team value 'x y': expected an empty value or at most 63"),
    (SETTINGS, _labels("team", "a" * 64), "metadata.labels.team", "found 64 character(s)"),
    (SETTINGS, lambda d: d["metadata"].setdefault("annotations", {}).update({"bad key!": "x"}),
     "metadata.annotations.bad key!", "annotation key 'bad key!'"),
    (SETTINGS, lambda d: d["metadata"].setdefault("annotations", {}).update({"big": "x" * (256 * 1024)}),
     "metadata.annotations", "more than the 262144 the API server accepts"),
    (SETTINGS, lambda d: d["metadata"].update(namespace="Shop_Dev"), "metadata.namespace", "namespace 'Shop_Dev': expected a DNS-1123 label"),
    (SETTINGS, lambda d: d["data"].update({"has space": "x"}), "data.has space", "ConfigMap key 'has space': expected at most 253"),
    (SETTINGS, lambda d: d.update(binaryData={next(iter(d["data"])): "eA=="}), "binaryData", "is in both data and binaryData"),
    (SERVICE, lambda d: d["metadata"].update(name="1shop-api"), "metadata.name",
     "Service name '1shop-api': expected a DNS-1035 label"),
    (DEPLOY, lambda d: d["metadata"].update(name="Shop_API"), "metadata.name", "Deployment name 'Shop_API': expected a DNS-1123 subdomain"),
    (DEPLOY, lambda d: d["spec"]["template"]["metadata"]["labels"].update({"bad key!": "x"}),
     "spec.template.metadata.labels.bad key!", "label key 'bad key!'"),
])
def test_syntax_the_api_server_refuses_is_an_error(vroot, rel, change, path, words):
    edit(vroot, rel, change)
    assert_error_at(vroot, "SCH005", rel, path, words)


RBAC = "rbac.authorization.k8s.io"


@pytest.mark.parametrize("group, kind, name, ok", [
    ("", "Namespace", "shop-dev", True), ("", "Namespace", "shop.dev", False), ("", "Namespace", "a" * 64, False),
    ("", "Service", "shop-api", True), ("", "Service", "9api", False),
    ("", "ConfigMap", "shop.api-settings", True), ("", "ConfigMap", "a" * 254, False), ("", "ConfigMap", "-a", False),
    (RBAC, "ClusterRole", "system:aggregate-to-view", True), (RBAC, "ClusterRole", "a/b", False), (RBAC, "Role", "..", False),
    ("batch", "CronJob", "a" * 52, True), ("batch", "CronJob", "a" * 53, False),
])
def test_name_rules_per_kind(group, kind, name, ok):
    assert (name_problem(group, kind, name) is None) == ok


@pytest.mark.parametrize("key, ok", [
    ("app.kubernetes.io/name", True), ("name", True), ("a_b.c-d", True), ("meetinity.io/x", True),
    ("/x", False), ("a/b/c", False), ("-x", False), ("x" * 64, False), ("UPPER.io/x", False), ("", False),
])
def test_qualified_names(key, ok):
    assert (qualified_name_problem(key) is None) == ok


@pytest.mark.parametrize("value, ok", [("", True), ("v1.2.0", True), ("a_b", True), ("-a", False), ("a b", False),
                                       ("x" * 63, True), ("x" * 64, False)])
def test_label_values(value, ok):
    assert (label_value_problem(value) is None) == ok


def test_a_bad_label_in_an_environment_file_is_an_input_error(mini):
    path = mini / "environments" / "dev.yaml"
    path.write_text(path.read_text().replace("namespace: shop-dev\n", "namespace: shop-dev\nlabels:\n  \"team name\": shop\n", 1))
    line = path.read_text().splitlines().index('  "team name": shop') + 1
    proc = run_cli(mini, "synth")
    assert proc.returncode == 2
    assert (f"environments/dev.yaml:{line} at labels/team name: label 'team name': expected a name of at most 63 "
            "characters") in proc.stderr
    assert not (mini / "dist").exists()
