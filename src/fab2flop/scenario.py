"""Scenario files: plain YAML validated by pydantic.

A scenario says how much money arrives when, over which years, in which regions, with which
technologies, and what to optimise. Anything it does not say comes from the sourced catalog.

>>> sc = load_scenario()                       # the embedded default (Feb-2024 plan)
>>> sc.time.start, sc.budget.total_usd > 1e12
(2025, True)
>>> sc2 = load_scenario(overrides=["budget.total_usd=3.5e12", "regions.TW.enabled=false"])
>>> sc2.regions["TW"].enabled
False
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import reprlib
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .constants import CarrierKind, Category, Objective, Scope, Solver
from .errors import ScenarioError
from .events import Event, check_events
from .finance.schema import FinanceConfig
from .policy import PolicyConfig, check_policy_regions
from .risk.uncertainty import Uncertainty
from .robust.config import RobustConfig, robust_problems
from .yamlio import load_yaml

Series = float | dict[int, float]

# years a scenario may name (series keys, funders, availability); a horizon's length
YEAR_MIN, YEAR_MAX = 1990, 2200
MAX_HORIZON_YEARS = 100
MAX_EXTENDS = 20  # files in one `extends` chain


def _check_year(y: Any, what: str = "year") -> None:
    if not isinstance(y, int) or isinstance(y, bool) or not YEAR_MIN <= y <= YEAR_MAX:
        raise ValueError(f"{what} {short_repr(y)} is not a year between {YEAR_MIN} and {YEAR_MAX}")


def _nonneg_series(v: Any) -> Any:
    if v is None:
        return v
    if isinstance(v, dict):
        for y in v:
            _check_year(y, "series key")
    for x in v.values() if isinstance(v, dict) else [v]:
        if x < 0:
            raise ValueError(f"values must be >= 0; got {x}")
    return v


def _nonneg_values(v: dict[str, float]) -> dict[str, float]:
    bad = {k: x for k, x in v.items() if x < 0}
    if bad:
        raise ValueError(f"amounts must be >= 0 (write inputs under 'inputs'); got {bad}")
    return v


def _no_booleans(values: list[Any]) -> None:
    """Region codes read as booleans: YAML 1.1 turns an unquoted NO (Norway) into false."""
    for x in values:
        if isinstance(x, bool):
            raise ValueError(
                f"got the boolean {x!r} where a region code was expected: YAML reads unquoted "
                'NO/YES/ON/OFF as booleans; quote it, e.g. "NO"'
            )


# a number or a {year: number} series, never negative
NonNegSeries = Annotated[Series, AfterValidator(_nonneg_series)]
Amounts = Annotated[dict[str, float], AfterValidator(_nonneg_values)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class TimeConfig(_Model):
    """The planning horizon."""

    start: int = Field(2025, ge=2000, le=2100, description="first year planned [year]")
    end: int = Field(2035, ge=2000, le=2150, description="last year planned, inclusive [year]")
    step: Literal["year", "quarter"] = Field(
        "year", description="period length: 'year' or 'quarter'"
    )

    @model_validator(mode="after")
    def _order(self) -> TimeConfig:
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) must not be before start ({self.start})")
        if self.end - self.start >= MAX_HORIZON_YEARS:
            raise ValueError(
                f"the horizon {self.start}-{self.end} is {self.end - self.start + 1} years; "
                f"expected at most {MAX_HORIZON_YEARS}"
            )
        return self

    @property
    def dt_years(self) -> float:
        return 1.0 if self.step == "year" else 0.25


class ObjectiveConfig(_Model):
    """What the optimiser does."""

    kind: Objective = Field(
        Objective.MAX_DISCOUNTED_COMPUTE,
        description="max_discounted_compute | max_compute_in_year | min_cost_for_path | "
        "robust (expected discounted compute over futures, scenario.robust)",
    )
    discount_rate: float = Field(
        0.08, ge=0.0, lt=1.0, description="annual discount rate for compute and money [1/year]"
    )
    target_year: int | None = Field(
        None,
        ge=YEAR_MIN,
        le=YEAR_MAX,
        description="year whose compute is maximised (max_compute_in_year) [year]",
    )
    compute_path_h100e: dict[int, float] = Field(
        default_factory=dict,
        description="minimum installed H100-equivalents by year (min_cost_for_path) [H100e]",
    )

    @field_validator("compute_path_h100e")
    @classmethod
    def _nonneg(cls, v: dict[int, float]) -> dict[int, float]:
        for y, x in v.items():
            _check_year(y, "compute path year")
            if x < 0:
                raise ValueError(f"compute path value for {y} is {x}; expected >= 0")
        return v


class Funder(_Model):
    """A source of money: a share of the total or a fixed amount, spread over years."""

    name: str
    share: float | None = Field(None, ge=0.0, le=1.0, description="share of budget.total_usd [1]")
    amount_usd: float | None = Field(None, ge=0.0, description="fixed commitment [USD]")
    start: int = Field(ge=YEAR_MIN, le=YEAR_MAX, description="first year money arrives [year]")
    end: int = Field(
        ge=YEAR_MIN, le=YEAR_MAX, description="last year money arrives, inclusive [year]"
    )
    profile: Literal["flat", "ramp_up", "front_loaded"] = Field(
        "flat", description="how the money is spread over [start, end]"
    )
    note: str = ""

    @model_validator(mode="after")
    def _one_amount(self) -> Funder:
        if (self.share is None) == (self.amount_usd is None):
            raise ValueError("give exactly one of share or amount_usd")
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) must not be before start ({self.start})")
        return self


class BudgetConfig(_Model):
    """Money: the total commitment and who pays it when."""

    total_usd: float = Field(7.0e12, gt=0, description="total committed over the horizon [USD]")
    funders: list[Funder] = Field(default_factory=list)
    carry_over: bool = Field(True, description="unspent money carries to later periods")
    cash_interest_rate: float = Field(
        0.0, ge=0.0, lt=0.5, description="annual return on carried-over cash [1/year]"
    )
    enforce: bool = Field(True, description="limit spending to funding (off: unlimited money)")


class RegionConfig(_Model):
    """What the plan may do in one region. Missing limits come from the catalog."""

    enabled: bool = Field(True, description="false excludes the region entirely")
    fabs: bool = Field(True, description="may build logic fabs, HBM and packaging lines here")
    datacenters: bool = Field(True, description="may build data centers and power here")
    accelerator_cap_units_per_year: NonNegSeries | None = Field(
        None, description="export approval: accelerators deployable per year [units/year]"
    )
    max_datacenter_mw: NonNegSeries | None = Field(
        None, description="cap on data-center IT capacity in the region [MW]"
    )
    grid_mw_available: NonNegSeries | None = Field(
        None, description="grid power the plan can contract (default: catalog) [MW]"
    )
    max_new_power_mw_per_year: NonNegSeries | None = Field(
        None,
        description="cap on power-plant construction started per year (turbines, "
        "interconnection, permits) [MW/year]",
    )


class MarketConfig(_Model):
    """How much of the world's existing supply the plan can buy at market prices."""

    merchant_share: float = Field(
        0.25, ge=0, le=1, description="share of Nvidia/AMD data-center GPU output [1]"
    )
    foundry_share: float = Field(
        0.15, ge=0, le=1, description="share of third-party leading-edge wafer capacity [1]"
    )
    hbm_share: float = Field(0.15, ge=0, le=1, description="share of world HBM wafer capacity [1]")
    cowos_share: float = Field(
        0.15, ge=0, le=1, description="share of world CoWoS-class capacity [1]"
    )
    mode: Literal["fixed_share", "residual"] = Field(
        "fixed_share",
        description="fixed_share: the *_share of world supply; residual: world supply less the "
        "other buyers' demand (catalog world_demand.others)",
    )
    supplier_regions: dict[str, str] = Field(
        default_factory=lambda: {"foundry": "TW", "cowos": "TW", "hbm": "KR", "merchant": "TW"},
        description="where existing third-party supply is made; disabling that region makes "
        "that supply unavailable",
    )

    @field_validator("supplier_regions", mode="before")
    @classmethod
    def _supplier_no(cls, v: Any) -> Any:
        if isinstance(v, dict):
            _no_booleans(list(v.values()))
        return v

    @field_validator("supplier_regions")
    @classmethod
    def _supplier_keys(cls, v: dict[str, str]) -> dict[str, str]:
        known = {"foundry", "cowos", "hbm", "merchant"}
        bad = set(v) - known
        if bad:
            raise ValueError(f"unknown supply {sorted(bad)}; expected keys among {sorted(known)}")
        return v


