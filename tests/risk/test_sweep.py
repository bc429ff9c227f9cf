"""Risk sweep: per-sample scenarios, recourse commitments, failures as rows, statistics."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from fab2flop.constants import PERIOD
from fab2flop.risk.evaluators import SequentialEvaluator
from fab2flop.risk.sampling import SampleInputs
from fab2flop.risk.sweep import (
    Commitments,
    cvar_lower,
    draw_samples,
    event_entry,
    info_year_of,
    percentile_bands,
    plan_tasks,
    run_sweep,
    sample_scenario,
)
from fab2flop.scenario import load_scenario, validate_scenario

SHORT = ["time.end=2027"]  # three periods: 2025, 2026, 2027 (a solve takes about a second)


@pytest.fixture(scope="module")
def short():
    return load_scenario(overrides=SHORT)


# ------------------------------------------------------------------ sampled events → scenario


def test_event_entry_puts_severity_in_the_field_of_its_kind():
    ev = {"start": 2028, "duration_years": 2.0, "fraction": 0.5}
    outage = event_entry({"name": "taiwan_blockade", **ev})
    assert outage == {"use": "taiwan_blockade", "start": 2028.0, "duration_years": 2.0,
                      "fraction": 0.5}  # fmt: skip
    assert event_entry({"name": "hbm_price_spike", **ev})["multiplier"] == 1.5  # 1 + 0.5
    # turbine_shortage: catalog delay 2 years (data/events.yaml) x 0.5 = 1 year
    assert event_entry({"name": "turbine_shortage", **ev})["years"] == 1.0
    export = event_entry({"name": "uae_export_denial", **ev})
    assert "fraction" not in export and "deploy_cap_units_per_year" not in export
    assert event_entry({"name": "taiwan_blockade", **ev, "duration_years": 0.0}) is None
    assert event_entry({"name": "turbine_shortage", **ev, "fraction": 0.0}) is None


def test_sample_scenario_applies_catalog_paths_events_and_forced(short):
    base = short.model_dump()
    inp = SampleInputs(
        {"nodes.N3.wafer_price_usd": 25_000.0},
        {"budget.total_usd": 3.0e12},
        [
            {"name": "taiwan_blockade", "start": 2026, "duration_years": 1.0, "fraction": 0.9},
            {"name": "korea_hbm_disruption", "start": 2026, "duration_years": 0.5, "fraction": 0.3},
        ],  # fmt: skip
    )
    forced = [{"use": "taiwan_blockade", "start": 2027}]
    data = sample_scenario(base, inp, forced)
    sc = validate_scenario(data)
    assert sc.catalog["nodes.N3.wafer_price_usd"] == 25_000.0
    assert sc.budget.total_usd == 3.0e12
    # the sampled blockade is replaced by the forced one; Korea stays
    assert [(e.name, e.start) for e in sc.events] == [
        ("korea_hbm_disruption", 2026.0),
        ("taiwan_blockade", 2027.0),
    ]
    assert sc.events[0].fraction == 0.3
    assert base.get("events") == [] and "nodes.N3.wafer_price_usd" not in base["catalog"]


def test_information_year():
    data = {"events": [{"use": "a", "start": 2030}, {"use": "b", "start": 2028.5}]}
    assert info_year_of(data, 0, None) == 2028.5  # the first event's start
    assert info_year_of(data, 2, None) is None  # the plan knew both: nothing new
    assert info_year_of(data, 0, 2031) == 2031.0  # a given year wins


# ------------------------------------------------------------------ commitments, by hand


def _commitments(lead: int, commit: str) -> Commitments:
    years = np.arange(2025.0, 2030.0)
    prt = {"process": ["fab"], "region": ["US"], PERIOD: [int(y) for y in years]}
    z = xr.DataArray(np.zeros((1, 1, 5)), coords=prt, dims=list(prt))
    ol = xr.full_like(z, lead, dtype=int)
    ol[..., :lead] = -1  # nothing opens before its construction could start
    art = {"accelerator": ["H100"], "region": ["US"], PERIOD: prt[PERIOD]}
    d = xr.DataArray(np.zeros((1, 1, 5)), coords=art, dims=list(art))
    inv = xr.DataArray(np.zeros((1, 5)), coords={"carrier": ["w"], PERIOD: prt[PERIOD]},
                       dims=["carrier", PERIOD])  # fmt: skip
    return Commitments(z, d, z, inv, ol, years, commit)


def test_commitment_masks_by_construction_start():
    # info 2028 → periods 2025, 2026, 2027 (k = 0, 1, 2) are before it.
    # lead 2: capacity opening in period t started in t - 2; started before k = 3 → t < 5,
    # every period (the 2029 opening started in 2027). Opened-only: t < 3.
    c = _commitments(2, "started")
    assert c.new_mask(2028).values.ravel().tolist() == [True] * 5
    assert c.before(2028).values.tolist() == [True, True, True, False, False]
    o = _commitments(2, "opened")
    assert o.new_mask(2028).values.ravel().tolist() == [True, True, True, False, False]
    # lead 0: started = opened
    z = _commitments(0, "started")
    assert z.new_mask(2026.5).values.ravel().tolist() == [True, True, False, False, False]


# ------------------------------------------------------------------ statistics, by hand


def test_cvar_and_bands():
    assert cvar_lower(np.arange(1.0, 101.0)) == 3.0  # worst 5 of 100: (1+2+3+4+5)/5
    assert cvar_lower(np.array([7.0, np.nan, 3.0])) == 3.0  # ceil(0.05·2) = 1 value
    vals = np.array([[1.0, 10.0], [np.nan, np.nan], [3.0, 30.0]])
    b = percentile_bands(vals, (50,))
    assert b == {"p50": [2.0, 20.0]}  # the failed row is left out: median of 1, 3 and 10, 30


# ------------------------------------------------------------------ whole sweeps (short horizon)


def test_recourse_keeps_the_plan_and_costs_at_least_foresight(short):
    forced = [{"use": "taiwan_blockade", "start": 2026, "duration_years": 1.0}]
    inp = draw_samples(short, None, 1, 0)
    fore = run_sweep(short, inp, forced, mode="foresight").dataset
    rec = run_sweep(short, inp, forced, mode="recourse").dataset
    assert fore["status"].values.tolist() == rec["status"].values.tolist() == ["optimal"]
    assert rec["information_year"].values.tolist() == [2026.0]
    nominal = rec["nominal_compute_h100e"].values
    # deployments before 2026 are the plan's: 2025 compute is the plan's
    assert rec["compute_h100e"].values[0, 0] == pytest.approx(nominal[0], rel=1e-6)
    # recourse is foresight with more constraints: never more compute over the horizon
    assert rec["compute_h100e"].sum().item() <= fore["compute_h100e"].sum().item() * (1 + 1e-6)
    # a blockade of Taiwan in 2026 known only when it starts costs compute in 2026
    assert rec["compute_h100e"].values[0, 1] < nominal[1] * 0.99


def test_recourse_with_everything_committed_reproduces_the_plan(short):
    inp = draw_samples(short, None, 1, 0)
    res = run_sweep(short, inp, mode="recourse", information_year=2028).dataset
    np.testing.assert_allclose(
        res["compute_h100e"].values[0], res["nominal_compute_h100e"].values, rtol=1e-6
    )


def test_failed_samples_are_rows_with_reasons(short):
    broke = SampleInputs({}, {"budget.total_usd": 1.0e9}, [])  # $1B for the whole horizon
    bad = SampleInputs({}, {}, [{"name": "no_such_event", "start": 2026, "duration_years": 1.0,
                                 "fraction": 1.0}])  # fmt: skip
    inputs = [SampleInputs({}, {}, []), broke, bad]
    with SequentialEvaluator() as ev:
        res = run_sweep(short, inputs, mode="recourse", information_year=2026, evaluator=ev)
    ds = res.dataset
    assert ds["status"].values.tolist() == ["optimal", "infeasible", "error"]
    # the plan spent tens of billions in 2025 (fixed under recourse) > $1B of funding
    assert "recourse" in str(ds["message"].values[1])
    assert "no_such_event" in str(ds["message"].values[2])
    assert np.isnan(ds["compute_h100e"].values[1:]).all()
    assert [f[0] for f in res.failures] == [1, 2]
    # the same broke future with foresight is optimal: it just builds little
    fore = run_sweep(short, [broke], mode="foresight").dataset
    assert fore["status"].values.tolist() == ["optimal"]


def test_plan_tasks_rejects_an_unknown_mode(short):
    with pytest.raises(ValueError, match="mode"):
        plan_tasks(short, [SampleInputs({}, {}, [])], mode="hindsight")
