"""The report's finance, context and dependence sections (issues 11-13): on a saved run of
the default plan (to 2028) each section's numbers match the matching CLI ``--json``; a run
without finance records gets a one-line note instead of the section."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from fab2flop.cli import app
from fab2flop.constants import Status
from fab2flop.optimizer import optimize
from fab2flop.report import render_report

from .conftest import tiny_network
from .test_report import arr, plots

SHORT = ["--set", "time.end=2028"]


def _json(*args: str) -> dict:
    r = CliRunner().invoke(app, [*args, *SHORT, "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


@pytest.fixture(scope="module")
def saved_html(tmp_path_factory) -> str:
    """The report of a run written with --out and read back by ``fab2flop report``."""
    d = tmp_path_factory.mktemp("sections")
    r = CliRunner().invoke(app, ["run", *SHORT, "--out", str(d / "run"), "--no-store"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["report", str(d / "run"), "-o", str(d / "r.html")])
    assert r.exit_code == 0, r.output
    return (d / "r.html").read_text()


def test_sections_and_charts_present(saved_html):
    for title in ("Who pays and who gains", "Scale in context", "Dependence"):
        assert f">{title}</h2>" in saved_html
    figs = plots(saved_html)
    for fig in ("fig-finance_flows", "fig-context", "fig-vendors", "fig-dependent"):
        assert fig in figs
    # vendor shares are stacked: they add up to the whole of H100e (1.0) in every period
    stacked = sum(arr(t["y"]) for t in figs["fig-vendors"][0])
    assert stacked == pytest.approx([1.0] * len(stacked), abs=1e-9)
    assert "Jobs in " in saved_html and "HHI" in saved_html


def test_finance_npv_matches_cli(saved_html):
    fin = _json("finance")
    m = re.search(
        r"<td>openai</td><td>[^<]*</td><td class=\"num\" data-value=\"([^\"]+)\"", saved_html
    )
    assert m, "no NPV cell for the party openai"
    assert float(m.group(1)) == pytest.approx(fin["parties"]["openai"]["npv_usd"], rel=1e-6)


def test_context_spend_matches_cli(saved_html):
    ctx = _json("context")
    traces = {t["name"]: t for t in plots(saved_html)["fig-context"][0]}
    spend = arr(traces["plan spend"]["y"])
    want = [ctx["spend_by_year_usd"][str(y)] for y in ctx["years"]]
    assert spend == pytest.approx(want, rel=1e-6)
    assert ctx["sentences"][0] in saved_html.replace("&#39;", "'")


def test_dependence_taiwan_matches_cli(saved_html):
    dep = _json("dependence")
    traces = {t["name"]: t for t in plots(saved_html)["fig-dependent"][0]}
    want = [x or 0.0 for x in dep["taiwan_dependent_h100e"]]
    assert arr(traces["Taiwan"]["y"]) == pytest.approx(want, rel=1e-6, abs=1e-6)


def test_missing_finance_records_give_a_note():
    # the tiny test catalog has no finance-party records: the section is a note, no chart
    res = optimize(tiny_network(budget_per_year=5e6))
    assert res.status is Status.OPTIMAL
    html = render_report(res)
    assert "Finance omitted: the run&#39;s catalog has no finance-party records." in html
    assert "fig-finance_flows" not in html
    assert ">Dependence</h2>" in html
