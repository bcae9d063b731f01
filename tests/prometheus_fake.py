"""A local stand-in for Prometheus' HTTP API endpoint the promotion gates read: ``GET /api/v1/query``.

Answers as documented (https://prometheus.io/docs/prometheus/latest/querying/api/): success is
``{"status": "success", "data": {"resultType": "vector", "result": [{"metric": {...}, "value": [<unix>, "<v>"]}]}}``;
errors are ``{"status": "error", "errorType": ..., "error": ...}`` with 400 (bad_data: no or empty ``query``),
422 (execution) or 503 (timeout). It does not evaluate PromQL: it finds the first selector
``metric{label="v",label=~"re",...}`` of the query and answers the stored series of that metric whose labels
match every matcher (as an instant vector of 1s), so a gate that asks for the wrong labels finds nothing.
The ``by (...)`` labels are kept, the others dropped, as ``max by (...)`` would.

Failure injection (:meth:`FakePrometheus.fail`): an HTTP status for N requests, ``garbage`` (a 200 that
is not JSON), ``slow`` (answers after a delay), ``error`` (a 200 with status "error": a broken proxy).
"""
from __future__ import annotations

import json
import re
import urllib.parse
from http.server import BaseHTTPRequestHandler

from .http_fake import HttpFake

_SELECTOR = re.compile(r"([A-Za-z_:][A-Za-z0-9_:]*)\{([^}]*)\}")
_MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*,?')
_BY = re.compile(r"\bby\s*\(([^)]*)\)")
ERROR_TYPES = {400: "bad_data", 422: "execution", 503: "timeout"}


class FakePrometheus(HttpFake):
    def __init__(self):
        super().__init__()
        self.series: list[dict] = []          # label sets (with __name__)
        self.log: list[tuple[str, int]] = []  # query, status

    def reset(self) -> None:
        with self._lock:
            self.series.clear(), self.log.clear(), self._failures.clear()
            self._wake_sleepers()

    def add(self, metric: str, **labels: str) -> None:
        self.series.append({"__name__": metric, **labels})

    def fail(self, mode: int | str, times: int = 1, seconds: float = 0.0) -> None:
        self._failures.append({"mode": mode, "times": times, "seconds": seconds})

    def answer(self, query: str) -> list[dict]:
        found = _SELECTOR.search(query)
        if not found:
            return []
        name, body = found.groups()
        matchers = _MATCHER.findall(body)
        by = _BY.search(query)
        keep = [x.strip() for x in by.group(1).split(",")] if by else None
        out = []
        for labels in self.series:
            if labels["__name__"] != name or not all(_matches(labels.get(k, ""), op, v) for k, op, v in matchers):
                continue
            metric = {k: v for k, v in labels.items() if k != "__name__" and (keep is None or k in keep)}
            if metric not in [r["metric"] for r in out]:
                out.append({"metric": metric, "value": [1764590400.0, "1"]})
        return out

    def _dispatch(self, h: BaseHTTPRequestHandler) -> None:
        parsed = urllib.parse.urlsplit(h.path)
        query = urllib.parse.parse_qs(parsed.query).get("query", [""])[0]
        failure = self._next_failure()
        if failure and failure["mode"] == "slow":
            self._wake.wait(failure["seconds"])
            failure = None
        if failure and failure["mode"] == "garbage":
            return self._send(h, 200, b"<html>gateway</html>", query)
        if failure and failure["mode"] == "error":
            return self._send(h, 200, json.dumps({"status": "error", "errorType": "internal", "error": "proxy"}).encode(), query)
        if failure:
            status = int(failure["mode"])
            body = {"status": "error", "errorType": ERROR_TYPES.get(status, "internal"), "error": f"injected {status}"}
            return self._send(h, status, json.dumps(body).encode(), query)
        if parsed.path != "/api/v1/query":
            return self._send(h, 404, b"404 page not found", query)
        if not query:
            body = {"status": "error", "errorType": "bad_data", "error": 'invalid parameter "query": 1:1: parse error: no expression found in input'}
            return self._send(h, 400, json.dumps(body).encode(), query)
        body = {"status": "success", "data": {"resultType": "vector", "result": self.answer(query)}}
        self._send(h, 200, json.dumps(body).encode(), query)

    def _send(self, h, status: int, data: bytes, query: str) -> None:
        self.log.append((query, status))
        self._write(h, status, data)


def _matches(value: str, op: str, want: str) -> bool:
    want = want.replace('\\"', '"').replace("\\\\", "\\")
    if op == "=":
        return value == want
    if op == "!=":
        return value != want
    hit = re.fullmatch(want, value) is not None  # PromQL regexes are fully anchored
    return hit if op == "=~" else not hit
