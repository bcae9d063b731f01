"""Schema rules (SCH): strict Kubernetes schemas, the repository's CRD schemas, extra ones via
--schema-location (folder, URL template with a cache), unknown kinds, deprecated and removed APIs; the compiled fast path
agrees with jsonschema; the fast YAML loader agrees with yaml.load_all."""
from __future__ import annotations

import copy
import functools
import http.server
import random
import threading
from pathlib import Path

import pytest
import yaml

from gitops.errors import InputError
from gitops.validate import schemas
from gitops.validate import default_schema_locations
from gitops.validate.documents import parse_documents

from .conftest import REPO, run_cli
from .test_validate import WIDGET_SCHEMA, widget, DEPLOY, container, edit, summary, validate, vbase, vroot, write  # noqa: F401

WIDGET_FILE = "dist/dev/shop-api/widget-w.yaml"


def test_every_error_of_a_document_is_reported_with_path_and_expected(vroot):
    def break_it(d):
        d["spec"]["replicaz"] = 2
        container(d)["ports"][0]["containerPort"] = "8080"
        container(d)["imagePullPolicy"] = 3
    edit(vroot, DEPLOY, break_it)
    report = validate(vroot, envs=["dev"])
    found = {(f.rule_id, f.path, f.message) for f in report.findings}
    assert found == {
        ("SCH001", "spec", "unknown field(s) replicaz; expected one of: minReadySeconds, paused, progressDeadlineSeconds, "
         "replicas, revisionHistoryLimit, selector, strategy, template"),
        ("SCH001", "spec.template.spec.containers[0].ports[0].containerPort", "expected type integer, found '8080'"),
        ("SCH001", "spec.template.spec.containers[0].imagePullPolicy", "expected type string or null, found 3"),
    }
    text = (vroot / DEPLOY).read_text().splitlines()
    for f in report.findings:
        assert f.objects == ["Deployment/shop-dev/shop-api"] and f.file == DEPLOY
    by_path = {f.path: f.line for f in report.findings}
    assert text[by_path["spec.template.spec.containers[0].imagePullPolicy"] - 1].strip() == "imagePullPolicy: 3"


def test_custom_resources_are_strict_and_metadata_is_checked(vroot):
    rel = "dist/dev/shop-api/externalsecret-shop-api-secrets.yaml"

    def break_it(d):
        d["spec"]["refreshIntervall"] = "1h"
        d["metadata"]["labels"]["team-size"] = 3
    edit(vroot, rel, break_it)
    report = validate(vroot, envs=["dev"])
    assert {(f.rule_id, f.path) for f in report.findings} == {
        ("SCH001", "spec"), ("SCH001", "metadata.labels.team-size")}
    assert all(f.objects == ["ExternalSecret/shop-dev/shop-api-secrets"] for f in report.findings)
    assert any("refreshIntervall" in f.message for f in report.findings)


def test_argocd_objects_validate_against_their_crd(vroot):
    rel = "argocd/dev/application-shop-api.yaml"
    edit(vroot, rel, lambda d: d["spec"]["destination"].update(namespaces="shop-dev"))
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("SCH001", ["Application/argocd/shop-api"])]
    assert report.findings[0].path == "spec.destination"


def _permit(root, *kinds: tuple[str, str]) -> None:
    """Also whitelist ``(group, kind)`` in the components' AppProject (it lists what the generator emits)."""
    edit(root, "argocd/dev/appproject-meetinity-dev.yaml", lambda d: d["spec"]["namespaceResourceWhitelist"].extend(
        {"group": g, "kind": k} for g, k in kinds))


def test_unknown_kind_is_a_finding_unless_allowed(vroot):
    _permit(vroot, ("example.com", "Widget"))
    write(vroot, "dist/dev/shop-api/widget-shop-api.yaml", {
        "apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "shop-api", "namespace": "shop-dev", "labels": _labels()}})
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("SCH002", ["Widget/shop-dev/shop-api"])]
    assert validate(vroot, envs=["dev"], allow_kinds=("example.com/Widget",)).ok
    assert validate(vroot, envs=["dev"], allow_kinds=("Wid*",)).findings == []


def _labels(env: str = "dev") -> dict:
    return {"app.kubernetes.io/name": "shop-api", "app.kubernetes.io/instance": f"shop-api-{env}",
            "app.kubernetes.io/part-of": "meetinity", "app.kubernetes.io/managed-by": "meetinity-gitops",
            "meetinity.io/environment": env}


def test_deprecated_api_is_a_warning(vroot):
    _permit(vroot, ("", "Endpoints"))
    write(vroot, "dist/dev/shop-api/endpoints-legacy.yaml", {
        "apiVersion": "v1", "kind": "Endpoints",
        "metadata": {"name": "legacy", "namespace": "shop-dev", "labels": _labels()}})
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("SCH003", ["Endpoints/shop-dev/legacy"])]
    assert report.findings[0].severity == "warning" and report.ok
    assert "1.33" in report.findings[0].message


