"""The dynamics of ``fab2flop.dynamics``: by hand on small arrays, and against solved LPs.

The LP takes every coefficient of its stock, ramp, capex and build-start rows from these
functions; here the functions are evaluated on a solved plan's decisions and must give back
the LP's own capacity, installed fleet and spend by kind.
"""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from fab2flop import dynamics as dyn
from fab2flop.lp.core import solve
from fab2flop.lp.model import LPOptions, build_lp
from fab2flop.network import build_network
from fab2flop.optimizer import optimize
from fab2flop.scenario import load_scenario

# ----------------------------------------------------------------- by hand, small arrays


def test_module_examples():
    res = doctest.testmod(dyn)
    assert res.attempted >= 8 and res.failed == 0


def test_shift_fills_outside_the_horizon():
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    np.testing.assert_array_equal(dyn.shift(x, 2), [[0, 0, 1], [0, 0, 4]])
    np.testing.assert_array_equal(dyn.shift(x, -1, fill=-1), [[2, 3, -1], [5, 6, -1]])
    np.testing.assert_array_equal(dyn.shift(x, 3), np.zeros((2, 3)))


def test_opening_mask_per_sample():
    # sample 0: lead 1 everywhere -> opens from t=1; sample 1: a delay forbids t=3 (-1)
    # and lengthens the lead of t=1 to 2 (t=1 < 2: cannot open), t=4 has lead 3 (ok)
    lead = np.array([[1, 1, 1, 1, 1], [0, 2, 2, -1, 3]])
    np.testing.assert_array_equal(
        dyn.opening_mask(lead),
        [[False, True, True, True, True], [True, False, True, False, True]],
    )


def test_capex_schedule_spreads_over_the_lead_of_each_opening():
    # sample 0: 4 units open in t=3 with lead 2 at $1 + 3 = $4/unit (capex by opening
    #   period [1,2,3,4,5] -> 4): $16 over t=1,2 -> 8, 8.
    # sample 1: the same with a delayed lead of 3: $16 over t=0,1,2 -> 16/3 each;
    #   plus 5 units opening in t=4 with lead 0 at $5: 25 in t=4.
    new = np.array([[0, 0, 0, 4.0, 0], [0, 0, 0, 4.0, 5.0]])
    capex = np.array([1.0, 2.0, 3.0, 4.0, 5.0])  # broadcast over samples
    lead = np.array([[2, 2, 2, 2, 2], [3, 3, 3, 3, 0]])
    out = dyn.capex_schedule(new, capex, lead)
    np.testing.assert_allclose(out, [[0, 8, 8, 0, 0], [16 / 3, 16 / 3, 16 / 3, 0, 25]])


def test_capex_before_the_horizon_is_not_counted():
    # 3 units open in t=1 with lead 2 at $1: $1.5 would fall in t=-1 (dropped), $1.5 in t=0
    out = dyn.capex_schedule(np.array([0.0, 3.0, 0.0]), 1.0, np.array([2, 2, 2]))
    np.testing.assert_allclose(out, [1.5, 0.0, 0.0])


def test_build_start_with_leads_that_vary_by_period():
    # openings: t=2 (lead 2) starts at 0; t=3 (lead 1) starts at 2; t=4 (lead 2) starts at 2
    # sample 1: lead -1 in t=3 means nothing opens there (its 7 units are ignored)
    new = np.array([[0, 0, 1.0, 2.0, 4.0], [0, 0, 1.0, 7.0, 4.0]])
    lead = np.array([[2, 2, 2, 1, 2], [2, 2, 2, -1, 2]])
    np.testing.assert_allclose(dyn.build_start(new, lead), [[1, 0, 6, 0, 0], [1, 0, 4, 0, 0]])


