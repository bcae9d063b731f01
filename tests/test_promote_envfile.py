"""Promotable fields come from the schema; environment-file edits are minimal (one line per value)."""
from __future__ import annotations

import copy
import difflib

import pytest
import yaml

from gitops.errors import InputError
from gitops.promote import envfile
from gitops.promote.envfile import EnvFile, check_value, promotable_fields

from .conftest import MINI

DIGEST = "sha256:" + "e" * 64


def _changed_lines(a: str, b: str) -> list[str]:
    return [line for line in difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_promotable_fields_are_read_from_the_schema_marks(monkeypatch):
    assert promotable_fields() == ("image.tag", "image.digest")
    schema = copy.deepcopy(envfile.environment_schema())
    settings = schema["$defs"]["componentSettings"]["properties"]
    settings["image"]["properties"]["digest"].pop("x-promotable")
    settings["replicas"]["x-promotable"] = True
    monkeypatch.setattr(envfile, "environment_schema", lambda: schema)
    envfile.promotable_fields.cache_clear()
    try:
        assert envfile.promotable_fields() == ("image.tag", "replicas")
    finally:
        envfile.promotable_fields.cache_clear()


def test_local_fields_never_move():
    dev = EnvFile.read(MINI / "environments" / "dev.yaml")
    prod = EnvFile.read(MINI / "environments" / "prod.yaml")
    assert set(prod.values("shop-api")) == {"image.tag", "image.digest"}
    before = copy.deepcopy(prod.data)
    prod.set_values("shop-api", dev.values("shop-api"))
    after = yaml.safe_load(prod.text)
    # Only components.shop-api.image changed; replicas, hosts, sizes, secret store, policy... are prod's own.
    before["components"]["shop-api"]["image"] = {"tag": "v1.2.0"}
    assert after == before


def test_flow_style_edit_changes_one_line_and_keeps_quoting_and_comments():
    text = (MINI / "environments" / "prod.yaml").read_text()
    text = "# prod: pinned by digest\n" + text.replace("  shop-api:\n", "  shop-api:  # the public API\n")
    env = EnvFile(text, "prod.yaml")
    assert env.set_values("shop-api", {"image.tag": "v1.3.0", "image.digest": DIGEST}) == ["image.tag", "image.digest"]
    assert _changed_lines(text, env.text) == [
        '-    image: {tag: v1.2.0, digest: "sha256:' + "1" * 64 + '"}',
        '+    image: {tag: v1.3.0, digest: "' + DIGEST + '"}',
    ]
    assert env.text.startswith("# prod: pinned by digest\n") and "shop-api:  # the public API" in env.text


def test_block_style_insert_and_delete_keep_everything_else():
    text = ("name: x\ncomponents:\n  a:\n    enabled: true   # on\n    image:\n      tag: v1   # built by CI\n"
            "      digest: 'sha256:abc'\n    replicas: 2\n  b:\n    enabled: false\n    replicas: 1\n")
    env = EnvFile(text)
    env.set_values("a", {"image.tag": "v2"})           # digest removed
    env.set_values("b", {"image.tag": "1.10", "image.digest": DIGEST})  # image added to a block map
    assert _changed_lines(text, env.text) == [
        "-      tag: v1   # built by CI", "-      digest: 'sha256:abc'", "+      tag: v2   # built by CI",
        f'+    image: {{tag: "1.10", digest: "{DIGEST}"}}',
    ]
    data = yaml.safe_load(env.text)
    assert data["components"]["b"]["image"] == {"tag": "1.10", "digest": DIGEST}  # "1.10" stays a string


def test_unchanged_values_leave_the_file_byte_identical():
    text = (MINI / "environments" / "prod.yaml").read_text()
    env = EnvFile(text)
    assert env.set_values("shop-api", env.values("shop-api")) == []
    assert env.text == text


def test_unusual_layout_falls_back_to_a_verified_round_trip():
    text = "name: x\ncomponents:\n  a:\n    enabled: true\n    image:\n      tag: >-\n        v1\n"
    env = EnvFile(text)
    env.set_values("a", {"image.tag": "v2"})
    assert yaml.safe_load(env.text)["components"]["a"]["image"] == {"tag": "v2"}


def test_values_are_checked_against_the_schema():
    check_value("image.tag", "v1.2.3")
    check_value("image.digest", DIGEST)
    for field, bad in (("image.tag", "latest"), ("image.tag", "bad tag"), ("image.digest", "sha256:xyz")):
        with pytest.raises(InputError) as exc:
            check_value(field, bad, "--tag")
        assert field in str(exc.value) and repr(bad) in str(exc.value)
