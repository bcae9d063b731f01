"""Small Kubernetes semantics the checks need: pod templates, label selectors, quantities, images, ports."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .documents import Doc

# kind -> path from the object to its pod template (None: the object is a Pod)
POD_TEMPLATE_PATHS: dict[str, tuple] = {
    "Pod": (),
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
    "Rollout": ("spec", "template"),   # Argo Rollouts (argoproj.io), full pod template
}
# API group of each kind above; anything else with the same kind name is not a workload.
WORKLOAD_GROUPS = {"Rollout": ("argoproj.io",)}
LONG_RUNNING = frozenset({"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Rollout"})
SCALABLE = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController", "Rollout"})


def dig(obj, *path, default=None):
    for key in path:
        if isinstance(obj, dict):
            obj = obj.get(key)
        elif isinstance(obj, list) and isinstance(key, int) and 0 <= key < len(obj):
            obj = obj[key]
        else:
            return default
        if obj is None:
            return default
    return obj


@dataclass
class Container:
    spec: dict
    path: tuple      # from the document root
    init: bool
    sidecar: bool    # init container with restartPolicy Always

    @property
    def name(self) -> str:
        return str(self.spec.get("name", ""))

    def ports(self) -> list[dict]:
        return [p for p in self.spec.get("ports") or [] if isinstance(p, dict)]


@dataclass
class PodTemplate:
    doc: Doc
    spec: dict          # the pod spec
    spec_path: tuple    # path from the document root to the pod spec
    labels: dict        # the pods' labels

    @property
    def kind(self) -> str:
        return self.doc.kind

    @property
    def long_running(self) -> bool:
        return self.doc.kind in LONG_RUNNING

    def containers(self, include_init: bool = True) -> list[Container]:
        out = []
        for i, c in enumerate(self.spec.get("containers") or []):
            if isinstance(c, dict):
                out.append(Container(c, self.spec_path + ("containers", i), False, False))
        if include_init:
            for i, c in enumerate(self.spec.get("initContainers") or []):
                if isinstance(c, dict):
                    out.append(Container(c, self.spec_path + ("initContainers", i), True, c.get("restartPolicy") == "Always"))
        return out


def pod_template(doc: Doc) -> PodTemplate | None:
    path = POD_TEMPLATE_PATHS.get(doc.kind)
    if path is None or doc.group not in WORKLOAD_GROUPS.get(doc.kind, ("", "apps", "batch")):
        return None
    template = dig(doc.data, *path) if path else doc.data
    if not isinstance(template, dict):
        return None
    spec = template.get("spec")
    if not isinstance(spec, dict):
        return None
    labels = dig(template, "metadata", "labels") or {}
    return PodTemplate(doc, spec, path + ("spec",), labels if isinstance(labels, dict) else {})


def selector_matches(selector: dict | None, labels: dict, *, empty_matches_all: bool = True) -> bool:
    """A LabelSelector (matchLabels + matchExpressions) against a label set."""
    if not selector:
        return empty_matches_all
    match = selector.get("matchLabels") or {}
    exprs = selector.get("matchExpressions") or []
    if not match and not exprs:
        return empty_matches_all
    for k, v in match.items():
        if labels.get(k) != v:
            return False
    for e in exprs:
        key, op, values = e.get("key"), e.get("operator"), e.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def map_selector_matches(selector: dict | None, labels: dict) -> bool:
    """A plain map selector (Service.spec.selector): every pair present. Empty matches nothing."""
    if not selector:
        return False
    return all(labels.get(k) == v for k, v in selector.items())


@dataclass(frozen=True)
class ImageRef:
    repository: str
    tag: str | None
    digest: str | None


def parse_image(image: str) -> ImageRef:
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = None
    if ":" in last:
        name, _, tag = name.rpartition(":")
    return ImageRef(name, tag or None, digest or None)


DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")


def port_matches(rule_ports: list | None, port: int, protocol: str, named: dict[str, int] | None = None) -> bool:
    """Whether a NetworkPolicy rule's ports allow ``port``/``protocol`` (absent or empty ports: all).

    ``named`` resolves named ports (container port names of the destination pods)."""
    if not rule_ports:
        return True
    for p in rule_ports:
        if not isinstance(p, dict):
            continue
        if (p.get("protocol") or "TCP") != protocol:
            continue
        value = p.get("port")
        if value is None:
            return True
        if isinstance(value, str) and not value.isdigit():
            if named and named.get(value) == port:
                return True
            continue
        start = int(value)
        end = p.get("endPort") or start
        if start <= port <= int(end):
            return True
    return False


def scaled_int_or_percent(value, total: int, round_up: bool = True) -> int | None:
    """PDB-style int-or-percent against ``total`` (Kubernetes rounds percentages up)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        if value.endswith("%") and value[:-1].isdigit():
            pct = int(value[:-1])
            scaled = pct * total
            return -(-scaled // 100) if round_up else scaled // 100
        if value.isdigit():
            return int(value)
    return None
