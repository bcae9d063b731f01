"""`gitops capacity`: requests and limits at HPA min and max against the quota and the node group."""
from __future__ import annotations

import sys

import click

from ..ops.capacity import capacity, render_text
from ..findings import report_document
from ..inputs.load import check_environment_names, load_platform
from .common import EXIT_FINDINGS, emit_json, format_option, handle_errors, root_of


@click.command("capacity")
@click.option("--env", "envs", multiple=True, help="Only this environment (repeatable). Default: all.")
@format_option
@click.pass_context
@handle_errors
def capacity_command(ctx, envs, fmt):
    """Sum requests and limits per environment at HPA min and at HPA max.

    HPA components count min..max pods, other Deployments their replicas, jobs once. The totals
    are compared with the namespace ResourceQuota and with the node group's allocatable capacity
    (nodeCapacity.max nodes minus a system reserve). Exits 1 when the HPA maximum cannot fit.
    """
    platform = load_platform(root_of(ctx))
    check_environment_names(root_of(ctx), envs)
    caps = capacity(platform, list(envs) or None)
    ok = all(c.ok for c in caps)
    if fmt == "json":
        emit_json(report_document([f for c in caps for f in c.findings], environments=[c.as_dict() for c in caps]))
    else:
        click.echo(render_text(caps), nl=False)
    sys.exit(0 if ok else EXIT_FINDINGS)


COMMANDS = [capacity_command]
