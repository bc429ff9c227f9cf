"""Stages that make silicon: logic wafers (own fabs, reserved foundry capacity), HBM
(own DRAM lines, market stacks, stacking) and CoWoS-class packaging."""

from __future__ import annotations

from ..constants import Category
from ..scenario import ProcessSpec
from .base import (
    COWOS_WAFER,
    HBM_WAFER,
    BuildContext,
    carrier,
    market,
    stack_carrier,
    wafer_carrier,
    wafer_line,
)


def nodes_in_use(ctx: BuildContext) -> list[str]:
    """Nodes whose wafers an own design needs, plus nodes the plan may build fabs for
    (only those in use: a fab for a node nobody designs on would make unused wafers)."""
    needed: set[str] = set()
    for item in ctx.custom:
        needed.update(item.spec.wafers_per_unit if item.spec else {})
    return sorted(needed)


def add_fabs(ctx: BuildContext) -> None:
    """A wafer carrier for every node in use, and an own fab for each allowed node."""
    fab_regions = ctx.fab_regions
    for node in nodes_in_use(ctx):
        ctx.add_carrier(carrier(wafer_carrier(node), "wafers", 1e3))
        if node not in ctx.scenario.technologies.fab_nodes or not fab_regions:
            continue
        base = f"nodes.{node}"
        first = int(ctx.cat.number(f"{base}.first_volume_year"))
        ctx.add(
            wafer_line(
                ctx.cat,
                f"fab_{node}",
                Category.FABS,
                fab_regions,
                wafer_carrier(node),
                base,
                key="fab_",
                available_from=first,
            )
        )


def add_foundry(ctx: BuildContext) -> None:
    """A share of third-party wafer capacity of every node in use, at the wafer price."""
    mk = ctx.scenario.market
    for node in nodes_in_use(ctx):
        sid = f"supply.wafers.{node}.world_wpm"
        at = ctx.supplier("foundry")
        if sid not in ctx.cat or mk.foundry_share <= 0 or not at:
            continue
        price = ctx.cat.number(f"nodes.{node}.wafer_price_usd")
        ctx.add(
            market(
                ctx.cat,
                f"foundry_{node}",
                Category.FABS,
                at,
                wafer_carrier(node),
                sid,
                mk.foundry_share,
                price,
                label=f"{node} foundry wafers reserved",
            )
        )


def _hbm_generations(ctx: BuildContext) -> list[str]:
    return sorted({str(it.spec.hbm_generation) for it in ctx.custom if it.spec})


def add_memory(ctx: BuildContext) -> None:
    """HBM wafers from own lines or a share of world supply, stacked per generation."""
    gens = _hbm_generations(ctx)
    if not gens:
        return
    ctx.add_carrier(carrier(HBM_WAFER, "wafers", 1e3))
    if ctx.scenario.technologies.hbm_lines and ctx.fab_regions:
        ctx.add(
            wafer_line(
                ctx.cat, "hbm_line", Category.MEMORY, ctx.fab_regions, HBM_WAFER, "memory.hbm_line"
            )
        )
    at = _add_hbm_market(ctx)
    for gen in gens:
        _add_stacking(ctx, gen, at)


def _add_hbm_market(ctx: BuildContext) -> list[str] | None:
    """A share of world HBM wafers, in wafer-equivalents; returns where it is made."""
    mk = ctx.scenario.market
    sid = "supply.memory.hbm.world_wpm"
    at = ctx.supplier("hbm")
    if sid not in ctx.cat or mk.hbm_share <= 0 or not at:
        return None
    # a share of a year's supply: used that year or lost, never banked
    ctx.add_carrier(carrier("alloc_hbm", "wafer-equivalents", 1e3, storable=False))
    ctx.add(
        market(
            ctx.cat,
            "hbm_market",
            Category.MEMORY,
            at,
            "alloc_hbm",
            sid,
            mk.hbm_share,
            unit="wafer-equivalents/year",
            label="HBM supply bought from SK hynix/Samsung/Micron",
        )
    )
    return at


def _add_stacking(ctx: BuildContext, gen: str, market_at: list[str] | None) -> None:
    """Own stacking of HBM wafers into ``gen`` stacks, and buying stacks from the market."""
    cat = ctx.cat
    sc = stack_carrier(gen)
    ctx.add_carrier(carrier(sc, "stacks", 1e6))
    spw = cat.number(f"memory.{gen}.stacks_per_wafer")
    first = int(cat.number(f"memory.{gen}.first_volume_year"))
    ctx.add(
        ProcessSpec(
            name=f"stack_{gen}",
            category=Category.MEMORY,
            regions=ctx.regions,
            activity_unit="stacks/year",
            outputs={sc: 1.0},
            inputs={HBM_WAFER: 1.0 / spw},
            var_cost_usd_per_unit=cat.number("memory.hbm_line.stacking_cost_usd_per_stack"),
            unlimited=True,
            buildable=False,
            available_from=first,
            source=f"memory.{gen}.stacks_per_wafer; memory.hbm_line.stacking_cost",
        )
    )
    if market_at is None:
        return
    ctx.add(
        ProcessSpec(
            name=f"buy_{gen}",
            category=Category.MEMORY,
            regions=market_at,
            activity_unit="stacks/year",
            outputs={sc: 1.0},
            inputs={"alloc_hbm": 1.0 / spw},
            var_cost_usd_per_unit=cat.number(f"memory.{gen}.stack_price_usd"),
            unlimited=True,
            buildable=False,
            available_from=first,
            source=f"memory.{gen}.stack_price_usd",
        )
    )


def add_packaging(ctx: BuildContext) -> None:
    """CoWoS-class packaging: own lines and a share of world capacity."""
    if not ctx.custom:
        return
    ctx.add_carrier(carrier(COWOS_WAFER, "wafers", 1e3))
    if ctx.scenario.technologies.packaging_lines and ctx.fab_regions:
        ctx.add(
            wafer_line(
                ctx.cat,
                "cowos_line",
                Category.PACKAGING,
                ctx.fab_regions,
                COWOS_WAFER,
                "packaging.cowos",
            )
        )
    mk = ctx.scenario.market
    sid = "supply.packaging.cowos.world_wpm"
    at = ctx.supplier("cowos")
    if sid in ctx.cat and mk.cowos_share > 0 and at:
        price = ctx.cat.number("packaging.cowos.price_usd_per_wafer")
        ctx.add(
            market(
                ctx.cat,
                "cowos_market",
                Category.PACKAGING,
                at,
                COWOS_WAFER,
                sid,
                mk.cowos_share,
                price,
                label="CoWoS capacity reserved at TSMC",
            )
        )
