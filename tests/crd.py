"""CRD schemas for tests: found by path in ../shared/schemas/crds (or $GITOPS_CRD_SCHEMAS), never copied here."""
from __future__ import annotations

import functools
import json
import os
from pathlib import Path

import jsonschema
import pytest

from .conftest import REPO

CRD_SCHEMAS = Path(os.environ.get("GITOPS_CRD_SCHEMAS", REPO.parent / "shared" / "schemas" / "crds"))


def strict_schema(schema):
    """kubeconform -strict: objects with declared properties reject unknown fields."""
    if isinstance(schema, dict):
        out = {k: strict_schema(v) for k, v in schema.items()}
        if ("properties" in out and "additionalProperties" not in out
                and not out.get("x-kubernetes-preserve-unknown-fields")):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [strict_schema(v) for v in schema]
    return schema


@functools.cache
def crd_validator(api_version: str, kind: str, strict: bool = False) -> jsonschema.protocols.Validator:
    """Validator for a custom resource; skips (fails in CI) when the schema folder is absent."""
    group, version = api_version.split("/")
    path = CRD_SCHEMAS / group / f"{kind.lower()}_{version}.json"
    if not path.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"CRD schema {path} not found (set GITOPS_CRD_SCHEMAS)")
        pytest.skip(f"CRD schema {path} not found (set GITOPS_CRD_SCHEMAS)")
    schema = json.loads(path.read_text())
    if strict:
        return jsonschema.Draft7Validator(strict_schema(schema))
    return jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)(schema)
