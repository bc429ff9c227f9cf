"""The HTML report: self-contained, the expected charts, and numbers that match the run.

The run is the tiny network of conftest with $5M a year: 500 accelerators X (1 H100e each,
$10k each) bought every year 2025-2027 (test_optimize_tiny.test_money_binds), so installed
compute is 500, 1000, 1500 H100e and spend is $5M a year, all merchant accelerators.
"""

from __future__ import annotations

import base64
import json
import re
import sys
from html.parser import HTMLParser

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from fab2flop.cli import app
from fab2flop.constants import Status
from fab2flop.optimizer import optimize
from fab2flop.report import ReportError, RiskInputs, export_images, render_report, write_report
from fab2flop.report import figures as F
from fab2flop.report.data import fan_bands, money_flows
from fab2flop.results import Results

from .conftest import tiny_network


@pytest.fixture(scope="module")
def res():
    r = optimize(tiny_network(budget_per_year=5e6))
    assert r.status is Status.OPTIMAL
    return r


@pytest.fixture(scope="module")
def html(res):
    return render_report(res)


class _Scripts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts: list[dict] = []
        self.tables = 0

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts.append(dict(attrs))
        if tag == "table":
            self.tables += 1


def plots(html: str) -> dict[str, tuple[list, dict]]:
    """Each chart's (traces, layout) read back from the Plotly.newPlot calls in the HTML."""
    dec = json.JSONDecoder()
    out = {}
    for m in re.finditer(r'Plotly\.newPlot\(\s*"(fig-[\w-]+)",\s*', html):
        data, end = dec.raw_decode(html, m.end())
        rest = re.match(r",\s*", html[end:])
        layout, _ = dec.raw_decode(html, end + rest.end())
        out[m.group(1)] = (data, layout)
    return out


def arr(v) -> np.ndarray:
    """A Plotly JSON array: a list, or a typed array {dtype, bdata (base64), shape}."""
    if isinstance(v, dict) and "bdata" in v:
        a = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        shape = v.get("shape")
        if shape:
            a = a.reshape([int(n) for n in str(shape).split(",")])
        return a
    return np.asarray(v)


def test_html_parses_and_is_self_contained(html):
    p = _Scripts()
    p.feed(html)
    p.close()
    assert p.scripts, "no script at all"
    assert all("src" not in s for s in p.scripts)  # nothing loaded from anywhere
    assert not re.search(r"<script[^>]+src\s*=\s*[\"']?https?:", html, re.I)
    # plotly.js embedded exactly once
    assert len(re.findall(r"plotly\.js v\d+\.\d+\.\d+", html)) == 1
    assert p.tables == 4  # key metrics, HHI per input (dependence), what binds, catalog sources


def test_expected_charts_and_traces(html):
    figs = plots(html)
    assert list(figs) == [
        "fig-compute", "fig-spend", "fig-money", "fig-bottlenecks", "fig-capacity", "fig-regions",
        # sections (test_report_sections.py); no finance chart: the tiny catalog has no parties
        "fig-context", "fig-vendors", "fig-dependent",
    ]  # fmt: skip
    titles = {k: lay["title"]["text"] for k, (_, lay) in figs.items()}
    assert titles["fig-compute"] == F.T_COMPUTE
    assert titles["fig-money"] == F.T_SANKEY
    assert titles["fig-bottlenecks"] == F.T_BOTTLENECKS
    # compute: one accelerator, 500 bought a year -> 500, 1000, 1500 H100e
    data, _ = figs["fig-compute"]
    assert len(data) == 1 and data[0]["name"] == "X"
    assert np.allclose(arr(data[0]["y"]), [500, 1000, 1500], rtol=1e-6)
    # spend: merchant accelerators $5M a year, plus the funding line ($5M a year)
    data, _ = figs["fig-spend"]
    assert [t["name"] for t in data] == ["merchant_accelerators", "funding arriving"]
    assert np.allclose(arr(data[0]["y"]), [5e6] * 3, rtol=1e-6)
    assert np.allclose(arr(data[1]["y"]), [5e6] * 3, rtol=1e-9)
    # regions: all in the US
    data, _ = figs["fig-regions"]
    assert len(data) == 1 and np.allclose(arr(data[0]["y"]), [1, 1, 1])


