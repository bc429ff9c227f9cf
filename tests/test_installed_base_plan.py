"""The plan's starting position (scenario ``installed``) and ``market.mode: residual``.

Expected values are worked out by hand from the default scenario and the catalog records
named in the comments.
"""

from __future__ import annotations

import numpy as np
import pytest

from fab2flop import load_scenario
from fab2flop.catalog import load_catalog
from fab2flop.errors import ScenarioError
from fab2flop.network import build_network
from fab2flop.supplychain.base import BuildContext
from fab2flop.supplychain.fleet import build_fleet
from fab2flop.supplychain.installed import residual_series


@pytest.fixture(scope="module")
def net():
    return build_network(load_scenario())


def test_starting_fleet_stands_for_its_life(net):
    # default: H100 in US, 118,000 installed 2023 + 235,000 installed 2024; life 5 years:
    # 2025-2027 both (353,000), 2028 only the 2024 cohort (235,000), 2029 none.
    e = net.ds["acc_installed_units"].sel(accelerator="H100", region="US")
    years = list(net.ds.indexes["period"])
    assert e.values[: years.index(2028)].tolist() == [353_000.0] * 3
    assert float(e.values[years.index(2028)]) == 235_000.0
    assert float(e.values[years.index(2029)]) == 0.0
    others = net.ds["acc_installed_units"].drop_sel(accelerator="H100")
    assert float(others.sum()) == 0.0


def test_starting_datacenter_mw_and_contracted_power(net):
    ds = net.ds
    dc = ds["existing"].sel(process="contracted_datacenter", region="US")
    assert np.allclose(dc.values, 500.0)  # installed.datacenter_mw.US
    cp = ds["existing"].sel(process="contracted_power", region="US")
    assert np.allclose(cp.values, 600.0)  # installed.contracted_power_mw.US
    # paid before the start: no cost in the plan
    for p in ("contracted_datacenter", "contracted_power"):
        assert float(ds["var_cost_usd_per_unit"].sel(process=p).max()) == 0.0
        assert float(ds["capex_usd_per_unit"].sel(process=p).max()) == 0.0
    # 500 MW of IT at PUE 1.2 draw exactly the 600 MW contracted
    pue = load_catalog().number("datacenters.ai_campus.pue")
    assert 500.0 * pue == pytest.approx(600.0)


def test_the_plan_keeps_its_starting_fleet():
    from fab2flop.optimizer import optimize

    sc = load_scenario(None, ["time.end=2027"])
    res = optimize(build_network(sc))
    inst = res.dataset["installed_units"].sel(accelerator="H100")
    # the starting 353,000 H100 are installed whatever the plan deploys on top
    assert (inst.values >= 353_000 - 1).all()


def _bad(path: str, value) -> pytest.ExceptionInfo:
    sc = load_scenario(None, [f"{path}={value}"])
    with pytest.raises(ScenarioError) as exc:
        build_network(sc)
    return exc


def test_future_dated_starting_fleet_names_the_field():
    exc = _bad("installed.fleet.0.year", 2025)  # the default starts in 2025
    assert exc.value.problems[0][0] == "installed.fleet.0.year"
    assert "not before the start" in str(exc.value)


def test_negative_starting_units_name_the_field():
    with pytest.raises(ScenarioError) as exc:
        load_scenario(None, ["installed.fleet.1.units=-10"])
    assert exc.value.problems[0][0] == "installed.fleet.1.units"


def test_unknown_accelerator_or_region_names_the_field():
    exc = _bad("installed.fleet.0.accelerator", "Z9000")
    assert exc.value.problems[0][0] == "installed.fleet.0.accelerator"
    exc = _bad("installed.fleet.0.region", "TW")  # TW has no data centers in the default
    assert exc.value.problems[0][0] == "installed.fleet.0.region"
    exc = _bad("installed.datacenter_mw", "{JP: 100}")
    assert exc.value.problems[0][0] == "installed.datacenter_mw.JP"


def test_residual_market_is_world_supply_less_other_buyers():
    sc = load_scenario(None, ["market.mode=residual"])
    ds = build_network(sc).ds
    ex = ds["existing"]

    def at(proc: str, year: int) -> float:
        e = ex.sel(process=proc, period=year)
        return float(e.max())  # made in its supplier region only

    # supply.packaging.cowos.world_wpm 2026 = 110,000; others 104,500: 5,500 x 12 = 66,000
    assert at("cowos_market", 2026) == pytest.approx(66_000)
    # supply.memory.hbm.world_wpm 2026 = 450,000 = others: nothing left
    assert at("hbm_market", 2026) == pytest.approx(0.0)
    # supply.wafers.N3.world_wpm 2026 = 145,000; others 138,000: 7,000 x 12 = 84,000
    assert at("foundry_N3", 2026) == pytest.approx(84_000)
    # supply.merchant.AMD 2026 = 600,000 units; others 540,000: 60,000
    assert at("amd_supply", 2026) == pytest.approx(60_000)
    # NVIDIA 2026: 6.5M made, 6.5M taken by others: 0
    assert at("nvidia_supply", 2026) == pytest.approx(0.0)


def test_fixed_share_market_is_unchanged_by_the_mode_switch():
    # default (fixed_share): cowos_market 2026 = 110,000 x 12 x 0.13 = 171,600
    ds = build_network(load_scenario()).ds
    e = ds["existing"].sel(process="cowos_market", period=2026)
    assert float(e.max()) == pytest.approx(171_600)


def test_residual_needs_the_others_record():
    sc = load_scenario(None, ["market.mode=residual"])
    cat = load_catalog()
    ctx = BuildContext(sc, cat, build_fleet(sc, cat))
    with pytest.raises(ScenarioError) as exc:
        residual_series(ctx, "supply.wafers.N5.world_wpm", "world_demand.others.wafers.N5", 12.0)
    assert exc.value.problems[0][0] == "market.mode"