NonNegative = Annotated[float, Field(ge=0)]


class InstalledUnits(_Model):
    """Accelerators the plan already has at the start (installed before time.start)."""

    accelerator: str = Field(description="an accelerator of accelerators.merchant or .custom")
    region: str = Field(description="a data-center region of the scenario")
    year: int = Field(ge=1990, le=2100, description="install year, before time.start [year]")
    units: float = Field(ge=0, description="accelerators installed [units]")
    note: str = ""


class InstalledConfig(_Model):
    """The plan's starting position: what it already has and has contracted at the start.
    The fleet stands for the part's life from its install year and is not paid for again."""

    fleet: list[InstalledUnits] = Field(default_factory=list)
    datacenter_mw: dict[str, NonNegative] = Field(
        default_factory=dict, description="region -> MW of IT standing at the start [MW]"
    )
    contracted_power_mw: dict[str, NonNegative] = Field(
        default_factory=dict, description="region -> firm power contracted at the start [MW]"
    )
    orders: str = Field(
        "",
        description="buyer whose contracted orders (catalog installed_base.orders.<buyer>, "
        "units/year by vendor or own design) are the plan's; with market.mode residual they "
        "leave the other buyers' demand and floor the plan's supply ('' = none)",
    )
    note: str = ""


class AcceleratorsConfig(_Model):
    """Which accelerators the plan may buy and build."""

    merchant: list[str] = Field(default_factory=list, description="catalog names to buy")
    custom: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="own designs: catalog name -> design fields to override (or a full design)",
    )
    assembly_regions: list[str] = Field(
        default_factory=lambda: ["TW", "US"],
        description="where own designs can be packaged and tested (enabled ones are used)",
    )
    roadmap: bool = Field(
        True,
        description="continue each listed vendor's line, and the own line, past its last part "
        "with generations extrapolated on sourced trends through time.end "
        "(catalog accelerators.roadmap; fab2flop.roadmap)",
    )

    @field_validator("assembly_regions", mode="before")
    @classmethod
    def _assembly_no(cls, v: Any) -> Any:
        if isinstance(v, list):
            _no_booleans(v)
        return v


