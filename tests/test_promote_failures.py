"""Failure behaviour of promotion: gates, interruptions, push rejection, GitHub outages and auth.

Everything is real (git repositories, a bare remote, cdk8s rendering, `gitops validate`) except
GitHub, served by tests/github_fake.py. Failures are injected at the step under test. Gate
refusals happen before anything is rendered, so most of these tests are fast; the scenarios that
need a render share one promotion where they can.
"""
from __future__ import annotations

import stat

import pytest

import gitops.pipeline.synth
from gitops.errors import GitopsError, InputError
from gitops.promote.gates import Gate, GateFailed
from gitops.promote.git import Git
from gitops.promote.promote import find_last_promotion, promote

from .test_promote_support import DIGEST_A, opts, setup, trailers  # noqa: F401 (setup: fixture)


def bump_dev(setup, tag="v1.3.0", digest=DIGEST_A, push=True):
    from gitops.promote.envfile import EnvFile
    path = setup.root / "environments" / "dev.yaml"
    env = EnvFile.read(path)
    env.set_values("shop-api", {"image.tag": tag, "image.digest": digest})
    path.write_text(env.text)
    setup.commit_all(f"dev: shop-api {tag}")
    if push:
        setup.git("push", "--quiet", "origin", "main")


def test_nothing_to_promote_creates_nothing(setup, fake_github):
    outcome = promote(setup.root, "dev", "staging", options=opts(fake_github))
    assert outcome.status == "nothing" and "nothing to promote" in outcome.message
    assert setup.remote_branches() == ["main"] and not fake_github.log


@pytest.mark.parametrize("step", ["render", "validation"])
def test_interrupted_promotion_leaves_everything_as_before(setup, fake_github, monkeypatch, step):
    bump_dev(setup)
    before = setup.snapshot()
    options = opts(fake_github)
    if step == "render":
        def boom(*a, **k):
            raise RuntimeError("render crashed")
        monkeypatch.setattr(gitops.pipeline.synth, "synth", boom)
    else:
        options.validator = lambda root, env: Gate("validation", "failed", "2 error(s)", "dist/staging/x.yaml:3 SCH001 bad")
    with pytest.raises((RuntimeError, GitopsError)) as exc:
        promote(setup.root, "dev", "staging", options=options)
    if step == "validation":
        assert isinstance(exc.value, GateFailed) and "SCH001 bad" in str(exc.value)
    assert setup.snapshot() == before  # files, index, HEAD, branches, worktrees, remote
    assert not fake_github.pulls


def test_checkout_and_hold_gates(setup, fake_github):
    bump_dev(setup)
    (setup.root / "notes.txt").write_text("wip")
    with pytest.raises(GateFailed) as exc:
        promote(setup.root, "dev", "staging", options=opts(fake_github))
    assert "uncommitted changes (notes.txt)" in str(exc.value)
    # A modified tracked file comes first as " M path": its leading space is part of the status, not the path.
    dev = setup.root / "environments" / "dev.yaml"
    original = dev.read_bytes()
    dev.write_bytes(original + b"# wip\n")
    with pytest.raises(GateFailed) as exc:
        promote(setup.root, "dev", "staging", options=opts(fake_github))
    assert "uncommitted changes (environments/dev.yaml, notes.txt)" in str(exc.value)
    dev.write_bytes(original)
    (setup.root / "notes.txt").unlink()

    setup.git("checkout", "--quiet", "--detach")
    with pytest.raises(GateFailed) as exc:
        promote(setup.root, "dev", "staging", options=opts(fake_github))
    assert "HEAD is detached" in str(exc.value)
    setup.git("checkout", "--quiet", "main")

    # A hold pushed by someone else stops a checkout that does not have it yet.
    from gitops.promote.holds import place_hold
    place_hold(setup.root, "staging", "load test running")
    setup.git("push", "--quiet", "origin", "main")
    setup.git("reset", "--quiet", "--hard", "HEAD~1")
    with pytest.raises(GateFailed) as exc:
        promote(setup.root, "dev", "staging", options=opts(fake_github))
    assert "load test running" in str(exc.value) and "on origin/main" in str(exc.value)
    assert "main is 1 commit(s) behind origin/main: `git pull --ff-only`" in str(exc.value)
    assert setup.remote_branches() == ["main"] and not fake_github.pulls


