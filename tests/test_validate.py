"""`gitops validate`: the clean baseline, output formats, waivers, bad input, and the committed dist/.

Helpers here (``vroot``, ``edit``, ``validate``) are shared by the other tests/test_validate_*.py:
each test copies the synthesized fixture platform, breaks one thing, and asserts the exact
rule ID and objects of the finding; the unbroken copy (the "fixed set") is clean.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gitops.pipeline.canonical import dump_objects
from gitops.errors import InputError
from gitops.validate import RULES, run_validation

from .conftest import FINDING_KEYS, REPO, load_docs, private_copy, run_cli, run_gitops  # noqa: F401 (load_docs: re-exported)

TREES = ("inventory", "environments", "dist", "argocd")


@pytest.fixture(scope="session")
def vbase(mini_synth, tmp_path_factory) -> Path:
    """Pristine copy of the synthesized fixture platform (inputs, dist/, argocd/)."""
    base = tmp_path_factory.mktemp("validate-base") / "mini"
    for name in TREES:
        if (mini_synth / name).exists():
            shutil.copytree(mini_synth / name, base / name)
    return base


@pytest.fixture
def vroot(vbase, tmp_path) -> Path:
    """A private, writable copy of the synthesized fixture platform."""
    return private_copy(vbase, tmp_path)


def edit(root: Path, rel: str, fn) -> None:
    """Apply ``fn(doc)`` to every document of ``root/rel`` and write it back canonically."""
    docs = load_docs(root, rel)
    for d in docs:
        fn(d)
    (root / rel).write_bytes(dump_objects(docs))


def write(root: Path, rel: str, *objs: dict) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(dump_objects(list(objs)))


def validate(root: Path, **kwargs):
    return run_validation(root, **kwargs)  # CRD schemas: the repository's own (gitops/schemas/crds)


def assert_error_at(root: Path, rule_id: str, rel: str, path: str, words: str) -> None:
    """Validation of ``root`` reports ``rule_id`` as an error first at ``rel`` (a line of it), at a field
    path starting with ``path``, in a message containing ``words``."""
    findings = validate(root).by_rule(rule_id)
    assert findings, f"no {rule_id} finding"
    finding = findings[0]
    assert finding.file == rel and finding.severity == "error" and finding.line
    assert finding.path.startswith(path) and words in finding.message, finding


def summary(report) -> list[tuple[str, list[str]]]:
    """(rule_id, objects) of every finding, sorted: what the tests pin exactly."""
    return sorted((f.rule_id, f.objects) for f in report.findings)


DEPLOY = "dist/dev/shop-api/deployment-shop-api.yaml"


def container(doc: dict) -> dict:
    return doc["spec"]["template"]["spec"]["containers"][0]


# ---------------------------------------------------------------------------------------------
def test_generated_fixture_output_is_clean(vbase):
    report = validate(vbase)
    assert report.findings == [] and report.waived == []
    assert report.ok
    assert report.documents > 80
    assert report.environments == ["dev", "prod"]


def test_json_output_is_stable_and_documented(vroot):
    edit(vroot, DEPLOY, lambda d: container(d).update(image="ghcr.io/meetinity/shop-api:latest"))
    proc = run_gitops(vroot, "validate", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) == {"version", "ok", "documents", "environments", "summary", "findings", "waived"}
    assert data["version"] == 1 and data["ok"] is False
    assert data["summary"] == {"errors": 1, "warnings": 0, "infos": 0, "waived": 0}
    (finding,) = data["findings"]
    assert set(finding) == FINDING_KEYS
    assert finding["rule_id"] == "POL008" and finding["rule"] == "image-tagged"
    assert finding["file"] == DEPLOY and finding["env"] == "dev"
    assert finding["objects"] == ["Deployment/shop-dev/shop-api"]
    assert finding["path"] == "spec.template.spec.containers[0].image"
    lines = (vroot / DEPLOY).read_text().splitlines()
    assert lines[finding["line"] - 1].strip().startswith("image: ghcr.io/meetinity/shop-api:latest")


def test_github_format_prints_error_annotations(vroot):
    edit(vroot, DEPLOY, lambda d: container(d).update(image="ghcr.io/meetinity/shop-api:latest"))
    proc = run_cli(vroot, "validate", "--format", "github")
    assert proc.returncode == 1
    annotations = [l for l in proc.stdout.splitlines() if l.startswith("::")]
    assert len(annotations) == 1
    line = next(i for i, l in enumerate((vroot / DEPLOY).read_text().splitlines(), 1) if ":latest" in l)
    assert annotations[0].startswith(f"::error file={DEPLOY},line={line},title=POL008 image-tagged::")
    assert "Deployment/shop-dev/shop-api" in annotations[0]


def test_text_format_and_exit_codes(vbase, vroot):
    clean = run_cli(vbase, "validate")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout.strip().startswith("ok: ")
    edit(vroot, DEPLOY, lambda d: container(d).update(image="ghcr.io/meetinity/shop-api"))
    broken = run_cli(vroot, "validate", "--env", "dev")
    assert broken.returncode == 1
    assert f"{DEPLOY}:" in broken.stdout and "error POL008 image-tagged" in broken.stdout
    assert "fix: " in broken.stdout


def test_list_rules_has_stable_ids_severity_and_rationale():
    proc = run_cli(REPO, "validate", "--list-rules", "--format", "json")
    assert proc.returncode == 0
    rules = json.loads(proc.stdout)
    assert [r["id"] for r in rules] == list(RULES)
    for r in rules:
        assert r["severity"] in ("error", "warning") and r["rationale"] and r["summary"]
    ids = {r["id"] for r in rules}
    # the policy list of the issue, each with a stable ID
    assert {f"POL{n:03d}" for n in range(1, 15)} <= ids
    text = run_cli(REPO, "validate", "--list-rules").stdout
    assert "POL013" in text and "pdb-allows-eviction" in text and "why:" in text


def test_every_rule_is_documented():
    doc = (REPO / "docs" / "validate.md").read_text()
    readme = (REPO / "README.md").read_text()
    for rule in RULES.values():
        assert f"| {rule.id} | {rule.name} | {rule.severity} |" in doc, rule.id
    assert "## Validation" in readme and "waiver.meetinity.io/<RULE-ID>" in readme


# --- waivers -----------------------------------------------------------------------------------
def _waive(rule: str, reason: str):
    def fn(d):
        d["metadata"].setdefault("annotations", {})[f"waiver.meetinity.io/{rule}"] = reason
    return fn


def test_waiver_moves_the_finding_to_the_waived_list(vroot):
    def latest(d):
        container(d).update(image="ghcr.io/meetinity/shop-api:latest")
        _waive("POL008", "vendor image only published as latest; tracked in PLAT-42")(d)
    edit(vroot, DEPLOY, latest)
    report = validate(vroot)
    assert report.ok and report.findings == []
    (waived,) = report.waived
    assert waived.rule_id == "POL008" and waived.objects == ["Deployment/shop-dev/shop-api"]
    assert waived.waiver.reason == "vendor image only published as latest; tracked in PLAT-42"
    assert waived.waiver.object == "Deployment/shop-dev/shop-api"
    text = run_cli(vroot, "validate")
    assert text.returncode == 0 and "waived:" in text.stdout and "PLAT-42" in text.stdout


def test_waiver_for_another_rule_does_not_hide_a_finding(vroot):
    def latest(d):
        container(d).update(image="ghcr.io/meetinity/shop-api:latest")
        _waive("POL009", "not prod, digest pinning does not apply here")(d)
    edit(vroot, DEPLOY, latest)
    report = validate(vroot)
    assert summary(report) == [("POL008", ["Deployment/shop-dev/shop-api"])]


def test_unknown_rule_in_a_waiver_is_an_input_error(vroot):
    edit(vroot, DEPLOY, _waive("POL999", "a perfectly long reason"))
    shutil.rmtree(vroot / ".cache", ignore_errors=True)
    before = _snapshot(vroot)
    with pytest.raises(InputError) as exc:
        validate(vroot)
    (problem,) = exc.value.problems
    assert problem.file == DEPLOY and "unknown rule 'POL999'" in problem.message and problem.line
    proc = run_cli(vroot, "validate")
    assert proc.returncode == 2 and "POL999" in proc.stderr
    assert _snapshot(vroot) == before  # not even the parse cache


def test_waiver_without_a_reason_is_an_input_error(vroot):
    edit(vroot, DEPLOY, _waive("POL008", "ok"))
    with pytest.raises(InputError) as exc:
        validate(vroot)
    assert "needs a reason" in exc.value.problems[0].message


def test_parse_cache_is_content_addressed(vroot):
    shutil.rmtree(vroot / ".cache", ignore_errors=True)
    assert validate(vroot).ok
    cache = vroot / ".cache/validate/documents.marshal"
    assert cache.is_file()
    # a changed file is re-parsed (the cache can never serve stale content)
    edit(vroot, DEPLOY, lambda d: container(d).update(image="ghcr.io/meetinity/shop-api:latest"))
    assert summary(validate(vroot)) == [("POL008", ["Deployment/shop-dev/shop-api"])]
    assert summary(validate(vroot, use_cache=False)) == [("POL008", ["Deployment/shop-dev/shop-api"])]


# --- bad input: exit 2, nothing written ---------------------------------------------------------
def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("content,expected", [
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n", "malformed YAML"),
    ("kind: ConfigMap\nmetadata: {name: x, namespace: shop-dev}\n", "missing apiVersion"),
    ("apiVersion: v1\nmetadata: {name: x, namespace: shop-dev}\n", "missing kind"),
    ("- just\n- a list\n", "expected a Kubernetes object"),
])
def test_bad_manifest_is_an_input_error(vroot, content, expected):
    (vroot / "dist/dev/shop-api/broken.yaml").write_text(content)
    before = _snapshot(vroot)
    proc = run_cli(vroot, "validate", "--format", "json")
    assert proc.returncode == 2
    errors = json.loads(proc.stdout)["errors"]
    assert errors[0]["file"] == "dist/dev/shop-api/broken.yaml" and expected in errors[0]["message"]
    assert errors[0]["line"]
    assert _snapshot(vroot) == before


def test_unreadable_schema_location_is_an_input_error(vbase, tmp_path):
    # a real process: exit code 2 end to end
    proc = run_gitops(vbase, "validate", "--schema-location", str(tmp_path / "missing"))
    assert proc.returncode == 2, proc.stdout
    assert "unreadable schema location" in proc.stderr and "nothing was written" in proc.stderr
    proc = run_cli(vbase, "validate", "--schema-location", str(tmp_path / "missing" / "{{.Group}}/{{.ResourceKind}}.json"))
    assert proc.returncode == 2 and "unreadable schema location" in proc.stderr
    proc = run_cli(vbase, "validate", "--schema-location", "{{.Nope}}/x.json")
    assert proc.returncode == 2 and "unknown template variable" in proc.stderr


def test_github_format_reports_input_errors_as_annotations(vroot):
    (vroot / "dist/dev/shop-api/broken.yaml").write_text("apiVersion: v1\nkind: [\n")
    proc = run_cli(vroot, "validate", "--format", "github")
    assert proc.returncode == 2
    assert proc.stdout.startswith("::error file=dist/dev/shop-api/broken.yaml,line=")


def test_unknown_environment_and_missing_dist_are_input_errors(vbase, tmp_path):
    with pytest.raises(InputError, match="unknown environment"):
        validate(vbase, envs=["qa"])
    root = tmp_path / "nodist"
    for name in ("inventory", "environments"):
        shutil.copytree(vbase / name, root / name)
    with pytest.raises(InputError, match="run `gitops synth` first"):
        validate(root)


# --- make test: the committed dist/ is clean ----------------------------------------------------
def test_committed_dist_is_clean():
    report = run_validation(REPO)  # no option: the repository's own CRD schemas
    # The only findings: ROL007 warnings for canaries whose environment asks for analysis while the
    # component declares no request metrics yet (tests/test_rollouts.py derives that list from the model).
    from .test_rollouts import expected_missing_analysis
    rest = [f for f in report.findings if f.rule_id != "ROL007"]
    assert rest == [], "\n".join(f"{f.file}:{f.line} {f.rule_id} {f.message}" for f in rest)
    assert sorted((f.env, f.objects[0]) for f in report.by_rule("ROL007")) == expected_missing_analysis(REPO)
    for waived in report.waived:
        assert len(waived.waiver.reason) >= 10


# A custom resource the repository has no schema for, and its schema (as an extra location serves it).
WIDGET_SCHEMA = json.dumps({
    "type": "object", "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                                     "metadata": {"type": "object"},
                                     "spec": {"type": "object", "properties": {"size": {"type": "integer"}}}}})


def widget(root: Path) -> dict:
    """The Widget, labelled like the generator labels shop-api's objects and permitted by the
    components' AppProject (which lists only the kinds the generator emits), so only schema rules apply."""
    edit(root, "argocd/dev/appproject-meetinity-dev.yaml", lambda d: d["spec"]["namespaceResourceWhitelist"].append(
        {"group": "example.com", "kind": "Widget"}))
    labels = load_docs(root, "dist/dev/shop-api/servicemonitor-shop-api.yaml")[0]["metadata"]["labels"]
    return {"apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": "w", "namespace": "shop-dev", "labels": labels}, "spec": {"size": 3}}