class TechnologyConfig(_Model):
    """Which technologies the plan may build."""

    fab_nodes: list[str] = Field(default_factory=lambda: ["N3", "N2", "A16"])
    power: list[str] = Field(
        default_factory=lambda: ["gas_cc", "gas_ct", "nuclear_large", "smr", "solar_storage"]
    )
    hbm_lines: bool = True
    packaging_lines: bool = True


class CarrierSpec(_Model):
    """A user-defined carrier (a good or a rate that processes make and use)."""

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    unit: str
    kind: CarrierKind = CarrierKind.QUANTITY
    scope: Scope = Scope.GLOBAL
    scale: float = Field(
        1.0,
        gt=0,
        description="natural units in one model unit, for conditioning (1e3: the LP counts "
        "thousands) [carrier unit]",
    )
    storable: bool = Field(
        True,
        description="quantity made in one period may be used later (worldwide quantity "
        "carriers only; regional ones are used in the period they are made)",
    )


class RegionalValues(_Model):
    """Per-region values of a process that replace its general ones."""

    existing: NonNegSeries | None = Field(
        None, description="capacity not built by the plan [activity unit]"
    )
    var_cost_usd_per_unit: NonNegSeries | None = Field(
        None, description="[USD per unit of activity]"
    )
    max_capacity: NonNegSeries | None = Field(
        None, description="cap on total capacity [activity unit]"
    )
    max_new_per_year: NonNegSeries | None = Field(
        None, description="cap on capacity opened per year [activity unit/year]"
    )
    capex_multiplier: float | None = Field(
        None, gt=0, description="factor on the general capex in this region [1]"
    )


class ProcessSpec(_Model):
    """One process of the network: a capacity that can be built and run.

    Coefficients are per unit of activity (``inputs``/``outputs``) or per unit of new capacity
    (``build_inputs``, consumed when construction starts). Capacity and activity share the
    unit ``activity_unit`` (a rate per year for quantity outputs, MW for rate outputs).
    """

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.\-]*$")
    category: Category = Category.OTHER
    regions: list[str] = Field(description="regions where the process can exist")
    activity_unit: str = Field(description="unit of capacity and activity, e.g. 'wafers/year'")
    outputs: Amounts = Field(
        description="carrier -> amount per unit of activity [carrier unit/activity unit]"
    )
    inputs: Amounts = Field(
        default_factory=dict,
        description="carrier -> amount per unit of activity [carrier unit/activity unit]",
    )
    build_inputs: Amounts = Field(
        default_factory=dict,
        description="carrier -> amount per unit of new capacity, used when construction "
        "starts [carrier unit/activity unit]",
    )
    capex_usd_per_unit: NonNegSeries = Field(0.0, description="[USD per unit of capacity]")
    capex_trend_per_year: float = Field(
        0.0, ge=-0.5, le=0.5, description="annual change of capex (-0.03 = 3%/yr cheaper) [1/yr]"
    )
    fixed_om_usd_per_unit_year: float = Field(0.0, ge=0, description="[USD/unit/year]")
    var_cost_usd_per_unit: NonNegSeries = Field(0.0, description="[USD per unit of activity]")
    lead_years: float = Field(0.0, ge=0, le=30, description="construction time [years]")
    ramp_years: float = Field(0.0, ge=0, le=10, description="linear ramp after opening [years]")
    life_years: float = Field(100.0, gt=0, description="life after opening [years]")
    availability: float = Field(1.0, gt=0, le=1, description="usable share of capacity [1]")
    existing: NonNegSeries = Field(
        0.0, description="capacity not built by the plan [activity unit]"
    )
    buildable: bool = True
    unlimited: bool = Field(False, description="no capacity limit (pure conversion)")
    max_capacity: NonNegSeries | None = Field(
        None, description="cap on total capacity (null: none) [activity unit]"
    )
    max_new_per_year: NonNegSeries | None = Field(
        None, description="cap on capacity opened per year (null: none) [activity unit/year]"
    )
    available_from: int | None = Field(
        None, ge=YEAR_MIN, le=YEAR_MAX, description="first year it can run [year]"
    )
    available_until: int | None = Field(
        None, ge=YEAR_MIN, le=YEAR_MAX, description="last year it can run, inclusive [year]"
    )
    regional_multiplier: str | None = Field(
        None,
        description="catalog field of regions.<R> that scales capex (e.g. fab_capex_multiplier)",
    )
    by_region: dict[str, RegionalValues] = Field(
        default_factory=dict, description="region -> values replacing the general ones"
    )
    source: str = ""
    label: str = Field("", description="plain-language name for reports (default: the name)")

    @field_validator("outputs")
    @classmethod
    def _has_output(cls, v: dict[str, float]) -> dict[str, float]:
        if not v:
            raise ValueError("a process needs at least one output carrier")
        return v

    @model_validator(mode="after")
    def _fixed_capacity_fields(self) -> ProcessSpec:
        if not self.buildable:
            used = [
                f
                for f in ("capex_usd_per_unit", "fixed_om_usd_per_unit_year")
                if getattr(self, f) not in (0, 0.0, {})
            ] + [f for f in ("max_capacity", "max_new_per_year") if getattr(self, f) is not None]
            if used:
                raise ValueError(
                    f"process {self.name!r} is not buildable, so {', '.join(used)} would be "
                    "ignored; set buildable: true, or put running costs in "
                    "var_cost_usd_per_unit and limits in existing"
                )
        return self


