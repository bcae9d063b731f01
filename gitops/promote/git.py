"""Real git through subprocess: no libgit2, no re-implementation of git's rules.

Everything that creates a commit for a promotion happens in a temporary worktree
(:func:`temp_worktree`), so the user's checkout, index and current branch are never
touched, whatever step fails. Nothing here force-pushes or rewrites history.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

from ..errors import GitopsError
from ..ops.urls import redact_text


class GitError(GitopsError):
    def __init__(self, message: str, stderr: str = ""):
        # Commands and git's own messages name remote URLs: never let a credential in them through.
        message, stderr = redact_text(message), redact_text(stderr)
        super().__init__(message + (f"\n  git said: {stderr.strip()}" if stderr.strip() else ""))
        self.stderr = stderr


class PushRejected(GitError):
    pass


ZERO = "0" * 40


class Git:
    def __init__(self, cwd: Path | str):
        self.cwd = Path(cwd)

    def run(self, *args: str, check: bool = True, input: bytes | None = None, env: dict | None = None) -> str:
        return self.run_bytes(*args, check=check, input=input, env=env).decode("utf-8", "replace").strip()

    def run_bytes(self, *args: str, check: bool = True, input: bytes | None = None, env: dict | None = None) -> bytes:
        full_env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", **(env or {})}
        try:
            proc = subprocess.run(["git", *args], cwd=self.cwd, input=input, capture_output=True, env=full_env)
        except FileNotFoundError as exc:  # pragma: no cover - git missing
            raise GitError("git is not installed") from exc
        if check and proc.returncode != 0:
            raise GitError(f"`git {' '.join(args)}` failed (exit {proc.returncode})", proc.stderr.decode("utf-8", "replace"))
        return proc.stdout

    # ------------------------------------------------------------------ queries
    def toplevel(self) -> Path:
        try:
            return Path(self.run("rev-parse", "--show-toplevel"))
        except GitError as exc:
            raise GitError(f"{self.cwd} is not inside a git repository") from exc

    def prefix(self) -> str:
        """Path of cwd inside the repository ('' at the top level, else 'sub/dir/')."""
        return self.run("rev-parse", "--show-prefix")

    def head(self) -> str:
        return self.run("rev-parse", "--verify", "HEAD")

    def current_branch(self) -> str | None:
        proc = subprocess.run(["git", "symbolic-ref", "--quiet", "--short", "HEAD"], cwd=self.cwd, capture_output=True, text=True)
        return proc.stdout.strip() if proc.returncode == 0 else None

    def dirty(self, *paths: str) -> list[str]:
        """Paths with uncommitted changes (untracked included), as git prints them.

        Parsed from ``--porcelain -z`` bytes, unstripped: every entry is ``XY <path>``, and the status
        column X may be a space (`` M file``), so stripping the output would eat a path's first
        character. A rename entry is followed by its source path, which is skipped.
        (git-status(1), "Porcelain Format Version 1": https://git-scm.com/docs/git-status#_porcelain_format_version_1)
        """
        out = self.run_bytes("status", "--porcelain", "-z", "--untracked-files=normal", "--", *paths)
        entries = out.decode("utf-8", "replace").split("\0")
        found, i = [], 0
        while i < len(entries):
            entry = entries[i]
            i += 1
            if len(entry) < 4:
                continue
            found.append(entry[3:])
            if entry[0] in "RC":
                i += 1  # the rename/copy source path
        return found

    def rev(self, ref: str) -> str | None:
        proc = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd=self.cwd,
                              capture_output=True, text=True)
        return proc.stdout.strip() if proc.returncode == 0 else None

    def is_ancestor(self, a: str, b: str) -> bool:
        return subprocess.run(["git", "merge-base", "--is-ancestor", a, b], cwd=self.cwd, capture_output=True).returncode == 0

    def remote_url(self, remote: str) -> str:
        """The URL as configured (before any url.<base>.insteadOf rewriting)."""
        try:
            return self.run("config", "--get", f"remote.{remote}.url")
        except GitError as exc:
            raise GitError(f"no git remote named {remote!r}; add one (git remote add {remote} <url>)") from exc

    def fetch(self, remote: str) -> None:
        try:
            self.run("fetch", "--quiet", "--no-tags", remote)
        except GitError as exc:
            raise GitError(f"cannot fetch from {remote!r}", exc.stderr) from exc

    def default_branch(self, remote: str) -> str:
        """The remote's default branch: origin/HEAD if known, else what the remote's HEAD points to, else main."""
        proc = subprocess.run(["git", "symbolic-ref", "--quiet", f"refs/remotes/{remote}/HEAD"], cwd=self.cwd,
                              capture_output=True, text=True)
        if proc.returncode == 0 and proc.stdout.strip():
            return proc.stdout.strip().removeprefix(f"refs/remotes/{remote}/")
        proc = subprocess.run(["git", "ls-remote", "--symref", remote, "HEAD"], cwd=self.cwd, capture_output=True, text=True,
                              env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
        match = re.search(r"^ref: refs/heads/(\S+)\s+HEAD", proc.stdout, re.M)
        if match:
            return match.group(1)
        for candidate in ("main", "master"):
            if self.rev(f"refs/remotes/{remote}/{candidate}"):
                return candidate
        return "main"

    def show(self, ref: str, path: str) -> bytes | None:
        """File content at ``ref`` (path relative to cwd), or None when it does not exist there."""
        proc = subprocess.run(["git", "show", f"{ref}:./{path}"], cwd=self.cwd, capture_output=True)
        return proc.stdout if proc.returncode == 0 else None

    def tree_files(self, ref: str, relpath: str) -> dict[str, bytes]:
        """{path relative to relpath: bytes} for the folder ``relpath`` (relative to cwd) at ``ref``."""
        if self.rev(ref) is None:
            raise GitError(f"unknown git ref {ref!r}")
        relpath = relpath.rstrip("/")
        listing = self.run_bytes("ls-tree", "-r", "-z", ref, "--", relpath + "/")
        entries = []
        for item in listing.split(b"\0"):
            if not item:
                continue
            meta, _, path = item.partition(b"\t")
            _mode, otype, oid = meta.split()
            if otype == b"blob":
                entries.append((path.decode(), oid.decode()))
        if not entries:
            return {}
        batch = self.run_bytes("cat-file", "--batch", input="".join(f"{oid}\n" for _, oid in entries).encode())
        out, pos = {}, 0
        for path, _oid in entries:
            header_end = batch.index(b"\n", pos)
            size = int(batch[pos:header_end].split()[2])
            start = header_end + 1
            rel = path[len(relpath) + 1:] if path.startswith(relpath + "/") else path
            out[rel] = batch[start:start + size]
            pos = start + size + 1
        return out

    def log_trailers(self, ref: str, keys: tuple[str, ...]) -> list[dict]:
        """[{sha, parents, subject, <key>: [values]}] for every commit reachable from ref, newest first."""
        fmt = "%H%x1f%P%x1f%s" + "".join(f"%x1f%(trailers:key={k},valueonly,separator=%x1d)" for k in keys) + "%x1e"
        out = self.run("log", f"--format={fmt}", ref)
        commits = []
        for record in out.split("\x1e"):
            record = record.strip("\n")
            if not record:
                continue
            parts = record.split("\x1f")
            item = {"sha": parts[0], "parents": parts[1].split(), "subject": parts[2]}
            for key, value in zip(keys, parts[3:]):
                item[key] = [v.strip() for v in value.split("\x1d") if v.strip()]
            commits.append(item)
        return commits

    def user(self) -> str:
        name = self.run("config", "--get", "user.name", check=False) or os.environ.get("GIT_AUTHOR_NAME", "")
        email = self.run("config", "--get", "user.email", check=False) or os.environ.get("GIT_AUTHOR_EMAIL", "")
        return f"{name} <{email}>".strip() if (name or email) else "unknown"

    # ------------------------------------------------------------------ writes
    def commit_paths(self, paths: list[str], message: str) -> str | None:
        """Stage exactly ``paths`` (additions, edits and deletions) and commit; None when nothing changed."""
        existing = [p for p in paths if (self.cwd / p).exists() or self.run("ls-files", "--", p)]
        if not existing:
            return None
        self.run("add", "--all", "--", *existing)
        if subprocess.run(["git", "diff", "--cached", "--quiet", "--", *existing], cwd=self.cwd).returncode == 0:
            return None
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as fh:
            fh.write(message)
        try:
            self.run("commit", "--quiet", "--no-verify", "-F", fh.name, "--", *existing)
        finally:
            os.unlink(fh.name)
        return self.head()

    def update_branch(self, branch: str, new: str, old: str | None) -> None:
        """Create or fast-forward refs/heads/<branch> (compare-and-swap on the old value)."""
        self.run("update-ref", "-m", "gitops promote", f"refs/heads/{branch}", new, old or ZERO)

    def push(self, remote: str, sha: str, branch: str) -> None:
        """Push ``sha`` to ``branch`` on the remote. Never forced: a non fast-forward is rejected."""
        proc = subprocess.run(["git", "push", "--porcelain", remote, f"{sha}:refs/heads/{branch}"], cwd=self.cwd,
                              capture_output=True, text=True, env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
        if proc.returncode != 0:
            raise PushRejected(f"push of {branch} to {remote} was rejected", proc.stderr + proc.stdout)


@contextmanager
def temp_worktree(git: Git, start: str):
    """A throw-away worktree at ``start`` (detached). Removed whatever happens inside."""
    top = git.toplevel()
    path = Path(tempfile.mkdtemp(prefix="gitops-worktree-"))
    base = Git(top)
    base.run("worktree", "prune")
    try:
        base.run("worktree", "add", "--quiet", "--detach", str(path), start)
    except GitError:
        shutil.rmtree(path, ignore_errors=True)
        raise
    try:
        yield Git(path)
    finally:
        base.run("worktree", "remove", "--force", str(path), check=False)
        shutil.rmtree(path, ignore_errors=True)
        base.run("worktree", "prune", check=False)


def parse_remote(url: str) -> tuple[str, str] | None:
    """owner/repo from a GitHub remote URL: https://host/o/r(.git), git@host:o/r(.git), ssh://git@host[:port]/o/r."""
    url = url.strip()
    patterns = (
        r"^(?:https?|git|ssh)://(?:[^@/]+@)?[^/]+/(?P<owner>[^/]+)/(?P<repo>[^/]+?)(?:\.git)?/?$",
        r"^(?:[^@/]+@)?[^:/]+:(?P<owner>[^/]+)/(?P<repo>[^/]+?)(?:\.git)?/?$",
    )
    for pattern in patterns:
        match = re.match(pattern, url)
        if match:
            return match.group("owner"), match.group("repo")
    return None
