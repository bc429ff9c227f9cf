"""The playground in a real browser: Debian's Chromium driven by Playwright against a real
``fab2flop serve`` (tests/web/conftest.py). Never downloads a browser: it uses the
``chromium`` on PATH (``.ci/run`` installs it).

FAB2FLOP_SCREENSHOT=docs/playground.png saves the screenshot there (for the README).
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

SOLVE_TIMEOUT_MS = 180_000  # the first (cold) solve loads the catalog; the machine is shared


@pytest.fixture(scope="module")
def browser():
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    assert exe, "Debian's chromium is not installed (apt-get install -y chromium)"
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=exe, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        yield b
        b.close()


def _wait_solves(page: Page, n: int) -> None:
    page.wait_for_function(
        "n => { const s = document.getElementById('status');"
        " return Number(s.dataset.solves) >= n && s.dataset.state === 'ready'; }",
        arg=n,
        timeout=SOLVE_TIMEOUT_MS,
    )


def _chart_y(page: Page) -> list[float]:
    return page.evaluate("document.getElementById('chart-compute').data[0].y")


def _api_solve(base: str, levers: dict) -> dict:
    req = urllib.request.Request(
        base + "/v1/playground/solve",
        data=json.dumps({"levers": levers}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=300) as r:
        return json.loads(r.read())


def test_playground_in_chromium(live_server: str, browser, tmp_path: Path) -> None:
    errors: list[str] = []
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    # the page loads and draws the default plan
    page.goto(live_server + "/")
    _wait_solves(page, 1)
    headline0 = page.inner_text("#headline")
    y0 = _chart_y(page)
    assert headline0.endswith("H100e in 2035")
    assert len(y0) == 11  # 2025..2035, one bar per year
    assert page.locator("#binds li").count() > 0  # the "what binds" panel is filled

    # a slider move: the US may start 20 GW of power plants a year instead of the catalog's
    # path (300 MW/yr in 2025 .. 5 GW/yr in 2035); the README's finding is that power binds
    # first, so the plan must install more compute and the headline must change
    page.locator("#us_power_mw_per_year").fill("20000")
    _wait_solves(page, 2)
    headline1 = page.inner_text("#headline")
    y1 = _chart_y(page)
    assert headline1 != headline0
    assert y1 != y0
    assert sum(y1) > sum(y0)
    assert "us_power_mw_per_year=20000" in page.url

    # the numbers drawn are the API's for the same state (H100e of 2035, in millions)
    api = _api_solve(live_server, {"us_power_mw_per_year": 20000})
    assert headline1 == f"{api['compute_h100e'][-1] / 1e6:.1f}M H100e in 2035"

    shot = os.environ.get("FAB2FLOP_SCREENSHOT")
    out = Path(shot) if shot else tmp_path / "playground.png"
    page.screenshot(path=str(out), full_page=True)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # a shared link restores the same view in a fresh page
    shared = page.url
    page2 = browser.new_page(viewport={"width": 1400, "height": 1000})
    page2.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page2.on("pageerror", lambda e: errors.append(str(e)))
    page2.goto(shared)
    _wait_solves(page2, 1)
    assert page2.inner_text("#headline") == headline1
    assert page2.input_value("#us_power_mw_per_year") == "20000"
    assert _chart_y(page2) == pytest.approx(y1, rel=1e-9)

    # the YAML download is the scenario of this view
    href = page2.get_attribute("#download", "href")
    assert href and "us_power_mw_per_year=20000" in href
    assert errors == []
