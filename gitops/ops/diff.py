"""Semantic, per-resource diff of rendered trees (dist/<env> folders).

A text diff of YAML tells a reviewer that line 57 changed; this tells them that the
``shop-api`` Deployment's image moved from v1.2.0 to v1.3.0 and nothing else did.

- Resources are keyed by kind/namespace/name (files are only containers: renaming a
  file is not a change; a multi-document file is split into its objects).
- Comparing two *environments* (``cross_env=True``) keys by kind/name, drops the
  namespace and the environment-specific labels, and writes the environment's own
  namespace as ``<namespace>`` so only real differences remain.
- Every field change is classified (image, replicas, resources, env, ports, rbac,
  hosts, labels, annotations, other) so a PR body can say *what kind* of change it is.

Trees come from the working tree (:func:`read_tree`) or a git ref (:func:`tree_at_ref`).
Output: :meth:`SemanticDiff.to_text`, :meth:`~SemanticDiff.to_markdown`, :meth:`~SemanticDiff.to_dict`.
"""
from __future__ import annotations

import copy
import difflib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..pipeline.tree import read_tree

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Labels whose value is the environment itself: noise when comparing two environments.
ENV_LABELS = ("meetinity.io/environment", "app.kubernetes.io/instance")
RBAC_KINDS = ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")
CATEGORIES = ("image", "replicas", "resources", "env", "ports", "rbac", "hosts", "labels", "annotations", "other")
NAMESPACE_PLACEHOLDER = "<namespace>"

_ABSENT = object()


@dataclass(frozen=True)
class Change:
    path: str
    category: str
    old: object = None   # None with op "added"
    new: object = None   # None with op "removed"
    op: str = "changed"  # changed | added | removed

    def as_dict(self) -> dict:
        return {"path": self.path, "category": self.category, "op": self.op, "old": self.old, "new": self.new}


@dataclass
class ResourceDiff:
    kind: str
    name: str
    namespace: str | None
    status: str  # added | removed | changed
    changes: list[Change] = field(default_factory=list)
    left_file: str | None = None
    right_file: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"

    @property
    def categories(self) -> list[str]:
        if self.status != "changed":
            return ["rbac"] if self.kind in RBAC_KINDS else []
        seen = {c.category for c in self.changes}
        return [c for c in CATEGORIES if c in seen]

    def as_dict(self) -> dict:
        return {"kind": self.kind, "name": self.name, "namespace": self.namespace, "status": self.status,
                "categories": self.categories, "left_file": self.left_file, "right_file": self.right_file,
                "changes": [c.as_dict() for c in self.changes]}


