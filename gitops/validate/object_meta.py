"""SCH005: the syntax the API server requires of names, label and annotation keys and values, and
ConfigMap/Secret keys, which the OpenAPI schemas (SCH001) do not encode.

Each check is what the API server runs on create, so an object that fails one is rejected and Argo
CD's sync fails, however valid its schema:
- ``metadata.name``: a DNS-1123 subdomain (at most 253 characters of a-z, 0-9, '-' and '.'), the
  default of ``ValidateObjectMeta`` and of every custom resource whatever its kind; a Namespace's and
  (since 1.27) a StatefulSet's a DNS-1123 label (at most 63, no '.'), a Service's a DNS-1035 label
  (a label that starts with a letter); RBAC objects' a path segment (no '/' or '%', not '.' or '..');
  a CronJob's at most 52 characters (its Jobs add an 11-character suffix), a Job's at most 63 (it
  becomes a label of its pods) (kubernetes pkg/apis/core/validation ``ValidateNamespaceName``,
  ``ValidateServiceName``; pkg/apis/apps/validation ``ValidateStatefulSetName``;
  pkg/apis/rbac/validation ``ValidateRBACName``; pkg/apis/batch/validation ``ValidateCronJob``).
- ``metadata.namespace``: a DNS-1123 label.
- label keys: qualified names, an optional DNS-1123 subdomain prefix and '/', then at most 63
  characters of alphanumerics, '-', '_' and '.', starting and ending alphanumeric; label values:
  empty or at most 63 such characters (k8s.io/apimachinery pkg/util/validation ``IsQualifiedName``,
  ``IsValidLabelValue``).
- annotation keys: qualified names once lowercased; keys and values together at most 256 KiB
  (k8s.io/apimachinery pkg/api/validation ``ValidateAnnotations``, ``TotalAnnotationSizeLimitB``).
- ConfigMap ``data``/``binaryData`` and Secret ``data``/``stringData`` keys: at most 253
  characters of alphanumerics, '-', '_' and '.', not '.' and not starting with '..'
  (``IsConfigMapKey``), and no key in both maps of a ConfigMap.
"""
from __future__ import annotations

from typing import Iterator

from ..inputs.k8s_syntax import (ANNOTATIONS_MAX_BYTES, LABEL_TEXT, config_map_key_problem, dns1123_label,
                                 label_value_problem, name_problem, qualified_name_problem)
from .documents import Doc
from .findings import Hit
from .k8s import dig, pod_template


def _shown(value: str) -> str:
    return repr(value if len(value) <= 80 else value[:77] + "...")


def check_object_meta(doc: Doc) -> Iterator[Hit]:
    meta = doc.data.get("metadata")
    if not isinstance(meta, dict):
        return
    name = meta.get("name")
    if isinstance(name, str) and (problem := name_problem(doc.group, doc.kind, name)):
        yield Hit("SCH005", doc, ("metadata", "name"), f"{doc.kind} name {_shown(name)}: {problem}",
                  "rename the object (the API server refuses to create it)")
    namespace = meta.get("namespace")
    if isinstance(namespace, str) and not dns1123_label(namespace):
        yield Hit("SCH005", doc, ("metadata", "namespace"), f"namespace {_shown(namespace)}: expected {LABEL_TEXT}",
                  "use the environment's namespace")
    yield from _labels_and_annotations(doc, meta, ("metadata",))
    template = pod_template(doc)  # the pods' labels and annotations are checked when the pods are created
    if template is not None and template.spec_path != ("spec",):  # (a bare Pod's are its own, above)
        at = template.spec_path[:-1] + ("metadata",)
        template_meta = dig(doc.data, *at)
        if isinstance(template_meta, dict):
            yield from _labels_and_annotations(doc, template_meta, at)
    if doc.api_version == "v1" and doc.kind in ("ConfigMap", "Secret"):
        yield from _data_keys(doc)


def _labels_and_annotations(doc: Doc, meta: dict, at: tuple) -> Iterator[Hit]:
    labels = meta.get("labels")
    if isinstance(labels, dict):
        for key, value in labels.items():
            if problem := qualified_name_problem(str(key)):
                yield Hit("SCH005", doc, at + ("labels", key), f"label key {_shown(str(key))}: {problem}",
                          "rename the label")
            elif problem := label_value_problem(value):
                yield Hit("SCH005", doc, at + ("labels", key), f"label {key} value {_shown(value)}: {problem}",
                          "shorten the value or keep it in an annotation instead")
    annotations = meta.get("annotations")
    if isinstance(annotations, dict):
        for key in annotations:
            if problem := qualified_name_problem(str(key).lower()):
                yield Hit("SCH005", doc, at + ("annotations", key), f"annotation key {_shown(str(key))}: {problem}",
                          "rename the annotation")
        size = sum(len(str(k).encode()) + len(str(v).encode()) for k, v in annotations.items())
        if size > ANNOTATIONS_MAX_BYTES:
            yield Hit("SCH005", doc, at + ("annotations",),
                      f"annotations take {size} bytes, more than the {ANNOTATIONS_MAX_BYTES} the API server accepts",
                      "move the large values into a ConfigMap")


def _data_keys(doc: Doc) -> Iterator[Hit]:
    fields = ("data", "binaryData") if doc.kind == "ConfigMap" else ("data", "stringData")
    seen: dict[str, str] = {}
    for field in fields:
        values = doc.data.get(field)
        if not isinstance(values, dict):
            continue
        for key in values:
            key = str(key)
            if problem := config_map_key_problem(key):
                yield Hit("SCH005", doc, (field, key), f"{doc.kind} key {_shown(key)}: {problem}", "rename the key")
            elif doc.kind == "ConfigMap" and key in seen:
                yield Hit("SCH005", doc, (field, key), f"ConfigMap key {_shown(key)} is in both {seen[key]} and {field}",
                          "keep the key in one of them")
            seen.setdefault(key, field)
