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
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_SELECTOR = re.compile(r"([A-Za-z_:][A-Za-z0-9_:]*)\{([^}]*)\}")
_MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*,?')
_BY = re.compile(r"\bby\s*\(([^)]*)\)")
ERROR_TYPES = {400: "bad_data", 422: "execution", 503: "timeout"}


class FakePrometheus:
    def __init__(self):
        self.series: list[dict] = []          # label sets (with __name__)
        self.log: list[tuple[str, int]] = []  # query, status
        self._failures: list[dict] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> "FakePrometheus":
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                fake._dispatch(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._wake.set()
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def reset(self) -> None:
        with self._lock:
            self.series.clear(), self.log.clear(), self._failures.clear()
            self._wake.set()
            self._wake = threading.Event()

    def add(self, metric: str, **labels: str) -> None:
        self.series.append({"__name__": metric, **labels})

    def fail(self, mode: int | str, times: int = 1, seconds: float = 0.0) -> None:
        self._failures.append({"mode": mode, "times": times, "seconds": seconds})

    def _take(self) -> dict | None:
        with self._lock:
            for item in self._failures:
                if item["times"] > 0:
                    item["times"] -= 1
                    return item
        return None

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
        failure = self._take()
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
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        try:
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass


def _matches(value: str, op: str, want: str) -> bool:
    want = want.replace('\\"', '"').replace("\\\\", "\\")
    if op == "=":
        return value == want
    if op == "!=":
        return value != want
    hit = re.fullmatch(want, value) is not None  # PromQL regexes are fully anchored
    return hit if op == "=~" else not hit
