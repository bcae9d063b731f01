"""A local stand-in for the GitHub REST API endpoints promotion uses (server scaffolding: tests/http_fake.py).

Follows the documented contract (docs.github.com/rest/pulls, /rest/issues):
- ``GET /repos/{o}/{r}/pulls`` with ``state`` (open|closed|all), ``head`` (``owner:branch``),
  ``base``, ``per_page`` (default 30, max 100), ``page``; ``Link`` header with rel="next"/"last";
- ``POST /repos/{o}/{r}/pulls`` -> 201; 422 "Validation Failed" with
  "A pull request already exists for owner:branch." for a duplicate open head/base,
  422 when the head branch does not exist in the (real, bare) remote repository;
- ``GET``/``PATCH /repos/{o}/{r}/pulls/{n}`` (title, body, state, base);
- ``POST /repos/{o}/{r}/issues/{n}/labels`` -> 200 with the issue's labels;
- ``POST /repos/{o}/{r}/issues/{n}/comments`` -> 201;
- ``POST /repos/{o}/{r}/pulls/{n}/requested_reviewers`` -> 201 with the pull request;
- 401 "Bad credentials" without ``Authorization: Bearer|token <valid token>``; 404 otherwise.

Failure injection: :meth:`FakeGitHub.fail` (N responses with a status, optionally after
performing the operation, as when a response is lost), :meth:`FakeGitHub.delay`, and
:meth:`FakeGitHub.answer` (N canned responses, e.g. a redirect or a crafted ``Link`` header).
"""
from __future__ import annotations

import json
import re
import subprocess
import urllib.parse
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from .http_fake import HttpFake


