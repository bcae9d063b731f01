"""The repository's CRD schemas (gitops/schemas/crds/): conversion, lock, pinned versions, and
`gitops schemas import|update|check` against a local HTTP server (127.0.0.1), bad input included."""
from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import hcl2
import pytest
import yaml

from charts.addons import ADDONS
from gitops.crds import read_lock, schema_dir, verify
from gitops.crds.convert import crd_schemas, strict_schema
from gitops.crds.lock import LOCK_NAME
from gitops.validate.schemas import k8s_kind_schema

from .conftest import REPO, run_gitops, tree_bytes
from .test_validate import edit, load_docs, validate, vbase, vroot, write  # noqa: F401
from .test_validate_schemas import _Server

SCHEMAS = schema_dir(REPO)
ARGOCD_VARIABLES = REPO / "infra/terraform/modules/argocd/variables.tf"


# --- conversion --------------------------------------------------------------------------------
def test_objects_with_properties_reject_unknown_fields_unless_they_preserve_them():
    schema = {"type": "object", "properties": {
        "spec": {"type": "object", "properties": {"a": {"type": "string"}}},
        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True, "properties": {"b": {"type": "string"}}},
        "map": {"type": "object", "additionalProperties": {"type": "object", "properties": {"c": {"type": "integer"}}}},
        "list": {"type": "array", "items": {"type": "object", "properties": {"d": {"type": "string"}}}},
        "any": {"type": "object"}}}
    out = strict_schema(schema)
    assert out["additionalProperties"] is False  # the root too, as the API server treats it
    props = out["properties"]
    assert props["spec"]["additionalProperties"] is False
    assert "additionalProperties" not in props["free"]
    assert props["map"]["additionalProperties"] == {"type": "object", "properties": {"c": {"type": "integer"}},
                                                    "additionalProperties": False}
    assert props["list"]["items"]["additionalProperties"] is False
    assert "additionalProperties" not in props["any"]
    assert "additionalProperties" not in schema  # the input is not changed


def test_int_or_string_and_nullable():
    out = strict_schema({"type": "object", "properties": {
        "port": {"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": True},
        "old": {"type": "string", "format": "int-or-string"},
        "note": {"type": "string", "nullable": True},
        "mode": {"type": "string", "enum": ["a", "b"], "nullable": True}}})["properties"]
    assert out["port"] == {"oneOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": True}
    assert out["old"] == {"oneOf": [{"type": "integer"}, {"type": "string"}]}
    assert out["note"] == {"type": ["string", "null"]}
    assert out["mode"] == {"type": ["string", "null"], "enum": ["a", "b", None]}


def _crd(group="example.com", kind="Widget", versions=(("v1", True), ("v1beta1", False)), extra_props=None) -> dict:
    props = {"size": {"type": "integer"}, "port": {"x-kubernetes-int-or-string": True,
                                                    "anyOf": [{"type": "integer"}, {"type": "string"}]}}
    props.update(extra_props or {})
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{kind.lower()}s.{group}"},
            "spec": {"group": group, "names": {"kind": kind, "plural": kind.lower() + "s"}, "scope": "Namespaced",
                     "versions": [{"name": name, "served": served, "storage": served, "schema": {"openAPIV3Schema": {
                         "type": "object", "properties": {
                             "apiVersion": {"type": "string"}, "kind": {"type": "string"},
                             "metadata": {"type": "object"},
                             "spec": {"type": "object", "required": ["size"], "properties": props}}}}}
                                  for name, served in versions]}}


def test_only_served_versions_become_schemas_in_the_catalog_layout():
    assert sorted(crd_schemas(_crd())) == ["example.com/widget_v1.json"]
    both = crd_schemas(_crd(versions=(("v1", True), ("v1beta1", True))))
    assert sorted(both) == ["example.com/widget_v1.json", "example.com/widget_v1beta1.json"]
    assert crd_schemas(_crd()) == crd_schemas(_crd())  # same input, same bytes


# --- the committed schemas ----------------------------------------------------------------------
def test_committed_schemas_match_their_lock():
    assert verify(SCHEMAS) == []
    assert run_gitops(REPO, "schemas", "check").returncode == 0


