"""Writing generated trees safely: render to a temporary folder, then swap it in.

A folder owned by the generator (dist/<env>) is replaced as a whole, so stale files
disappear, and a failure before the swap leaves the old folder exactly as it was.
"""
from __future__ import annotations

import errno
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path


def read_tree(folder: Path) -> dict[str, bytes]:
    """{path relative to ``folder``: bytes} of every file below it, in path order.

    Like ``sorted(folder.rglob("*"))`` with ``is_file()`` (symlinked folders are not entered,
    symlinked files are read), through os.scandir: synth reads every current tree on each run,
    ~500 files, and pathlib cost ~60 us per file of it.
    """
    out: dict[str, bytes] = {}
    pending = [(os.fspath(folder), "")]
    while pending:
        directory, prefix = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            rel = prefix + entry.name
            if entry.is_dir(follow_symlinks=False):
                pending.append((entry.path, rel + "/"))
            elif entry.is_file():
                with open(entry.path, "rb") as fh:
                    out[rel] = fh.read()
    return {rel: out[rel] for rel in sorted(out, key=lambda rel: rel.split("/"))}


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


STAGING_PREFIX = ".tmp-"   # a folder being written; never the live tree
OLD_PREFIX = ".old-"       # the previous tree, only while the two-rename fallback swaps


def current_umask() -> int:
    """The process umask, read without changing it (``os.umask`` can only be read by setting it)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def stage_tree(files: dict[str, bytes], target: Path, link_unchanged: set[str] = frozenset()) -> Path:
    """Write ``files`` into a fresh temporary sibling of ``target``; returns its path.

    mkdtemp creates 0700: the staging folder becomes the live folder, so it gets the mode any
    folder gets under the umask (0755 under 022), like the files and subfolders inside it.
    ``link_unchanged``: paths whose bytes equal ``target``'s copy are hard-linked from it instead
    of written again (when its mode is the one a new file would get); the swap deletes only the
    old name, so the content is shared, never changed.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{target.name}-", dir=target.parent))
    file_mode = 0o666 & ~current_umask()
    os.chmod(staging, 0o777 & ~current_umask())
    # Plain strings and one mkdir per folder: a one-line change restages ~200 files per
    # environment, and pathlib objects plus a mkdir per file tripled the cost of each.
    staging_s, target_s = str(staging), str(target)
    made = {""}
    for rel, data in files.items():
        folder = os.path.dirname(rel)
        if folder not in made:
            os.makedirs(os.path.join(staging_s, folder), exist_ok=True)
            made.add(folder)
        path = os.path.join(staging_s, rel)
        if rel in link_unchanged:
            old = os.path.join(target_s, rel)
            try:
                if (os.stat(old).st_mode & 0o777) == file_mode:
                    os.link(old, path)
                    continue
            except OSError:
                pass
        with open(path, "wb") as out:
            out.write(data)
    return staging


def _renameat2_exchange():
    """``renameat2(..., RENAME_EXCHANGE)`` through libc, or None where it does not exist.

    Linux >= 3.15 swaps two paths in one step (man 2 rename, RENAME_EXCHANGE; glibc >= 2.28
    exports the wrapper): a reader or a crash sees the old tree or the new one, never neither.
    """
    import ctypes

    from .crashsafe import libc

    fn = getattr(libc(), "renameat2", None)
    if fn is None:
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    at_fdcwd, rename_exchange = -100, 2

    def exchange(a: Path, b: Path) -> bool:
        if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
            return True
        err = ctypes.get_errno()
        if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):  # file system or kernel without it
            return False
        raise OSError(err, os.strerror(err), str(b))
    return exchange


_EXCHANGE = _renameat2_exchange()


def swap_in(staging: Path, target: Path) -> None:
    """Replace the folder ``target`` with ``staging`` in one atomic step.

    Linux: ``renameat2(RENAME_EXCHANGE)`` swaps the two folders, then the old tree (now at the
    staging path) is deleted; a kill at any instant leaves ``target`` wholly old or wholly new
    plus at most a ``.tmp-*`` folder, which ``clean_leftovers`` removes. A new ``target`` appears
    with one ``rename(2)``. Fallback (no renameat2, e.g. macOS or a file system refusing it): two
    renames through ``.old-<name>-<pid>``; a kill between them leaves ``target`` missing until the
    next run, whose ``clean_leftovers`` puts the old tree back before anything else.
    """
    if not target.exists():
        os.rename(staging, target)
        return
    if _EXCHANGE is not None and _EXCHANGE(staging, target):
        shutil.rmtree(staging, ignore_errors=True)  # holds the old tree now
        return
    old = target.parent / f"{OLD_PREFIX}{target.name}-{os.getpid()}"
    if old.exists():
        shutil.rmtree(old)
    os.replace(target, old)
    try:
        os.replace(staging, target)
    except OSError:
        os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def clean_leftovers(folder: Path) -> list[Path]:
    """Remove what an interrupted swap left in ``folder``; returns the paths it removed or restored.

    ``.tmp-*`` is a staging folder (or, after an exchange, an old tree): always garbage.
    ``.old-<name>-<pid>`` is the fallback's old tree: put back when ``<name>`` is missing
    (the kill fell between the two renames), else garbage. Call only under the synth lock.
    """
    touched: list[Path] = []
    if not folder.is_dir():
        return touched
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(OLD_PREFIX) and entry.is_dir():
            name = entry.name[len(OLD_PREFIX):].rsplit("-", 1)[0]
            live = folder / name
            if name and not live.exists():
                os.rename(entry, live)
            else:
                shutil.rmtree(entry, ignore_errors=True)
            touched.append(entry)
        elif entry.name.startswith(STAGING_PREFIX):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            touched.append(entry)
    return touched


def clean_file_leftovers(path: Path) -> list[Path]:
    """Remove temporary siblings ``.<name>.*`` that an interrupted ``write_file_atomic`` left."""
    if not path.parent.is_dir():
        return []
    leftovers = sorted(path.parent.glob(f".{path.name}.*"))
    for leftover in leftovers:
        leftover.unlink(missing_ok=True)
    return leftovers


def write_file_atomic(path: Path, data: bytes) -> bool:
    """Write only when the content changes; returns whether it did."""
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fh.fileno(), 0o666 & ~current_umask())  # mkstemp creates 0600
        fh.write(data)
    os.replace(tmp, path)
    return True
