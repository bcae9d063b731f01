"""CRD schemas for tests: the repository's own (gitops/schemas/crds/, imported with `gitops schemas import`)."""
from __future__ import annotations

import functools
import json

import jsonschema
import pytest

from gitops.crds import schema_dir

from .conftest import REPO

CRD_SCHEMAS = schema_dir(REPO)


@functools.cache
def crd_validator(api_version: str, kind: str, strict: bool = False) -> jsonschema.protocols.Validator:
    """Validator for a custom resource. The schemas are strict already (gitops/crds/convert.py), so
    ``strict`` changes nothing; a missing schema is a defect of the repository: the test fails."""
    group, version = api_version.split("/")
    path = CRD_SCHEMAS / group / f"{kind.lower()}_{version}.json"
    if not path.is_file():
        pytest.fail(f"no CRD schema {path.relative_to(REPO)}: import its CRDs with `gitops schemas import`")
    schema = json.loads(path.read_text())
    return jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)(schema)
