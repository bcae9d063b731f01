"""What keeps an interrupted or concurrent `gitops synth` from leaving a mess.

- ``SynthLock``: an ``fcntl.flock`` on ``.cache/synth.lock``; a second synth of the same checkout
  waits for the first (the kernel drops the lock when its holder dies, even by kill -9).
- ``die_with_parent``: ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` so the cdk8s resolver processes and
  their Node processes end with the process that started them instead of living on with parent 1
  (man 2 prctl; Linux only, elsewhere resolvers still exit when their request pipe closes).
- ``signals_deferred``: SIGINT/SIGTERM held back while the swaps run, so an interrupt leaves
  dist/ wholly old (before the swaps) or wholly new (after them), then exits 130.
- ``run_tmpdir``: the folder a run's resolvers use as TMPDIR (jsii writes its runtime and
  assemblies there), one per process; removed after the run and, after a kill -9, by the next
  run that takes the lock (``clean_stale_tmpdirs``).
"""
from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import shutil
import signal
import sys
import threading
from pathlib import Path

LOCK_FILE = ".cache/synth.lock"
TMP_DIR = ".cache/synth-tmp"
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


def die_with_parent(expected_parent: int | None = None) -> None:
    """Ask the kernel to SIGKILL this process when its parent ends (no-op off Linux).

    ``expected_parent``: if the parent already died before the request took effect, exit now.
    """
    prctl = _prctl()
    if prctl is not None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if expected_parent is not None and os.getppid() != expected_parent:
        os._exit(1)


def popen_dying_with_parent() -> None:
    """Make every later ``subprocess.Popen`` of this (worker) process start children that die with it.

    jsii starts Node with ``subprocess.Popen`` and no hook of its own; the worker patches it once,
    before cdk8s is imported, so Node gets PR_SET_PDEATHSIG as well.
    """
    import subprocess

    if getattr(subprocess.Popen, "_dies_with_parent", False):
        return
    _prctl()  # resolve now, in the worker; the child only calls it
    base = subprocess.Popen

    class DyingPopen(base):  # type: ignore[misc, valid-type]
        _dies_with_parent = True

        def __init__(self, *args, **kwargs):
            if kwargs.get("preexec_fn") is None:
                kwargs["preexec_fn"] = die_with_parent
            super().__init__(*args, **kwargs)

    subprocess.Popen = DyingPopen  # type: ignore[misc]


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


def run_tmpdir(root: Path) -> Path:
    """This process's folder for its resolvers' temp files: ``.cache/synth-tmp/<pid>``.

    One per process, not one per checkout: `gitops synth` starts a resolver before it takes the
    synth lock (gitops/pipeline/resolver_pool.py ``prestart``), so the lock holder's clean-up must
    leave the folders of live processes alone (``clean_stale_tmpdirs``).
    """
    # Absolute: the resolver runs in the project folder, and Node refuses a relative TMPDIR
    # (createRequire in jsii's kernel: "must be ... an absolute path string"). Resolved, so the
    # prestarted resolver's folder and the one synth asks for compare equal however --root was given.
    folder = Path(root).resolve() / TMP_DIR / str(os.getpid())
    for _ in range(2):  # another run's remove_tmpdir may rmdir the empty parent in between
        with contextlib.suppress(FileNotFoundError):
            folder.mkdir(parents=True, exist_ok=True)
            return folder
    folder.mkdir(parents=True, exist_ok=True)  # a third time, and any error now is real
    return folder


def clean_stale_tmpdirs(root: Path) -> None:
    """Under the lock: remove what killed runs left in ``.cache/synth-tmp`` (folders of dead processes)."""
    base = root / TMP_DIR
    try:
        entries = list(os.scandir(base))
    except (FileNotFoundError, NotADirectoryError):
        return
    for entry in entries:
        if entry.name.isdigit() and _alive(int(entry.name)):
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        return True
    return True


def remove_tmpdir(root: Path) -> None:
    """Remove this process's folder, and ``.cache/synth-tmp`` itself once no run uses it."""
    base = Path(root).resolve() / TMP_DIR
    shutil.rmtree(base / str(os.getpid()), ignore_errors=True)
    with contextlib.suppress(OSError):
        base.rmdir()
