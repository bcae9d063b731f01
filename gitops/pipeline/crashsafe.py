"""What keeps an interrupted or concurrent `gitops synth` from leaving a mess.

- ``SynthLock``: an ``fcntl.flock`` on ``.cache/synth.lock``; a second synth of the same checkout
  waits for the first (the kernel drops the lock when its holder dies, even by kill -9).
- ``dying_with_this_process``: a ``preexec_fn`` that asks for ``prctl(PR_SET_PDEATHSIG, SIGKILL)``, so
  the cdk8s resolvers (Node processes) end with the process that started them instead of living on
  with parent 1 (man 2 prctl; Linux only, elsewhere resolvers still exit when their request pipe
  closes).
- ``signals_deferred``: SIGINT/SIGTERM held back while the swaps run, so an interrupt leaves
  dist/ wholly old (before the swaps) or wholly new (after them), then exits 130.
"""
from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import signal
import sys
import threading
from pathlib import Path

LOCK_FILE = ".cache/synth.lock"
PR_SET_PDEATHSIG = 1


class SynthLock:
    """Exclusive lock of one checkout's generated files, held for one synth."""

    def __init__(self, root: Path, progress=None):
        self.path = root / LOCK_FILE
        self.progress = progress
        self.fd: int | None = None

    def __enter__(self) -> "SynthLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            message = (f"waiting for another gitops synth (pid {holder}) that holds {LOCK_FILE}; "
                       "it writes the same files")
            (self.progress or (lambda m: print(m, file=sys.stderr)))(message)
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the last descriptor releases the flock
            self.fd = None


@functools.lru_cache(maxsize=None)
def libc():
    """The C library's symbols (Linux), looked up once: ``dlopen(NULL)`` sees libc, and unlike
    ``ctypes.util.find_library`` it starts no ``ldconfig`` subprocess (never do that in a preexec_fn)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def _prctl():
    return getattr(libc(), "prctl", None)


def dying_with_this_process():
    """A ``preexec_fn`` for ``subprocess.Popen``: the child gets SIGKILL when this process ends.

    PR_SET_PDEATHSIG is set in the child between fork and exec and survives the exec (man 2 prctl),
    so it holds for Node. It fires when the *thread* that forked ends, so only children started by
    the main thread get it (others still end when their request pipe closes). prctl is looked up
    here, in the parent: the child must not load libraries. If this process died before the request
    took effect, the child exits at once.
    """
    prctl, parent = _prctl(), os.getpid()
    if threading.current_thread() is not threading.main_thread():
        prctl = None

    def preexec() -> None:
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return preexec


@contextlib.contextmanager
def signals_deferred(signums=(signal.SIGINT, signal.SIGTERM)):
    """Hold back ``signums`` inside the block; each arrives (as it would have) when the block ends.

    Handlers rather than ``pthread_sigmask``: the kernel may deliver a signal to any thread that does
    not block it (the process pool has a management thread), and Python runs handlers in the main
    thread only, so a recording handler is the reliable way to keep the swaps whole.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    previous = {signum: signal.signal(signum, lambda signum, _frame: pending.append(signum)) for signum in signums}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in dict.fromkeys(pending):
            signal.raise_signal(signum)
