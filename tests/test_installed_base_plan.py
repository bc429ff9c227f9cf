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


def test_the_starting_fleet_is_housed_when_the_stated_mw_is_short():
    # 353,000 H100 stand in 2025; at the catalog's kW per unit (the network's fleet_draw,
    # MW of IT per unit) they draw 353,000 x draw MW. Stated 100 MW is short of that, so the
    # MW held at the start is raised to the draw, with a note; 500 MW (the default) is not.
    sc = load_scenario(None, ["installed.datacenter_mw={US: 100}", "time.end=2027"])
    short = build_network(sc)
    draw = float(short.ds["fleet_draw"].sel(accelerator="H100", carrier="mw_it"))
    assert 1e-3 < draw < 2e-3  # 1-2 kW of IT per H100 system share
    held = short.ds["existing"].sel(process="contracted_datacenter", region="US")
    assert np.allclose(held.values, 353_000 * draw) and 353_000 * draw > 100.0
    assert any("installed.datacenter_mw.US: 100 MW" in n for n in short.notes)
    default = build_network(load_scenario(None, ["time.end=2027"]))
    assert not any("installed.datacenter_mw" in n for n in default.notes)
    # and the plan with the short statement solves, keeping its fleet
    from fab2flop.optimizer import optimize

    res = optimize(short)
    assert res.status.ok, res.message
    assert (res.dataset["installed_units"].sel(accelerator="H100").values >= 353_000 - 1).all()


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

    # no orders of the plan use CoWoS in 2025 (its own chips start in 2026):
    # supply.packaging.cowos.world_wpm 2025 = 75,000 = others (sold out): nothing left
    assert at("cowos_market", 2025) == pytest.approx(0.0)
    # after the plan's last AMD order (2030): supply.merchant.AMD 1.0M (flat after 2027),
    # others 0.9M (flat after 2027): 100,000 a year
    assert at("amd_supply", 2031) == pytest.approx(100_000)
    # Nvidia after the last order (2029): 7.0M made, 7.0M taken by others: 0
    assert at("nvidia_supply", 2030) == pytest.approx(0.0)


def test_residual_takes_the_plans_orders_out_of_the_others_books():
    # installed_base.orders.OpenAI (units/year), world S and others O in units/year:
    # plan = max(S - max(O - P, 0), min(P, S))
    ex = build_network(load_scenario(None, ["market.mode=residual"])).ds["existing"]

    def at(proc: str, year: int) -> float:
        return float(ex.sel(process=proc, period=year).max())

    # NVIDIA 2026: S 6.5M, O 6.5M (sold out), P 300k Abilene + 450k first GW = 750k:
    # 6.5M - 5.75M = 750k
    assert at("nvidia_supply", 2026) == pytest.approx(750_000)
    # NVIDIA 2025: S 4.458M = O, P 100k (Abilene phase 1): 100k
    assert at("nvidia_supply", 2025) == pytest.approx(100_000)
    # AMD 2026: S 600k, O 540k, P 150k: 600k - 390k = 210k (the 60k unbooked and the order)
    assert at("amd_supply", 2026) == pytest.approx(210_000)
    # AMD 2027: S 1.0M, O 900k, P 450k: 1.0M - 450k = 550k
    assert at("amd_supply", 2027) == pytest.approx(550_000)


def _ctx(overrides: dict) -> BuildContext:
    sc = load_scenario(None, ["market.mode=residual"])
    cat = load_catalog().with_overrides(overrides)
    return BuildContext(sc, cat, build_fleet(sc, cat))


def test_residual_series_by_hand():
    # a tiny market: world 100 wafers/month in 2026 (flat), others' books 90 wafers/month
    ctx = _ctx(
        {
            "supply.packaging.cowos.world_wpm": {2026: 100},
            "world_demand.others.packaging.cowos": {2026: 90},
        }
    )
    sup, oth = "supply.packaging.cowos.world_wpm", "world_demand.others.packaging.cowos"
    # no orders: 12 x (100 - 90) = 120 wafers a year
    assert residual_series(ctx, sup, oth, 12.0)[2026] == pytest.approx(120.0)
    # the plan ordered 60 a year in 2026 (in the books): others 1,080 - 60 = 1,020,
    # the plan 1,200 - 1,020 = 180 (its 60 and the unbooked 120)
    got = residual_series(ctx, sup, oth, 12.0, {2026: 60.0})
    assert got[2026] == pytest.approx(180.0)
    # the order is for 2026 only: 2027 is back to 120 (an order is not held flat)
    assert got[2027] == pytest.approx(120.0)
    # an order larger than the world's output: the plan gets the output, 1,200
    assert residual_series(ctx, sup, oth, 12.0, {2026: 2000.0})[2026] == pytest.approx(1200.0)