def test_removed_api_is_an_error_for_the_target_version(vroot):
    rel = "dist/dev/shop-api/poddisruptionbudget-shop-api.yaml"
    edit(vroot, rel, lambda d: d.update(apiVersion="policy/v1beta1"))
    report = validate(vroot, envs=["dev"])
    assert summary(report) == [("SCH004", ["PodDisruptionBudget/shop-dev/shop-api"])]
    assert "removed in Kubernetes 1.25" in report.findings[0].message
    assert "policy/v1" in report.findings[0].fix

    hpa = "dist/dev/shop-api/horizontalpodautoscaler-shop-api.yaml"
    edit(vroot, rel, lambda d: d.update(apiVersion="policy/v1"))
    edit(vroot, hpa, lambda d: d.update(apiVersion="autoscaling/v2beta2"))
    # autoscaling/v2beta2 is still served by 1.25 (the PDB's unhealthyPodEvictionPolicy is not: SCH001 there)
    old = validate(vroot, envs=["dev"], k8s_version="1.25")
    assert sorted((f.rule_id, f.objects[0]) for f in old.findings) == [
        ("SCH001", "PodDisruptionBudget/shop-dev/shop-api"), ("SCH001", "PodDisruptionBudget/shop-dev/stock-service")]
    assert all("unhealthyPodEvictionPolicy" in f.message for f in old.findings)
    assert summary(validate(vroot, envs=["dev"], k8s_version="1.26")) == [
        ("SCH004", ["HorizontalPodAutoscaler/shop-dev/shop-api"])]


def test_unsupported_kubernetes_version_is_an_input_error(vbase):
    with pytest.raises(InputError, match="ships schemas for Kubernetes"):
        validate(vbase, k8s_version="1.99")
    proc = run_cli(vbase, "validate", "--k8s-version", "one.thirty")
    assert proc.returncode == 2 and "expected a Kubernetes version" in proc.stderr


# --- schema locations: URL templates with a cache --------------------------------------------------
class _Server:
    def __init__(self, folder: Path):
        self.requests: list[str] = []
        outer = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                outer.requests.append(self.path)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def _widget_site(vroot, folder: Path) -> None:
    """A custom resource the repository has no schema for, and a folder serving its schema."""
    write(vroot, WIDGET_FILE, widget(vroot))
    (folder / "example.com").mkdir(parents=True)
    (folder / "example.com" / "widget_v1.json").write_text(WIDGET_SCHEMA)


def test_url_template_location_downloads_once_and_caches(vroot, tmp_path):
    vbase = vroot
    _widget_site(vbase, tmp_path / "site")
    server = _Server(tmp_path / "site")
    template = server.url + "/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json"
    try:
        first = run_cli(vbase, "validate", "--env", "dev", "--schema-location", template)
        assert first.returncode == 0, first.stdout + first.stderr
        # Kinds the repository has schemas for never reach the extra location.
        assert server.requests == ["/example.com/widget_v1.json"]
    finally:
        server.close()
    cached = list((vbase / ".cache" / "schemas").glob("*.json"))
    assert len(cached) == 1
    # The server is gone and the process-level cache is dropped: the second run reads the disk cache.
    for key in [k for k in schemas._CRD_CACHE if k[0] == template]:
        del schemas._CRD_CACHE[key]
    second = run_cli(vbase, "validate", "--env", "dev", "--schema-location", template)
    assert second.returncode == 0, second.stdout + second.stderr


def test_url_location_without_the_schema_gives_unknown_kind_and_dead_url_gives_exit_2(vroot, tmp_path):
    vbase = vroot
    write(vbase, WIDGET_FILE, widget(vbase))
    (tmp_path / "empty").mkdir()
    server = _Server(tmp_path / "empty")
    try:
        proc = run_cli(vbase, "validate", "--env", "dev", "--format", "json", "--schema-location", server.url + "/crds/")
    finally:
        server.close()
    assert proc.returncode == 1
    assert "SCH002" in proc.stdout and "/crds/example.com/widget_v1.json" in server.requests
    dead = run_cli(vbase, "validate", "--env", "dev", "--schema-location", server.url + "/{{.Group}}/{{.ResourceKind}}.json")
    assert dead.returncode == 2 and "unreadable schema location" in dead.stderr


# --- the compiled fast path is exact ---------------------------------------------------------------
_REPLACEMENTS = [None, 0, 1, -1, 1.0, 2.5, True, False, "", "x", "1", [], [1], ["a"], {}, {"a": 1}, {"name": "x"}]


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