def test_capacity_stock_with_destruction_by_hand():
    # new [2, 0, 1, 0, 0], life 3, existing 0.5, half of what stands at the start of t=1
    # is destroyed: t0 2; t1 2*0.5 = 1; t2 1 + 1 (opened in t2) = 2; t3 cohort 0 retired
    # (3 - 0 >= life) -> 1; t4 1. Plus existing 0.5 each period.
    new = np.array([2.0, 0.0, 1.0, 0.0, 0.0])
    d = np.array([0.0, 0.5, 0.0, 0.0, 0.0])
    out = dyn.capacity_stock(new, 0.5, 3, d)
    np.testing.assert_allclose(out, [2.5, 1.5, 2.5, 1.5, 1.5])


def test_destruction_does_not_hit_what_opens_in_the_same_period():
    # 1 unit opens in t=1 when 100% of what stood is destroyed: it survives; t=0's does not
    new = np.array([1.0, 1.0, 0.0])
    out = dyn.capacity_stock(new, 0.0, 10, np.array([0.0, 1.0, 0.0]))
    np.testing.assert_allclose(out, [1.0, 1.0, 1.0])


def test_destruction_compounds_on_survivors():
    # 0.5 at t=1 then 0.5 at t=2: 4 -> 2 -> 1
    out = dyn.capacity_stock(np.array([4.0, 0, 0]), 0.0, 10, np.array([0, 0.5, 0.5]))
    np.testing.assert_allclose(out, [4.0, 2.0, 1.0])


def test_stock_recursion_reproduces_the_kernel():
    """B[t] = keep[t] B[t-1] + new[t] - retire[t] new[t-life] is the direct sum, for random
    decisions, lives and destruction (the LP uses the recursion, a simulator the sum)."""
    rng = np.random.default_rng(7)
    S, P, T = 3, 4, 12
    new = rng.uniform(0, 5, (S, P, T))
    d = rng.uniform(0, 1, (S, P, T)) * (rng.uniform(size=(S, P, T)) < 0.3)
    life = np.array([1, 3, 5, 20])
    keep, retire = dyn.stock_recursion(life, T, d)
    B = np.zeros((S, P, T))
    for t in range(T):
        prev = B[..., t - 1] if t else 0.0
        old = np.stack(
            [new[:, p, t - life[p]] if t >= life[p] else np.zeros(S) for p in range(P)], axis=1
        )
        B[..., t] = keep[..., t] * prev + new[..., t] - retire[..., t] * old
    np.testing.assert_allclose(B, dyn.capacity_stock(new, 0.0, life, d), rtol=1e-12, atol=1e-12)


def test_ramp_unripe_by_hand():
    # ramp 2: the first period after opening 2/3 unripe, the second 1/3 (1 - (k+1)/3)
    new = np.array([[3.0, 0.0, 0.0, 0.0], [3.0, 0.0, 6.0, 0.0]])
    np.testing.assert_allclose(dyn.ramp_unripe(new, 2), [[2, 1, 0, 0], [2, 1, 4, 2]])
    # destruction of half at t=1 halves the unripe part of the cohort too: 1 -> 0.5
    d = np.array([0.0, 0.5, 0.0, 0.0])
    np.testing.assert_allclose(dyn.ramp_unripe(new[0], 2, 10, d), [2, 0.5, 0, 0])
    # a cohort past its life has no unripe part: life 1, ramp 2 -> only k = 0 counts
    np.testing.assert_allclose(dyn.ramp_unripe(new[0], 2, 1), [2, 0, 0, 0])


def test_usable_capacity_by_hand():
    # existing 1, 3 new in t=0, ramp 2, life 10, availability 0.5 in t=1:
    # stock 4, 4, 4; unripe 2, 1, 0 -> usable 2, 0.5*3 = 1.5, 4
    out = dyn.usable_capacity(
        np.array([3.0, 0, 0]), 1.0, 10, 2, np.array([1.0, 0.5, 1.0]), np.zeros(3)
    )
    np.testing.assert_allclose(out, [2.0, 1.5, 4.0])


