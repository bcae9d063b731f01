"""What every local API stand-in shares: an HTTP server on 127.0.0.1 in a daemon thread, every
method routed to one ``_dispatch(handler)``, JSON answers written whole, and a wake-up event
that ``reset()`` sets so handlers sleeping in a "slow" injection stop at once.

Subclasses (``github_fake.FakeGitHub``, ``argocd_fake.FakeArgoCD``, ``prometheus_fake.FakePrometheus``)
hold the API's contract: routes, state, what a failure injection means, and the request log.
"""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class HttpFake:
    content_type = "application/json"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._failures: list[dict] = []   # injected failures, each {"times": N, ...}: see _next_failure
        self.server: ThreadingHTTPServer | None = None

    def start(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def _handle(self):
                fake._dispatch(self)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

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

    def _wake_sleepers(self) -> None:
        """Release the handlers waiting in a delay; the next delays wait on a fresh event. Hold ``_lock``."""
        self._wake.set()
        self._wake = threading.Event()

    def _next_failure(self) -> dict | None:
        """The first injected failure with requests left, counted down by one (None: answer normally)."""
        with self._lock:
            for item in self._failures:
                if item["times"] > 0:
                    item["times"] -= 1
                    return item
        return None

    def _dispatch(self, h: BaseHTTPRequestHandler) -> None:
        raise NotImplementedError

    def _write(self, h: BaseHTTPRequestHandler, status: int, data: bytes, headers: dict | None = None) -> None:
        h.send_response(status)
        h.send_header("Content-Type", self.content_type)
        h.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        try:
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
            pass