# fields of a process that an override merges key by key (others are replaced)
MERGED_PROCESS_FIELDS = ("inputs", "outputs", "build_inputs", "by_region")


class ProcessSelector(_Model):
    """Which processes an override changes: a name or pattern, and/or a category."""

    name: str = Field("*", description="process name or fnmatch pattern, e.g. fab_N3, fab_*, buy_*")
    category: Category | None = Field(None, description="only processes of this category")


class ProcessOverride(_Model):
    """Fields to change in the selected processes.

    ``inputs``, ``outputs``, ``build_inputs`` and ``by_region`` merge key by key into the
    process's own; other fields are replaced. ``replace: true`` replaces the mappings given
    whole instead.
    """

    select: ProcessSelector = Field(description="a name/pattern, or {name, category}")
    set: dict[str, Any] = Field(description="process field -> new value")
    replace: bool = Field(False, description="replace the mappings given instead of merging")

    @field_validator("select", mode="before")
    @classmethod
    def _name_only(cls, v: Any) -> Any:
        return {"name": v} if isinstance(v, str) else v

    @field_validator("set")
    @classmethod
    def _process_fields(cls, v: dict[str, Any]) -> dict[str, Any]:
        _check_override_fields(v)
        return v


def _check_override_fields(fields: Mapping[str, Any]) -> None:
    if "name" in fields:
        raise ValueError("an override cannot rename a process (add a new one under processes)")
    known = sorted(set(ProcessSpec.model_fields) - {"name"})
    bad = sorted(set(fields) - set(known))
    if bad:
        raise ValueError(f"{bad} are not process fields; expected some of {known}")


def _overrides_as_list(v: Any) -> Any:
    """The short form ``{fab_N2: {lead_years: 4, replace: false}}`` as a list of overrides."""
    if not isinstance(v, Mapping):
        return v
    out = []
    for key, fields in v.items():
        if not isinstance(fields, Mapping):
            raise ValueError(
                f"process_overrides.{key}: got {fields!r}; expected a mapping of process fields"
            )
        rest = {k: x for k, x in fields.items() if k != "replace"}
        try:
            _check_override_fields(rest)
        except ValueError as exc:
            raise ValueError(f"process_overrides.{key}: {exc}") from None
        out.append({"select": key, "set": rest, "replace": fields.get("replace", False)})
    return out


class SolverConfig(_Model):
    method: Solver = Solver.CHOOSE
    time_limit_s: float = Field(600.0, gt=0, description="wall-clock limit of a solve [s]")
    threads: int | None = Field(None, ge=1, description="solver threads (null: HiGHS decides) [1]")
    log: bool = False


