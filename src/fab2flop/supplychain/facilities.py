"""Stages that run the fleet: data centers (own campuses, leased colocation) and the power
that feeds them (power plants within a construction slot, grid contracts)."""

from __future__ import annotations

from ..constants import HOURS_PER_YEAR, CarrierKind, Category, Scope
from ..errors import ScenarioError
from ..scenario import ProcessSpec, RegionalValues
from .base import MW_IT, MW_POWER, POWER_BUILD, BuildContext, carrier

CAMPUS = "datacenters.ai_campus"


def add_datacenters(ctx: BuildContext) -> None:
    """MW of IT capacity: own campuses (capped per region) and leased colocation."""
    ctx.add_carrier(carrier(MW_IT, "MW", 1e3, CarrierKind.RATE, Scope.REGIONAL))
    ctx.add_carrier(carrier(MW_POWER, "MW", 1e3, CarrierKind.RATE, Scope.REGIONAL))
    regions = ctx.dc_regions
    if not regions:
        return
    cat = ctx.cat
    caps = {
        r: RegionalValues(max_capacity=ctx.scenario.regions[r].max_datacenter_mw)
        for r in regions
        if ctx.scenario.regions[r].max_datacenter_mw is not None
    }
    ctx.add(
        ProcessSpec(
            name="datacenter",
            category=Category.DATACENTERS,
            regions=regions,
            activity_unit="MW",
            outputs={MW_IT: 1.0},
            inputs={MW_POWER: cat.number(f"{CAMPUS}.pue")},
            capex_usd_per_unit=cat.number(f"{CAMPUS}.capex_usd_per_mw_it"),
            fixed_om_usd_per_unit_year=cat.number(f"{CAMPUS}.fixed_om_usd_per_mw_it_year"),
            lead_years=cat.number(f"{CAMPUS}.build_years"),
            ramp_years=cat.number(f"{CAMPUS}.ramp_years"),
            life_years=cat.number(f"{CAMPUS}.life_years"),
            regional_multiplier="datacenter_capex_multiplier",
            by_region=caps,
            source=f"catalog {CAMPUS}.*",
        )
    )
    _add_lease(ctx)


def _add_lease(ctx: BuildContext) -> None:
    """Leased colocation, which comes with its own grid connection: rent and electricity
    (at the region's industrial price, with the campus PUE) are its variable cost."""
    cat = ctx.cat
    lease_id = "datacenters.lease.market_mw_it"
    region = str(cat.value("datacenters.lease.region", "US"))
    if lease_id not in cat or region not in ctx.dc_regions:
        return
    util = cat.number("datacenters.fleet.utilization")
    rent = cat.number(f"{CAMPUS}.lease_usd_per_kw_month") * 12.0 * 1e3  # USD per MW-year
    price = float(cat.value(f"regions.{region}.electricity_price_usd_per_mwh", 0.0))
    energy = price * HOURS_PER_YEAR * util * cat.number(f"{CAMPUS}.pue")
    ctx.add(
        ProcessSpec(
            name="datacenter_lease",
            category=Category.DATACENTERS,
            regions=[region],
            activity_unit="MW",
            outputs={MW_IT: 1.0},
            var_cost_usd_per_unit=rent + energy,
            existing=cat.record(lease_id).value,
            buildable=False,
            label="leasable data-center capacity",
            source=f"{lease_id}; {CAMPUS}.lease_usd_per_kw_month; electricity price",
        )
    )


def add_power(ctx: BuildContext) -> None:
    """Firm MW for the data centers: a construction slot per region, power plants of each
    technology (each MW built uses one MW of slot) and grid contracts."""
    regions = ctx.dc_regions
    if not regions:
        return
    ctx.add_carrier(
        carrier(POWER_BUILD, "MW", 1e3, CarrierKind.QUANTITY, Scope.REGIONAL, storable=False)
    )
    ctx.add(
        ProcessSpec(
            name="power_build_limit",
            category=Category.POWER,
            regions=regions,
            activity_unit="MW/year",
            outputs={POWER_BUILD: 1.0},
            buildable=False,
            by_region={r: RegionalValues(existing=_slot(ctx, r)) for r in regions},
            label="power-plant construction starts",
            source="regions.<R>.max_new_power_mw_per_year (turbines, interconnection)",
        )
    )
    for tech in ctx.scenario.technologies.power:
        ctx.add(_power_plant(ctx, tech))
    util = ctx.cat.number("datacenters.fleet.utilization")
    grid = {
        r: RegionalValues(
            existing=_grid_mw(ctx, r),
            var_cost_usd_per_unit=_electricity_price(ctx, r) * HOURS_PER_YEAR * util,
        )
        for r in regions
    }
    ctx.add(
        ProcessSpec(
            name="grid",
            category=Category.OPERATIONS,
            regions=regions,
            activity_unit="MW",
            outputs={MW_POWER: 1.0},
            buildable=False,
            by_region=grid,
            label="grid power contracted",
            source="regions.<R>.grid_mw_available; regions.<R>.electricity_price_usd_per_mwh",
        )
    )


def _slot(ctx: BuildContext, r: str) -> object:
    """Power-plant construction a region can start per year [MW/year]: scenario, else catalog."""
    slot = ctx.scenario.regions[r].max_new_power_mw_per_year
    if slot is None:
        slot = ctx.cat.value(f"regions.{r}.max_new_power_mw_per_year", 0.0)
    return slot


def _grid_mw(ctx: BuildContext, r: str) -> object:
    """Grid power the plan can contract in a region [MW]: scenario, else catalog."""
    gmw = ctx.scenario.regions[r].grid_mw_available
    if gmw is None:
        gmw = ctx.cat.value(f"regions.{r}.grid_mw_available", 0.0)
    return gmw


def _electricity_price(ctx: BuildContext, r: str) -> float:
    price = ctx.cat.value(f"regions.{r}.electricity_price_usd_per_mwh", None)
    if price is None:
        raise ScenarioError(
            f"regions.{r}: the catalog has no electricity price for region {r!r}",
            [(f"regions.{r}", r, f"a region of the catalog: {ctx.cat.group('regions')}")],
        )
    return float(price)


def _power_plant(ctx: BuildContext, tech: str) -> ProcessSpec:
    cat = ctx.cat
    base = f"power.{tech}"
    if f"{base}.capex_usd_per_kw" not in cat:
        raise ScenarioError(
            f"technologies.power: unknown technology {tech!r}",
            [("technologies.power", tech, f"one of {cat.group('power')}")],
        )
    util = cat.number("datacenters.fleet.utilization")
    var_mwh = cat.number(f"{base}.var_om_usd_per_mwh") + cat.number(f"{base}.fuel_usd_per_mwh", 0.0)
    return ProcessSpec(
        name=f"power_{tech}",
        category=Category.POWER,
        regions=ctx.dc_regions,
        activity_unit="MW",
        outputs={MW_POWER: 1.0},
        build_inputs={POWER_BUILD: 1.0},
        capex_usd_per_unit=cat.number(f"{base}.capex_usd_per_kw") * 1e3,
        fixed_om_usd_per_unit_year=cat.number(f"{base}.fixed_om_usd_per_kw_year") * 1e3,
        var_cost_usd_per_unit=var_mwh * HOURS_PER_YEAR * util,
        lead_years=cat.number(f"{base}.lead_years"),
        life_years=cat.number(f"{base}.life_years"),
        availability=cat.number(f"{base}.firm_fraction"),
        source=f"catalog {base}.*",
    )