@dataclass
class SemanticDiff:
    left: str
    right: str
    resources: list[ResourceDiff] = field(default_factory=list)
    unchanged: int = 0

    @property
    def empty(self) -> bool:
        return not self.resources

    def count(self, status: str) -> int:
        return sum(1 for r in self.resources if r.status == status)

    @property
    def summary(self) -> dict[str, int]:
        return {"changed": self.count("changed"), "added": self.count("added"),
                "removed": self.count("removed"), "unchanged": self.unchanged}

    def categories(self) -> list[str]:
        seen = {c for r in self.resources for c in r.categories}
        return [c for c in CATEGORIES if c in seen]

    def summary_line(self) -> str:
        s = self.summary
        return f"{s['changed']} changed, {s['added']} added, {s['removed']} removed, {s['unchanged']} unchanged"

    def as_dict(self) -> dict:
        return {"left": self.left, "right": self.right, "summary": self.summary,
                "resources": [r.as_dict() for r in self.resources]}

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, sort_keys=True, default=str)

    def to_text(self) -> str:
        lines = [f"{self.left} -> {self.right}: {self.summary_line()}"]
        mark = {"added": "+", "removed": "-", "changed": "~"}
        for r in self.resources:
            cats = f"  [{', '.join(r.categories)}]" if r.categories else ""
            lines.append(f"{mark[r.status]} {r.ref}{cats}")
            for c in r.changes:
                lines.append(f"    {c.category:<11} {c.path}: {_short(c.old, c.op, 'old')} -> {_short(c.new, c.op, 'new')}")
        return "\n".join(lines) + "\n"

    def to_markdown(self, *, title: str | None = None, max_resources: int = 150, max_changes: int = 25) -> str:
        out = []
        if title:
            out.append(f"#### {title}")
        out.append(f"`{self.left}` → `{self.right}`: **{self.summary_line()}**")
        if self.empty:
            out.append("")
            out.append("No rendered resource changes.")
            return "\n".join(out) + "\n"
        out += ["", "| | resource | changed fields |", "|---|---|---|"]
        icon = {"added": "➕ added", "removed": "➖ removed", "changed": "✏️ changed"}
        shown = self.resources[:max_resources]
        # Resources whose only change is metadata (the version label every object carries)
        # are folded into one row, so the rows a reviewer reads are the ones that matter.
        metadata_only = [r for r in shown if r.status == "changed" and set(r.categories) <= {"labels", "annotations"}]
        main = [r for r in shown if r not in metadata_only]
        for r in main:
            out.append(f"| {icon[r.status]} | `{_md_cell(r.ref)}` | {', '.join(r.categories)} |")
        if metadata_only:
            cats = sorted({c for r in metadata_only for c in r.categories}, key=CATEGORIES.index)
            out.append(f"| ✏️ changed | {len(metadata_only)} more resource(s) with only label/annotation changes "
                       f"(listed below) | {', '.join(cats)} |")
        if len(self.resources) > len(shown):
            out.append(f"| … | {len(self.resources) - len(shown)} more resources (run `gitops diff` locally) | |")
        detailed = [r for r in main if r.changes]
        if detailed:
            out += ["", "<details><summary>Field changes</summary>", ""]
            for r in detailed:
                out.append(f"**{_md_cell(r.ref)}**")
                for c in r.changes[:max_changes]:
                    out.append(f"- {c.category} · `{_md_code(c.path)}`: {_md_value(c.old, c.op, 'old')} → {_md_value(c.new, c.op, 'new')}")
                if len(r.changes) > max_changes:
                    out.append(f"- … {len(r.changes) - max_changes} more field changes")
                out.append("")
            out.append("</details>")
        if metadata_only:
            out += ["", f"<details><summary>Label/annotation-only changes ({len(metadata_only)} resources)</summary>", ""]
            distinct: dict[tuple, list[str]] = {}
            for r in metadata_only:
                for c in r.changes:
                    key = (c.path[c.path.rfind("labels"):] if "labels" in c.path else c.path, _short(c.old, c.op, "old"), _short(c.new, c.op, "new"))
                    distinct.setdefault(key, []).append(r.ref)
            for (path, old, new), refs in sorted(distinct.items()):
                out.append(f"- `{_md_code(path)}`: `{_md_cell(old)}` → `{_md_cell(new)}` on {len(refs)} resource(s)")
            out.append("")
            out.append(", ".join(f"`{_md_cell(r.ref)}`" for r in metadata_only))
            out.append("")
            out.append("</details>")
        return "\n".join(out) + "\n"

    def render(self, fmt: str) -> str:
        if fmt == "json":
            return self.to_json() + "\n"
        if fmt == "markdown":
            return self.to_markdown()
        return self.to_text()


def _short(value, op: str, side: str, limit: int = 100) -> str:
    if (op == "added" and side == "old") or (op == "removed" and side == "new"):
        return "(absent)"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _md_code(text: str) -> str:
    return text.replace("`", "'")


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _md_value(value, op: str, side: str) -> str:
    text = _short(value, op, side, limit=120)
    if text == "(absent)":
        return "_(absent)_"
    return f"`{_md_cell(_md_code(text))}`"


# --------------------------------------------------------------------------- parsing

def parse_objects(files: dict[str, bytes]) -> list[tuple[str, dict]]:
    """[(relative file, object)] for every YAML document in the tree; other files are opaque."""
    out = []
    for rel in sorted(files):
        if not rel.endswith((".yaml", ".yml")):
            out.append((rel, {"kind": "File", "metadata": {"name": rel}, "content": files[rel].decode("utf-8", "replace")}))
            continue
        try:
            docs = list(yaml.load_all(files[rel].decode("utf-8"), Loader=_Loader))
        except yaml.YAMLError:
            out.append((rel, {"kind": "File", "metadata": {"name": rel}, "content": files[rel].decode("utf-8", "replace")}))
            continue
        for doc in docs:
            if isinstance(doc, dict):
                out.append((rel, doc))
    return out


def _key(obj: dict, cross_env: bool) -> tuple[str, str, str]:
    meta = obj.get("metadata") or {}
    namespace = "" if cross_env else str(meta.get("namespace") or "")
    return (str(obj.get("kind", "")), namespace, str(meta.get("name", "")))


