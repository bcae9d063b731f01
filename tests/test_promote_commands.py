"""bump input errors, status, hold/release, publish to an environment repository."""
from __future__ import annotations

import json

import pytest

from gitops.errors import InputError
from gitops.promote.holds import place_hold, read_hold, release_hold
from gitops.promote.publish import publish as publish_default_branch
from gitops.promote.versions import bump, status, status_text

from .test_promote_support import copy_setup, git, gitops, template, trailers, with_migrations


@pytest.fixture
def setup(tmp_path):
    return copy_setup(template(), tmp_path / "s")


def test_bump_rejects_bad_input_and_writes_nothing(setup):
    before = setup.snapshot()
    for kwargs, message in (
        ({"tag": "v1 2"}, "image.tag"),
        ({"tag": "v1.3.0", "digest": "sha256:abc"}, "image.digest"),
        ({"tag": "v1.3.0", "service": "nope"}, "nope is not declared in dev"),
        # prod requires digests: the edited file would not load, so it is restored.
        ({"tag": "v1.3.0", "env": "prod"}, "requires images pinned by digest"),
    ):
        args = {"env": "dev", "service": "shop-api", **kwargs}
        with pytest.raises(InputError) as exc:
            bump(setup.root, args["env"], args["service"], args["tag"], args.get("digest"))
        assert message in str(exc.value), kwargs
    # Through the CLI: exit code 2, located message.
    proc = gitops(setup, None, "bump", "--env", "dev", "--service", "shop-api", "--tag", "latest", expect=2)
    assert "--tag at image.tag: expected a pinned tag (vX.Y.Z or sha-<7>), found 'latest'" in proc.stderr
    # What --help promises is what is checked: the same words, from the schema.
    assert "a pinned tag (vX.Y.Z or sha-<7>)" in " ".join(gitops(setup, None, "bump", "--help").stdout.split())
    for tag in ("V0.3.0", "LATEST", "v1.3", "sha-ABCDEF1"):
        proc = gitops(setup, None, "bump", "--env", "dev", "--service", "shop-api", "--tag", tag, expect=2)
        assert f"expected a pinned tag (vX.Y.Z or sha-<7>), found '{tag}'" in proc.stderr
    proc = gitops(setup, None, "bump", "--env", "qa", "--service", "shop-api", "--tag", "v1.3.0", expect=2)
    assert "unknown environment 'qa'" in proc.stderr
    assert setup.snapshot() == before


def test_status_table_marks_differences(setup):
    path = setup.root / "environments" / "staging.yaml"
    path.write_text(path.read_text().replace("tag: v1.2.0", "tag: v1.3.0", 1))
    data = status(setup.root)
    assert data["environments"] == ["dev", "staging", "prod"]
    row = next(r for r in data["components"] if r["component"] == "shop-api")
    assert row["differs"] and row["differs_from_predecessor"] == ["staging", "prod"]
    assert row["versions"]["staging"]["tag"] == "v1.3.0"
    report = next(r for r in data["components"] if r["component"] == "stock-report")
    assert report["versions"]["prod"] is None and not report["differs"]
    text = status_text(data)
    assert text.splitlines()[0].split() == ["component", "dev", "staging", "prod", "differs"]
    assert "v1.3.0@sha256:111111111111 *" in text and "promotion order: dev -> staging -> prod" in text
    proc = gitops(setup, None, "status", "--format", "json")
    assert json.loads(proc.stdout)["components"][0]["component"]


def test_hold_and_release_are_commits_of_one_file(setup):
    (setup.root / "unrelated.txt").write_text("stays uncommitted")
    result = place_hold(setup.root, "prod", "freeze for the audit")
    assert result["changed"] and read_hold(setup.root, "prod").reason == "freeze for the audit"
    assert setup.git("show", "--name-only", "--format=", "HEAD") == "holds/prod.yaml"
    assert setup.git("status", "--porcelain") == "?? unrelated.txt"
    assert not place_hold(setup.root, "prod", "again")["changed"]
    text = status_text(status(setup.root))
    assert "prod (held)" in text and "freeze for the audit" in text
    assert release_hold(setup.root, "prod")["changed"]
    assert read_hold(setup.root, "prod") is None and "Release: prod" in setup.git("log", "-1", "--format=%B")
    assert not release_hold(setup.root, "prod")["changed"]
    proc = gitops(setup, None, "hold", "--env", "qa", "--reason", "x", expect=2)
    assert "unknown environment 'qa'" in proc.stderr


