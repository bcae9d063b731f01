"""Where CRD manifests come from: a file, a folder of files, or an http(s) URL.

Each manifest is read whole into memory (its sha256 goes into the lock) and parsed as a YAML
stream; every problem becomes an InputError naming the source, so an import either has every
manifest it was given or changes nothing.
"""
from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import InputError, Problem

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
# kustomize's file next to upstream CRD folders (argo-cd's manifests/crds has one): not a manifest.
NOT_MANIFESTS = frozenset({"kustomization.yaml", "kustomization.yml", "Kustomization"})
HTTP_TIMEOUT = 30


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """Safe loading, plus a plain ``=`` read as the string "=" (PyYAML reads it as the YAML 1.1
    'value' tag and fails; prometheus-operator's CRDs list "=" among matcher operators,
    https://github.com/yaml/pyyaml/issues/89)."""


_Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


@dataclass(frozen=True)
class Manifest:
    source: str      # what the user gave (path or URL), for messages
    url: str         # recorded in the lock: where `gitops schemas update` fetches it again
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def fetch_url(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT) as resp:  # noqa: S310 - a user-given source
            return resp.read()
    except urllib.error.HTTPError as exc:
        raise InputError(Problem(url, "", f"expected a CRD manifest, found HTTP {exc.code} {exc.reason}")) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise InputError(Problem(url, "", f"cannot fetch the CRD manifest: {reason}")) from None


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix in MANIFEST_SUFFIXES
                       and p.name not in NOT_MANIFESTS)
        if not files:
            raise InputError(Problem(str(path), "", "expected a folder of CRD manifests (*.yaml, *.yml, *.json), found none"))
        return files
    if path.is_file():
        return [path]
    raise InputError(Problem(str(path), "", "expected a CRD manifest file, folder or http(s) URL, found nothing there"))


def read_sources(sources: list[str], public_url: str | None = None, root: Path | None = None) -> list[Manifest]:
    """Every manifest of ``sources``. The URL recorded for a local file is ``public_url`` (for a
    folder: ``public_url/<file name>``), else its path relative to ``root`` when it lies inside."""
    if public_url is not None and len(sources) != 1:
        raise InputError(Problem("--public-url", "", f"expected exactly one SOURCE with --public-url, found {len(sources)}"))
    out: list[Manifest] = []
    for source in sources:
        if is_url(source):
            out.append(Manifest(source, public_url or source, fetch_url(source)))
            continue
        path = Path(source)
        for f in _files(path):
            if public_url is not None:
                url = public_url.rstrip("/") + "/" + f.name if path.is_dir() else public_url
            else:
                url = _repository_path(f, root)
                if url is None:
                    raise InputError(Problem(str(f), "", "a local source outside the repository needs --public-url "
                                             "(the address `gitops schemas update` fetches it from again)"))
            try:
                out.append(Manifest(str(f), url, f.read_bytes()))
            except OSError as exc:
                raise InputError(Problem(str(f), "", f"unreadable CRD manifest: {exc}")) from None
    return out


def _repository_path(path: Path, root: Path | None) -> str | None:
    if root is None:
        return None
    try:
        return path.resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return None


def parse_crds(manifest: Manifest) -> list[dict]:
    """The CustomResourceDefinitions of one manifest (a multi-document stream, or a List)."""
    try:
        docs = list(yaml.load_all(manifest.data, Loader=_Loader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InputError(Problem(manifest.source, "", f"expected YAML, found a syntax error: "
                                 f"{getattr(exc, 'problem', None) or exc}", line)) from None
    except UnicodeDecodeError:
        raise InputError(Problem(manifest.source, "", "expected YAML text, found binary data")) from None
    crds = []
    for doc in docs:
        items = doc.get("items") if isinstance(doc, dict) and isinstance(doc.get("items"), list) else [doc]
        crds += [d for d in items if isinstance(d, dict) and d.get("kind") == "CustomResourceDefinition"
                 and str(d.get("apiVersion", "")).startswith("apiextensions.k8s.io/")]
    if not crds:
        found = ", ".join(sorted({str(d.get("kind")) for d in docs if isinstance(d, dict)})) or "no Kubernetes object"
        raise InputError(Problem(manifest.source, "", f"expected at least one CustomResourceDefinition, found {found}"))
    return crds