class Scenario(_Model):
    """A complete, validated build-out scenario."""

    name: str = Field("unnamed", max_length=200)
    description: str = Field("", max_length=20_000)
    seed: int = Field(0, ge=0, lt=2**63, description="seed of every random draw of the run [1]")
    currency_base_year: int = Field(
        2025, ge=2000, le=2100, description="year whose US dollars all money is stated in [year]"
    )
    time: TimeConfig = Field(default_factory=TimeConfig)
    objective: ObjectiveConfig = Field(default_factory=ObjectiveConfig)
    budget: BudgetConfig = Field(default_factory=BudgetConfig)
    regions: dict[str, RegionConfig] = Field(default_factory=dict)
    market: MarketConfig = Field(default_factory=MarketConfig)
    accelerators: AcceleratorsConfig = Field(default_factory=AcceleratorsConfig)
    installed: InstalledConfig = Field(
        default_factory=InstalledConfig,
        description="what the plan has and has contracted at the start (fleet, MW, power)",
    )
    technologies: TechnologyConfig = Field(default_factory=TechnologyConfig)
    catalog: dict[str, Any] = Field(
        default_factory=dict, description="catalog id -> value overriding the sourced default"
    )
    carriers: list[CarrierSpec] = Field(default_factory=list)
    processes: list[ProcessSpec] = Field(default_factory=list)
    process_overrides: list[ProcessOverride] = Field(
        default_factory=list,
        description="changes to generated processes, in order: a list of {select, set, "
        "replace}, or the short form {name or pattern: {field: value}}",
    )
    solver: SolverConfig = Field(default_factory=SolverConfig)
    events: list[Event] = Field(
        default_factory=list,
        description="disruptions: outage, delay, price, export, funding (docs/scenarios.md)",
    )
    finance: FinanceConfig | None = Field(
        None,
        description="parties, ownership, debt and the lease (default: catalog finance_parties)",
    )
    policy: Annotated[PolicyConfig, AfterValidator(check_policy_regions)] = Field(
        default_factory=PolicyConfig
    )
    uncertainty: Uncertainty | None = Field(
        None,
        description="what is uncertain and how it is sampled (docs/risk.md); null: the "
        "default set, risk.uncertainty.default_uncertainty()",
    )
    robust: RobustConfig | None = Field(
        None,
        description="futures and risk measure of objective.kind robust (docs/robust.md); "
        "null: the defaults",
    )

    @field_validator("regions", mode="before")
    @classmethod
    def _region_keys(cls, v: Any) -> Any:
        if isinstance(v, dict):
            for k in v:
                if isinstance(k, bool):
                    raise ValueError(
                        f"region key {k!r} is a boolean: YAML reads unquoted NO/YES/ON/OFF as "
                        'true/false; quote the region code, e.g. "NO": {...}'
                    )
        return v

    @field_validator("process_overrides", mode="before")
    @classmethod
    def _short_overrides(cls, v: Any) -> Any:
        return _overrides_as_list(v)

    @model_validator(mode="after")
    def _consistency(self) -> Scenario:
        if self.objective.kind is Objective.MAX_COMPUTE_IN_YEAR:
            ty = self.objective.target_year
            if ty is None or not self.time.start <= ty <= self.time.end:
                raise ValueError(
                    f"objective.target_year={ty} must lie in the horizon "
                    f"[{self.time.start}, {self.time.end}] for max_compute_in_year"
                )
        if (
            self.objective.kind is Objective.MIN_COST_FOR_PATH
            and not self.objective.compute_path_h100e
        ):
            raise ValueError("objective.compute_path_h100e is empty; min_cost_for_path needs it")
        outside = [
            y
            for y in self.objective.compute_path_h100e
            if not self.time.start <= y <= self.time.end
        ]
        if outside and self.objective.kind is Objective.MIN_COST_FOR_PATH:
            raise ValueError(
                f"objective.compute_path_h100e has years {sorted(outside)} outside the horizon "
                f"[{self.time.start}, {self.time.end}]"
            )
        if not any(r.enabled for r in self.regions.values()):
            raise ValueError("no region is enabled; enable at least one in regions")
        shares = sum(f.share or 0.0 for f in self.budget.funders)
        if shares > 1.0 + 1e-9:
            raise ValueError(f"budget.funders shares add up to {shares:.3f}; expected <= 1")
        return self

    @model_validator(mode="after")
    def _events_fit(self) -> Scenario:
        check_events(self)  # regions, groups, funders, horizon; paths events.<i>.<field>
        return self

    @property
    def enabled_regions(self) -> list[str]:
        return [r for r, c in self.regions.items() if c.enabled]

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False, allow_unicode=True)

    def digest(self) -> str:
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- loading


DEFAULT_SCENARIO = "default"


def default_scenario_text() -> str:
    return (resources.files("fab2flop") / "data" / "scenarios" / "default.yaml").read_text(
        encoding="utf-8"
    )


def _parse_value(text: str, origin: str = "--set") -> Any:
    """A ``--set`` value read as YAML (within the same limits as a file); text that is not
    YAML stays the string it is."""
    return load_yaml(text, origin, syntax_errors_as_text=True)


MAX_SET_KEY_PARTS = 40  # dotted parts of one --set key


