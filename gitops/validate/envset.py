"""One environment's documents, indexed once for every check that needs to look across objects."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from ..model import Environment, Platform
from .documents import Doc
from .k8s import SCALABLE, PodTemplate, dig, pod_template, selector_matches

NAME_LABEL = "app.kubernetes.io/name"


@dataclass
class Workload:
    pod: PodTemplate
    hpa: Doc | None = None

    @property
    def doc(self) -> Doc:
        return self.pod.doc

    @property
    def component(self) -> str | None:
        return self.doc.labels.get(NAME_LABEL) or self.pod.labels.get(NAME_LABEL)

    @property
    def namespace(self) -> str | None:
        return self.doc.namespace

    def _replicas(self) -> int:
        data = self.doc.data
        kind = self.doc.kind
        if kind in SCALABLE:
            r = dig(data, "spec", "replicas")
            return r if isinstance(r, int) and not isinstance(r, bool) else 1
        if kind == "Job":
            r = dig(data, "spec", "parallelism")
            return r if isinstance(r, int) and not isinstance(r, bool) else 1
        if kind == "CronJob":
            r = dig(data, "spec", "jobTemplate", "spec", "parallelism")
            return r if isinstance(r, int) and not isinstance(r, bool) else 1
        return 1

    @property
    def min_replicas(self) -> int:
        if self.hpa is not None:
            r = dig(self.hpa.data, "spec", "minReplicas")
            return r if isinstance(r, int) and not isinstance(r, bool) else 1
        return self._replicas()

    @property
    def max_replicas(self) -> int:
        if self.hpa is not None:
            r = dig(self.hpa.data, "spec", "maxReplicas")
            if isinstance(r, int) and not isinstance(r, bool):
                return r
        return self._replicas()


@dataclass
class EnvSet:
    name: str
    env: Environment | None
    platform: Platform | None
    docs: list[Doc]                       # dist/<env>/
    argocd: list[Doc] = field(default_factory=list)   # argocd/<env>/ (+ global argocd docs)
    by_kind: dict[str, list[Doc]] = field(default_factory=dict)
    workloads: list[Workload] = field(default_factory=list)
    cache: dict = field(default_factory=dict)   # per-environment indexes shared by checks

    @classmethod
    def build(cls, name: str, env: Environment | None, platform: Platform | None, docs: list[Doc],
              argocd: list[Doc]) -> "EnvSet":
        by_kind: dict[str, list[Doc]] = defaultdict(list)
        for d in docs:
            by_kind[d.kind].append(d)
        workloads = []
        for d in docs:
            pod = pod_template(d)
            if pod is not None:
                workloads.append(Workload(pod))
        hpas = by_kind.get("HorizontalPodAutoscaler", [])
        for w in workloads:
            for h in hpas:
                ref = dig(h.data, "spec", "scaleTargetRef") or {}
                if ref.get("kind") == w.doc.kind and ref.get("name") == w.doc.name and h.namespace == w.namespace:
                    w.hpa = h
                    break
        return cls(name, env, platform, docs, argocd, dict(by_kind), workloads)

    def kind(self, kind: str) -> list[Doc]:
        return self.by_kind.get(kind, [])

    def find(self, kind: str, namespace: str | None, name: str) -> Doc | None:
        for d in self.by_kind.get(kind, []):
            if d.name == name and d.namespace == namespace:
                return d
        return None

    def workloads_selected(self, selector: dict | None, namespace: str | None, *, map_selector: bool = False) -> list[Workload]:
        from .k8s import map_selector_matches
        out = []
        for w in self.workloads:
            if w.namespace != namespace:
                continue
            ok = map_selector_matches(selector, w.pod.labels) if map_selector else selector_matches(selector, w.pod.labels)
            if ok:
                out.append(w)
        return out

    def component_workloads(self, component: str) -> list[Workload]:
        return [w for w in self.workloads if w.component == component]

    def component(self, name: str | None):
        if self.platform is None or not name:
            return None
        try:
            return self.platform.component(name)
        except KeyError:
            return None
