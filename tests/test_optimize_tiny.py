"""Tiny networks whose optimum is worked out by hand (see each docstring)."""

from __future__ import annotations

import numpy as np
import pytest

from fab2flop.constants import Status
from fab2flop.optimizer import optimize
from fab2flop.scenario import CarrierSpec, ProcessSpec

from .conftest import tiny_network


def test_market_cap_binds_and_money_is_left_over():
    """$15M/yr, X costs $10k, at most 1000/yr: buy 1000 each year (spend $10M/yr).

    Installed 1000, 2000, 3000 H100e; $15M of cash is left at the end. One more unit a
    year of market supply in 2025 is worth 3 H100e-years (it runs 2025-2027, no discount).
    """
    res = optimize(tiny_network())
    assert res.status is Status.OPTIMAL
    np.testing.assert_allclose(res.dataset["compute_h100e"].values, [1000, 2000, 3000], rtol=1e-6)
    np.testing.assert_allclose(
        res.dataset["spend_usd"].sum("category").values, [10e6] * 3, rtol=1e-6
    )
    np.testing.assert_allclose(res.dataset["cash_usd"].values[-1], 15e6, rtol=1e-6)
    caps = {b.period: b for b in res.bottlenecks if b.constraint == "market-cap"}
    assert set(caps) == {2025, 2026, 2027}
    # shadow prices in M H100e-years per unit/year: 3, 2, 1 H100e-years
    np.testing.assert_allclose(
        [caps[y].shadow_price * 1e6 for y in (2025, 2026, 2027)], [3, 2, 1], rtol=1e-4
    )
    # money is not scarce, so no dollar value can be put on the cap
    assert all(b.value_usd is None for b in caps.values())


def test_money_binds():
    """$5M/yr buys 500 units a year: installed 500, 1000, 1500 (3,000 H100e-years).

    One more dollar in 2025 buys 1e-4 units that run three years: 3e-4 H100e-years per $,
    so one more unit of market supply in 2025 (not binding) is worth nothing and money binds.
    """
    res = optimize(tiny_network(budget_per_year=5e6))
    assert res.status is Status.OPTIMAL
    np.testing.assert_allclose(res.dataset["compute_h100e"].values, [500, 1000, 1500], rtol=1e-6)
    cash = [b for b in res.bottlenecks if b.constraint == "cash"]
    assert {b.period for b in cash} == {2025, 2026, 2027}
    per_usd = {b.period: b.shadow_price * 1e6 for b in cash}  # H100e-years per USD
    np.testing.assert_allclose(
        [per_usd[2025], per_usd[2026], per_usd[2027]], [3e-4, 2e-4, 1e-4], rtol=1e-3
    )
    assert not [b for b in res.bottlenecks if b.constraint == "market-cap"]


def test_power_binds():
    """Grid of 1.5 MW and 1 kW per unit: at most 1500 units ever run.

    Buy 1000 in 2025 and 500 in 2026; compute 1000, 1500, 1500.
    """
    res = optimize(tiny_network(grid_mw=1.5))
    np.testing.assert_allclose(res.dataset["compute_h100e"].values, [1000, 1500, 1500], rtol=1e-6)
    grid = [b for b in res.bottlenecks if b.constraint == "market-cap" and b.item == "grid"]
    assert grid, "the grid limit must show as binding"


def test_lead_time_delays_capacity_and_inventory_carries_chips():
    """A data center with a 1-year lead cannot run anything in 2025.

    Units bought in 2025 wait in inventory and are installed in 2026: compute 0, 2000, 3000.
    No capacity exists before its lead time.
    """
    res = optimize(tiny_network(dc_lead_years=1.0))
    ds = res.dataset
    np.testing.assert_allclose(ds["compute_h100e"].values, [0, 2000, 3000], atol=1e-6)
    assert float(ds["capacity"].sel(process="datacenter", region="US", period=2025)) == 0.0
    assert float(ds["inventory"].sel(carrier="acc_X", period=2025)) == pytest.approx(1000, rel=1e-6)