def parse_override(item: str) -> tuple[list[str], Any]:
    """``"budget.total_usd=3.5e12"`` → (["budget", "total_usd"], 3.5e12)."""
    if not isinstance(item, str):
        raise ScenarioError(
            f"override {short_repr(item)}: expected a string KEY=VALUE, e.g. "
            "'budget.total_usd=3.5e12'",
            [("--set", short_repr(item), "a string KEY=VALUE")],
        )
    if "=" not in item:
        raise ScenarioError(
            f"--set {short_repr(item)}: expected KEY=VALUE, e.g. budget.total_usd=3.5e12",
            [(short_repr(item), short_repr(item), "KEY=VALUE")],
        )
    key, _, raw = item.partition("=")
    path = [p for p in key.strip().split(".") if p]
    if not path:
        raise ScenarioError(
            f"--set {short_repr(item)}: empty key", [(short_repr(item), item, "KEY=VALUE")]
        )
    if len(path) > MAX_SET_KEY_PARTS:
        raise ScenarioError(
            f"--set {short_repr(key)}: {len(path)} dotted parts; expected at most "
            f"{MAX_SET_KEY_PARTS}",
            [(short_repr(key), len(path), f"at most {MAX_SET_KEY_PARTS} parts")],
        )
    value = _parse_value(raw.strip(), f"--set {short_repr(key.strip(), 60)}")
    if isinstance(value, str) and value.lower() in {"null", "none", "~"}:
        value = None
    return path, value


def apply_override(data: dict[str, Any], path: Sequence[str], value: Any) -> None:
    """Set ``value`` at ``path`` in a raw scenario dict (creating mappings as needed)."""
    full = short_repr(".".join(path), 100)
    node: Any = data
    for i, key in enumerate(path[:-1]):
        here = ".".join(path[: i + 1])
        if isinstance(node, list):
            try:
                node = node[int(key)]
            except (ValueError, IndexError):
                raise ScenarioError(
                    f"--set {full}: {short_repr(here)} is not an index of a list of {len(node)}",
                    [(here, key, f"an index 0..{len(node) - 1}")],
                ) from None
            continue
        if not isinstance(node, dict):
            raise ScenarioError(
                f"--set {full}: {short_repr(here)} is not a mapping",
                [(here, short_repr(node), "a mapping")],
            )
        # a dotted catalog id is one key of the `catalog` mapping
        if path[0] == "catalog" and i == 0:
            if node.get("catalog") is None:
                node["catalog"] = {}
            if not isinstance(node["catalog"], dict):
                raise ScenarioError(
                    f"--set {full}: 'catalog' is {short_repr(node['catalog'])}, not a mapping",
                    [("catalog", short_repr(node["catalog"]), "a mapping of catalog ids")],
                )
            node["catalog"][".".join(path[1:])] = value
            return
        if node.get(key) is None:
            node[key] = {}
        node = node[key]
    last = path[-1]
    if not isinstance(node, dict | list):
        parent = ".".join(path[:-1])
        raise ScenarioError(
            f"--set {full}: {short_repr(parent)} is a value ({short_repr(node)}), not a mapping",
            [(parent, short_repr(node), "a mapping to set a key in")],
        )
    if isinstance(node, list):
        try:
            node[int(last)] = value
        except (ValueError, IndexError):
            raise ScenarioError(
                f"--set {full}: {short_repr(last)} is not an index of a list of {len(node)}",
                [(".".join(path), last, "an index")],
            ) from None
    else:
        node[last] = value


# ----------------------------------------------------------------------- problems, echoed


def _make_repr() -> reprlib.Repr:
    r = reprlib.Repr()
    r.maxstring = r.maxother = 60
    r.maxlist = r.maxtuple = r.maxdict = r.maxset = 6
    r.maxlevel = 3
    r.maxlong = 40
    return r


_REPR = _make_repr()


def short_repr(value: Any, limit: int = 80) -> str:
    """``value`` as a short, printable text: whatever its size, at most ``limit`` characters,
    with control characters escaped (``repr``) — safe to put in an error message."""
    try:
        text = _REPR.repr(value)
    except Exception:  # e.g. an int too long to print; a broken __repr__
        text = f"<{type(value).__name__}>"
    if not isinstance(value, str):
        text = text.encode("unicode_escape", "backslashreplace").decode("ascii")
    return text if len(text) <= limit else text[: limit - 3] + "..."


Problem = tuple[str, object, str]


def format_problems(origin: str, probs: Sequence[Problem]) -> str:
    """The message of a ScenarioError: one line per problem, values and texts cut short."""
    n = len(probs)
    lines = [f"{origin} is invalid ({n} problem{'s' * (n > 1)}):"]
    for loc, val, msg in probs[:50]:
        shown = val if isinstance(val, str) and val.startswith("<") else short_repr(val)
        text = " ".join(str(msg).split())
        text = text if len(text) <= 400 else text[:397] + "..."
        lines.append(f"  - {short_repr(loc, 120).strip(chr(39))}: got {shown}; {text}")
    if n > 50:
        lines.append(f"  ... and {n - 50} more")
    return "\n".join(lines)


def _problems(exc: ValidationError, data: Mapping[str, Any]) -> list[Problem]:
    out = []
    for e in exc.errors():
        loc = ".".join(str(p) for p in e["loc"])
        out.append((loc or "<root>", e.get("input"), e["msg"]))
    return out