def test_publish_mirrors_dist_with_a_source_commit_trailer(setup, tmp_path):
    envrepo = tmp_path / "env-repo.git"
    git(tmp_path, "init", "--quiet", "--bare", "-b", "main", str(envrepo))
    result = publish_default_branch(setup.root, str(envrepo), ["dev", "prod"])
    assert result["changed"] and result["branch"] == "main"
    head = setup.git("rev-parse", "HEAD")
    listing = git(envrepo, "ls-tree", "-r", "--name-only", "main").splitlines()
    assert "dev/shop-api/deployment-shop-api.yaml" in listing and "prod/platform/namespace-shop-prod.yaml" in listing
    assert not any(p.startswith("staging/") for p in listing)
    t = trailers(setup, "HEAD")  # the generator repo's own commit has no trailers
    assert "Source-Commit" not in t
    message = git(envrepo, "log", "-1", "--format=%B", "main")
    assert f"Source-Commit: {head}" in message
    # Idempotent: same dist, no commit.
    assert not publish_default_branch(setup.root, str(envrepo), ["dev", "prod"])["changed"]
    assert git(envrepo, "rev-list", "--count", "main") == "1"
    # A removed file disappears from the mirror; only the published environment changes.
    # (a generated change: a hand-deleted file would be refused as not what synth generates)
    env_file = setup.root / "environments" / "dev.yaml"
    env_file.write_text(env_file.read_text().replace("stock-report:\n    enabled: true", "stock-report:\n    enabled: false"))
    from gitops.pipeline.synth import synth
    synth(setup.root, ["dev"])
    setup.commit_all("dev: drop the stock report")
    setup.git("push", "--quiet", "origin", "main")  # publish reads the default branch, not the checkout
    result = publish_default_branch(setup.root, str(envrepo), ["dev"])
    listing = git(envrepo, "ls-tree", "-r", "--name-only", "main").splitlines()
    assert "dev/stock-report/cronjob-stock-report.yaml" not in listing and "prod/platform/namespace-shop-prod.yaml" in listing
    changed = git(envrepo, "diff", "--name-only", "main~1", "main").splitlines()
    assert "dev/stock-report/cronjob-stock-report.yaml" in changed and all(p.startswith("dev/") for p in changed)
    # Uncommitted files in the checkout are not what the default branch holds: never published.
    (setup.root / "dist" / "dev" / "extra.yaml").write_text("kind: X\n")
    assert not publish_default_branch(setup.root, str(envrepo), ["dev"])["changed"]


def test_cli_promote_usage_errors(setup):
    proc = gitops(setup, None, "promote", "--from", "dev", "--to", "prod", "--skip-gate", expect=2)
    assert "--skip-gate needs --reason" in proc.stderr
    proc = gitops(setup, None, "promote", "--to", "qa", expect=2)
    assert "unknown environment 'qa'" in proc.stderr
    proc = gitops(setup, None, "promote", "--to", "staging", "--service", "nope", expect=2)
    assert "unknown 'nope'" in proc.stderr
    proc = gitops(setup, None, "promote", "--to", "prod", "--service", "stock-report", expect=2)
    assert "stock-report is not enabled in staging" in proc.stderr


def test_migrations_on_another_version_than_their_workload_are_refused(setup):
    with_migrations(setup)
    path = setup.root / "environments" / "prod.yaml"
    lines = path.read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("  shop-api-migrations:")) + 2
    lines[at] = lines[at].replace("tag: v1.2.0", "tag: v1.1.0")
    path.write_text("".join(lines))
    proc = gitops(setup, None, "validate", expect=2)
    assert (f"environments/prod.yaml:{at + 1} at components/shop-api-migrations/image: shop-api-migrations runs before "
            "shop-api from the same image repository, so it migrates for that version; expected shop-api's image here "
            "(tag v1.2.0, digest sha256:1111") in proc.stderr


def test_bump_moves_the_migrations_that_run_before_it(setup):
    with_migrations(setup)
    digest = "sha256:" + "9" * 64
    result = bump(setup.root, "dev", "shop-api", "v1.3.0", digest)
    assert result["changed"] and result["moved_with"] == ["shop-api-migrations"]
    from gitops.inputs.load import load_platform

    dev = load_platform(setup.root).environment("dev")
    assert dev.settings("shop-api").image == dev.settings("shop-api-migrations").image
    assert dev.settings("shop-api-migrations").image.tag == "v1.3.0"
    proc = gitops(setup, None, "bump", "--env", "dev", "--service", "shop-api", "--tag", "v1.3.1", "--digest", digest)
    assert "shop-api in dev: v1.3.0 -> v1.3.1 (sha256:" in proc.stdout and "with shop-api-migrations (same image)" in proc.stdout


def test_promoting_one_service_takes_the_migrations_that_run_before_it(setup):
    with_migrations(setup)
    bump(setup.root, "dev", "shop-api", "v1.3.0", "sha256:" + "9" * 64)
    setup.commit_all("dev runs shop-api v1.3.0")
    proc = gitops(setup, None, "promote", "--to", "staging", "--service", "shop-api", "--dry-run")
    assert "shop-api-migrations" in proc.stdout and "v1.3.0" in proc.stdout
