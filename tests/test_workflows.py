"""GitHub workflows: schema-valid, pinned, least privilege, and fed by the inventory."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gitops.inputs.load import load_platform

from .conftest import MINI, REPO, run_gitops

WORKFLOWS = REPO / ".github" / "workflows"
EXPECTED = ("ci.yml", "images.yml", "promote.yml", "drift.yml")
SHA_PIN = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")
LEAST_PRIVILEGE_TOP = ({}, {"contents": "read"})


def _workflow_files() -> list[Path]:
    return sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))


def _load(path: Path) -> dict:
    # YAML 1.1 reads the key `on` as True; put it back.
    data = yaml.safe_load(path.read_text())
    if True in data:
        data["on"] = data.pop(True)
    return data


def _steps(workflow: dict):
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


def _run_text(workflow: dict) -> str:
    return "\n".join(step.get("run", "") for _, step in _steps(workflow))


def test_the_four_workflows_exist():
    assert {p.name for p in _workflow_files()} >= set(EXPECTED)


def test_workflows_validate_against_the_github_workflow_schema():
    proc = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                           *map(str, _workflow_files())], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_action_is_pinned_to_a_full_commit_sha_with_its_version():
    seen = 0
    for path in _workflow_files():
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines, 1):
            match = re.match(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$", line)
            if not match:
                continue
            seen += 1
            ref, rest = match.groups()
            if ref.startswith("./"):
                continue  # local action or reusable workflow: versioned with this repository
            assert SHA_PIN.match(ref), f"{path.name}:{number}: {ref} is not pinned to a 40-hex commit SHA"
            assert re.match(r"^\s+#\s*v[0-9]", rest), f"{path.name}:{number}: add the version as `# vX.Y.Z`"
    assert seen >= 20


def test_a_pinned_action_uses_one_sha_everywhere():
    shas: dict[str, set[str]] = {}
    for path in _workflow_files():
        for action, sha in re.findall(r"uses:\s*([^@\s]+)@([0-9a-f]{40})", path.read_text()):
            shas.setdefault(action, set()).add(sha)
    assert {a: s for a, s in shas.items() if len(s) > 1} == {}


def test_permissions_are_least_privilege():
    for path in _workflow_files():
        workflow = _load(path)
        top = workflow.get("permissions")
        assert top in LEAST_PRIVILEGE_TOP, f"{path.name}: top-level permissions must be {{}} or contents: read"
        for job_id, job in workflow["jobs"].items():
            perms = job.get("permissions")
            if perms is None:
                assert top in LEAST_PRIVILEGE_TOP, f"{path.name}:{job_id} inherits broad permissions"
                continue
            assert isinstance(perms, dict), f"{path.name}:{job_id}: use a mapping, never read-all/write-all"
            assert set(perms.values()) <= {"read", "write", "none"}


def test_write_permissions_only_where_the_job_needs_them():
    allowed = {
        ("ci.yml", "comment"): {"pull-requests"},
        ("images.yml", "build"): {"packages"},
        ("images.yml", "dev-pr"): {"contents", "pull-requests"},
        ("promote.yml", "promote"): {"contents", "pull-requests"},
        ("drift.yml", "report"): {"issues"},
        ("pages.yml", "deploy"): {"pages", "id-token"},
    }
    for path in _workflow_files():
        for job_id, job in _load(path)["jobs"].items():
            writes = {k for k, v in (job.get("permissions") or {}).items() if v == "write"}
            assert writes <= allowed.get((path.name, job_id), set()), f"{path.name}:{job_id} writes {writes}"


def test_jobs_that_run_untrusted_code_keep_no_credentials():
    for name in ("ci.yml", "drift.yml"):
        for job_id, step in _steps(_load(WORKFLOWS / name)):
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False, f"{name}:{job_id}"


def test_no_expression_is_interpolated_into_a_shell_script_from_user_input():
    """Inputs, PR titles, payloads reach scripts through env:, never ${{ }} inside run:."""
    for path in _workflow_files():
        for job_id, step in _steps(_load(path)):
            run = step.get("run", "")
            for expr in re.findall(r"\$\{\{(.*?)\}\}", run):
                assert not re.search(r"inputs|event|head_ref|matrix", expr), f"{path.name}:{job_id}: ${{{{{expr}}}}}"


def test_ci_runs_tests_synth_check_validate_and_posts_one_diff_comment():
    ci = _load(WORKFLOWS / "ci.yml")
    assert set(ci["on"]) == {"pull_request", "push"}
    assert ci["on"]["push"]["branches"] == ["main"]
    text = _run_text(ci)
    assert "make test" in text
    assert "gitops synth --check" in text
    assert "gitops validate --format github" in text
    assert 'gitops diff --base "$base" --env "$env" --format markdown' in text
    assert 'base="origin/${BASE_REF}"' in text
    assert ci["jobs"]["diff"]["steps"][-2]["env"]["BASE_REF"] == "${{ github.base_ref }}"
    setups = {step["uses"].split("@")[0]: step.get("with", {}) for _, step in _steps(ci) if "uses" in step}
    assert setups["actions/setup-python"]["python-version"] == "3.11"
    assert setups["actions/setup-node"]["node-version"] == "20"
    script = next(step["with"]["script"] for _, step in _steps(ci) if "github-script" in step.get("uses", ""))
    assert "<!-- gitops-diff -->" in script
    assert "updateComment" in script and "createComment" in script and "listComments" in script
    assert ci["jobs"]["comment"]["needs"] == "diff"


def test_images_matrix_comes_from_gitops_matrix():
    images = _load(WORKFLOWS / "images.yml")
    matrix_job, build = images["jobs"]["matrix"], images["jobs"]["build"]
    assert any(re.search(r"(^|\s)gitops matrix(\s|$)", step.get("run", "")) for step in matrix_job["steps"])
    assert matrix_job["outputs"]["matrix"] == "${{ steps.matrix.outputs.matrix }}"
    assert build["strategy"]["matrix"] == "${{ fromJSON(needs.matrix.outputs.matrix) }}"
    assert build["needs"] == "matrix"


def test_images_workflow_hard_codes_no_component():
    text = (WORKFLOWS / "images.yml").read_text()
    for source in (REPO, MINI):
        for component in load_platform(source).components:
            assert not re.search(rf"(?<![\w-]){re.escape(component.name)}(?![\w-])", text), component.name


def test_images_uses_only_fields_that_gitops_matrix_emits():
    expressions = re.findall(r"\$\{\{(.*?)\}\}", (WORKFLOWS / "images.yml").read_text())
    used = {field for expr in expressions for field in re.findall(r"(?<![\w.])matrix\.(\w+)", expr)}
    assert {"name", "repository", "context", "dockerfile", "image", "components"} <= used
    proc = run_gitops(MINI, "matrix")
    if proc.returncode != 0 and "No such command" in proc.stderr:
        pytest.fail("images.yml calls `gitops matrix`, which does not exist")
    assert proc.returncode == 0, proc.stderr
    entries = json.loads(proc.stdout)["include"]
    assert entries
    for entry in entries:
        assert used <= set(entry), f"images.yml uses matrix.{sorted(used - set(entry))} that gitops matrix lacks"


def test_images_build_push_tags_cache_digest_and_bump():
    images = _load(WORKFLOWS / "images.yml")
    steps = {step.get("id") or step.get("uses", "").split("@")[0] or step.get("name"): step
             for step in images["jobs"]["build"]["steps"]}
    build = steps["build"]
    assert build["uses"].startswith("docker/build-push-action@")
    assert build["with"]["push"] is True
    assert build["with"]["cache-from"].startswith("type=gha")
    assert build["with"]["cache-to"].startswith("type=gha")
    tags = steps["meta"]["with"]["tags"]
    assert "value=${{ needs.matrix.outputs.version }}" in tags
    assert "value=sha-${{ steps.source.outputs.short }}" in tags
    assert "ghcr.io" == steps["docker/login-action"]["with"]["registry"]
    assert "docker/setup-buildx-action" in steps
    record = next(s for s in images["jobs"]["build"]["steps"] if s.get("name") == "record the digest")
    assert record["env"]["DIGEST"] == "${{ steps.build.outputs.digest }}"
    dev = _load(WORKFLOWS / "images.yml")["jobs"]["dev-pr"]
    text = "\n".join(s.get("run", "") for s in dev["steps"])
    assert 'gitops bump --env dev --service "$service" --tag "$tag" --digest "$digest"' in text
    assert "gh pr merge" in text and "--auto" in text
    assert dev["concurrency"]["group"] == "gitops-env-dev"


def test_auto_merge_only_for_dev():
    for path in _workflow_files():
        text = path.read_text()
        if "--auto" in text:
            assert path.name == "images.yml"
            assert "--env dev" in text and "gitops-env-dev" in text
    assert "merge" not in _run_text(_load(WORKFLOWS / "promote.yml"))


def test_promote_is_a_manual_dispatch_with_from_to_services_reason():
    promote = _load(WORKFLOWS / "promote.yml")
    assert set(promote["on"]) == {"workflow_dispatch"}
    inputs = promote["on"]["workflow_dispatch"]["inputs"]
    assert set(inputs) == {"from", "to", "services", "reason"}
    assert inputs["from"]["required"] and inputs["to"]["required"] and inputs["reason"]["required"]
    assert promote["concurrency"]["group"] == "gitops-env-${{ github.event.inputs.to }}"
    assert 'gitops promote "${args[@]}"' in _run_text(promote)


def test_drift_is_scheduled_and_opens_an_issue_on_failure():
    drift = _load(WORKFLOWS / "drift.yml")
    assert "schedule" in drift["on"] and "workflow_dispatch" in drift["on"]
    text = _run_text(drift)
    assert "gitops synth --check" in text and "gitops validate" in text
    report = drift["jobs"]["report"]
    assert report["needs"] == "check" and "failure()" in report["if"]
    script = next(s["with"]["script"] for s in report["steps"] if "github-script" in s.get("uses", ""))
    assert "issues.create" in script and "createComment" in script


def test_environment_writes_are_serialized_per_environment():
    groups = []
    for path in _workflow_files():
        workflow = _load(path)
        for job in workflow["jobs"].values():
            if (job.get("permissions") or {}).get("contents") == "write":
                group = (job.get("concurrency") or workflow.get("concurrency") or {}).get("group", "")
                groups.append(group)
                assert group.startswith("gitops-env-"), f"{path.name}: writing job without an environment group"
    assert groups


def test_pages_publishes_the_status_page_with_least_privilege():
    pages = _load(WORKFLOWS / "pages.yml")
    assert {"push", "schedule"} <= set(pages["on"]) and pages["on"]["push"]["branches"] == ["main"]
    assert pages["permissions"] == {}
    build, deploy = pages["jobs"]["build"], pages["jobs"]["deploy"]
    assert build["permissions"] == {"contents": "read", "pull-requests": "read"}
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"} and deploy["needs"] == "build"
    assert "gitops status --format html --output _site/index.html" in _run_text(pages)
    uses = [step.get("uses", "").split("@")[0] for _, step in _steps(pages)]
    assert "actions/upload-pages-artifact" in uses and "actions/deploy-pages" in uses
    checkout = next(step for _, step in _steps(pages) if step.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0 and checkout["with"]["persist-credentials"] is False
