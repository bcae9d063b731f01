"""The synth process's side of the cdk8s resolvers (gitops/pipeline/resolver.js, run by Node).

``ResolverPool(workers)`` starts the resolver processes at once, so each boots Node and loads cdk8s
while this process imports, loads the inputs and builds every chart's bodies. ``submit(chart_id,
bodies)`` returns a Future; one thread per resolver takes the next chart from a shared queue, so a
resolver that finishes early takes more (the split never changes the output: every chart is
resolved alone).

Resolvers end with this process: they get PR_SET_PDEATHSIG (see crashsafe) and exit when their
request pipe closes, and ``close()`` kills them as soon as the last answer is in. Nothing they hold
is worth a graceful exit: the memo and every output are written here; they write no files at all.
"""
from __future__ import annotations

import collections
import contextlib
import json
import queue
import shutil
import struct
import subprocess
import threading
from pathlib import Path

from typing import TYPE_CHECKING

from ..errors import GitopsError

if TYPE_CHECKING:
    from concurrent.futures import Future

# concurrent.futures (logging) loads with the first pool, not with ``prestart``: `gitops synth`
# starts its first resolver before anything heavy is imported.

RESOLVER = Path(__file__).with_name("resolver.js")
# Each frame (resolver.js): a marker, its length, then JSON. The marker makes anything else on the
# resolver's stdout (a library writing to fd 1 itself) a broken channel at once, never a frame
# length to wait for.
MARKER = b"cdk8"
HEADER = struct.Struct("!4sI")


class ResolverError(GitopsError):
    """A resolver could not start or resolve a chart, or ended before answering (exit 1, no traceback)."""


# Requests a resolver may hold at once. More than one keeps the next chart waiting in its pipe, so
# it never idles while this process, busy turning answers into YAML in other threads, waits for
# the GIL (up to the 5 ms switch interval) to send the next one: six one-object charts took 40 ms
# one at a time, 15-20 ms pipelined. Few enough that a resolver that finishes early still finds
# work left in the shared queue.
IN_FLIGHT = 4


class _Channel:
    """One resolver process and the charts sent to it that it has not answered yet."""

    def __init__(self, process: subprocess.Popen):
        self.process = process
        self.in_flight: collections.deque = collections.deque()
        self.slots = threading.Semaphore(IN_FLIGHT)
        self.lock = threading.Lock()
        self.ended: str | None = None  # set by the reader when the resolver is gone


