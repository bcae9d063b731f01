"""fastjsonschema code kept in .cache/ (gitops/inputs/compiled_schema.py): same verdicts, rebuilt when unusable."""
from __future__ import annotations

import fastjsonschema
import pytest

from gitops.inputs import compiled_schema

SCHEMA = {"type": "object", "properties": {"port": {"type": "integer", "minimum": 1}}, "required": ["port"]}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setattr(compiled_schema, "CACHE_DIR", tmp_path / "schema-code")
    return tmp_path / "schema-code"


def _verdicts(check) -> list[bool]:
    out = []
    for doc in ({"port": 8080}, {"port": 0}, {}, {"port": "80"}, []):
        try:
            check(doc)
            out.append(True)
        except fastjsonschema.JsonSchemaException:
            out.append(False)
    return out


def test_cached_code_gives_the_library_verdicts(cache):
    expected = _verdicts(fastjsonschema.compile(SCHEMA, use_default=False))
    assert _verdicts(compiled_schema.compiled_validator(SCHEMA, use_default=False)) == expected
    assert len(list(cache.glob("*.marshal"))) == 1
    assert _verdicts(compiled_schema.compiled_validator(SCHEMA, use_default=False)) == expected  # from the cache


@pytest.mark.parametrize("garbage", [b"", b"not marshal", b"\xe9"])
def test_an_unusable_entry_is_compiled_again(cache, garbage):
    compiled_schema.compiled_validator(SCHEMA, use_default=False)
    entry = next(cache.glob("*.marshal"))
    entry.write_bytes(garbage)
    assert _verdicts(compiled_schema.compiled_validator(SCHEMA, use_default=False)) == [True, False, False, False, False]
    assert entry.read_bytes() != garbage


def test_a_changed_schema_is_a_different_entry(cache):
    compiled_schema.compiled_validator(SCHEMA, use_default=False)
    stricter = {**SCHEMA, "additionalProperties": False}
    check = compiled_schema.compiled_validator(stricter, use_default=False)
    assert len(list(cache.glob("*.marshal"))) == 2
    with pytest.raises(fastjsonschema.JsonSchemaException):
        check({"port": 80, "extra": 1})