def _mutate(doc, rng: random.Random):
    doc = copy.deepcopy(doc)
    paths = [p for p in _paths(doc) if p]
    path = rng.choice(paths)
    parent = doc
    for k in path[:-1]:
        parent = parent[k]
    key = path[-1]
    action = rng.random()
    if action < 0.15 and isinstance(parent, dict):
        del parent[key]
    elif action < 0.3 and isinstance(parent, dict):
        parent[rng.choice(["extra", "nmae", "Name", "x-y"])] = rng.choice(_REPLACEMENTS)
    else:
        parent[key] = copy.deepcopy(rng.choice(_REPLACEMENTS))
    return doc


@pytest.mark.parametrize("rel,count", [
    (DEPLOY, 150),
    ("dist/dev/shop-api/service-shop-api.yaml", 300),
    ("dist/dev/shop-api/horizontalpodautoscaler-shop-api.yaml", 300),
    ("dist/dev/shop-api/networkpolicy-shop-api.yaml", 300),
    ("dist/dev/shop-api/ingress-shop-api.yaml", 300),
    ("dist/dev/shop-api/externalsecret-shop-api-secrets.yaml", 300),
    ("dist/dev/shop-api/servicemonitor-shop-api.yaml", 300),
    ("argocd/dev/application-prometheus-adapter.yaml", 200),
])
def test_compiled_validator_agrees_with_jsonschema(vbase, rel, count):
    store = schemas.SchemaStore(default_schema_locations(REPO))
    (doc,) = [d for d in yaml.safe_load_all((vbase / rel).read_text())]
    store.check(doc, "1.33")
    ks = schemas.k8s_kind_schema("1.33", doc["apiVersion"], doc["kind"]) or store._crd("1.33", doc["apiVersion"], doc["kind"])
    assert ks is not None and ks.fast is not None, "the compiler must handle this schema"
    assert ks.fast(doc) is True and ks.validator.is_valid(doc)
    rng = random.Random(rel)
    disagreements, invalid = [], 0
    for _ in range(count):
        mutated = _mutate(doc, rng)
        expected = ks.validator.is_valid(mutated)
        invalid += not expected
        if ks.fast(mutated) != expected:
            disagreements.append(mutated)
    assert not disagreements, disagreements[:1]
    assert invalid > count // 4  # the mutations really exercise failures


def test_compiler_handles_type_unions_and_one_of_exactly():
    from jsonschema import Draft202012Validator
    from referencing import Registry

    from gitops.validate.compiler import Compiler
    schema = {"type": "object", "additionalProperties": False, "properties": {
        "q": {"oneOf": [{"type": ["string", "null"]}, {"type": ["number", "null"]}]},
        "n": {"oneOf": [{"type": "integer"}, {"type": "number"}]},
        "e": {"enum": [1, "a", None]}, "c": {"const": False},
        "p": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 3},
        "m": {"type": "object", "patternProperties": {"^x-": {"type": "integer"}}, "additionalProperties": False},
        "a": {"type": "array", "items": {"type": "integer"}, "uniqueItems": True, "minItems": 1}}}
    fast = Compiler().compile_root(schema, Registry().resolver())
    validator = Draft202012Validator(schema)
    values = [None, 0, 1, 1.0, 1.5, True, False, "a", "abcd", "ab1", [], [1, 1], [1, 2], [True], {}, {"x-a": 1}, {"y": 1}]
    for key in schema["properties"]:
        for v in values:
            assert fast({key: v}) == validator.is_valid({key: v}), (key, v)


# --- the fast YAML loader is yaml.load_all -----------------------------------------------------------
TRICKY = """\
a: &anchor {x: 1, y: [true, no, ~, 0x1f, 1e3, .inf, "007", '08', 2024-01-02]}
b:
  <<: *anchor
  z: |
    multi
    line
c: !!str 123
d: 3.0
---
---
- plain
- {k: v}
"""


def test_fast_loader_matches_pyyaml(vbase):
    files = sorted((vbase / "dist").rglob("*.yaml")) + sorted((vbase / "argocd").rglob("*.yaml"))
    assert len(files) > 50
    for path in files:
        text = path.read_text()
        assert [d for _, d in parse_documents(text, "x")] == [d for d in yaml.load_all(text, Loader=yaml.CSafeLoader) if d is not None]
    expected = [d for d in yaml.load_all(TRICKY, Loader=yaml.CSafeLoader) if d is not None]
    parsed = parse_documents(TRICKY, "x")
    assert [d for _, d in parsed] == expected
    assert [line for line, _ in parsed] == [1, 11]


def test_duplicate_keys_are_an_input_error():
    with pytest.raises(InputError) as exc:
        parse_documents("apiVersion: v1\nkind: A\nkind: B\n", "f.yaml")
    assert exc.value.problems[0].line == 3 and "duplicate key 'kind'" in exc.value.problems[0].message
