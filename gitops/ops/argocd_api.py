"""A small Argo CD REST client (urllib only): one Application's sync and health, for the status page
and the promotion gates that read the source environment.

Settings (one home, :func:`target_for`): the environment file's ``argocd.server`` (default
``https://argocd.<domain>``, :attr:`gitops.inputs.model.Environment.argocd_server`), overridden by
``ARGOCD_SERVER_<ENV>`` then ``ARGOCD_SERVER``; the token is ``ARGOCD_AUTH_TOKEN_<ENV>``, else
``ARGOCD_AUTH_TOKEN``. ``<ENV>`` is the environment name upper-cased, ``-`` as ``_``: each environment
has its own Argo CD (it runs inside the environment's cluster, charts/argocd.py), so a page that shows
three environments needs three servers, and a token must never be sent to another environment's server.

API contract followed (argoproj/argo-cd, server/application/application.proto and
pkg/apis/application/v1alpha1/types.go; docs/developer-guide/api-docs.md):
- ``GET /api/v1/applications/{name}?project=<project>`` with ``Authorization: Bearer <token>``;
  the answer is the Application object. What we read of ``status``: ``sync.status`` (Synced,
  OutOfSync, Unknown), ``sync.revision`` (the git SHA compared with), ``health.status`` (Healthy,
  Progressing, Degraded, Suspended, Missing, Unknown), ``health.message``,
  ``health.lastTransitionTime`` (set by recent controllers only), ``reconciledAt``,
  ``operationState.{phase,startedAt,finishedAt}`` and the newest ``history[]`` entry
  (``revision``, ``deployedAt``). Timestamps are RFC 3339 strings (metav1.Time), kept as strings.
- ``project`` is passed on purpose: without it Argo CD answers 403 "permission denied" both for an
  application you may not read and for one that does not exist (so as not to leak existence,
  server/application/application.go ``getAppEnforceRBAC``); with it, a missing application is a 404.
- Errors come from grpc-gateway as ``{"error": ..., "code": <grpc code>, "message": ...}``;
  401 when the token is missing, expired or invalid.

Safety: https only (http only for a loopback host, e.g. a port-forward or a test stand-in); the
token goes to the configured origin only: a redirect to another origin (scheme, host or port) is
refused, never followed; every error message is built here and scrubbed of the token.
Failures are typed (:class:`ArgoCDUnreachable`, :class:`ArgoCDAuthError`, :class:`ArgoCDNotFound`,
:class:`ArgoCDServerError`, :class:`ArgoCDBadResponse`, :class:`ArgoCDConfigError`); 5xx, timeouts
and connection errors are retried a bounded number of times with backoff, nothing else is.
"""
from __future__ import annotations

import json
import os
import re
import time
import urllib.parse
from dataclasses import asdict, dataclass
from typing import Callable, Mapping

from ..errors import GitopsError
from . import http_api
from .http_api import MAX_BODY, CrossOriginRedirect, Transport, env_suffix, scrub

SERVER_VAR = "ARGOCD_SERVER"
TOKEN_VAR = "ARGOCD_AUTH_TOKEN"


class ArgoCDError(GitopsError):
    """Base of every Argo CD failure; ``kind`` is a stable word for machines (``--format json``)."""

    kind = "error"

    def __init__(self, message: str, *, status: int | None = None, token: str | None = None):
        super().__init__(scrub(message, token))
        self.status = status


class ArgoCDConfigError(ArgoCDError):
    kind = "not-configured"


class ArgoCDUnreachable(ArgoCDError):
    kind = "unreachable"


class ArgoCDAuthError(ArgoCDError):
    kind = "unauthorized"


class ArgoCDNotFound(ArgoCDError):
    kind = "not-found"


class ArgoCDServerError(ArgoCDError):
    kind = "server-error"


class ArgoCDBadResponse(ArgoCDError):
    kind = "bad-response"


# --------------------------------------------------------------------------- settings

def check_server_url(url: str, where: str) -> str:
    """The Argo CD URL without a trailing slash; ArgoCDConfigError unless https (or http on a loopback host)."""
    return http_api.check_server_url(url, where, example="https://argocd.staging.example.com",
                                     credentials="the token comes from " + TOKEN_VAR, error=ArgoCDConfigError)


