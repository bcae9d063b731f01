"""`gitops new component|environment`: the input files of a new service or environment (see gitops/ops/scaffold.py)."""
from __future__ import annotations

import click

from .common import emit_json, format_option, handle_errors, root_of


@click.group("new")
def new_group():
    """Create the input files of a new component or environment (then run `gitops synth`)."""


def _report(result, fmt: str) -> None:
    if fmt == "json":
        emit_json(result.as_dict())
        return
    for path in result.written:
        click.echo(f"wrote {path}")
    for note in result.notes:
        click.echo(f"note: {note}")
    click.echo("next: `make synth`, then commit the paths the README lists (git status shows them)")


@new_group.command("component")
@click.argument("name")
@click.option("--like", required=True, help="Existing component to copy (inventory/<LIKE>.yaml).")
@click.option("--enable", "enable", multiple=True, help="Environment to enable it in (repeatable).")
@click.option("--tag", default=None, help="Image tag to run where it is enabled (required with --enable).")
@click.option("--digest", default=None, help="Image digest sha256:<64 hex> (required where policy.requireDigest).")
@click.option("--owner", default=None, help="Owning team (default: LIKE's); reviewers @org/<owner> follow it.")
@click.option("--description", default=None, help="One line saying what it does.")
@format_option
@click.pass_context
@handle_errors
def new_component_command(ctx, name, like, enable, tag, digest, owner, description, fmt):
    """Write inventory/NAME.yaml from inventory/LIKE.yaml and enable it in each --enable environment.

    The name is replaced wherever the copy named LIKE (image, source path, build command, secret
    keys), a public subdomain becomes NAME. Bad input (existing NAME, unknown LIKE or environment,
    a result that would not load) exits 2 and writes nothing.
    """
    from ..ops.scaffold import new_component
    _report(new_component(root_of(ctx), name, like, list(enable), tag, digest, owner, description), fmt)


@new_group.command("environment")
@click.argument("name")
@click.option("--after", required=True, help="Environment it is promoted from; whatever promoted from it now promotes from NAME.")
@click.option("--like", default=None, help="Environment to copy (default: the --after one).")
@format_option
@click.pass_context
@handle_errors
def new_environment_command(ctx, name, after, like, fmt):
    """Write environments/NAME.yaml and the Terraform root infra/terraform/environments/NAME/.

    NAME is inserted into the promotion chain after --after: the environment that promoted from
    --after now promotes from NAME. Bad input exits 2 and writes nothing.
    """
    from ..ops.scaffold import new_environment
    _report(new_environment(root_of(ctx), name, after, like), fmt)


COMMANDS = [new_group]
