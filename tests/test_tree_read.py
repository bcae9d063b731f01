"""gitops.pipeline.tree.read_tree: every file below a folder, in path order, as pathlib's rglob sees them."""
from __future__ import annotations

import os

from gitops.pipeline.tree import read_tree


def _rglob_reference(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_read_tree_matches_rglob_order_and_content(tmp_path):
    tree = tmp_path / "tree"
    for rel in ("a-b/x.yaml", "a/b.yaml", "a/c/d.yaml", ".hidden", "z.yaml", "a.b/e.yaml"):
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_bytes(rel.encode())
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_bytes(b"not part of the tree")
    os.symlink(outside, tree / "linked-folder")          # not entered, as rglob does not
    os.symlink(tree / "z.yaml", tree / "linked-file.yaml")  # read, as is_file() follows it
    result = read_tree(tree)
    assert list(result.items()) == list(_rglob_reference(tree).items())
    assert "a/b.yaml" in result and "linked-file.yaml" in result
    assert not any(rel.startswith("linked-folder") for rel in result)
    order = list(result)
    assert order.index("a/c/d.yaml") < order.index("a-b/x.yaml")  # by path components, like Path order


def test_read_tree_of_a_missing_folder_or_a_file_is_empty(tmp_path):
    (tmp_path / "file").write_text("x")
    assert read_tree(tmp_path / "missing") == {}
    assert read_tree(tmp_path / "file") == {}