def _dominant_namespace(objects: list[tuple[str, dict]]) -> str | None:
    counts = Counter((o.get("metadata") or {}).get("namespace") for _, o in objects)
    counts.pop(None, None)
    return counts.most_common(1)[0][0] if counts else None


def _normalize_env(obj: dict, namespace: str | None) -> dict:
    """Remove what legitimately differs between environments: namespace and environment labels."""
    obj = copy.deepcopy(obj)
    (obj.get("metadata") or {}).pop("namespace", None)

    def walk(value):
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items() if k not in ENV_LABELS}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if namespace and value == namespace:
            return NAMESPACE_PLACEHOLDER
        return value
    return walk(obj)


# --------------------------------------------------------------------------- field diff

def _seg(key) -> str:
    key = str(key)
    return f'["{key}"]' if any(ch in key for ch in "./ ") else key


def _join(segs: list[str]) -> str:
    out = ""
    for s in segs:
        out += s if (s.startswith("[") or not out) else "." + s
    return out


def _named(items: list) -> bool:
    if not items or not all(isinstance(i, dict) and isinstance(i.get("name"), str) for i in items):
        return False
    names = [i["name"] for i in items]
    return len(names) == len(set(names))


def _embedded_json(value):
    """A string holding a JSON object or array (a Grafana dashboard in a ConfigMap), parsed; else _ABSENT."""
    if not isinstance(value, str) or not value.lstrip().startswith(("{", "[")):
        return _ABSENT
    try:
        return json.loads(value)
    except ValueError:
        return _ABSENT


def _diff_lists(old: list, new: list, segs: list[str], raw: list[str], out: list) -> None:
    """Align two lists (difflib on each item's canonical JSON): equal items are skipped, replaced runs of
    the same length compared item by item, the rest reported as added/removed at their index."""
    keys = [json.dumps(i, sort_keys=True, default=str) for i in old], [json.dumps(i, sort_keys=True, default=str) for i in new]
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, *keys, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            for i, j in zip(range(i1, i2), range(j1, j2)):
                _diff_values(old[i], new[j], segs + [f"[{j}]"], raw + [f"[{j}]"], out)
            continue
        for i in range(i1, i2):
            out.append((segs + [f"[{i}]"], raw + [f"[{i}]"], old[i], _ABSENT))
        for j in range(j1, j2):
            out.append((segs + [f"[{j}]"], raw + [f"[{j}]"], _ABSENT, new[j]))


def _diff_values(old, new, segs: list[str], raw: list[str], out: list[tuple[list[str], list[str], object, object]]):
    if isinstance(old, str) and isinstance(new, str) and old != new:
        # JSON inside a string (dashboards): report the JSON paths that differ, not two truncated prefixes.
        old_json, new_json = _embedded_json(old), _embedded_json(new)
        if old_json is not _ABSENT and new_json is not _ABSENT:
            _diff_values(old_json, new_json, segs, raw, out)
            return
    if isinstance(old, dict) and isinstance(new, dict):
        for k in sorted(set(old) | set(new), key=str):
            _diff_values(old.get(k, _ABSENT), new.get(k, _ABSENT), segs + [_seg(k)], raw + [str(k)], out)
        return
    if isinstance(old, list) and isinstance(new, list):
        if _named(old) and _named(new):
            left = {i["name"]: i for i in old}
            right = {i["name"]: i for i in new}
            order = [i["name"] for i in old] + [i["name"] for i in new if i["name"] not in left]
            for name in order:
                _diff_values(left.get(name, _ABSENT), right.get(name, _ABSENT), segs + [f"[{name}]"], raw + [f"[{name}]"], out)
            return
        if len(old) == len(new):
            for i, (a, b) in enumerate(zip(old, new)):
                _diff_values(a, b, segs + [f"[{i}]"], raw + [f"[{i}]"], out)
            return
        if old and new:
            _diff_lists(old, new, segs, raw, out)
            return
    if old is _ABSENT and new is _ABSENT:
        return
    if old is _ABSENT or new is _ABSENT or old != new or type(old) is not type(new):
        out.append((segs, raw, old, new))