def test_sankey_money_adds_up(res, html):
    # $15M from the one funder ('budget', no funders named) to merchant accelerators, and
    # from there to the stage 'buy X'; nothing unspent
    data, _ = plots(html)["fig-money"]
    nodes = data[0]["node"]["label"]
    link = data[0]["link"]
    flows = {
        (nodes[s], nodes[t]): v
        for s, t, v in zip(link["source"], link["target"], link["value"], strict=True)
    }
    assert flows.keys() == {("budget", "merchant_accelerators"), ("merchant_accelerators", "buy X")}
    assert all(v == pytest.approx(15e6, rel=1e-6) for v in flows.values())


def test_sankey_unspent_money_and_stage_total(res):
    # $9M/yr with 1000 units/yr at most ($10M/yr): all 3 x $9M = $27M can be spent... so
    # use $20M/yr: 1000 units ($10M) a year are bought, $10M a year is left unspent.
    rich = optimize(tiny_network(budget_per_year=20e6))
    flows = {(f.source, f.target): f.usd for f in money_flows(rich)}
    assert flows[("budget", "merchant_accelerators")] == pytest.approx(30e6, rel=1e-6)
    assert flows[("budget", "unspent")] == pytest.approx(30e6, rel=1e-6)
    # what enters each category leaves it to stages
    into = sum(v for (s, _), v in flows.items() if s == "budget" and _ != "unspent")
    out = sum(v for (s, _), v in flows.items() if s != "budget")
    assert out == pytest.approx(into, rel=1e-9)


def test_metrics_match_the_summary(res, html):
    s = res.summary()
    vals = dict(
        re.findall(r'<td>([^<]+)</td><td class="num" data-value="([^"]*)">', html)
    )  # metric label -> raw value
    assert float(vals["Installed compute, last year"]) == pytest.approx(1500, rel=1e-6)
    assert float(vals["Spent over the horizon"]) == pytest.approx(15e6, rel=1e-6)
    assert float(vals["Spent over the horizon"]) == s["spend_total_usd"]
    assert float(vals["Funding over the horizon"]) == s["funding_total_usd"]
    assert "H100e" in html and "USD/H100e-hour" in html  # units shown


def test_assumptions_and_sources(res, html):
    assert "Assumptions: the resolved scenario" in html
    assert "name: tiny" in html  # the resolved scenario YAML
    assert "total_usd: 15000000.0" in html  # $5M x 3 years
    # the tiny network was not built from the installed catalog: the report says so
    assert "The catalog changed since this run (run: test" in html


def test_bottleneck_heatmap_values(res, html):
    # money binds in each of the 3 years, and so does the accelerator balance. No discount:
    # one more X in 2025 is 1 H100e for 3 years = 3 H100e-years = 3e-6 million H100e-years
    # (2e-6 in 2026, 1e-6 in 2027); one more dollar in 2025 buys 1e-4 X = 3e-10 of them.
    data, lay = plots(html)["fig-bottlenecks"]
    assert data[0]["y"] == ["cash: money", "balance: acc_X"]  # most objective held up first
    assert data[0]["x"] == ["2025", "2026", "2027"]
    z = arr(data[0]["customdata"])
    assert np.allclose(z[0], [3e-10, 2e-10, 1e-10], rtol=1e-4)
    assert np.allclose(z[1], [3e-6, 2e-6, 1e-6], rtol=1e-4)
    assert "Money binds in 2025" in data[0]["text"][0][0]


