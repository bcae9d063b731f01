"""Reading manifests for validation: every YAML document of dist/<env>/ and argocd/ with its file and line.

Speed matters here (``gitops validate`` runs on every PR over thousands of documents), so
documents are read with a ``yaml.CSafeLoader`` subclass that
- caches the tag resolution of plain scalars (the same keys and values repeat in every
  manifest; the stock resolver runs a regular expression for each one), and
- builds plain dicts/lists straight from the composed nodes instead of going through
  the generic constructor machinery (scalars that are not strings still go through it).
The result is exactly what ``yaml.load_all(..., Loader=CSafeLoader)`` returns (tested),
about twice as fast. Line numbers of individual fields are looked up lazily, only for
documents that have a finding.

Bad input (YAML that does not parse, a document that is not a mapping or lacks
apiVersion/kind/metadata.name) is collected for every file and raised as one InputError.
"""
from __future__ import annotations

import hashlib
import marshal
import os
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from ..errors import InputError, Problem

_STR = "tag:yaml.org,2002:str"
_PLAIN_TAGS: dict[str, str] = {}
_CACHE_LIMIT = 500_000  # distinct plain scalars remembered (bounded memory in long processes)
_resolve = Resolver.resolve
_MAP, _SEQ = Resolver.DEFAULT_MAPPING_TAG, Resolver.DEFAULT_SEQUENCE_TAG

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
# Tool configuration that lives next to manifests but is not a Kubernetes object.
NOT_MANIFESTS = frozenset({"kustomization.yaml", "kustomization.yml", "Kustomization"})


class FastSafeLoader(yaml.CSafeLoader):  # type: ignore[misc, valid-type]
    """CSafeLoader with memoized implicit resolution and no path resolvers (SafeLoader has none)."""

    def __init__(self, stream):
        super().__init__(stream)
        # Path resolvers are unused by the safe loader; C-level no-ops instead of Python calls.
        self.descend_resolver = {}.get
        self.ascend_resolver = [].copy

    def resolve(self, kind, value, implicit, _cache=_PLAIN_TAGS):
        if kind is ScalarNode:
            if implicit[0]:
                try:
                    return _cache[value]
                except KeyError:
                    tag = _resolve(self, kind, value, implicit)
                    if len(_cache) < _CACHE_LIMIT:
                        _cache[value] = tag
                    return tag
            return _STR  # quoted scalar: a string (no path resolvers in the safe loader)
        # Collections: no implicit resolvers exist for them; the default tags, without the generic path.
        return _MAP if kind is MappingNode else _SEQ


class _Complex(Exception):
    """A document using anchors-as-merge-keys or non-string keys: use the stock constructor."""


# (tag, text) -> constructed immutable scalar (int, float, bool, None, ...): the same few values
# (ports, replica counts, true/false) repeat in every manifest.
_SCALARS: dict[tuple[str, str], object] = {}
_IMMUTABLE = (int, float, bool, type(None), str, bytes)


def _builder(loader: FastSafeLoader):
    construct = loader.construct_object

    def build(node):
        cls = node.__class__
        if cls is ScalarNode:
            tag = node.tag
            if tag == _STR:
                return node.value
            key = (tag, node.value)
            try:
                return _SCALARS[key]
            except KeyError:
                value = construct(node, deep=True)
                if isinstance(value, _IMMUTABLE) and len(_SCALARS) < _CACHE_LIMIT:
                    _SCALARS[key] = value
                return value
        if cls is MappingNode:
            out = {}
            for key, value in node.value:
                if key.__class__ is not ScalarNode or key.tag != _STR or key.value == "<<":
                    raise _Complex
                name = key.value
                if name in out:
                    raise InputError(Problem("", "", f"duplicate key {name!r}", key.start_mark.line + 1))
                out[name] = build(value)
            return out
        if cls is SequenceNode:
            return [build(v) for v in node.value]
        raise _Complex  # pragma: no cover - composer yields only the three node kinds

    return build