def test_schema_location_from_environment_variable_is_an_extra_location(vroot, tmp_path):
    """$GITOPS_SCHEMA_LOCATION adds locations for kinds the repository has no schema for; the
    repository's own schemas still apply (no sibling folder, no option needed for them)."""
    import os

    write(vroot, "dist/dev/shop-api/widget-w.yaml", widget(vroot))
    extra = tmp_path / "extra"
    (extra / "example.com").mkdir(parents=True)
    (extra / "example.com" / "widget_v1.json").write_text(WIDGET_SCHEMA)
    base = ["validate", "--env", "dev", "--format", "json"]
    env = {k: v for k, v in os.environ.items() if k != "GITOPS_SCHEMA_LOCATION"}
    without = run_gitops(vroot, *base, env=env)
    assert without.returncode == 1
    assert {f["rule_id"] for f in json.loads(without.stdout)["findings"]} == {"SCH002"}
    with_env = run_gitops(vroot, *base, env={**env, "GITOPS_SCHEMA_LOCATION": str(extra)})
    assert with_env.returncode == 0, with_env.stdout[-2000:]
    # The extra schema is enforced, and the repository's own schemas stay in force beside it.
    edit(vroot, "dist/dev/shop-api/widget-w.yaml", lambda d: d["spec"].update(size="three"))
    edit(vroot, "dist/dev/shop-api/servicemonitor-shop-api.yaml", lambda d: d["spec"].update(scrapeEvery="30s"))
    proc = run_gitops(vroot, *base, env={**env, "GITOPS_SCHEMA_LOCATION": str(extra)})
    assert proc.returncode == 1
    assert sorted((f["rule_id"], f["objects"][0]) for f in json.loads(proc.stdout)["findings"]) == [
        ("SCH001", "ServiceMonitor/shop-dev/shop-api"), ("SCH001", "Widget/shop-dev/w")]
