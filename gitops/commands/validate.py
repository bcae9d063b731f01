"""`gitops validate`: schemas, policies and cross-resource checks over dist/<env>/ and argocd/."""
from __future__ import annotations

import sys

import click

from ..errors import InputError
from .common import EXIT_FINDINGS, EXIT_INPUT, handle_errors, root_of


def _github_input_errors(exc: InputError) -> None:
    """Bad input as GitHub annotations too, so a PR shows where the unparsable file is."""
    from ..validate.report import _escape_data, _escape_property
    for p in exc.problems:
        message = _escape_data(str(p))
        if p.file:
            props = f"file={_escape_property(p.file)}" + (f",line={p.line}" if p.line else "")
            click.echo(f"::error {props}::{message}")
        else:
            click.echo(f"::error::{message}")


@click.command("validate")
@click.option("--env", "envs", multiple=True, help="Only this environment (repeatable). Default: all.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True,
              help="text for people, json (stable, see README) for machines, github for PR annotations.")
@click.option("--schema-location", "locations", multiple=True, envvar="GITOPS_SCHEMA_LOCATION",
              help="Extra CRD schemas, tried after the repository's own (gitops/schemas/crds): a folder "
                   "(<group>/<kind>_<version>.json) or a template/URL with {{.Group}}, {{.ResourceKind}}, "
                   "{{.ResourceAPIVersion}} (repeatable, tried in order). Also from $GITOPS_SCHEMA_LOCATION "
                   "(space-separated).")
@click.option("--k8s-version", default=None, help="Validate against this Kubernetes version instead of each environment's kubernetesVersion.")
@click.option("--base", "base_ref", default=None,
              help="git ref compared for components removed from prod (default: HEAD when the root is a git repository).")
@click.option("--allow-kind", "allow_kinds", multiple=True,
              help="Kind allowed without a schema: Kind, group/Kind or a glob (repeatable).")
@click.option("--list-rules", is_flag=True, help="Print every rule (ID, severity, rationale) and exit.")
@click.option("--fail-on", type=click.Choice(["error", "warning"]), default="error", show_default=True,
              help="Lowest severity that makes the exit code 1.")
@click.option("--no-cache", is_flag=True, help="Parse every file (ignore and do not write .cache/validate/).")
@click.pass_context
@handle_errors
def validate_command(ctx, envs, fmt, locations, k8s_version, base_ref, allow_kinds, list_rules, fail_on, no_cache):
    """Validate dist/<env>/ and argocd/: strict schemas, policies, cross-resource and Argo CD checks.

    Exit 0 when clean, 1 when there are findings (errors; warnings too with --fail-on warning),
    2 on bad input (unparsable YAML, a document without apiVersion/kind, an unreadable schema
    location, a waiver naming an unknown rule). Waive a finding with the annotation
    waiver.meetinity.io/<RULE-ID>: "<reason>" on one of the objects it names.
    """
    from ..validate import run_validation
    from ..validate.report import FORMATTERS, format_rules

    if list_rules:
        click.echo(format_rules("json" if fmt == "json" else "text"))
        return
    try:
        report = run_validation(root_of(ctx), list(envs) or None, list(locations) if locations else None, base_ref,
                                k8s_version=k8s_version, allow_kinds=tuple(allow_kinds), use_cache=not no_cache)
    except InputError as exc:
        if fmt == "github":
            _github_input_errors(exc)
            click.echo(f"error: {len(exc.problems)} problem(s) in the input", err=True)
            sys.exit(EXIT_INPUT)
        raise
    click.echo(FORMATTERS[fmt](report))
    failing = report.errors + (report.warnings if fail_on == "warning" else [])
    if failing:
        sys.exit(EXIT_FINDINGS)


COMMANDS = [validate_command]
