"""The GitHub token goes to the configured origin only (issue 17 item 7) and odd answers are clear
errors, never tracebacks (redirected POST). Against tests/github_fake.py plus a second local server
standing for "another host" that records every Authorization header it receives."""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gitops.errors import InputError
from gitops.promote.github import GitHub, GitHubError


class Elsewhere:
    """Another origin (another port on 127.0.0.1): records requests, answers an empty list."""

    def __init__(self):
        self.seen: list[tuple[str, str | None]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _any(self):
                outer.seen.append((self.command, self.headers.get("Authorization")))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"[]")
            do_GET = do_POST = do_PATCH = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def other():
    server = Elsewhere()
    yield server
    server.stop()


@pytest.fixture
def gh(fake_github):
    fake_github.reset()
    return GitHub(fake_github.token, fake_github.owner, fake_github.repo, fake_github.url, retries=2, backoff=0, timeout=2, sleep=lambda s: None)


PULLS = r"/pulls$"


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirect_to_another_origin_is_not_followed_with_the_token(gh, fake_github, other, status):
    fake_github.answer(status, {"message": "Moved"}, {"Location": f"{other.url}/steal"}, times=5, method="GET", path=PULLS)
    with pytest.raises(GitHubError) as exc:
        gh.open_pulls()
    assert f"redirect (HTTP {status})" in str(exc.value) and fake_github.token not in str(exc.value)
    assert other.seen == []


def test_redirect_within_the_origin_is_followed_for_get(gh, fake_github):
    """GitHub redirects API calls of a renamed repository; following it within the API origin is safe."""
    fake_github.answer(301, {"message": "Moved Permanently"},
                {"Location": f"{fake_github.url}/repos/{fake_github.owner}/{fake_github.repo}/pulls?state=open&per_page=100"}, method="GET", path=PULLS)
    assert gh.open_pulls() == []
    assert fake_github.calls("GET", PULLS) == 2


def test_link_header_to_another_origin_is_refused(gh, fake_github, other):
    fake_github.answer(200, headers={"Link": f'<{other.url}/repos/x/y/pulls?page=2>; rel="next"'}, method="GET", path=PULLS,
                merge_headers=True)
    with pytest.raises(GitHubError) as exc:
        gh.open_pulls()
    assert "refusing to send the GitHub token to" in str(exc.value)
    assert other.seen == []


@pytest.mark.parametrize("status", [301, 302, 303])
def test_redirected_pull_request_post_is_a_clear_error_not_a_typeerror(gh, fake_github, status):
    """urllib turns a POST answered 301/302/303 into a GET: the "created" pull request would be a list."""
    fake_github.answer(status, {"message": "Moved"}, {"Location": f"{fake_github.url}/repos/{fake_github.owner}/{fake_github.repo}/pulls"},
                method="POST", path=PULLS)
    with pytest.raises(GitHubError) as exc:
        gh.create_or_adopt_pull(branch="promote/a-to-b/1", base="main", title="t", body="b")
    assert f"with a redirect (HTTP {status})" in str(exc.value) and "not followed" in str(exc.value)
    assert fake_github.calls("POST", PULLS) == 1 and not fake_github.pulls


def test_a_list_where_a_pull_request_is_expected_is_a_clear_error(gh, fake_github):
    fake_github.answer(201, [], method="POST", path=PULLS)
    with pytest.raises(GitHubError) as exc:
        gh.create_or_adopt_pull(branch="promote/a-to-b/1", base="main", title="t", body="b")
    assert "expected a pull request object, found list" in str(exc.value)


@pytest.mark.parametrize("url,ok", [
    ("https://api.github.com", True), ("https://ghe.example.com/api/v3", True),
    ("http://127.0.0.1:8080", True), ("http://localhost:1", True), ("http://[::1]:9", True),
    ("http://api.github.com", False), ("http://10.0.0.1", False), ("ftp://api.github.com", False),
    ("https://user:secret-token@api.github.com", False), ("api.github.com", False),
])
def test_api_url_must_be_https_except_loopback_and_carry_no_credentials(url, ok):
    if ok:
        GitHub("t", "o", "r", url)
        return
    with pytest.raises(InputError) as exc:
        GitHub("t", "o", "r", url)
    assert str(exc.value).startswith("GITHUB_API_URL: expected") and "secret-token" not in str(exc.value)