def start_resolver() -> subprocess.Popen:
    import tarfile

    from .cdk8s_js import CACHE, node_modules
    from .crashsafe import dying_with_this_process

    node = shutil.which("node")
    if node is None:
        raise ResolverError("Node.js (`node`) is not on PATH: cdk8s runs in Node (see README, set-up)")
    try:
        library = node_modules()
    except (OSError, tarfile.TarError) as exc:
        raise ResolverError(f"cannot prepare cdk8s's JavaScript in {CACHE}: {exc}") from exc
    # A session of its own: a terminal's Ctrl-C goes to the foreground process group, and Node
    # (which resets SIGINT to its default at start, src/node.cc ResetSignalHandlers) would die
    # mid-boot. This process decides instead: it kills the resolvers when it stops, and
    # PR_SET_PDEATHSIG covers its own death (set between fork and exec; it survives the exec).
    return subprocess.Popen([node, str(RESOLVER), str(library)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, start_new_session=True,
                            preexec_fn=dying_with_this_process())


# Resolvers started by ``prestart`` that no pool has taken yet.
_PRESTARTED: list[subprocess.Popen] = []


def prestart() -> None:
    """Start one resolver now, first thing in `gitops synth`, for the pool the run creates later.

    Node then boots while this process imports the pipeline, takes the synth lock, hashes the
    inputs and loads them. A run that renders nothing, or fails first, kills it again
    (``discard_prestarted``). One that cannot start (no Node) is left to the pool, which raises the
    same error if the run needs cdk8s at all: a run whose inputs did not change does not.
    """
    try:
        _PRESTARTED.append(start_resolver())
    except GitopsError:
        pass


def discard_prestarted() -> None:
    """Kill and reap every prestarted resolver no pool took (idempotent)."""
    while _PRESTARTED:
        _kill_and_reap([_PRESTARTED.pop()])


def _kill_and_reap(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        with contextlib.suppress(OSError):
            process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout):
            with contextlib.suppress(OSError):
                stream.close()


def _take_prestarted(most: int) -> list[subprocess.Popen]:
    taken = _PRESTARTED[:most]
    del _PRESTARTED[:most]
    return taken


def _write_frame(stream, message) -> None:
    # ASCII with \u escapes: lossless for any Python str, a lone surrogate included (UTF-8 has none).
    payload = json.dumps(message, allow_nan=False, separators=(",", ":")).encode("ascii")
    stream.write(HEADER.pack(MARKER, len(payload)) + payload)
    stream.flush()


def _read_frame(stream):
    """One frame from ``stream``, or None at end of file."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    marker, size = HEADER.unpack(header)
    if marker != MARKER:
        raise ValueError(f"not a resolver frame: {header!r}")
    payload = stream.read(size)
    if len(payload) < size:
        return None
    return json.loads(payload)


class ResolverPool:
    def __init__(self, workers: int):
        self.workers = max(1, workers)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._broken: str | None = None
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._processes: list[subprocess.Popen] = _take_prestarted(self.workers)
        try:
            while len(self._processes) < self.workers:
                self._processes.append(start_resolver())
        except BaseException:  # no pool to close() them: stop the ones already running
            _kill_and_reap(self._processes)
            raise
        # Per resolver: a writer that sends queued charts (at most IN_FLIGHT unanswered) and a reader
        # that matches answers to them. Separate threads, so neither pipe can fill up while the
        # other end waits: the resolver always gets its answers read.
        for process in self._processes:
            channel = _Channel(process)
            for target in (self._send, self._receive):
                thread = threading.Thread(target=target, args=(channel,), name="cdk8s-resolver", daemon=True)
                thread.start()
                self._threads.append(thread)

    def submit(self, chart_id: str, bodies: list[dict]) -> Future:
        from concurrent.futures import Future

        future: Future = Future()
        with self._lock:  # queued under the lock: a _fail() that marks the pool broken drains it after
            broken = self._broken
            if broken is None:
                self._queue.put((future, chart_id, bodies))
        if broken is not None:
            future.set_exception(ResolverError(broken))
        return future

    def _send(self, channel: "_Channel") -> None:
        while True:
            channel.slots.acquire()
            item = self._queue.get()
            if item is None:
                return
            future, chart_id, bodies = item
            if not future.set_running_or_notify_cancel():
                channel.slots.release()
                continue
            with channel.lock:  # the answer may come at once: in the list before the frame is out
                ended = channel.ended
                if ended is None:
                    channel.in_flight.append((future, chart_id))
            if ended is not None:  # the reader saw the resolver end: nobody will answer
                future.set_exception(ResolverError(ended))
                return
            try:
                _write_frame(channel.process.stdin, (chart_id, bodies))
            except OSError:  # the resolver is gone; the reader reports it for every chart it held
                return
            except Exception as exc:  # the bodies are not JSON (e.g. a set, NaN): nothing was sent
                with channel.lock:
                    channel.in_flight.remove((future, chart_id))
                channel.slots.release()
                future.set_exception(ResolverError(f"chart {chart_id!r} could not be sent to cdk8s: {exc!r}"))

    def _receive(self, channel: "_Channel") -> None:
        process = channel.process
        while True:
            try:
                reply = _read_frame(process.stdout)
            except Exception:  # a broken pipe, or a frame that is not JSON
                reply = False
            with channel.lock:
                asked = bool(channel.in_flight)
            if reply is not None and not (asked and isinstance(reply, list) and len(reply) == 3):
                # Not an answer, or one nobody asked for (something else wrote to the resolver's
                # stdout): nothing after it can be trusted. The channel is lost.
                with contextlib.suppress(OSError):
                    process.kill()
                reply = None
            if reply is None:  # end of file: the resolver is exiting, or was killed
                try:
                    code = process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    code = None
                with channel.lock:
                    waiting = list(channel.in_flight)
                    channel.in_flight.clear()
                    lost = f"chart {waiting[0][1]!r}" if waiting else "no chart"
                    channel.ended = (f"the cdk8s resolver process ended (exit code {code}) while resolving {lost}; "
                                     f"its error output is above")
                for _ in range(IN_FLIGHT):
                    channel.slots.release()  # a writer waiting for a slot goes on and finds the end
                self._fail([future for future, _ in waiting], channel.ended)
                return
            with channel.lock:
                future, chart_id = channel.in_flight.popleft()  # answers come in the order asked
            channel.slots.release()
            answered_id, objects, error = reply
            if error is not None and answered_id in (None, chart_id):  # None: it could not read the request
                future.set_exception(ResolverError(f"cdk8s could not resolve chart {chart_id!r}:\n{error}"))
            elif answered_id != chart_id:
                future.set_exception(ResolverError(f"resolver answered chart {answered_id!r} for {chart_id!r}"))
            else:
                future.set_result(objects)

    def _fail(self, futures: list[Future], message: str) -> None:
        """A resolver is gone: these charts and every chart still queued fail with ``message``."""
        with self._lock:
            self._broken = message
        for future in futures:
            future.set_exception(ResolverError(message))
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is None:
                self._queue.put(None)  # a writer's stop signal
                return
            if item[0].set_running_or_notify_cancel():
                item[0].set_exception(ResolverError(message))

    def close(self) -> None:
        """Stop every resolver now (their Node processes die with them) and reap them."""
        for _ in self._processes:
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
