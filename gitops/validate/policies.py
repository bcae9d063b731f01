"""Per-object policies (POL rules): secure-by-default pods, pinned images, no plain secrets, labels,
disruption budgets that allow a drain, sane autoscalers."""
from __future__ import annotations

from typing import Iterator

from ..inputs.conventions import RUN_AS
from .documents import Doc
from .envset import EnvSet, Workload
from .findings import Hit
from .k8s import DIGEST, dig, parse_image, pod_template, scaled_int_or_percent

REQUIRED_LABELS = ("app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/part-of",
                   "app.kubernetes.io/managed-by", "meetinity.io/environment")


def check_document(doc: Doc, es: EnvSet) -> Iterator[Hit]:
    yield from _labels(doc, es)
    kind = doc.kind
    if kind == "Secret" and doc.api_version == "v1":
        yield from _plain_secret(doc)
    elif kind == "HorizontalPodAutoscaler":
        yield from _hpa(doc)
    pod = pod_template(doc)
    if pod is not None:
        yield from _pod(doc, pod, es)


def _labels(doc: Doc, es: EnvSet) -> Iterator[Hit]:
    labels = doc.labels
    missing = [k for k in REQUIRED_LABELS if not labels.get(k)]
    if missing:
        yield Hit("POL011", doc, ("metadata", "labels"), f"missing required label(s) {', '.join(missing)}",
                  "add the standard labels (the generator's charts/labels.py sets them on every object)")
    env_label = labels.get("meetinity.io/environment")
    if env_label and env_label != es.name:
        yield Hit("POL011", doc, ("metadata", "labels", "meetinity.io/environment"),
                  f"label meetinity.io/environment is {env_label!r} but the object is in dist/{es.name}/",
                  f"set meetinity.io/environment: {es.name} (or move the object to dist/{env_label}/)")


def _plain_secret(doc: Doc) -> Iterator[Hit]:
    for key in ("data", "stringData"):
        if doc.data.get(key):
            yield Hit("POL010", doc, (key,), f"Secret {doc.name} carries {key} in git ({len(doc.data[key])} key(s))",
                      "delete it from git and create it with an ExternalSecret (secret store) or a SealedSecret")
            return


def _hpa(doc: Doc) -> Iterator[Hit]:
    lo = dig(doc.data, "spec", "minReplicas")
    lo = lo if isinstance(lo, int) and not isinstance(lo, bool) else 1
    hi = dig(doc.data, "spec", "maxReplicas")
    if isinstance(hi, int) and not isinstance(hi, bool) and lo > hi:
        yield Hit("POL014", doc, ("spec", "minReplicas"), f"minReplicas {lo} > maxReplicas {hi}",
                  f"lower minReplicas to at most {hi} or raise maxReplicas to at least {lo}")


def _effective(container_ctx: dict, pod_ctx: dict, key: str):
    value = container_ctx.get(key)
    return pod_ctx.get(key) if value is None else value


