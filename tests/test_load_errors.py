"""Bad input: one clear message per problem (file, field path, expected vs found), exit 2, dist/ untouched."""
from __future__ import annotations

import re

import pytest

from gitops.inputs.load import load_platform

from .conftest import edit_yaml, load_problems, run_gitops, tree_bytes


def test_fixture_loads(mini):
    platform = load_platform(mini)
    assert [c.name for c in platform.components] == ["postgresql", "shop-api", "stock-report", "stock-service"]
    assert [e.name for e in platform.environments] == ["dev", "prod"]


def test_malformed_yaml_names_file_and_line(mini):
    (mini / "inventory/shop-api.yaml").write_text("name: shop-api\nkind: [api\n")
    problems = load_problems(mini)
    assert len(problems) == 1
    assert re.match(r"inventory/shop-api\.yaml:\d+: malformed YAML", problems[0]), problems


def test_unknown_key(mini):
    edit_yaml(mini / "inventory/shop-api.yaml", lambda d: d.update(replicaz=3))
    problems = load_problems(mini)
    assert any("inventory/shop-api.yaml" in p and "unknown field(s) replicaz" in p for p in problems), problems


def test_unknown_and_missing_top_level_fields_are_reported_where_they_are(mini):
    path = mini / "inventory/shop-api.yaml"
    text = path.read_text()
    lines = text.splitlines()
    owner_line = next(i for i, line in enumerate(lines, 1) if line.startswith("owner:"))
    first_key = next(i for i, line in enumerate(lines, 1) if line and not line.startswith("#"))
    # Rename owner -> ownr: one unknown field at its own line, one missing field at the document's first line.
    path.write_text(text.replace("\nowner:", "\nownr:"))
    problems = load_problems(mini)
    assert f"inventory/shop-api.yaml:{owner_line} at ownr: unknown field(s) ownr; expected one of:" in "\n".join(problems)
    assert f"inventory/shop-api.yaml:{first_key} at owner: missing required field: owner" in problems, problems


@pytest.mark.parametrize("before, after", [("\nport:", "\n\tport:"), ("\n  - {name: LOG_LEVEL", "\n\t- {name: LOG_LEVEL")])
def test_a_tab_in_yaml_says_tab(mini, before, after):
    path = mini / "inventory/shop-api.yaml"
    path.write_text(path.read_text().replace(before, after))
    problems = load_problems(mini)
    assert len(problems) == 1 and re.match(r"inventory/shop-api\.yaml:\d+: malformed YAML: expected spaces for "
                                           r"indentation, found a tab", problems[0]), problems


def test_a_bad_promotes_from_says_what_is_wrong(mini):
    edit_yaml(mini / "environments/prod.yaml", lambda d: d.update(promotesFrom="Dev"))
    problems = load_problems(mini)
    assert any(p.startswith("environments/prod.yaml:") and "at promotesFrom: expected a lowercase name" in p
               and "found 'Dev'" in p for p in problems), problems
    assert not any("allowed forms" in p for p in problems)


def test_wrong_type_reports_expected_and_found(mini):
    edit_yaml(mini / "inventory/shop-api.yaml", lambda d: d.update(port="eighty"))
    problems = load_problems(mini)
    assert any("at port: expected type integer, found 'eighty'" in p for p in problems), problems


def test_unknown_dependency(mini):
    edit_yaml(mini / "inventory/shop-api.yaml", lambda d: d["dependencies"].append({"name": "ghost", "port": 80}))
    problems = load_problems(mini)
    assert any("dependencies/2/name" in p and "unknown 'ghost'" in p for p in problems), problems


def test_dependency_port_must_match_target(mini):
    edit_yaml(mini / "inventory/shop-api.yaml", lambda d: d["dependencies"][0].update(port=5000))
    problems = load_problems(mini)
    assert any("dependencies/0/port: expected 8080" in p and "found 5000" in p for p in problems), problems


def test_duplicate_env_var(mini):
    edit_yaml(mini / "inventory/shop-api.yaml", lambda d: d["env"].append({"name": "LOG_LEVEL", "value": "debug"}))
    assert any("duplicate env var 'LOG_LEVEL'" in p for p in load_problems(mini))


def test_duplicate_host(mini):
    edit_yaml(mini / "inventory/stock-service.yaml", lambda d: d.update(public={"subdomain": "shop"}))
    assert any("duplicate host" in p and "shop-api" in p for p in load_problems(mini))


def test_duplicate_port_in_component_ports_is_schema_checked(mini):
    edit_yaml(mini / "inventory/shop-api.yaml", lambda d: d.update(port=70000))
    assert any("at port: expected at most 65535, found 70000" in p for p in load_problems(mini))


def test_invalid_image_reference(mini):
    edit_yaml(mini / "inventory/shop-api.yaml", lambda d: d.update(image="GHCR.io/Bad Image"))
    assert any("at image: expected a string matching" in p for p in load_problems(mini))


