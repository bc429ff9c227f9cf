"""The fleet: every accelerator the scenario may buy or build, evaluated once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..catalog import Catalog
from ..errors import ScenarioError
from ..scenario import Scenario
from .base import FleetItem, acc_carrier

if TYPE_CHECKING:
    from ..components.accelerator import AcceleratorSpec


def build_fleet(scenario: Scenario, cat: Catalog) -> dict[str, FleetItem]:
    """Evaluate every accelerator the scenario may buy (merchant, first) or build (custom)."""
    from ..components.accelerator import design_from_catalog, evaluate
    from ..components.systems import deploy_cost_usd
    from ..roadmap import check_windows, ramp_shares, roadmap_designs

    life = cat.number("datacenters.fleet.accelerator_life_years")

    check_windows(scenario, cat)
    ramp_shares(cat)  # refuses a ramp share outside [0, 1] before anything is built
    fleet: dict[str, FleetItem] = {}
    names: list[tuple[str, dict[str, Any]]] = [(n, {}) for n in scenario.accelerators.merchant]
    names += list(scenario.accelerators.custom.items())
    built: list[tuple[str, Any, AcceleratorSpec, bool]] = []
    for name, overrides in names:
        # an own design is checked against its packaging's limit even when it starts from a
        # merchant part unchanged; a merchant part ships on its packaging (packaging_published)
        fields = {"packaging_published": False, **(overrides or {})}
        try:
            design = design_from_catalog(
                name, cat, **(fields if name in scenario.accelerators.custom else {})
            )
            spec = evaluate(design, cat)
        except Exception as exc:  # DesignError / CatalogError / ValidationError
            raise ScenarioError(
                f"accelerators: {name!r} cannot be built: {exc}",
                [(f"accelerators.{name}", overrides, str(exc))],
            ) from exc
        built.append((name, design, spec, name in scenario.accelerators.custom))
    # the roadmap: each listed vendor's line and the own line continue to the horizon
    own = [d for _, d, _, c in built if c]
    for design in roadmap_designs(scenario, cat, own):
        built.append((design.name, design, evaluate(design, cat), design.vendor == "own"))
    for name, _, spec, is_custom in built:
        overrides = scenario.accelerators.custom.get(name, {})
        _check_part(name, spec, is_custom, overrides)
        unit_cost = spec.unit_cost_usd if is_custom else spec.price_usd
        kind = "custom" if is_custom else "merchant"
        kw_it = float(spec.kw_it_per_unit or 0.0)
        fleet[name] = FleetItem(
            name=name,
            kind=kind,
            vendor=str(spec.vendor or cat.value(f"accelerators.{name}.vendor", "own")),
            carrier=acc_carrier(name),
            flops_bf16_dense=float(spec.flops_bf16_dense or 0.0),
            flops_fp8_dense=float(spec.flops_fp8_dense or spec.flops_bf16_dense or 0.0),
            flops_fp4_dense=float(
                spec.flops_fp4_dense or spec.flops_fp8_dense or spec.flops_bf16_dense or 0.0
            ),
            kw_it_per_unit=kw_it,
            life_years=life,
            unit_cost_usd=float(unit_cost or 0.0),
            # servers, networking, storage, racks: bottom-up, not a fraction of the chip
            deploy_cost_usd=deploy_cost_usd(
                name, kind, spec.available_from, kw_it, float(unit_cost or 0.0), cat
            ),
            available_from=int(spec.available_from or scenario.time.start),
            available_until=int(spec.available_until) if spec.available_until else None,
            spec=spec,
        )
    from .installed import add_installed_parts

    add_installed_parts(fleet, scenario, cat, life)  # parts of the starting fleet only
    return fleet


def _check_part(name: str, spec: AcceleratorSpec, is_custom: bool, overrides: Any) -> None:
    """A part the plan buys needs a price; one it builds needs a silicon description."""
    if not is_custom and spec.kind != "merchant":
        raise ScenarioError(
            f"accelerators.merchant: {name!r} is a {spec.kind} part, not sold to the "
            "plan (TPUs and Trainium are shown for comparison only)",
            [("accelerators.merchant", name, "a merchant accelerator (fab2flop chip list)")],
        )
    if spec.flops_bf16_dense is None or spec.kw_it_per_unit is None:
        raise ScenarioError(
            f"accelerators: {name!r} has no BF16 FLOP/s or power figure",
            [(f"accelerators.{name}", name, "an accelerator with flops and power")],
        )
    if is_custom and (
        not spec.wafers_per_unit
        or spec.hbm_stacks_per_unit is None
        or spec.packaging_wafers_per_unit is None
        or spec.assembly_cost_usd is None
    ):
        raise ScenarioError(
            f"accelerators.custom.{name}: the design has no silicon description (node, "
            "die area, HBM, packaging), so its wafers, stacks and packaging per unit are "
            "unknown; give node and die_area_mm2",
            [(f"accelerators.custom.{name}", overrides, "a design with node and die area")],
        )
    if not is_custom and spec.price_usd is None:
        raise ScenarioError(
            f"accelerators.merchant: {name!r} has no market price (kind {spec.kind}); "
            "it can only be compared, not bought",
            [("accelerators.merchant", name, "an accelerator with price_usd")],
        )
