"""Workflow hardening (issue 17 item 9 and the dev-PR Low item): zizmor finds nothing on every
workflow file, the bot token lives only in the step that pushes, checkouts keep no credentials,
prod promotion runs behind a protected environment, and the dev-PR job succeeds when nothing changed."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from .test_promote_support import git
from .test_workflows import WORKFLOWS, _load, _steps, _workflow_files


def _zizmor() -> str:
    found = Path(sys.executable).with_name("zizmor")
    path = str(found) if found.is_file() else shutil.which("zizmor")
    assert path, "zizmor is missing: it is a pinned dev dependency (pyproject.toml), installed by `make deps`"
    return path


def test_zizmor_finds_nothing_in_any_workflow():
    """The strictest persona (auditor), offline; an accepted finding needs zizmor's ignore comment with a reason."""
    proc = subprocess.run([_zizmor(), "--offline", "--persona", "auditor", "--format", "json", "--no-progress",
                           str(WORKFLOWS)], capture_output=True, text=True)
    findings = json.loads(proc.stdout or "[]")
    summary = [f"{f.get('ident')}: {f.get('desc')} in {json.dumps(f.get('locations', [{}])[0].get('symbolic', {}).get('key'))}"
               for f in findings]
    assert proc.returncode == 0 and findings == [], summary or proc.stderr
    for path in _workflow_files():  # every file was audited (pages.yml or any later one included)
        assert f"completed {path.relative_to(WORKFLOWS.parent.parent)}" in proc.stderr or \
            f"completed {path}" in proc.stderr, path.name


def test_every_zizmor_ignore_comment_gives_a_reason():
    for path in _workflow_files():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            match = re.search(r"zizmor:\s*ignore\[[^\]]+\](.*)$", line)
            if match:
                assert len(match.group(1).strip(" -:#")) >= 10, f"{path.name}:{number}: ignore without a reason"


def _secret_steps(workflow: dict) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for job_id, job in workflow["jobs"].items():
        assert "secrets." not in json.dumps(job.get("env", {})), f"{job_id}: a secret in the job-wide env"
        for step in job.get("steps", []):
            if "secrets." in json.dumps({k: v for k, v in step.items() if k != "uses"}):
                out.setdefault(job_id, []).append(step.get("name") or step.get("uses", ""))
    return out


def test_the_bot_token_reaches_only_the_step_that_pushes():
    assert _secret_steps(_load(WORKFLOWS / "promote.yml")) == {"promote": ["gitops promote"]}
    images = _secret_steps(_load(WORKFLOWS / "images.yml"))
    assert images["dev-pr"] == ["open or update the pull request, auto-merge (dev only)"]
    for path in _workflow_files():
        for job_id, step in _steps(_load(path)):
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False, f"{path.name}:{job_id}"
                assert "token" not in step.get("with", {}), f"{path.name}:{job_id}: checkout with a token"


def test_promotion_runs_in_a_deployment_environment_per_target():
    promote = _load(WORKFLOWS / "promote.yml")["jobs"]["promote"]
    assert promote["environment"] == "promote-${{ github.event.inputs.to }}"
    assert "required reviewers" in (WORKFLOWS / "promote.yml").read_text()
    assert _load(WORKFLOWS / "images.yml")["jobs"]["dev-pr"]["environment"] == "promote-dev"


def _dev_pr_script() -> str:
    step = next(s for _, s in _steps(_load(WORKFLOWS / "images.yml"))
                if s.get("name") == "open or update the pull request, auto-merge (dev only)")
    return step["run"]


def test_dev_pr_job_succeeds_when_dev_already_runs_the_images(tmp_path):
    """Reproduces the failure: scratch files (inventory.json, digests/) made `git status` non-empty,
    so the job went on to commit nothing and failed."""
    repo = tmp_path / "repo"
    for rel in ("environments/dev.yaml", "dist/dev/app/deployment-app.yaml", "infra/terraform/environments/dev/x.json"):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text("x: 1\n")
    git(tmp_path, "init", "--quiet", "-b", "main", str(repo))
    git(repo, "add", "--all")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "--quiet", "-m", "init")
    (repo / "inventory.json").write_text("{}")              # what the old job left in the checkout
    (repo / "digests").mkdir()
    (repo / "digests" / "api.json").write_text("{}")
    runner_temp = tmp_path / "runner"
    runner_temp.mkdir()
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "RUNNER_TEMP": str(runner_temp), "GH_TOKEN": "t",
           "DIGESTS": str(runner_temp / "digests"), "VERSION": "v1.0.0", "BRANCH": "gitops/images-dev"}
    proc = subprocess.run(["bash", "-c", _dev_pr_script()], cwd=repo, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "dev already runs these images" in proc.stdout
    assert git(repo, "rev-list", "--count", "HEAD") == "1"
