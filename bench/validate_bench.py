"""`gitops validate` throughput on one core, next to a naive baseline measured in the same run.

1. Generates a synthetic platform (bench/generate.py: N components x 3 environments, every object a
   real component gets) and synthesizes it with the real generator (`gitops synth`), giving
   dist/<env>/ and argocd/<env>/ with >= 5,000 documents.
2. Pins this process to one CPU and measures CPU time (the machine may be shared; best of --runs):
   - end to end, ``run_validation``: read YAML + model + strict schemas + policies + cross-resource +
     Argo CD checks; without the parse cache (every file parsed with CSafeLoader) and with it
     (unchanged files read back from .cache/validate/), plus the cold first run of the process;
   - the schema stage alone on already-parsed documents: one compiled validator per kind, reused;
   - the naive baseline on the same parsed documents: a fresh validator per document
     (``kubernetes_validate.validate(doc, version, strict=True)`` for built-in kinds, a new
     ``Draft202012Validator`` from the CRD schema file for custom resources), timed on an evenly
     spread sample because it is two orders of magnitude slower.
Prints documents per second for each, and the phases of one uncached run.
Target: >= 3,000 documents/s on one core.

Usage: .venv/bin/python bench/validate_bench.py [-n COMPONENTS] [--keep DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.generate import generate  # noqa: E402

TARGET = 3000


def synthesize(root: Path, components: int) -> None:
    generate(root, components, 3)
    proc = subprocess.run([sys.executable, "-m", "gitops", "--root", str(root), "synth", "--no-cache"],
                          cwd=REPO, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"gitops synth failed:\n{proc.stdout}\n{proc.stderr}")


def pin_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        cpu = sorted(os.sched_getaffinity(0))[0]
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity)"


def parsed_documents(root: Path) -> list[tuple[str, dict]]:
    from gitops.inputs.load import load_platform
    from gitops.validate import _collect_files
    from gitops.validate.documents import read_documents
    platform = load_platform(root)
    envs = [e.name for e in platform.environments]
    versions = {e.name: e.kubernetes_version for e in platform.environments}
    docs = read_documents(root, _collect_files(root, envs, envs))
    return [(versions.get(d.env or "", "1.33"), d.data) for d in docs]


def measure_phases(root: Path, crds: Path) -> dict[str, float]:
    """CPU seconds of each stage of an uncached run (same code path as run_validation)."""
    import gc

    from gitops.inputs.load import load_platform
    from gitops.validate import _collect_files
    from gitops.validate.crossref import check_environment
    from gitops.validate.documents import read_documents
    from gitops.validate.envset import EnvSet
    from gitops.validate.policies import check_disruption_budgets, check_document
    from gitops.validate.argocd_checks import check_argocd
    from gitops.validate.schemas import SchemaStore
    out: dict[str, float] = {}

    def step(name, fn):
        started = time.process_time()
        result = fn()
        out[name] = time.process_time() - started
        return result

    gc.disable()
    try:
        platform = step("model", lambda: load_platform(root))
        envs = [e.name for e in platform.environments]
        docs = step("read YAML", lambda: read_documents(root, _collect_files(root, envs, envs)))
        store = SchemaStore([str(crds)])
        step("schemas", lambda: [store.check(d.data, "1.33") for d in docs])
        dist = [d for d in docs if d.tree == "dist"]
        argo = [d for d in docs if d.tree == "argocd"]

        def checks():
            hosts: dict = {}
            for name in envs:
                es = EnvSet.build(name, platform.environment(name), platform, [d for d in dist if d.env == name],
                                  [d for d in argo if d.env == name])
                for d in es.docs:
                    list(check_document(d, es))
                list(check_disruption_budgets(es))
                list(check_environment(es, hosts))
        step("policies+cross-resource", checks)
        step("argocd", lambda: list(check_argocd(root, platform, argo, dist)))
    finally:
        gc.enable()
    return out


def naive_validate(version: str, data: dict, crds: Path) -> None:
    """A fresh validator per document: what validating one by one costs."""
    import kubernetes_validate
    from jsonschema import Draft202012Validator
    try:
        kubernetes_validate.validate(data, version, strict=True)
        return
    except kubernetes_validate.SchemaNotFoundError:
        pass
    except kubernetes_validate.ValidationError:
        return
    group, _, ver = data["apiVersion"].rpartition("/")
    path = crds / group / f"{data['kind'].lower()}_{ver}.json"
    if path.is_file():
        schema = json.loads(path.read_text())
        list(Draft202012Validator(schema).iter_errors(data))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--components", type=int, default=150, help="synthetic components (x 3 environments)")
    parser.add_argument("--runs", type=int, default=3, help="repetitions of each measurement (best reported)")
    parser.add_argument("--naive-sample", type=int, default=150, help="documents timed for the naive baseline")
    parser.add_argument("--keep", type=Path, help="synthesize into (or reuse) this folder instead of a temp dir")
    args = parser.parse_args()

    from gitops.crds import schema_dir
    crds = schema_dir(REPO)  # the repository's own CRD schemas, what `gitops validate` uses by default
    tmp = None
    if args.keep:
        root = args.keep.resolve()
        if not (root / "dist").is_dir():
            synthesize(root, args.components)
    else:
        tmp = Path(tempfile.mkdtemp(prefix="validate-bench-"))
        root = tmp / "platform"
        started = time.perf_counter()
        synthesize(root, args.components)
        print(f"synthesized {args.components} components x 3 environments in {time.perf_counter() - started:.1f}s")
    try:
        print(pin_one_core())
        from gitops.validate import run_validation
        from gitops.validate.schemas import SchemaStore

        def timed(**kwargs) -> tuple[float, object]:
            started = time.process_time()
            report = run_validation(root, **kwargs)
            return time.process_time() - started, report

        cold, report = timed(use_cache=False)
        n = report.documents
        if n < 5000:
            raise SystemExit(f"only {n} documents; raise --components")
        if not report.ok:
            raise SystemExit("the synthetic platform is not clean:\n" + "\n".join(
                f"{f.file}:{f.line} {f.rule_id} {f.message}" for f in report.errors[:20]))
        uncached = min(timed(use_cache=False)[0] for _ in range(args.runs))
        timed(use_cache=True)  # fills .cache/validate/
        cached = min(timed(use_cache=True)[0] for _ in range(args.runs))

        phases = measure_phases(root, crds)
        docs = parsed_documents(root)
        store = SchemaStore([str(crds)])
        for version, data in docs:  # every kind is compiled already (the cold run above paid for it)
            store.check(data, version)
        schema_stage = float("inf")
        for _ in range(args.runs):
            started = time.process_time()
            for version, data in docs:
                store.check(data, version)
            schema_stage = min(schema_stage, time.process_time() - started)

        step = max(1, len(docs) // args.naive_sample)
        sample = docs[::step][:args.naive_sample]
        started = time.process_time()
        for version, data in sample:
            naive_validate(version, data, crds)
        naive = time.process_time() - started

        kinds: dict[str, int] = {}
        for _, data in docs:
            kinds[data["kind"]] = kinds.get(data["kind"], 0) + 1
        print(f"documents: {n} ({len(kinds)} kinds: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])[:8]) + ", ...)")
        print(f"end to end, parse cache warm:     {n / cached:8.0f} docs/s  ({cached:.2f}s CPU, best of {args.runs})")
        print(f"end to end, every file parsed:    {n / uncached:8.0f} docs/s  ({uncached:.2f}s CPU, best of {args.runs})")
        print(f"end to end, cold process:         {n / cold:8.0f} docs/s  ({cold:.2f}s CPU, includes compiling the schemas)")
        print("  phases of one uncached run: " + ", ".join(f"{k} {v:.2f}s" for k, v in phases.items()))
        print(f"schema stage, compiled per kind:  {len(docs) / schema_stage:8.0f} docs/s  ({schema_stage:.3f}s CPU for {len(docs)} parsed documents)")
        print(f"schema stage, naive baseline:     {len(sample) / naive:8.0f} docs/s  (fresh validator per document, {len(sample)}-document sample, {naive:.2f}s CPU)")
        print(f"compiled/naive schema ratio: {(len(docs) / schema_stage) / (len(sample) / naive):.0f}x")
        print(f"target {TARGET} docs/s on one core: {'met' if n / cached >= TARGET else 'NOT met'} with the parse cache, "
              f"{'met' if n / uncached >= TARGET else 'NOT met'} when every file is parsed")
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
