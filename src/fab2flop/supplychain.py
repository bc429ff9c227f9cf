"""From scenario + catalog to the processes and carriers of the supply-chain network.

This module holds the domain knowledge of *which* processes exist (a fab per node, an HBM
line, stacking per HBM generation, CoWoS lines, market reservations, assembly of each own
design, purchases of merchant parts, data centers, power plants, grid supply). Each becomes
a plain :class:`~fab2flop.scenario.ProcessSpec` — the same schema a user writes in a
scenario file to add a process — so the optimiser and the simulator see only data.

Naming: carriers ``wafer_<node>``, ``hbm_wafer``, ``<gen>_stack``, ``cowos_wafer``,
``acc_<accelerator>``, ``mw_it``, ``mw_power``, ``power_build_mw``; allocation carriers
``alloc_<market>`` for shares of third-party supply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .catalog import Catalog
from .constants import HOURS_PER_YEAR, CarrierKind, Category, Scope
from .errors import ScenarioError
from .scenario import CarrierSpec, ProcessSpec, RegionalValues, Scenario

if TYPE_CHECKING:
    from .components.accelerator import AcceleratorSpec

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
    deploy_cost_usd: float  # servers, CPUs and networking bought with each unit [USD]
    available_from: int
    available_until: int | None
    spec: AcceleratorSpec | None = None


@dataclass
class SupplyChain:
    carriers: dict[str, CarrierSpec]
    processes: list[ProcessSpec]
    fleet: dict[str, FleetItem]
    notes: list[str]


def _c(
    name: str,
    unit: str,
    scale: float,
    kind=CarrierKind.QUANTITY,
    scope=Scope.GLOBAL,
    storable: bool = True,
) -> CarrierSpec:
    return CarrierSpec(name=name, unit=unit, scale=scale, kind=kind, scope=scope, storable=storable)


def _yearly_from_monthly(series: Any, share: float) -> Any:
    """wafers/month series → wafers/year available to the plan at ``share``."""
    if isinstance(series, dict):
        return {int(k): float(v) * 12.0 * share for k, v in series.items()}
    return float(series) * 12.0 * share


def _scaled(series: Any, factor: float) -> Any:
    if isinstance(series, dict):
        return {int(k): float(v) * factor for k, v in series.items()}
    return float(series) * factor


def _wafer_line(
    cat: Catalog,
    name: str,
    category: Category,
    regions: list[str],
    carrier: str,
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
        outputs={carrier: 1.0},
        capex_usd_per_unit=cat.number(f"{base}.{key}capex_usd_per_wpm") / 12.0,
        var_cost_usd_per_unit=cat.number(f"{base}.{key}opex_usd_per_wafer"),
        lead_years=cat.number(f"{base}.{key}build_years"),
        ramp_years=cat.number(f"{base}.{key}ramp_years"),
        life_years=cat.number(f"{base}.{key}life_years"),
        regional_multiplier="fab_capex_multiplier",
        source=f"catalog {base}.{key}*",
        **extra,
    )


def _market(
    cat: Catalog,
    name: str,
    category: Category,
    regions: list[str],
    carrier: str,
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
        outputs={carrier: 1.0},
        var_cost_usd_per_unit=price_usd,
        existing=_yearly_from_monthly(cat.record(supply_id).value, share),
        buildable=False,
        source=f"{supply_id} x market share {share}",
        label=label,
    )


def build_fleet(scenario: Scenario, cat: Catalog) -> dict[str, FleetItem]:
    """Evaluate every accelerator the scenario may buy or build."""
    from .components.accelerator import design_from_catalog, evaluate

    life = cat.number("datacenters.fleet.accelerator_life_years")
    sys_frac = cat.number("datacenters.fleet.system_capex_fraction")
    fleet: dict[str, FleetItem] = {}
    names: list[tuple[str, dict[str, Any]]] = [(n, {}) for n in scenario.accelerators.merchant]
    names += list(scenario.accelerators.custom.items())
    for name, overrides in names:
        try:
            design = design_from_catalog(name, cat, **(overrides or {}))
            spec = evaluate(design, cat)
        except Exception as exc:  # DesignError / CatalogError / ValidationError
            raise ScenarioError(
                f"accelerators: {name!r} cannot be built: {exc}",
                [(f"accelerators.{name}", overrides, str(exc))],
            ) from exc
        if name not in scenario.accelerators.custom and spec.kind != "merchant":
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
        is_custom = name in scenario.accelerators.custom
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
        unit_cost = spec.unit_cost_usd if is_custom else spec.price_usd
        vendor = str(cat.value(f"accelerators.{name}.vendor", "own"))
        fleet[name] = FleetItem(
            name=name,
            kind="custom" if is_custom else "merchant",
            vendor=vendor,
            carrier=acc_carrier(name),
            flops_bf16_dense=float(spec.flops_bf16_dense),
            kw_it_per_unit=float(spec.kw_it_per_unit),
            life_years=life,
            unit_cost_usd=float(unit_cost or 0.0),
            deploy_cost_usd=float(unit_cost or 0.0) * sys_frac,
            available_from=int(spec.available_from or scenario.time.start),
            available_until=int(spec.available_until) if spec.available_until else None,
            spec=spec,
        )
    return fleet


def build_supply_chain(scenario: Scenario, cat: Catalog) -> SupplyChain:
    """All carriers and processes of the scenario (generated, then user-defined)."""
    notes: list[str] = []
    regions = scenario.enabled_regions
    fab_regions = [
        r
        for r in regions
        if scenario.regions[r].fabs and float(cat.value(f"regions.{r}.fab_allowed", 0.0)) > 0
    ]
    dc_regions = [r for r in regions if scenario.regions[r].datacenters]
    mk = scenario.market
    carriers: dict[str, CarrierSpec] = {}
    procs: list[ProcessSpec] = []

    fleet = build_fleet(scenario, cat)

    def supplier(key: str) -> list[str] | None:
        r = mk.supplier_regions.get(key)  # type: ignore[call-overload]
        if r in regions:
            return [r]
        notes.append(
            f"{key} supply made in {r} is unavailable: {r} is disabled "
            f"(market.supplier_regions.{key})."
        )
        return None

    # ---- logic wafers: own fabs and reserved foundry capacity --------------------------
    nodes_needed: set[str] = set()
    for item in fleet.values():
        if item.kind == "custom":
            nodes_needed.update(item.spec.wafers_per_unit if item.spec else {})
    fab_nodes = [n for n in scenario.technologies.fab_nodes if n in nodes_needed]
    for node in sorted(nodes_needed | set(fab_nodes)):
        carriers[wafer_carrier(node)] = _c(wafer_carrier(node), "wafers", 1e3)
        base = f"nodes.{node}"
        if node in fab_nodes and fab_regions:
            first = int(cat.number(f"{base}.first_volume_year"))
            procs.append(
                _wafer_line(
                    cat,
                    f"fab_{node}",
                    Category.FABS,
                    fab_regions,
                    wafer_carrier(node),
                    base,
                    key="fab_",
                    available_from=first,
                )
            )
        sid = f"supply.wafers.{node}.world_wpm"
        at = supplier("foundry")
        if sid in cat and mk.foundry_share > 0 and at:
            price = cat.number(f"{base}.wafer_price_usd")
            procs.append(
                _market(
                    cat,
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

    # ---- HBM: own DRAM lines + stacking, or market stacks within a share of supply -------
    gens: set[str] = {
        str(it.spec.hbm_generation) for it in fleet.values() if it.kind == "custom" and it.spec
    }
    if gens:
        carriers[HBM_WAFER] = _c(HBM_WAFER, "wafers", 1e3)
        if scenario.technologies.hbm_lines and fab_regions:
            procs.append(
                _wafer_line(
                    cat, "hbm_line", Category.MEMORY, fab_regions, HBM_WAFER, "memory.hbm_line"
                )
            )
        hbm_sid = "supply.memory.hbm.world_wpm"
        hbm_at = supplier("hbm")
        if hbm_sid in cat and mk.hbm_share > 0 and hbm_at:
            # a share of a year's supply: used that year or lost, never banked
            carriers["alloc_hbm"] = _c("alloc_hbm", "wafer-equivalents", 1e3, storable=False)
            procs.append(
                _market(
                    cat,
                    "hbm_market",
                    Category.MEMORY,
                    hbm_at,
                    "alloc_hbm",
                    hbm_sid,
                    mk.hbm_share,
                    unit="wafer-equivalents/year",
                    label="HBM supply bought from SK hynix/Samsung/Micron",
                )
            )
        for gen in sorted(gens):
            sc = stack_carrier(gen)
            carriers[sc] = _c(sc, "stacks", 1e6)
            spw = cat.number(f"memory.{gen}.stacks_per_wafer")
            first = int(cat.number(f"memory.{gen}.first_volume_year"))
            procs.append(
                ProcessSpec(
                    name=f"stack_{gen}",
                    category=Category.MEMORY,
                    regions=regions,
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
            if "alloc_hbm" in carriers:
                procs.append(
                    ProcessSpec(
                        name=f"buy_{gen}",
                        category=Category.MEMORY,
                        regions=hbm_at or [],
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

    # ---- CoWoS-class packaging -----------------------------------------------------------
    if any(it.kind == "custom" for it in fleet.values()):
        carriers[COWOS_WAFER] = _c(COWOS_WAFER, "wafers", 1e3)
        if scenario.technologies.packaging_lines and fab_regions:
            procs.append(
                _wafer_line(
                    cat,
                    "cowos_line",
                    Category.PACKAGING,
                    fab_regions,
                    COWOS_WAFER,
                    "packaging.cowos",
                )
            )
        cw_sid = "supply.packaging.cowos.world_wpm"
        cw_at = supplier("cowos")
        if cw_sid in cat and mk.cowos_share > 0 and cw_at:
            price = cat.number("packaging.cowos.price_usd_per_wafer")
            procs.append(
                _market(
                    cat,
                    "cowos_market",
                    Category.PACKAGING,
                    cw_at,
                    COWOS_WAFER,
                    cw_sid,
                    mk.cowos_share,
                    price,
                    label="CoWoS capacity reserved at TSMC",
                )
            )

    # ---- accelerators: assemble own designs, buy merchant parts --------------------------
    asm_regions = [r for r in scenario.accelerators.assembly_regions if r in regions]
    merchant_at = (
        supplier("merchant") if any(f.kind == "merchant" for f in fleet.values()) else None
    )
    vendors_supply = {
        "NVIDIA": "supply.merchant.nvidia_dc_gpus_per_year",
        "AMD": "supply.merchant.amd_dc_gpus_per_year",
    }
    for item in fleet.values():
        carriers[item.carrier] = _c(item.carrier, "units", 1e6)
        spec = item.spec
        if item.kind == "custom" and spec is not None:
            if not asm_regions:
                raise ScenarioError(
                    "accelerators.assembly_regions: none of "
                    f"{scenario.accelerators.assembly_regions} is enabled",
                    [
                        (
                            "accelerators.assembly_regions",
                            scenario.accelerators.assembly_regions,
                            f"at least one of the enabled regions {regions}",
                        )
                    ],
                )
            inputs = {wafer_carrier(n): float(w) for n, w in spec.wafers_per_unit.items()}
            inputs[stack_carrier(str(spec.hbm_generation))] = float(spec.hbm_stacks_per_unit or 0)
            inputs[COWOS_WAFER] = float(spec.packaging_wafers_per_unit or 0)
            nre_per_unit = (spec.nre_usd or 0.0) / max(spec.volume_units or 1.0, 1.0)
            procs.append(
                ProcessSpec(
                    name=f"assemble_{item.name}",
                    category=Category.ACCELERATORS,
                    regions=asm_regions,
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
        elif merchant_at:
            vkey = item.vendor.upper()
            alloc = f"alloc_{vkey.lower()}"
            sid = vendors_supply.get(vkey, "")
            if not sid or sid not in cat:
                raise ScenarioError(
                    f"accelerators.merchant: {item.name!r} is sold by {item.vendor!r}, whose "
                    "output the catalog does not give (supply.merchant.<vendor>_dc_gpus_per_"
                    "year), so its supply to the plan would be unlimited",
                    [("accelerators.merchant", item.name, "an NVIDIA or AMD part")],
                )
            if alloc not in carriers:
                carriers[alloc] = _c(alloc, "units", 1e6, storable=False)
                procs.append(
                    ProcessSpec(
                        name=f"{vkey.lower()}_supply",
                        category=Category.MERCHANT,
                        regions=merchant_at,
                        activity_unit="units/year",
                        outputs={alloc: 1.0},
                        existing=_scaled(cat.record(sid).value, mk.merchant_share),
                        buildable=False,
                        source=f"{sid} x market.merchant_share",
                        label=f"{item.vendor} GPUs available to buy",
                    )
                )
            procs.append(
                ProcessSpec(
                    name=f"buy_{item.name}",
                    category=Category.MERCHANT,
                    regions=merchant_at,
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

    # ---- data centers, power plants, grid -------------------------------------------------
    carriers[MW_IT] = _c(MW_IT, "MW", 1e3, CarrierKind.RATE, Scope.REGIONAL)
    carriers[MW_POWER] = _c(MW_POWER, "MW", 1e3, CarrierKind.RATE, Scope.REGIONAL)
    util = cat.number("datacenters.fleet.utilization")
    dc = "datacenters.ai_campus"
    if dc_regions:
        procs.append(
            ProcessSpec(
                name="datacenter",
                category=Category.DATACENTERS,
                regions=dc_regions,
                activity_unit="MW",
                outputs={MW_IT: 1.0},
                inputs={MW_POWER: cat.number(f"{dc}.pue")},
                capex_usd_per_unit=cat.number(f"{dc}.capex_usd_per_mw_it"),
                fixed_om_usd_per_unit_year=cat.number(f"{dc}.fixed_om_usd_per_mw_it_year"),
                lead_years=cat.number(f"{dc}.build_years"),
                ramp_years=cat.number(f"{dc}.ramp_years"),
                life_years=cat.number(f"{dc}.life_years"),
                regional_multiplier="datacenter_capex_multiplier",
                source=f"catalog {dc}.*",
            )
        )
        lease_id = "datacenters.lease.market_mw_it"
        lease_region = str(cat.value("datacenters.lease.region", "US"))
        if lease_id in cat and lease_region in dc_regions:
            # leased colocation comes with its own grid connection: rent and electricity
            # (at the region's industrial price, with the campus PUE) are its variable cost
            rent = cat.number(f"{dc}.lease_usd_per_kw_month") * 12.0 * 1e3  # USD per MW-year
            price = float(cat.value(f"regions.{lease_region}.electricity_price_usd_per_mwh", 0.0))
            energy = price * HOURS_PER_YEAR * util * cat.number(f"{dc}.pue")
            procs.append(
                ProcessSpec(
                    name="datacenter_lease",
                    category=Category.DATACENTERS,
                    regions=[lease_region],
                    activity_unit="MW",
                    outputs={MW_IT: 1.0},
                    var_cost_usd_per_unit=rent + energy,
                    existing=cat.record(lease_id).value,
                    buildable=False,
                    source=f"{lease_id}; {dc}.lease_usd_per_kw_month; electricity price",
                    label="leasable data-center capacity",
                )
            )
        carriers[POWER_BUILD] = CarrierSpec(
            name=POWER_BUILD, unit="MW", scale=1e3, scope=Scope.REGIONAL, storable=False
        )
        slots: dict[str, RegionalValues] = {}
        grid: dict[str, RegionalValues] = {}
        dcs: dict[str, RegionalValues] = {}
        for r in dc_regions:
            rc = scenario.regions[r]
            slot = rc.max_new_power_mw_per_year
            if slot is None:
                slot = cat.value(f"regions.{r}.max_new_power_mw_per_year", 0.0)
            slots[r] = RegionalValues(existing=slot)
            gmw = rc.grid_mw_available
            if gmw is None:
                gmw = cat.value(f"regions.{r}.grid_mw_available", 0.0)
            price = cat.value(f"regions.{r}.electricity_price_usd_per_mwh", None)
            if price is None:
                raise ScenarioError(
                    f"regions.{r}: the catalog has no electricity price for region {r!r}",
                    [(f"regions.{r}", r, f"a region of the catalog: {cat.group('regions')}")],
                )
            grid[r] = RegionalValues(
                existing=gmw, var_cost_usd_per_unit=price * HOURS_PER_YEAR * util
            )
            if rc.max_datacenter_mw is not None:
                dcs[r] = RegionalValues(max_capacity=rc.max_datacenter_mw)
        i_dc = next(i for i, p in enumerate(procs) if p.name == "datacenter")
        procs[i_dc] = procs[i_dc].model_copy(update={"by_region": dcs})
        procs.append(
            ProcessSpec(
                name="power_build_limit",
                category=Category.POWER,
                regions=dc_regions,
                activity_unit="MW/year",
                outputs={POWER_BUILD: 1.0},
                buildable=False,
                by_region=slots,
                source="regions.<R>.max_new_power_mw_per_year (turbines, interconnection)",
                label="power-plant construction starts",
            )
        )
        for tech in scenario.technologies.power:
            base = f"power.{tech}"
            if f"{base}.capex_usd_per_kw" not in cat:
                raise ScenarioError(
                    f"technologies.power: unknown technology {tech!r}",
                    [("technologies.power", tech, f"one of {cat.group('power')}")],
                )
            var_mwh = cat.number(f"{base}.var_om_usd_per_mwh") + cat.number(
                f"{base}.fuel_usd_per_mwh", 0.0
            )
            procs.append(
                ProcessSpec(
                    name=f"power_{tech}",
                    category=Category.POWER,
                    regions=dc_regions,
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
            )
        procs.append(
            ProcessSpec(
                name="grid",
                category=Category.OPERATIONS,
                regions=dc_regions,
                activity_unit="MW",
                outputs={MW_POWER: 1.0},
                buildable=False,
                by_region=grid,
                source="regions.<R>.grid_mw_available; regions.<R>.electricity_price_usd_per_mwh",
                label="grid power contracted",
            )
        )

    # ---- user-defined carriers and processes, then overrides ------------------------------
    for c in scenario.carriers:
        carriers[c.name] = c
    names = {p.name for p in procs}
    for p in scenario.processes:
        if p.name in names:
            raise ScenarioError(
                f"processes: {p.name!r} already exists (generated); use process_overrides",
                [("processes", p.name, "a new process name")],
            )
        procs.append(p)
    by_name = {p.name: i for i, p in enumerate(procs)}
    for pname, fields in scenario.process_overrides.items():
        if pname not in by_name:
            raise ScenarioError(
                f"process_overrides: no process {pname!r}",
                [(f"process_overrides.{pname}", fields, f"one of {sorted(by_name)}")],
            )
        i = by_name[pname]
        try:
            procs[i] = ProcessSpec.model_validate({**procs[i].model_dump(), **fields})
        except Exception as exc:
            raise ScenarioError(
                f"process_overrides.{pname}: {exc}",
                [(f"process_overrides.{pname}", fields, str(exc))],
            ) from None
    return SupplyChain(carriers, procs, fleet, list(dict.fromkeys(notes)))
