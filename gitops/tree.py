"""Writing generated trees safely: render to a temporary folder, then swap it in.

A folder owned by the generator (dist/<env>) is replaced as a whole, so stale files
disappear, and a failure before the swap leaves the old folder exactly as it was.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path


def read_tree(folder: Path) -> dict[str, bytes]:
    if not folder.is_dir():
        return {}
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            out[path.relative_to(folder).as_posix()] = path.read_bytes()
    return out


@dataclass
class TreeDiff:
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.changed or self.missing or self.extra)

    def lines(self, prefix: str = "") -> list[str]:
        return ([f"changed  {prefix}{p}" for p in self.changed] + [f"missing  {prefix}{p}" for p in self.missing]
                + [f"stale    {prefix}{p}" for p in self.extra])


def compare_tree(expected: dict[str, bytes], folder: Path, ignore: tuple[str, ...] = ()) -> TreeDiff:
    actual = {k: v for k, v in read_tree(folder).items() if k not in ignore}
    diff = TreeDiff()
    for path in sorted(set(expected) | set(actual)):
        if path not in actual:
            diff.missing.append(path)
        elif path not in expected:
            diff.extra.append(path)
        elif expected[path] != actual[path]:
            diff.changed.append(path)
    return diff


def stage_tree(files: dict[str, bytes], target: Path) -> Path:
    """Write ``files`` into a fresh temporary sibling of ``target``; returns its path."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".tmp-{target.name}-", dir=target.parent))
    for rel, data in files.items():
        path = staging / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return staging


def swap_in(staging: Path, target: Path) -> None:
    """Replace ``target`` with ``staging`` using renames (atomic per folder on POSIX)."""
    old = None
    if target.exists():
        old = target.parent / f".old-{target.name}-{os.getpid()}"
        if old.exists():
            shutil.rmtree(old)
        os.replace(target, old)
    try:
        os.replace(staging, target)
    except OSError:
        if old is not None:
            os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_file_atomic(path: Path, data: bytes) -> bool:
    """Write only when the content changes; returns whether it did."""
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)
    return True
