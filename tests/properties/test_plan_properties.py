"""Invariants of any plan, checked on randomly drawn small networks (Hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fab2flop.constants import Status
from fab2flop.optimizer import optimize

from ..conftest import tiny_network

SETTINGS = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)

params = st.fixed_dictionaries(
    {
        "budget_per_year": st.floats(1e6, 5e7),
        "market_units_per_year": st.floats(100, 5000),
        "price_usd": st.floats(2_000, 40_000),
        "grid_mw": st.floats(0.5, 20),
        "dc_lead_years": st.integers(0, 2).map(float),
        "dc_capex_usd_per_mw": st.floats(0, 2e7),
        "life_years": st.integers(1, 6).map(float),
        "discount_rate": st.floats(0, 0.15),
    }
)


@SETTINGS
@given(p=params, factor=st.floats(1.0, 3.0))
def test_more_money_never_buys_less_compute(p, factor):
    lo = optimize(tiny_network(**p))
    hi = optimize(tiny_network(**{**p, "budget_per_year": p["budget_per_year"] * factor}))
    assert lo.status is Status.OPTIMAL and hi.status is Status.OPTIMAL
    d = lo.network.ds["discount"].values
    c_lo = float((lo.dataset["compute_h100e"].values * d).sum())
    c_hi = float((hi.dataset["compute_h100e"].values * d).sum())
    assert c_hi >= c_lo * (1 - 1e-6) - 1e-6


@SETTINGS
@given(p=params)
def test_every_dollar_is_accounted_for(p):
    res = optimize(tiny_network(**p))
    ds, net = res.dataset, res.network
    dt = net.periods.dt
    by_period = ds["spend_usd"].sum("category").values
    # every dollar priced again from the plan and the network's unit costs, not from the
    # LP's spend expressions: activity x variable cost x dt, capacity opening x its capex
    # (all paid inside the horizon: nothing opens before its lead time), capacity x fixed
    # O&M x dt, deployments x systems cost
    priced = (
        float((ds["activity"] * net.ds["var_cost_usd_per_unit"]).sum()) * dt
        + float((ds["new_capacity"] * net.ds["capex_usd_per_unit"]).sum())
        + float((ds["capacity"] * net.ds["fixed_om_usd_per_unit_year"]).sum()) * dt
        + float((ds["deployed"] * net.ds["acc_deploy_cost_usd"]).sum())
    )
    # the solution reader zeroes quantities within 1e-6 model units (solver noise) while the
    # spend comes from the LP's own expressions: they agree to that noise (1e-4 relative)
    np.testing.assert_allclose(by_period.sum(), priced, rtol=1e-4, atol=1e3)
    # cash carried out of each period is what arrived so far less what was spent so far
    # (no interest in this scenario); it is never negative, so spending never runs ahead
    # Tolerance: money is modelled in billions of USD and the solution reader sets values
    # within 1e-6 model units of zero to zero (solver noise), so cash is exact to $1,000,
    # 0.1% of the smallest yearly budget drawn here ($1M)
    carried = np.cumsum(ds["funding_usd"].values - by_period)
    np.testing.assert_allclose(ds["cash_usd"].values, carried, rtol=1e-6, atol=1e3)
    assert (carried >= -1e3).all()


@SETTINGS
@given(p=params)
def test_nothing_flows_without_capacity_and_nothing_opens_before_its_lead_time(p):
    res = optimize(tiny_network(**p))
    ds, net = res.dataset, res.network
    capd = ~net.ds["unlimited"]
    avail = net.ds["availability"]
    limit = ds["capacity"] * avail
    act = ds["activity"]
    excess = (act - limit).where(capd & net.ds["exists"])
    assert float(excess.max()) <= 1e-6 * max(1.0, float(limit.max()))
    lead = net.ds["lead_periods"].values
    new = ds["new_capacity"].values  # (P, R, T)
    for i, L in enumerate(lead):
        assert np.all(new[i, :, :L] == 0.0), net.process_names[i]
    # and what needs it cannot run earlier: no fleet before the first data center opens
    first_dc = int(lead[net.process_names.index("datacenter")])
    assert np.all(np.abs(ds["compute_h100e"].values[:first_dc]) <= 1e-6)
    # the fleet never draws more IT power than data centers provide
    it = ds["fleet_mw_it"].values
    dc = ds["activity"].sel(process="datacenter").values
    assert (it <= dc + 1e-6).all()
