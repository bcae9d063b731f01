"""The synth process's side of the cdk8s resolvers (gitops/pipeline/resolver.py).

``ResolverPool(workers, tmpdir)`` starts the resolver processes at once, so each boots Node while
this process imports, loads the inputs and builds every chart's bodies. ``submit(chart_id, bodies)``
returns a Future; one thread per resolver takes the next chart from a shared queue, so a resolver
that finishes early takes more (the split never changes the output: every chart is resolved alone).

Resolvers end with this process: they exit when it is gone (PR_SET_PDEATHSIG, see crashsafe), and
``close()`` kills them as soon as the last answer is in instead of letting them wind down Node while
files are written. Nothing they hold is worth a graceful exit: the memo and every output are
written here.
"""
from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import sys
import threading
from concurrent.futures import Future
from pathlib import Path

from .resolver import read_frame, write_frame

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class ResolverError(RuntimeError):
    """A resolver could not resolve a chart, or ended before answering."""


class ResolverPool:
    def __init__(self, workers: int, tmpdir: Path):
        self.workers = max(1, workers)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._broken: str | None = None
        self._lock = threading.Lock()
        self._processes: list[subprocess.Popen] = []
        self._threads: list[threading.Thread] = []
        command = [sys.executable, "-O", "-m", "gitops.pipeline.resolver",
                   "--tmpdir", str(tmpdir), "--parent", str(os.getpid())]
        for _ in range(self.workers):
            self._processes.append(subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                                    cwd=PROJECT_ROOT))
        for process in self._processes:
            thread = threading.Thread(target=self._serve, args=(process,), name="cdk8s-resolver", daemon=True)
            thread.start()
            self._threads.append(thread)

    def submit(self, chart_id: str, bodies: list[dict]) -> Future:
        future: Future = Future()
        with self._lock:
            broken = self._broken
        if broken is not None:
            future.set_exception(ResolverError(broken))
        else:
            self._queue.put((future, chart_id, bodies))
        return future

    def _serve(self, process: subprocess.Popen) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            future, chart_id, bodies = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                write_frame(process.stdin, (0, chart_id, bodies))
                reply = read_frame(process.stdout)
            except OSError:
                reply = None
            if reply is None:  # end of file: the resolver is exiting, or was killed
                try:
                    code = process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    code = None
                self._fail(future, f"the cdk8s resolver process ended (exit code {code}) while resolving chart "
                                   f"{chart_id!r}; its error output is above")
                return
            _, objects, error = reply
            if error is not None:
                future.set_exception(ResolverError(f"cdk8s could not resolve chart {chart_id!r}:\n{error}"))
            else:
                future.set_result(objects)

    def _fail(self, future: Future, message: str) -> None:
        """A resolver is gone: this chart and every chart still queued fail with ``message``."""
        with self._lock:
            self._broken = message
        future.set_exception(ResolverError(message))
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is None:
                self._queue.put(None)  # another thread's stop signal
                return
            if item[0].set_running_or_notify_cancel():
                item[0].set_exception(ResolverError(message))

    def close(self) -> None:
        """Stop every resolver now (their Node processes die with them) and reap them."""
        for _ in self._threads:
            self._queue.put(None)
        for process in self._processes:
            with contextlib.suppress(OSError):
                process.kill()
        for process in self._processes:
            process.wait()
        for thread in self._threads:
            thread.join(timeout=5)
        for process in self._processes:
            for stream in (process.stdin, process.stdout):
                with contextlib.suppress(OSError):
                    stream.close()
