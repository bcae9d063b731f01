"""External scanners over the generated manifests: checkov's Kubernetes policies find nothing to fail."""
from __future__ import annotations

import json
import subprocess

import pytest
import yaml

from .conftest import REPO
from .tools import checkov_bin, checkov_env

CHECKOV = checkov_bin()


@pytest.mark.skipif(CHECKOV is None, reason="checkov not installed (make tools installs it into .venv-checkov)")
def test_checkov_kubernetes_policies_pass_on_dist(tmp_path):
    proc = subprocess.run([CHECKOV, "-d", str(REPO / "dist"), "--framework", "kubernetes", "--skip-download",
                           "--output", "json", "--compact"],
                          capture_output=True, text=True, env=checkov_env(tmp_path), timeout=600, cwd=tmp_path)
    report = json.loads(proc.stdout)
    report = report[0] if isinstance(report, list) else report
    failed = [(f["check_id"], f["file_path"], f["resource"]) for f in report["results"]["failed_checks"]]
    assert failed == [], failed[:20]
    assert report["summary"]["passed"] > 1000
    # Skips come only from waivers the generator documents on the object (checkov.io/skip<N>: ID=reason).
    assert {s["check_id"] for s in report["results"].get("skipped_checks", [])} <= _waived_ids()


def _waived_ids() -> set[str]:
    ids = set()
    for path in (REPO / "dist").rglob("*.yaml"):
        doc = yaml.safe_load(path.read_text())
        for key, value in (doc["metadata"].get("annotations") or {}).items():
            if key.startswith("checkov.io/skip"):
                check_id, _, reason = value.partition("=")
                assert reason.strip(), f"{path}: waiver {check_id} without a reason"
                ids.add(check_id)
    return ids