def nonfinite_problems(node: Any, path: str = "") -> list[Problem]:
    """Every NaN or infinite number in a raw (YAML-read) structure, by field path."""
    out: list[Problem] = []
    if isinstance(node, float) and not math.isfinite(node):
        out.append((path or "<root>", node, "a finite number (not NaN or infinity)"))
    elif isinstance(node, Mapping):
        for k, v in node.items():
            here = f"{path}.{k}" if path else str(k)
            if isinstance(k, float) and not math.isfinite(k):
                out.append((here, k, "a finite number as a key"))
            out += nonfinite_problems(v, here)
    elif isinstance(node, list | tuple):
        for i, v in enumerate(node):
            out += nonfinite_problems(v, f"{path}.{i}" if path else str(i))
    return out


def accepts_bool(annotation: Any) -> bool:
    """Whether a field of this type may hold a boolean (bool itself, Any, or a union with
    one of those)."""
    if annotation is bool or annotation is Any:
        return True
    return any(accepts_bool(a) for a in getattr(annotation, "__args__", ()) or ())


def bool_problems(model: Any, raw: Any, path: str = "") -> list[Problem]:
    """Booleans the user wrote where a number was expected (pydantic's lax mode reads
    ``true`` as 1) and texts read as NaN or infinity: walk the validated model beside the
    raw data and refuse those."""
    out: list[Problem] = []
    if isinstance(model, float) and not math.isfinite(model):  # e.g. the text "nan"
        return [(path or "<root>", raw, "a finite number (not NaN or infinity)")]
    if isinstance(raw, bool):
        if isinstance(model, int | float) and not isinstance(model, bool):
            out.append((path or "<root>", raw, "a number, not a boolean"))
        return out
    if isinstance(model, BaseModel) and isinstance(raw, Mapping):
        for name in type(model).model_fields:
            if name in raw:
                here = f"{path}.{name}" if path else name
                out += bool_problems(getattr(model, name), raw[name], here)
    elif isinstance(model, Mapping) and isinstance(raw, Mapping):
        by_text = {str(k): v for k, v in model.items()}
        for k, v in raw.items():
            here = f"{path}.{k}" if path else str(k)
            if isinstance(k, bool) and any(
                isinstance(mk, int) and not isinstance(mk, bool) for mk in model
            ):
                out.append((here, k, "a year or number as a key, not a boolean"))
            elif str(k) in by_text:
                out += bool_problems(by_text[str(k)], v, here)
    elif isinstance(model, list) and isinstance(raw, list) and len(model) == len(raw):
        for i, (m, r) in enumerate(zip(model, raw, strict=True)):
            out += bool_problems(m, r, f"{path}.{i}" if path else str(i))
    return out


def validate_scenario(data: Mapping[str, Any], origin: str = "scenario") -> Scenario:
    """Validate a raw dict; raise ScenarioError listing every problem (path, value, expected).

    Beyond the schema: no NaN or infinity anywhere, no boolean where a number is expected.
    """
    if not isinstance(data, Mapping):
        probs: list[Problem] = [("<root>", short_repr(data), "a mapping of scenario fields")]
        raise ScenarioError(format_problems(origin, probs), probs)
    probs = nonfinite_problems(data)
    if probs:
        raise ScenarioError(format_problems(origin, probs), probs)
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as exc:
        probs = _problems(exc, data)
        raise ScenarioError(format_problems(origin, probs), probs) from None
    except RecursionError:
        probs = [("<root>", "<deeply nested>", "a scenario nested less deeply")]
        raise ScenarioError(format_problems(origin, probs), probs) from None
    probs = bool_problems(sc, data)
    if sc.robust is not None:
        probs += robust_problems(sc.robust, sc.time.start, sc.time.end)
    if probs:
        raise ScenarioError(format_problems(origin, probs), probs)
    return sc