def categorize(kind: str, raw: list[str]) -> str:
    """Which reviewer-facing concern a field path belongs to."""
    if not raw:
        return "other"
    if kind in RBAC_KINDS and raw[0] in ("rules", "subjects", "roleRef", "aggregationRule"):
        return "rbac"
    for marker in ("containers", "initContainers", "ephemeralContainers"):
        if marker in raw:
            rest = raw[raw.index(marker) + 2:]
            head = rest[0] if rest else ""
            if head == "image":
                return "image"
            if head == "resources":
                return "resources"
            if head in ("env", "envFrom"):
                return "env"
            if head == "ports":
                return "ports"
            return "other"
    if raw[:2] == ["spec", "replicas"] or (kind == "HorizontalPodAutoscaler" and raw[:2] in (["spec", "minReplicas"], ["spec", "maxReplicas"])):
        return "replicas"
    if kind == "Service" and raw[:2] == ["spec", "ports"]:
        return "ports"
    if kind == "ConfigMap" and raw[0] in ("data", "binaryData"):
        return "env"
    if kind == "Ingress" and raw[0] == "spec" and any(s in ("host", "hosts", "tls") for s in raw):
        return "hosts"
    if "labels" in raw and "matchLabels" not in raw and "selector" not in raw:
        return "labels"
    if "annotations" in raw:
        return "annotations"
    return "other"


def diff_objects(kind: str, old: dict, new: dict) -> list[Change]:
    raw_changes: list = []
    _diff_values(old, new, [], [], raw_changes)
    changes = []
    for segs, raw, a, b in raw_changes:
        op = "added" if a is _ABSENT else "removed" if b is _ABSENT else "changed"
        changes.append(Change(_join(segs), categorize(kind, raw), None if a is _ABSENT else a,
                              None if b is _ABSENT else b, op))
    return changes


# --------------------------------------------------------------------------- tree diff

def diff_trees(left: dict[str, bytes], right: dict[str, bytes], *, left_label: str = "left",
               right_label: str = "right", cross_env: bool = False) -> SemanticDiff:
    """Diff two rendered trees ({relative path: bytes}) per resource."""
    lobjs, robjs = parse_objects(left), parse_objects(right)
    lns = _dominant_namespace(lobjs) if cross_env else None
    rns = _dominant_namespace(robjs) if cross_env else None

    def index(objs, namespace):
        out: dict[tuple, tuple[str, dict, dict]] = {}
        for rel, obj in objs:
            key = _key(obj, cross_env)
            norm = _normalize_env(obj, namespace) if cross_env else obj
            while key in out:  # duplicate object (should not happen in dist/): keep both
                key = key[:2] + (key[2] + "'",)
            out[key] = (rel, obj, norm)
        return out

    lidx, ridx = index(lobjs, lns), index(robjs, rns)
    result = SemanticDiff(left_label, right_label)
    for key in sorted(set(lidx) | set(ridx)):
        kind, namespace, name = key
        a, b = lidx.get(key), ridx.get(key)
        if a and b:
            changes = diff_objects(kind, a[2], b[2])
            if not changes:
                result.unchanged += 1
                continue
            ns = None if cross_env else (namespace or None)
            result.resources.append(ResourceDiff(kind, name, ns, "changed", changes, a[0], b[0]))
        elif b:
            result.resources.append(ResourceDiff(kind, name, namespace or None, "added", [], None, b[0]))
        else:
            result.resources.append(ResourceDiff(kind, name, namespace or None, "removed", [], a[0], None))
    order = {"changed": 0, "added": 1, "removed": 2}
    result.resources.sort(key=lambda r: (order[r.status], r.kind, r.namespace or "", r.name))
    return result


def tree_at_ref(root: Path | str, ref: str, relpath: str) -> dict[str, bytes]:
    """{path relative to ``relpath``: bytes} for a folder as committed at ``ref`` (empty if absent)."""
    from ..promote.git import Git
    return Git(root).tree_files(ref, relpath)


def diff_envs(root: Path | str, a: str, b: str) -> SemanticDiff:
    """Two environments' rendered trees in the working tree, matched by kind/name."""
    root = Path(root)
    return diff_trees(read_tree(root / "dist" / a), read_tree(root / "dist" / b),
                      left_label=f"dist/{a}", right_label=f"dist/{b}", cross_env=True)


def diff_against_ref(root: Path | str, base: str, env: str, head: str | None = None) -> SemanticDiff:
    """dist/<env> at ``base`` against the working tree (or against ``head`` when given)."""
    root = Path(root)
    rel = f"dist/{env}"
    left = tree_at_ref(root, base, rel)
    right = tree_at_ref(root, head, rel) if head else read_tree(root / rel)
    return diff_trees(left, right, left_label=f"{rel}@{base}", right_label=f"{rel}@{head}" if head else rel)
