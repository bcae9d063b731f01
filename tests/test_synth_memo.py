"""The chart memo (charts.base.ChartMemo): a plain synth after a change sends only the objects whose
bodies changed through cdk8s, and its output is byte-identical to a synth that sends every object."""
from __future__ import annotations

import json
from pathlib import Path

from gitops.pipeline.synth import CHART_MEMO_DIR

from .conftest import MINI, copy_inputs, run_gitops, tree_bytes



def _memo_entries(root: Path) -> set[str]:
    return {p.name for p in (root / CHART_MEMO_DIR).glob("*.json")}


def _change_one_component(root: Path) -> None:
    inv = root / "inventory/shop-api.yaml"
    text = inv.read_text()
    assert "description: " in text
    inv.write_text(text.replace("description: ", "description: Changed. ", 1))


def _fresh_no_cache(tmp_path: Path, like: Path) -> dict[str, bytes]:
    other = copy_inputs(like, tmp_path / "fresh")
    run_gitops(other, "synth", "--no-cache", check=True)
    return tree_bytes(other / "dist") | {f"argocd/{k}": v for k, v in tree_bytes(other / "argocd").items()}


def _outputs(root: Path) -> dict[str, bytes]:
    return tree_bytes(root / "dist") | {f"argocd/{k}": v for k, v in tree_bytes(root / "argocd").items()}


def _synth_counts(root: Path) -> tuple[int, int]:
    report = json.loads(run_gitops(root, "synth", "--format", "json", check=True).stdout)
    return report["reused"], report["resolved"]


def test_change_re_resolves_only_changed_objects_and_matches_no_cache(tmp_path):
    root = copy_inputs(MINI, tmp_path / "mini")
    reused, objects = _synth_counts(root)
    assert reused == 0 and objects > 80  # a cold memo: every object through cdk8s
    entries = _memo_entries(root)
    charts = len(list((root / "dist/dev").iterdir())) + len(list((root / "dist/prod").iterdir())) + 4
    assert len(entries) == charts  # one file per chart (component folders, platform, 2 Argo CD charts per env)
    _change_one_component(root)
    reused, resolved = _synth_counts(root)
    # The description reaches the component's Argo CD Application and its dashboard in each of 2
    # environments: those objects, and only those, went through cdk8s again.
    assert resolved == 4 and reused + resolved == objects
    assert _memo_entries(root) == entries  # the touched charts' files were rewritten, none added
    assert _outputs(root) == _fresh_no_cache(tmp_path, root)


def test_corrupt_memo_entries_are_ignored(tmp_path):
    root = copy_inputs(MINI, tmp_path / "mini")
    run_gitops(root, "synth", check=True)
    for path in (root / CHART_MEMO_DIR).glob("*.json"):
        path.write_text('{"key": "not this one", "objects": {}}')
    _change_one_component(root)
    run_gitops(root, "synth", check=True)
    assert _outputs(root) == _fresh_no_cache(tmp_path, root)


def test_no_cache_writes_no_memo(tmp_path):
    root = copy_inputs(MINI, tmp_path / "mini")
    run_gitops(root, "synth", "--no-cache", check=True)
    assert _memo_entries(root) == set()
