"""Import CRD manifests into the repository's schema folder and keep its lock in step.

One import replaces every schema of the given project (a new version may drop or add kinds),
in a copy of the folder that is swapped in only when everything converted: bad input changes
no schema file and not the lock.
"""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import gitops

from ..errors import InputError, Problem
from .convert import crd_schemas
from .lock import LOCK_NAME, Lock, Source, read_lock, sha256
from .sources import Manifest, fetch_url, is_url, parse_crds

# The schemas shipped with the package (setuptools package-data): what `gitops validate` uses
# for any --root that has no schema folder of its own.
PACKAGE_SCHEMAS = Path(gitops.__file__).resolve().parent / "schemas" / "crds"


def schema_dir(root: Path) -> Path:
    """The schema folder of the repository at ``root``."""
    return Path(root) / "gitops" / "schemas" / "crds"


@dataclass
class ImportResult:
    written: list[str] = field(default_factory=list)   # schema paths added or changed
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"written": self.written, "unchanged": self.unchanged, "removed": self.removed,
                "sources": [s.as_dict() for s in self.sources]}


def convert_manifests(project: str, version: str, manifests: list[Manifest]) -> tuple[list[Source], dict[str, bytes]]:
    sources, files = [], {}
    for m in manifests:
        source = Source(project, version, m.url, m.sha256)
        for crd in parse_crds(m):
            name = (crd.get("metadata") or {}).get("name", "?") if isinstance(crd.get("metadata"), dict) else "?"
            try:
                converted = crd_schemas(crd)
            except ValueError as exc:
                raise InputError(Problem(m.source, f"CustomResourceDefinition {name}", str(exc))) from None
            for path, data in converted.items():
                if path in files:
                    raise InputError(Problem(m.source, f"CustomResourceDefinition {name}",
                                             f"expected each kind and version once, found {path} twice"))
                files[path] = data
                source.schemas[path] = sha256(data)
        sources.append(source)
    if not files:
        raise InputError(Problem(", ".join(m.source for m in manifests), "",
                                 "expected at least one served CRD version with an openAPIV3Schema, found none"))
    return sources, files


def apply_imports(root: Path, imports: list[tuple[str, str, list[Manifest]]]) -> ImportResult:
    """Replace the schemas of each (project, version, manifests) and write the lock, all or nothing."""
    folder = schema_dir(root)
    if not (Path(root) / "gitops").is_dir():
        raise InputError(Problem(str(root), "", "expected the generator's repository (a gitops/ folder), found none; "
                                 "use --root"))
    lock = read_lock(folder)
    result = ImportResult()
    replaced = {project for project, _, _ in imports}
    kept = [s for s in lock.sources if s.project not in replaced]
    kept_owners = {path: s for s in kept for path in s.schemas}
    new_files: dict[str, bytes] = {}
    for project, version, manifests in imports:
        sources, files = convert_manifests(project, version, manifests)
        for path in files:
            if path in kept_owners:
                raise InputError(Problem(path, "", f"expected one project per schema, found {path} in "
                                         f"{project} and in {kept_owners[path].project} ({kept_owners[path].url})"))
            if path in new_files:
                raise InputError(Problem(path, "", f"expected one project per schema, found {path} twice"))
        new_files.update(files)
        result.sources += sources
    new_lock = Lock(kept + result.sources)
    old_paths = {p for s in lock.sources if s.project in replaced for p in s.schemas}
    result.removed = sorted(old_paths - set(new_files))
    for path, data in sorted(new_files.items()):
        current = folder / path
        same = current.is_file() and current.read_bytes() == data
        (result.unchanged if same else result.written).append(path)
    _swap_in(folder, new_files, result.removed, new_lock)
    return result


def _swap_in(folder: Path, files: dict[str, bytes], removed: list[str], lock: Lock) -> None:
    """Build the new folder next to the old one, then exchange them (two renames)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".crds-import-", dir=folder.parent))
    try:
        new = staging / "crds"
        if folder.is_dir():
            shutil.copytree(folder, new)
        else:
            new.mkdir()
        for path in removed:
            (new / path).unlink(missing_ok=True)
        for path, data in files.items():
            (new / path).parent.mkdir(parents=True, exist_ok=True)
            (new / path).write_bytes(data)
        for group in new.iterdir():
            if group.is_dir() and not any(group.iterdir()):
                group.rmdir()
        (new / LOCK_NAME).write_bytes(lock.dumps())
        old = staging / "old"
        if folder.is_dir():
            folder.rename(old)
        new.rename(folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def import_sources(root: Path, project: str, version: str, manifests: list[Manifest]) -> ImportResult:
    return apply_imports(root, [(project, version, manifests)])


def update(root: Path, projects: list[str] | None = None) -> ImportResult:
    """Fetch every locked source again (URLs, or files inside the repository) and re-import it."""
    lock = read_lock(schema_dir(root))
    wanted = [s for s in lock.sources if not projects or s.project in projects]
    unknown = sorted(set(projects or ()) - {s.project for s in lock.sources})
    if unknown:
        raise InputError(Problem("--project", "", f"expected a locked project ({', '.join(sorted(lock.projects())) or 'none'}), "
                                 f"found {', '.join(unknown)}"))
    imports: dict[tuple[str, str], list[Manifest]] = {}
    for s in wanted:
        if is_url(s.url):
            data = fetch_url(s.url)
        else:
            path = Path(root) / s.url
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise InputError(Problem(str(path), "", f"unreadable CRD manifest (locked source): {exc}")) from None
        imports.setdefault((s.project, s.version), []).append(Manifest(s.url, s.url, data))
    return apply_imports(root, [(p, v, ms) for (p, v), ms in imports.items()])
