"""``fab2flop risk sweep`` on the command line: JSON keys, --out Dataset, bad input."""

from __future__ import annotations

import json

import xarray as xr
from typer.testing import CliRunner

from fab2flop.cli import app

runner = CliRunner()


def test_sweep_json_and_out(tmp_path):
    out = tmp_path / "sweep"
    r = runner.invoke(
        app,
        [
            "risk",
            "sweep",
            "--set",
            "time.end=2026",
            "--uncertainty",
            "none",
            "--samples",
            "2",
            "--workers",
            "1",
            "--mode",
            "recourse",
            "--event",
            "taiwan_blockade",
            "--event-start",
            "2026",
            "--json",
            "--out",
            str(out),
        ],  # fmt: skip
    )
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout)
    assert (s["samples"], s["seed"], s["mode"], s["optimal"]) == (2, 0, "recourse", 2)
    assert s["periods"] == [2025, 2026] and s["forced_events"] == ["taiwan_blockade"]
    assert set(s["compute_h100e"]) == {"p5", "p50", "p95"}
    assert list(s["cvar5_compute_h100e"]) == ["2026"]  # the horizon's end (no target year)
    # nominal values in both samples: every percentile is the same number
    c = s["compute_h100e"]
    assert c["p5"] == c["p50"] == c["p95"]
    # under recourse 2025 is the plan's; the blockade starting 2026 cuts 2026 below it
    assert c["p50"][0] == s["nominal_compute_h100e"][0]
    assert c["p50"][1] < s["nominal_compute_h100e"][1]
    ds = xr.open_dataset(out / "sweep.nc", engine="h5netcdf")
    assert (ds.sizes["sample"], ds.sizes["period"]) == (2, 2)
    assert set(ds.sizes) == {"sample", "period", "party"}  # party: IRR and NPV by party
    assert ds["status"].values.tolist() == ["optimal", "optimal"]
    assert json.loads((out / "summary.json").read_text())["samples"] == 2


def test_sweep_bad_input_names_the_option():
    r = runner.invoke(app, ["risk", "sweep", "--mode", "hindsight"])
    assert r.exit_code == 2 and "--mode" in r.output
    r = runner.invoke(app, ["risk", "sweep", "--samples", "0"])
    assert r.exit_code == 2 and "--samples" in r.output
    r = runner.invoke(app, ["risk", "sweep", "--event-start", "2028"])
    assert r.exit_code == 2 and "--event" in r.output
    r = runner.invoke(app, ["risk", "sweep", "--scheduler", "10.0.0.5:8786"])
    assert r.exit_code == 2 and "tcp://HOST:PORT" in r.output
    r = runner.invoke(
        app, ["risk", "sweep", "--uncertainty", "none", "--event", "no_such_event"]
    )  # fails before any solve, naming the event
    assert r.exit_code == 2 and "no_such_event" in r.output
