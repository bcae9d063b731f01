"""The repository's own CRD schemas: import upstream CustomResourceDefinitions, convert, lock.

- sources.py: read manifests from files, folders and http(s) URLs; parse the CRDs in them
- convert.py: CRD -> strict JSON schema per served version (kubeconform's openapi2jsonschema rules)
- lock.py:    lock.json next to the schemas (project, version, URL, sha256s); verify files against it
- store.py:   import/update into gitops/schemas/crds/, all or nothing

`gitops schemas import|update|check` (gitops/commands/schemas.py) is the command line;
`gitops validate` reads the folder by default (gitops.validate.default_schema_locations).
"""
from .lock import read_lock, verify
from .store import PACKAGE_SCHEMAS, apply_imports, import_sources, schema_dir, update

__all__ = ["PACKAGE_SCHEMAS", "apply_imports", "import_sources", "read_lock", "schema_dir", "update", "verify"]
