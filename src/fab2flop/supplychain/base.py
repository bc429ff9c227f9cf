"""Names, result types and the shared build context of the supply-chain stages.

Naming: carriers ``wafer_<node>``, ``hbm_wafer``, ``<gen>_stack``, ``cowos_wafer``,
``acc_<accelerator>``, ``mw_it``, ``mw_power``, ``power_build_mw``; allocation carriers
``alloc_<market>`` for shares of third-party supply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..catalog import Catalog
from ..constants import CarrierKind, Category, Scope
from ..scenario import CarrierSpec, ProcessSpec, Scenario

if TYPE_CHECKING:
    from ..components.accelerator import AcceleratorSpec

MW_IT = "mw_it"
MW_POWER = "mw_power"
POWER_BUILD = "power_build_mw"
HBM_WAFER = "hbm_wafer"
COWOS_WAFER = "cowos_wafer"


def wafer_carrier(node: str) -> str:
    return f"wafer_{node}"


def stack_carrier(gen: str) -> str:
    return f"{gen}_stack"


def acc_carrier(name: str) -> str:
    return f"acc_{name}"


@dataclass(frozen=True)
class FleetItem:
    """An accelerator the plan can deploy, with what the fleet needs to know about it."""

    name: str
    kind: str
    vendor: str
    carrier: str
    flops_bf16_dense: float  # [FLOP/s]
    kw_it_per_unit: float  # [kW] all-in IT power per unit
    life_years: float
    unit_cost_usd: float  # acquisition cost per unit (price, or bottom-up cost) [USD]
    deploy_cost_usd: float  # servers, networking, storage, racks bought with each unit [USD]
    available_from: int
    available_until: int | None
    spec: AcceleratorSpec | None = None
    # dense peak at FP8 / FP4 [FLOP/s]; a part without the format runs it at the next wider
    # one it has (FP4 at FP8, FP8 at BF16); 0.0 = unknown (read as the BF16 figure)
    flops_fp8_dense: float = 0.0
    flops_fp4_dense: float = 0.0


@dataclass
class SupplyChain:
    carriers: dict[str, CarrierSpec]
    processes: list[ProcessSpec]
    fleet: dict[str, FleetItem]
    notes: list[str]


@dataclass
class BuildContext:
    """What every stage reads (scenario, catalog, fleet) and adds to (carriers, processes).

    Region lists hold every region of ``scenario.regions`` where a process *could* exist,
    disabled ones included: the network makes a disabled region unavailable, so nothing is
    deleted from the chain when a region is switched off.
    """

    scenario: Scenario
    cat: Catalog
    fleet: dict[str, FleetItem]
    carriers: dict[str, CarrierSpec] = field(default_factory=dict)
    processes: list[ProcessSpec] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def regions(self) -> list[str]:
        """Every region of the scenario, enabled or not."""
        return list(self.scenario.regions)

    @property
    def enabled(self) -> list[str]:
        return self.scenario.enabled_regions

    @property
    def fab_regions(self) -> list[str]:
        """Regions where the scenario and the catalog allow fabs (and HBM, CoWoS lines)."""
        return [
            r
            for r in self.regions
            if self.scenario.regions[r].fabs
            and float(self.cat.value(f"regions.{r}.fab_allowed", 0.0)) > 0
        ]

    @property
    def dc_regions(self) -> list[str]:
        return [r for r in self.regions if self.scenario.regions[r].datacenters]

    @property
    def custom(self) -> list[FleetItem]:
        """Own designs that have a silicon description."""
        return [it for it in self.fleet.values() if it.kind == "custom" and it.spec is not None]

    @property
    def merchant(self) -> list[FleetItem]:
        return [it for it in self.fleet.values() if it.kind == "merchant"]

    def add_carrier(self, spec: CarrierSpec) -> None:
        self.carriers[spec.name] = spec

    def add(self, process: ProcessSpec) -> None:
        self.processes.append(process)

    def supplier(self, key: str) -> list[str] | None:
        """Where third-party supply ``key`` (foundry, hbm, cowos, merchant) is made.

        The supply is placed in its region whether or not that region is enabled; a note
        tells the user when it is disabled (so the supply is unavailable to the plan).
        """
        r = self.scenario.market.supplier_regions.get(key)
        if r is None or r not in self.scenario.regions:
            self.notes.append(
                f"{key} supply made in {r} is unavailable: {r} is not a region of the "
                f"scenario (market.supplier_regions.{key})."
            )
            return None
        if not self.scenario.regions[r].enabled:
            self.notes.append(
                f"{key} supply made in {r} is unavailable: {r} is disabled "
                f"(market.supplier_regions.{key})."
            )
        return [r]


def carrier(
    name: str,
    unit: str,
    scale: float,
    kind: CarrierKind = CarrierKind.QUANTITY,
    scope: Scope = Scope.GLOBAL,
    storable: bool = True,
) -> CarrierSpec:
    return CarrierSpec(name=name, unit=unit, scale=scale, kind=kind, scope=scope, storable=storable)


def yearly_from_monthly(series: Any, share: float) -> Any:
    """wafers/month series → wafers/year available to the plan at ``share``."""
    if isinstance(series, dict):
        return {int(k): float(v) * 12.0 * share for k, v in series.items()}
    return float(series) * 12.0 * share


def scaled(series: Any, factor: float) -> Any:
    if isinstance(series, dict):
        return {int(k): float(v) * factor for k, v in series.items()}
    return float(series) * factor


def wafer_line(
    cat: Catalog,
    name: str,
    category: Category,
    regions: list[str],
    carrier_name: str,
    base: str,
    key: str = "",
    **extra: Any,
) -> ProcessSpec:
    """A buildable line making wafers (a fab, an HBM line, a CoWoS line) from catalog
    records ``{base}.{key}capex_usd_per_wpm``, ``opex_usd_per_wafer``, ``build_years``,
    ``ramp_years`` and ``life_years``; capex per wafer/month becomes per wafer/year."""
    return ProcessSpec(
        name=name,
        category=category,
        regions=regions,
        activity_unit="wafers/year",
        outputs={carrier_name: 1.0},
        capex_usd_per_unit=cat.number(f"{base}.{key}capex_usd_per_wpm") / 12.0,
        var_cost_usd_per_unit=cat.number(f"{base}.{key}opex_usd_per_wafer"),
        lead_years=cat.number(f"{base}.{key}build_years"),
        ramp_years=cat.number(f"{base}.{key}ramp_years"),
        life_years=cat.number(f"{base}.{key}life_years"),
        regional_multiplier="fab_capex_multiplier",
        source=f"catalog {base}.{key}*",
        **extra,
    )


def market(
    cat: Catalog,
    name: str,
    category: Category,
    regions: list[str],
    carrier_name: str,
    supply_id: str,
    share: float,
    price_usd: float = 0.0,
    unit: str = "wafers/year",
    label: str = "",
) -> ProcessSpec:
    """A share of existing third-party capacity (a wafers/month series), bought at a price."""
    return ProcessSpec(
        name=name,
        category=category,
        regions=regions,
        activity_unit=unit,
        outputs={carrier_name: 1.0},
        var_cost_usd_per_unit=price_usd,
        existing=yearly_from_monthly(cat.record(supply_id).value, share),
        buildable=False,
        source=f"{supply_id} x market share {share}",
        label=label,
    )
