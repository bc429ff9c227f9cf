"""Replay: the default plan with its builds fixed, under sampled and forced futures."""

from __future__ import annotations

import numpy as np
import pytest

from fab2flop import load_scenario
from fab2flop.network import build_network
from fab2flop.risk.fixedlp import discounted, solve_fixed
from fab2flop.risk.futures import catalog_event, forced_event, future_arrays
from fab2flop.risk.replay import Plan, replay, retime, setup, structure
from fab2flop.risk.uncertainty import validate_uncertainty
from fab2flop.scenario import validate_scenario

SMALL = {
    "samples": 6,
    "seed": 5,
    "parameters": [
        {"id": "memory.hbm3e.stack_price_usd"},
        {"id": "datacenters.lease.market_mw_it"},
        {"id": "nodes.N3.wafer_price_usd"},
    ],
    "events": [
        {"name": "taiwan_blockade", "probability": 0.5, "duration_years": 1.0, "fraction": 0.8},
        {"name": "uae_export_denial", "probability": 0.5, "duration_years": 3.0, "fraction": 1.0},
    ],
}


@pytest.fixture(scope="module")
def small():
    sc = load_scenario().model_copy(update={"uncertainty": validate_uncertainty(SMALL)})
    return setup(sc)


def test_nominal_replay_reproduces_the_plans_compute_and_spend(small):
    net, res = small.net, small.results
    out = replay(net, small.plan, None, None, [], n=2).dataset
    # the plan's compute as the Results summary reports it (not through Plan)
    plan_c = np.array(res.summary()["compute_h100e"])
    assert np.all(np.abs(out["compute_h100e"].values[0] / plan_c - 1) < 1e-3)
    spend = res.summary()["spend_by_period_usd"]
    assert np.allclose(out["spend_usd"].values[1], spend, rtol=1e-3)


def test_a_full_taiwan_blockade_in_2028_stops_merchant_supply_that_year(small):
    # every merchant accelerator (nvidia_supply, amd_supply) is sold from TW only: a
    # full-year, full-severity blockade leaves none in 2028 (availability 0 the whole year)
    ev = catalog_event("taiwan_blockade", start=2028, duration=1.0)
    out = replay(small.net, small.plan, None, None, [forced_event(ev, 1)], n=1).dataset
    share = out["stage_output_share"].sel(stage="merchant_accelerators", period=2028)
    assert float(share.values[0]) == 0.0
    c = out["compute_h100e"].values[0]
    plan = small.plan.compute_h100e
    # nothing new is installed in 2028: compute stays at 2027's, below the plan's 2028
    # (the plan buys merchant parts, which the blockade stops; it ramps, so 2028 is not a jump)
    assert c[3] <= c[2] * (1 + 1e-6) and c[3] < plan[3] - 0.1 * (plan[3] - plan[2])
    assert np.allclose(c[:3], plan[:3])  # nothing changes before the event


@pytest.mark.parametrize(
    "raw",
    [
        {"use": "taiwan_blockade", "start": 2028, "duration_years": 1.5},
        {"use": "korea_hbm_disruption", "start": 2027.5},
        {"use": "hbm_price_spike", "start": 2026},
        {"use": "us_fab_cost_overrun", "start": 2026},
        {"use": "uae_export_denial", "start": 2027, "duration_years": 2.5},
        {"use": "funding_pullback", "start": 2029},
    ],
)
def test_vectorised_events_give_the_arrays_build_network_gives(small, raw):
    """The same event through the network (events.py, one scenario) and through futures
    (vectorised over samples) changes the arrays identically."""
    net = small.net
    data = net.scenario.model_dump(mode="json", exclude_none=True)
    data["events"] = [raw]
    ref = build_network(validate_scenario(data), net.catalog).ds
    ev = catalog_event(raw["use"], raw["start"], raw.get("duration_years"))
    fa = future_arrays(net, None, None, slice(0, 2), [forced_event(ev, 2)], n=2)
    for a in (
        "availability",
        "existing",
        "capex_usd_per_unit",
        "var_cost_usd_per_unit",
        "deploy_cap_units_per_year",
        "funding_usd",
        "acc_unit_cost_usd",
    ):
        np.testing.assert_allclose(fa.arrays[a][1], ref[a].values, rtol=1e-12, err_msg=a)


def test_retimed_construction_matches_the_events_modules_open_lead(small):
    net = small.net
    data = net.scenario.model_dump(mode="json", exclude_none=True)
    data["events"] = [{"use": "turbine_shortage"}]
    ref = build_network(validate_scenario(data), net.catalog).ds["open_lead_periods"].values
    ev = catalog_event("turbine_shortage")
    fa = future_arrays(net, None, None, slice(0, 1), [forced_event(ev, 1)], n=1)
    pi, ri = np.nonzero(fa.extra_start[0].any(axis=-1))
    ds = net.ds
    new, ol = retime(
        small.plan.new[pi, ri],
        ds["lead_periods"].values[pi],
        ds["open_lead_periods"].values[pi, ri],
        fa.extra_start[:, pi, ri],
    )
    np.testing.assert_array_equal(ol[0], ref[pi, ri])
    # a gas plant started in the window opens two periods later; none is lost in the horizon
    # before 2033 (starts of 2025-2028 + 5 + 2 years open by 2035)
    assert new[0].sum() <= small.plan.new[pi, ri].sum() + 1e-9


