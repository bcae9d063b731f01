"""CODEOWNERS comes from the inventory: every component's reviewers own its file and its dist folders."""
from __future__ import annotations

from gitops.generated.codeowners import render_codeowners
from gitops.inputs.load import load_platform


def test_every_component_is_owned_by_its_reviewers(mini):
    platform = load_platform(mini)
    text = render_codeowners(platform).decode()
    rules = dict(line.split(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))
    for c in platform.components:
        assert rules[f"/inventory/{c.name}.yaml"] == " ".join(c.reviewers or ("@meetinity/platform",))
        assert (f"/dist/*/{c.name}/" in rules) == c.is_workload
    # The catch-all must come first: in CODEOWNERS the last matching rule wins.
    assert text.splitlines()[2].startswith("* ")


def test_new_component_appears_in_codeowners(mini):
    src = (mini / "inventory/stock-service.yaml").read_text()
    (mini / "inventory/price-service.yaml").write_text(
        src.replace("name: stock-service", "name: price-service").replace("owner: inventory", "owner: pricing\nreviewers: ['@meetinity/pricing']"))
    text = render_codeowners(load_platform(mini)).decode()
    assert "/dist/*/price-service/ @meetinity/pricing" in text