def test_order_gate_and_recorded_skip(setup, fake_github):
    bump_dev(setup)
    with pytest.raises(GateFailed) as exc:
        promote(setup.root, "dev", "prod", options=opts(fake_github))
    assert "`prod` promotes from `staging`, not `dev`" in str(exc.value)
    with pytest.raises(InputError):
        promote(setup.root, "dev", "prod", skip_gate=True, options=opts(fake_github))
    # An open promotion into staging must not be touched by a promotion into prod.
    setup.git("push", "--quiet", "origin", "main:promote/dev-to-staging/0000000000")
    fake_github._create({"title": "older", "head": "promote/dev-to-staging/0000000000", "base": "main"})
    # dev runs no Argo CD/Prometheus the test can reach: prod's soak and alerts gates are skipped too, each recorded.
    outcome = promote(setup.root, "dev", "prod", skip_gate=("order", "soak", "alerts"), reason="hotfix for INC-9",
                      options=opts(fake_github))
    assert outcome.status == "opened" and outcome.superseded == []
    t = trailers(setup, f"origin/{outcome.plan.branch}")
    assert t["Promoted-From"] == "dev"
    message = setup.git("log", "-1", "--format=%B", f"origin/{outcome.plan.branch}")
    assert [line for line in message.splitlines() if line.startswith("Gate-Skipped:")] == [
        "Gate-Skipped: order: hotfix for INC-9", "Gate-Skipped: soak: hotfix for INC-9",
        "Gate-Skipped: alerts: hotfix for INC-9"]
    body = fake_github.pulls[outcome.pull["number"]]["body"]
    assert "**order** (skipped)" in body and "hotfix for INC-9" in body
    assert "**soak** (skipped)" in body and "**alerts** (skipped)" in body
    assert fake_github.pulls[1]["state"] == "open"


def test_production_only_receives_versions_on_the_default_branch(setup, fake_github):
    from gitops.promote.envfile import EnvFile
    path = setup.root / "environments" / "staging.yaml"
    env = EnvFile.read(path)
    env.set_values("shop-api", {"image.tag": "v9.9.9", "image.digest": DIGEST_A})
    path.write_text(env.text)
    setup.commit_all("staging edited locally, not pushed")
    with pytest.raises(GateFailed) as exc:
        promote(setup.root, "staging", "prod", options=opts(fake_github))
    assert "default-branch" in str(exc.value) and "shop-api v9.9.9" in str(exc.value)
    assert "on origin/main: v1.2.0" in str(exc.value)


def test_production_refuses_unpinned_images(setup, fake_github):
    from gitops.promote.envfile import EnvFile
    path = setup.root / "environments" / "staging.yaml"
    env = EnvFile.read(path)
    env.set_values("shop-api", {"image.tag": "v1.3.0"})
    path.write_text(env.text)
    setup.commit_all("staging: shop-api v1.3.0 without digest")
    with pytest.raises(InputError) as exc:
        promote(setup.root, "staging", "prod", options=opts(fake_github))
    assert "environments/staging.yaml at components/shop-api/image/digest" in str(exc.value)
    assert "prod requires images pinned by digest" in str(exc.value)


