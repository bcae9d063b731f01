"""The README's procedures, executed as written on a copy of the repository.

"Adding a service" and "Adding an environment" are run command by command (the ```sh block of each
section) in a fresh git repository holding a copy of every tracked file; the paths `git status` then
shows must be exactly the section's "Commit exactly these paths" list, parsed from the README so the
two cannot drift. The worked promotion example is checked against the inventory and the schema.
"""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from gitops.promote.envfile import check_value

from .conftest import REPO, run_gitops
from .crd import CRD_SCHEMAS

README = (REPO / "README.md").read_text()
SHARED_ROOT_FILES = ("main.tf", "providers.tf", "variables.tf")


def _section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, re.S | re.M)
    assert match, f"README has no section {title!r}"
    return match.group(1)


def _commands(section: str) -> list[list[str]]:
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "the procedure has no ```sh block"
    return [shlex.split(line, comments=True) for line in block.group(1).splitlines() if line.strip()]


def _listed_paths(section: str) -> list[str]:
    """The backticked path of each bullet after "Commit exactly these paths"."""
    tail = section[section.index("Commit exactly these paths"):]
    bullets = re.findall(r"^- `([^`]+)`", tail.split("\n\n", 2)[1], re.M)
    assert bullets, "no path list"
    return bullets


def _git(root: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True, env=env).stdout


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """Every tracked file of this checkout (as it is on disk) in a new repository, committed."""
    root = tmp_path / "repo"
    for rel in _git(REPO, "ls-files", "-z").split("\0"):
        if rel and (REPO / rel).is_file():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, root / rel)
    _git(root, "init", "--quiet", "--initial-branch=main")
    _git(root, "add", "-A")
    _git(root, "commit", "--quiet", "-m", "copy")
    return root


def _run_procedure(root: Path, commands: list[list[str]]) -> None:
    # CRD schemas for `gitops validate`, where the tests find them (tests/crd.py).
    env = {**os.environ, **({"GITOPS_SCHEMA_LOCATION": str(CRD_SCHEMAS)} if CRD_SCHEMAS.is_dir() else {})}
    for argv in commands:
        assert argv[0] == "gitops", f"README procedure runs {argv[0]!r}, expected gitops commands only"
        proc = run_gitops(root, *argv[1:], env=env)
        assert proc.returncode == 0, f"{shlex.join(argv)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"


def _changed(root: Path) -> list[str]:
    out = _git(root, "status", "--porcelain", "-z", "--untracked-files=all")
    return sorted(entry[3:] for entry in out.split("\0") if len(entry) > 3)


def _assert_exactly(changed: list[str], patterns: list[str]) -> None:
    """Each changed path is covered by a listed path (a folder covers what is under it), each listed path changed."""
    def covers(pattern: str, path: str) -> bool:
        return path.startswith(pattern) if pattern.endswith("/") else path == pattern
    uncovered = [p for p in changed if not any(covers(pattern, p) for pattern in patterns)]
    unchanged = [pattern for pattern in patterns if not any(covers(pattern, p) for p in changed)]
    assert not uncovered, f"changed but not in the README list: {uncovered}"
    assert not unchanged, f"in the README list but unchanged: {unchanged}"


def _option_values(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a == flag]


def test_adding_a_service_as_the_readme_says(clone):
    section = _section("Adding a service")
    commands = _commands(section)
    new = next(c for c in commands if c[1:3] == ["new", "component"])
    name, envs = new[3], _option_values(new, "--enable")
    assert envs, "the README example enables the component somewhere"
    _run_procedure(clone, commands)
    patterns = []
    for pattern in _listed_paths(section):
        values = envs if "<env>" in pattern else [None]
        patterns += [pattern.replace("<name>", name).replace("<env>", env or "") for env in values]
    _assert_exactly(_changed(clone), patterns)
    written = yaml.safe_load((clone / "inventory" / f"{name}.yaml").read_text())
    assert written["name"] == name and name in written["image"]


