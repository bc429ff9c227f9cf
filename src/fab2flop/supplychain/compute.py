"""Stages that make accelerators: buying merchant parts within each vendor's output, and
assembling own designs from wafers, HBM stacks and CoWoS packaging."""

from __future__ import annotations

from ..constants import Category
from ..errors import ScenarioError
from ..scenario import ProcessSpec
from .base import (
    COWOS_WAFER,
    BuildContext,
    FleetItem,
    carrier,
    scaled,
    stack_carrier,
    wafer_carrier,
)


def vendor_supply_id(vendor: str) -> str:
    """Catalog record of a vendor's data-center accelerator output [units/year]."""
    return f"supply.merchant.{vendor}.dc_units_per_year"


def add_merchant(ctx: BuildContext) -> None:
    """Merchant parts, bought at their price within a share of their vendor's output.

    One allocation carrier per vendor (``alloc_nvidia``) caps all of its models together.
    """
    if not ctx.merchant:
        return
    at = ctx.supplier("merchant")
    for item in ctx.merchant:
        ctx.add_carrier(carrier(item.carrier, "units", 1e6))
        if at is None:
            continue
        alloc = _add_vendor_supply(ctx, item, at)
        ctx.add(
            ProcessSpec(
                name=f"buy_{item.name}",
                category=Category.MERCHANT,
                regions=at,
                activity_unit="units/year",
                outputs={item.carrier: 1.0},
                inputs={alloc: 1.0},
                var_cost_usd_per_unit=float(item.unit_cost_usd),
                unlimited=True,
                buildable=False,
                available_from=item.available_from,
                available_until=item.available_until,
                source=f"accelerators.{item.name}.price_usd",
            )
        )


def _add_vendor_supply(ctx: BuildContext, item: FleetItem, at: list[str]) -> str:
    """The allocation carrier of ``item``'s vendor, with its supply process (made once)."""
    sid = vendor_supply_id(item.vendor)
    if sid not in ctx.cat:
        raise ScenarioError(
            f"accelerators.merchant: {item.name!r} is sold by {item.vendor!r}, whose output "
            f"the catalog does not give ({sid}), so its supply to the plan would be unlimited",
            [("accelerators.merchant", item.name, "a part of a vendor with supply.merchant.*")],
        )
    key = item.vendor.lower()
    alloc = f"alloc_{key}"
    if alloc not in ctx.carriers:
        ctx.add_carrier(carrier(alloc, "units", 1e6, storable=False))
        ctx.add(
            ProcessSpec(
                name=f"{key}_supply",
                category=Category.MERCHANT,
                regions=at,
                activity_unit="units/year",
                outputs={alloc: 1.0},
                existing=scaled(ctx.cat.record(sid).value, ctx.scenario.market.merchant_share),
                buildable=False,
                source=f"{sid} x market.merchant_share",
                label=f"{item.vendor} GPUs available to buy",
            )
        )
    return alloc


def assembly_regions(ctx: BuildContext) -> list[str]:
    """Regions of the scenario where own designs may be assembled; one must be enabled."""
    asked = ctx.scenario.accelerators.assembly_regions
    at = [r for r in asked if r in ctx.regions]
    if not any(r in ctx.enabled for r in at):
        raise ScenarioError(
            f"accelerators.assembly_regions: none of {asked} is enabled",
            [
                (
                    "accelerators.assembly_regions",
                    asked,
                    f"at least one of the enabled regions {ctx.enabled}",
                )
            ],
        )
    return at


def add_assembly(ctx: BuildContext) -> None:
    """Own designs, assembled from wafers, HBM stacks and CoWoS wafers (plus NRE per unit)."""
    if not ctx.custom:
        return
    at = assembly_regions(ctx)
    for item in ctx.custom:
        spec = item.spec
        if spec is None:  # ctx.custom keeps designs with a spec; this narrows the type
            continue
        ctx.add_carrier(carrier(item.carrier, "units", 1e6))
        inputs = {wafer_carrier(n): float(w) for n, w in spec.wafers_per_unit.items()}
        inputs[stack_carrier(str(spec.hbm_generation))] = float(spec.hbm_stacks_per_unit or 0)
        inputs[COWOS_WAFER] = float(spec.packaging_wafers_per_unit or 0)
        nre_per_unit = (spec.nre_usd or 0.0) / max(spec.volume_units or 1.0, 1.0)
        ctx.add(
            ProcessSpec(
                name=f"assemble_{item.name}",
                category=Category.ACCELERATORS,
                regions=at,
                activity_unit="units/year",
                outputs={item.carrier: 1.0},
                inputs=inputs,
                var_cost_usd_per_unit=float(spec.assembly_cost_usd or 0) + nre_per_unit,
                unlimited=True,
                buildable=False,
                available_from=item.available_from,
                available_until=item.available_until,
                source="accelerator model (components.accelerator.evaluate)",
            )
        )
