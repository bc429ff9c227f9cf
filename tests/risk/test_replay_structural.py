"""Replay varies yields (defect densities), stacks per wafer and lives, as the sweep does."""

from __future__ import annotations

import numpy as np
import pytest

from fab2flop import load_scenario
from fab2flop.network import build_network
from fab2flop.risk.fixedlp import discounted, solve_fixed
from fab2flop.risk.futures import future_arrays
from fab2flop.risk.replay import replay, replay_chunk, setup, structure
from fab2flop.risk.uncertainty import validate_uncertainty
from fab2flop.scenario import validate_scenario

DENSITY = "nodes.*.defect_density_per_cm2"
STRUCTURAL = {
    "samples": 4,
    "seed": 7,
    "parameters": [
        # far wider than the catalog's range, so that wafers bind before power does
        {"id": DENSITY, "dist": "uniform", "low": 0.05, "high": 1.0},
        {"id": "nodes.N3.fab_life_years"},
        {"id": "memory.hbm3e.stacks_per_wafer"},
        {"id": "datacenters.fleet.accelerator_life_years"},
    ],
}
OTHERS = (
    "nodes.N3.fab_life_years",
    "memory.hbm3e.stacks_per_wafer",
    "datacenters.fleet.accelerator_life_years",
)


@pytest.fixture(scope="module")
def su():
    # own designs only: the default now buys merchant parts, whose wafers are not the plan's,
    # so its compute would not see the plan's yields at all
    sc = load_scenario()
    acc = sc.accelerators.model_copy(update={"merchant": []})
    sc = sc.model_copy(update={"accelerators": acc})
    sc = sc.model_copy(update={"uncertainty": validate_uncertainty(STRUCTURAL)})
    return setup(sc)


def test_yields_stacks_and_lives_are_varied_not_held(su):
    assert su.probe.held == []
    assert "memory.hbm3e.stacks_per_wafer" in su.probe.varied
    assert {c.array for c in su.probe.curves} == {"io", "life_periods", "acc_life_periods"}


def test_lower_yield_gives_less_compute(su):
    # the same future but for the defect density of every node: nominal, 0.3, 0.6, 1.0
    # per cm2; a higher density lowers the yield, so more wafers per accelerator
    ds = su.samples.copy(deep=True)
    for n in [v for v in ds.data_vars if v.endswith("defect_density_per_cm2")]:
        ds[n].values[:] = [ds[n].attrs["nominal"], 0.3, 0.6, 1.0]
    for n in OTHERS:
        ds[n].values[:] = ds[n].attrs["nominal"]
    c = replay(su.net, su.plan, ds, su.probe, []).dataset["compute_h100e"].values
    np.testing.assert_allclose(c[0], su.plan.compute_h100e, rtol=1e-6)  # nominal: the plan
    assert np.all(np.diff(c, axis=0) <= 1e-6 * c[:-1])  # never more with a lower yield
    assert c[3, -1] < 0.5 * c[0, -1]  # at 1.0 per cm2 less than half the plan's 2035


def test_sampled_life_is_the_rebuilt_networks(su):
    # lives are probed at every whole year of their range: exact, not interpolated
    fa = future_arrays(su.net, su.probe, su.samples, slice(0, 4), [])
    idx, vals = fa.structural["life_periods"]
    data = su.net.scenario.model_dump(mode="json", exclude_none=True)
    for i in range(2):
        years = float(su.samples["nodes.N3.fab_life_years"].values[i])
        data["catalog"] = {"nodes.N3.fab_life_years": years}
        ref = build_network(validate_scenario(data), su.net.catalog).ds["life_periods"].values
        np.testing.assert_array_equal(np.round(vals[i]), ref[idx])


def test_replay_stays_under_the_fixed_lp_on_sampled_yields_and_lives(su):
    fa = future_arrays(su.net, su.probe, su.samples, slice(0, 4), su.events)
    mine = discounted(su.net, replay_chunk(su.net, su.plan, structure(su.net), fa).compute_h100e)
    compared = 0
    for i in range(3):
        lp = solve_fixed(su.net, su.plan, fa, i)
        if not lp.status.startswith("optimal"):
            continue
        assert mine[i] <= discounted(su.net, lp.compute_h100e) * (1 + 1e-6), i
        compared += 1
    assert compared >= 2


def test_a_shorter_accelerator_life_retires_the_fleet_sooner(su):
    # nominal life 5 years; at 3 years a unit deployed in t is gone from t + 3: the same
    # compute for the first three years of the horizon, less once the first units retire
    ds = su.samples.copy(deep=True)
    for n in [v for v in ds.data_vars if v.endswith("defect_density_per_cm2")] + list(OTHERS):
        ds[n].values[:] = ds[n].attrs["nominal"]
    life = "datacenters.fleet.accelerator_life_years"
    assert ds[life].attrs["nominal"] == 5
    ds[life].values[:] = [5, 3, 5, 3]
    c = replay(su.net, su.plan, ds, su.probe, []).dataset["compute_h100e"].values
    np.testing.assert_allclose(c[0], su.plan.compute_h100e, rtol=1e-6)
    np.testing.assert_allclose(c[1, :3], c[0, :3], rtol=1e-9)
    assert np.all(c[1] <= c[0] * (1 + 1e-9)) and c[1, -1] < c[0, -1]
