"""The plan's starting position and the residual market.

- ``add_installed``: data-center MW and contracted power the plan has at the start
  (``scenario.installed``) become processes ``contracted_datacenter`` and
  ``contracted_power`` (existing capacity, no cost); its installed fleet is checked here
  and becomes the network array ``acc_installed_units`` (:func:`installed_fleet_units`),
  which the LP's fleet-stock rows and the replay add to what the plan deploys.
- ``apply_market_mode``: with ``market.mode: residual`` the market processes (foundry wafers,
  CoWoS, HBM, merchant GPUs) hold world supply less the other buyers' demand
  (catalog ``world_demand.others``, the vendors' books less the plan's own contracted
  orders ``installed_base.orders.<installed.orders>``), and at least those orders, instead
  of a fixed share of it (:func:`residual_series`, :func:`plan_orders`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..constants import Category
from ..errors import ScenarioError
from ..scenario import ProcessSpec, RegionalValues
from ..timeseries import series_at
from .base import MW_IT, MW_POWER, BuildContext, FleetItem, acc_carrier, carrier

OTHERS = "world_demand.others"  # the other buyers' books, by shared capacity
ORDERS = "installed_base.orders"  # contracted orders, by buyer


def add_installed_parts(fleet: dict[str, FleetItem], scenario: Any, cat: Any, life: float) -> None:
    """Parts of the starting fleet that the plan does not buy or build join the fleet as
    ``installed`` items: they stand and draw power but cannot be deployed (no supply)."""
    from ..components.accelerator import design_from_catalog, evaluate

    for i, c in enumerate(scenario.installed.fleet):
        if c.accelerator in fleet:
            continue
        where = f"installed.fleet.{i}.accelerator"
        try:
            spec = evaluate(design_from_catalog(c.accelerator, cat), cat)
        except Exception as exc:  # DesignError / CatalogError / ValidationError
            raise ScenarioError(
                f"{where}: {c.accelerator!r} is not an accelerator of the catalog: {exc}",
                [(where, c.accelerator, "an accelerator of the catalog (fab2flop chip list)")],
            ) from exc
        if not spec.flops_bf16_dense or spec.kw_it_per_unit is None:
            raise ScenarioError(
                f"{where}: {c.accelerator!r} has no BF16 FLOP/s or power figure",
                [(where, c.accelerator, "an accelerator with FLOP/s and power")],
            )
        fleet[c.accelerator] = FleetItem(
            name=c.accelerator,
            kind="installed",
            vendor=str(cat.value(f"accelerators.{c.accelerator}.vendor", "own")),
            carrier=acc_carrier(c.accelerator),
            flops_bf16_dense=float(spec.flops_bf16_dense),
            kw_it_per_unit=float(spec.kw_it_per_unit),
            life_years=life,
            unit_cost_usd=float(spec.price_usd or spec.unit_cost_usd or 0.0),
            deploy_cost_usd=0.0,
            available_from=int(scenario.time.start),
            available_until=None,
            spec=spec,
        )


def check_installed(ctx: BuildContext) -> None:
    """Every installed cohort: a part of the fleet, a data-center region, dated before the
    start; MW in data-center regions. A ScenarioError names the field otherwise."""
    inst = ctx.scenario.installed
    start = ctx.scenario.time.start
    dcr = ctx.dc_regions
    for i, c in enumerate(inst.fleet):
        where = f"installed.fleet.{i}"
        if c.region not in dcr:
            raise ScenarioError(
                f"{where}.region: {c.region!r} is not a data-center region",
                [(f"{where}.region", c.region, f"one of {dcr}")],
            )
        if c.year >= start:
            raise ScenarioError(
                f"{where}.year: {c.year} is not before the start ({start}); installed units "
                "are what stands at the start",
                [(f"{where}.year", c.year, f"an install year before {start}")],
            )
    for key in ("datacenter_mw", "contracted_power_mw"):
        for r in getattr(inst, key):
            if r not in dcr:
                raise ScenarioError(
                    f"installed.{key}.{r}: not a data-center region",
                    [(f"installed.{key}.{r}", r, f"one of {dcr}")],
                )


def add_installed(ctx: BuildContext) -> None:
    """The starting position's MW of IT and contracted power as processes of their own
    (existing capacity, no cost: paid under contracts signed before the start, as the
    starting fleet is not paid for again)."""
    check_installed(ctx)
    inst = ctx.scenario.installed
    for item in ctx.fleet.values():
        if item.kind == "installed":  # stands, draws power, is never supplied
            ctx.add_carrier(carrier(item.carrier, "units", 1e6))
    mw = housed_datacenter_mw(ctx)
    if mw:
        ctx.add(_contracted_datacenter(ctx, mw))
    if inst.contracted_power_mw:
        ctx.add(_contracted_power(inst.contracted_power_mw))


def starting_fleet_mw(ctx: BuildContext) -> dict[str, float]:
    """MW of IT the starting fleet draws at the start, by region: the cohorts standing in
    ``time.start`` (installed less than a life earlier) × each part's kW of IT per unit."""
    start = ctx.scenario.time.start
    out: dict[str, float] = {}
    for c in ctx.scenario.installed.fleet:
        item = ctx.fleet.get(c.accelerator)
        if item is None or not (c.year <= start < c.year + item.life_years):
            continue
        out[c.region] = out.get(c.region, 0.0) + c.units * item.kw_it_per_unit / 1e3
    return out