def test_adding_an_environment_as_the_readme_says(clone):
    section = _section("Adding an environment")
    commands = _commands(section)
    new = next(c for c in commands if c[1:3] == ["new", "environment"])
    name, after = new[3], _option_values(new, "--after")[0]
    successors = sorted(p.stem for p in (clone / "environments").glob("*.yaml")
                        if yaml.safe_load(p.read_text()).get("promotesFrom") == after)
    _run_procedure(clone, commands)
    patterns = []
    for pattern in _listed_paths(section):
        values = successors if "<next>" in pattern else [None]
        patterns += [pattern.replace("<env>", name).replace("<next>", nxt or "") for nxt in values]
    _assert_exactly(_changed(clone), patterns)
    # The chain: after -> name -> successor.
    assert yaml.safe_load((clone / "environments" / f"{name}.yaml").read_text())["promotesFrom"] == after
    for successor in successors:
        assert yaml.safe_load((clone / "environments" / f"{successor}.yaml").read_text())["promotesFrom"] == name
    # The Terraform root is the same thin wrapper as the others (what tests/test_terraform.py asks of every root).
    roots = clone / "infra/terraform/environments"
    for file in SHARED_ROOT_FILES:
        assert (roots / name / file).read_bytes() == (roots / after / file).read_bytes(), file
    versions = (roots / name / "versions.tf").read_text()
    assert f'key          = "meetinity/{name}/terraform.tfstate"' in versions
    assert versions.replace(f"meetinity/{name}/", f"meetinity/{after}/") == (roots / after / "versions.tf").read_text()
    # Its VPC is new and holds the backing subnets the environment file declares.
    settings = (roots / name / "settings.auto.tfvars").read_text()
    vpc = re.search(r'^vpc_cidr\s*=\s*"10\.(\d+)\.0\.0/16"', settings, re.M)
    assert vpc and vpc.group(1) not in {re.search(r'vpc_cidr\s*=\s*"10\.(\d+)\.', (r / "settings.auto.tfvars").read_text()).group(1)
                                        for r in roots.iterdir() if r.name != name}
    backing = yaml.safe_load((clone / "environments" / f"{name}.yaml").read_text())["backing"]
    assert {b["cidr"] for b in backing.values()} == {f"10.{vpc.group(1)}.0.0/17"}


def test_bad_input_exits_2_and_writes_nothing(clone):
    cases = [
        ("new", "component", "user-service", "--like", "api-gateway"),             # exists
        ("new", "component", "kyc", "--like", "nope"),                             # unknown --like
        ("new", "component", "Kyc_Service", "--like", "user-service"),             # invalid name
        ("new", "component", "kyc", "--like", "user-service", "--enable", "uat", "--tag", "v1.0.0"),
        ("new", "component", "kyc", "--like", "user-service", "--enable", "prod", "--tag", "v1.0.0"),  # not in staging first
        ("new", "environment", "staging", "--after", "dev"),                       # exists
        ("new", "environment", "qa", "--after", "uat"),                            # unknown --after
        ("new", "environment", "QA", "--after", "dev"),                            # invalid name
    ]
    for args in cases:
        proc = run_gitops(clone, *args)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert re.search(r"^  (\(command line\)|\S+?(:\d+)?) at \S+: ", proc.stderr, re.M), proc.stderr  # located, file:line at field
        assert _changed(clone) == [], args


def test_readme_bump_example_names_a_real_component_and_valid_versions():
    lines = [shlex.split(line) for line in _section("Promoting a release").splitlines() if line.startswith("gitops bump ")]
    assert lines, "the promotion example shows gitops bump"
    for argv in lines:
        service = _option_values(argv, "--service")[0]
        assert (REPO / "inventory" / f"{service}.yaml").is_file(), service
        check_value("image.tag", _option_values(argv, "--tag")[0])
        check_value("image.digest", _option_values(argv, "--digest")[0])