def test_latest_tag_refused(mini):
    edit_yaml(mini / "environments/dev.yaml", lambda d: d["components"]["shop-api"]["image"].update(tag="latest"))
    problems = load_problems(mini)
    assert any("at components/shop-api/image/tag: expected a pinned tag (vX.Y.Z or sha-<7>), found 'latest'" in p
               for p in problems), problems
    assert not any("{" in p for p in problems), problems  # no JSON-schema jargon


@pytest.mark.parametrize("tag", ["V0.3.0", "LATEST", "1.2.3", "v1.2", "sha-abc", "main"])
def test_only_pinned_tags_are_accepted(mini, tag):
    edit_yaml(mini / "environments/dev.yaml", lambda d: d["components"]["shop-api"]["image"].update(tag=tag))
    assert any("expected a pinned tag (vX.Y.Z or sha-<7>)" in p for p in load_problems(mini))


def test_environment_enables_unknown_component(mini):
    edit_yaml(mini / "environments/dev.yaml", lambda d: d["components"].update({"ghost": {"enabled": True}}))
    assert any("environments/dev.yaml" in p and "components/ghost" in p and "unknown 'ghost'" in p for p in load_problems(mini))


def test_prod_requires_digest(mini):
    edit_yaml(mini / "environments/prod.yaml", lambda d: d["components"]["shop-api"]["image"].pop("digest"))
    assert any("requires images pinned by digest" in p for p in load_problems(mini))


def test_file_name_must_match_name(mini):
    (mini / "inventory/shop-api.yaml").rename(mini / "inventory/shop.yaml")
    assert any("inventory/shop.yaml" in p and "expected 'shop'" in p for p in load_problems(mini))


def test_secret_as_plain_override_refused(mini):
    edit_yaml(mini / "environments/dev.yaml", lambda d: d["components"]["shop-api"].update(env={"JWT_SECRET": "hunter2"}))
    assert any("JWT_SECRET is a secret" in p for p in load_problems(mini))


def test_all_problems_reported_not_only_first(mini):
    edit_yaml(mini / "inventory/shop-api.yaml", lambda d: d.update(port="x"))
    edit_yaml(mini / "environments/dev.yaml", lambda d: d["components"].update({"ghost": {"enabled": True}}))
    problems = load_problems(mini)
    assert any("shop-api.yaml" in p for p in problems) and any("dev.yaml" in p for p in problems)


def test_cli_bad_input_exit_2_and_dist_untouched(mini):
    run_gitops(mini, "synth", check=True)
    before = tree_bytes(mini / "dist")
    edit_yaml(mini / "inventory/shop-api.yaml", lambda d: d.update(port="x"))
    proc = run_gitops(mini, "synth", "--no-cache")
    assert proc.returncode == 2
    assert "inventory/shop-api.yaml" in proc.stderr and "at port" in proc.stderr
    assert "nothing was written" in proc.stderr
    assert tree_bytes(mini / "dist") == before
    (mini / "inventory/shop-api.yaml").write_text(": : :\n")
    proc = run_gitops(mini, "synth", "--no-cache", "--format", "json")
    assert proc.returncode == 2 and '"ok": false' in proc.stdout
    assert tree_bytes(mini / "dist") == before


def test_cli_unknown_env_is_usage_error(mini):
    proc = run_gitops(mini, "synth", "--env", "qa")
    assert proc.returncode == 2
    assert "(command line) at --env: unknown environment 'qa'; expected one of dev, prod" in proc.stderr
    assert "  : " not in proc.stderr  # every problem has a location


def test_custom_metric_needs_a_scraped_endpoint(mini):
    edit_yaml(mini / "inventory/shop-api.yaml", lambda d: d.pop("metrics"))
    assert any("autoscaling/customMetrics" in p and "metrics endpoint" in p for p in load_problems(mini))


def test_environment_custom_metric_on_unscraped_component(mini):
    edit_yaml(mini / "environments/dev.yaml", lambda d: d["components"]["stock-service"].update(
        autoscaling={"min": 1, "max": 2, "cpu": 70, "memory": 80,
                     "customMetrics": [{"name": "rps", "series": "stock_requests_total", "targetAverageValue": "5"}]}))
    problems = load_problems(mini)
    assert any("components/stock-service/autoscaling/customMetrics" in p and "nothing scrapes stock_requests_total" in p
               for p in problems), problems


def test_cluster_issuer_must_be_one_the_platform_creates(mini):
    edit_yaml(mini / "environments/dev.yaml", lambda d: d.update(clusterIssuer="my-issuer"))
    assert any("at clusterIssuer: expected one of letsencrypt, selfsigned-cluster-issuer" in p for p in load_problems(mini))


def test_one_series_per_custom_metric_name(mini):
    """Two components may not serve one adapter metric name from different series (one rule per name)."""
    def add_metric(d):
        d["metrics"] = {"path": "/metrics"}
        d["autoscaling"] = {"min": 1, "max": 2, "cpu": 70, "memory": 80, "customMetrics": [
            {"name": "http_requests_per_second", "series": "stock_http_requests_total", "targetAverageValue": "5"}]}
    edit_yaml(mini / "inventory/stock-service.yaml", add_metric)
    problems = load_problems(mini)
    assert any("custom metric 'http_requests_per_second' reads series 'stock_http_requests_total'" in p for p in problems), problems
