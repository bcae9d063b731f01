"""Fuzzed inventory and environment files: every input either loads or raises InputError, never crashes."""
from __future__ import annotations

import random

import pytest

import yaml

from gitops.errors import InputError
from gitops.inputs.load import load_platform, schema_valid, validators

NASTY = ["", "~", "null", "[]", "{}", "- a\n- b", "a: &x [*x]", "!!python/object:os.system x", "\x00\xff",
         "[" * 5000, "key: [unclosed", "a: 1\na: 2", "? [a, b]\n: c", "<<: {a: 1}", "name: 123", "port: 1e9",
         "x: &a [1,2]\ny: &b [*a,*a,*a,*a]\nz: [*b,*b,*b,*b]", "\t- tab", "…: ü", "'unterminated"]


def _mutate(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    op = rng.randrange(6)
    i = rng.randrange(len(lines))
    if op == 0:
        del lines[i]
    elif op == 1:
        lines.insert(i, rng.choice(NASTY))
    elif op == 2:
        lines[i] = lines[i].replace(":", rng.choice(["", "::", ": [", ": {", ": null", ": -1"]), 1)
    elif op == 3:
        lines[i] = " " * rng.randrange(5) + lines[i]
    elif op == 4:
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    else:
        cut = rng.randrange(len(lines[i]) + 1)
        lines[i] = lines[i][:cut] + rng.choice(["'", '"', "&a", "*a", "!", "%", "@", "`", "|", ">", "#"]) + lines[i][cut:]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("target", ["inventory/shop-api.yaml", "environments/prod.yaml"])
def test_mutated_files_load_or_fail_cleanly(mini, target):
    rng = random.Random(hash(target) & 0xFFFF)
    path = mini / target
    original = path.read_text()
    for _ in range(150):
        path.write_text(_mutate(original, rng))
        try:
            load_platform(mini)
        except InputError as exc:
            assert exc.problems and all(p.file and p.message for p in exc.problems)
    path.write_text(original)


@pytest.mark.parametrize("text", NASTY)
def test_nasty_documents_are_input_errors(mini, text):
    (mini / "inventory/shop-api.yaml").write_text(text)
    with pytest.raises(InputError):
        load_platform(mini)


@pytest.mark.parametrize("target,kind", [("inventory/shop-api.yaml", "component"), ("environments/prod.yaml", "environment")])
def test_fast_schema_check_agrees_with_jsonschema(mini, target, kind):
    """The compiled happy-path check must never accept what jsonschema rejects (or the reverse)."""
    rng = random.Random(42)
    original = (mini / target).read_text()
    reference = validators()[0 if kind == "component" else 1]
    compared = 0
    for _ in range(600):
        try:
            data = yaml.safe_load(_mutate(original, rng))
        except yaml.YAMLError:
            continue
        compared += 1
        assert schema_valid(data, kind) == reference.is_valid(data), data
    assert compared > 150


def test_schema_check_never_changes_the_data(mini):
    """Partial environment overrides inherit the inventory's values, not the schema's defaults."""
    import copy

    data = yaml.safe_load((mini / "environments/dev.yaml").read_text())
    data["components"]["shop-api"]["autoscaling"] = {"min": 1, "max": 2}
    before = copy.deepcopy(data)
    assert schema_valid(data, "environment")
    assert data == before
