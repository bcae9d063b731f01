"""`gitops synth`: render dist/<env>/ (and every other generated file) from the inventory."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from .common import EXIT_FINDINGS, emit_json, format_option, handle_errors, progress, root_of


@click.command("synth")
@click.option("--env", "envs", multiple=True, help="Only this environment (repeatable). Default: all.")
@click.option("--service", "services", multiple=True, help="Only re-render this component's folder (repeatable).")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 and name every generated path (dist/, argocd/, "
              "CODEOWNERS, docs, compose, tfvars) that does not match the inputs.")
@click.option("--no-cache", is_flag=True, help="Render every environment even if its inputs hash is unchanged.")
@click.option("--jobs", type=click.IntRange(1, 64), default=None, help="cdk8s resolver processes, each its own Node (default: 1, "
              "which resolves Meetinity faster than a second one boots).")
@format_option
@click.pass_context
@handle_errors
def synth_command(ctx, envs, services, check, no_cache, jobs, fmt):
    """Synthesize dist/<env>/ from inventory/ and environments/ through cdk8s.

    Bad input exits 2 and leaves dist/ untouched. With --check, exits 1 when any
    generated file is stale, missing or extra.
    """
    started = time.perf_counter()
    root = Path(root_of(ctx))
    # Node boots in a resolver while the rest of the pipeline is imported and the inputs load.
    from ..pipeline import resolver_pool

    resolver_pool.prestart()
    try:
        from ..pipeline.synth import synth as run_synth

        result = run_synth(root, list(envs) or None, check=check, no_cache=no_cache, jobs=jobs,
                           progress=None if fmt == "json" else progress, services=list(services) or None)
    finally:
        resolver_pool.discard_prestarted()  # the run failed before the synth lock (or took it)
    elapsed = time.perf_counter() - started
    if check:
        stale = {tree: diff.lines() for tree, diff in result.drift.items() if not diff.clean}
        if fmt == "json":
            emit_json({"ok": not stale, "stale": stale, "seconds": round(elapsed, 3)})
        elif stale:
            # Name what is stale (a tree or a file), not "dist/": CODEOWNERS, argocd/ or the docs can be the stale ones.
            click.echo(f"stale: {', '.join(sorted(stale))}; run `make synth` (or `gitops synth`) and commit the result:")
            for tree, lines in sorted(stale.items()):
                for line in lines:
                    kind, _, rel = line.partition(" ")
                    click.echo(f"  {kind} {tree}/{rel.strip()}".rstrip("/"))
        else:
            click.echo(f"up to date ({', '.join(result.rendered)}) in {elapsed:.2f}s")
        sys.exit(EXIT_FINDINGS if stale else 0)
    if fmt == "json":
        emit_json({"ok": True, "rendered": result.rendered, "skipped": result.skipped,
                   "written": result.written, "reused": result.reused, "resolved": result.resolved,
                   "seconds": round(elapsed, 3)})
    else:
        memo = ("" if result.resolved is None else
                f"; cdk8s resolved {result.resolved} objects, {result.reused} reused from the chart memo")
        click.echo(f"synthesized {', '.join(result.rendered) or 'nothing'}"
                   + (f"; unchanged: {', '.join(result.skipped)}" if result.skipped else "")
                   + memo + f" in {elapsed:.2f}s")


COMMANDS = [synth_command]