def housed_datacenter_mw(ctx: BuildContext) -> dict[str, float]:
    """MW of IT held at the start, by region: ``installed.datacenter_mw``, raised where the
    starting fleet draws more (with a note). A fleet that stands at the start is housed: a
    sampled kW per unit (host overhead, TDP) above the one the stated MW was sized with must
    not make the starting position impossible. The default's 353k H100 draw 452 MW of IT at
    the catalog's values, within its 500 MW, so the default is unchanged."""
    stated = {r: float(v) for r, v in ctx.scenario.installed.datacenter_mw.items()}
    out = dict(stated)
    for r, draw in starting_fleet_mw(ctx).items():
        if draw > out.get(r, 0.0) * (1 + 1e-9):
            out[r] = draw
            ctx.notes.append(
                f"installed.datacenter_mw.{r}: {stated.get(r, 0.0):,.0f} MW of IT held at the "
                f"start is less than the starting fleet draws ({draw:,.0f} MW at the catalog's "
                "kW per unit); the fleet stands, so the MW it draws is taken as held"
            )
    return {r: v for r, v in out.items() if v > 0}


def _contracted_datacenter(ctx: BuildContext, mw: dict[str, float]) -> ProcessSpec:
    """MW of IT the plan has at the start (hosted capacity under contract): no capex, no
    cost in the plan (paid under contracts signed before the start), draws power at PUE."""
    return ProcessSpec(
        name="contracted_datacenter",
        category=Category.DATACENTERS,
        regions=sorted(mw),
        activity_unit="MW",
        outputs={MW_IT: 1.0},
        inputs={MW_POWER: ctx.cat.number("datacenters.ai_campus.pue")},
        buildable=False,
        by_region={r: RegionalValues(existing=float(v)) for r, v in mw.items()},
        label="data-center MW held at the start",
        source="scenario installed.datacenter_mw; datacenters.ai_campus.pue",
    )


def _contracted_power(mw: dict[str, float]) -> ProcessSpec:
    """Firm power the plan has contracted at the start (paid before the start: no cost)."""
    return ProcessSpec(
        name="contracted_power",
        category=Category.OPERATIONS,
        regions=sorted(mw),
        activity_unit="MW",
        outputs={MW_POWER: 1.0},
        buildable=False,
        by_region={r: RegionalValues(existing=float(v)) for r, v in mw.items()},
        label="power contracted before the start",
        source="scenario installed.contracted_power_mw",
    )