@dataclass(frozen=True)
class ArgoCDTarget:
    """Where one environment's Argo CD answers, with which token, and where that came from."""

    env: str
    server: str
    server_from: str            # "ARGOCD_SERVER_STAGING", "environments/staging.yaml argocd.server" or "default"
    token: str | None
    token_from: str | None      # the variable the token came from
    project: str                # AppProject of the component Applications (charts/argocd.py)

    def app_url(self, name: str) -> str:
        """The Application in Argo CD's UI (``/applications/<namespace>/<name>`` since Argo CD 2.5)."""
        return f"{self.server}/applications/argocd/{urllib.parse.quote(name, safe='')}"

    def describe(self) -> str:
        return f"{self.server} (from {self.server_from})"


def target_for(env, environ: Mapping[str, str] | None = None, project: str | None = None) -> ArgoCDTarget:
    """Resolve an environment's Argo CD settings; ArgoCDConfigError for a bad URL (never a silent default).

    ``project``: the component Applications' AppProject when the caller knows it (the status page
    reads it from the committed argocd/<env>/ Applications); else computed as the generator does.
    """
    if project is None:
        from charts.argocd import project_name  # one home for the name; imports cdk8s (boots Node)
        project = project_name(env)
    environ = os.environ if environ is None else environ
    suffix = env_suffix(env.name)
    for var in (f"{SERVER_VAR}_{suffix}", SERVER_VAR):
        if environ.get(var, "").strip():
            server, server_from = check_server_url(environ[var], var), var
            break
    else:
        where = f"{env.source_file or f'environments/{env.name}.yaml'} argocd.server"
        server = check_server_url(env.argocd_server, where)
        server_from = where if env.argocd.server else f"default https://argocd.<domain> of {env.name}"
    token, token_from = None, None
    for var in (f"{TOKEN_VAR}_{suffix}", TOKEN_VAR):
        if environ.get(var, "").strip():
            token, token_from = environ[var].strip(), var
            break
    return ArgoCDTarget(env.name, server, server_from, token, token_from, project)


# --------------------------------------------------------------------------- answers

@dataclass(frozen=True)
class AppStatus:
    """What Argo CD says about one Application (strings as the API returns them; '' when absent)."""

    name: str
    sync: str
    health: str
    health_message: str
    revision: str               # status.sync.revision: the git commit the live state was compared with
    health_since: str           # status.health.lastTransitionTime
    reconciled_at: str          # status.reconciledAt
    operation_phase: str        # status.operationState.phase (Running, Succeeded, Failed, Error, Terminating)
    operation_started_at: str
    operation_finished_at: str
    deployed_revision: str      # newest status.history[] entry
    deployed_at: str

    def as_dict(self) -> dict:
        return asdict(self)


def _field(data: dict, path: str, default=""):
    value: object = data
    for key in path.split("."):
        if value is None:
            return default
        if not isinstance(value, dict):
            raise ValueError(f"{path}: expected an object, found {type(value).__name__}")
        value = value.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ValueError(f"{path}: expected a string, found {type(value).__name__}")
    return value


def parse_application(name: str, data: object) -> AppStatus:
    """An Application object -> AppStatus; ValueError on a shape the API does not produce."""
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object (an Application), found {type(data).__name__}")
    found = _field(data, "metadata.name")
    if found and found != name:
        raise ValueError(f"metadata.name: expected {name!r}, found {found!r}")
    status = data.get("status")
    status = {} if status is None else status
    if not isinstance(status, dict):
        raise ValueError("status: expected an object")
    history = status.get("history")
    history = [] if history is None else history
    if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
        raise ValueError("status.history: expected a list of objects")
    # history is appended in sync order; the highest id is the newest (types.go RevisionHistory.ID)
    newest = max(history, key=lambda h: h.get("id") if isinstance(h.get("id"), int) else -1) if history else {}
    return AppStatus(
        name=name,
        sync=_field(status, "sync.status", "Unknown") or "Unknown",
        health=_field(status, "health.status", "Unknown") or "Unknown",
        health_message=_field(status, "health.message"),
        revision=_field(status, "sync.revision"),
        health_since=_field(status, "health.lastTransitionTime"),
        reconciled_at=_field(status, "reconciledAt"),
        operation_phase=_field(status, "operationState.phase"),
        operation_started_at=_field(status, "operationState.startedAt"),
        operation_finished_at=_field(status, "operationState.finishedAt"),
        deployed_revision=_field(newest, "revision"),
        deployed_at=_field(newest, "deployedAt"),
    )


