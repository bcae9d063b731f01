"""The package layout tells the pipeline, and imports point one way.

``charts/`` (the constructs) and ``gitops/inputs/`` (the model and its loader) are what every
command builds on; they must never reach back into operations, commands, the CLI or promotion,
or a `gitops synth` would load (and depend on) code it does not need.
"""
from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FORBIDDEN = ("gitops.ops", "gitops.commands", "gitops.cli", "gitops.promote")
BASE_LAYERS = (REPO / "charts", REPO / "gitops" / "inputs")


def _module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, package: list[str]) -> set[str]:
    """Absolute names of every module ``source`` (a module of ``package``) imports, at any depth
    (lazy imports inside functions included), relative imports resolved."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def imported_by(path: Path) -> set[str]:
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    return imported_modules(path.read_text(), package)


def _forbidden(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN)


def test_the_scan_sees_lazy_relative_and_absolute_imports():
    """The scan itself can fail: lazy relative and absolute imports of an operation are seen."""
    source = "def f():\n    from ..ops.capacity import capacity\n    import gitops.cli\nfrom .model import Platform\n"
    names = imported_modules(source, ["gitops", "inputs"])
    assert {n for n in names if _forbidden(n)} == {"gitops.ops.capacity", "gitops.ops.capacity.capacity", "gitops.cli"}
    assert "gitops.inputs.model" in imported_by(REPO / "gitops" / "inputs" / "load.py")


def test_base_layers_never_import_operations_commands_cli_or_promotion():
    offenders = []
    for layer in BASE_LAYERS:
        for path in sorted(layer.rglob("*.py")):
            for name in sorted(imported_by(path)):
                if _forbidden(name):
                    offenders.append(f"{path.relative_to(REPO)} imports {name}")
    assert offenders == []


def test_top_level_gitops_holds_only_the_cli_errors_and_findings():
    """Every other module lives in a role package (README "Layout")."""
    top = sorted(p.name for p in (REPO / "gitops").glob("*.py"))
    assert top == ["__init__.py", "__main__.py", "cli.py", "errors.py", "findings.py"]


def layout_rows(readme: str) -> dict[str, str]:
    """README "## Layout" table: first-column path -> description."""
    section = readme.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if line.startswith("| `") and len(cells) >= 2:
            rows[cells[0].strip("`")] = cells[1]
    return rows


def listed_modules(description: str) -> set[str] | None:
    if "modules: " not in description:
        return None
    return {m.strip().strip("`") for m in description.rsplit("modules: ", 1)[1].split(",")}


def folder_modules(folder: Path) -> set[str]:
    """Python modules (``name``) and packages (``name/``) of a folder, dunder files aside."""
    modules = {p.stem for p in folder.glob("*.py") if not p.name.startswith("__")}
    packages = {p.name + "/" for p in folder.iterdir() if (p / "__init__.py").is_file()}
    return modules | packages


def test_readme_layout_lists_every_gitops_folder_and_no_other():
    rows = layout_rows((REPO / "README.md").read_text())
    documented = {path for path in rows if path.startswith("gitops/") and path != "gitops/"}
    folders = {f"gitops/{p.name}/" for p in (REPO / "gitops").iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert documented == folders


def test_readme_layout_module_lists_match_the_folders():
    rows = layout_rows((REPO / "README.md").read_text())
    checked = 0
    for path, description in rows.items():
        listed = listed_modules(description)
        if listed is None:
            continue
        expected = folder_modules(REPO / path)
        if path == "gitops/":  # its packages have rows of their own
            expected = {m for m in expected if not m.endswith("/")}
        assert listed == expected, f"README Layout row {path}"
        checked += 1
    assert checked >= 12  # charts/, gitops/ and every package folder of gitops/


def test_layout_parser_sees_a_missing_module():
    readme = "x\n## Layout\n\n| path | what |\n|---|---|\n| `gitops/ops/` | operations; modules: `diff` |\n\n## Next\n"
    rows = layout_rows(readme)
    assert rows == {"gitops/ops/": "operations; modules: `diff`"}
    assert listed_modules(rows["gitops/ops/"]) != folder_modules(REPO / "gitops" / "ops")
