"""Ctrl-C for the CLI: a KeyboardInterrupt only where Python can unwind it, never inside an import.

Python raises KeyboardInterrupt at whatever bytecode the main thread runs when SIGINT arrives.
Inside importlib that is not safe: ``_get_module_lock`` (and the weakref callback it registers,
which runs whenever a module lock is freed) calls ``_imp.acquire_lock()`` and only then enters its
``try:``. An interrupt between the two leaves the global import lock held by the main thread for
good, and every other thread that imports waits forever. Worse, in the weakref callback the
exception is swallowed ("Exception ignored in ..."), so the command carries on as if nothing
happened and then waits for a render thread that can never finish. Both were seen here:
`gitops synth` hung after Ctrl-C in tests/test_synth_crash.py (synth renders in threads that
import chart modules lazily while the main thread loads the inputs).

So the handler looks at where the main thread is. Outside importlib it raises at once, as Python
would. Inside, it records the interrupt and retries every ``RETRY_S`` (an ``ITIMER_REAL`` alarm)
until the import has returned, and raises anyway after ``GIVE_UP_S``: an import that is itself
stuck must not make Ctrl-C useless (the CLI then leaves with ``os._exit``, see gitops/cli.py,
so a lock left behind by that import cannot hang the exit).
"""
from __future__ import annotations

import signal
import threading
import time
from types import FrameType

RETRY_S = 0.01
GIVE_UP_S = 2.0
IMPORT_MACHINERY = "<frozen importlib._bootstrap"  # _bootstrap and _bootstrap_external


def inside_import(frame: FrameType | None) -> bool:
    """Whether ``frame`` or any of its callers is importlib's own code."""
    while frame is not None:
        if frame.f_code.co_filename.startswith(IMPORT_MACHINERY):
            return True
        frame = frame.f_back
    return False


class SafeInterrupts:
    """Within the block, SIGINT raises KeyboardInterrupt at the first point outside importlib.

    ``interrupted`` tells afterwards whether a SIGINT arrived at all, also when the command ended
    through another error it caused (a child process of the same process group got the signal too).
    Off the main thread Python delivers no signals, so nothing is installed there.
    """

    def __init__(self) -> None:
        self.interrupted = False
        self._since: float | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> "SafeInterrupts":
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGALRM):
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        if self._previous:
            signal.setitimer(signal.ITIMER_REAL, 0)
            for signum, handler in self._previous.items():
                signal.signal(signum, handler)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGINT:
            self.interrupted = True
            if self._since is None:
                self._since = time.monotonic()
        elif not self.interrupted:
            return  # an alarm nobody asked for
        if inside_import(frame) and time.monotonic() - self._since < GIVE_UP_S:
            signal.setitimer(signal.ITIMER_REAL, RETRY_S)
            return
        raise KeyboardInterrupt
