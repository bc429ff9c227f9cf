"""The world market: every AI-accelerator buyer and vendor on the same shared capacities.

The ``world`` scenario (``fab2flop run world``, ``data/scenarios/world.yaml``) is a small LP of
its own, solved with the LP layer (fab2flop.lp.core) + HiGHS like the plan's, over calendar years:

- **Parts** (``catalog world_accelerators``): Nvidia, AMD, Google TPU, AWS Trainium, Meta
  MTIA, Microsoft Maia, Huawei Ascend. Each unit takes logic wafers of its node, CoWoS
  wafers and HBM stacks (from the accelerator model where the part is in
  ``accelerators.yaml``, else from its own record). A part is ``merchant`` (any bloc buying
  from its vendor may get it) or owned by a bloc (only that bloc may get it); China-market
  parts are the only foreign parts an export-restricted bloc may get.
- **Blocs** (``catalog world_demand``): demand lines (bloc, vendor) in USD, units or H100e
  per year, from vendor revenue and announced capex.
- **Capacities** (``catalog supply``): TSMC N5-family, N3 and N2 wafers, CoWoS wafers and
  HBM wafers per year, shared by every part; the installed base (``catalog
  installed_base``) is the fleet standing at the start, retiring by its life.

Variables ``buy[line, part, year]`` (millions of units). Rows: each line's demand is an upper
bound (``demand``); each capacity bounds the sum over parts of units × use (``capacity``);
a part's first volume year is at most ``ramp_first_year_share`` of its vendor's units
(``ramp``). Objective (demand-following): maximise Σ_t δ_t Σ_lines served/demand, plus
10⁻³ × discounted H100e (buyers take the best FLOP/s per dollar among what they may buy).
docs/model.md ("The world market") states it; docs/validation.md backtests it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .catalog import Catalog, load_catalog
from .constants import H100_FLOPS_BF16_DENSE
from .errors import CatalogError, ScenarioError
from .lp import core
from .lp.terms import present
from .timeseries import series_at

WORLD_SCENARIO = "world"
PARTS = "world_accelerators"
DEMAND = "world_demand"
BASE = "installed_base"
# what a demand line counts: its catalog unit -> the quantity served
DEMAND_UNITS = {"USD/year": "usd", "units/year": "units", "H100e/year": "h100e"}
MERCHANT = "merchant"
MARKETS = ("world", "china")
# shared capacities: (resource, supply record, kind); logic nodes map onto a capacity
RESOURCES = {
    "wafer_N5": "supply.wafers.N5.world_wpm",
    "wafer_N3": "supply.wafers.N3.world_wpm",
    "wafer_N2": "supply.wafers.N2.world_wpm",
    "cowos": "supply.packaging.cowos.world_wpm",
    "hbm": "supply.memory.hbm.world_wpm",
}
ANNUAL_OUTPUT = {"cowos": "supply.packaging.cowos.annual_wafers"}  # sourced annual outputs
NODE_RESOURCE = {"N4": "wafer_N5", "N5": "wafer_N5", "N3": "wafer_N3", "N2": "wafer_N2"}
NODE_RESOURCE["A16"] = "wafer_N2"
UNIT_SCALE = 1e6  # model units: millions of accelerators, millions of wafers, billions USD
FILL_TIE = 1e-3  # objective weight of discounted H100e (millions) beside the fill shares


# ------------------------------------------------------------------ the scenario schema
class DemandLine(BaseModel):
    """A demand line given in the world scenario (replaces or adds to the catalog's)."""

    model_config = ConfigDict(extra="forbid")
    value: float | dict[int, float] = Field(description="amount per year, or {year: amount}")
    unit: str = Field(description="USD/year | units/year | H100e/year")


class WorldTime(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: int = Field(2023, ge=2015, le=2100, description="first calendar year [year]")
    end: int = Field(2030, ge=2015, le=2100, description="last calendar year [year]")


class WorldScenario(BaseModel):
    """``data/scenarios/world.yaml``: which blocs and parts, over which years."""

    model_config = ConfigDict(extra="forbid")
    name: str = "world"
    description: str = ""
    kind: str = Field("world", pattern="^world$", description="marks a world scenario file")
    time: WorldTime = Field(default_factory=WorldTime)
    blocs: list[str] | None = Field(None, description="blocs of world_demand; null: all")
    parts: list[str] | None = Field(None, description="parts of world_accelerators; null: all")
    demand: dict[str, dict[str, DemandLine]] = Field(
        default_factory=dict, description="bloc -> vendor -> demand line (replaces the catalog's)"
    )
    installed: dict[str, dict[str, dict[int, float]]] | None = Field(
        None, description="vendor -> part -> {install year: units}; null: catalog installed_base"
    )
    export_restricted: list[str] | None = Field(
        None, description="blocs under US export rules; null: catalog world_demand"
    )
    discount_rate: float = Field(0.08, ge=0, le=1, description="of the fill objective [1/year]")
    power_mw_it: float | dict[int, float] | None = Field(
        None,
        description="MW of IT the world's AI fleet may draw, {year: MW}; null: not limited",
    )
    catalog: dict[str, Any] = Field(default_factory=dict, description="catalog id -> value")


def _problems(exc: ValidationError, prefix: str = "") -> list[tuple[str, object, str]]:
    out = []
    for e in exc.errors():
        path = ".".join(str(x) for x in e["loc"])
        out.append((f"{prefix}{path}", e.get("input"), e["msg"]))
    return out


def validate_world(data: Mapping[str, Any], origin: str = "world scenario") -> WorldScenario:
    """A :class:`WorldScenario` from a mapping; a ScenarioError naming the field otherwise."""
    try:
        cfg = WorldScenario.model_validate(dict(data))
    except ValidationError as exc:
        probs = _problems(exc)
        raise ScenarioError(
            f"{origin}: " + "; ".join(f"{p}: {m}" for p, _, m in probs), probs
        ) from None
    if cfg.time.end < cfg.time.start:
        raise ScenarioError(
            f"{origin}: time.end {cfg.time.end} is before time.start {cfg.time.start}",
            [("time.end", cfg.time.end, f"a year >= time.start ({cfg.time.start})")],
        )
    return cfg


def world_scenario_path() -> Path:
    from importlib import resources

    return Path(str(resources.files("fab2flop") / "data" / "scenarios" / "world.yaml"))


def is_world_source(source: str | Path | None) -> bool:
    """True for ``world`` and for a YAML file whose ``kind`` is ``world``."""
    if source is None:
        return False
    if str(source) == WORLD_SCENARIO:
        return True
    p = Path(source)
    if p.suffix not in (".yaml", ".yml") or not p.is_file():
        return False
    from .yamlio import safe_load

    try:
        data = safe_load(p.read_text(encoding="utf-8"))
    except Exception:  # the scenario loader reports a bad file properly
        return False
    return isinstance(data, dict) and data.get("kind") == "world"


def load_world(source: str | Path | None = None, overrides: Iterable[str] = ()) -> WorldScenario:
    """The world scenario: ``world`` (shipped) or a file; ``overrides`` are KEY=VALUE."""
    from .scenario import apply_override, parse_override
    from .yamlio import safe_load

    path = world_scenario_path() if source in (None, WORLD_SCENARIO) else Path(str(source))
    data = safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ScenarioError(
            f"{path}: top level is {type(data).__name__}; expected a mapping",
            [("<root>", type(data).__name__, "a mapping")],
        )
    for item in overrides:
        key, value = parse_override(item)
        apply_override(data, key, value)
    return validate_world(data, str(path))


# ------------------------------------------------------------------ parts
@dataclass(frozen=True)
class Part:
    """One accelerator of the world, with what a unit takes of the shared capacities."""

    name: str
    vendor: str
    owner: str  # MERCHANT or a bloc
    market: str  # "world" or "china"
    h100e: float  # dense BF16 / H100's
    kw_it: float  # all-in IT kW per unit
    price_usd: Any  # number or {year: USD}
    first: int
    last: int
    use: dict[str, float]  # resource -> per unit (wafers; HBM in HBM wafers)


def _field(cat: Catalog, name: str, key: str, default: Any = ...) -> Any:
    return cat.value(f"{PARTS}.{name}.{key}", default)


def _silicon_from_model(cat: Catalog, name: str, part: str) -> dict[str, Any]:
    """FLOP/s, kW, node wafers, HBM and CoWoS per unit from the accelerator model."""
    from .components.accelerator import design_from_catalog, evaluate

    spec = evaluate(design_from_catalog(part, cat), cat)
    out: dict[str, Any] = {
        "flops": spec.flops_bf16_dense,
        "kw": spec.kw_it_per_unit,
        "hbm_generation": spec.hbm_generation,
        "hbm_stacks": spec.hbm_stacks_per_unit,
    }
    if spec.wafers_per_unit:
        out["wafers"] = dict(spec.wafers_per_unit)
    if spec.packaging_wafers_per_unit is not None:
        out["cowos"] = spec.packaging_wafers_per_unit
    return out


def _kw_from_tdp(cat: Catalog, tdp_w: float) -> float:
    """IT kW per unit = (TDP + host overhead) × (1 + network overhead), as the chip model."""
    host = cat.number("accelerators.system.host_overhead_kw_per_accelerator")
    net = cat.number("accelerators.system.network_overhead_fraction")
    return (tdp_w / 1e3 + host) * (1.0 + net)


def load_part(cat: Catalog, name: str) -> Part:
    """A world part from ``world_accelerators.<name>`` (and its catalog part, if any)."""
    if f"{PARTS}.{name}.vendor" not in cat:
        known = [p for p in cat.group(PARTS) if p != "defaults"]
        raise ScenarioError(
            f"parts: unknown part {name!r}; known: {', '.join(known)}",
            [("parts", name, f"one of {known}")],
        )
    model = _part_model(cat, name)
    flops = float(_field(cat, name, "flops_bf16_dense", model.get("flops") or 0.0))
    tdp = _field(cat, name, "tdp_w", None)
    kw = _kw_from_tdp(cat, tdp) if tdp is not None else float(model.get("kw") or 0.0)
    node = _field(cat, name, "node", None)
    wafers = model.get("wafers", {})
    if node is not None and f"{PARTS}.{name}.logic_wafers_per_unit" in cat:
        wafers = {str(node): cat.number(f"{PARTS}.{name}.logic_wafers_per_unit")}
    cowos = float(_field(cat, name, "cowos_wafers_per_unit", model.get("cowos") or 0.0))
    gen = str(_field(cat, name, "hbm_generation", model.get("hbm_generation") or "hbm3"))
    stacks = float(_field(cat, name, "hbm_stacks_per_unit", model.get("hbm_stacks") or 0.0))
    use: dict[str, float] = {}
    for n, w in wafers.items():
        if n in NODE_RESOURCE:
            use[NODE_RESOURCE[n]] = use.get(NODE_RESOURCE[n], 0.0) + float(w)
    use["cowos"] = cowos
    use["hbm"] = stacks / cat.number(f"memory.{gen}.stacks_per_wafer") if stacks else 0.0
    return Part(
        name=name,
        vendor=str(_field(cat, name, "vendor")),
        owner=str(_field(cat, name, "owner", MERCHANT)),
        market=_market(cat, name),
        h100e=flops / H100_FLOPS_BF16_DENSE,
        kw_it=kw,
        price_usd=_price(cat, name),
        first=int(_field(cat, name, "available_from")),
        last=int(_field(cat, name, "available_until", 2100)),
        use=use,
    )


def _part_model(cat: Catalog, name: str) -> dict[str, Any]:
    ref = _field(cat, name, "catalog_part", None)
    if ref is None:
        return {}
    try:
        return _silicon_from_model(cat, name, str(ref))
    except Exception as exc:  # CatalogError, DesignError
        raise ScenarioError(
            f"parts: {name!r} refers to catalog part {ref!r}, which cannot be evaluated: {exc}",
            [(f"{PARTS}.{name}.catalog_part", ref, "a part of accelerators.yaml")],
        ) from exc


def _market(cat: Catalog, name: str) -> str:
    m = str(_field(cat, name, "market", "world"))
    if m not in MARKETS:
        raise ScenarioError(
            f"parts: {name!r} has market {m!r}",
            [(f"{PARTS}.{name}.market", m, f"one of {MARKETS}")],
        )
    return m


def _price(cat: Catalog, name: str) -> Any:
    rid = f"{PARTS}.{name}.price_usd"
    if rid in cat:
        return cat.record(rid).value
    return float(cat.value(f"accelerators.{_field(cat, name, 'catalog_part')}.price_usd"))


def part_names(cat: Catalog, cfg: WorldScenario) -> list[str]:
    return cfg.parts or [p for p in cat.group(PARTS) if p != "defaults"]


# ------------------------------------------------------------------ demand
@dataclass(frozen=True)
class Line:
    """What one bloc wants from one vendor, per year, in ``kind`` (usd, units, h100e)."""

    bloc: str
    vendor: str
    kind: str
    amount: np.ndarray  # (T,) natural units per year
    restricted: bool


def demand_kind(unit: str, where: str) -> str:
    """The served quantity of a demand unit; a ScenarioError naming ``where`` otherwise."""
    try:
        return DEMAND_UNITS[unit]
    except KeyError:
        raise ScenarioError(
            f"{where}: demand in unknown unit {unit!r}",
            [(where, unit, f"one of {sorted(DEMAND_UNITS)}")],
        ) from None


def demand_lines(
    cat: Catalog, cfg: WorldScenario, years: np.ndarray, vendors: set[str]
) -> list[Line]:
    """Every (bloc, vendor) line of the catalog, with the scenario's lines laid over."""
    raw: dict[tuple[str, str], tuple[Any, str, str]] = {}
    blocs = cfg.blocs or cat.group(f"{DEMAND}.blocs")
    for b in blocs:
        if not cat.group(f"{DEMAND}.blocs.{b}") and b not in cfg.demand:
            raise ScenarioError(
                f"blocs: unknown bloc {b!r}",
                [("blocs", b, f"one of {cat.group(f'{DEMAND}.blocs')}")],
            )
        for v in cat.group(f"{DEMAND}.blocs.{b}"):
            if v == "export_restricted":
                continue
            rid = f"{DEMAND}.blocs.{b}.{v}"
            raw[(b, v)] = (cat.record(rid).value, cat.record(rid).unit, rid)
    for b, lines in cfg.demand.items():
        for v, line in lines.items():
            raw[(b, v)] = (line.value, line.unit, f"demand.{b}.{v}")
    return [
        _line(cat, cfg, b, v, val, unit, where, years, vendors)
        for (b, v), (val, unit, where) in raw.items()
    ]


def _line(
    cat: Catalog,
    cfg: WorldScenario,
    b: str,
    v: str,
    val: Any,
    unit: str,
    where: str,
    years: np.ndarray,
    vendors: set[str],
) -> Line:
    """One demand line, checked: a known unit and vendor, amounts >= 0."""
    kind = demand_kind(unit, f"{where}.unit" if where.startswith("demand.") else where)
    if v not in vendors:
        raise ScenarioError(
            f"{where}: unknown vendor {v!r}",
            [(where, v, f"a vendor of world_accelerators: {sorted(vendors)}")],
        )
    amount = series_at(val, years)
    if isinstance(val, Mapping) and val:  # nothing wanted before the first year given
        amount = np.where(years < min(int(k) for k in val), 0.0, amount)
    if (amount < 0).any():
        raise ScenarioError(f"{where}: negative demand", [(where, val, "amounts >= 0 per year")])
    if cfg.export_restricted is not None:
        restricted = b in cfg.export_restricted
    else:
        restricted = bool(cat.value(f"{DEMAND}.blocs.{b}.export_restricted", 0.0))
    return Line(b, v, kind, amount, restricted)


def eligible(part: Part, line: Line) -> bool:
    """May ``line``'s bloc buy ``part``? Its vendor, owner and market rules."""
    if part.vendor != line.vendor:
        return False
    if part.owner != MERCHANT and part.owner != line.bloc:
        return False
    domestic = part.market == "china" or part.vendor == "Huawei"
    return domestic if line.restricted else part.market == "world"


def check_owners(parts: Mapping[str, Part], blocs: set[str]) -> None:
    """Every owned part belongs to a bloc of the world (else nobody could buy it)."""
    for p in parts.values():
        if p.owner != MERCHANT and p.owner not in blocs:
            raise ScenarioError(
                f"parts: {p.name!r} is owned by {p.owner!r}, which is not a bloc",
                [(f"{PARTS}.{p.name}.owner", p.owner, f"'merchant' or a bloc: {sorted(blocs)}")],
            )


# ------------------------------------------------------------------ capacities, installed base
def annual_capacity(cat: Catalog, years: np.ndarray) -> dict[str, np.ndarray]:
    """Units of each shared capacity per calendar year [wafers/year].

    A sourced annual output is used where there is one (CoWoS 2023-24); otherwise the year's
    output is 12 × the mean of the run rates at the end of the previous and of this year
    (the supply records are end-of-year run rates), or 12 × this year's rate when the
    previous year is not given.
    """
    out = {}
    for res, rid in RESOURCES.items():
        s = cat.series(rid)
        end = series_at(s, years)
        prev = np.where(years - 1 >= min(s), series_at(s, years - 1), end)
        cap = 12.0 * (end + prev) / 2.0
        ann = ANNUAL_OUTPUT.get(res)
        if ann and ann in cat:
            a = cat.series(ann)
            cap = np.where(np.isin(years, list(a)), series_at(a, years), cap)
        out[res] = np.where(years >= min(s), cap, 0.0)
    return out


def installed_units(
    cat: Catalog, cfg: WorldScenario, parts: Mapping[str, Part], years: np.ndarray, life: int
) -> np.ndarray:
    """(part, year) units of the installed base still standing in each year."""
    base = cfg.installed if cfg.installed is not None else _catalog_base(cat)
    names = list(parts)
    out = np.zeros((len(names), len(years)))
    for vendor, by_part in base.items():
        for part, cohorts in by_part.items():
            where = f"installed.{vendor}.{part}"
            i = _base_part(names, parts, vendor, part, where)
            for y, units in cohorts.items():
                check_cohort(where, int(y), float(units), int(years[0]))
                out[i] += units * ((years >= int(y)) & (years < int(y) + life))
    return out


def _catalog_base(cat: Catalog) -> dict[str, dict[str, dict[int, float]]]:
    return {
        v: {p: cat.series(f"{BASE}.fleet.{v}.{p}") for p in cat.group(f"{BASE}.fleet.{v}")}
        for v in cat.group(f"{BASE}.fleet")
    }


def _base_part(names: list[str], parts: Mapping[str, Part], vendor: str, part: str, where: str):
    if part not in parts:
        raise ScenarioError(
            f"{where}: unknown part {part!r}",
            [(where, part, f"a part of the world scenario: {names}")],
        )
    if parts[part].vendor != vendor:
        raise ScenarioError(
            f"{where}: {part!r} is made by {parts[part].vendor!r}, not {vendor!r}",
            [(where, vendor, parts[part].vendor)],
        )
    return names.index(part)


def check_cohort(where: str, year: int, units: float, start: int) -> None:
    """Installed-base units are >= 0 and installed before the start year."""
    if not np.isfinite(units) or units < 0:
        raise ScenarioError(
            f"{where}: {units} units installed in {year}; a count must be >= 0",
            [(f"{where}.{year}", units, "units >= 0")],
        )
    if year >= start:
        raise ScenarioError(
            f"{where}: units dated {year} are not installed at the start ({start})",
            [(f"{where}.{year}", units, f"an install year before {start}")],
        )


# ------------------------------------------------------------------ the LP
@dataclass
class World:
    """Everything the LP reads: years, parts, lines, capacities, the installed base."""

    cfg: WorldScenario
    years: np.ndarray
    parts: dict[str, Part]
    lines: list[Line]
    capacity: dict[str, np.ndarray]  # resource -> (T,) wafers/year
    base: np.ndarray  # (part, T) installed-base units standing
    ramp_share: float
    life: int


def build_world(cfg: WorldScenario, catalog: Catalog | None = None) -> World:
    cat = (catalog or load_catalog()).with_overrides(cfg.catalog)
    years = np.arange(cfg.time.start, cfg.time.end + 1)
    parts = {n: load_part(cat, n) for n in part_names(cat, cfg)}
    lines = demand_lines(cat, cfg, years, {p.vendor for p in parts.values()})
    check_owners(parts, {ln.bloc for ln in lines})
    life = int(cat.number(f"{PARTS}.defaults.life_years"))
    return World(
        cfg=cfg,
        years=years,
        parts=parts,
        lines=lines,
        capacity=annual_capacity(cat, years),
        base=installed_units(cat, cfg, parts, years, life),
        ramp_share=cat.number(f"{PARTS}.defaults.ramp_first_year_share"),
        life=life,
    )


def price_matrix(w: World) -> np.ndarray:
    """(part, year) USD per unit."""
    return np.array([series_at(p.price_usd, w.years) for p in w.parts.values()])


def buy_mask(w: World) -> np.ndarray:
    """(line, part, year): the line's bloc may buy the part in that year."""
    m = np.zeros((len(w.lines), len(w.parts), len(w.years)), bool)
    for i, ln in enumerate(w.lines):
        for j, p in enumerate(w.parts.values()):
            if eligible(p, ln):
                m[i, j] = (w.years >= p.first) & (w.years <= p.last)
    return m


def _coords(w: World) -> dict[str, Any]:
    return {
        "line": [f"{ln.bloc}/{ln.vendor}" for ln in w.lines],
        "part": list(w.parts),
        "year": w.years,
    }


def served_coefficient(w: World, prices: np.ndarray) -> np.ndarray:
    """(line, part, year) what one model unit (a million parts) serves of a line, in the
    line's model units (billion USD, million units, million H100e)."""
    h = np.array([p.h100e for p in w.parts.values()])
    out = np.zeros((len(w.lines), len(w.parts), len(w.years)))
    for i, ln in enumerate(w.lines):
        if ln.kind == "usd":
            out[i] = prices * UNIT_SCALE / 1e9
        elif ln.kind == "units":
            out[i] = 1.0
        else:
            out[i] = h[:, None]
    return out


def build_world_lp(w: World) -> core.Model:
    """The world LP (module docstring); rows ``demand``, ``capacity``, ``ramp``."""
    m = core.Model()
    co = _coords(w)
    buy = m.add_variables("buy", co, lower=0.0, mask=buy_mask(w))
    prices = price_matrix(w)
    served = present(buy, served_coefficient(w, prices)).sum("part")
    dem = (
        np.array([ln.amount for ln in w.lines])
        / np.array([1e9 if ln.kind == "usd" else UNIT_SCALE for ln in w.lines])[:, None]
    )
    dem_da = xr.DataArray(dem, coords={"line": co["line"], "year": co["year"]})
    m.add_constraints(served <= dem_da, name="demand")
    define_capacity(m, w, buy)
    define_ramp(m, w, buy)
    define_power(m, w, buy)
    define_world_objective(m, w, served, dem_da, buy)
    return m


def define_capacity(m: core.Model, w: World, buy: core.Variable) -> None:
    """Σ_{line,part} buy × use[part, resource] ≤ capacity[resource, year] (million wafers)."""
    res = list(w.capacity)
    use = np.array([[p.use.get(r, 0.0) for r in res] for p in w.parts.values()])
    use_da = xr.DataArray(use, coords={"part": list(w.parts), "resource": res})
    cap = np.array([w.capacity[r] for r in res]) / UNIT_SCALE
    cap_da = xr.DataArray(cap, coords={"resource": res, "year": w.years})
    taken = (present(buy).sum("line") * use_da).sum("part")
    m.add_constraints(taken <= cap_da, name="capacity")


def define_ramp(m: core.Model, w: World, buy: core.Variable) -> None:
    """A part's first volume year (after the start) is at most ``ramp_share`` of its vendor's
    units that year: units ≤ share / (1 − share) × the vendor's other parts' units. A vendor's
    only part that year (a first design) is not limited."""
    if w.ramp_share >= 1:
        return
    made = present(buy).sum("line")
    k = w.ramp_share / (1.0 - w.ramp_share)
    for p in w.parts.values():
        if not (w.years[0] < p.first <= w.years[-1]):
            continue
        others = [
            n
            for n, o in w.parts.items()
            if o.vendor == p.vendor and n != p.name and o.first <= p.first <= o.last
        ]
        if not others:
            continue
        lhs = made.sel({"part": p.name, "year": p.first})
        lhs = lhs - k * made.sel({"part": others, "year": p.first}).sum("part")
        m.add_constraints(lhs <= 0, name=f"ramp-{p.name}")


def define_power(m: core.Model, w: World, buy: core.Variable) -> None:
    """Σ_p kW_p × stock[p,t] ≤ power_mw_it[t] × 1000: the fleet standing (the installed base
    plus what was made in the last ``life`` years) within the MW of IT given (if any)."""
    if w.cfg.power_mw_it is None:
        return
    cap_mw = series_at(w.cfg.power_mw_it, w.years)
    if (cap_mw < 0).any():
        raise ScenarioError(
            "power_mw_it: negative MW", [("power_mw_it", w.cfg.power_mw_it, "MW >= 0")]
        )
    kw = xr.DataArray([p.kw_it for p in w.parts.values()], coords={"part": list(w.parts)})
    made = present(buy).sum("line")  # million units
    base_mw = (w.base * kw.values[:, None]).sum(axis=0) / 1e3
    for i, y in enumerate(w.years):
        window = [int(t) for t in w.years if y - w.life < t <= y]
        draw = (made.sel({"year": window}).sum("year") * kw).sum("part")  # million kW = GW
        m.add_constraints(draw <= (cap_mw[i] - base_mw[i]) / 1e3, name=f"power-{int(y)}")


def define_world_objective(
    m: core.Model,
    w: World,
    served: core.Expression,
    dem_da: xr.DataArray,
    buy: core.Variable,
) -> None:
    """max Σ_t δ_t Σ_l served/demand + 10⁻³ Σ_t δ_t H100e made (module docstring)."""
    disc = (1.0 + w.cfg.discount_rate) ** -(w.years - w.years[0]).astype(float)
    disc_da = xr.DataArray(disc, coords={"year": w.years})
    inv = xr.DataArray(
        np.where(dem_da.values > 0, 1.0 / np.maximum(dem_da.values, 1e-12), 0.0),
        coords=dem_da.coords,
    )
    h = xr.DataArray([p.h100e for p in w.parts.values()], coords={"part": list(w.parts)})
    fill = (served * inv * disc_da).sum()
    compute = (present(buy).sum("line") * h * disc_da).sum()
    m.add_objective(fill + FILL_TIE * compute, sense="max")


# ------------------------------------------------------------------ results
def solve_world(w: World, time_limit_s: float = 120.0) -> xr.Dataset:
    """Solve the world LP; the result Dataset (:func:`world_results`)."""
    m = build_world_lp(w)
    sol, _ = core.solve(m, {"time_limit": float(time_limit_s)})  # no console output
    if not sol.ok:
        raise RuntimeError(f"world LP not solved: {sol.termination}")
    buy = np.nan_to_num(sol.primal(m.variables["buy"])) * UNIT_SCALE
    cap = m.constraints["capacity"]
    dual = cap.dataarray(sol.dual(cap)).transpose("resource", "year")
    duals = dual.values / UNIT_SCALE  # objective per wafer
    return world_results(w, buy, duals)


def world_results(w: World, buy: np.ndarray, cap_dual: np.ndarray) -> xr.Dataset:
    """Output, stock and capacity use by year from ``buy`` (line, part, year) units."""
    co = _coords(w)
    made = buy.sum(axis=0)  # (part, year)
    h = np.array([p.h100e for p in w.parts.values()])
    kw = np.array([p.kw_it for p in w.parts.values()])
    stock = w.base + _retiring_stock(made, w.life)
    use = np.array([[p.use.get(r, 0.0) for r in w.capacity] for p in w.parts.values()])
    taken = np.einsum("pt,pr->rt", made, use)
    cap = np.array([w.capacity[r] for r in w.capacity])
    prices = price_matrix(w)
    served = np.einsum("lpt,lpt->lt", buy, served_coefficient(w, prices)) / UNIT_SCALE
    dem = (
        np.array([ln.amount for ln in w.lines])
        / np.array([1e9 if ln.kind == "usd" else UNIT_SCALE for ln in w.lines])[:, None]
    )
    fill = np.divide(served, dem, out=np.zeros_like(dem), where=dem > 0)
    pc = {"part": co["part"], "year": co["year"]}
    rc = {"resource": list(w.capacity), "year": co["year"]}
    ds = xr.Dataset(
        {
            "units": (("part", "year"), made, {"unit": "units/year"}),
            "h100e": (("part", "year"), made * h[:, None], {"unit": "H100e/year"}),
            "stock_units": (("part", "year"), stock, {"unit": "units (end of year)"}),
            "stock_h100e": (("part", "year"), stock * h[:, None], {"unit": "H100e"}),
            "fleet_mw_it": (("part", "year"), stock * kw[:, None] / 1e3, {"unit": "MW"}),
            "spend_usd": (("part", "year"), made * prices, {"unit": "USD/year"}),
            "capacity_used": (("resource", "year"), taken, {"unit": "wafers/year"}),
            "capacity": (("resource", "year"), cap, {"unit": "wafers/year"}),
            "capacity_value": (("resource", "year"), cap_dual, {"unit": "fill per wafer"}),
            "fill": (("line", "year"), fill, {"unit": "1"}),
            "bought": (("line", "part", "year"), buy, {"unit": "units/year"}),
        },
        coords={**pc, **rc, "line": co["line"]},
    )
    ds = ds.assign_coords(vendor=("part", [p.vendor for p in w.parts.values()]))
    return ds


def _retiring_stock(made: np.ndarray, life: int) -> np.ndarray:
    """Units standing at the end of each year: made in the last ``life`` years."""
    from .dynamics import fleet_stock

    return np.array([fleet_stock(row, life) for row in made]) if len(made) else made


def by_vendor(ds: xr.Dataset, var: str) -> xr.DataArray:
    """``var`` (part, year) summed by vendor."""
    return ds[var].groupby("vendor").sum("part")


def run_world(cfg: WorldScenario | None = None, catalog: Catalog | None = None) -> xr.Dataset:
    """Load (if needed), build and solve the world scenario."""
    cfg = cfg or load_world()
    try:
        w = build_world(cfg, catalog)
    except CatalogError as exc:
        raise ScenarioError(str(exc), [("catalog", str(exc), "a known catalog record")]) from exc
    return solve_world(w)


def world_summary(ds: xr.Dataset) -> dict[str, Any]:
    """Plain numbers of a world result (for JSON and the CLI tables)."""

    def rows(da: xr.DataArray, dim: str) -> dict[str, list[float]]:
        return {str(k): [float(x) for x in da.sel({dim: k}).values] for k in da[dim].values}

    share = (ds["capacity_used"] / ds["capacity"].where(ds["capacity"] > 0)).transpose(
        "resource", "year"
    )
    return {
        "years": [int(y) for y in ds["year"].values],
        "units_by_vendor": rows(by_vendor(ds, "units"), "vendor"),
        "h100e_by_vendor": rows(by_vendor(ds, "h100e"), "vendor"),
        "stock_units_by_vendor": rows(by_vendor(ds, "stock_units"), "vendor"),
        "stock_h100e_by_vendor": rows(by_vendor(ds, "stock_h100e"), "vendor"),
        "fleet_mw_it": [float(x) for x in ds["fleet_mw_it"].sum("part").values],
        "capacity_use_share": {
            str(r): [None if np.isnan(x) else float(x) for x in share.sel(resource=r).values]
            for r in share["resource"].values
        },
        "fill": rows(ds["fill"], "line"),
    }
