"""The command table: every command module is registered, commands load lazily, --help works everywhere."""
from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import click
import pytest

import gitops.commands
from gitops.cli import COMMAND_MODULES, load_command, main

from .conftest import run_cli


def _modules():
    return sorted(m.name for m in pkgutil.iter_modules(gitops.commands.__path__) if m.name != "common")


def test_table_matches_every_command_module():
    declared = {}
    for name in _modules():
        for command in importlib.import_module(f"gitops.commands.{name}").COMMANDS:
            declared[command.name] = name
    assert declared == COMMAND_MODULES


@pytest.mark.parametrize("name", sorted(COMMAND_MODULES))
def test_every_command_has_help(name, tmp_path):
    proc = run_cli(tmp_path, name, "--help")
    assert proc.returncode == 0 and "Usage:" in proc.stdout
    command = load_command(name)
    if isinstance(command, click.Group):
        for sub in command.commands:
            assert run_cli(tmp_path, name, sub, "--help").returncode == 0


def test_unknown_command_is_a_usage_error(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "gitops", "--root", str(tmp_path), "nope"], capture_output=True, text=True)
    assert proc.returncode == 2 and "No such command 'nope'" in proc.stderr


def test_a_command_imports_only_its_own_module(mini):
    code = ("import sys; from gitops.cli import main\n"
            "try:\n    main(['--root', sys.argv[1], 'capacity'])\nexcept SystemExit:\n    pass\n"
            "print(' '.join(sorted(sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code, str(mini)], capture_output=True, text=True)
    loaded = set(proc.stdout.split())
    assert "gitops.commands.capacity" in loaded
    assert not loaded & {"gitops.commands.dockerfile", "gitops.dockerfile.parse", "dockerfile", "gitops.promote.promote",
                         "gitops.commands.promote", "cdk8s"}, sorted(loaded & {"dockerfile", "cdk8s"})


def test_help_lists_every_command():
    assert set(main.list_commands(None)) == set(COMMAND_MODULES)
