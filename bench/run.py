"""Synth and validate benchmarks. Prints both sides of each ratio, measured in the same run.

(a) `gitops synth --no-cache` of a synthetic N x M platform (cdk8s, parallel environments)
(b) baseline: the same objects built as plain dicts and dumped with yaml.CSafeDumper (no cdk8s)
(c) `gitops synth --env E --service S` after changing one component
(d) `gitops validate` of the synthesized tree (when the validate command is available)
plus the real Meetinity platform against the framework floor, measured alternately in the same run:
(e) the floor: a one-object cdk8s Python app (`import cdk8s`, App, Chart, one ApiObject, synth)
(f) Meetinity `gitops synth --no-cache` (cold: every object through cdk8s), in a copy of the inputs
(g) Meetinity plain `gitops synth` after changing one component's inventory file
and peak memory.

The last line is `synth/plain ratio: R.Rx` for N x M.
"""
from __future__ import annotations

import argparse
import os
import platform as host
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.generate import generate  # noqa: E402

GITOPS = [sys.executable, "-m", "gitops"]


def _timed(cmd: list[str], cwd: Path = REPO) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def _median(fn, reps: int) -> tuple[float, list[float]]:
    runs = [fn() for _ in range(reps)]
    return statistics.median(runs), runs


def plain_dict_synth(root: Path, out: Path, fast_emitter: bool = False) -> float:
    """The baseline: same construct code, but every object stays a Python dict (no jsii), CSafeDumper to files.

    ``fast_emitter`` swaps CSafeDumper for the generator's own emitter, to show how much of the
    gap is YAML writing rather than cdk8s.
    """
    dump = "dump_object(obj)" if fast_emitter else "dump_yaml(canonical_object(obj)).encode()"
    code = f"""
import sys, time
sys.path.insert(0, {str(REPO)!r})
start = time.perf_counter()
from pathlib import Path
from gitops.inputs.load import load_platform
from gitops.pipeline.canonical import canonical_object, dump_object, dump_yaml
from gitops.pipeline.render import object_filename
import charts.base as base
from charts.context import ComponentContext
import charts.component as component_mod
from charts.platform import PlatformLayer
import importlib, pkgutil, charts
# Replace the jsii hand-over by a list append in every construct module.
def emit(chart, body):
    chart.append(body)
for info in pkgutil.iter_modules(charts.__path__):
    mod = importlib.import_module('charts.' + info.name)
    if hasattr(mod, 'emit'):
        mod.emit = emit
platform = load_platform({str(root)!r})
out = Path({str(out)!r})
for env in platform.environments:
    folders = {{}}
    chart = []
    PlatformLayer(chart, env)
    folders['platform'] = chart
    for c in platform.enabled_components(env):
        chart = []
        component_mod.build_component(chart, ComponentContext.of(platform, env, c))
        folders[c.name] = chart
    for folder, objs in folders.items():
        d = out / env.name / folder
        d.mkdir(parents=True, exist_ok=True)
        for obj in objs:
            (d / object_filename(obj)).write_bytes({dump})
print(time.perf_counter() - start)
"""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return time.perf_counter() - start


FLOOR_APP = """
import os
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
import sys
import cdk8s
app = cdk8s.App(outdir=sys.argv[1])
chart = cdk8s.Chart(app, "floor")
cdk8s.ApiObject(chart, "cm", api_version="v1", kind="ConfigMap", metadata={"name": "floor"})
app.synth()
"""


def meetinity(work: Path, reps: int) -> dict[str, tuple[float, list[float]]]:
    """Floor, cold synth and one-component change on a copy of this repository's inputs, alternating."""
    root = work / "meetinity"
    root.mkdir()
    for name in ("inventory", "environments"):
        shutil.copytree(REPO / name, root / name)
    floor_app = work / "floor.py"
    floor_app.write_text(FLOOR_APP)
    _timed([*GITOPS, "--root", str(root), "synth"])  # dist/ present, as in a fresh clone
    component = sorted((root / "inventory").glob("*.yaml"))[0]
    original = component.read_text()
    runs: dict[str, list[float]] = {"floor": [], "cold": [], "change": []}
    for rep in range(reps):
        runs["floor"].append(_timed([sys.executable, str(floor_app), str(work / "floor.out")]))
        runs["cold"].append(_timed([*GITOPS, "--root", str(root), "synth", "--no-cache"]))
        component.write_text(original.replace("description: ", f"description: rev {rep} ", 1))
        runs["change"].append(_timed([*GITOPS, "--root", str(root), "synth"]))
    component.write_text(original)
    return {k: (statistics.median(v), v) for k, v in runs.items()}