def test_capex_is_spread_over_construction():
    """DC capex $1M/MW, lead 2 years: 3 MW opening in 2027 costs $1.5M in 2025 and in 2026.

    Budget is ample; the fleet can only run from 2027 (units bought earlier are stored):
    3000 units in 2027 need 3 MW.
    """
    res = optimize(tiny_network(dc_lead_years=2.0, dc_capex_usd_per_mw=1e6, budget_per_year=20e6))
    ds = res.dataset
    np.testing.assert_allclose(ds["compute_h100e"].values, [0, 0, 3000], atol=1e-6)
    capex = ds["spend_capex_usd"].sel(process="datacenter", region="US").values
    np.testing.assert_allclose(capex, [1.5e6, 1.5e6, 0.0], rtol=1e-6, atol=1.0)


def test_accelerators_retire_after_their_life():
    """Life 2 years: units bought in 2025 leave at the start of 2027; 2027 has 2026+2027's."""
    res = optimize(tiny_network(life_years=2.0))
    np.testing.assert_allclose(res.dataset["compute_h100e"].values, [1000, 2000, 2000], rtol=1e-6)


def test_user_process_as_build_input():
    """A user-added carrier consumed when capacity is built limits the build.

    Each MW of data center needs one 'permit' at construction start; 2 permits a year exist
    and the DC has a 1-year lead. So DC capacity opens at 2 MW in 2026 and 4 MW in 2027:
    at most 2000 then 4000 units run. Units: 1000/yr bought -> 0, 2000, 3000.
    """
    permit = CarrierSpec(name="permit", unit="permits", scale=1.0, storable=False)
    supply = ProcessSpec(
        name="permits",
        regions=["US"],
        activity_unit="permits/year",
        outputs={"permit": 1.0},
        existing=2.0,
        buildable=False,
    )
    net = tiny_network(dc_lead_years=1.0, extra_processes=[supply], extra_carriers=[permit])
    # datacenter needs a permit per MW at construction start
    i = net.process_names.index("datacenter")
    ci = list(net.ds.indexes["carrier"]).index("permit")
    net.ds["build_io"].values[i, ci] = 1.0
    res = optimize(net)
    ds = res.dataset
    np.testing.assert_allclose(
        ds["capacity"].sel(process="datacenter", region="US").values, [0, 2, 4], atol=1e-6
    )
    np.testing.assert_allclose(ds["compute_h100e"].values, [0, 2000, 3000], atol=1e-6)


def test_max_compute_in_year_objective():
    """With 1.5 MW and life 1, only the target year matters: 1000 units bought in 2025 wait
    in inventory, 1000 more are bought in 2026, and power lets 1500 of them run in 2026."""
    net = tiny_network(
        grid_mw=1.5, life_years=1.0, objective={"kind": "max_compute_in_year", "target_year": 2026}
    )
    res = optimize(net)
    assert float(res.dataset["compute_h100e"].sel(period=2026)) == pytest.approx(1500, rel=1e-6)


def test_min_cost_for_path():
    """Reach 1000 H100e in 2027 at least cost: buy 1000 units for $10M (once)."""
    net = tiny_network(objective={"kind": "min_cost_for_path", "compute_path_h100e": {2027: 1000}})
    res = optimize(net)
    assert res.status is Status.OPTIMAL
    assert res.total_spend() == pytest.approx(10e6, rel=1e-6)
    path = [b for b in res.bottlenecks if b.constraint == "compute-path"]
    assert path and path[0].shadow_price == pytest.approx(10_000, rel=1e-4)  # $ per H100e


def test_infeasible_path_is_a_status_with_an_explanation():
    net = tiny_network(objective={"kind": "min_cost_for_path", "compute_path_h100e": {2025: 1e9}})
    res = optimize(net)
    assert res.status in (Status.INFEASIBLE, Status.INFEASIBLE_OR_UNBOUNDED)
    assert "compute_path_h100e" in res.message


