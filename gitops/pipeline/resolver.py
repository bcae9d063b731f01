"""A cdk8s resolver process: `python -O -m gitops.pipeline.resolver --tmpdir DIR`.

It does one thing: boot Node (``import cdk8s``) as soon as it starts, then answer requests
"resolve chart ``chart_id`` with these bodies" with cdk8s's ``chart.to_json()`` (see
``charts.base.resolve_chart``). It holds no inputs and keeps nothing between runs: the parent
(gitops/pipeline/resolver_pool.py) loads the inventory, builds every body, consults the chart
memo and writes every file, and sends only the charts cdk8s has to resolve.

Why a process of its own, started with ``-O``:
- the parent starts it first thing, so Node boots while the parent imports, loads and builds;
- jsii's Python bindings type-check every argument of every call with typeguard unless Python
  runs optimized ("These checks are disabled when running Python in optimized mode (via
  `python3 -O`, which sets `__debug__` to false)", aws/jsii#3660; the kernel validates every
  by-value argument again on the Node side, aws/jsii#5165). The bodies were built and
  schema-checked by the parent, so the check only costs time: about a third of each call here.

jsii talks to this process's own Node directly (gitops/pipeline/jsii_direct.js explains why and
how): one Node process instead of two, about a third of the round-trip time. ``GITOPS_JSII_RELAY=1``
restores jsii's stock entry point, for comparing or debugging; both give the same bytes (tested).

Wire format (stdin -> stdout): frames of a 4-byte big-endian length and a pickle.
Request ``(chart_id, bodies)``; reply ``(chart_id, objects, None)`` or ``(chart_id, None, error
text)``, in the order the requests came (the parent keeps several in the pipe). The parent and this process run the same code of the same
checkout, so pickle crosses no trust boundary. Anything else written to stdout (jsii relays
Node's console there) goes to stderr instead, so it can never corrupt a frame.
"""
from __future__ import annotations

import argparse
import importlib.resources
import os
import pickle
import signal
import struct
import sys
import tempfile
import traceback
from pathlib import Path

HEADER = struct.Struct("!I")


def read_frame(stream) -> object | None:
    """One pickled frame from ``stream``, or None at end of file."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    size, = HEADER.unpack(header)
    payload = stream.read(size)
    if len(payload) < size:
        return None
    return pickle.loads(payload)


def write_frame(stream, message: object) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(payload)) + payload)
    stream.flush()


RELAY_SWITCH = "GITOPS_JSII_RELAY"


def use_direct_channel(tmpdir: str) -> None:
    """Have jsii start its kernel through jsii_direct.js (set before cdk8s is imported).

    jsii's runtime files are copied from the Python package that embeds them (the same files its
    stock start-up copies to a temp folder), with the launcher next to them in bin/.
    """
    import jsii._embedded.jsii as embedded

    base = Path(tmpdir) / f"jsii-{os.getpid()}"
    for resource, relative in embedded.EMBEDDED_FILES.items():
        target = base / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(importlib.resources.files(embedded).joinpath(resource).read_bytes())
    launcher = base / "bin" / "jsii-direct.js"
    launcher.write_bytes(Path(__file__).with_name("jsii_direct.js").read_bytes())
    os.environ["JSII_RUNTIME"] = str(launcher)
    # The stock entry point starts the kernel with --preserve-symlinks: loaded packages resolve
    # their dependencies through the links jsii makes, not through the links' targets.
    os.environ["NODE_OPTIONS"] = " ".join(filter(None, [os.environ.get("NODE_OPTIONS"), "--preserve-symlinks"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gitops.pipeline.resolver", description=__doc__.splitlines()[0])
    parser.add_argument("--tmpdir", required=True, help="Folder for jsii's runtime and assemblies (removed by the parent).")
    parser.add_argument("--parent", type=int, required=True, help="Exit at once if this process is no longer the parent.")
    args = parser.parse_args(argv)

    from . import crashsafe

    # Only the parent decides what Ctrl-C means; it kills this process when it gives up.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    crashsafe.die_with_parent(args.parent)
    crashsafe.popen_dying_with_parent()  # Node, started by jsii's Popen, dies with this process
    os.environ["TMPDIR"] = args.tmpdir   # Node's os.tmpdir()
    tempfile.tempdir = args.tmpdir       # jsii's Python side writes its runtime copy here

    requests = sys.stdin.buffer
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    if os.environ.get(RELAY_SWITCH) != "1":
        use_direct_channel(args.tmpdir)
    from charts.base import ResolverApp, resolve_chart

    app = ResolverApp()
    app.boot()  # Node starts now, while the parent is still loading the inputs
    while True:
        request = read_frame(requests)
        if request is None:
            return 0
        chart_id, bodies = request
        try:
            reply = (chart_id, resolve_chart(app, chart_id, bodies), None)
        except Exception:  # reported to the parent, which raises it with the chart's name
            reply = (chart_id, None, traceback.format_exc())
        try:
            write_frame(replies, reply)
        except BrokenPipeError:
            # The parent is gone: a killed process's pipes close before the kernel sends
            # PR_SET_PDEATHSIG (exit_files runs before exit_notify in kernel/exit.c), so the reply
            # can fail first. Nobody is left to answer; exit quietly, without flushing ``replies``.
            os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
