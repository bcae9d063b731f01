"""cdk8s's JavaScript, exactly as the installed cdk8s Python package runs it, as a node_modules folder.

The cdk8s and constructs Python packages are jsii bindings: each embeds its npm tarball
(``cdk8s/_jsii/cdk8s@<version>.jsii.tgz``), which jsii's kernel extracts and loads in Node. The
resolver (resolver.js) loads that same code without the kernel, from
``.cache/cdk8s-js/<digest>/node_modules/{cdk8s,constructs}``: extracted once per pair of tarballs
(the digest is of their bytes, so an upgrade of either gets a folder of its own; one extraction at
a time, renamed into place when complete), and found by cdk8s's own ``require('constructs')`` as
its sibling. The folder belongs to the code's checkout, like the bytecode: `--check` may create it. The pins in pyproject.toml thus stay the one
place that says which cdk8s renders.

Not a cache of results: like jsii's own package cache (~/.cache/aws/jsii/package-cache, used
whatever ``--no-cache`` says), it holds only the installed library's files.
"""
from __future__ import annotations

import fcntl
import functools
import hashlib
import os
import shutil
import tarfile
from importlib.util import find_spec
from pathlib import Path

from ..errors import GitopsError

PACKAGES = ("constructs", "cdk8s")  # cdk8s's only jsii dependency is constructs; its other ones are bundled
PROJECT_ROOT = Path(__file__).resolve().parents[2]
CACHE = PROJECT_ROOT / ".cache" / "cdk8s-js"


class MissingLibrary(GitopsError):
    """The installed Python package has no embedded tarball (not a jsii binding, or broken)."""


def tarball(package: str) -> Path:
    """The npm tarball the installed Python ``package`` embeds (found without importing it: that starts Node)."""
    spec = find_spec(package)
    folders = list(spec.submodule_search_locations or []) if spec else []
    found = sorted(p for folder in folders for p in (Path(folder) / "_jsii").glob(f"{package}@*.jsii.tgz"))
    if len(found) != 1:
        raise MissingLibrary(f"expected one {package}@<version>.jsii.tgz in the installed {package} Python package, "
                             f"found {len(found)}; reinstall with `make deps`")
    return found[0]


MARKER = ".extracted"  # written last, before the folder is renamed into place


def _complete(target: Path) -> bool:
    return (target / MARKER).is_file() and all((target / p / "package.json").is_file() for p in PACKAGES)


def node_modules() -> Path:
    """The folder that holds cdk8s and constructs for Node, extracted on first use.

    Raises OSError (e.g. a read-only .cache) or tarfile.TarError; the caller reports them.
    """
    tarballs = {package: tarball(package) for package in PACKAGES}
    target = CACHE / _digest(tuple(tarballs.values())) / "node_modules"
    if _complete(target):
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    # One extraction at a time (a run that waited finds the folder complete); a folder that is not
    # complete under the lock was emptied by hand, and no run can be using it: extract it again.
    with open(CACHE / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _complete(target):
            return target
        shutil.rmtree(target.parent, ignore_errors=True)
        for leftover in CACHE.glob(".*-*"):  # staging folders of runs killed while extracting
            shutil.rmtree(leftover, ignore_errors=True)
        staging = target.parent.with_name(f".{target.parent.name}-{os.getpid()}")
        try:
            for package, path in tarballs.items():
                with tarfile.open(path) as archive:
                    archive.extractall(staging / "node_modules" / package, filter=_strip_package_prefix)
            (staging / "node_modules" / MARKER).write_text("\n".join(p.name for p in tarballs.values()) + "\n")
            os.rename(staging, target.parent)  # the folder appears complete, or not at all
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target


@functools.lru_cache(maxsize=None)
def _digest(tarballs: tuple[Path, ...]) -> str:
    """Of the tarballs' names and bytes (once per process: a run may start more than one resolver)."""
    digest = hashlib.sha256()
    for path in tarballs:
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:32]


def _strip_package_prefix(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo | None:
    """npm tarballs hold everything under ``package/``; refuse anything tarfile's "data" filter refuses
    (absolute paths, links out of the folder, devices)."""
    if not member.name.startswith("package/"):
        return None
    changes = {"name": member.name[len("package/"):]}
    if member.islnk() and member.linkname.startswith("package/"):  # a hard link names a member
        changes["linkname"] = member.linkname[len("package/"):]
    return tarfile.data_filter(member.replace(**changes, deep=False), dest)
