"""Holds: stop promotions into one environment until someone releases it.

A hold is a committed file ``holds/<env>.yaml`` (not a field in the environment file):
- ``environments/*.yaml`` must stay environments (the loader reads every file there);
- a hold is operational state, not configuration: placing or releasing one must not
  re-render ``dist/`` or show up in a promotion as a "local field";
- one file per environment gives a readable history (``git log holds/prod.yaml``)
  and never conflicts with a concurrent edit of the environment file.

Promotion checks the hold in the working tree *and* on the remote's default branch,
so a hold pushed by a colleague stops a promotion from a stale checkout too.
Rollbacks are allowed under a hold (that is usually why the environment is held).
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import GitopsError, InputError, Problem

HOLDS_DIR = "holds"


@dataclass(frozen=True)
class Hold:
    environment: str
    reason: str
    held_by: str = ""
    since: str = ""
    where: str = ""

    def describe(self) -> str:
        who = f" by {self.held_by}" if self.held_by else ""
        when = f" since {self.since}" if self.since else ""
        return f"{self.environment} is on hold{who}{when}: {self.reason}"


def hold_relpath(env: str) -> str:
    return f"{HOLDS_DIR}/{env}.yaml"


def parse_hold(env: str, text: bytes | str | None, where: str = "") -> Hold | None:
    if text is None:
        return None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise InputError(Problem(where or hold_relpath(env), "", f"malformed hold file: {exc}")) from exc
    if not isinstance(data, dict):
        data = {}
    return Hold(environment=str(data.get("environment", env)), reason=str(data.get("reason", "(no reason given)")),
                held_by=str(data.get("heldBy", "")), since=str(data.get("since", "")), where=where or hold_relpath(env))


def read_hold(root: Path, env: str) -> Hold | None:
    path = Path(root) / hold_relpath(env)
    return parse_hold(env, path.read_bytes(), hold_relpath(env)) if path.is_file() else None


def render_hold(env: str, reason: str, held_by: str, now: _dt.datetime | None = None) -> str:
    now = now or _dt.datetime.now(_dt.timezone.utc)
    data = {"environment": env, "reason": reason, "heldBy": held_by,
            "since": now.replace(microsecond=0).isoformat().replace("+00:00", "Z")}
    return (f"# Promotions into {env} are stopped until `gitops release --env {env}`.\n"
            "# Rollbacks are still allowed. See docs/promotion.md.\n"
            + yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def _commit_hold_change(root: Path, rel: str, message: str) -> str | None:
    """Commit exactly the hold file on the current branch (other staged or unstaged changes stay as they are)."""
    from .git import Git, GitError
    git = Git(root)
    try:
        git.toplevel()
    except GitError:
        return None  # not a git checkout: the file alone is the hold
    if git.current_branch() is None:
        raise GitopsError("HEAD is detached: check out a branch to commit the hold")
    git.run("add", "--all", "--", rel)
    git.run("commit", "--quiet", "--no-verify", "-m", message, "--only", "--", rel)
    return git.head()


def place_hold(root: Path | str, env: str, reason: str, *, commit: bool = True) -> dict:
    root = Path(root)
    if not (reason or "").strip():
        raise InputError(Problem("(command line)", "--reason", "a hold needs a reason (who should know what?)"))
    if not (root / "environments" / f"{env}.yaml").is_file():
        raise InputError(Problem("(command line)", "--env", f"unknown environment {env!r} (no environments/{env}.yaml)"))
    existing = read_hold(root, env)
    if existing:
        return {"changed": False, "hold": existing.__dict__, "commit": None,
                "message": f"already held: {existing.describe()}"}
    from .git import Git
    held_by = Git(root).user() if commit else ""
    path = root / hold_relpath(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_hold(env, reason.strip(), held_by), encoding="utf-8")
    sha = None
    if commit:
        try:
            sha = _commit_hold_change(root, hold_relpath(env), f"hold({env}): stop promotions into {env}\n\n"
                                      f"{' '.join(reason.split())}\n\nHold: {env}\n")
        except BaseException:
            path.unlink(missing_ok=True)
            raise
    hold = read_hold(root, env)
    return {"changed": True, "hold": hold.__dict__ if hold else None, "commit": sha,
            "message": f"{env} is on hold" + (f" (committed {sha[:12]}; push it so that everyone's promotions stop)" if sha else "")}


def release_hold(root: Path | str, env: str, *, commit: bool = True) -> dict:
    root = Path(root)
    existing = read_hold(root, env)
    if existing is None:
        return {"changed": False, "commit": None, "message": f"{env} is not on hold"}
    path = root / hold_relpath(env)
    original = path.read_bytes()
    path.unlink()
    sha = None
    if commit:
        try:
            sha = _commit_hold_change(root, hold_relpath(env), f"release({env}): resume promotions into {env}\n\nRelease: {env}\n")
        except BaseException:
            path.write_bytes(original)
            raise
    return {"changed": True, "commit": sha,
            "message": f"{env} released" + (f" (committed {sha[:12]}; push it)" if sha else "")}
