"""The release dashboard as a person sees it: rendered by headless Chromium (tests/browser.py).

Chromium comes from Debian's ``chromium`` package (.ci/run installs it; README "Release
dashboard" says how to get it locally). Missing: the tests skip naming chromium, and fail under
CI=true, where a run without the browser must not pass silently.
"""
from __future__ import annotations

import os
import re
import struct

import pytest

from gitops.ops.status_data import build
from gitops.ops.status_html import render

from .browser import Browser, find_chromium
from .conftest import REPO
from .status_fixture import make_world

CHROMIUM = find_chromium()


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        message = ("chromium is not installed (Debian: apt-get install chromium; or set CHROMIUM=/path/to/chrome): "
                   "the release dashboard browser tests need it")
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    b = Browser(CHROMIUM)
    yield b
    b.close()


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pages")
    world = make_world(folder)
    try:
        fixture = build(world.root, environ=world.environ)
    finally:
        world.github.stop()
        world.argocd.stop()
    committed = build(REPO, environ={"PATH": "/usr/bin:/bin"})
    out = {}
    for name, data in (("committed", committed), ("fixture", fixture)):
        path = folder / f"{name}.html"
        path.write_text(render(data), encoding="utf-8")
        out[name] = (path.as_uri(), data)
    return out


def _clean(page) -> None:
    assert page.console_errors() == []
    assert page.requests() == []  # nothing but the page itself: no CDN, font, image or script fetched


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


ROWS = """Array.from(document.querySelectorAll('tbody tr')).map(r => ({
  name: r.querySelector('th[scope=row]').firstChild.textContent,
  pending: Array.from(r.querySelectorAll('td.pending')).map(td => td.dataset.env),
  text: r.innerText}))"""


def test_committed_platform_at_1280(browser, pages):
    url, data = pages["committed"]
    page = browser.open(url, 1280)
    rows = page.evaluate(ROWS)
    assert [r["name"] for r in rows] == [c["component"] for c in data["components"]]
    assert len(rows) == 19
    heads = page.evaluate("Array.from(document.querySelectorAll('thead th[scope=col]')).map(th => th.textContent)")
    assert heads == ["Component", "dev", "staging", "prod"]
    stages = page.evaluate("Array.from(document.querySelectorAll('.pipeline .stage h3')).map(h => h.textContent)")
    assert [s.split()[0] for s in stages] == ["dev", "staging", "prod"]
    for row, component in zip(rows, data["components"]):
        assert row["pending"] == component["differs_from_predecessor"]
        for env in component["differs_from_predecessor"]:
            assert "▲ pending" in row["text"]  # marked by a word and a symbol, not by colour alone
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280  # no horizontal overflow
    width, height = _png_size(page.screenshot())
    assert width == 1280 and height > 900
    _clean(page)


def test_filter_script_hides_rows(browser, pages):
    url, data = pages["committed"]
    page = browser.open(url, 1280)
    shown = page.evaluate("""(() => {const q = document.getElementById('filter'); q.value = 'user-service';
      q.dispatchEvent(new Event('input'));
      return [Array.from(document.querySelectorAll('tbody tr')).filter(r => !r.hidden).length,
              document.getElementById('shown').textContent];})()""")
    expected = sum(1 for c in data["components"] if "user-service" in c["component"])
    assert shown == [expected, f"{expected} of 19 components shown"]
    _clean(page)


def test_fixture_hold_pending_pr_and_unreachable_argocd(browser, pages):
    url, _ = pages["fixture"]
    page = browser.open(url, 1280)
    rows = {r["name"]: r for r in page.evaluate(ROWS)}
    assert set(rows) == {"shop-api", "stock-report", "stock-service"}
    assert rows["stock-service"]["pending"] == ["prod"]
    assert "open PR #7 promote from dev" in rows["stock-service"]["text"]
    assert "#7" not in rows["shop-api"]["text"]
    assert "✓ Synced" in rows["shop-api"]["text"] and "✗ Degraded" in rows["stock-service"]["text"]
    prod = page.evaluate("document.querySelector('.stage[data-env=prod]').innerText")
    assert "■ held" in prod and "INC-42" in prod and "Ops <ops@example.com>" in prod
    assert "Last promotion from dev" in prod and "Release Bot" in prod
    warnings = page.evaluate("document.querySelector('.notes').innerText")
    assert "unknown environment 'qa'" in warnings and "pull request #8" in warnings
    assert "Argo CD (prod)" in warnings and "unreachable" in warnings
    # hostile text is shown as text: no element was injected
    assert page.evaluate("document.querySelectorAll('img, script').length") == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    _clean(page)


def test_phone_width_has_no_horizontal_overflow(browser, pages):
    url, _ = pages["committed"]
    page = browser.open(url, 390, 844, mobile=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    labels = page.evaluate("getComputedStyle(document.querySelector('tbody td'), '::before').content")
    assert labels == '"dev"'  # each cell says which environment it is in once rows become cards
    _clean(page)


@pytest.mark.parametrize("ci, outcome", [("", "SKIPPED"), ("true", "Failed:")])
def test_without_chromium_the_tests_skip_naming_it_or_fail_under_ci(ci, outcome, tmp_path):
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(CHROMIUM=str(tmp_path / "no-chromium"), **({"CI": ci} if ci else {}))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-rsfE", "-p", "no:cacheprovider",
                           f"{__file__}::test_phone_width_has_no_horizontal_overflow"],
                          capture_output=True, text=True, cwd=REPO, env=env)
    assert (proc.returncode == 0) == (outcome == "SKIPPED"), proc.stdout[-2000:]
    assert re.search(rf"{outcome}.*chromium is not installed", proc.stdout), proc.stdout[-2000:]
