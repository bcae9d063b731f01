"""GitHub REST client against the local fake: pagination, retries, timeouts, auth, duplicate-PR safety."""
from __future__ import annotations

import pytest

from gitops.promote.git import parse_remote
from gitops.promote.github import GitHub, GitHubAuthError, GitHubError, split_reviewers, web_url



@pytest.fixture
def gh(fake_github):
    fake_github.reset()
    sleeps: list[float] = []
    client = GitHub(fake_github.token, fake_github.owner, fake_github.repo, fake_github.url, retries=3, backoff=0.5, timeout=2, sleep=sleeps.append)
    client.sleeps = sleeps
    return client


def _open(gh, branch, base="main"):
    pr, created = gh.create_or_adopt_pull(branch=branch, base=base, title=f"t {branch}", body="b")
    return pr


def test_list_follows_link_header_pagination(gh, fake_github):
    for i in range(5):
        _open(gh, f"promote/dev-to-staging/{i}")
    fake_github.log.clear()
    pulls = gh.paginate(f"/repos/{fake_github.owner}/{fake_github.repo}/pulls", {"state": "open"}, per_page=2)
    assert sorted(p["number"] for p in pulls) == [1, 2, 3, 4, 5]
    assert fake_github.calls("GET", r"/pulls$") == 3  # pages of 2, 2, 1
    assert gh.open_pull_for("promote/dev-to-staging/3")["number"] == 4
    assert gh.open_pull_for("promote/nope") is None


def test_5xx_is_retried_with_backoff_then_succeeds(gh, fake_github):
    fake_github.fail(503, times=2, method="GET")
    assert gh.open_pulls() == []
    assert gh.sleeps == [0.5, 1.0]


def test_5xx_retries_are_bounded_and_the_error_is_clear(gh, fake_github):
    fake_github.fail(502, times=10, method="GET")
    with pytest.raises(GitHubError) as exc:
        gh.open_pulls()
    assert "failed after 3 attempt(s): HTTP 502" in str(exc.value) and "re-run" in str(exc.value)
    assert fake_github.calls("GET", r"/pulls$") == 3


def test_timeout_is_retried_then_reported(fake_github):
    fake_github.reset()
    client = GitHub(fake_github.token, fake_github.owner, fake_github.repo, fake_github.url, retries=2, backoff=0, timeout=0.5, sleep=lambda s: None)
    fake_github.delay(30, times=1)
    assert client.open_pulls() == []          # first attempt timed out, second answered
    fake_github.delay(30, times=2)
    with pytest.raises(GitHubError) as exc:
        client.open_pulls()
    assert "timed out after 0.5s" in str(exc.value)
    fake_github.reset()  # wakes the delayed handlers; their late answers are dropped


def test_bad_or_missing_token_names_github_token(fake_github):
    with pytest.raises(GitHubAuthError) as exc:
        GitHub(None, fake_github.owner, fake_github.repo, fake_github.url)
    assert "GITHUB_TOKEN" in str(exc.value)
    client = GitHub("wrong", fake_github.owner, fake_github.repo, fake_github.url, retries=3, sleep=lambda s: None)
    fake_github.log.clear()
    with pytest.raises(GitHubAuthError) as exc:
        client.open_pulls()
    assert "401" in str(exc.value) and "GITHUB_TOKEN" in str(exc.value)
    assert [s for _, _, s in fake_github.log] == [401]  # never retried


def test_403_names_github_token(gh, fake_github):
    fake_github.fail(403, method="POST")
    with pytest.raises(GitHubAuthError) as exc:
        _open(gh, "promote/x-to-y/1")
    assert "403" in str(exc.value) and "GITHUB_TOKEN" in str(exc.value)


def test_lost_response_on_create_never_opens_a_duplicate(gh, fake_github):
    # The server creates the PR but the answer is a 502: the retry finds it by head and adopts it.
    fake_github.fail(502, method="POST", path=r"/pulls$", after_effect=True)
    pr, created = gh.create_or_adopt_pull(branch="promote/dev-to-staging/abc", base="main", title="t", body="b")
    assert not created and pr["number"] == 1
    assert len(fake_github.pulls) == 1 and fake_github.calls("POST", r"/pulls$") == 1


def test_422_already_exists_is_adopted(gh, fake_github):
    existing = _open(gh, "promote/dev-to-staging/abc")

    class Racy(GitHub):  # the lookup misses the PR (another run created it meanwhile)
        calls = 0

        def open_pull_for(self, branch, base=None):
            Racy.calls += 1
            return None if Racy.calls == 1 else super().open_pull_for(branch, base)

    racy = Racy(fake_github.token, fake_github.owner, fake_github.repo, fake_github.url, retries=2, sleep=lambda s: None)
    pr, created = racy.create_or_adopt_pull(branch="promote/dev-to-staging/abc", base="main", title="t", body="b")
    assert not created and pr["number"] == existing["number"]
    assert ("POST", f"/repos/{fake_github.owner}/{fake_github.repo}/pulls", 422) in fake_github.log
    assert len(fake_github.pulls) == 1


def test_labels_comments_reviewers_update(gh, fake_github):
    pr = _open(gh, "promote/dev-to-staging/x")
    gh.add_labels(pr["number"], ["promotion", "env:staging"])
    gh.comment(pr["number"], "hello")
    gh.request_reviewers(pr["number"], ["alice"], ["platform"])
    gh.update_pull(pr["number"], state="closed")
    assert fake_github.labels[1] == ["promotion", "env:staging"]
    assert fake_github.comments[1][0]["body"] == "hello"
    assert fake_github.requested[1] == {"reviewers": ["alice"], "team_reviewers": ["platform"]}
    assert fake_github.pulls[1]["state"] == "closed" and gh.open_pulls() == []


def test_remote_urls_and_reviewers():
    for url in ("https://github.com/meetinity/gitops.git", "https://github.com/meetinity/gitops",
                "git@github.com:meetinity/gitops.git", "ssh://git@github.com/meetinity/gitops.git",
                "ssh://git@ghe.example.com:2222/meetinity/gitops", "https://x-access-token:t@github.com/meetinity/gitops.git"):
        assert parse_remote(url) == ("meetinity", "gitops"), url
    assert parse_remote("/tmp/remote.git") is None
    assert web_url("https://api.github.com") == "https://github.com"
    assert web_url("https://ghe.example.com/api/v3") == "https://ghe.example.com"
    assert split_reviewers(["@meetinity/platform", "@alice", "@meetinity/platform"], "meetinity") == (["alice"], ["platform"])