def test_fleet_stock_and_spend_by_hand():
    np.testing.assert_allclose(
        dyn.fleet_stock(np.array([[1.0, 2, 4], [0, 1, 0]]), 2), [[1, 3, 6], [0, 1, 1]]
    )
    # 10 units of capacity at $3/unit/yr for a quarter: 7.5; 4 units/yr at $2 for 0.25 yr: 2
    assert dyn.fixed_om_spend(10.0, 3.0, 0.25) == pytest.approx(7.5)
    assert dyn.variable_spend(4.0, 2.0, 0.25) == pytest.approx(2.0)
    assert dyn.systems_spend(3.0, 1e3) == pytest.approx(3e3)


def test_leading_dimensions_broadcast():
    """A (sample, process, period) decision with per-process life and ramp and a
    (process, period) destruction gives, for each sample, what it gives alone."""
    rng = np.random.default_rng(3)
    S, P, T = 4, 3, 9
    new = rng.uniform(0, 1, (S, P, T))
    life, ramp = np.array([2, 4, 30]), np.array([0, 1, 3])
    d = np.zeros((P, T))
    d[1, 4] = 0.25
    lead = np.array([[0] * T, [1] * T, [2] * 4 + [3] * 5])
    capex = rng.uniform(1, 2, (P, T))
    stock = dyn.capacity_stock(new, 0.0, life, d)
    unripe = dyn.ramp_unripe(new, ramp, life, d)
    spend = dyn.capex_schedule(new, capex, lead)
    assert stock.shape == unripe.shape == spend.shape == (S, P, T)
    for s in range(S):
        for p in range(P):
            one = dyn.capacity_stock(new[s, p], 0.0, life[p], d[p])
            np.testing.assert_allclose(stock[s, p], one, rtol=1e-13)
            np.testing.assert_allclose(
                unripe[s, p], dyn.ramp_unripe(new[s, p], ramp[p], life[p], d[p]), rtol=1e-13
            )
            np.testing.assert_allclose(
                spend[s, p], dyn.capex_schedule(new[s, p], capex[p], lead[p]), rtol=1e-13
            )


# ----------------------------------------------------------------- against solved LPs


def _solve(net):
    lp = build_lp(net)
    lp.solution, _ = solve(lp.model)
    assert lp.solution.termination == "optimal"
    return lp


def _natural(lp, name: str, scale) -> np.ndarray:
    """A variable's solution in natural units; 0 where the variable does not exist."""
    v = lp.model.variables[name]
    return np.where(v.labels >= 0, np.nan_to_num(lp.solution.primal(v)), 0.0) * scale


def _spend(lp, kind: str) -> np.ndarray:
    """The LP's own spend of one kind [USD] at its solution."""
    return np.nan_to_num(lp.solution.value(lp.spend_terms[kind])) * lp.scaling.money