def parse_documents(text: str | bytes, display: str) -> list[tuple[int, object]]:
    """[(1-based start line, data)] for every non-empty document of ``text``."""
    loader = FastSafeLoader(text)
    build = _builder(loader)
    out: list[tuple[int, object]] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:  # pragma: no cover - check_node guarantees a node
                continue
            line = node.start_mark.line + 1
            try:
                data = build(node)
            except _Complex:
                data = loader.construct_document(node)
            except InputError as exc:
                raise InputError([Problem(display, p.path, p.message, p.line) for p in exc.problems]) from None
            if data is None:
                continue
            out.append((line, data))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        msg = getattr(exc, "problem", None) or str(exc)
        raise InputError(Problem(display, "", f"malformed YAML: {msg}", mark.line + 1 if mark else None)) from None
    finally:
        loader.dispose()
    return out


class Doc:
    """One Kubernetes (or Argo CD) object read from a file under the repository root.

    Identity fields are computed once (checks look them up hundreds of thousands of times)."""

    __slots__ = ("file", "index", "line", "data", "env", "tree", "api_version", "kind", "group", "metadata",
                 "name", "namespace", "labels", "annotations", "ref")

    def __init__(self, file: str, index: int, line: int, data: dict, env: str | None, tree: str):
        self.file = file        # path relative to the root, POSIX separators
        self.index = index      # position of the document in its file
        self.line = line        # 1-based line where the document starts
        self.data = data
        self.env = env          # environment (dist/<env>/..., argocd/<env>/...), None if global
        self.tree = tree        # "dist", "argocd" (or "other")
        self.api_version = str(data.get("apiVersion", ""))
        self.kind = str(data.get("kind", ""))
        self.group = self.api_version.rpartition("/")[0]
        meta = data.get("metadata")
        meta = meta if isinstance(meta, dict) else {}
        self.metadata = meta
        self.name = str(meta.get("name", ""))
        ns = meta.get("namespace")
        self.namespace = str(ns) if ns is not None else None
        labels, ann = meta.get("labels"), meta.get("annotations")
        self.labels = labels if isinstance(labels, dict) else {}
        self.annotations = ann if isinstance(ann, dict) else {}
        self.ref = object_ref(self.kind, self.namespace, self.name)

    def __repr__(self) -> str:
        return f"Doc({self.ref} in {self.file})"


def object_ref(kind: str, namespace: str | None, name: str) -> str:
    return f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"


class LineIndex:
    """Lazy field -> line lookup for files that have findings (re-composes the file once)."""

    def __init__(self, root: Path):
        self.root = root
        self._files: dict[str, list[dict[tuple, int]]] = {}

    def _index(self, file: str) -> list[dict[tuple, int]]:
        if file not in self._files:
            docs: list[dict[tuple, int]] = []
            try:
                text = (self.root / file).read_text(encoding="utf-8")
                for node in yaml.compose_all(text, Loader=yaml.CSafeLoader):
                    if node is None or (isinstance(node, ScalarNode) and node.value in ("", "~", "null")):
                        continue
                    lines: dict[tuple, int] = {}
                    _walk(node, (), lines)
                    docs.append(lines)
            except (OSError, yaml.YAMLError):  # pragma: no cover - the file parsed a moment ago
                pass
            self._files[file] = docs
        return self._files[file]

    def line(self, file: str, index: int, path: tuple) -> int | None:
        docs = self._index(file)
        if index >= len(docs):
            return None
        lines = docs[index]
        path = tuple(path)
        while True:
            if path in lines:
                return lines[path]
            if not path:
                return None
            path = path[:-1]


def _walk(node, path: tuple, lines: dict) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(key, ScalarNode):
                lines[path + (key.value,)] = key.start_mark.line + 1
                _walk(value, path + (key.value,), lines)
                lines[path + (key.value,)] = key.start_mark.line + 1
    elif isinstance(node, SequenceNode):
        for i, value in enumerate(node.value):
            _walk(value, path + (i,), lines)


