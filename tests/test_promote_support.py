"""Shared set-up for the promotion tests: a real git repository with a real bare remote.

The platform is the `mini` fixture plus a staging environment (dev -> staging -> prod),
synthesized once per session; each test gets a copy (repository and remote), so tests
never share git state. The remote is configured as https://github.com/meetinity/gitops.git
(owner/repo are read from it) and redirected to the bare repository with
``url.<bare>.insteadOf``, exactly as git would rewrite it.
"""
from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from gitops.promote.promote import Options

from .conftest import MINI, REPO, copy_inputs

REMOTE_URL = "https://github.com/meetinity/gitops.git"
DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64
DIGEST_C = "sha256:" + "c" * 64


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout.strip()


@dataclass
class Setup:
    base: Path

    @property
    def root(self) -> Path:
        return self.base / "work"

    @property
    def bare(self) -> Path:
        return self.base / "remote.git"

    def git(self, *args: str) -> str:
        return git(self.root, *args)

    def remote_git(self, *args: str) -> str:
        return git(self.bare, *args)

    def remote_branches(self) -> list[str]:
        out = self.remote_git("for-each-ref", "--format=%(refname:short)", "refs/heads/")
        return sorted(out.splitlines())

    def snapshot(self) -> dict:
        """Everything a failed promotion must leave untouched."""
        files = {p.relative_to(self.root).as_posix(): p.read_bytes() for p in sorted(self.root.rglob("*"))
                 if p.is_file() and ".git" not in p.relative_to(self.root).parts and ".cache" not in p.parts}
        return {"files": files, "status": self.git("status", "--porcelain"), "head": self.git("rev-parse", "HEAD"),
                "branch": self.git("symbolic-ref", "--short", "HEAD"),
                "branches": self.git("for-each-ref", "--format=%(refname)", "refs/heads/"),
                "worktrees": self.git("worktree", "list", "--porcelain").count("worktree "),
                "remote": self.remote_branches()}

    def commit_all(self, message: str) -> str:
        self.git("add", "--all")
        self.git("commit", "--quiet", "-m", message)
        return self.git("rev-parse", "HEAD")

    def merge(self, branch: str) -> None:
        """What pressing "Merge" on GitHub does: a merge commit on main, pushed."""
        self.git("fetch", "--quiet", "origin")
        self.git("merge", "--quiet", "--no-ff", "-m", f"Merge {branch}", f"origin/{branch}")
        self.git("push", "--quiet", "origin", "main")

    def env_text(self, env: str) -> str:
        return (self.root / "environments" / f"{env}.yaml").read_text()


def build_template(base: Path) -> Setup:
    setup = Setup(base)
    root = copy_inputs(MINI, setup.root)
    prod = (root / "environments" / "prod.yaml").read_text()
    staging = ("# Staging: production-like, promoted from dev; images may be unpinned.\n"
               + prod.replace("prod", "staging").replace("10.2.0.0", "10.1.0.0")
               .replace("requireDigest: true, autoSync: false", "requireDigest: false, autoSync: true"))
    # dev has no Argo CD in these tests: staging asks for no soak (the soak and alerts gates are off, a warning).
    (root / "environments" / "staging.yaml").write_text(staging + "soak: 0s\n")
    # prod keeps the gates: promotions into it read staging's Argo CD and Prometheus (the stand-ins).
    (root / "environments" / "prod.yaml").write_text(
        "# Production: promoted from staging only, pinned by digest.\n" + prod.replace("promotesFrom: dev", "promotesFrom: staging")
        + "soak: 24h\n")
    # dev runs what the build job bumped: tag and digest (as prod and staging do).
    dev = (root / "environments" / "dev.yaml").read_text()
    dev = dev.replace("image: {tag: v1.2.0}", 'image: {tag: v1.2.0, digest: "sha256:' + "1" * 64 + '"}')
    dev = dev.replace("image: {tag: v0.9.1}", 'image: {tag: v0.9.1, digest: "sha256:' + "2" * 64 + '"}', 1)
    (root / "environments" / "dev.yaml").write_text(dev)
    (root / ".gitignore").write_text(".cache/\n")
    from gitops.pipeline.synth import synth
    synth(root, no_cache=True)
    git(base, "init", "--quiet", "--bare", "-b", "main", str(setup.bare))
    git(base, "init", "--quiet", "-b", "main", str(root))
    for key, value in (("user.name", "Release Bot"), ("user.email", "bot@example.com"), ("commit.gpgsign", "false")):
        setup.git("config", key, value)
    setup.git("remote", "add", "origin", REMOTE_URL)
    setup.git("config", f"url.{setup.bare}.insteadOf", REMOTE_URL)
    setup.commit_all("platform: dev -> staging -> prod")
    setup.git("push", "--quiet", "-u", "origin", "main")
    return setup


