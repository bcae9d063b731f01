"""The repository's own CRD schemas: import upstream CustomResourceDefinitions, convert, lock.

- sources.py: read manifests from files, folders and http(s) URLs; parse the CRDs in them
- convert.py: CRD -> strict JSON schema per served version (kubeconform's openapi2jsonschema rules)
- lock.py:    lock.json next to the schemas (project, version, URL, sha256s); verify files against it
- store.py:   import/update into gitops/schemas/crds/, all or nothing

`gitops schemas import|update|check` (gitops/commands/schemas.py) is the command line;
`gitops validate` reads the folder by default (gitops.validate.default_schema_locations).
"""
from __future__ import annotations

import importlib

# Loaded on first use (PEP 562): every synth reaches lock.py (charts/addons.py names each add-on's
# CRD project), while store.py pulls in sources.py's network code (urllib.request, http.client,
# ssl, email: 46 ms of imports) that only the schemas commands and validate need.
_HOME = {"read_lock": "lock", "verify": "lock", "PACKAGE_SCHEMAS": "store", "apply_imports": "store",
         "import_sources": "store", "schema_dir": "store", "update": "store"}

__all__ = sorted(_HOME)


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
