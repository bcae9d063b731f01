"""SCH006 on a tampered dist/: pod template rules the API server (or the Rollouts controller) enforces
and the schemas do not, each of which leaves a workload without pods."""
from __future__ import annotations

import pytest

from gitops.inputs.k8s_syntax import config_map_key_problem, env_var_name_problem, name_problem, port_name_problem

from .conftest import REPO
from .test_validate import assert_error_at, edit, validate, vbase, vroot  # noqa: F401  (fixtures)

DEPLOY = "dist/dev/shop-api/deployment-shop-api.yaml"
CRONJOB = "dist/dev/stock-report/cronjob-stock-report.yaml"


def _container(fn):
    return lambda d: fn(d["spec"]["template"]["spec"]["containers"][0])


def _pod(fn):
    return lambda d: fn(d["spec"]["template"]["spec"])


def test_the_fixture_and_the_repository_have_no_finding(vroot):
    assert validate(vroot).by_rule("SCH006") == []
    assert validate(REPO).by_rule("SCH006") == []


@pytest.mark.parametrize("change, path, words", [
    (lambda d: d["spec"]["selector"]["matchLabels"].update(extra="x"), "spec.selector",
     "selector does not match its pod template's labels: the API server refuses the object"),
    (_container(lambda c: c.update(name="Shop_API")), "spec.template.spec.containers[0].name", "container name 'Shop_API'"),
    (_pod(lambda p: p["containers"].append(dict(p["containers"][0]))), "spec.template.spec.containers[1].name",
     "two containers are named 'shop-api'"),
    (_container(lambda c: c["ports"][0].update(name="a-very-long-port")), "spec.template.spec.containers[0].ports[0].name",
     "port name 'a-very-long-port': expected at most 15 characters"),
    (_container(lambda c: c["ports"].append({**c["ports"][0], "containerPort": 9999})),
     "spec.template.spec.containers[0].ports[1].name", "names two ports"),
    (_container(lambda c: c.setdefault("env", []).append({"name": "A=B", "value": "x"})), "spec.template.spec.containers[0].env",
     "env var 'A=B': expected printable ASCII characters other than '='"),
    (_container(lambda c: c["resources"]["requests"].update(memory="2Gi")),
     "spec.template.spec.containers[0].resources.requests.memory", "requests memory 2Gi, more than its limit"),
    (_container(lambda c: c.setdefault("volumeMounts", []).append({"name": "nope", "mountPath": "/nope"})),
     "spec.template.spec.containers[0].volumeMounts", "mounts volume 'nope', which the pod does not declare"),
    (_pod(lambda p: p.setdefault("volumes", []).append({"name": "Bad_Vol", "emptyDir": {}})), "spec.template.spec.volumes",
     "volume name 'Bad_Vol'"),
])
def test_pod_rules_the_api_server_enforces(vroot, change, path, words):
    edit(vroot, DEPLOY, change)
    assert_error_at(vroot, "SCH006", DEPLOY, path, words)


def test_a_cronjobs_pod_template_is_checked_too(vroot):
    edit(vroot, CRONJOB, lambda d: d["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0].update(name="Report"))
    (finding,) = validate(vroot).by_rule("SCH006")
    assert finding.path == "spec.jobTemplate.spec.template.spec.containers[0].name"


@pytest.mark.parametrize("name, ok", [("http", True), ("metrics-9090", True), ("a" * 15, True), ("a" * 16, False),
                                      ("8080", False), ("a--b", False), ("-a", False), ("HTTP", False)])
def test_port_names(name, ok):
    assert (port_name_problem(name) is None) == ok


@pytest.mark.parametrize("name, version, ok", [
    ("DATABASE_URL", "1.31", True), ("a.b-c", "1.31", True), ("_X", "1.31", True), ("9X", "1.31", False),
    ("A B", "1.31", False), ("", "1.31", False),
    ("9X", "1.33", True), ("A B", "1.33", True), ("A=B", "1.33", False), ("", "1.33", False), ("é", "1.33", False),
])
def test_env_var_names_by_kubernetes_version(name, version, ok):
    """KEP-4369: from 1.32 any printable ASCII but '=' (the environments run 1.33)."""
    assert (env_var_name_problem(name, version) is None) == ok


def _deployment(**pod) -> dict:
    labels = {"app": "x"}
    spec = {"containers": [{"name": "app", "image": "x:v1"}], **pod}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x", "namespace": "n"},
            "spec": {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}, "spec": spec}}}


def _sch006(doc: dict, version: str = "1.33") -> list[str]:
    from gitops.validate.documents import Doc
    from gitops.validate.pod_spec import check_pod_spec

    return [hit.message for hit in check_pod_spec(Doc("x.yaml", 0, 1, doc, None, "dist"), version)]


def test_what_the_api_server_accepts_is_not_flagged():
    statefulset = _deployment()
    statefulset.update(kind="StatefulSet")
    statefulset["spec"]["template"]["spec"]["containers"][0]["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
    statefulset["spec"]["volumeClaimTemplates"] = [{"metadata": {"name": "data"}}]
    assert _sch006(statefulset) == []  # the controller adds the claim's volume
    unnamed = _deployment()
    unnamed["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"containerPort": 80, "name": ""}, {"containerPort": 81}]
    assert _sch006(unnamed) == []
    cpu = _deployment()
    cpu["spec"]["template"]["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "100m", "memory": "1e3"},
                                                                     "limits": {"cpu": "1", "memory": "1k"}}
    assert _sch006(cpu) == []


@pytest.mark.parametrize("resources, words", [
    ({"requests": {"nvidia.com/gpu": "1"}, "limits": {"nvidia.com/gpu": "2"}}, "must request its limit"),
    ({"requests": {"nvidia.com/gpu": "1"}}, "without a limit"),
    ({"requests": {"hugepages-2Mi": "2Mi"}, "limits": {"hugepages-2Mi": "4Mi"}}, "must request its limit"),
])
def test_resources_that_cannot_be_overcommitted_request_their_limit(resources, words):
    doc = _deployment()
    doc["spec"]["template"]["spec"]["containers"][0]["resources"] = resources
    (message,) = _sch006(doc)
    assert words in message


@pytest.mark.parametrize("group, kind, name, ok", [
    ("example.com", "Namespace", "team.a", True), ("", "Namespace", "team.a", False),   # a custom kind: subdomain
    ("example.com", "Service", "9x", True), ("", "Service", "9x", False),
    ("apps", "StatefulSet", "db.main", False), ("apps", "Deployment", "db.main", True),
    ("batch", "Job", "j" * 63, True), ("batch", "Job", "j" * 64, False),
    ("rbac.authorization.k8s.io", "ClusterRole", "system:view", True), ("example.com", "ClusterRole", "system:view", False),
])
def test_name_rules_follow_the_api_group(group, kind, name, ok):
    assert (name_problem(group, kind, name) is None) == ok


@pytest.mark.parametrize("key, ok", [("..data", False), ("a..b", True), (".dockerconfigjson", True), (".", False)])
def test_keys_starting_with_two_dots_are_refused(key, ok):
    assert (config_map_key_problem(key) is None) == ok