def test_interrupted_then_push_rejected_then_github_outage_then_resume(setup, fake_github, monkeypatch):
    bump_dev(setup)
    before = setup.snapshot()
    keys = ("files", "status", "head", "branch", "worktrees", "remote")

    # 0. Interrupted after the commit, before the branch exists: nothing is left behind.
    def no_ref(self, *a):
        raise GitopsError("disk full")
    with monkeypatch.context() as m:
        m.setattr(Git, "update_branch", no_ref)
        with pytest.raises(GitopsError, match="disk full"):
            promote(setup.root, "dev", "staging", options=opts(fake_github))
    assert setup.snapshot() == before and not fake_github.pulls

    hook = setup.bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'protected by policy' >&2\nexit 1\n")
    hook.chmod(hook.stat().st_mode | stat.S_IEXEC)

    # 1. Push rejected: clear error, local branch kept, the message says how to resume.
    with pytest.raises(GitopsError) as exc:
        promote(setup.root, "dev", "staging", options=opts(fake_github))
    message = str(exc.value)
    [branch] = setup.git("for-each-ref", "--format=%(refname:short)", "refs/heads/promote/").splitlines()
    kept = setup.git("rev-parse", branch)
    assert f"git push origin {branch}" in message and "re-run" in message and "protected by policy" in message
    after = setup.snapshot()
    assert {k: after[k] for k in keys} == {k: before[k] for k in keys}
    assert not fake_github.pulls

    # 2. Resumed while GitHub answers 503: bounded retries, clear error, the branch is pushed as kept.
    hook.unlink()
    fake_github.fail(503, times=100, method="POST", path=r"/pulls$")
    with pytest.raises(GitopsError) as exc:
        promote(setup.root, "dev", "staging", options=opts(fake_github))
    assert "503" in str(exc.value) and "re-run the same command" in str(exc.value)
    assert fake_github.calls("POST", r"/pulls$") == 4  # GITOPS_GITHUB_RETRIES default: 4 attempts
    assert setup.remote_git("rev-parse", branch) == kept == setup.git("rev-parse", branch)

    # 3. Resumed again; the answer to the create is lost once: the retry finds the PR by head.
    fake_github.reset()
    fake_github.fail(502, times=1, method="POST", path=r"/pulls$", after_effect=True)
    outcome = promote(setup.root, "dev", "staging", options=opts(fake_github))
    assert outcome.status == "updated" and outcome.commit is None  # adopted (found by head); nothing re-committed
    assert len(fake_github.pulls) == 1 and outcome.pull["number"] == 1 and fake_github.calls("POST", r"/pulls$") == 1
    assert fake_github.labels[1] == ["promotion", "env:staging"]
    assert setup.remote_git("rev-parse", branch) == kept
    after = setup.snapshot()
    assert {k: after[k] for k in ("files", "status", "head", "branch", "worktrees")} == \
           {k: before[k] for k in ("files", "status", "head", "branch", "worktrees")}


def test_credentials_are_checked_before_anything_is_pushed(setup, fake_github):
    bump_dev(setup)
    for token, expected in ((None, "GITHUB_TOKEN is not set"), ("expired", "401")):
        with pytest.raises(GitopsError) as exc:
            promote(setup.root, "dev", "staging", options=opts(fake_github, token=token))
        assert expected in str(exc.value) and "GITHUB_TOKEN" in str(exc.value)
    assert setup.remote_branches() == ["main"]
    assert setup.git("for-each-ref", "refs/heads/promote/") == ""


def test_dry_run_needs_no_token_and_changes_nothing(setup, fake_github):
    bump_dev(setup)
    before = setup.snapshot()
    outcome = promote(setup.root, "dev", "staging", options=opts(fake_github, token=None, dry_run=True))
    assert outcome.status == "dry-run"
    assert "| `shop-api` | `v1.2.0` → **`v1.3.0`** |" in outcome.body
    assert "`Deployment shop-staging/shop-api` | image, labels |" in outcome.body
    assert setup.snapshot() == before and not fake_github.log


def test_rollback_target_skips_promotions_already_rolled_back(setup):
    git = Git(setup.root)
    setup.git("commit", "--quiet", "--allow-empty", "-m", "p1\n\nPromoted-To: prod\nPromoted-From: staging")
    p1 = setup.git("rev-parse", "HEAD")
    setup.git("commit", "--quiet", "--allow-empty", "-m", "p2\n\nPromoted-To: prod\nPromoted-From: staging")
    p2 = setup.git("rev-parse", "HEAD")
    setup.git("commit", "--quiet", "--allow-empty", "-m", "s\n\nPromoted-To: staging\nPromoted-From: dev")
    assert find_last_promotion(git, "prod")["sha"] == p2
    setup.git("commit", "--quiet", "--allow-empty", "-m", f"r\n\nRollback-Of: {p2}\nEnvironment: prod")
    assert find_last_promotion(git, "prod")["sha"] == p1
    assert find_last_promotion(git, "dev") is None