def installed_fleet_units(
    scenario: Any, fleet: dict[str, FleetItem], regions: list[str], years: np.ndarray
) -> np.ndarray:
    """(accelerator, region, period) units of the starting fleet still standing: a cohort
    installed in year y stands in [y, y + life) (the part's life)."""
    out = np.zeros((len(fleet), len(regions), len(years)))
    names = list(fleet)
    for c in scenario.installed.fleet:
        if c.accelerator not in fleet or c.region not in regions:
            continue  # add_installed has reported it
        a, r = names.index(c.accelerator), regions.index(c.region)
        life = fleet[c.accelerator].life_years
        out[a, r] += c.units * ((years >= c.year) & (years < c.year + life))
    return out


# ------------------------------------------------------------------ residual market
def _market_records(ctx: BuildContext) -> dict[str, tuple[str, str, float]]:
    """Market process -> (world supply record, others record, per-year factor)."""
    out = {
        "hbm_market": ("supply.memory.hbm.world_wpm", f"{OTHERS}.memory.hbm", 12.0),
        "cowos_market": ("supply.packaging.cowos.world_wpm", f"{OTHERS}.packaging.cowos", 12.0),
    }
    for p in ctx.processes:
        if p.name.startswith("foundry_"):
            node = p.name.removeprefix("foundry_")
            out[p.name] = (
                f"supply.wafers.{node}.world_wpm",
                f"{OTHERS}.wafers.{node}",
                12.0,
            )
    for item in ctx.merchant:
        key = item.vendor.lower()
        out[f"{key}_supply"] = (
            f"supply.merchant.{item.vendor}.dc_units_per_year",
            f"{OTHERS}.merchant.{item.vendor}",
            1.0,
        )
    return out


def _order_records(ctx: BuildContext) -> dict[str, dict[int, float]]:
    """The plan's contracted orders (``installed_base.orders.<installed.orders>``), checked:
    key -> {year: units/year}. A ScenarioError names the field of a bad record."""
    buyer = ctx.scenario.installed.orders
    if not buyer:
        return {}
    base = f"{ORDERS}.{buyer}"
    keys = ctx.cat.group(base)
    if not keys:
        raise ScenarioError(
            f"installed.orders: {buyer!r} has no contracted orders in the catalog ({base})",
            [("installed.orders", buyer, f"a buyer of {ORDERS}: {ctx.cat.group(ORDERS)}")],
        )
    out: dict[str, dict[int, float]] = {}
    for key in keys:
        rid = f"{base}.{key}"
        vendor = f"supply.merchant.{key}.dc_units_per_year" in ctx.cat
        if not vendor and ctx.cat.value(f"accelerators.{key}.vendor", None) != "own":
            raise ScenarioError(
                f"{rid}: {key!r} is neither a merchant vendor (supply.merchant.*) nor an "
                "own design of the catalog (accelerators.<name>.vendor: own)",
                [(rid, key, "a vendor of supply.merchant or an own design")],
            )
        rec = ctx.cat.record(rid)
        series = ctx.cat.series(rid) if isinstance(rec.value, dict) else None
        if rec.unit != "units/year" or not series or min(series.values()) < 0:
            raise ScenarioError(
                f"{rid}: {rec.value!r} {rec.unit!r} is not a series of units/year >= 0",
                [(rid, rec.value, "{year: units >= 0}, unit units/year")],
            )
        out[key] = series
    return out


