"""A small Prometheus HTTP API client (urllib only): instant queries for the promotion gates.

Settings (one home, :func:`prometheus_target`): the environment file's ``prometheus.server``
(default ``https://prometheus.<domain>``, :attr:`gitops.inputs.model.Environment.prometheus_server`),
overridden by ``PROMETHEUS_URL_<ENV>`` then ``PROMETHEUS_URL``; https only, http for a loopback host
(a ``kubectl port-forward`` or a test stand-in), the same rule and checker as the Argo CD client.

API contract followed (https://prometheus.io/docs/prometheus/latest/querying/api/, "Format overview"
and "Instant queries"): ``GET /api/v1/query?query=<PromQL>`` answers
``{"status": "success", "data": {"resultType": "vector", "result": [{"metric": {...}, "value": [<unix>, "<v>"]}]}}``;
on error ``{"status": "error", "errorType": "bad_data", "error": "..."}`` with HTTP 400 (bad parameters),
422 (the expression cannot be executed) or 503 (timed out or aborted); 2xx otherwise.

Failures are typed like the Argo CD client's (same ``kind`` words for ``--format json``); 5xx, timeouts
and connection errors are retried a bounded number of times with backoff, nothing else is; a redirect
to another origin is refused (a proxy in front of Prometheus may hold credentials in a cookie or header).
"""
from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Callable, Mapping

from ..errors import GitopsError
from .http_api import MAX_BODY, CrossOriginRedirect, Transport, check_server_url, env_suffix

URL_VAR = "PROMETHEUS_URL"


class PrometheusError(GitopsError):
    kind = "error"

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


class PrometheusConfigError(PrometheusError):
    kind = "not-configured"


class PrometheusUnreachable(PrometheusError):
    kind = "unreachable"


class PrometheusAuthError(PrometheusError):
    kind = "unauthorized"


class PrometheusServerError(PrometheusError):
    kind = "server-error"


class PrometheusBadResponse(PrometheusError):
    kind = "bad-response"


class PrometheusQueryError(PrometheusError):
    kind = "query-error"


@dataclass(frozen=True)
class PrometheusTarget:
    env: str
    server: str
    server_from: str

    def describe(self) -> str:
        return f"{self.server} (from {self.server_from})"

    def graph_url(self, query: str) -> str:
        """The query in Prometheus' own UI, for a reviewer to re-run it."""
        return f"{self.server}/graph?{urllib.parse.urlencode({'g0.expr': query, 'g0.tab': '1'})}"


def prometheus_target(env, environ: Mapping[str, str] | None = None) -> PrometheusTarget:
    environ = os.environ if environ is None else environ
    kwargs = dict(example="https://prometheus.staging.example.com",
                  credentials="put an authenticating proxy's port-forward on 127.0.0.1 instead",
                  error=PrometheusConfigError)
    for var in (f"{URL_VAR}_{env_suffix(env.name)}", URL_VAR):
        if environ.get(var, "").strip():
            return PrometheusTarget(env.name, check_server_url(environ[var], var, **kwargs), var)
    where = f"{env.source_file or f'environments/{env.name}.yaml'} prometheus.server"
    server_from = where if env.prometheus else f"default https://prometheus.<domain> of {env.name}"
    return PrometheusTarget(env.name, check_server_url(env.prometheus_server, where, **kwargs), server_from)


@dataclass(frozen=True)
class Sample:
    metric: dict
    value: float


class Prometheus:
    def __init__(self, target: PrometheusTarget, *, timeout: float | None = None, retries: int | None = None,
                 backoff: float | None = None, sleep: Callable[[float], None] = time.sleep,
                 environ: Mapping[str, str] | None = None):
        self.target = target
        self.transport = Transport(target.server, "PROMETHEUS", timeout=timeout, retries=retries, backoff=backoff,
                                   sleep=sleep, environ=environ)

    @property
    def requests(self) -> int:
        return self.transport.requests

    def query(self, promql: str) -> list[Sample]:
        """An instant query whose answer must be a vector (what every gate query returns)."""
        url = f"{self.target.server}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"
        what = f"Prometheus of {self.target.env} at {self.target.describe()}: GET /api/v1/query?query={promql}"
        try:
            answer = self.transport.get(url, {"Accept": "application/json"}, _error_text)
        except CrossOriginRedirect as exc:
            raise PrometheusUnreachable(f"{what}: {exc.describe()}, not followed (a login page?). Set {URL_VAR} "
                                        "to the Prometheus API itself (e.g. a port-forward on 127.0.0.1)", status=exc.code)
        if answer.final:
            return self._answer(answer.status, answer.raw, what)
        if answer.status is not None:
            raise PrometheusServerError(f"{what} failed after {answer.attempts} attempt(s): {answer.failure}; Prometheus "
                                        "is failing or the query timed out there, try again later", status=answer.status)
        raise PrometheusUnreachable(f"{what}: unreachable after {answer.attempts} attempt(s): {answer.failure}; check the "
                                    f"URL ({URL_VAR} or prometheus.server), the network path (VPN, port-forward) and "
                                    "that Prometheus is up")

    def _answer(self, status: int, raw: bytes, what: str) -> list[Sample]:
        if status in (401, 403):
            raise PrometheusAuthError(f"{what}: {status} {_error_text(raw)}: a proxy in front of Prometheus refused "
                                      f"the request; use a URL this job may read (e.g. a port-forward, {URL_VAR})", status=status)
        if status == 404:
            raise PrometheusBadResponse(f"{what}: 404: no Prometheus HTTP API at this URL (is it the Prometheus "
                                        "server, with its route prefix?)", status=404)
        if status in (400, 422):
            raise PrometheusQueryError(f"{what}: {status} {_error_text(raw)}: Prometheus rejected the query "
                                       "(a gitops bug or an incompatible Prometheus version)", status=status)
        if status != 200:
            raise PrometheusServerError(f"{what}: unexpected HTTP {status} {_error_text(raw)}", status=status)
        if len(raw) > MAX_BODY:
            raise PrometheusBadResponse(f"{what}: answer larger than {MAX_BODY} bytes")
        try:
            return parse_vector(json.loads(raw))
        except ValueError as exc:
            raise PrometheusBadResponse(f"{what}: not a Prometheus API answer ({str(exc)[:200]})") from None


def parse_vector(data: object) -> list[Sample]:
    """A query answer -> its samples; ValueError for a shape the documented API does not produce."""
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, found {type(data).__name__}")
    if data.get("status") != "success":
        raise ValueError(f"status: expected 'success', found {data.get('status')!r} "
                         f"({data.get('errorType', '')}: {data.get('error', '')})")
    body = data.get("data")
    if not isinstance(body, dict) or body.get("resultType") != "vector" or not isinstance(body.get("result"), list):
        raise ValueError("data: expected {resultType: vector, result: [...]}")
    out = []
    for item in body["result"]:
        if not isinstance(item, dict) or not isinstance(item.get("metric"), dict):
            raise ValueError("data.result[]: expected objects with a metric")
        value = item.get("value")
        if not (isinstance(value, list) and len(value) == 2 and isinstance(value[1], str)):
            raise ValueError("data.result[].value: expected [<unix time>, \"<number>\"]")
        out.append(Sample({str(k): str(v) for k, v in item["metric"].items()}, float(value[1])))
    return out


def _error_text(raw: bytes) -> str:
    try:
        data = json.loads(raw)
    except ValueError:
        return ""
    if isinstance(data, dict):
        return " ".join(str(data.get(k, "")) for k in ("errorType", "error")).strip()[:200]
    return ""
