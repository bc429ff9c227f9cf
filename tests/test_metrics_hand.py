"""Derived metrics on tiny networks worked out on paper: residual value at the horizon,
carrier unit costs through a deep chain, the largest training run and energy.

Accelerator X = 1 H100e (989 TFLOP/s dense BF16), 1 kW of IT.
"""

from __future__ import annotations

import numpy as np
import pytest

from fab2flop import optimize
from fab2flop.constants import Category, Status
from fab2flop.network import assemble_network
from fab2flop.scenario import CarrierSpec, ProcessSpec
from fab2flop.supplychain import SupplyChain

from .handnets import (
    EMPTY,
    MERCHANT_CARRIERS,
    fleet_catalog,
    fleet_x,
    merchant_x,
    power_and_sites,
    rate,
    scenario,
)

FLAT_20M = {"total_usd": 60e6}  # $20M a year over 2025-2027, carried over


def _residual_network():
    """X at $10k plus a $1k allocation fee, $300 of systems per unit deployed, at most
    1,000 a year; data centers at $1M/MW that live 4 years, at most 1 MW opening a year
    (the cost tie-break is too small to fix their timing on its own)."""
    procs = merchant_x(units_per_year=1000.0)
    procs[0] = procs[0].model_copy(update={"var_cost_usd_per_unit": 1_000.0})
    procs += power_and_sites(
        grid_mw={"US": 100.0},
        dc_capex_usd_per_mw=1e6,
        dc_life_years=4.0,
        dc_max_new_mw_per_year=1.0,
    )
    sc = scenario(budget=FLAT_20M)
    chain = SupplyChain(dict(MERCHANT_CARRIERS), procs, fleet_x(deploy_cost_usd=300.0), [])
    return assemble_network(sc, EMPTY, chain)


def test_residual_value_and_cost_per_h100e_hour():
    """Each year: 1,000 units (1,000 x $11k = $11M), their systems ($0.3M) and 1 MW of data
    center opening that year ($1M): $12.3M a year, $36.9M in all. Installed 1k, 2k, 3k.

    Residual at the end of the horizon (start of 2028), straight line:
    - data centers (life 4): $1M x (1 - 3/4) + $1M x (1 - 2/4) + $1M x (1 - 1/4) = $1.5M;
    - accelerators (life 10) at the cash paid through the chain ($10k + $1k) plus systems
      ($300): 1,000 x $11,300 x (0.7 + 0.8 + 0.9) = $27.12M;
    total $28.62M.
    Cost per H100e-hour: ($36.9M - $28.62M) / ((1k + 2k + 3k) x 8,760 h) = $8.28M / 52.56M h
    = $0.157534.
    """
    res = optimize(_residual_network())
    assert res.status is Status.OPTIMAL
    s = res.summary()
    np.testing.assert_allclose(s["compute_h100e"], [1000, 2000, 3000], rtol=1e-6)
    np.testing.assert_allclose(s["spend_by_period_usd"], [12.3e6] * 3, rtol=1e-6)
    np.testing.assert_allclose(
        res.dataset["new_capacity"].sel(process="datacenter", region="US").values,
        [1, 1, 1],
        rtol=1e-6,
    )
    assert s["residual_value_usd"] == pytest.approx(28.62e6, rel=1e-6)
    assert s["cost_per_h100e_hour_usd"] == pytest.approx(8.28e6 / 52.56e6, rel=1e-6)


def test_unit_cost_of_a_bought_part_includes_its_allocation():
    """X costs $10k + the $1k fee paid for each unit of allocation: $11k in every year."""
    res = optimize(_residual_network())
    cost = res.carrier_unit_costs()
    np.testing.assert_allclose(cost.sel(carrier="acc_X").values, [11_000] * 3, rtol=1e-9)
    np.testing.assert_allclose(cost.sel(carrier="alloc_x").values, [1_000] * 3, rtol=1e-9)


# a chain seven processes deep: c0 is mined, each stage makes c_k from two units of
# c_(k-1) for $100, and the last stage makes the accelerator from two units of c5
STAGES = ["c0", "c1", "c2", "c3", "c4", "c5", "acc_X"]


def _deep_chain_network():
    carriers = {c: CarrierSpec(name=c, unit="units", scale=1.0) for c in STAGES}
    carriers["acc_X"] = CarrierSpec(name="acc_X", unit="units", scale=1e3)
    carriers |= {"mw_it": rate("mw_it"), "mw_power": rate("mw_power")}
    procs = [
        ProcessSpec(
            name="mine_c0",
            regions=["US"],
            activity_unit="units/year",
            outputs={"c0": 1.0},
            existing=64_000.0,  # 2^6 = 64 c0 per accelerator: 1,000 accelerators a year
            var_cost_usd_per_unit=100.0,
            buildable=False,
        )
    ]
    for prev, cur in zip(STAGES[:-1], STAGES[1:], strict=True):
        procs.append(
            ProcessSpec(
                name=f"make_{cur}",
                category=Category.ACCELERATORS,
                regions=["US"],
                activity_unit="units/year",
                outputs={cur: 1.0},
                inputs={prev: 2.0},
                var_cost_usd_per_unit=100.0,
                buildable=False,
                unlimited=True,
            )
        )
    procs += power_and_sites(grid_mw={"US": 100.0})
    sc = scenario(budget=FLAT_20M)
    return assemble_network(sc, EMPTY, SupplyChain(carriers, procs, fleet_x(), []))


