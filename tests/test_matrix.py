"""`gitops matrix`: the image build matrix covers exactly the buildable components, one entry per image."""
from __future__ import annotations

import json
from pathlib import Path

from gitops.inputs.load import load_platform

from .conftest import MINI, REPO, edit_yaml, run_cli, run_gitops




def _matrix(root: Path, *args: str) -> dict:
    proc = run_cli(root, "matrix", *args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _assert_exactly_buildable(root: Path, matrix: dict) -> None:
    platform = load_platform(root)
    buildable = {c.name for c in platform.components if c.is_buildable}
    images = [entry["image"] for entry in matrix["include"]]
    assert len(images) == len(set(images))                       # one build per image
    assert set(images) == {platform.component(n).image_repository for n in buildable}
    covered = [name for entry in matrix["include"] for name in entry["components"]]
    assert len(covered) == len(set(covered)) and buildable <= set(covered)   # every buildable component, once
    for entry in matrix["include"]:
        owner = platform.component(entry["name"])
        assert owner.is_buildable and entry["name"] in entry["components"]
        assert (entry["repository"], entry["context"], entry["dockerfile"], entry["image"]) == (
            owner.source_repository, owner.source_path, owner.dockerfile, owner.image_repository)
        # components = every active workload running this image
        assert set(entry["components"]) == {c.name for c in platform.components if c.is_workload
                                            and c.status == "active" and c.image_repository == entry["image"]}


def test_mini_matrix_is_exactly_the_buildable_components():
    matrix = _matrix(MINI)
    _assert_exactly_buildable(MINI, matrix)
    # stock-report (cronjob) reuses stock-service's image and Dockerfile: built once, named after the service
    assert [(e["name"], e["components"]) for e in matrix["include"]] == [
        ("shop-api", ["shop-api"]), ("stock-service", ["stock-report", "stock-service"])]
    assert matrix["include"][0] == {
        "name": "shop-api", "repository": None, "context": "services/shop-api",
        "dockerfile": "services/shop-api/Dockerfile", "image": "ghcr.io/meetinity/shop-api", "components": ["shop-api"]}


def test_one_line_by_default_pretty_on_request():
    compact = run_gitops(MINI, "matrix").stdout
    assert compact.count("\n") == 1 and compact.startswith('{"include":[')
    assert json.loads(run_cli(MINI, "matrix", "--pretty").stdout) == json.loads(compact)


def _edit(root: Path, name: str, change) -> None:
    path = root / "inventory" / f"{name}.yaml"
    edit_yaml(path, change)


def test_planned_and_dockerfile_less_components_are_not_built(mini):
    _edit(mini, "stock-report", lambda d: d["source"].pop("dockerfile"))
    (mini / "inventory" / "loyalty-api.yaml").write_text(
        "name: loyalty-api\nkind: api\ndescription: Planned.\nowner: growth\nstatus: planned\n"
        "source: {path: services/loyalty-api, dockerfile: services/loyalty-api/Dockerfile}\n"
        "image: ghcr.io/meetinity/loyalty-api\n")
    matrix = _matrix(mini)
    _assert_exactly_buildable(mini, matrix)
    # stock-report is no longer buildable but still runs stock-service's image: a new build moves it too
    assert [(e["name"], e["components"]) for e in matrix["include"]] == [
        ("shop-api", ["shop-api"]), ("stock-service", ["stock-report", "stock-service"])]
    assert "loyalty-api" not in json.dumps(matrix)


def test_a_new_inventory_file_appears_in_the_matrix(mini):
    text = (mini / "inventory" / "shop-api.yaml").read_text().replace("shop-api", "cart-api").replace(
        "subdomain: shop", "subdomain: cart")
    (mini / "inventory" / "cart-api.yaml").write_text(text)
    matrix = _matrix(mini)
    _assert_exactly_buildable(mini, matrix)
    assert "cart-api" in [e["name"] for e in matrix["include"]]


def test_one_image_built_from_two_dockerfiles_is_an_input_error(mini):
    _edit(mini, "stock-report", lambda d: d["source"].update(dockerfile="services/stock-service/Dockerfile.report"))
    proc = run_cli(mini, "matrix")
    assert proc.returncode == 2
    assert "stock-report shares image ghcr.io/meetinity/stock-service with stock-service" in proc.stderr


def test_real_inventory_matrix():
    """Read-only: the real inventory's matrix covers exactly its buildable components."""
    load_platform(REPO)
    matrix = _matrix(REPO)
    _assert_exactly_buildable(REPO, matrix)
    assert all(e["repository"] for e in matrix["include"])