@pytest.mark.parametrize(
    "options",
    [{"formulation": "dense"}, {"scaled": False}, {"formulation": "dense", "scaled": False}],
)
def test_formulations_agree(options):
    """The dense capacity form and unscaled units are slower, not different (same optimum)."""
    from fab2flop.lp.model import LPOptions

    net = tiny_network(dc_lead_years=1.0, dc_capex_usd_per_mw=1e6, life_years=2.0, grid_mw=2.5)
    ref = optimize(net)
    alt = optimize(net, options=LPOptions(**options))
    np.testing.assert_allclose(
        alt.dataset["compute_h100e"].values,
        ref.dataset["compute_h100e"].values,
        rtol=1e-6,
        atol=1e-6,
    )
    assert alt.total_spend() == pytest.approx(ref.total_spend(), rel=1e-6)


def test_export_cap_holds_whatever_the_carrier_scales():
    """Two accelerators with different model scales share one approval cap of 400 a year.

    The cap counts natural units; the LP must not be fooled by the conditioning scales."""
    from fab2flop.constants import H100_FLOPS_BF16_DENSE
    from fab2flop.network import assemble_network
    from fab2flop.supplychain import FleetItem, SupplyChain

    base = tiny_network(market_units_per_year=5000, budget_per_year=1e9, grid_mw=100)
    sc = base.scenario.model_copy(deep=True)
    sc.regions["US"].accelerator_cap_units_per_year = 400.0
    carriers = dict(base.carriers)
    carriers["acc_Y"] = CarrierSpec(name="acc_Y", unit="units", scale=1e3)
    procs = [*base.processes]
    procs.append(
        ProcessSpec(
            name="buy_Y",
            regions=["US"],
            activity_unit="units/year",
            outputs={"acc_Y": 1.0},
            inputs={"alloc_x": 1.0},
            var_cost_usd_per_unit=10_000.0,
            buildable=False,
            unlimited=True,
        )
    )
    fleet = dict(base.fleet)
    fleet["Y"] = FleetItem(
        name="Y",
        kind="merchant",
        vendor="test",
        carrier="acc_Y",
        flops_bf16_dense=2 * H100_FLOPS_BF16_DENSE,
        kw_it_per_unit=1.0,
        life_years=10,
        unit_cost_usd=10_000.0,
        deploy_cost_usd=0.0,
        available_from=2025,
        available_until=None,
    )
    net = assemble_network(sc, base.catalog, SupplyChain(carriers, procs, fleet, []))
    res = optimize(net)
    dep = res.dataset["deployed"].sum("accelerator").values[0]
    np.testing.assert_allclose(dep, [400, 400, 400], rtol=1e-6)
    # the better part (Y, 2 H100e each) takes the whole approval
    np.testing.assert_allclose(res.dataset["compute_h100e"].values, [800, 1600, 2400], rtol=1e-6)


def test_quarterly_targets_mean_the_end_of_the_year_and_the_year_average():
    """1000 units/yr = 250 a quarter. A path of 500 H100e in 2025 is met by 2025Q4.

    Maximising 2026 compute (life 1 year = 4 quarters, 1.5 MW): the year's average counts.
    By 2026Q1 only five quarters of supply exist (1,250 units, all deployable then from
    inventory); from 2026Q2 the 1.5 MW limit binds at 1,500."""
    path = optimize(
        tiny_network(
            step="quarter",
            objective={"kind": "min_cost_for_path", "compute_path_h100e": {2025: 500}},
        )
    )
    assert path.status is Status.OPTIMAL
    assert float(path.dataset["compute_h100e"].sel(period="2025Q4")) >= 500 * (1 - 1e-6)
    tgt = optimize(
        tiny_network(
            step="quarter",
            grid_mw=1.5,
            life_years=1.0,
            objective={"kind": "max_compute_in_year", "target_year": 2026},
        )
    )
    h = tgt.dataset["compute_h100e"].sel(period=["2026Q1", "2026Q2", "2026Q3", "2026Q4"])
    np.testing.assert_allclose(h.values, [1250, 1500, 1500, 1500], rtol=1e-6)
