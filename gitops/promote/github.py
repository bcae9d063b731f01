"""A small GitHub REST client (urllib only) for promotion pull requests.

Contract followed (docs.github.com/rest): pulls list/create/update, issue labels and
comments, requested reviewers; ``Link`` header pagination with ``per_page``; 422
"A pull request already exists" for a duplicate head/base; 401 bad credentials,
403 forbidden or rate limited.

Failure behaviour:
- 5xx, connection errors and timeouts are retried with exponential backoff, a bounded
  number of times, then reported clearly (:class:`GitHubError`);
- creating a pull request is never retried blindly: every attempt first looks the
  head up, and a 422 "already exists" adopts the existing pull request, so a retry
  after a lost response cannot open a duplicate;
- 401/403 raise :class:`GitHubAuthError` naming ``GITHUB_TOKEN``.

The token goes to the configured API origin only (scheme, host and port of ``GITHUB_API_URL``):
- the API URL must be https, except on a loopback host (a local stand-in); it may not carry
  credentials of its own;
- redirects are followed only to the same origin and only for GET (GitHub redirects API calls
  of renamed repositories, docs.github.com/rest/using-the-rest-api/best-practices-for-using-the-rest-api
  "Follow redirects"); urllib would otherwise resend ``Authorization`` to any host, and turn a
  POST answered with 301/302/303 into a GET without body (RFC 9110 section 15.4), so a pull
  request "creation" would return a list;
- a ``Link: rel="next"`` to another origin is refused, never fetched.
"""
from __future__ import annotations

import ipaddress
import json
import os
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Callable

from ..errors import GitopsError, InputError, Problem
from ..ops.urls import redact

DEFAULT_API = "https://api.github.com"
RETRY_STATUSES = (500, 502, 503, 504)


class GitHubError(GitopsError):
    def __init__(self, message: str, status: int | None = None, payload: dict | None = None):
        super().__init__(message)
        self.status = status
        self.payload = payload or {}


class GitHubAuthError(GitHubError):
    pass


@dataclass
class Response:
    status: int
    data: object
    headers: dict[str, str]