def assert_dynamics_reproduce(lp, rtol: float = 1e-9):
    """Capacity, installed fleet and spend by kind from dynamics.py on the LP's decisions
    equal the LP's own; also with the decisions stacked along a leading sample dimension.
    Tolerances: relative to each array's largest value."""
    ds, sc = lp.net.ds, lp.scaling
    s_p = sc.process[:, None, None]
    new = _natural(lp, "new", s_p)
    act = _natural(lp, "act", s_p)
    has_cap = lp.model.variables["cap"].labels >= 0
    cap = dyn.plan_capacity(ds, new)
    dep = None
    if "deploy" in lp.model.variables:
        dep = _natural(lp, "deploy", sc.accelerator[:, None, None])
    spend = dyn.plan_spend(ds, new, cap, act, dep)

    def close(got, want, what):
        scale = max(float(np.abs(want).max()), 1.0)
        np.testing.assert_allclose(got, want, rtol=0, atol=rtol * scale, err_msg=what)

    close(np.where(has_cap, cap, 0.0), _natural(lp, "cap", s_p), "capacity")
    for kind, lp_spend in lp.spend_terms.items():
        close(spend[kind], np.nan_to_num(lp.solution.value(lp_spend)) * sc.money, kind)
    if dep is not None:
        inst = dyn.fleet_stock(dep, ds["acc_life_periods"].values[:, None])
        inst = inst + ds["acc_installed_units"].values  # the starting fleet (installed)
        close(inst, _natural(lp, "inst", sc.accelerator[:, None, None]), "installed fleet")
    # activity within usable capacity wherever a buildable process runs
    life, ramp = ds["life_periods"].values[:, None], ds["ramp_periods"].values[:, None]
    d = ds["destroyed_fraction"].values
    usable = dyn.usable_capacity(
        new, ds["existing"].values, life, ramp, ds["availability"].values, d
    )
    assert np.all(np.where(has_cap, act - usable, 0.0) <= 1e-7 * max(usable.max(), 1.0))
    # the same with a leading sample dimension: two samples, the plan and twice the plan
    two = np.stack([new, 2 * new])
    np.testing.assert_allclose(dyn.plan_capacity(ds, two)[1], 2 * cap - ds["existing"].values)
    spend2 = dyn.plan_spend(ds, two, np.stack([cap, cap]), np.stack([act, act]))
    np.testing.assert_allclose(spend2["capex"][1], 2 * spend["capex"])
    np.testing.assert_allclose(spend2["variable"][0], spend["variable"])
    return new, cap


@pytest.fixture(scope="module")
def default_2030():
    return build_network(load_scenario(overrides=["time.end=2030"]))


def test_dynamics_reproduce_the_default_plan(default_2030):
    new, _ = assert_dynamics_reproduce(_solve(default_2030))
    assert new.sum() > 0  # the plan builds something, so the check has teeth


def test_dynamics_reproduce_the_tiny_plan(tiny):
    net = tiny(dc_lead_years=1.0, dc_capex_usd_per_mw=1e6, life_years=2.0, grid_mw=2.5)
    new, cap = assert_dynamics_reproduce(_solve(net))
    assert cap.max() > 0


def _set(net, name: str, process: str, value, region=None, period=None):
    """Write an event array by hand (the network on this branch holds neutral values)."""
    ds = net.ds
    i = net.process_names.index(process)
    r = slice(None) if region is None else net.regions.index(region)
    t = slice(None) if period is None else list(ds.indexes["period"]).index(period)
    ds[name].values[i, r, t] = value


def test_dynamics_reproduce_a_plan_under_events(default_2030):
    """Destruction, delays and an availability dip set by hand: the LP's capacity, fleet
    and spend still come out of dynamics.py, and nothing opens where open_lead is -1."""
    net = build_network(default_2030.scenario)
    _set(net, "destroyed_fraction", "datacenter", 0.4, "US", 2029)
    _set(net, "destroyed_fraction", "cowos_line", 0.5, period=2028)
    _set(net, "destroyed_fraction", "power_solar_storage", 0.3, "US", 2029)
    _set(net, "open_lead_periods", "datacenter", 3, period=2028)
    _set(net, "open_lead_periods", "datacenter", -1, period=2029)
    _set(net, "open_lead_periods", "hbm_line", 3, period=2029)
    _set(net, "availability", "datacenter", 0.7, "US", 2029)
    _set(net, "availability", "fab_N2", 0.5, "TW", 2028)
    lp = _solve(net)
    new, cap = assert_dynamics_reproduce(lp)
    i = net.process_names.index("datacenter")
    t29 = list(net.ds.indexes["period"]).index(2029)
    assert (lp.model.variables["new"].labels[i, :, t29] == -1).all()
    # destruction did remove something the plan had built
    us = net.regions.index("US")
    assert new[i, us, :t29].sum() > 0
    assert cap[i, us, t29] < cap[i, us, t29 - 1] + new[i, us, t29] - 1e-6


