"""SCH006: the pod template rules the API server enforces and the OpenAPI schemas do not: a workload
whose template breaks one is refused on create, or its pods are when a controller creates them (a
Rollout's, a StatefulSet's), however valid its schema.

- The selector matches the template's labels (apps/v1 ``ValidateDeploymentSpec`` and its siblings:
  "selector does not match template labels"; a Rollout's selector is ROL001).
- Container names (containers and initContainers together) and volume names are unique DNS-1123
  labels; every volumeMount names a volume of the pod, at a mountPath the container uses once.
- Named ports are IANA service names, unique within their container; env var names are
  ``IsEnvVarName`` names before Kubernetes 1.32 and printable ASCII but '=' from 1.32 (KEP-4369)
  (kubernetes pkg/apis/core/validation ``ValidatePodSpec``, ``validateContainerPorts``,
  ``ValidateEnv``, ``ValidateVolumeMounts``).
- Each resource's request is at most its limit (``ValidateResourceRequirements``: "must be less than
  or equal to ... limit"); extended resources and hugepages request exactly their limit, which must
  be set.
"""
from __future__ import annotations

from typing import Iterator

from ..inputs.k8s_syntax import LABEL_TEXT, dns1123_label, env_var_name_problem, port_name_problem
from ..inputs.quantity import quantity_or_none
from .documents import Doc
from .findings import Hit
from .k8s import PodTemplate, dig, pod_template, selector_matches

# Kinds whose spec.selector the API server requires to select their own template (Job and CronJob
# generate theirs; a Rollout's is ROL001, gitops/validate/rollout_checks.py).
SELECTING = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")


def check_pod_spec(doc: Doc, kubernetes_version: str) -> Iterator[Hit]:
    pod = pod_template(doc)
    if pod is None:
        return
    yield from _selector(doc, pod)
    yield from _containers(doc, pod, kubernetes_version)
    yield from _volumes(doc, pod)


def _selector(doc: Doc, pod: PodTemplate) -> Iterator[Hit]:
    selector = dig(doc.data, "spec", "selector")
    if doc.kind not in SELECTING or not isinstance(selector, dict):
        return
    if not selector_matches(selector, pod.labels, empty_matches_all=False):
        yield Hit("SCH006", doc, ("spec", "selector"),
                  f"{doc.kind} {doc.name}'s selector does not match its pod template's labels: the API server refuses "
                  "the object, and no pod is made",
                  "select the labels the template sets (spec.template.metadata.labels)")


def _containers(doc: Doc, pod: PodTemplate, kubernetes_version: str) -> Iterator[Hit]:
    seen: set[str] = set()
    for c in pod.containers():
        name = c.name
        if not dns1123_label(name):
            yield Hit("SCH006", doc, c.path + ("name",), f"container name {name!r}: expected {LABEL_TEXT}", "rename the container")
        elif name in seen:
            yield Hit("SCH006", doc, c.path + ("name",), f"two containers are named {name!r}: expected unique names",
                      "rename one of them")
        seen.add(name)
        ports: set[str] = set()
        for i, port in enumerate(c.spec.get("ports") or []):
            port_name = port.get("name") if isinstance(port, dict) else None
            if not isinstance(port_name, str) or port_name == "":  # unnamed: nothing to check
                continue
            if problem := port_name_problem(port_name):
                yield Hit("SCH006", doc, c.path + ("ports", i, "name"), f"container {name!r} port name {port_name!r}: {problem}",
                          "shorten the port name")
            elif port_name in ports:
                yield Hit("SCH006", doc, c.path + ("ports", i, "name"), f"container {name!r} names two ports {port_name!r}",
                          "give each port its own name")
            ports.add(port_name)
        for i, var in enumerate(c.spec.get("env") or []):
            var_name = var.get("name") if isinstance(var, dict) else None
            if isinstance(var_name, str) and (problem := env_var_name_problem(var_name, kubernetes_version)):
                yield Hit("SCH006", doc, c.path + ("env", i, "name"), f"container {name!r} env var {var_name!r}: {problem}",
                          "rename the variable")
        yield from _requests_within_limits(doc, c.path, name, c.spec.get("resources"))


def _overcommit_allowed(resource: str) -> bool:
    """Native resources (no domain, or kubernetes.io/) other than hugepages may request less than their
    limit; extended resources (nvidia.com/gpu) and hugepages must request exactly it
    (kubernetes pkg/apis/core/helper ``IsOvercommitAllowed``)."""
    domain, slash, _ = resource.rpartition("/")
    native = not slash or domain == "kubernetes.io" or domain.endswith(".kubernetes.io")
    return native and not resource.startswith("hugepages-")


def _requests_within_limits(doc: Doc, path: tuple, name: str, resources) -> Iterator[Hit]:
    if not isinstance(resources, dict):
        return
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
    if not isinstance(requests, dict) or not isinstance(limits, dict):
        return
    for resource, requested in requests.items():
        request, limit = quantity_or_none(requested), quantity_or_none(limits.get(resource))
        at = path + ("resources", "requests", resource)
        if request is None:
            continue
        if not _overcommit_allowed(str(resource)):
            if limit is None:
                yield Hit("SCH006", doc, at, f"container {name!r} requests {resource} {requested} without a limit: "
                          "a resource that cannot be overcommitted needs one", f"set limits.{resource}: {requested}")
            elif request != limit:
                yield Hit("SCH006", doc, at, f"container {name!r} requests {resource} {requested} but its limit is "
                          f"{limits[resource]}: a resource that cannot be overcommitted must request its limit",
                          "set both to the same amount")
        elif limit is not None and request > limit:
            yield Hit("SCH006", doc, at,
                      f"container {name!r} requests {resource} {requested}, more than its limit {limits[resource]}",
                      "lower the request or raise the limit")


def _volumes(doc: Doc, pod: PodTemplate) -> Iterator[Hit]:
    # A StatefulSet's controller adds a volume per claim template to each pod it creates.
    volumes: set[str] = {str(dig(t, "metadata", "name")) for t in dig(doc.data, "spec", "volumeClaimTemplates", default=[])
                         if doc.kind == "StatefulSet" and isinstance(t, dict)}
    for i, volume in enumerate(pod.spec.get("volumes") or []):
        vname = volume.get("name") if isinstance(volume, dict) else None
        if not isinstance(vname, str):
            continue
        at = pod.spec_path + ("volumes", i, "name")
        if not dns1123_label(vname):
            yield Hit("SCH006", doc, at, f"volume name {vname!r}: expected {LABEL_TEXT}", "rename the volume")
        elif vname in volumes:
            yield Hit("SCH006", doc, at, f"two volumes are named {vname!r}: expected unique names", "rename one of them")
        volumes.add(vname)
    for c in pod.containers():
        paths: set[str] = set()
        for i, mount in enumerate(c.spec.get("volumeMounts") or []):
            if not isinstance(mount, dict):
                continue
            mname, mpath = mount.get("name"), mount.get("mountPath")
            if isinstance(mname, str) and mname not in volumes:
                yield Hit("SCH006", doc, c.path + ("volumeMounts", i, "name"),
                          f"container {c.name!r} mounts volume {mname!r}, which the pod does not declare",
                          f"declare the volume in spec.volumes, or mount one of: {', '.join(sorted(volumes)) or 'none declared'}")
            if isinstance(mpath, str):
                if mpath in paths:
                    yield Hit("SCH006", doc, c.path + ("volumeMounts", i, "mountPath"),
                              f"container {c.name!r} mounts two volumes at {mpath}", "mount each volume at its own path")
                paths.add(mpath)
