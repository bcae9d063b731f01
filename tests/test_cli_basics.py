"""The CLI's own surface: --version from the installed package metadata."""
from __future__ import annotations

from importlib.metadata import version

from click.testing import CliRunner

from gitops.cli import main


def test_version_comes_from_the_package_metadata():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"gitops {version('meetinity-gitops')}\n"