# ----------------------------------------------------------------- tiny LPs by hand


def _cheapest(tiny, path: dict[int, float], **kw):
    """A tiny network planned at least discounted cost (10%) for a compute path: when
    capacity is built is then decided by money, not left to degenerate ties."""
    objective = {"kind": "min_cost_for_path", "compute_path_h100e": path}
    return tiny(discount_rate=0.1, objective=objective, **kw)


def _dc(net, name: str, values):
    """Set the tiny network's data-center row of an event array over the horizon."""
    net.ds[name].values[net.process_names.index("datacenter"), 0, :] = values


def _plan(net, options: LPOptions | None = None):
    """Compute [H100e], DC capacity [MW] and DC capex [USD] of the optimal plan."""
    res = optimize(net, options=options)
    assert res.status.ok, res.message
    ds = res.dataset
    dc = {"region": "US", "process": "datacenter"}
    return (
        ds["compute_h100e"].values,
        ds["capacity"].sel(dc).values,
        ds["spend_capex_usd"].sel(dc).values,
    )


def test_delay_event_pushes_opening_and_spreads_capex_over_the_longer_lead(tiny):
    """3000 H100e by 2027 at least cost: DC lead 1 year, $1M/MW, 1000 units a year.

    Without the event the 3 MW open in 2027, paid in 2026 ($3M). A delay makes builds
    started in 2025 take 2 years: 2027's openings have a lead of 2 (paid $1.5M in 2025 and
    in 2026) and nothing opens in 2026 (open_lead -1), so no variable exists there.
    """
    base = _cheapest(tiny, {2027: 3000}, dc_lead_years=1.0, dc_capex_usd_per_mw=1e6)
    h, cap, capex = _plan(base)
    np.testing.assert_allclose(cap, [0, 0, 3], atol=1e-9)
    np.testing.assert_allclose(capex, [0, 3e6, 0], rtol=1e-6, atol=1e-3)
    delayed = _cheapest(tiny, {2027: 3000}, dc_lead_years=1.0, dc_capex_usd_per_mw=1e6)
    _dc(delayed, "open_lead_periods", [1, -1, 2])
    h, cap, capex = _plan(delayed)
    np.testing.assert_allclose(h[-1], 3000, rtol=1e-9)
    np.testing.assert_allclose(cap, [0, 0, 3], atol=1e-9)
    np.testing.assert_allclose(capex, [1.5e6, 1.5e6, 0], rtol=1e-6, atol=1e-3)
    var = build_lp(delayed).model.variables["new"]
    new = var.labels[list(var.coords["process"]).index("datacenter")]
    assert (new[0] < 0).tolist() == [True, True, False]  # 2025: t < lead; 2026: -1


@pytest.mark.parametrize(
    ("open_lead", "cap_mw", "h100e"),
    [
        # none open in 2026; 2027's openings started in 2025: 2025's 2 permits, 2 MW
        ([1, -1, 2], [0, 0, 2], [0, 0, 2000]),
        # 2026's (lead 1) and 2027's (lead 2) openings both start in 2025 and share its 2
        # permits: 2 MW, opened as early as possible
        ([1, 1, 2], [0, 2, 2], [0, 2000, 2000]),
    ],
)
def test_delay_moves_build_inputs_to_the_earlier_start(tiny, open_lead, cap_mw, h100e):
    """Each MW of DC needs a permit when construction starts; 2 permits a year, not
    storable. With lead 1 everywhere the DC would open 2 MW in 2026 and 2 more in 2027.
    With delays, permits are consumed at t - open_lead[t]."""
    from fab2flop.scenario import CarrierSpec, ProcessSpec

    permit = CarrierSpec(name="permit", unit="permits", scale=1.0, storable=False)
    supply = ProcessSpec(
        name="permits",
        regions=["US"],
        activity_unit="permits/year",
        outputs={"permit": 1.0},
        existing=2.0,
        buildable=False,
    )
    net = tiny(dc_lead_years=1.0, extra_processes=[supply], extra_carriers=[permit])
    i = net.process_names.index("datacenter")
    net.ds["build_io"].values[i, list(net.ds.indexes["carrier"]).index("permit")] = 1.0
    _dc(net, "open_lead_periods", open_lead)
    h, cap, _ = _plan(net)
    np.testing.assert_allclose(cap, cap_mw, atol=1e-6)
    np.testing.assert_allclose(h, h100e, atol=1e-6)


