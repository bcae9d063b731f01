"""One environment's documents, indexed once for every check that needs to look across objects."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from ..inputs.model import Environment, Platform
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
    _objects: dict = field(default_factory=dict)          # (kind, namespace, name) -> Doc
    _by_label: dict = field(default_factory=dict)         # (namespace, label, value) -> [Workload]
    _by_component: dict = field(default_factory=dict)     # component -> [Workload]
    _components: dict = field(default_factory=dict)       # name -> Component
    _callers: dict = field(default_factory=dict)          # component -> [Component] that depend on it

    @classmethod
    def build(cls, name: str, env: Environment | None, platform: Platform | None, docs: list[Doc],
              argocd: list[Doc]) -> "EnvSet":
        by_kind: dict[str, list[Doc]] = defaultdict(list)
        objects: dict[tuple, Doc] = {}
        for d in docs:
            by_kind[d.kind].append(d)
            objects.setdefault((d.kind, d.namespace, d.name), d)
        workloads = []
        for d in docs:
            pod = pod_template(d)
            if pod is not None:
                workloads.append(Workload(pod))
        targets = {}
        for h in by_kind.get("HorizontalPodAutoscaler", []):
            ref = dig(h.data, "spec", "scaleTargetRef") or {}
            targets.setdefault((ref.get("kind"), h.namespace, ref.get("name")), h)
        by_label: dict[tuple, list[Workload]] = defaultdict(list)
        by_component: dict[str, list[Workload]] = defaultdict(list)
        for w in workloads:
            w.hpa = targets.get((w.doc.kind, w.namespace, w.doc.name))
            for k, v in w.pod.labels.items():
                by_label[(w.namespace, k, v)].append(w)
            if w.component:
                by_component[w.component].append(w)
        es = cls(name, env, platform, docs, argocd, dict(by_kind), workloads)
        es._objects, es._by_label, es._by_component = objects, dict(by_label), dict(by_component)
        if platform is not None:
            es._components = {c.name: c for c in platform.components}
            if env is not None:
                callers: dict[str, list] = defaultdict(list)
                for c in platform.enabled_components(env):
                    for dep in c.dependencies:
                        if c not in callers[dep.name]:
                            callers[dep.name].append(c)
                es._callers = dict(callers)
        return es

    def kind(self, kind: str) -> list[Doc]:
        return self.by_kind.get(kind, [])

    def find(self, kind: str, namespace: str | None, name: str) -> Doc | None:
        return self._objects.get((kind, namespace, name))

    def _candidates(self, selector: dict | None, namespace: str | None, map_selector: bool) -> list[Workload]:
        """Workloads that can match: those carrying one required label pair, else every workload."""
        pairs = selector if map_selector else ((selector or {}).get("matchLabels") or {})
        if pairs:
            k, v = next(iter(pairs.items()))
            return self._by_label.get((namespace, k, v), [])
        return self.workloads

    def workloads_selected(self, selector: dict | None, namespace: str | None, *, map_selector: bool = False) -> list[Workload]:
        from .k8s import map_selector_matches
        out = []
        for w in self._candidates(selector, namespace, map_selector):
            if w.namespace != namespace:
                continue
            ok = map_selector_matches(selector, w.pod.labels) if map_selector else selector_matches(selector, w.pod.labels)
            if ok:
                out.append(w)
        return out

    def component_workloads(self, component: str) -> list[Workload]:
        return self._by_component.get(component, [])

    def component(self, name: str | None):
        if not name:
            return None
        return self._components.get(name)

    def callers_of(self, name: str) -> list:
        """Enabled components that declare a dependency on ``name`` (inventory order)."""
        return self._callers.get(name, [])
