"""The fast emitter writes exactly what PyYAML (CSafeDumper, canonical settings) writes."""
from __future__ import annotations

import random
import string

import yaml

from gitops.pipeline.canonical import canonical_object, dump_yaml, fast_dump_yaml

from .conftest import REPO

TREES = [REPO / "tests" / "golden", REPO / "dist", REPO / "argocd"]
SCALARS = ["", "x", "true", "no", "8080", "0.5", "null", "~", "a: b", "- x", "#c", "a #b", "x\ty", "é", "'q'", '"q"',
           "it's", "x\ny", "x\ny\n", "x\n\n  y\n", " lead", "trail ", "http://a:1/b?c=d", "{x}", "[x]", "*a", "&a", "!t",
           "%p", "@x", "`x", "12:30", "1e3", "0o17", "0x1F", "2026-11-26", "=", "?", "|", ">", "sha256:" + "a" * 64,
           "1.2.3", "1_000", "0777", "1.5", "v1.2.0", "1:20", "app.kubernetes.io/name", "/health", "_x", "x-y_z.w/v",
           "Yes", "OFF", "NULL", ".inf", "-.5", "+1", "2026-11-26t10:00:00z", "<<", "1e+3", "0b101", "09",
           0, 1, -5, 10**12, True, False, None, 0.05, 1.0, 1e-7, "x" * 300]


def _random_value(rng: random.Random, depth: int):
    roll = rng.random()
    if depth > 3 or roll < 0.4:
        return rng.choice(SCALARS)
    if roll < 0.7:
        return {rng.choice(["a", "b", "name", "x.y/z", "true", "8080", "key with space", rng.choice(string.ascii_lowercase)]) + str(i):
                _random_value(rng, depth + 1) for i in range(rng.randint(0, 4))}
    return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]


def test_identical_to_pyyaml_on_random_documents():
    rng = random.Random(20261126)
    for _ in range(3000):
        doc = {"apiVersion": "v1", "kind": "X", "metadata": {"name": "n"}, "spec": _random_value(rng, 0)}
        assert fast_dump_yaml(doc) == dump_yaml(doc), doc


def test_identical_to_pyyaml_on_every_generated_document():
    count = 0
    for tree in TREES:
        for path in sorted(tree.rglob("*.yaml")) if tree.exists() else []:
            for doc in yaml.safe_load_all(path.read_text()):
                if isinstance(doc, dict):
                    doc = canonical_object(doc)
                    assert fast_dump_yaml(doc) == dump_yaml(doc), path
                    count += 1
    assert count > 50


def test_round_trips_through_a_yaml_parser():
    rng = random.Random(7)
    for _ in range(500):
        doc = {"k": _random_value(rng, 0)}
        assert yaml.safe_load(fast_dump_yaml(doc)) == doc