def test_a_schema_differing_from_the_lock_fails(tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(SCHEMAS, schema_dir(root))
    edited = schema_dir(root) / "cert-manager.io/clusterissuer_v1.json"
    edited.write_text(edited.read_text().replace('"type": "object"', '"type": "string"', 1))
    (schema_dir(root) / "cert-manager.io/handmade_v1.json").write_text("{}\n")
    (schema_dir(root) / "argoproj.io/application_v1alpha1.json").unlink()
    problems = {Path(p.file).relative_to(schema_dir(root)).as_posix(): p.message for p in verify(schema_dir(root))}
    assert sorted(problems) == ["argoproj.io/application_v1alpha1.json", "cert-manager.io/clusterissuer_v1.json",
                                "cert-manager.io/handmade_v1.json"]
    assert "differs from the lock" in problems["cert-manager.io/clusterissuer_v1.json"]
    assert problems["argoproj.io/application_v1alpha1.json"].startswith("missing")
    assert "not in the lock" in problems["cert-manager.io/handmade_v1.json"]
    proc = run_gitops(root, "schemas", "check", "--format", "json")
    assert proc.returncode == 1 and len(json.loads(proc.stdout)["problems"]) == 3


def installed_versions() -> dict[str, str]:
    """Chart -> version the generator installs: the add-on Applications, and Argo CD itself (Terraform)."""
    versions = {a.chart: a.version for a in ADDONS}
    with ARGOCD_VARIABLES.open() as fh:
        for block in hcl2.load(fh)["variable"]:
            for name, body in block.items():
                if name.strip('"') == "chart_version":
                    versions["argo-cd"] = body["default"].strip('"')
    return versions


def version_mismatches(locked: dict[str, str], installed: dict[str, str]) -> list[str]:
    """Locked projects whose chart the generator installs at another version (or not at all)."""
    return sorted(f"{project}: schemas from {version}, generator installs {installed.get(project, 'nothing')}"
                  for project, version in locked.items() if installed.get(project) != version)


def test_locked_schemas_are_those_of_the_versions_the_generator_installs():
    locked = read_lock(SCHEMAS).projects()
    installed = installed_versions()
    # Every locked project, argo-rollouts included (its add-on: charts/addons.py), is installed at its version.
    checked = locked
    assert version_mismatches(checked, installed) == []
    # The check fails when an add-on moves without a re-import (here: cert-manager bumped in the generator).
    assert version_mismatches(checked, {**installed, "cert-manager": "v1.20.0"}) == [
        "cert-manager: schemas from v1.19.1, generator installs v1.20.0"]
    assert {"argo-cd", "argo-rollouts", "cert-manager", "external-secrets", "kube-prometheus-stack", "vpa"} <= set(locked)


def _custom_kinds(root: Path) -> set[tuple[str, str]]:
    kinds = set()
    for tree in ("dist", "argocd"):
        for path in (root / tree).rglob("*.yaml"):
            if path.name == "kustomization.yaml":
                continue
            for doc in yaml.safe_load_all(path.read_text()):
                if doc and k8s_kind_schema("1.33", doc["apiVersion"], doc["kind"]) is None:
                    kinds.add((doc["apiVersion"], doc["kind"]))
    return kinds


def test_every_custom_resource_kind_emitted_has_a_committed_schema():
    kinds = _custom_kinds(REPO)
    assert ("argoproj.io/v1alpha1", "Application") in kinds and len(kinds) >= 7
    for api_version, kind in sorted(kinds):
        group, _, version = api_version.rpartition("/")
        assert (SCHEMAS / group / f"{kind.lower()}_{version}.json").is_file(), f"{api_version} {kind}"


# --- gitops schemas import / update against a local HTTP server ---------------------------------
@pytest.fixture
def site(tmp_path):
    folder = tmp_path / "site"
    folder.mkdir()
    server = _Server(folder)
    yield folder, server
    server.close()


def _manifest(*crds: dict, extra: str = "") -> str:
    return "# upstream release file\n" + "".join("---\n" + yaml.safe_dump(c) for c in crds) + extra


def _repo(vroot: Path) -> Path:
    (vroot / "gitops").mkdir()  # the generator's repository layout: schemas go to gitops/schemas/crds
    return vroot


def test_import_from_a_url_writes_strict_schemas_that_validate_uses(vroot, site):
    folder, server = site
    root = _repo(vroot)
    (folder / "crds.yaml").write_text(_manifest(_crd(), _crd(kind="Gadget", versions=(("v2", True),))))
    proc = run_gitops(root, "schemas", "import", server.url + "/crds.yaml", "--project", "widgets",
                      "--version", "1.2.3", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert sorted(json.loads(proc.stdout)["written"]) == ["example.com/gadget_v2.json", "example.com/widget_v1.json"]
    lock = json.loads((schema_dir(root) / LOCK_NAME).read_text())
    (source,) = lock["sources"]
    assert source["project"] == "widgets" and source["version"] == "1.2.3" and source["url"] == server.url + "/crds.yaml"
    assert sorted(source["schemas"]) == ["example.com/gadget_v2.json", "example.com/widget_v1.json"]
    assert verify(schema_dir(root)) == []

    labels = load_docs(root, "dist/dev/shop-api/servicemonitor-shop-api.yaml")[0]["metadata"]["labels"]
    doc = {"apiVersion": "example.com/v1", "kind": "Widget",
           "metadata": {"name": "w", "namespace": "shop-dev", "labels": labels}, "spec": {"size": 3, "port": "http"}}
    write(root, "dist/dev/shop-api/widget-w.yaml", doc)
    edit(root, "argocd/dev/appproject-meetinity-dev.yaml", lambda d: d["spec"]["namespaceResourceWhitelist"].append(
        {"group": "example.com", "kind": "Widget"}))   # the components' project lists only the generator's kinds
    assert run_gitops(root, "validate", "--env", "dev").returncode == 0
    doc["spec"].update(size="three", colour="red")
    write(root, "dist/dev/shop-api/widget-w.yaml", doc)
    proc = run_gitops(root, "validate", "--env", "dev", "--format", "json")
    assert proc.returncode == 1
    paths = sorted((f["rule_id"], f["path"]) for f in json.loads(proc.stdout)["findings"])
    assert [p for _, p in paths] == ["spec", "spec.size"] and {r for r, _ in paths} == {"SCH001"}


def test_reimport_replaces_the_projects_schemas_and_update_refetches(vroot, site):
    folder, server = site
    root = _repo(vroot)
    (folder / "crds.yaml").write_text(_manifest(_crd(), _crd(kind="Gadget")))
    assert run_gitops(root, "schemas", "import", server.url + "/crds.yaml", "--project", "widgets",
                      "--version", "1").returncode == 0
    # A new release drops Gadget and adds a field to Widget: update re-fetches the locked URL.
    (folder / "crds.yaml").write_text(_manifest(_crd(extra_props={"colour": {"type": "string"}})))
    proc = run_gitops(root, "schemas", "update", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["written"] == ["example.com/widget_v1.json"] and result["removed"] == ["example.com/gadget_v1.json"]
    assert sorted(p.name for p in (schema_dir(root) / "example.com").iterdir()) == ["widget_v1.json"]
    assert "colour" in (schema_dir(root) / "example.com/widget_v1.json").read_text()
    assert read_lock(schema_dir(root)).projects() == {"widgets": "1"} and verify(schema_dir(root)) == []


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/crds.yaml"


@pytest.mark.parametrize("case,expected", [
    ("not-yaml", "expected YAML, found a syntax error"),
    ("no-crd", "expected at least one CustomResourceDefinition, found ConfigMap"),
    ("no-group", "spec.group: expected the API group"),
    ("http-404", "expected a CRD manifest, found HTTP 404"),
    ("unreachable", "cannot fetch the CRD manifest"),
])
def test_bad_sources_exit_2_and_change_nothing(vroot, site, case, expected):
    folder, server = site
    root = _repo(vroot)
    (folder / "good.yaml").write_text(_manifest(_crd()))
    assert run_gitops(root, "schemas", "import", server.url + "/good.yaml", "--project", "widgets",
                      "--version", "1").returncode == 0
    before = tree_bytes(schema_dir(root))
    (folder / "good.yaml").write_text(_manifest(_crd(kind="Gadget")))  # would change the schemas if imported
    bad = {"not-yaml": "kind: [unclosed\n", "no-crd": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
           "no-group": _manifest({**_crd(), "spec": {**_crd()["spec"], "group": ""}})}
    if case in bad:
        (folder / "bad.yaml").write_text(bad[case])
    url = _closed_port_url() if case == "unreachable" else server.url + ("/missing.yaml" if case == "http-404" else "/bad.yaml")
    proc = run_gitops(root, "schemas", "import", server.url + "/good.yaml", url, "--project", "widgets", "--version", "2")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert expected in proc.stderr and "nothing was written" in proc.stderr
    assert tree_bytes(schema_dir(root)) == before
    # update refuses the same way when a locked source is gone
    if case == "http-404":
        (folder / "good.yaml").unlink()
        proc = run_gitops(root, "schemas", "update")
        assert proc.returncode == 2 and "HTTP 404" in proc.stderr and tree_bytes(schema_dir(root)) == before


def test_local_sources_need_a_public_url_outside_the_repository(vroot, tmp_path):
    root = _repo(vroot)
    outside = tmp_path / "crds"
    outside.mkdir()
    (outside / "widget.yaml").write_text(_manifest(_crd()))
    (outside / "kustomization.yaml").write_text("resources: [widget.yaml]\n")
    proc = run_gitops(root, "schemas", "import", str(outside), "--project", "widgets", "--version", "1")
    assert proc.returncode == 2 and "needs --public-url" in proc.stderr and not schema_dir(root).exists()
    proc = run_gitops(root, "schemas", "import", str(outside), "--project", "widgets", "--version", "1",
                      "--public-url", "https://example.com/releases/v1/crds/")
    assert proc.returncode == 0, proc.stderr
    (source,) = read_lock(schema_dir(root)).sources  # kustomization.yaml is not a manifest
    assert source.url == "https://example.com/releases/v1/crds/widget.yaml"