# --------------------------------------------------------------------------- client

class ArgoCD:
    def __init__(self, target: ArgoCDTarget, *, timeout: float | None = None, retries: int | None = None,
                 backoff: float | None = None, sleep: Callable[[float], None] = time.sleep,
                 environ: Mapping[str, str] | None = None):
        if not target.token:
            raise ArgoCDConfigError(f"no Argo CD token for {target.env}: set {TOKEN_VAR}_{env_suffix(target.env)} "
                                    f"or {TOKEN_VAR} (argocd account generate-token)")
        self.target = target
        self.server = check_server_url(target.server, "Argo CD server")
        self.transport = Transport(self.server, "ARGOCD", timeout=timeout, retries=retries, backoff=backoff,
                                   sleep=sleep, environ=environ)

    @property
    def requests(self) -> int:
        return self.transport.requests

    def _fail(self, cls, message: str, status: int | None = None):
        return cls(message, status=status, token=self.target.token)

    def application(self, name: str) -> AppStatus:
        path = f"/api/v1/applications/{urllib.parse.quote(name, safe='')}"
        url = f"{self.server}{path}?{urllib.parse.urlencode({'project': self.target.project})}"
        what = f"Argo CD of {self.target.env} at {self.target.describe()}: GET {path}"
        headers = {"Authorization": f"Bearer {self.target.token}", "Accept": "application/json"}
        try:
            answer = self.transport.get(url, headers, _message)
        except CrossOriginRedirect as exc:
            raise self._fail(ArgoCDUnreachable, f"{what}: {exc.describe()}; not followed, so the token stays with "
                                                f"{self.server}. Set {SERVER_VAR} to Argo CD's real URL", exc.code)
        if answer.final:
            return self._answer(name, answer.status, answer.raw, what)
        if answer.status is not None:
            raise self._fail(ArgoCDServerError, f"{what} failed after {answer.attempts} attempt(s): {answer.failure}; "
                                                "Argo CD is failing, try again later", answer.status)
        raise self._fail(ArgoCDUnreachable, f"{what}: unreachable after {answer.attempts} attempt(s): {answer.failure}; "
                                            "check the URL, the network path (VPN, port-forward) and that Argo CD is up")

    def _answer(self, name: str, status: int, raw: bytes, what: str) -> AppStatus:
        token_var = self.target.token_from or TOKEN_VAR
        if status == 401:
            raise self._fail(ArgoCDAuthError, f"{what}: 401 {_message(raw)}: the token in {token_var} is missing, "
                                              "expired or not valid for this Argo CD", 401)
        if status == 403:
            raise self._fail(ArgoCDAuthError, f"{what}: 403 {_message(raw)}: the token in {token_var} may not read "
                                              f"applications of project {self.target.project} (RBAC: applications, get)", 403)
        if status == 404:
            raise self._fail(ArgoCDNotFound, f"{what}: 404 unknown application {name!r} in project "
                                             f"{self.target.project}; is it synced by the root application "
                                             f"(argocd/{self.target.env}/)?", 404)
        if status != 200:
            raise self._fail(ArgoCDServerError, f"{what}: unexpected HTTP {status} {_message(raw)}", status)
        if len(raw) > MAX_BODY:
            raise self._fail(ArgoCDBadResponse, f"{what}: answer larger than {MAX_BODY} bytes")
        try:
            return parse_application(name, json.loads(raw))
        except ValueError as exc:  # json.JSONDecodeError is a ValueError too
            raise self._fail(ArgoCDBadResponse, f"{what}: not an Application object ({str(exc)[:200]})") from None


def _message(raw: bytes) -> str:
    """The grpc-gateway error message, shortened; never the raw body."""
    try:
        data = json.loads(raw)
    except ValueError:
        return ""
    if isinstance(data, dict):
        msg = data.get("message") or data.get("error") or ""
        return re.sub(r"\s+", " ", str(msg))[:200]
    return ""
