"""`gitops status` data, JSON contract and HTML page (without a browser; tests/test_status_browser.py opens it)."""
from __future__ import annotations

import html.parser
import json

import pytest

from gitops.ops.status_data import build
from gitops.ops.status_html import render

from .conftest import REPO, run_gitops
from .status_fixture import HOSTILE, make_world

NO_TOKENS = {"PATH": "/usr/bin:/bin"}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    w = make_world(tmp_path_factory.mktemp("status"))
    yield w
    w.github.stop()
    w.argocd.stop()


@pytest.fixture(scope="module")
def data(world):
    return build(world.root, environ=world.environ)


@pytest.fixture(scope="module")
def committed():
    return build(REPO, environ=NO_TOKENS)


def test_committed_platform_has_every_component_and_environment_without_tokens(committed):
    assert committed["environments"] == ["dev", "staging", "prod"]
    assert len(committed["components"]) == 19
    assert committed["sources"]["github"]["state"] == "not-configured"
    assert {s["state"] for s in committed["sources"]["argocd"].values()} == {"not-configured"}
    for row in committed["components"]:
        assert set(row["cells"]) == {"dev", "staging", "prod"}
        for env, cell in row["cells"].items():
            assert cell["pending"] == (env in row["differs_from_predecessor"])
            if cell["version"]:
                assert cell["links"]["grafana"].startswith("https://grafana.")
                assert cell["links"]["argocd"].endswith(f"/applications/argocd/{row['application']}")


def test_json_keeps_the_original_status_contract(committed):
    from gitops.promote.versions import status
    old = status(REPO)
    for key in ("environments", "promotes_from"):
        assert committed[key] == old[key]
    assert [{k: r[k] for k in ("component", "versions", "differs", "differs_from_predecessor")}
            for r in committed["components"]] == old["components"]
    assert committed["version"] == 1


def test_same_inputs_give_byte_identical_json_and_html(tmp_path):
    first = run_gitops(REPO, "status", "--format", "json", env=NO_TOKENS, check=True).stdout
    again = run_gitops(REPO, "status", "--format", "json", env=NO_TOKENS, check=True).stdout
    assert first == again
    out = tmp_path / "status.html"
    proc = run_gitops(REPO, "status", "--format", "html", "--output", str(out), env=NO_TOKENS, check=True)
    assert proc.stdout == ""
    page = out.read_text()
    assert page == render(json.loads(first))
    assert "Not shown: open pull requests (GitHub: not-configured); Argo CD sync and health" in page


def test_text_format_is_unchanged_and_lists_warnings(world):
    proc = run_gitops(world.root, "status", env=NO_TOKENS, check=True)
    assert "promotion order: dev -> prod" in proc.stdout
    assert "stock-service  v0.9.2" in proc.stdout and "v0.9.1@sha256:222222222222 *" in proc.stdout
    assert "warning: holds/qa.yaml: hold for unknown environment 'qa'" in proc.stdout


def test_output_into_a_missing_folder_is_bad_input(tmp_path):
    proc = run_gitops(REPO, "status", "--format", "html", "--output", str(tmp_path / "nope" / "s.html"), env=NO_TOKENS)
    assert proc.returncode == 2 and "--output" in proc.stderr


def test_hold_pending_and_last_promotion(data):
    prod = next(p for p in data["pipeline"] if p["name"] == "prod")
    assert prod["hold"]["heldBy"] == "Ops <ops@example.com>" and "INC-42" in prod["hold"]["reason"]
    assert prod["pending"] == 1
    change = prod["last_change"]
    assert (change["kind"], change["from"], change["services"], change["author"]) == ("promotion", "dev", ["shop-api"], "Release Bot")
    row = next(r for r in data["components"] if r["component"] == "stock-service")
    assert row["cells"]["prod"]["pending"] and row["cells"]["prod"]["incoming"] == "v0.9.2"
    assert not row["cells"]["dev"]["pending"]


def test_broken_inputs_are_warnings_not_crashes(data):
    text = json.dumps(data["warnings"])
    assert "hold for unknown environment 'qa'" in text
    assert "pull request #8 (promote/dev-to-prod/handmade)" in text and "no gitops-promotion marker" in text
    assert "#9" not in text  # not a promotion PR: ignored, not warned about


def test_open_promotion_pr_is_on_the_rows_it_moves(data):
    pulls = {r["component"]: [p["number"] for p in r["pulls"]] for r in data["components"]}
    assert pulls == {"shop-api": [], "stock-report": [], "stock-service": [7]}
    assert data["sources"]["github"]["state"] == "ok"


