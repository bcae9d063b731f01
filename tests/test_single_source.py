"""Facts with one home: a second copy of any of them must make a test fail here."""
from __future__ import annotations

import ast
from decimal import Decimal
from pathlib import Path

import pytest

from gitops.errors import InputError
from gitops.inputs.load import load_platform
from gitops.inputs.quantity import QuantityError, parse_quantity, quantity_or_none

from .conftest import REPO, edit_yaml

PACKAGES = ("gitops", "charts")


def _defined_functions() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    out.setdefault(node.name, []).append(path.relative_to(REPO).as_posix())
    return out


# --- quantities: gitops/inputs/quantity.py is the only parser -------------------------------------------

def test_one_quantity_parser():
    homes = {name: files for name, files in _defined_functions().items()
             if "quantity" in name and name.startswith(("parse", "format"))}
    assert homes and all(files == ["gitops/inputs/quantity.py"] for files in homes.values()), homes


@pytest.mark.parametrize("text", ["1e3Mi", "1.2.3", "Mi", "", "1 Gi", "1e", "0x10"])
def test_malformed_quantities_are_malformed_everywhere(text):
    with pytest.raises(QuantityError):
        parse_quantity(text)
    assert quantity_or_none(text) is None


@pytest.mark.parametrize("text, value", [("500m", Decimal("0.5")), ("1e3", Decimal(1000)), ("1Ki", Decimal(1024)),
                                         ("1.5Gi", Decimal(3 * 2**29)), ("2", Decimal(2))])
def test_quantities_parse_the_same_everywhere(text, value):
    assert parse_quantity(text) == value == quantity_or_none(text)


# --- production: the end of the promotion chain, decided once at load ----------------------------

def test_production_is_the_end_of_the_chain(mini):
    envs = {e.name: e for e in load_platform(mini).environments}
    assert envs["prod"].production and envs["prod"].requires_digest
    assert not envs["dev"].production and not envs["dev"].requires_digest


def test_production_needs_digests_without_the_policy_flag(mini):
    # An environment at the end of the chain is production whatever its name or policy flag says.
    edit_yaml(mini / "environments/prod.yaml", lambda d: (d["policy"].update(requireDigest=False),
                                                      d["components"]["shop-api"]["image"].pop("digest")))
    with pytest.raises(InputError) as info:
        load_platform(mini)
    assert any("components/shop-api/image/digest" in str(p) and "production" in str(p) for p in info.value.problems)


def test_no_second_definition_of_production():
    sources = "\n".join(p.read_text() for package in PACKAGES for p in (REPO / package).rglob("*.py"))
    for needle in ('"prod" in', '== "prod"', "PROD_NAMES", "is_production"):
        assert needle not in sources, f"{needle!r}: ask Environment.production / requires_digest instead"
    assert _defined_functions()["requires_digest"] == ["gitops/inputs/model.py"]


# --- findings: one record, one JSON contract for every command that reports findings ------------

def test_one_finding_class():
    classes = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            classes += [path.relative_to(REPO).as_posix() for node in ast.walk(ast.parse(path.read_text()))
                        if isinstance(node, ast.ClassDef) and node.name == "Finding"]
    assert classes == ["gitops/findings.py"]


def _broken(root: Path) -> None:
    """Inputs that still load but give every findings command something to report."""
    edit_yaml(root / "environments/prod.yaml", lambda d: d["components"]["shop-api"].update(autoscaling={"max": 60}))
    for name in ("stock-service", "stock-report"):
        edit_yaml(root / f"inventory/{name}.yaml", lambda d: d["source"].pop("dockerfile"))


@pytest.mark.parametrize("args", [("capacity",), ("inventory", "check", "--no-dockerfiles"),
                                  ("dockerfile", "lint", "--no-hadolint", "tests/fixtures/dockerfiles/df001-single-stage"),
                                  ("validate",)])
def test_every_findings_command_speaks_one_json_contract(mini, args):
    import json

    from .conftest import FINDING_KEYS, run_cli
    _broken(mini)
    if args[0] == "validate":
        assert run_cli(mini, "synth").returncode == 0
    if args[0] == "dockerfile":
        args = (*args[:-1], str(REPO / args[-1]))
    proc = run_cli(mini, *args, "--format", "json")
    data = json.loads(proc.stdout)
    assert {"version", "ok", "summary", "findings"} <= set(data), data.keys()
    assert data["version"] == 1 and set(data["summary"]) >= {"errors", "warnings", "infos"}
    assert data["findings"], f"{args}: the fixture was meant to produce findings"
    for finding in data["findings"]:
        assert set(finding) == FINDING_KEYS, finding
        assert finding["severity"] in ("error", "warning", "info") and finding["rule_id"] and finding["message"]
    assert data["ok"] is (data["summary"]["errors"] == 0) or args[0] == "dockerfile"
    assert proc.returncode == (0 if data["ok"] else 1)


# --- input defaults: declared once, in the JSON Schemas ------------------------------------------

def _schema_defaults() -> dict[str, list]:
    """camelCase property name -> every default the input schemas declare for it."""
    import json
    import re
    out: dict[str, list] = {}

    def walk(node):
        if isinstance(node, dict):
            for key, prop in (node.get("properties") or {}).items():
                if isinstance(prop, dict) and "default" in prop:
                    out.setdefault(key, []).append(prop["default"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    for path in sorted((REPO / "gitops/schemas").glob("*.schema.json")):
        walk(json.loads(path.read_text()))
    return {re.sub(r"(?<!^)(?=[A-Z])", "_", k).lower(): v for k, v in out.items()} | out


ABSENT = (None, "", (), {})


def _literal(node):
    try:
        value = ast.literal_eval(node)
    except ValueError:
        return "not a literal"
    if isinstance(value, dict) and not value:
        return {}
    return tuple(value) if isinstance(value, list) else value


def test_loader_states_no_default_of_its_own():
    """`data.get(key, default)` in the loader may only fall back to "absent" (None, "", ()) or ask the schema."""
    tree = ast.parse((REPO / "gitops/inputs/load.py").read_text())
    offenders = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                and len(node.args) == 2):
            value = _literal(node.args[1])
            if value != "not a literal" and value not in ABSENT:
                offenders.append(f"line {node.lineno}: {ast.unparse(node)}")
    assert not offenders, "declare these defaults in gitops/schemas/*.json and read them with schema_default():\n" + "\n".join(offenders)


def test_model_restates_no_schema_default():
    defaults = _schema_defaults()
    tree = ast.parse((REPO / "gitops/inputs/model.py").read_text())
    offenders = []
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        for stmt in cls.body:
            if isinstance(stmt, ast.AnnAssign) and stmt.value is not None and isinstance(stmt.target, ast.Name):
                value = _literal(stmt.value)
                declared = [tuple(d) if isinstance(d, list) else d for d in defaults.get(stmt.target.id, [])]
                if value in declared and value not in (None,):
                    offenders.append(f"{cls.name}.{stmt.target.id} = {value!r}")
    assert not offenders, "the schema already declares these defaults: " + ", ".join(offenders)


def test_every_default_the_loader_asks_for_exists():
    """schema_default() raises for a field without a declared default: each call site in the loader resolves."""
    from gitops.inputs.load import schema_default
    tree = ast.parse((REPO / "gitops/inputs/load.py").read_text())
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "schema_default"
             and all(isinstance(a, ast.Constant) for a in n.args)]
    assert len(calls) >= 15
    for call in calls:
        schema_default(*(a.value for a in call.args))