def test_residual_floors_the_plan_at_its_orders_when_books_exceed_supply():
    # others' books 125 wafers/month > world 100: 1,500 - 60 = 1,440 > 1,200, the plan
    # would get nothing; it gets its 60 (the contract is served first)
    ctx = _ctx(
        {
            "supply.packaging.cowos.world_wpm": {2026: 100},
            "world_demand.others.packaging.cowos": {2026: 125},
        }
    )
    sup, oth = "supply.packaging.cowos.world_wpm", "world_demand.others.packaging.cowos"
    assert residual_series(ctx, sup, oth, 12.0)[2026] == pytest.approx(0.0)
    assert residual_series(ctx, sup, oth, 12.0, {2026: 60.0})[2026] == pytest.approx(60.0)


def test_own_design_orders_claim_wafers_cowos_and_hbm():
    from fab2flop.supplychain.installed import plan_orders

    sc = load_scenario(None, ["market.mode=residual"])
    cat = load_catalog()
    ctx = BuildContext(sc, cat, build_fleet(sc, cat))
    got = plan_orders(ctx)
    spec = ctx.fleet["custom_v1"].spec
    # installed_base.orders.OpenAI.custom_v1 2027: 1,125,000 chips x the design's use
    assert got["cowos_market"][2027] == pytest.approx(1_125_000 * spec.packaging_wafers_per_unit)
    assert got["foundry_N3"][2027] == pytest.approx(1_125_000 * spec.wafers_per_unit["N3"])
    spw = cat.number("memory.hbm3e.stacks_per_wafer")
    assert got["hbm_market"][2027] == pytest.approx(1_125_000 * spec.hbm_stacks_per_unit / spw)
    # merchant orders count units: NVIDIA 2027 = 1.35M (10 GW LOI, 3 GW that year)
    assert got["nvidia_supply"][2027] == pytest.approx(1_350_000)


def test_unknown_buyer_names_the_field():
    exc = _bad("installed.orders", "Nobody")
    assert exc.value.problems[0][0] == "installed.orders"


def _catalog_with(rid: str, **update):
    """The catalog with record ``rid`` set to a copy of the AMD order record, changed."""
    from fab2flop.catalog import Catalog

    base = load_catalog()
    recs = dict(base.records)
    recs[rid] = base.record("installed_base.orders.OpenAI.AMD").model_copy(update=update)
    return Catalog(recs, base.data_hash + rid + repr(update))


@pytest.mark.parametrize(
    ("rid", "update"),
    [
        ("installed_base.orders.OpenAI.AMD", {"value": {2026: -5.0}}),  # negative units
        ("installed_base.orders.OpenAI.AMD", {"unit": "MW"}),  # not units/year
        ("installed_base.orders.OpenAI.Acme", {}),  # neither a vendor nor an accelerator
        ("installed_base.orders.OpenAI.B200", {}),  # a merchant part: order it by vendor
        ("installed_base.orders.OpenAI.AMD", {"value": {}}),  # no years
    ],
)
def test_bad_order_records_name_the_field(rid, update):
    with pytest.raises(ScenarioError) as exc:
        build_network(load_scenario(), _catalog_with(rid, **update))
    assert exc.value.problems[0][0] == rid


def test_fixed_share_market_is_unchanged_by_the_mode_switch():
    # fixed_share: cowos_market 2026 = 110,000 x 12 x 0.13 = 171,600 (orders do not count)
    ds = build_network(load_scenario(None, ["market.mode=fixed_share"])).ds
    e = ds["existing"].sel(process="cowos_market", period=2026)
    assert float(e.max()) == pytest.approx(171_600)


def test_residual_needs_the_others_record():
    sc = load_scenario(None, ["market.mode=residual"])
    cat = load_catalog()
    ctx = BuildContext(sc, cat, build_fleet(sc, cat))
    with pytest.raises(ScenarioError) as exc:
        residual_series(ctx, "supply.wafers.N5.world_wpm", "world_demand.others.wafers.N5", 12.0)
    assert exc.value.problems[0][0] == "market.mode"