def test_argocd_cells_and_an_unreachable_server(data):
    rows = {r["component"]: r for r in data["components"]}
    assert rows["shop-api"]["cells"]["dev"]["argocd"]["sync"] == "Synced"
    assert rows["stock-service"]["cells"]["dev"]["argocd"]["health"] == "Degraded"
    assert rows["stock-report"]["cells"]["dev"]["argocd"]["error"] == "not-found"
    assert data["sources"]["argocd"]["dev"]["state"] == "partial"
    prod = data["sources"]["argocd"]["prod"]
    assert prod["state"] == "unreachable" and "connection failed" in prod["message"]
    assert "prod-token-never-shown" not in json.dumps(data)
    assert rows["shop-api"]["cells"]["prod"]["argocd"] is None


def test_github_unreachable_is_said_not_fatal(world):
    environ = {**world.environ, "GITHUB_API_URL": "http://127.0.0.1:9", "ARGOCD_AUTH_TOKEN_DEV": "",
               "ARGOCD_AUTH_TOKEN_PROD": ""}
    data = build(world.root, environ=environ)
    assert data["sources"]["github"]["state"] == "unreachable"
    assert "GitHub unreachable" in json.dumps(data["warnings"])
    assert "open pull requests (GitHub: unreachable)" in render(data)


def test_not_a_git_checkout_still_renders(tmp_path):
    from .conftest import MINI, copy_inputs
    root = copy_inputs(MINI, tmp_path / "plain")
    data = build(root, environ=NO_TOKENS)
    assert data["sources"]["git"]["state"] == "unavailable"
    assert "last promotions (no git history)" in render(data)


class _Collect(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def test_hostile_text_is_escaped_and_unsafe_links_dropped(data):
    page = render(data)
    assert HOSTILE not in page and "<img" not in page
    parsed = _Collect()
    parsed.feed(page)
    assert [t for t, _ in parsed.tags].count("script") == 1  # only the page's own filter script
    hrefs = [a.get("href", "") for t, a in parsed.tags if t == "a"]
    assert hrefs and all(h.startswith(("https://", "http://", "#")) for h in hrefs)
    assert any("onerror=alert(1)" in t for t in parsed.text)  # shown as text, harmlessly
    assert "#8 promote" not in page  # the PR without marker is not placed on any row


def test_page_structure_is_accessible(committed):
    page = render(committed)
    parsed = _Collect()
    parsed.feed(page)
    tags = [t for t, _ in parsed.tags]
    assert "caption" in tags and tags.count("table") == 1
    col = [a for t, a in parsed.tags if t == "th" and a.get("scope") == "col"]
    rowh = [a for t, a in parsed.tags if t == "th" and a.get("scope") == "row"]
    assert len(col) == 4 and len(rowh) == 19
    assert '<html lang="en">' in page and "@media print" in page and "@media (max-width:720px)" in page
    csp = next(a["content"] for t, a in parsed.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert csp.startswith("default-src 'none';")  # the browser refuses any network request the page might make


def test_malformed_or_mislabelled_hold_files_are_warnings(tmp_path):
    from .conftest import MINI, copy_inputs
    root = copy_inputs(MINI, tmp_path / "holds")
    (root / "holds").mkdir()
    (root / "holds" / "dev.yaml").write_text("reason: [unclosed\n")
    (root / "holds" / "prod.yaml").write_text("environment: dev\nreason: wrong label\n")
    data = build(root, environ=NO_TOKENS)
    text = json.dumps(data["warnings"])
    assert "holds/dev.yaml" in text and "unreadable hold file" in text
    assert "the file holds prod but says environment: 'dev'" in text
    assert set(data["holds"]) == {"prod"}


def test_argocd_refusing_the_token_is_said_and_the_token_never_shown(world):
    environ = {**world.environ, "ARGOCD_AUTH_TOKEN_DEV": "wrong-dev-token", "ARGOCD_AUTH_TOKEN_PROD": "",
               "GITHUB_TOKEN": ""}
    data = build(world.root, environ=environ)
    assert data["sources"]["argocd"]["dev"]["state"] == "unauthorized"
    assert "ARGOCD_AUTH_TOKEN_DEV" in data["sources"]["argocd"]["dev"]["message"]
    assert "wrong-dev-token" not in json.dumps(data) and "wrong-dev-token" not in render(data)
