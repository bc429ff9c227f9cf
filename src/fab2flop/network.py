"""The supply-chain network as labelled arrays: what both the optimiser and the simulator read.

:func:`build_network` turns a scenario (plus the catalog) into a :class:`Network`, whose
``ds`` is one xarray Dataset with dimensions ``process``, ``region``, ``period``,
``carrier`` and ``accelerator``. Every array is in natural units (USD, wafers, MW, FLOP/s);
the optimiser scales them for conditioning. Nothing here knows about the solver.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .catalog import Catalog, load_catalog
from .constants import ACCELERATOR, CARRIER, PERIOD, PROCESS, REGION, CarrierKind, Scope
from .errors import NetworkError, ScenarioError
from .events import EventArrays, EventIndex, apply_events
from .scenario import CarrierSpec, ProcessSpec, Scenario
from .supplychain import MW_IT, MW_POWER, FleetItem, SupplyChain, build_supply_chain
from .supplychain.installed import installed_fleet_units
from .timeseries import Periods, series_at

INF = np.inf


@dataclass
class Network:
    """Labelled arrays of one scenario, plus the specs they came from."""

    ds: xr.Dataset
    scenario: Scenario
    catalog: Catalog
    periods: Periods
    processes: list[ProcessSpec]
    carriers: dict[str, CarrierSpec]
    fleet: dict[str, FleetItem]
    notes: list[str] = field(default_factory=list)
    build_seconds: float = 0.0
    events_applied: list[dict[str, Any]] = field(default_factory=list)

    @property
    def regions(self) -> list[str]:
        return list(self.ds.indexes[REGION])

    @property
    def process_names(self) -> list[str]:
        return list(self.ds.indexes[PROCESS])

    def process(self, name: str) -> ProcessSpec:
        for p in self.processes:
            if p.name == name:
                return p
        raise KeyError(name)


def _funding(scenario: Scenario, periods: Periods, notes: list[str]) -> np.ndarray:
    """Money arriving in each period [USD], all funders together."""
    return _funding_by_funder(scenario, periods, notes)[1].sum(axis=0)


def _funding_by_funder(
    scenario: Scenario, periods: Periods, notes: list[str]
) -> tuple[list[str], np.ndarray]:
    """Money arriving in each period from each funder [USD]: names and a (funder, period)
    array, from the funders' shares and profiles (one row ``budget`` when none is given).

    A funder's money is spread over its own years ``start..end`` by its profile; years
    outside the horizon are lost to the plan (and said so in ``notes``).
    """
    b = scenario.budget
    funders = b.funders
    if not funders:  # the whole budget, flat over the horizon
        return ["budget"], np.full((1, len(periods)), b.total_usd / len(periods))
    out = np.zeros((len(funders), len(periods)))
    dt = periods.dt
    for i, f in enumerate(funders):
        amount = f.amount_usd if f.amount_usd is not None else (f.share or 0.0) * b.total_usd
        years = np.arange(f.start, f.end + 1, dtype=float)  # the funder's own years
        k = np.arange(len(years), dtype=float)
        if f.profile == "flat":
            w = np.ones_like(k)
        elif f.profile == "ramp_up":
            w = k + 1.0
        else:  # front_loaded
            w = k[::-1] + 1.0
        # a year's money is the same whatever the period length: split evenly into periods
        sub = np.arange(0.0, 1.0, dt)
        own = (years[:, None] + sub[None, :]).ravel()
        w = np.repeat(w / w.sum(), len(sub)) / len(sub)
        idx = np.searchsorted(periods.years, own - 1e-9)
        hit = periods.years[np.clip(idx, 0, len(periods) - 1)]
        ok = (idx < len(periods)) & (np.abs(hit - own) < 1e-9)
        np.add.at(out[i], idx[ok], amount * w[ok])
        lost = amount * w[~ok].sum()
        if lost > 0:
            notes.append(
                f"funder {f.name}: ${lost / 1e9:,.0f}B of its money arrives outside the "
                "horizon and is not available to the plan"
            )
    shares = sum(f.share or 0.0 for f in funders)
    if all(f.share is not None for f in funders) and shares < 1 - 1e-9:
        notes.append(
            f"funders' shares add up to {shares:.0%}: {1 - shares:.0%} of budget.total_usd "
            "has no funder and never arrives"
        )
    return [f.name for f in funders], out


def _pue(procs: list[ProcessSpec]) -> float:
    """Facility MW per MW of IT: the power input of the process that makes MW of IT."""
    for p in procs:
        if p.outputs.get(MW_IT) and MW_POWER in p.inputs and p.buildable:
            return float(p.inputs[MW_POWER] / p.outputs[MW_IT])
    return 1.0


def _regional(p: ProcessSpec, attr: str, r: str, default):
    rv = p.by_region.get(r)
    if rv is not None and getattr(rv, attr) is not None:
        return getattr(rv, attr)
    return default


def build_network(scenario: Scenario, catalog: Catalog | None = None) -> Network:
    """The network of ``scenario``: its supply chain from the catalog, as labelled arrays.

    Checked first as ``run`` checks it (:func:`fab2flop.checks.validate_scenario_deep`): a
    bad scenario raises a ScenarioError naming the field.
    """
    from .checks import validate_scenario_deep

    return validate_scenario_deep(scenario, catalog)


def build_network_unchecked(scenario: Scenario, catalog: Catalog | None = None) -> Network:
    """:func:`build_network` without the front-door checks (they call this)."""
    from ._compat import defer_dask_import

    defer_dask_import()  # before the first xarray array (no-op once dask is loaded)
    t0 = time.perf_counter()
    base_cat = catalog or load_catalog()
    cat = base_cat.with_overrides(scenario.catalog)
    net = assemble_network(scenario, cat, build_supply_chain(scenario, cat))
    net.build_seconds = time.perf_counter() - t0
    return net


def assemble_network(scenario: Scenario, cat: Catalog, sc: SupplyChain) -> Network:
    """Turn given processes, carriers and fleet into the network arrays.

    Tests and advanced users can pass a hand-made :class:`SupplyChain` here.
    """
    t0 = time.perf_counter()
    periods = Periods.from_range(scenario.time.start, scenario.time.end, scenario.time.step)
    procs, carriers, fleet = sc.processes, sc.carriers, sc.fleet
    # every region of the scenario, disabled ones too: a disabled region is availability 0
    # over the horizon, not deleted structure (events and replay see one shape)
    regions = list(scenario.regions)
    enabled = np.array([scenario.regions[r].enabled for r in regions], bool)
    P, R, T = len(procs), len(regions), len(periods)
    pidx = pd.Index([p.name for p in procs], name=PROCESS)
    ridx = pd.Index(regions, name=REGION)
    cidx = pd.Index(list(carriers), name=CARRIER)
    aidx = pd.Index(list(fleet), name=ACCELERATOR)
    years = periods.years
    c_pos = {c: i for i, c in enumerate(cidx)}

    exists = np.zeros((P, R), bool)
    active = np.ones((P, T), bool)
    capex = np.zeros((P, R, T))
    var = np.zeros((P, R, T))
    existing = np.zeros((P, R, T))
    max_cap = np.full((P, R, T), INF)
    max_new = np.full((P, R, T), INF)
    io = np.zeros((P, len(cidx)))
    build_io = np.zeros((P, len(cidx)))
    lead = np.zeros(P, int)
    ramp = np.zeros(P, int)
    life = np.zeros(P, int)
    fixed = np.zeros(P)
    avail = np.ones((P, R, T))
    buildable = np.zeros(P, bool)
    unlimited = np.zeros(P, bool)
    category = np.empty(P, dtype=object)
    unit = np.empty(P, dtype=object)
    out_carrier = np.empty(P, dtype=object)

    for i, p in enumerate(procs):
        for c, v in list(p.outputs.items()) + [(c, -v) for c, v in p.inputs.items()]:
            if c not in c_pos:
                raise NetworkError(
                    f"process {p.name!r} uses carrier {c!r}, which no process defines; "
                    f"known carriers: {', '.join(cidx)}"
                )
            io[i, c_pos[c]] += v
        for c, v in p.build_inputs.items():
            if c not in c_pos:
                raise NetworkError(f"process {p.name!r}: build input {c!r} is not a carrier")
            build_io[i, c_pos[c]] += v
        out_carrier[i] = next(iter(p.outputs))
        lead[i] = periods.periods_for(p.lead_years)
        ramp[i] = periods.periods_for(p.ramp_years)
        life[i] = max(1, periods.periods_for(p.life_years))
        fixed[i] = p.fixed_om_usd_per_unit_year
        avail[i] = p.availability
        buildable[i] = p.buildable
        unlimited[i] = p.unlimited
        category[i] = p.category.value
        unit[i] = p.activity_unit
        lo = p.available_from if p.available_from is not None else -np.inf
        hi = p.available_until + 1 if p.available_until is not None else np.inf
        active[i] = (years >= lo) & (years < hi)
        trend = (1.0 + p.capex_trend_per_year) ** (years - scenario.currency_base_year)
        for j, r in enumerate(regions):
            if r not in p.regions:
                continue
            exists[i, j] = True
            mult = 1.0
            if p.regional_multiplier:
                rid = f"regions.{r}.{p.regional_multiplier}"
                mult = cat.number(rid) if rid in cat else 1.0
            mult = _regional(p, "capex_multiplier", r, mult)
            capex[i, j] = series_at(p.capex_usd_per_unit, years) * trend * mult
            var[i, j] = series_at(
                _regional(p, "var_cost_usd_per_unit", r, p.var_cost_usd_per_unit), years
            )
            existing[i, j] = series_at(_regional(p, "existing", r, p.existing), years)
            mc = _regional(p, "max_capacity", r, p.max_capacity)
            if mc is not None:
                max_cap[i, j] = series_at(mc, years)
            mn = _regional(p, "max_new_per_year", r, p.max_new_per_year)
            if mn is not None:
                max_new[i, j] = series_at(mn, years)
        unknown = set(p.regions) - set(regions)
        if unknown:
            raise ScenarioError(
                f"process {p.name!r}: unknown regions {sorted(unknown)}",
                [(f"processes.{p.name}.regions", sorted(unknown), f"regions of {regions}")],
            )
    avail *= enabled[None, :, None]
    destroyed = np.zeros((P, R, T))
    open_lead = np.broadcast_to(lead[:, None, None], (P, R, T)).copy()
    if (existing < 0).any():
        bad = procs[int(np.argwhere(existing < 0)[0][0])].name
        raise NetworkError(f"process {bad!r} has negative existing capacity")

    # carriers
    kind = np.array([carriers[c].kind.value for c in cidx], dtype=object)
    scope = np.array([carriers[c].scope.value for c in cidx], dtype=object)
    storable = np.array(
        [carriers[c].storable and carriers[c].kind is CarrierKind.QUANTITY for c in cidx]
    )
    c_scale = np.array([carriers[c].scale for c in cidx])
    c_unit = np.array([carriers[c].unit for c in cidx], dtype=object)
    # every consumed carrier needs a producer (else the plan silently cannot use it)
    for j, c in enumerate(cidx):
        if (io[:, j] > 0).sum() == 0 and ((io[:, j] < 0).any() or (build_io[:, j] > 0).any()):
            raise NetworkError(f"carrier {c!r} is consumed but no process produces it")
        if carriers[c].kind is CarrierKind.RATE and carriers[c].scope is Scope.GLOBAL:
            raise NetworkError(f"carrier {c!r}: a rate carrier must be regional")

    # fleet
    a_carrier = np.array([f.carrier for f in fleet.values()], dtype=object)
    flops = np.array([f.flops_bf16_dense for f in fleet.values()])
    # FP8 / FP4 peaks; a part without the format runs it at the next wider one
    flops8 = np.array([f.flops_fp8_dense or f.flops_bf16_dense for f in fleet.values()])
    flops4 = np.array(
        [f.flops_fp4_dense or f8 for f, f8 in zip(fleet.values(), flops8, strict=True)]
    )
    kw = np.array([f.kw_it_per_unit for f in fleet.values()])
    a_life = np.array([max(1, periods.periods_for(f.life_years)) for f in fleet.values()])
    a_cost = np.array([[f.unit_cost_usd] * T for f in fleet.values()]).reshape(len(fleet), T)
    a_deploy = np.array([[f.deploy_cost_usd] * T for f in fleet.values()]).reshape(len(fleet), T)
    dc_region = np.array([scenario.regions[r].datacenters for r in regions]) & enabled
    a_installed = installed_fleet_units(scenario, fleet, regions, years)  # the starting fleet
    # what each installed accelerator occupies of regional rate carriers [natural units/unit]
    draw = np.zeros((len(fleet), len(cidx)))
    if MW_IT in c_pos:
        draw[:, c_pos[MW_IT]] = kw / 1e3
    pue = np.full(R, _pue(procs))
    deploy_cap = np.full((R, T), INF)
    for j, r in enumerate(regions):
        cap_v: Any = scenario.regions[r].accelerator_cap_units_per_year
        if cap_v is None:
            cap_v = cat.value(f"regions.{r}.accelerator_cap_units_per_year", None)
        if cap_v is not None:
            deploy_cap[j] = series_at(cap_v, years)
    if MW_IT not in c_pos and fleet:
        raise NetworkError(f"no process produces {MW_IT!r}: the fleet has nowhere to run")

    # money
    notes = list(sc.notes)
    funders, by_funder = _funding_by_funder(scenario, periods, notes)
    events_applied: list[dict[str, Any]] = []
    if scenario.events:
        # the contract arrays an event may change, modified in place
        arrays = EventArrays(
            availability=avail,
            destroyed_fraction=destroyed,
            existing=existing,
            open_lead_periods=open_lead,
            capex_usd_per_unit=capex,
            var_cost_usd_per_unit=var,
            acc_unit_cost_usd=a_cost,
            acc_deploy_cost_usd=a_deploy,
            deploy_cap_units_per_year=deploy_cap,
            funding_by_funder=by_funder,
        )
        index = EventIndex(
            processes=list(pidx),
            categories=[str(c) for c in category],
            main_output=[str(c) for c in out_carrier],
            exists=exists,
            buildable=buildable & ~unlimited,
            lead=lead,
            regions=regions,
            periods=list(periods.labels),
            years=years,
            dt=periods.dt,
            acc_carrier=[f.carrier for f in fleet.values()],
            acc_merchant=np.array([f.kind == "merchant" for f in fleet.values()], bool),
            funders=funders,
        )
        events_applied = apply_events(list(scenario.events), arrays, index)
    funding = by_funder.sum(axis=0)
    disc = (1.0 + scenario.objective.discount_rate) ** -(years - years[0])

    dims_prt = (PROCESS, REGION, PERIOD)
    ds = xr.Dataset(
        {
            "exists": ((PROCESS, REGION), exists),
            "active": ((PROCESS, PERIOD), active),
            "capex_usd_per_unit": (dims_prt, capex),
            "var_cost_usd_per_unit": (dims_prt, var),
            "existing": (dims_prt, existing),
            "max_capacity": (dims_prt, max_cap),
            "max_new_per_year": (dims_prt, max_new),
            "io": ((PROCESS, CARRIER), io),
            "build_io": ((PROCESS, CARRIER), build_io),
            "lead_periods": (PROCESS, lead),
            "ramp_periods": (PROCESS, ramp),
            "life_periods": (PROCESS, life),
            "fixed_om_usd_per_unit_year": (PROCESS, fixed),
            "availability": (dims_prt, avail),
            "destroyed_fraction": (dims_prt, destroyed),
            "open_lead_periods": (dims_prt, open_lead),
            "buildable": (PROCESS, buildable),
            "unlimited": (PROCESS, unlimited),
            "category": (PROCESS, category.astype(str)),
            "activity_unit": (PROCESS, unit.astype(str)),
            "main_output": (PROCESS, out_carrier.astype(str)),
            "carrier_kind": (CARRIER, kind.astype(str)),
            "carrier_scope": (CARRIER, scope.astype(str)),
            "carrier_storable": (CARRIER, storable),
            "carrier_scale": (CARRIER, c_scale),
            "carrier_unit": (CARRIER, c_unit.astype(str)),
            "acc_carrier": (ACCELERATOR, a_carrier.astype(str)),
            "flops_bf16_dense": (ACCELERATOR, flops),
            "flops_fp8_dense": (ACCELERATOR, flops8.astype(float)),
            "flops_fp4_dense": (ACCELERATOR, flops4.astype(float)),
            "kw_it_per_unit": (ACCELERATOR, kw),
            "acc_life_periods": (ACCELERATOR, a_life),
            "acc_installed_units": ((ACCELERATOR, REGION, PERIOD), a_installed),
            "acc_unit_cost_usd": ((ACCELERATOR, PERIOD), a_cost),
            "acc_deploy_cost_usd": ((ACCELERATOR, PERIOD), a_deploy),
            "fleet_draw": ((ACCELERATOR, CARRIER), draw),
            "region_enabled": (REGION, enabled),
            "pue": (REGION, pue),
            "datacenter_region": (REGION, dc_region),
            "deploy_cap_units_per_year": ((REGION, PERIOD), deploy_cap),
            "funding_usd": (PERIOD, funding),
            "discount": (PERIOD, disc),
        },
        coords={
            PROCESS: pidx,
            REGION: ridx,
            PERIOD: periods.labels,
            CARRIER: cidx,
            ACCELERATOR: aidx,
            "year": (PERIOD, years),
        },
        attrs={"dt_years": periods.dt, "scenario": scenario.name, "data_hash": cat.data_hash},
    )
    return Network(
        ds=ds,
        scenario=scenario,
        catalog=cat,
        periods=periods,
        processes=procs,
        carriers=carriers,
        fleet=fleet,
        notes=notes,
        build_seconds=time.perf_counter() - t0,
        events_applied=events_applied,
    )