def web_url(api_url: str) -> str:
    """https://api.github.com -> https://github.com; https://ghe.example/api/v3 -> https://ghe.example."""
    api_url = api_url.rstrip("/")
    if api_url == DEFAULT_API:
        return "https://github.com"
    return re.sub(r"/api/v3$", "", api_url)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_api_url(api_url: str) -> str:
    """The API URL, normalized; InputError unless https (or http on a loopback host) without credentials."""
    parts = urllib.parse.urlsplit(api_url)
    problem = None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        problem = f"expected an https:// URL, found {redact(api_url)!r}"
    elif parts.username is not None or parts.password is not None:
        problem = f"expected a URL without credentials (the token comes from GITHUB_TOKEN), found {redact(api_url)!r} with user-info"
    elif parts.scheme == "http" and not _is_loopback(parts.hostname):
        problem = (f"expected https:// (plain http is accepted for loopback hosts only: the token would travel in clear), "
                   f"found {api_url!r}")
    if problem:
        raise InputError(Problem("GITHUB_API_URL", "", problem))
    return api_url.rstrip("/")


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only for GET/HEAD and only within the configured origin; else hand the 3xx back."""

    def __init__(self, origin: tuple):
        self.origin = origin

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if req.get_method() not in ("GET", "HEAD") or _origin(newurl) != self.origin:
            return None  # urllib then raises HTTPError(code): the caller reports it, the token stays here
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _next_link(header: str | None) -> str | None:
    for part in (header or "").split(","):
        match = re.match(r'\s*<([^>]+)>\s*;\s*rel="?next"?', part)
        if match:
            return match.group(1)
    return None


class GitHub:
    def __init__(self, token: str | None, owner: str, repo: str, api_url: str | None = None, *,
                 retries: int | None = None, backoff: float | None = None, timeout: float | None = None,
                 sleep: Callable[[float], None] = time.sleep, log: Callable[[str], None] | None = None):
        if not token:
            raise GitHubAuthError("GITHUB_TOKEN is not set: export a token that can push branches and open pull "
                                  "requests on this repository (contents: write, pull-requests: write)")
        self.token = token
        self.owner, self.repo = owner, repo
        self.api_url = check_api_url(api_url or DEFAULT_API)
        self.origin = _origin(self.api_url)
        self._opener = urllib.request.build_opener(_SameOriginRedirects(self.origin))
        env = os.environ
        self.retries = retries if retries is not None else int(env.get("GITOPS_GITHUB_RETRIES", "4"))
        self.backoff = backoff if backoff is not None else float(env.get("GITOPS_GITHUB_BACKOFF", "1.0"))
        self.timeout = timeout if timeout is not None else float(env.get("GITOPS_GITHUB_TIMEOUT", "30"))
        self.sleep = sleep
        self.log = log or (lambda message: None)
        self.requests = 0

    @property
    def web(self) -> str:
        return f"{web_url(self.api_url)}/{self.owner}/{self.repo}"

    def _url(self, path: str, params: dict | None = None) -> str:
        url = path if path.startswith("http") else f"{self.api_url}{path}"
        if params:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
        return url

    # ------------------------------------------------------------------ transport
    def _once(self, method: str, url: str, body: dict | None) -> Response:
        if _origin(url) != self.origin:
            raise GitHubError(f"refusing to send the GitHub token to {redact(url)}: it is not the configured API origin "
                              f"{self.api_url} (a Link header or redirect pointed elsewhere)")
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method, headers={
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {self.token}",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "meetinity-gitops-promote",
            **({"Content-Type": "application/json"} if data is not None else {}),
        })
        self.requests += 1
        try:
            with self._opener.open(req, timeout=self.timeout) as resp:
                raw = resp.read()
                return Response(resp.status, json.loads(raw) if raw else None, dict(resp.headers))
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                payload = json.loads(raw) if raw else {}
            except ValueError:
                payload = {"message": raw.decode("utf-8", "replace")[:200]}
            response = Response(exc.code, payload, dict(exc.headers or {}))
            if 300 <= exc.code < 400:
                target = response.headers.get("Location") or response.headers.get("location") or "?"
                raise GitHubError(f"GitHub answered {method} {redact(url)} with a redirect (HTTP {exc.code}) to "
                                  f"{redact(target)}; not followed: only GET requests within {self.api_url} follow "
                                  "redirects (check GITHUB_API_URL and the repository name)", exc.code) from None
            return response

    def _wait_to_retry(self, what: str, last: str, attempt: int, attempts: int) -> None:
        """Exponential back-off before attempt number ``attempt`` (0-based), capped at 30 s, said in the log."""
        delay = min(self.backoff * (2 ** (attempt - 1)), 30.0)
        self.log(f"GitHub {what}: {last}; retrying in {delay:g}s ({attempt + 1}/{attempts})")
        self.sleep(delay)

    def request(self, method: str, path: str, body: dict | None = None, params: dict | None = None, *,
                retry: bool = True) -> Response:
        """One API call; 5xx/timeouts retried (when ``retry``), errors mapped to GitHubError."""
        url = self._url(path, params)
        attempts = max(1, self.retries) if retry else 1
        last = ""
        for attempt in range(attempts):
            if attempt:
                self._wait_to_retry(f"{method} {path}", last, attempt, attempts)
            try:
                resp = self._once(method, url, body)
            except (socket.timeout, TimeoutError) as exc:
                last = f"timed out after {self.timeout:g}s ({exc})"
                continue
            except urllib.error.URLError as exc:
                if isinstance(exc.reason, (socket.timeout, TimeoutError)):
                    last = f"timed out after {self.timeout:g}s"
                else:
                    last = f"connection failed ({exc.reason})"
                continue
            except (ConnectionError, OSError) as exc:
                last = f"connection failed ({exc})"
                continue
            if resp.status in RETRY_STATUSES:
                last = f"HTTP {resp.status} {_message(resp)}".strip()
                continue
            self._raise_for(method, path, resp)
            return resp
        raise GitHubError(f"GitHub {method} {path} failed after {attempts} attempt(s): {last}. "
                          f"GitHub may be unavailable; re-run the same command later (it is idempotent).")

    def _raise_for(self, method: str, path: str, resp: Response) -> None:
        if resp.status < 400:
            return
        message = _message(resp)
        if resp.status == 401:
            raise GitHubAuthError(f"GitHub rejected the credentials (401 {message}): GITHUB_TOKEN is missing, "
                                  f"expired or invalid for {redact(self.api_url)}", 401, _payload(resp))
        if resp.status == 403:
            if resp.headers.get("X-RateLimit-Remaining", resp.headers.get("x-ratelimit-remaining")) == "0":
                raise GitHubError(f"GitHub rate limit exceeded ({message}); retry after "
                                  f"{resp.headers.get('X-RateLimit-Reset', 'the reset time')}", 403, _payload(resp))
            raise GitHubAuthError(f"GitHub refused {method} {path} (403 {message}): GITHUB_TOKEN lacks permission "
                                  f"on {self.owner}/{self.repo} (needs contents: write and pull-requests: write)",
                                  403, _payload(resp))
        raise GitHubError(f"GitHub {method} {path} failed: HTTP {resp.status} {message}", resp.status, _payload(resp))

    def paginate(self, path: str, params: dict | None = None, per_page: int = 100) -> list:
        items: list = []
        url: str | None = self._url(path, {**(params or {}), "per_page": per_page})
        while url:
            resp = self.request("GET", url)
            if not isinstance(resp.data, list):
                raise GitHubError(f"GitHub GET {path}: expected a list, found {type(resp.data).__name__} (HTTP {resp.status})",
                                  resp.status)
            items.extend(resp.data)
            url = _next_link(resp.headers.get("Link") or resp.headers.get("link"))
        return items

    # ------------------------------------------------------------------ pulls
    @property
    def _repo_path(self) -> str:
        return f"/repos/{self.owner}/{self.repo}"

    def open_pull_for(self, branch: str, base: str | None = None) -> dict | None:
        params = {"state": "open", "head": f"{self.owner}:{branch}"}
        if base:
            params["base"] = base
        pulls = self.paginate(f"{self._repo_path}/pulls", params)
        return pulls[0] if pulls else None

    def open_pulls(self, base: str | None = None) -> list[dict]:
        params = {"state": "open"}
        if base:
            params["base"] = base
        return self.paginate(f"{self._repo_path}/pulls", params)

    def create_or_adopt_pull(self, *, branch: str, base: str, title: str, body: str) -> tuple[dict, bool]:
        """(pull request, created?). Looks the head up before every attempt; adopts on 422 'already exists'."""
        attempts = max(1, self.retries)
        last = ""
        for attempt in range(attempts):
            if attempt:
                self._wait_to_retry("create pull request", last, attempt, attempts)
            existing = self.open_pull_for(branch, base)
            if existing:
                return existing, False
            try:
                resp = self.request("POST", f"{self._repo_path}/pulls",
                                    {"title": title, "head": branch, "base": base, "body": body}, retry=False)
                return _pull(resp, "POST pulls"), True
            except GitHubAuthError:
                raise
            except GitHubError as exc:
                if exc.status is not None and 300 <= exc.status < 400:
                    raise
                if exc.status == 422 and "already exists" in json.dumps(exc.payload):
                    existing = self.open_pull_for(branch, base)
                    if existing:
                        return existing, False
                if exc.status is not None and exc.status not in RETRY_STATUSES:
                    raise
                last = str(exc)
        raise GitHubError(f"could not open the pull request after {attempts} attempt(s): {last}. "
                          f"Re-run the same command: it finds the pull request if it was created.")

    def update_pull(self, number: int, **fields) -> dict:
        return _pull(self.request("PATCH", f"{self._repo_path}/pulls/{number}", fields), f"PATCH pulls/{number}")

    def get_pull(self, number: int) -> dict:
        return _pull(self.request("GET", f"{self._repo_path}/pulls/{number}"), f"GET pulls/{number}")

    def add_labels(self, number: int, labels: list[str]) -> list:
        return self.request("POST", f"{self._repo_path}/issues/{number}/labels", {"labels": labels}).data

    def comment(self, number: int, body: str) -> dict:
        return self.request("POST", f"{self._repo_path}/issues/{number}/comments", {"body": body}).data

    def request_reviewers(self, number: int, users: list[str], teams: list[str]) -> dict | None:
        if not users and not teams:
            return None
        return self.request("POST", f"{self._repo_path}/pulls/{number}/requested_reviewers",
                            {"reviewers": users, "team_reviewers": teams}).data


def _message(resp: Response) -> str:
    if isinstance(resp.data, dict):
        msg = str(resp.data.get("message", ""))
        errors = resp.data.get("errors")
        if errors:
            msg += ": " + "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)
        return msg
    return ""


def _pull(resp: Response, what: str) -> dict:
    """A pull request object, or a clear error when the answer is something else (never a TypeError later)."""
    if not isinstance(resp.data, dict) or not isinstance(resp.data.get("number"), int):
        raise GitHubError(f"GitHub {what}: expected a pull request object, found {type(resp.data).__name__} "
                          f"(HTTP {resp.status}); a proxy or redirect may have changed the request", resp.status)
    return resp.data


def _payload(resp: Response) -> dict:
    return resp.data if isinstance(resp.data, dict) else {}


def split_reviewers(reviewers: list[str] | tuple[str, ...], owner: str) -> tuple[list[str], list[str]]:
    """Inventory reviewers -> (users, team slugs). '@org/team' is a team, '@login' a user."""
    users, teams = [], []
    for r in reviewers:
        r = r.lstrip("@")
        if "/" in r:
            teams.append(r.split("/", 1)[1])
        elif r:
            users.append(r)
    return sorted(set(users)), sorted(set(teams))