def plan_orders(ctx: BuildContext) -> dict[str, dict[int, float]]:
    """Market process -> {year: what the plan's contracted orders take of it, per year}.

    A merchant vendor's units count against ``<vendor>_supply``; an own design's units claim
    its wafers (``foundry_<node>``), CoWoS wafers (``cowos_market``) and HBM wafers
    (``hbm_market``: stacks / the generation's stacks per wafer). An own design that is not
    in the scenario's fleet is left out (nothing of the plan's uses it)."""
    out: dict[str, dict[int, float]] = {}

    def add(proc: str, series: dict[int, float], per_unit: float) -> None:
        acc = out.setdefault(proc, {})
        for y, u in series.items():
            acc[y] = acc.get(y, 0.0) + u * per_unit

    for key, series in _order_records(ctx).items():
        if f"supply.merchant.{key}.dc_units_per_year" in ctx.cat:
            add(f"{key.lower()}_supply", series, 1.0)
            continue
        item = ctx.fleet.get(key)
        if item is None or item.spec is None:
            continue
        spec = item.spec
        for node, w in spec.wafers_per_unit.items():
            add(f"foundry_{node}", series, float(w))
        add("cowos_market", series, float(spec.packaging_wafers_per_unit or 0.0))
        if spec.hbm_generation and spec.hbm_stacks_per_unit:
            spw = ctx.cat.number(f"memory.{spec.hbm_generation}.stacks_per_wafer")
            add("hbm_market", series, float(spec.hbm_stacks_per_unit) / spw)
    return out


def residual_series(
    ctx: BuildContext,
    supply: str,
    others: str,
    factor: float,
    orders: dict[int, float] | None = None,
) -> dict:
    """{year: the plan's share} over the years of the records and the horizon:
    max(S − max(O − P, 0), min(P, S)) with S = world supply × factor, O = the other buyers'
    books × factor (they hold the plan's orders) and P = the plan's contracted orders
    (per year, 0 in years without any): the world excluding the plan takes O − P, the plan
    gets the rest, and at least its orders while supply lasts."""
    if others not in ctx.cat:
        raise ScenarioError(
            f"market.mode: residual needs the other buyers' demand {others!r} (catalog "
            "world_demand.others), which is not given",
            [("market.mode", "residual", f"a catalog record {others}, or mode fixed_share")],
        )
    s, o = ctx.cat.record(supply), ctx.cat.record(others)
    if s.unit != o.unit:
        raise ScenarioError(
            f"market.mode: {others} is in {o.unit!r}, the supply {supply} in {s.unit!r}",
            [(others, o.unit, s.unit)],
        )
    ws, os_, own = ctx.cat.series(supply), ctx.cat.series(others), orders or {}
    first = min([*ws, *os_, *own])
    last = max([*ws, *os_, *own, int(ctx.scenario.time.end)]) + 1
    years = np.arange(first, last + 1, dtype=float)  # every year: orders are not held flat
    world = series_at(ws, years) * factor
    rest = np.maximum(series_at(os_, years) * factor - _per_year(own, years), 0.0)
    left = np.maximum(world - rest, np.minimum(_per_year(own, years), world))
    return {int(y): float(max(v, 0.0)) for y, v in zip(years, left, strict=True)}


def _per_year(series: dict[int, float], years: np.ndarray) -> np.ndarray:
    """A per-year quantity at ``years``: its value in the years given, 0 in the others."""
    return np.array([series.get(int(y), 0.0) for y in years])


def apply_market_mode(ctx: BuildContext) -> None:
    """With ``market.mode: residual``, market processes hold world supply less the other
    buyers' demand, that demand less the plan's contracted orders (``installed.orders``),
    and at least those orders. The orders are checked in either mode."""
    orders = plan_orders(ctx)
    if ctx.scenario.market.mode != "residual":
        return
    recs = _market_records(ctx)
    for i, p in enumerate(ctx.processes):
        if p.name in recs:
            supply, others, factor = recs[p.name]
            ctx.processes[i] = p.model_copy(
                update={
                    "existing": residual_series(ctx, supply, others, factor, orders.get(p.name)),
                    "source": f"{supply} less {others} (market.mode residual)"
                    + (f", plus the plan's orders {ORDERS}" if p.name in orders else ""),
                }
            )