def _pod(doc: Doc, pod, es: EnvSet) -> Iterator[Hit]:
    spec = pod.spec
    pod_ctx = spec.get("securityContext") or {}
    for c in pod.containers():
        ctx = c.spec.get("securityContext") or {}
        sc_path = c.path + ("securityContext",)
        label = f"container {c.name!r}"
        non_root = _effective(ctx, pod_ctx, "runAsNonRoot")
        user = _effective(ctx, pod_ctx, "runAsUser")
        if user == 0:
            yield Hit("POL001", doc, sc_path + ("runAsUser",), f"{label} runs as root (runAsUser: 0)",
                      f"run as an unprivileged UID (the generator uses {RUN_AS}) with runAsNonRoot: true")
        elif non_root is not True:
            yield Hit("POL001", doc, sc_path, f"{label} does not set runAsNonRoot: true (container or pod securityContext)",
                      "set securityContext.runAsNonRoot: true and a non-zero runAsUser")
        if ctx.get("readOnlyRootFilesystem") is not True:
            yield Hit("POL002", doc, sc_path, f"{label} does not set readOnlyRootFilesystem: true",
                      "set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the app writes (/tmp)")
        if ctx.get("privileged") is True:
            yield Hit("POL003", doc, sc_path + ("privileged",), f"{label} is privileged",
                      "remove privileged: true")
        if ctx.get("allowPrivilegeEscalation") is not False:
            yield Hit("POL003", doc, sc_path, f"{label} does not set allowPrivilegeEscalation: false",
                      "set securityContext.allowPrivilegeEscalation: false")
        drop = dig(ctx, "capabilities", "drop") or []
        if "ALL" not in drop:
            yield Hit("POL004", doc, sc_path, f"{label} does not drop ALL capabilities (drop: {drop or 'none'})",
                      "set securityContext.capabilities.drop: [ALL]")
        add = dig(ctx, "capabilities", "add") or []
        if add:
            yield Hit("POL004", doc, sc_path + ("capabilities", "add"), f"{label} adds capabilities {', '.join(map(str, add))}",
                      "remove capabilities.add; bind ports >= 1024 instead of NET_BIND_SERVICE")
        seccomp = dig(ctx, "seccompProfile", "type") or dig(pod_ctx, "seccompProfile", "type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            yield Hit("POL005", doc, sc_path, f"{label} has seccomp profile {seccomp or 'unset'}, expected RuntimeDefault",
                      "set securityContext.seccompProfile.type: RuntimeDefault on the pod or container")
        resources = c.spec.get("resources") or {}
        missing = [f"{kind}.{res}" for kind in ("requests", "limits") for res in ("cpu", "memory")
                   if dig(resources, kind, res) in (None, "")]
        if missing:
            yield Hit("POL006", doc, c.path + ("resources",), f"{label} has no {', '.join(missing)}",
                      "set cpu and memory requests and limits (inventory resources, or per environment)")
        if pod.long_running and not c.init:
            absent = [p for p in ("livenessProbe", "readinessProbe") if not c.spec.get(p)]
            if absent:
                yield Hit("POL007", doc, c.path, f"{label} has no {' and no '.join(absent)}",
                          "declare health.liveness and health.readiness in the inventory (the app's real endpoints)")
        yield from _image(doc, c, label, es)
    automount = spec.get("automountServiceAccountToken")
    if automount is not False:
        sa_name = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        sa = es.find("ServiceAccount", doc.namespace, sa_name)
        sa_off = sa is not None and sa.data.get("automountServiceAccountToken") is False
        if automount is True or not sa_off:
            others = [sa] if sa is not None and automount is None else []
            yield Hit("POL012", doc, pod.spec_path, f"pods mount the token of ServiceAccount {sa_name}"
                      + (" (automountServiceAccountToken: true)" if automount is True else
                         " (automountServiceAccountToken is not false on the pod or the ServiceAccount)"),
                      "set automountServiceAccountToken: false on the pod spec (and the ServiceAccount)", others)


def _image(doc: Doc, c, label: str, es: EnvSet) -> Iterator[Hit]:
    image = c.spec.get("image")
    path = c.path + ("image",)
    if not isinstance(image, str) or not image:
        return
    ref = parse_image(image)
    if ref.tag == "latest":
        yield Hit("POL008", doc, path, f"{label} uses the moving tag :latest ({image})",
                  "deploy an immutable version tag (vX.Y.Z) set in environments/<env>.yaml")
    elif ref.tag is None and ref.digest is None:
        yield Hit("POL008", doc, path, f"{label} image {image} has no tag (means :latest)",
                  "deploy an immutable version tag (vX.Y.Z) set in environments/<env>.yaml")
    if es.env is not None and es.env.requires_digest and (ref.digest is None or not DIGEST.match(ref.digest)):
        yield Hit("POL009", doc, path, f"{label} image {image} is not pinned by digest in {es.name}",
                  f"add image.digest (sha256:...) for this component in environments/{es.name}.yaml")


def check_disruption_budgets(es: EnvSet) -> Iterator[Hit]:
    """POL013 (and XRF018 for budgets that select nothing)."""
    for pdb in es.kind("PodDisruptionBudget"):
        spec = pdb.data.get("spec") or {}
        selected: list[Workload] = es.workloads_selected(spec.get("selector"), pdb.namespace)
        if not selected:
            yield Hit("XRF018", pdb, ("spec", "selector"), f"PodDisruptionBudget {pdb.name} selects no workload in {pdb.namespace}",
                      "fix spec.selector to the workload's selector labels, or delete the budget")
            continue
        for w in selected:
            replicas = w.min_replicas
            if "maxUnavailable" in spec:
                allowed = scaled_int_or_percent(spec["maxUnavailable"], replicas)
                field = "maxUnavailable"
            elif "minAvailable" in spec:
                need = scaled_int_or_percent(spec["minAvailable"], replicas)
                allowed = None if need is None else replicas - need
                field = "minAvailable"
            else:
                continue
            if allowed is None:
                continue
            allowed = min(allowed, replicas)
            if allowed < 1:
                source = f"HorizontalPodAutoscaler {w.hpa.name} minReplicas" if w.hpa is not None else "spec.replicas"
                yield Hit("POL013", pdb, ("spec", field),
                          f"at the minimum of {replicas} replica(s) ({source}) {field}: {spec[field]} allows "
                          f"{max(allowed, 0)} voluntary eviction(s); node drains block",
                          "use maxUnavailable: 1 (or keep minAvailable below the minimum replica count)",
                          [w.doc] + ([w.hpa] if w.hpa is not None else []))