def _read_user_yaml(path: Path) -> Any:
    """A user's YAML file, within the limits of :mod:`fab2flop.yamlio`."""
    from .yamlio import MAX_BYTES

    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise ScenarioError(
            f"scenario file {short_repr(str(path), 200)} {what}",
            [("SCENARIO", str(path), "a YAML file")],
        )
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ScenarioError(
                f"{path}: {size:,} bytes is larger than the limit of {MAX_BYTES:,} bytes",
                [("<file>", f"{size} bytes", f"at most {MAX_BYTES} bytes")],
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(
            f"{path}: cannot be read ({exc.strerror or exc})",
            [("<file>", str(path), "a readable file")],
        ) from None
    return load_yaml(raw, str(path))


def load_scenario_dict(
    source: str | Path | None = None, _seen: tuple[Path, ...] = ()
) -> tuple[dict[str, Any], str]:
    """The raw dict of a scenario file (None → the embedded default) and its origin label."""
    if source is None or str(source) == DEFAULT_SCENARIO:
        return load_yaml(default_scenario_text(), "default scenario"), "default scenario"
    if not isinstance(source, str | Path):
        raise ScenarioError(
            f"scenario source is {type(source).__name__}; expected a file path, "
            f"{DEFAULT_SCENARIO!r} or None (a dict goes to validate_scenario)",
            [("SCENARIO", short_repr(source), "a path to a YAML file")],
        )
    path = Path(source)
    data = _read_user_yaml(path)
    if not isinstance(data, dict):
        raise ScenarioError(
            f"{path}: top level is {type(data).__name__}; expected a mapping of scenario fields",
            [("<root>", short_repr(data), "a mapping")],
        )
    base = data.pop("extends", None)
    if base is not None:
        data = _extend(path, base, data, _seen)
    return data, str(path)


def _extend(path: Path, base: Any, data: dict[str, Any], seen: tuple[Path, ...]) -> dict:
    """``data`` (read from ``path``) laid over the scenario it ``extends``."""
    if not isinstance(base, str) or not base.strip():
        raise ScenarioError(
            f"{path}: extends is {short_repr(base)}; expected a file name or 'default'",
            [("extends", short_repr(base), "a file name (relative to this file) or 'default'")],
        )
    me = path.resolve()
    if me in seen:
        chain = " -> ".join(str(p) for p in (*seen, me))
        raise ScenarioError(
            f"{path}: 'extends' goes round in a circle: {chain}",
            [("extends", str(base), "a chain of files that ends at a scenario")],
        )
    if len(seen) >= MAX_EXTENDS:
        raise ScenarioError(
            f"{path}: 'extends' chain is longer than {MAX_EXTENDS} files",
            [("extends", str(base), f"at most {MAX_EXTENDS} files in a chain")],
        )
    target = base if base == DEFAULT_SCENARIO else path.parent / base
    try:
        parent, _ = load_scenario_dict(target, (*seen, me))
    except ScenarioError as exc:
        if exc.args and "goes round in a circle" in str(exc.args[0]):
            raise
        raise ScenarioError(
            f"{path}: extends {short_repr(base, 200)}, which failed: {exc}",
            [("extends", str(base), "a readable, valid scenario file"), *exc.problems],
        ) from None
    return deep_merge(parent, data)


# Collections an extending file lists whole: its version replaces the parent's (lists
# always do). Every other mapping is configuration and merges key by key.
REPLACED_ON_EXTEND: frozenset[tuple[str, ...]] = frozenset(
    {("accelerators", "custom"), ("process_overrides",), ("processes",), ("carriers",)}
)


def _is_series(v: Any) -> bool:
    """A {year: value} series (a non-empty mapping keyed by integers)."""
    return isinstance(v, Mapping) and bool(v) and all(isinstance(k, int) for k in v)


def deep_merge(
    base: Mapping[str, Any], top: Mapping[str, Any], path: tuple[str, ...] = ()
) -> dict[str, Any]:
    """``top`` laid over ``base`` (an extending file over its parent).

    Configuration mappings (``budget``, ``regions``, ``regions.US``, ``catalog``, ...) merge
    key by key; lists, ``{year: value}`` series and the collections of
    :data:`REPLACED_ON_EXTEND` (``accelerators.custom``, ``process_overrides``, ``processes``,
    ``carriers``) are replaced whole, so ``accelerators: {custom: {}}`` means no own designs.

    >>> deep_merge({"budget": {"total_usd": 7e12, "carry_over": True}},
    ...            {"budget": {"total_usd": 5e12}})
    {'budget': {'total_usd': 5000000000000.0, 'carry_over': True}}
    >>> deep_merge({"accelerators": {"custom": {"custom_v1": {}}, "merchant": ["H100"]}},
    ...            {"accelerators": {"custom": {}}})
    {'accelerators': {'custom': {}, 'merchant': ['H100']}}
    """
    out = copy.deepcopy(dict(base))
    for k, v in top.items():
        here = (*path, str(k))
        old = out.get(k)
        if (
            not isinstance(v, Mapping)
            or not isinstance(old, Mapping)
            or here in REPLACED_ON_EXTEND
            or _is_series(v)
            or _is_series(old)
        ):
            out[k] = copy.deepcopy(v)
        elif here == ("catalog",):
            out[k] = {**old, **copy.deepcopy(dict(v))}  # dotted ids: one level
        else:
            out[k] = deep_merge(old, v, here)
    return out


def load_scenario(source: str | Path | None = None, overrides: Iterable[str] = ()) -> Scenario:
    """Load, override and validate a scenario. Raises ScenarioError before any work is done."""
    if isinstance(overrides, str | bytes) or not isinstance(overrides, Iterable):
        raise ScenarioError(
            f"overrides is {short_repr(overrides)}; expected a list of KEY=VALUE strings, "
            "e.g. ['budget.total_usd=3.5e12']",
            [("overrides", short_repr(overrides), "a list of KEY=VALUE strings")],
        )
    data, origin = load_scenario_dict(source)
    for item in overrides:
        path, value = parse_override(item)
        apply_override(data, path, value)
    return validate_scenario(data, origin)