def manifest_files(folder: Path) -> list[Path]:
    """Every manifest file under ``folder`` in a stable order; hidden files and folders are skipped."""
    if not folder.is_dir():
        return []
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if not name.startswith(".") and name.endswith(MANIFEST_SUFFIXES) and name not in NOT_MANIFESTS:
                out.append(os.path.join(dirpath, name))
    # Sort like Path objects do (by path components), but on strings: much cheaper.
    out.sort(key=lambda s: s.split(os.sep))
    return [Path(s) for s in out]


class ParseCache:
    """Content-addressed cache of parsed manifests: blake2b(file bytes) -> [(line, data)].

    YAML parsing dominates validation time (libyaml through PyYAML: about 4,500 documents/s);
    unchanged files (most of dist/ in a PR) are read back with ``marshal`` instead. Keys are
    content hashes, so an entry can never be stale; entries not used by a run are dropped when
    the cache is saved. Files whose data ``marshal`` cannot hold (YAML timestamps) are not cached.
    """

    VERSION = f"1/{yaml.__version__}"

    def __init__(self, path: Path | None):
        self.path = path
        self.entries: dict[bytes, list] = {}
        self.used: dict[bytes, list] = {}
        self.dirty = False
        if path is not None and path.is_file():
            try:
                version, entries = marshal.loads(path.read_bytes())
                if version == self.VERSION and isinstance(entries, dict):
                    self.entries = entries
            except (ValueError, EOFError, TypeError, OSError):
                self.entries = {}

    def get(self, content: bytes) -> tuple[bytes, list | None]:
        key = hashlib.blake2b(content, digest_size=20).digest()
        hit = self.entries.get(key)
        if hit is not None:
            self.used[key] = hit
        return key, hit

    def put(self, key: bytes, parsed: list) -> None:
        try:
            marshal.dumps(parsed)
        except ValueError:
            return
        self.used[key] = parsed
        self.dirty = True

    def save(self) -> None:
        if self.path is None or not (self.dirty or len(self.used) != len(self.entries)):
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
            tmp.write_bytes(marshal.dumps((self.VERSION, self.used)))
            os.replace(tmp, self.path)
        except OSError:  # a read-only checkout still validates, just without the cache
            pass


def read_documents(root: Path, files: list[tuple[Path, str | None, str]], cache: ParseCache | None = None) -> list[Doc]:
    """Parse ``[(path, env, tree)]``; raise one InputError listing every bad file or document."""
    docs: list[Doc] = []
    problems: list[Problem] = []
    for path, env, tree in files:
        full, base = str(path), str(root)
        rel = full[len(base) + 1:].replace(os.sep, "/") if full.startswith(base + os.sep) else path.relative_to(root).as_posix()
        try:
            with open(path, "rb") as fh:
                text = fh.read()  # bytes: libyaml decodes UTF-8 itself
        except OSError as exc:
            problems.append(Problem(rel, "", f"cannot read file: {exc}"))
            continue
        key, parsed = cache.get(text) if cache is not None else (b"", None)
        if parsed is None:
            try:
                parsed = parse_documents(text, rel)
            except InputError as exc:
                problems.extend(exc.problems)
                continue
            if cache is not None:
                cache.put(key, parsed)
        for index, (line, data) in enumerate(parsed):
            where = f"document {index + 1}" if len(parsed) > 1 else "(document)"
            if not isinstance(data, dict):
                problems.append(Problem(rel, where, f"expected a Kubernetes object (a mapping), found {type(data).__name__}", line))
                continue
            missing = [k for k in ("apiVersion", "kind") if not isinstance(data.get(k), str) or not data.get(k)]
            if missing:
                problems.append(Problem(rel, where, f"expected a Kubernetes object with apiVersion and kind, missing {' and '.join(missing)}", line))
                continue
            meta = data.get("metadata")
            if not isinstance(meta, dict) or not meta.get("name"):
                problems.append(Problem(rel, where, f"expected metadata.name on {data['kind']}, found none", line))
                continue
            docs.append(Doc(rel, index, line, data, env, tree))
    if problems:
        raise InputError(problems)
    return docs