def test_unit_costs_through_a_chain_seven_deep():
    """Cost of c_k = $100 + 2 x cost of c_(k-1):
    c0 100, c1 300, c2 700, c3 1,500, c4 3,100, c5 6,300, accelerator 12,700.
    At most 64,000 c0 a year: 1,000 accelerators a year ($12.7M < $20M), installed 1k, 2k,
    3k. Residual (life 10, no systems, free data centers): 1,000 x $12,700 x (0.7 + 0.8 +
    0.9) = $30.48M."""
    res = optimize(_deep_chain_network())
    assert res.status is Status.OPTIMAL
    np.testing.assert_allclose(res.dataset["compute_h100e"].values, [1000, 2000, 3000], 1e-6)
    cost = res.carrier_unit_costs()
    expected = [100, 300, 700, 1_500, 3_100, 6_300, 12_700]
    for c, usd in zip(STAGES, expected, strict=True):
        np.testing.assert_allclose(cost.sel(carrier=c).values, [usd] * 3, rtol=1e-9, err_msg=c)
    assert res.summary()["residual_value_usd"] == pytest.approx(30.48e6, rel=1e-6)


def _two_regions(step: str, years=(2025, 2025)):
    """1,000 units a year (ample money); grid 0.72 MW in US and 0.48 MW in AE; PUE 1.2, so
    0.6 MW and 0.4 MW of IT: 600 units run in US and 400 in AE. Fleet figures: utilisation
    0.8, MFU 0.35, 90-day runs, a cluster may use half a region's fleet."""
    cat = fleet_catalog(utilization=0.8, mfu=0.35, days=90.0, share=0.5)
    procs = merchant_x(units_per_year=1000.0)
    procs += power_and_sites(grid_mw={"US": 0.72, "AE": 0.48}, pue=1.2)
    sc = scenario(budget={"total_usd": 1e9}, regions={"US": {}, "AE": {}}, step=step, years=years)
    chain = SupplyChain(dict(MERCHANT_CARRIERS), procs, fleet_x(), [])
    return assemble_network(sc, cat, chain)


def test_largest_training_run_and_energy_yearly():
    """Largest run: the bigger region (US, 600 units x 989e12 = 5.934e17 FLOP/s) x share
    0.5 x MFU 0.35 x 90 days x 86,400 s = 5.934e17 x 0.5 x 0.35 x 7.776e6 = 8.0750e23 FLOP.
    Energy: (600 + 400) x 1 kW x PUE 1.2 = 1.2 MW x 0.8 x 8,760 h x 1 year = 8,409.6 MWh
    = 0.0084096 TWh."""
    res = optimize(_two_regions("year"))
    assert res.status is Status.OPTIMAL
    s = res.summary()
    inst = res.dataset["installed"].sel(accelerator="X").values[:, 0]
    np.testing.assert_allclose(inst, [600, 400], rtol=1e-6)  # regions in order US, AE
    assert s["largest_training_run_flop"][0] == pytest.approx(
        600 * 989e12 * 0.5 * 0.35 * 90 * 86_400, rel=1e-6
    )
    assert s["largest_training_run_flop"][0] == pytest.approx(8.0750e23, rel=1e-4)
    assert s["energy_twh"][0] == pytest.approx(0.0084096, rel=1e-6)
    assert s["facility_power_gw"][0] == pytest.approx(1.2e-3, rel=1e-6)


def test_energy_per_quarter_is_a_quarter_of_a_year():
    """In quarters, 250 units arrive each quarter of 2025 (1,000 a year): 250, 500, 750,
    1,000 installed, drawing 0.3, 0.6, 0.9, 1.2 MW of facility power. A quarter's energy is
    MW x 0.8 x 8,760 h x 0.25: 0.3 MW -> 525.6 MWh = 0.0005256 TWh, and so on."""
    res = optimize(_two_regions("quarter"))
    assert res.status is Status.OPTIMAL
    s = res.summary()
    np.testing.assert_allclose(s["compute_h100e"], [250, 500, 750, 1000], rtol=1e-6)
    np.testing.assert_allclose(
        s["energy_twh"], [0.0005256, 0.0010512, 0.0015768, 0.0021024], rtol=1e-6
    )
