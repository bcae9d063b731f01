"""Schemas (SCH rules): built-in kinds against kubernetes-validate's strict OpenAPI schemas, custom
resources against their CRD schema (the repository's own, gitops/schemas/crds/, then any extra
``--schema-location``); deprecated and removed APIs.

One job per module: apis.py (removed/deprecated API tables), builtin.py (built-in kinds),
crd_strict.py (CRD strictness), locations.py (schema locations), store.py (lookup and issues).
"""
from __future__ import annotations

from .builtin import k8s_kind_schema, schema_version
from .store import SchemaStore, _CRD_CACHE


__all__ = ["SchemaStore", "_CRD_CACHE", "k8s_kind_schema", "schema_version"]
