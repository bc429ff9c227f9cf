"""`fab2flop run --report/--store/--no-store`: the report and the record of a real run agree
with its JSON summary."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from fab2flop.cli import app
from fab2flop.store import RunStore

from .test_report import arr, plots


def test_run_with_report_and_store(tmp_path):
    html, store = tmp_path / "plan.html", tmp_path / "runs.duckdb"
    args = ["run", "--set", "time.end=2026", "--json", "--report", str(html)]
    r = CliRunner().invoke(app, [*args, "--store", str(store)])
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout)  # the report and store messages stay off stdout
    figs = plots(html.read_text())
    compute = sum(arr(t["y"]) for t in figs["fig-compute"][0])  # stacked by accelerator
    assert compute[-1] == pytest.approx(s["compute_h100e"][-1], rel=1e-9)
    runs = RunStore(store).list()
    assert len(runs) == 1 and runs[0]["status"] == "optimal"
    assert runs[0]["headline"]["compute_h100e_final"] == s["compute_h100e"][-1]
    assert runs[0]["headline"]["spend_total_usd"] == s["spend_total_usd"]
    assert RunStore(store).get(runs[0]["id"])["summary"]["periods"] == [2025, 2026]


def test_run_no_store_and_failed_report(tmp_path):
    store = tmp_path / "runs.duckdb"
    # $1 of budget cannot buy the path of a million H100e in 2025: infeasible, no report
    args = [
        "run", "--set", "time.end=2025", "--set", "budget.total_usd=1",
        "--set", "objective.kind=min_cost_for_path",
        "--set", "objective.compute_path_h100e={2025: 1.0e6}",
        "--report", str(tmp_path / "x.html"), "--no-store", "--store", str(store),
    ]  # fmt: skip
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 2, r.output
    assert "did not solve" in r.output and "needs a solved run" in r.output
    assert not (tmp_path / "x.html").exists()
    assert not store.exists()  # --no-store: nothing recorded