@pytest.mark.parametrize("options", [{}, {"formulation": "dense"}, {"scaled": False}])
def test_destruction_event_and_the_rebuild(tiny, options):
    """1000, 2000, 3000 H100e at least cost; DC lead 0, $1M/MW. Half of the DC standing at
    the start of 2026 is destroyed: of 1 MW built in 2025, 0.5 MW is left, so 2026 opens
    1.5 MW (not 1) to run 2000 units; 2027 opens 1 MW. Capex 1.0, 1.5, 1.0 $M; capacity
    1, 2, 3 MW."""
    path = {2025: 1000, 2026: 2000, 2027: 3000}
    net = _cheapest(tiny, path, dc_capex_usd_per_mw=1e6)
    _dc(net, "destroyed_fraction", [0, 0.5, 0])
    h, cap, capex = _plan(net, LPOptions(**options))
    np.testing.assert_allclose(h, [1000, 2000, 3000], rtol=1e-9)
    np.testing.assert_allclose(cap, [1, 2, 3], rtol=1e-9)
    np.testing.assert_allclose(capex, [1e6, 1.5e6, 1e6], rtol=1e-6)


def test_destruction_when_rebuilding_is_capped(tiny):
    """Most compute, at most 1 MW of DC opening a year, half destroyed at the start of
    2026: 1 MW in 2025; 2026 keeps 0.5 and adds 1 (1.5 MW: 1500 of the 2000 units run);
    2027 adds 1 (2.5 MW: 2500 of 3000)."""
    net = tiny(dc_capex_usd_per_mw=1e6)
    net.ds["max_new_per_year"].values[net.process_names.index("datacenter")] = 1.0
    _dc(net, "destroyed_fraction", [0, 0.5, 0])
    h, cap, capex = _plan(net)
    np.testing.assert_allclose(cap, [1, 1.5, 2.5], rtol=1e-9)
    np.testing.assert_allclose(h, [1000, 1500, 2500], rtol=1e-9)
    np.testing.assert_allclose(capex, [1e6, 1e6, 1e6], rtol=1e-6)


def test_time_varying_availability(tiny):
    """Availability by period, on a buildable and on a fixed process.

    1000, 2000, 3000 H100e at least cost with the DC at half availability in 2026 (lead 0,
    $1M/MW): running 2000 units needs 4 MW of capacity then, built that year; 4 MW also
    cover 2027's 3000. Capacity 1, 4, 4; capex 1, 3, 0 $M.
    Most compute with merchant supply at half availability in 2026: 500 units instead of
    1000, so compute is 1000, 1500, 2500.
    """
    net = _cheapest(tiny, {2025: 1000, 2026: 2000, 2027: 3000}, dc_capex_usd_per_mw=1e6)
    _dc(net, "availability", [1.0, 0.5, 1.0])
    h, cap, capex = _plan(net)
    np.testing.assert_allclose(h, [1000, 2000, 3000], rtol=1e-9)
    np.testing.assert_allclose(cap, [1, 4, 4], rtol=1e-9)
    np.testing.assert_allclose(capex, [1e6, 3e6, 0], rtol=1e-6, atol=1e-3)
    market = tiny()
    market.ds["availability"].values[market.process_names.index("x_supply"), 0, 1] = 0.5
    h, _, _ = _plan(market)
    np.testing.assert_allclose(h, [1000, 1500, 2500], rtol=1e-9)
