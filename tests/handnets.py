"""Builders of tiny hand-made networks for the hand-checked money and metrics tests.

Every network has one accelerator X worth exactly one H100e (989 TFLOP/s dense BF16) that
draws 1 kW of IT, bought (or made) at a known cash cost and run in data centers fed by a
fixed grid. Scenarios are written out in full so a test reads like its arithmetic.
"""

from __future__ import annotations

from typing import Any

from fab2flop.catalog import Catalog, parse_catalog_texts
from fab2flop.constants import H100_FLOPS_BF16_DENSE, CarrierKind, Category, Scope
from fab2flop.network import Network, assemble_network
from fab2flop.scenario import CarrierSpec, ProcessSpec, Scenario
from fab2flop.supplychain import FleetItem, SupplyChain

EMPTY = Catalog({}, "hand")


def fleet_catalog(*, utilization: float, mfu: float, days: float, share: float) -> Catalog:
    """A catalog holding only the fleet figures the metrics read."""
    rec = "{{value: {v}, unit: '{u}', year: 2025, source: hand-made test value}}"
    text = "fleet:\n" + "".join(
        f"  {k}: " + rec.format(v=v, u=u) + "\n"
        for k, v, u in (
            ("utilization", utilization, "1"),
            ("mfu_training", mfu, "1"),
            ("max_training_run_days", days, "days"),
            ("largest_cluster_share", share, "1"),
        )
    )
    return parse_catalog_texts({"datacenters": text})


def scenario(
    *,
    years: tuple[int, int] = (2025, 2027),
    step: str = "year",
    budget: dict[str, Any],
    regions: dict[str, dict] | None = None,
    discount_rate: float = 0.0,
) -> Scenario:
    return Scenario.model_validate(
        {
            "name": "hand",
            "time": {"start": years[0], "end": years[1], "step": step},
            "objective": {"discount_rate": discount_rate},
            "budget": budget,
            "regions": regions or {"US": {}},
        }
    )


def money_from(amount_usd: float, start: int, end: int) -> dict[str, Any]:
    """A budget whose only funder pays ``amount_usd`` evenly over years start..end."""
    return {
        "total_usd": amount_usd,
        "funders": [{"name": "f", "amount_usd": amount_usd, "start": start, "end": end}],
    }


def rate(name: str) -> CarrierSpec:
    return CarrierSpec(name=name, unit="MW", scale=1e3, kind=CarrierKind.RATE, scope=Scope.REGIONAL)


def fleet_x(*, life_years: float = 10.0, deploy_cost_usd: float = 0.0) -> dict[str, FleetItem]:
    return {
        "X": FleetItem(
            name="X",
            kind="merchant",
            vendor="test",
            carrier="acc_X",
            flops_bf16_dense=H100_FLOPS_BF16_DENSE,
            kw_it_per_unit=1.0,
            life_years=life_years,
            unit_cost_usd=10_000.0,
            deploy_cost_usd=deploy_cost_usd,
            available_from=2025,
            available_until=None,
        )
    }


def power_and_sites(
    *,
    grid_mw: dict[str, float],
    pue: float = 1.0,
    dc_capex_usd_per_mw: float = 0.0,
    dc_life_years: float = 100.0,
    dc_lead_years: float = 0.0,
    dc_max_new_mw_per_year: float | None = None,
) -> list[ProcessSpec]:
    """A buildable data center (PUE ``pue``) and a fixed grid in each region of ``grid_mw``."""
    regions = list(grid_mw)
    return [
        ProcessSpec(
            name="datacenter",
            category=Category.DATACENTERS,
            regions=regions,
            activity_unit="MW",
            outputs={"mw_it": 1.0},
            inputs={"mw_power": pue},
            capex_usd_per_unit=dc_capex_usd_per_mw,
            life_years=dc_life_years,
            lead_years=dc_lead_years,
            max_new_per_year=dc_max_new_mw_per_year,
        ),
        ProcessSpec(
            name="grid",
            category=Category.OPERATIONS,
            regions=regions,
            activity_unit="MW",
            outputs={"mw_power": 1.0},
            existing=0.0,
            by_region={r: {"existing": mw} for r, mw in grid_mw.items()},
            buildable=False,
        ),
    ]


def merchant_x(*, units_per_year: float, price_usd: float = 10_000.0) -> list[ProcessSpec]:
    """X bought at ``price_usd`` within ``units_per_year`` of vendor supply (made in US)."""
    return [
        ProcessSpec(
            name="x_supply",
            category=Category.MERCHANT,
            regions=["US"],
            activity_unit="units/year",
            outputs={"alloc_x": 1.0},
            existing=units_per_year,
            buildable=False,
        ),
        ProcessSpec(
            name="buy_X",
            category=Category.MERCHANT,
            regions=["US"],
            activity_unit="units/year",
            outputs={"acc_X": 1.0},
            inputs={"alloc_x": 1.0},
            var_cost_usd_per_unit=price_usd,
            buildable=False,
            unlimited=True,
        ),
    ]


MERCHANT_CARRIERS = {
    "acc_X": CarrierSpec(name="acc_X", unit="units", scale=1e6),
    "alloc_x": CarrierSpec(name="alloc_x", unit="units", scale=1e6, storable=False),
    "mw_it": rate("mw_it"),
    "mw_power": rate("mw_power"),
}


def merchant_network(
    sc: Scenario,
    *,
    units_per_year: float = 1000.0,
    grid_mw: float = 100.0,
    catalog: Catalog = EMPTY,
    dc_lead_years: float = 0.0,
) -> Network:
    """One region (US): X bought at $10k within ``units_per_year``; ample free power."""
    procs = [
        *merchant_x(units_per_year=units_per_year),
        *power_and_sites(grid_mw={"US": grid_mw}, dc_lead_years=dc_lead_years),
    ]
    return assemble_network(sc, catalog, SupplyChain(dict(MERCHANT_CARRIERS), procs, fleet_x(), []))
