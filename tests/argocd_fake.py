"""A local stand-in for the Argo CD API endpoint the status page and the promotion gates read.

Follows Argo CD's contract (argoproj/argo-cd server/application/application.proto,
pkg/apis/application/v1alpha1/types.go, server/application/application.go):
- ``GET /api/v1/applications/{name}[?project=P]`` -> 200 with the Application object
  (``metadata``, ``spec``, ``status.sync``, ``status.health``, ``status.history``,
  ``status.reconciledAt``, ``status.operationState``);
- 401 ``{"error": "invalid session: ...", "code": 16}`` without ``Authorization: Bearer <valid token>``;
- unknown application: 404 ``applications.argoproj.io "x" not found`` (code 5) when ``project`` is
  given, else 403 ``permission denied`` (code 7), as the real server does not to leak existence;
  an application of another project asked with ``project``: 404 too.

Failure injection (:meth:`FakeArgoCD.fail`): a status for N requests, ``garbage`` (a 200 that is
not JSON), ``slow`` (answers after a delay), ``redirect`` (a 302 to another origin).
"""
from __future__ import annotations

import json
import urllib.parse
from http.server import BaseHTTPRequestHandler

from .http_fake import HttpFake

GRPC_CODES = {401: 16, 403: 7, 404: 5, 500: 13, 502: 14, 503: 14, 504: 4}


def application(name: str, *, project: str, sync: str = "Synced", health: str = "Healthy",
                revision: str = "0123456789abcdef0123456789abcdef01234567",
                deployed_at: str = "2026-11-30T10:00:00Z", message: str = "", deployed_revision: str | None = None,
                health_since: str | None = None, operation_phase: str = "Succeeded") -> dict:
    """An Application object shaped like `GET /api/v1/applications/{name}` answers.

    ``deployed_revision``: the newest status.history[] entry's revision (default ``revision``: the last
    sync deployed what is compared); ``health_since``: status.health.lastTransitionTime (default
    ``deployed_at``, "" leaves it out as Argo CD versions before it existed do).
    """
    deployed_revision = revision if deployed_revision is None else deployed_revision
    health_since = deployed_at if health_since is None else health_since
    return {
        "metadata": {"name": name, "namespace": "argocd", "uid": f"uid-{name}", "resourceVersion": "1"},
        "spec": {"project": project, "destination": {"server": "https://kubernetes.default.svc"},
                 "source": {"repoURL": "https://github.com/meetinity/gitops.git", "path": f"dist/x/{name}",
                            "targetRevision": "main"}},
        "status": {
            "sync": {"status": sync, "revision": revision,
                     "comparedTo": {"source": {"repoURL": "https://github.com/meetinity/gitops.git"}}},
            "health": {"status": health, **({"message": message} if message else {}),
                       **({"lastTransitionTime": health_since} if health_since else {})},
            "history": [{"id": 1, "revision": "fedcba9876543210fedcba9876543210fedcba98",
                         "deployedAt": "2026-11-29T09:00:00Z", "deployStartedAt": "2026-11-29T08:59:00Z"},
                        {"id": 2, "revision": deployed_revision, "deployedAt": deployed_at,
                         "deployStartedAt": deployed_at}],
            "reconciledAt": deployed_at,
            "operationState": {"phase": operation_phase, "startedAt": deployed_at,
                               **({"finishedAt": deployed_at} if operation_phase != "Running" else {}),
                               "operation": {"sync": {"revision": deployed_revision}}},
            "sourceType": "Directory",
        },
    }


class FakeArgoCD(HttpFake):
    def __init__(self, token: str = "argocd-test-token"):
        super().__init__()
        self.token = token
        self.apps: dict[str, dict] = {}
        self.log: list[tuple[str, str, int, str]] = []   # method, path+query, status, Authorization header

    def reset(self) -> None:
        with self._lock:
            self.apps.clear(), self.log.clear(), self._failures.clear()
            self._wake_sleepers()

    def add(self, name: str, project: str, **status) -> dict:
        self.apps[name] = application(name, project=project, **status)
        return self.apps[name]

    def fail(self, mode: int | str, times: int = 1, seconds: float = 0.0, location: str = "") -> None:
        """Next ``times`` requests: an HTTP status, 'garbage', 'slow' (``seconds``) or 'redirect' (``location``)."""
        self._failures.append({"mode": mode, "times": times, "seconds": seconds, "location": location})

    def _dispatch(self, h: BaseHTTPRequestHandler) -> None:
        parsed = urllib.parse.urlsplit(h.path)
        query = urllib.parse.parse_qs(parsed.query)
        auth = h.headers.get("Authorization", "")
        failure = self._next_failure()
        if failure and failure["mode"] == "slow":
            self._wake.wait(failure["seconds"])
            failure = None
        if failure and failure["mode"] == "redirect":
            return self._send(h, 302, b"", auth, {"Location": failure["location"]})
        if failure and failure["mode"] == "garbage":
            return self._send(h, 200, b"<html>502 Bad Gateway (proxy)</html>", auth)
        if failure:
            status = int(failure["mode"])
            return self._error(h, status, "Internal error" if status >= 500 else "injected", auth)
        if auth != f"Bearer {self.token}":
            return self._error(h, 401, "invalid session: token signature is invalid", auth)
        prefix = "/api/v1/applications/"
        if h.command != "GET" or not parsed.path.startswith(prefix):
            return self._error(h, 404, "Not Found", auth)
        name = urllib.parse.unquote(parsed.path[len(prefix):])
        project = query.get("project", [""])[0]
        app = self.apps.get(name)
        if app is None or (project and app["spec"]["project"] != project):
            if project:
                return self._error(h, 404, f'applications.argoproj.io "{name}" not found', auth)
            return self._error(h, 403, "permission denied", auth)
        self._send(h, 200, json.dumps(app).encode(), auth)

    def _error(self, h, status: int, message: str, auth: str) -> None:
        body = {"error": message, "code": GRPC_CODES.get(status, 2), "message": message, "details": []}
        self._send(h, status, json.dumps(body).encode(), auth)

    def _send(self, h, status: int, data: bytes, auth: str, headers: dict | None = None) -> None:
        self.log.append((h.command, h.path, status, auth))
        self._write(h, status, data, headers)