def test_fan_chart_from_a_sample_dataset():
    # 101 samples 0..100 of compute in each of 2 years (x1 and x2): P5 = 5, P50 = 50,
    # P95 = 95 in the first year, twice that in the second (linear interpolation)
    base = np.arange(101.0)
    ds = xr.Dataset(
        {"compute_h100e": (("period", "sample"), np.stack([base, 2 * base]))},
        coords={"period": [2030, 2031], "sample": np.arange(101)},
    )
    bands = fan_bands(ds)
    assert np.allclose(bands["p5"], [5, 10])
    assert np.allclose(bands["p95"], [95, 190])
    fig = F.fan_chart(ds)
    assert fig.layout.title.text == F.T_FAN
    assert len(fig.data) == 5  # two bands of two edges each, and the median
    assert np.allclose(fig.data[-1].y, [50, 100])


def test_risk_sections_added(res):
    ds = xr.Dataset(
        {"compute_h100e": (("period", "sample"), np.ones((3, 4)))},
        coords={"period": [2025, 2026, 2027], "sample": np.arange(4)},
    )
    risk = RiskInputs(
        samples=ds,
        sensitivity={"wafer price": 0.1, "grid": 0.6, "budget": 0.3},
        event_losses={"taiwan_blockade": 2e6},
    )
    figs = plots(render_report(res, risk))
    assert {"fig-fan", "fig-sensitivity", "fig-event_losses"} <= figs.keys()
    data, _ = figs["fig-sensitivity"]
    assert data[0]["y"] == ["wafer price", "budget", "grid"]  # smallest at the bottom


def test_failed_run_is_a_clear_error(res):
    failed = Results.failed(res.network, Status.INFEASIBLE, "no plan meets the path", {})
    with pytest.raises(ReportError, match="did not solve .*infeasible.*needs a solved run"):
        render_report(failed)


def test_image_export_without_kaleido(res, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "kaleido", None)  # import kaleido -> ImportError
    with pytest.raises(ReportError, match="optional 'kaleido' package"):
        export_images(res, tmp_path)
    with pytest.raises(ReportError, match="expected png or svg"):
        export_images(res, tmp_path, fmt="gif")


def test_cli_report_of_a_saved_run(res, tmp_path):
    res.save(tmp_path / "run")
    out = tmp_path / "r.html"
    r = CliRunner().invoke(app, ["report", str(tmp_path / "run"), "-o", str(out)])
    assert r.exit_code == 0, r.output
    figs = plots(out.read_text())
    assert np.allclose(arr(figs["fig-compute"][0][0]["y"]), [500, 1000, 1500], rtol=1e-6)


def test_cli_report_errors(res, tmp_path):
    r = CliRunner().invoke(app, ["report", str(tmp_path), "-o", str(tmp_path / "x.html")])
    assert r.exit_code == 2 and "not a saved run" in r.output
    failed = Results.failed(res.network, Status.INFEASIBLE, "no plan", {})
    failed.save(tmp_path / "bad")
    r = CliRunner().invoke(app, ["report", str(tmp_path / "bad"), "-o", str(tmp_path / "x.html")])
    assert r.exit_code == 2 and "did not solve" in r.output
    assert not (tmp_path / "x.html").exists()


def test_write_report_replaces_atomically(res, tmp_path):
    out = write_report(res, tmp_path / "sub" / "r.html")
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert [p.name for p in out.parent.iterdir()] == ["r.html"]  # no temporary left


def test_capacity_menu_one_button_per_stage(html):
    # tiny network stages with capacity: x_supply (1000 units/year), datacenter and grid
    # (10 MW each, existing); each button shows that stage's traces and its unit
    data, lay = plots(html)["fig-capacity"]
    buttons = lay["updatemenus"][0]["buttons"]
    assert len(buttons) == len({t["stackgroup"] for t in data}) == 3
    for b in buttons:
        visible = b["args"][0]["visible"]
        assert sum(visible) >= 1 and b["args"][1]["yaxis.title.text"] != ""
    grid = next(t for t in data if t["stackgroup"] == "grid")
    assert np.allclose(arr(grid["y"]), [10, 10, 10])