@functools.lru_cache(maxsize=None)
def template() -> Setup:
    """Built once per test process (synth of three environments), copied by every test that needs it."""
    base = Path(tempfile.mkdtemp(prefix="gitops-promote-template-"))
    atexit.register(shutil.rmtree, base, True)
    return build_template(base / "t")


def copy_setup(template: Setup, base: Path) -> Setup:
    shutil.copytree(template.base, base, symlinks=True)
    setup = Setup(base)
    setup.git("config", "--remove-section", f"url.{template.bare}")
    setup.git("config", f"url.{setup.bare}.insteadOf", REMOTE_URL)
    return setup


@pytest.fixture
def setup(tmp_path, fake_github, monkeypatch) -> Setup:
    """A fresh copy of the template whose remote the module's fake GitHub knows; no retry back-off.
    Import it into a test module to use it (``from .test_promote_support import setup``)."""
    s = copy_setup(template(), tmp_path / "s")
    fake_github.reset()
    fake_github.git_dir = s.bare
    monkeypatch.setenv("GITOPS_GITHUB_BACKOFF", "0")
    return s


def opts(fake_github, **kw) -> Options:
    """In-process promotion options against the fake GitHub, ``kw`` overriding."""
    return Options(**{"token": fake_github.token, "api_url": fake_github.url, **kw})


def cli_env(fake, extra: dict | None = None) -> dict:
    env = {**os.environ, **(extra or {}), "GITHUB_TOKEN": fake.token, "GITHUB_API_URL": fake.url, "GITOPS_GITHUB_BACKOFF": "0.01",
           "GITOPS_GITHUB_TIMEOUT": "5", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}
    env.pop("GITHUB_REPOSITORY", None)
    for var in [v for v in env if v.startswith(("ARGOCD_", "PROMETHEUS_URL")) and v not in (extra or {})]:
        env.pop(var)  # the soak/alerts gates read only the stand-ins a test names, never the caller's real servers
    env.pop("GITOPS_SCHEMA_LOCATION", None)  # the validation gate needs no option: the repository's schemas
    return env


def gitops(setup: Setup, fake, *args: str, expect: int | None = 0, spawn: bool = False,
           env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the gitops CLI: in-process through click's runner (fast), or as a real process (``spawn``).

    ``env``: extra variables (the Argo CD and Prometheus stand-ins' ARGOCD_*/PROMETHEUS_URL*)."""
    env = cli_env(fake, env) if fake else env
    if spawn:
        proc = subprocess.run([sys.executable, "-m", "gitops", "--root", str(setup.root), *args], capture_output=True,
                              text=True, cwd=REPO, env=env)
    else:
        from click.testing import CliRunner
        from gitops.cli import main
        result = CliRunner().invoke(main, ["--root", str(setup.root), *args], env=env, catch_exceptions=False)
        proc = subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)
    if expect is not None and proc.returncode != expect:
        raise AssertionError(f"gitops {' '.join(args)} exited {proc.returncode} (expected {expect})\n"
                             f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


def trailers(setup: Setup, ref: str) -> dict[str, str]:
    out = setup.git("log", "-1", "--format=%(trailers:unfold,separator=%x1e)", ref)
    pairs = [line.split(": ", 1) for line in out.split("\x1e") if ": " in line]
    return {k.strip(): v.strip() for k, v in pairs}


def with_migrations(setup: Setup) -> str:
    """shop-api gets a migrations job from its own image (inventory runsBefore), at shop-api's version in every
    environment; rendered and committed. Returns the commit."""
    import re

    from gitops.pipeline.synth import synth

    from .inventory_samples import inventory_yaml, migrations_of

    (setup.root / "inventory" / "shop-api-migrations.yaml").write_text(
        inventory_yaml(migrations_of("shop-api", "shop-api-migrations")))
    for env in ("dev", "staging", "prod"):
        path = setup.root / "environments" / f"{env}.yaml"
        text = path.read_text()
        image = re.search(r"\n  shop-api:\n(?:    .*\n)*?    (image: \{.*\})\n", text).group(1)
        path.write_text(text.replace("\n  shop-api:\n", f"\n  shop-api-migrations:\n    enabled: true\n    {image}\n  shop-api:\n", 1))
    synth(setup.root)
    return setup.commit_all("shop-api gets migrations")
