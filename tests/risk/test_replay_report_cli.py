"""Replay statistics and the ``fab2flop risk`` commands."""

from __future__ import annotations

import json

import numpy as np
import xarray as xr
import yaml
from typer.testing import CliRunner

from fab2flop.cli import app
from fab2flop.risk.report import cvar, path_probability, percentiles
from fab2flop.scenario import load_scenario_dict

runner = CliRunner()


def test_cvar_is_the_mean_of_the_worst_share():
    # 20 outcomes 1..20: the worst 5% is one sample (ceil(0.05*20) = 1): 1.0;
    # the worst 10% two samples: (1 + 2) / 2 = 1.5
    x = np.arange(20.0, 0.0, -1.0)
    assert cvar(x, 0.05) == 1.0
    assert cvar(x, 0.10) == 1.5


def test_percentiles_and_path_probability():
    c = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [4.0, 40.0], [5.0, 50.0]])
    q = percentiles(c)
    assert q["p50"] == [3.0, 30.0]  # the middle of five
    # numpy's linear interpolation: p5 at rank 0.05*4 = 0.2 → 1 + 0.2*(2 - 1) = 1.2
    assert np.isclose(q["p5"][0], 1.2)
    ds = xr.Dataset(
        {"compute_h100e": (("sample", "period"), c)},
        coords={"period": [2030, 2031], "year": ("period", [2030.0, 2031.0])},
    )
    # reaching 3 in 2030 and 35 in 2031: samples 4 and 5 only → 2/5
    assert path_probability(ds, {2030: 3.0, 2031: 35.0}) == 0.4


def _small_scenario(tmp_path, **unc) -> str:
    data, _ = load_scenario_dict(None)
    data["uncertainty"] = {
        "samples": 4,
        "seed": 2,
        "parameters": [{"id": "memory.hbm3e.stack_price_usd"}, {"id": "nodes.N3.wafer_price_usd"}],
        **unc,
    }
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_replay_json_has_the_promised_keys_and_a_netcdf_with_a_sample_dim(tmp_path):
    f = _small_scenario(tmp_path)
    args = ["risk", "replay", f, "--json", "--out", str(tmp_path / "o"), "--path", "2030=1e6"]
    r = runner.invoke(app, [*args, "--event", "taiwan_blockade", "--event-start", "2028"])
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout)
    assert s["samples"] == 4 and s["seed"] == 2
    assert len(s["periods"]) == 11
    for k in ("p5", "p50", "p95"):
        assert len(s["compute_h100e"][k]) == 11
    assert set(s["cvar5_compute_h100e"]) == {"2030", "2035"}
    assert 0.0 <= s["path_probability"] <= 1.0
    stages = {row["stage"] for row in s["event_loss"]["stages"]}
    assert "merchant_accelerators" in stages
    ds = xr.open_dataset(tmp_path / "o" / "replay.nc")
    assert ds.sizes["sample"] == 4


def test_bad_input_is_refused_before_any_work_naming_the_field(tmp_path):
    r = runner.invoke(app, ["risk", "replay", "--samples", "0"])
    assert r.exit_code == 2 and "uncertainty.samples" in r.output
    f = _small_scenario(tmp_path, parameters=[{"id": "nodes.N9.wafer_price_usd"}])
    r = runner.invoke(app, ["risk", "replay", f])
    assert r.exit_code == 2 and "uncertainty.parameters.0.id" in r.output
    r = runner.invoke(app, ["risk", "replay", "--event", "no_such_event"])
    assert r.exit_code == 2 and "no_such_event" in r.output
    r = runner.invoke(
        app, ["risk", "replay", "--event", "taiwan_blockade", "--event-start", "2040"]
    )
    assert r.exit_code == 2 and "--event-start" in r.output
    r = runner.invoke(app, ["risk", "sensitivity", "--output", "compute_2050"])
    assert r.exit_code == 2 and "--output" in r.output
    r = runner.invoke(app, ["risk", "sensitivity", "--method", "fast"])
    assert r.exit_code == 2 and "--method" in r.output


def test_sensitivity_json_ranks_a_price_above_nothing_for_spend(tmp_path):
    params = [{"id": "accelerators.Rubin.price_usd"}, {"id": "memory.hbm_line.capex_usd_per_wpm"}]
    f = _small_scenario(tmp_path, parameters=params)
    r = runner.invoke(
        app, ["risk", "sensitivity", f, "--output", "spend", "--n-base", "8", "--json"]
    )
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout)
    rows = s["indices"]
    assert {"parameter", "first_order", "total", "confidence"} <= set(rows[0])
    assert s["runs"] == 8 * (2 + 2)  # Saltelli without second order: N (k + 2)
    # the default plan buys Rubin (and builds no HBM lines since the roadmap, issue 8): the
    # price moves its spend, the line capex does not
    assert rows[0]["rank"] == 1 and rows[0]["total"] > 0
    assert rows[0]["parameter"] == "accelerators.Rubin.price_usd"
    assert {r["parameter"] for r in rows} == {p["id"] for p in params}


def test_the_scenarios_uncertainty_field_is_validated_with_the_scenario():
    from fab2flop.errors import ScenarioError
    from fab2flop.scenario import validate_scenario

    data, _ = load_scenario_dict(None)
    data["uncertainty"] = {"samples": 0}
    try:
        validate_scenario(data)
    except ScenarioError as exc:
        assert any(p[0] == "uncertainty.samples" for p in exc.problems), exc.problems
    else:
        raise AssertionError("samples: 0 was accepted")
    data["uncertainty"] = {"samples": 3, "seed": 4}
    assert validate_scenario(data).uncertainty.samples == 3


def test_dependence_samples_are_whole_chunks_and_said(tmp_path):
    f = _small_scenario(tmp_path, samples=12)
    base = ["risk", "replay", f, "--json", "--no-store", "--chunk", "4"]
    r = runner.invoke(app, [*base, "--dependence-samples", "5"])  # two chunks of 4 -> 8
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout)
    assert s["samples"] == 12 and s["dependence_samples"] == 8
    assert s["dependence_spread"]["taiwan_dependent_share"]["p50"]
    r = runner.invoke(app, [*base, "--dependence-samples", "0"])
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout)
    assert s["dependence_samples"] == 0 and not s["dependence_spread"]["by_vendor"]