def test_one_parameter_moves_the_arrays_as_rebuilding_the_network_does(small):
    """A single sampled parameter through the probe's linear response reproduces the
    network rebuilt at the sampled value (exact for a price, and a scaled series)."""
    net, ds = small.net, small.samples
    fa = future_arrays(net, small.probe, ds, slice(0, 1), [])
    for name in ("memory.hbm3e.stack_price_usd", "datacenters.lease.market_mw_it"):
        others = [n for n in ds.data_vars if ds[n].attrs.get("kind") == "catalog" and n != name]
        one = ds.isel(sample=[0]).copy()
        for n in others:
            one[n] = one[n] * 0 + one[n].attrs["nominal"]
        fa = future_arrays(net, small.probe, one, slice(0, 1), [])
        x = float(one[name].values[0])
        val: object = x
        if "series" in one[name].attrs:
            import json

            val = {int(y): v * x for y, v in json.loads(one[name].attrs["series"]).items()}
        data = net.scenario.model_dump(mode="json", exclude_none=True)
        data["catalog"] = {**data.get("catalog", {}), name: val}
        ref = build_network(validate_scenario(data), net.catalog).ds
        for a in ("var_cost_usd_per_unit", "existing", "capex_usd_per_unit"):
            np.testing.assert_allclose(fa.arrays[a][0], ref[a].values, rtol=1e-9, err_msg=a)


def test_replay_never_beats_the_lp_with_the_same_fixed_builds(small):
    net = small.net
    fa = future_arrays(net, small.probe, small.samples, slice(0, 3), small.events)
    from fab2flop.risk.replay import replay_chunk

    r = replay_chunk(net, small.plan, structure(net), fa)
    mine = discounted(net, r.compute_h100e)
    compared = 0
    for i in range(3):
        lp = solve_fixed(net, small.plan, fa, i)
        if not lp.status.startswith("optimal"):  # builds costing more than the money
            continue
        best = discounted(net, lp.compute_h100e)
        assert mine[i] <= best * (1 + 1e-6), (i, mine[i], best)
        compared += 1
    assert compared >= 2


def test_same_seed_same_replay_and_chunking_does_not_matter(small):
    a = replay(small.net, small.plan, small.samples, small.probe, small.events, chunk=6)
    b = replay(small.net, small.plan, small.samples, small.probe, small.events, chunk=4)
    np.testing.assert_array_equal(a.dataset["compute_h100e"], b.dataset["compute_h100e"])


def test_plan_from_solution_reads_the_plan(small):
    p = Plan.from_solution(small.results.dataset, small.net)
    assert p.new.shape == small.net.ds["capex_usd_per_unit"].shape
    assert np.allclose(p.compute_h100e, small.results.summary()["compute_h100e"], rtol=1e-9)


def test_nominal_replay_dependence_is_the_plans(small):
    # with nominal values replay re-dispatches the plan as it is: its dependence figures
    # (vectorised over samples) are those ``fab2flop dependence`` gives the plan
    from fab2flop.risk.spread import from_results, per_sample_from_dataset

    out = replay(small.net, small.plan, None, None, [], n=2, dependence=True).dataset
    got = per_sample_from_dataset(out)
    want = from_results(small.results)
    assert set(got) == set(want)
    for k, xs in want.items():
        x = np.array([np.nan if v is None else v for v in xs])
        scale = np.nanmax(np.abs(x)) if np.isfinite(x).any() else 1.0
        np.testing.assert_allclose(got[k][1], x, rtol=1e-3, atol=1e-6 * scale, err_msg=k)


def test_a_taiwan_blockade_spreads_taiwan_dependence_below_its_compute(small):
    ev = catalog_event("taiwan_blockade", start=2028, duration=1.0)
    out = replay(small.net, small.plan, small.samples, small.probe, [forced_event(ev, 6)],
                 dependence=True).dataset  # fmt: skip
    tw = out["dependence.taiwan_dependent_h100e"].values
    assert tw.shape == (6, len(small.plan.compute_h100e))
    installed = out["accelerator_h100e"].sum("accelerator").values
    assert np.all(tw <= installed * (1 + 1e-6) + 1e-6)
    share = out["dependence.by_vendor.own"].values
    assert np.all((share >= 0) | np.isnan(share)) and np.all((share <= 1 + 1e-9) | np.isnan(share))


def test_the_reports_risk_section_shows_taiwan_dependence_across_futures(small):
    from fab2flop.report import RiskInputs, render_report

    out = replay(small.net, small.plan, small.samples, small.probe, small.events,
                 dependence=True).dataset  # fmt: skip
    html = render_report(small.results, RiskInputs(samples=out))
    assert 'id="fig-fan"' in html and 'id="fig-dependence_fan"' in html
    assert "Taiwan-dependent share of installed H100e across samples" in html
