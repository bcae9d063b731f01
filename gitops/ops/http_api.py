"""What every read-only HTTP API client of an environment shares (Argo CD: ops/argocd_api.py,
Prometheus: ops/prometheus_api.py): URL rules, the origin the credentials stay with, bounded
retries with back-off, and the transport failures put into words.

- https only, http for a loopback host (a port-forward); no credentials, query or fragment in the URL;
- redirects are followed only within the configured origin, so a token never reaches another host
  (``urllib``'s default handler would resend the ``Authorization`` header after a cross-origin 302);
- 500/502/503/504, timeouts and refused connections are retried ``retries`` times with exponential
  back-off (capped at 10 s); any other answer is final and returned to the client to explain.
"""
from __future__ import annotations

import ipaddress
import os
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Callable, Mapping

from ..errors import GitopsError

RETRY_STATUSES = (500, 502, 503, 504)
MAX_BODY = 8 * 1024 * 1024  # an Argo CD Application with a large resource tree is a few MB at most
MAX_BACKOFF = 10.0


def scrub(text: str, token: str | None) -> str:
    return text.replace(token, "***") if token and len(token) >= 4 else text


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_server_url(url: str, where: str, *, example: str, credentials: str, error: type[GitopsError]) -> str:
    """The URL without a trailing slash; ``error`` unless https (or http on a loopback host)."""
    parsed = urllib.parse.urlsplit(url.strip())
    problem = None
    if parsed.scheme not in ("https", "http") or not parsed.hostname:
        problem = f"expected a URL such as {example}"
    elif parsed.scheme == "http" and not _is_loopback(parsed.hostname):
        problem = "http:// is accepted for a loopback host only (127.0.0.1, ::1, localhost); use https://"
    elif parsed.username or parsed.password:
        problem = "credentials do not belong in the URL; " + credentials
    elif parsed.query or parsed.fragment:
        problem = "expected no query or fragment"
    if problem:
        raise error(f"{where}: {problem}, found {url!r}")
    return urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, parsed.path.rstrip("/"), "", ""))


def origin(url: str) -> tuple[str, str, int]:
    parsed = urllib.parse.urlsplit(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return parsed.scheme, (parsed.hostname or "").lower(), port


def env_suffix(env: str) -> str:
    """``staging`` -> ``STAGING``: the suffix of per-environment variables (ARGOCD_AUTH_TOKEN_STAGING)."""
    return re.sub(r"[^A-Za-z0-9]", "_", env).upper()


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only within the configured origin (the token must not leave it)."""

    def __init__(self, allowed: tuple[str, str, int]):
        self.allowed = allowed

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if origin(newurl) != self.allowed:
            raise CrossOriginRedirect(code, newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class CrossOriginRedirect(Exception):
    def __init__(self, code: int, location: str):
        super().__init__(code, location)
        self.code, self.location = code, location

    def describe(self) -> str:
        scheme, host, port = origin(self.location)
        return f"answered {self.code}, a redirect to another origin ({scheme}://{host}:{port})"


class Transport:
    """GET with bounded retries against one origin. ``settings`` names the environment variables that
    tune it (``GITOPS_<SETTINGS>_TIMEOUT``/``_RETRIES``/``_BACKOFF``)."""

    def __init__(self, server: str, settings: str, *, timeout: float | None = None, retries: int | None = None,
                 backoff: float | None = None, sleep: Callable[[float], None] = time.sleep,
                 environ: Mapping[str, str] | None = None):
        env = os.environ if environ is None else environ
        self.timeout = timeout if timeout is not None else float(env.get(f"GITOPS_{settings}_TIMEOUT", "10"))
        self.retries = retries if retries is not None else int(env.get(f"GITOPS_{settings}_RETRIES", "3"))
        self.backoff = backoff if backoff is not None else float(env.get(f"GITOPS_{settings}_BACKOFF", "0.5"))
        self.sleep = sleep
        self.requests = 0
        self._opener = urllib.request.build_opener(_SameOriginRedirects(origin(server)))

    def get(self, url: str, headers: dict[str, str], error_text: Callable[[bytes], str]) -> "Answer":
        """The first final answer, or the last failure after ``retries`` attempts.
        Raises CrossOriginRedirect (the caller explains it in its own words)."""
        attempts, last = max(1, self.retries), Answer(None, b"", "", 0)
        for attempt in range(attempts):
            if attempt:
                self.sleep(min(self.backoff * (2 ** (attempt - 1)), MAX_BACKOFF))
            status, raw = self._once(url, headers)
            if status is None:
                last = Answer(None, b"", raw.decode(), attempts)
                continue
            if status in RETRY_STATUSES:
                last = Answer(status, raw, f"HTTP {status} {error_text(raw)}".strip(), attempts)
                continue
            return Answer(status, raw, "", attempt + 1)
        return last

    def _once(self, url: str, headers: dict[str, str]) -> tuple[int | None, bytes]:
        req = urllib.request.Request(url, headers={**headers, "User-Agent": "meetinity-gitops"})
        self.requests += 1
        try:
            with self._opener.open(req, timeout=self.timeout) as resp:
                return resp.status, resp.read(MAX_BODY + 1)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(MAX_BODY + 1) if exc.fp else b""
        except (socket.timeout, TimeoutError):
            return None, f"timed out after {self.timeout:g}s".encode()
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, (socket.timeout, TimeoutError)):
                return None, f"timed out after {self.timeout:g}s".encode()
            return None, f"connection failed ({exc.reason})".encode()
        except (ConnectionError, OSError) as exc:
            return None, f"connection failed ({exc})".encode()


class Answer:
    """A final HTTP answer (``failure`` empty), or why none came: ``status`` set for a server that kept
    failing (5xx), None for one that never answered (timeout, refused)."""

    def __init__(self, status: int | None, raw: bytes, failure: str, attempts: int):
        self.status, self.raw, self.failure, self.attempts = status, raw, failure, attempts

    @property
    def final(self) -> bool:
        return not self.failure
