"""The promotion gates have one list (gitops.promote.gates.GATES): the code and docs/promotion.md agree with it."""
from __future__ import annotations

import re

from gitops.promote.gates import GATES

from .conftest import REPO


def test_docs_gate_table_lists_exactly_the_gates_in_order():
    text = (REPO / "docs" / "promotion.md").read_text()
    section = text[text.index("## Gates"):]
    table = section[section.index("| gate |"):]
    table = table[:table.index("\n\n")]
    rows = [line.split("|")[1].strip() for line in table.splitlines()[2:] if line.startswith("|")]
    assert rows == [name for name, _, _ in GATES]


def test_every_gate_the_code_reports_is_listed():
    used = set()
    for path in (REPO / "gitops" / "promote").glob("*.py"):
        used |= set(re.findall(r'\bGate\(\s*"([^"]+)"', path.read_text()))
    assert used, "no Gate(...) found: the scan is broken"
    assert used == {name for name, _, _ in GATES}