class FakeGitHub(HttpFake):
    content_type = "application/json; charset=utf-8"

    def __init__(self, owner: str = "meetinity", repo: str = "gitops", token: str = "test-token",
                 git_dir: Path | None = None):
        super().__init__()
        self.owner, self.repo, self.token = owner, repo, token
        self.git_dir = git_dir  # bare remote: PR heads must exist there, as on GitHub
        self.pulls: dict[int, dict] = {}
        self.comments: dict[int, list[dict]] = {}
        self.labels: dict[int, list[str]] = {}
        self.requested: dict[int, dict] = {}
        self.log: list[tuple[str, str, int]] = []
        self._delays: list[dict] = []
        self._answers: list[dict] = []
        self._next = 1
        self._generation = 0                 # bumped by reset(): late answers of a previous test are dropped

    # ------------------------------------------------------------------ lifecycle (start/stop/url: HttpFake)
    def reset(self) -> None:
        with self._lock:
            self._generation += 1
            self._wake_sleepers()
            self.pulls.clear(), self.comments.clear(), self.labels.clear(), self.requested.clear()
            self.log.clear(), self._failures.clear(), self._delays.clear(), self._answers.clear()
            self._next = 1

    # ------------------------------------------------------------------ injection
    def fail(self, status: int = 502, times: int = 1, method: str | None = None, path: str | None = None,
             after_effect: bool = False) -> None:
        """The next ``times`` matching requests answer ``status`` (after doing the work if ``after_effect``)."""
        self._failures.append({"status": status, "times": times, "method": method, "path": path, "after": after_effect})

    def answer(self, status: int, payload=None, headers: dict | None = None, times: int = 1, method: str | None = None,
               path: str | None = None, merge_headers: bool = False) -> None:
        """The next ``times`` matching requests get this response (``merge_headers``: the real answer plus ``headers``)."""
        self._answers.append({"status": status, "payload": payload, "headers": headers or {}, "times": times,
                              "method": method, "path": path, "merge": merge_headers})

    def delay(self, seconds: float, times: int = 1, method: str | None = None, path: str | None = None) -> None:
        self._delays.append({"seconds": seconds, "times": times, "method": method, "path": path})

    def _take(self, queue: list[dict], method: str, path: str) -> dict | None:
        with self._lock:
            for item in queue:
                if item["times"] > 0 and (item["method"] in (None, method)) and (item["path"] is None or re.search(item["path"], path)):
                    item["times"] -= 1
                    return item
        return None

    # ------------------------------------------------------------------ helpers for tests
    def open_pulls(self) -> list[dict]:
        return [p for p in self.pulls.values() if p["state"] == "open"]

    def merge(self, number: int) -> None:
        pr = self.pulls[number]
        pr.update(state="closed", merged=True)

    def calls(self, method: str, pattern: str) -> int:
        return sum(1 for m, p, _ in self.log if m == method and re.search(pattern, p))

    def _branch_sha(self, branch: str) -> str | None:
        if self.git_dir is None:
            return "0" * 40
        proc = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"], cwd=self.git_dir,
                              capture_output=True, text=True)
        return proc.stdout.strip() if proc.returncode == 0 else None

    # ------------------------------------------------------------------ HTTP
    def _dispatch(self, h: BaseHTTPRequestHandler) -> None:
        parsed = urllib.parse.urlsplit(h.path)
        path, query = parsed.path, urllib.parse.parse_qs(parsed.query)
        method = h.command
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        generation = self._generation
        delay = self._take(self._delays, method, path)
        if delay:
            self._wake.wait(delay["seconds"])
            if generation != self._generation:
                return  # reset meanwhile: the client gave up long ago
        auth = h.headers.get("Authorization", "")
        if auth not in (f"Bearer {self.token}", f"token {self.token}"):
            return self._send(h, method, path, 401, {"message": "Bad credentials",
                                                     "documentation_url": "https://docs.github.com/rest"})
        canned = self._take(self._answers, method, path)
        if canned and not canned["merge"]:
            return self._send(h, method, path, canned["status"], canned["payload"], canned["headers"])
        failure = self._take(self._failures, method, path)
        if failure and not failure["after"]:
            return self._send(h, method, path, failure["status"], {"message": "Server Error"})
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            return self._send(h, method, path, 400, {"message": "Problems parsing JSON"})
        with self._lock:
            status, payload, headers = self._route(method, path, query, body)
        if failure:  # the work is done, but the answer is lost
            return self._send(h, method, path, failure["status"], {"message": "Server Error"})
        if canned:
            headers = {**(headers or {}), **canned["headers"]}
        self._send(h, method, path, status, payload, headers)

    def _send(self, h, method, path, status, payload, headers=None):
        self.log.append((method, path, status))
        data = json.dumps(payload).encode()
        self._write(h, status, data, headers)

    def _route(self, method, path, query, body):
        base = f"/repos/{self.owner}/{self.repo}"
        if not path.startswith(base + "/"):
            return 404, {"message": "Not Found"}, None
        rest = path[len(base):]
        if rest == "/pulls" and method == "GET":
            return self._list(query, base)
        if rest == "/pulls" and method == "POST":
            return self._create(body)
        m = re.fullmatch(r"/pulls/(\d+)", rest)
        if m and int(m.group(1)) in self.pulls:
            pr = self.pulls[int(m.group(1))]
            if method == "GET":
                return 200, pr, None
            if method == "PATCH":
                for key in ("title", "body", "base"):
                    if key in body:
                        pr[key] = body[key] if key != "base" else {"ref": body[key]}
                if body.get("state") in ("open", "closed"):
                    pr["state"] = body["state"]
                return 200, pr, None
        m = re.fullmatch(r"/pulls/(\d+)/requested_reviewers", rest)
        if m and method == "POST" and int(m.group(1)) in self.pulls:
            n = int(m.group(1))
            req = self.requested.setdefault(n, {"reviewers": [], "team_reviewers": []})
            for key in ("reviewers", "team_reviewers"):
                for who in body.get(key, []):
                    if who not in req[key]:
                        req[key].append(who)
            self.pulls[n]["requested_reviewers"] = [{"login": u} for u in req["reviewers"]]
            self.pulls[n]["requested_teams"] = [{"slug": t} for t in req["team_reviewers"]]
            return 201, self.pulls[n], None
        m = re.fullmatch(r"/issues/(\d+)/labels", rest)
        if m and method == "POST" and int(m.group(1)) in self.pulls:
            n = int(m.group(1))
            labels = self.labels.setdefault(n, [])
            for label in body.get("labels", []):
                if label not in labels:
                    labels.append(label)
            self.pulls[n]["labels"] = [{"name": x} for x in labels]
            return 200, [{"name": x} for x in labels], None
        m = re.fullmatch(r"/issues/(\d+)/comments", rest)
        if m and method == "POST" and int(m.group(1)) in self.pulls:
            n = int(m.group(1))
            comment = {"id": len(self.comments.get(n, [])) + 1, "body": body.get("body", "")}
            self.comments.setdefault(n, []).append(comment)
            return 201, comment, None
        return 404, {"message": "Not Found"}, None

    def _list(self, query, base):
        state = query.get("state", ["open"])[0]
        per_page = max(1, min(100, int(query.get("per_page", ["30"])[0])))
        page = max(1, int(query.get("page", ["1"])[0]))
        items = sorted(self.pulls.values(), key=lambda p: -p["number"])
        if state != "all":
            items = [p for p in items if p["state"] == state]
        if "head" in query:
            owner, _, ref = query["head"][0].partition(":")
            items = [p for p in items if p["head"]["ref"] == ref and owner == self.owner]
        if "base" in query:
            items = [p for p in items if p["base"]["ref"] == query["base"][0]]
        pages = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page: page * per_page]
        links = []
        params = {k: v[0] for k, v in query.items()}

        def link(n, rel):
            return f'<{self.url}{base}/pulls?{urllib.parse.urlencode({**params, "page": n, "per_page": per_page})}>; rel="{rel}"'
        if page < pages:
            links += [link(page + 1, "next"), link(pages, "last")]
        if page > 1:
            links += [link(1, "first"), link(page - 1, "prev")]
        return 200, chunk, ({"Link": ", ".join(links)} if links else None)

    def _create(self, body):
        missing = [k for k in ("head", "base") if not body.get(k)]
        if missing or not body.get("title"):
            return 422, {"message": "Validation Failed", "errors": [{"resource": "PullRequest", "field": (missing or ["title"])[0], "code": "missing_field"}]}, None
        head = body["head"].split(":", 1)[-1]
        sha = self._branch_sha(head)
        if sha is None:
            return 422, {"message": "Validation Failed", "errors": [{"resource": "PullRequest", "field": "head", "code": "invalid"}]}, None
        for pr in self.pulls.values():
            if pr["state"] == "open" and pr["head"]["ref"] == head and pr["base"]["ref"] == body["base"]:
                return 422, {"message": "Validation Failed", "errors": [{"resource": "PullRequest", "code": "custom",
                             "message": f"A pull request already exists for {self.owner}:{head}."}],
                             "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request"}, None
        n = self._next
        self._next += 1
        pr = {"number": n, "state": "open", "merged": False, "title": body["title"], "body": body.get("body", ""),
              "html_url": f"{self.url}/{self.owner}/{self.repo}/pull/{n}",
              "url": f"{self.url}/repos/{self.owner}/{self.repo}/pulls/{n}",
              "head": {"ref": head, "label": f"{self.owner}:{head}", "sha": sha},
              "base": {"ref": body["base"]}, "labels": [], "requested_reviewers": [], "requested_teams": []}
        self.pulls[n] = pr
        return 201, pr, None
