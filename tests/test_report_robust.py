"""The robust run's report section (issue 11): its figures and tables carry the numbers of
the robust JSON summary, ``plan --robust --report`` writes it (and ``report DIR`` reloads
it), and bad report paths fail before the solve with the path named."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from typer.testing import CliRunner

from fab2flop.cli import app
from fab2flop.constants import Status
from fab2flop.optimizer import optimize
from fab2flop.report import render_report
from fab2flop.report.robust import (
    T_ROBUST_BUILD,
    T_ROBUST_COMPARE,
    T_ROBUST_OUTCOMES,
    robust_section,
)

from .conftest import tiny_network
from .test_report import arr, plots

runner = CliRunner()

# A made-up board (the shape of RobustResult.to_json()); every number below is chosen by hand.
HAND = {
    "status": "optimal", "message": "optimal", "best_plan_not_proven_optimal": False,
    "mode": "expected", "alpha": 0.25, "lambda": 0.0, "source": "events",
    "information_year": None, "scenarios": 2,
    "futures": [{"name": "nominal", "probability": 0.8, "known_from": None, "events": []},
                {"name": "blockade", "probability": 0.2, "known_from": "2026",
                 "events": ["taiwan_blockade"]}],
    "target_years": [2026, 2027],
    "price_of_resilience_h100e": 30.0, "price_of_resilience_h100e_years": 45.0,
    "build_difference": [
        {"stage": "fab", "process": "fab_us", "region": "us", "period": "2026", "value": 12.0,
         "unit": "wafers/yr"},
        {"stage": "fab", "process": "fab_tw", "region": "tw", "period": "2027", "value": -7.0,
         "unit": "wafers/yr"},
    ],
    "inventory_difference": [
        {"carrier": "acc_X", "period": "2026", "value": 5.0, "unit": "units"}],
    "held_out": 3,
    "held_out_futures": [
        {"future": f"h{i}", "events": [], "known_from": None,
         "discounted_h100e_years": {"robust": r, "deterministic": d, "foresight": w}}
        for i, (r, d, w) in enumerate([(100.0, 90.0, 110.0), (200.0, 210.0, 215.0),
                                       (150.0, 120.0, 160.0)])
    ],
    "expected_h100e": {"robust": {"2026": 10.0, "2027": 20.0},
                       "deterministic": {"2026": 11.0, "2027": 19.0},
                       "foresight": {"2026": 12.0, "2027": 21.0}},
    "cvar_h100e": {"robust": {"2026": 8.0, "2027": 15.0},
                   "deterministic": {"2026": 7.0, "2027": 12.0},
                   "foresight": {"2026": 9.0, "2027": 16.0}},
    "worst_h100e": {"robust": {"2026": 6.0, "2027": 14.0},
                    "deterministic": {"2026": 5.0, "2027": 10.0},
                    "foresight": {"2026": 7.0, "2027": 15.0}},
    "value_units": "discounted H100e-years",
    "vss": 16.25, "evpi": 12.5, "vss_in_sample": 3.5, "evpi_in_sample": 4.75,
    "evaluation_failures": [],
}  # fmt: skip


def test_section_figures_carry_the_board():
    sec = robust_section(HAND)
    assert list(sec.figures) == [
        "robust_compare",
        "robust_build",
        "robust_stock",
        "robust_outcomes",
    ]
    cmp_ = sec.figures["robust_compare"]
    assert cmp_.layout.title.text == T_ROBUST_COMPARE
    # x: (year, measure) pairs in the order 2026 expected/CVaR/worst, 2027 expected/CVaR/worst
    det = next(t for t in cmp_.data if t.name == "deterministic")
    assert list(det.y) == [11.0, 7.0, 5.0, 19.0, 12.0, 10.0]
    assert list(det.x[0]) == ["2026"] * 3 + ["2027"] * 3
    # build: rows "stage: process (region) [unit]", columns 2026, 2027; diverging around 0
    hm = sec.figures["robust_build"].data[0]
    assert sec.figures["robust_build"].layout.title.text == T_ROBUST_BUILD
    assert list(hm.y) == ["fab: fab_tw (tw) [wafers/yr]", "fab: fab_us (us) [wafers/yr]"]
    assert list(hm.x) == ["2026", "2027"]
    z = np.asarray(hm.z, dtype=float)
    assert z[1, 0] == 12.0 and z[0, 1] == -7.0 and np.isnan(z[0, 0]) and np.isnan(z[1, 1])
    assert hm.zmid == 0.0 and hm.zmin == -12.0 and hm.zmax == 12.0  # symmetric: |12| largest
    assert list(sec.figures["robust_stock"].data[0].z[0]) == [5.0]
    box = {t.name: list(t.y) for t in sec.figures["robust_outcomes"].data}
    assert box == {"robust": [100.0, 200.0, 150.0], "deterministic": [90.0, 210.0, 120.0],
                   "foresight": [110.0, 215.0, 160.0]}  # fmt: skip
    assert sec.figures["robust_outcomes"].layout.title.text == T_ROBUST_OUTCOMES
    # tables: 2 years x 3 measures rows; then price, price over the horizon, VSS, EVPI
    compare, values = sec.tables
    assert len(compare["rows"]) == 6 and compare["rows"][1][1]["text"] == "CVaR"
    assert [r[1]["raw"] for r in values["rows"]] == ["30.0", "45.0", "16.25", "12.5"]
    assert [r[2]["raw"] for r in values["rows"]] == ["", "", "3.5", "4.75"]
    assert "discounted H100e-years" in [r[3]["text"] for r in values["rows"]]
    assert "nominal (0.8), blockade (0.2)" in sec.lead[0]


def test_section_without_judging_or_differences():
    s = {k: v for k, v in HAND.items() if k not in ("expected_h100e", "held_out_futures", "vss")}
    s["build_difference"], s["inventory_difference"] = [], []
    sec = robust_section(s)
    assert list(sec.figures) == []  # nothing to compare, nothing built differently
    assert any("Not judged" in ln for ln in sec.lines)
    assert any("nothing (the same capacity everywhere)" in ln for ln in sec.lines)
    assert [r[0]["text"][:19] for r in sec.tables[0]["rows"]] == ["price of resilience"] * 2
    assert robust_section(None).note and not robust_section(None).figures


def test_report_of_a_run_with_a_robust_summary():
    # the tiny network's run (test_report.py) carrying HAND as its robust summary
    res = optimize(tiny_network(budget_per_year=5e6))
    assert res.status is Status.OPTIMAL
    res.meta["robust"] = HAND
    html = render_report(res)
    figs = plots(html)
    for k in ("robust_compare", "robust_build", "robust_stock", "robust_outcomes"):
        assert f"fig-{k}" in figs
    assert html.index('id="sec-robust"') < html.index('id="sec-context"')  # robust first
    assert 'data-value="16.25"' in html and 'data-value="12.5"' in html  # VSS, EVPI
    assert "value of the stochastic solution" in html and "perfect information" in html
    boxes = {t["name"]: arr(t["y"]).tolist() for t in figs["fig-robust_outcomes"][0]}
    assert boxes["deterministic"] == [90.0, 210.0, 120.0]
    assert len(re.findall(r"plotly\.js v\d+\.\d+\.\d+", html)) == 1  # still embedded once


# a real robust run: the default plan to 2027, a Taiwan blockade from 2026 with probability
# 0.3, judged on 2 held-out futures (~15 s on 2 cores)
ARGS = ["plan", "--robust", "--set", "time.end=2027", "--event", "taiwan_blockade",
        "--event-start", "2026", "--probability", "0.3", "--held-out", "2", "--json"]  # fmt: skip


@pytest.fixture(scope="module")
def robust_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("robust")
    html, out = d / "r.html", d / "run"
    r = runner.invoke(app, [*ARGS, "--report", str(html), "--out", str(out)])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout), html.read_text(encoding="utf-8"), out, d


def _data_values(html: str, label: str) -> list[float]:
    row = re.search(rf"<tr><td>{re.escape(label)}</td>(.*?)</tr>", html)
    assert row, label
    return [float(v) for v in re.findall(r'data-value="([^"]+)"', row.group(1))]


def test_plan_report_numbers_match_the_json(robust_run):
    j, html, _, _ = robust_run
    assert 'id="sec-robust"' in html and not re.search(r"<script[^>]+src=", html)
    assert _data_values(html, "VSS (held-out futures)") == [j["vss"], j["vss_in_sample"]]
    assert _data_values(html, "EVPI (held-out futures)") == [j["evpi"], j["evpi_in_sample"]]
    last = j["target_years"][-1]
    price = _data_values(html, f"price of resilience (nominal future, {last})")
    assert price == [j["price_of_resilience_h100e"]]
    figs = plots(html)
    bars = {t["name"]: arr(t["y"]).tolist() for t in figs["fig-robust_compare"][0]}
    y = str(last)
    for plan in ("robust", "deterministic", "foresight"):
        want = [j[k][plan][y] for k in ("expected_h100e", "cvar_h100e", "worst_h100e")]
        assert bars[plan][-3:] == pytest.approx(want, rel=1e-12)
    boxes = {t["name"]: arr(t["y"]).tolist() for t in figs["fig-robust_outcomes"][0]}
    assert boxes["robust"] == [f["discounted_h100e_years"]["robust"] for f in j["held_out_futures"]]
    assert len(boxes["robust"]) == j["held_out"] == 2


def test_report_of_the_saved_robust_run(robust_run):
    j, _, out, d = robust_run
    html = d / "again.html"
    r = runner.invoke(app, ["report", str(out), "-o", str(html)])
    assert r.exit_code == 0, r.output
    text = html.read_text(encoding="utf-8")
    assert 'id="sec-robust"' in text
    assert _data_values(text, "VSS (held-out futures)") == [j["vss"], j["vss_in_sample"]]


def test_bad_report_paths_fail_before_the_solve(tmp_path):
    # a folder, a path below a file, and --no-eval (nothing judged): exit 2, no solve, no file
    (tmp_path / "f").write_text("x")
    for path, words in ((tmp_path, "is a folder"), (tmp_path / "f" / "r.html", "is a file")):
        r = runner.invoke(app, [*ARGS, "--report", str(path)])
        assert r.exit_code == 2 and words in r.output and str(path) in r.output, r.output
    r = runner.invoke(app, [*ARGS, "--no-eval", "--report", str(tmp_path / "r.html")])
    assert r.exit_code == 2 and "--no-eval" in r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]
