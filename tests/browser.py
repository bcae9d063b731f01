"""Headless Chromium driven over the DevTools protocol through ``--remote-debugging-pipe``.

No driver library: Chromium reads NUL-terminated JSON commands on fd 3 and writes answers and
events on fd 4 (chromium.googlesource.com, content/browser/devtools/devtools_pipe_handler.cc);
the protocol (chromedevtools.github.io/devtools-protocol) is the one Puppeteer and Playwright speak.
A protocol connection is what lets a test *measure* console errors (Runtime.consoleAPICalled,
Runtime.exceptionThrown, Log.entryAdded) and network requests (Network.requestWillBeSent),
which ``--dump-dom``/``--screenshot`` cannot.

Chromium is Debian's ``chromium`` package (``apt-get install chromium``; .ci/run installs it).
:func:`find_chromium` returns None when it is missing; tests skip with a reason naming chromium,
or fail under ``CI=true`` (a CI run without the browser must not pass silently).
"""
from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def find_chromium() -> str | None:
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _high(fd: int) -> int:
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


class BrowserError(RuntimeError):
    pass


class Browser:
    def __init__(self, binary: str, timeout: float = 15.0):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="gitops-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # move the child's ends above 3 and 4 first: `3<&4 4>&3` would otherwise clobber one with the other
        to_browser_r, from_browser_w = (_high(fd) for fd in (to_browser_r, from_browser_w))
        args = [binary, "--headless=new", "--remote-debugging-pipe", f"--user-data-dir={self.profile}",
                "--no-first-run", "--no-default-browser-check", "--disable-gpu", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-default-apps", "--mute-audio", "--hide-scrollbars", "--no-sandbox",
                "--disable-dev-shm-usage", "about:blank"]
        # bash (dash only knows fds 0-9) puts the two pipe ends on fds 3 and 4, where --remote-debugging-pipe expects them
        script = f'exec "$0" "$@" 3<&{to_browser_r} 4>&{from_browser_w}'
        self.proc = subprocess.Popen(["bash", "-c", script, *args], pass_fds=(to_browser_r, from_browser_w),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next = 0
        self.events: list[dict] = []

    # ------------------------------------------------------------------ protocol
    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._next += 1
        message = {"id": self._next, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError(f"no answer from chromium within {self.timeout:g}s")
            ready, _, _ = select.select([self._from_browser], [], [], left)
            if ready:
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    err = self.proc.stderr.read().decode("utf-8", "replace")[-2000:] if self.proc.stderr else ""
                    raise BrowserError(f"chromium closed the pipe: {err}")
                self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(raw)

    def wait_event(self, method: str, session: str, seen: int = 0) -> dict:
        deadline = time.monotonic() + self.timeout
        while True:
            for event in self.events[seen:]:
                if event.get("method") == method and event.get("sessionId") == session:
                    return event
            seen = len(self.events)
            self.events.append(self._read(deadline))

    # ------------------------------------------------------------------ pages
    def open(self, url: str, width: int, height: int = 900, mobile: bool = False) -> "Page":
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", {}, session)
        self.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1,
                                                         "mobile": mobile}, session)
        mark = len(self.events)
        self.send("Page.navigate", {"url": url}, session)
        self.wait_event("Page.loadEventFired", session, mark)
        return Page(self, session, url)

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except Exception:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_browser, self._from_browser):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)


class Page:
    def __init__(self, browser: Browser, session: str, url: str):
        self.browser, self.session, self.url = browser, session, url

    def _events(self, method: str) -> list[dict]:
        return [e["params"] for e in self.browser.events if e.get("method") == method and e.get("sessionId") == self.session]

    def evaluate(self, expression: str):
        result = self.browser.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                        "awaitPromise": True}, self.session)
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression[:80]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self) -> bytes:
        data = self.browser.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True},
                                 self.session)["data"]
        return base64.b64decode(data)

    def console_errors(self) -> list[str]:
        errors = [json.dumps(e.get("args"))[:300] for e in self._events("Runtime.consoleAPICalled")
                  if e.get("type") in ("error", "assert")]
        errors += [e["exceptionDetails"].get("text", "") for e in self._events("Runtime.exceptionThrown")]
        errors += [e["entry"].get("text", "") for e in self._events("Log.entryAdded") if e["entry"].get("level") == "error"]
        return errors

    def requests(self) -> list[str]:
        """Every URL the page asked for, except the page itself."""
        return [e["request"]["url"] for e in self._events("Network.requestWillBeSent") if e["request"]["url"] != self.url]


def main(argv: list[str] | None = None) -> int:
    """python -m tests.browser PAGE.html OUT.png [WIDTH HEIGHT]: a screenshot of the top of a page (make screenshot)."""
    import sys
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) not in (2, 4):
        print(main.__doc__, file=sys.stderr)
        return 2
    binary = find_chromium()
    if binary is None:
        print("chromium is not installed (Debian: apt-get install chromium)", file=sys.stderr)
        return 1
    width, height = (int(args[2]), int(args[3])) if len(args) == 4 else (1280, 1000)
    browser = Browser(binary)
    try:
        page = browser.open(Path(args[0]).resolve().as_uri(), width, height)
        data = browser.send("Page.captureScreenshot", {"format": "png"}, page.session)["data"]
        Path(args[1]).write_bytes(base64.b64decode(data))
    finally:
        browser.close()
    print(f"wrote {args[1]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