def _count_docs(folder: Path) -> int:
    return sum(1 for _ in folder.rglob("*.yaml"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--components", type=int, default=200)
    parser.add_argument("-m", "--environments", type=int, default=3)
    parser.add_argument("-r", "--repetitions", type=int, default=3)
    parser.add_argument("--meetinity-only", action="store_true", help="Only the Meetinity vs floor figures.")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="gitops-bench-"))
    try:
        print(f"machine: {host.machine()} {os.cpu_count()} cores, Python {host.python_version()}, {time.strftime('%Y-%m-%d')}")
        # 9 alternating repetitions: this 2-core VM drifts by +-20% within a minute, so each
        # repetition measures the floor and both synths back to back, and the paired ratios
        # (each synth over the floor of its own repetition) are reported next to the medians.
        reps = max(args.repetitions, 9)
        m = meetinity(work, reps)
        floor_s = m["floor"][0]
        print(f"Meetinity vs the cdk8s floor, {reps} alternating repetitions (median):")
        for key, label in (("floor", "(e) floor: one-object cdk8s Python app"),
                           ("cold", "(f) Meetinity synth --no-cache (cold)"),
                           ("change", "(g) Meetinity synth after a one-component change")):
            median, runs = m[key]
            print(f"{label:52} {median:6.2f} s  runs {', '.join(f'{r:.2f}' for r in runs)}")
        for key, name, goal in (("cold", "cold", "2x"), ("change", "one-component-change", "1.25x")):
            paired = statistics.median(run / floor for run, floor in zip(m[key][1], m["floor"][1]))
            print(f"{name}/floor ratio: {m[key][0] / floor_s:.2f}x of the medians, {paired:.2f}x median of "
                  f"the paired repetitions (goal <= {goal})")
        if args.meetinity_only:
            return
        root = generate(work / "platform", args.components, args.environments)
        print(f"platform: {args.components} components x {args.environments} environments, {args.repetitions} repetitions (median)")

        synth_s, synth_runs = _median(lambda: _timed([*GITOPS, "--root", str(root), "synth", "--no-cache"]), args.repetitions)
        docs = _count_docs(root / "dist")
        plain_out = work / "plain"

        def plain() -> float:
            shutil.rmtree(plain_out, ignore_errors=True)
            return plain_dict_synth(root, plain_out)
        plain_s, plain_runs = _median(plain, args.repetitions)
        same = _count_docs(plain_out) == docs

        def plain_fast() -> float:
            shutil.rmtree(plain_out, ignore_errors=True)
            return plain_dict_synth(root, plain_out, fast_emitter=True)
        plain_fast_s, _ = _median(plain_fast, args.repetitions)

        cached_s, _ = _median(lambda: _timed([*GITOPS, "--root", str(root), "synth"]), args.repetitions)

        env_file = root / "environments" / "dev.yaml"
        original = env_file.read_text()
        counter = iter(range(10_000))

        def one_service() -> float:
            env_file.write_text(original.replace("tag: v1.0.0", f"tag: v1.0.{next(counter) + 1}"))
            return _timed([*GITOPS, "--root", str(root), "synth", "--env", "dev", "--service", "svc-0000"])
        one_s, _ = _median(one_service, args.repetitions)
        env_file.write_text(original)

        validate_s = None
        probe = subprocess.run([*GITOPS, "validate", "--help"], cwd=REPO, capture_output=True)
        if probe.returncode == 0:
            subprocess.run([*GITOPS, "--root", str(root), "synth", "--no-cache"], cwd=REPO, check=True, capture_output=True)
            validate_s, _ = _median(lambda: _timed([*GITOPS, "--root", str(root), "validate", "--format", "json"]), args.repetitions)

        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        rows = [
            ("(a) synth --no-cache", synth_s, f"{docs} documents, runs {', '.join(f'{r:.2f}' for r in synth_runs)}"),
            ("(b) plain dicts + CSafeDumper", plain_s, f"same document count: {same}, runs {', '.join(f'{r:.2f}' for r in plain_runs)}"),
            ("(b') plain dicts + the generator's emitter", plain_fast_s, "same objects, no cdk8s, faster YAML writer"),
            ("    synth, inputs unchanged (cache)", cached_s, "all environments skipped"),
            ("(c) synth --env dev --service svc-0000", one_s, "one changed component"),
            ("(d) validate", validate_s, "all environments" if validate_s else "validate command not available"),
        ]
        print(f"{'measurement':44} {'seconds':>8}  notes")
        for label, value, note in rows:
            shown = "-" if value is None else f"{value:8.2f}"
            print(f"{label:44} {shown:>8}  {note}")
        print(f"peak RSS of a child process: {peak_mb:.0f} MiB")
        print(f"synth/plain-with-same-emitter ratio: {synth_s / plain_fast_s:.1f}x")
        print(f"synth/plain ratio: {synth_s / plain_s:.1f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
