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
from .yaml_io import safe_load

Series = float | dict[int, float]


def _nonneg_series(v: Any) -> Any:
    if v is None:
        return v
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
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


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
        return self

    @property
    def dt_years(self) -> float:
        return 1.0 if self.step == "year" else 0.25


class ObjectiveConfig(_Model):
    """What the optimiser does."""

    kind: Objective = Field(
        Objective.MAX_DISCOUNTED_COMPUTE,
        description="max_discounted_compute | max_compute_in_year | min_cost_for_path",
    )
    discount_rate: float = Field(
        0.08, ge=0.0, lt=1.0, description="annual discount rate for compute and money [1/year]"
    )
    target_year: int | None = Field(
        None, description="year whose compute is maximised (max_compute_in_year) [year]"
    )
    compute_path_h100e: dict[int, float] = Field(
        default_factory=dict,
        description="minimum installed H100-equivalents by year (min_cost_for_path) [H100e]",
    )

    @field_validator("compute_path_h100e")
    @classmethod
    def _nonneg(cls, v: dict[int, float]) -> dict[int, float]:
        for y, x in v.items():
            if x < 0:
                raise ValueError(f"compute path value for {y} is {x}; expected >= 0")
        return v


class Funder(_Model):
    """A source of money: a share of the total or a fixed amount, spread over years."""

    name: str
    share: float | None = Field(None, ge=0.0, le=1.0, description="share of budget.total_usd [1]")
    amount_usd: float | None = Field(None, ge=0.0, description="fixed commitment [USD]")
    start: int = Field(description="first year money arrives [year]")
    end: int = Field(description="last year money arrives, inclusive [year]")
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
    available_from: int | None = Field(None, description="first year it can run [year]")
    available_until: int | None = Field(None, description="last year it can run, inclusive [year]")
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

    name: str = "unnamed"
    description: str = ""
    seed: int = Field(0, description="seed of every random draw of the run [1]")
    currency_base_year: int = Field(
        2025, description="year whose US dollars all money is stated in [year]"
    )
    time: TimeConfig = Field(default_factory=TimeConfig)
    objective: ObjectiveConfig = Field(default_factory=ObjectiveConfig)
    budget: BudgetConfig = Field(default_factory=BudgetConfig)
    regions: dict[str, RegionConfig] = Field(default_factory=dict)
    market: MarketConfig = Field(default_factory=MarketConfig)
    accelerators: AcceleratorsConfig = Field(default_factory=AcceleratorsConfig)
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


def _parse_value(text: str) -> Any:
    try:
        return safe_load(text)
    except yaml.YAMLError:
        return text


def parse_override(item: str) -> tuple[list[str], Any]:
    """``"budget.total_usd=3.5e12"`` → (["budget", "total_usd"], 3.5e12)."""
    if "=" not in item:
        raise ScenarioError(
            f"--set {item!r}: expected KEY=VALUE, e.g. budget.total_usd=3.5e12",
            [(item, item, "KEY=VALUE")],
        )
    key, _, raw = item.partition("=")
    path = [p for p in key.strip().split(".") if p]
    if not path:
        raise ScenarioError(f"--set {item!r}: empty key", [(item, item, "KEY=VALUE")])
    value = _parse_value(raw.strip())
    if isinstance(value, str) and value.lower() in {"null", "none", "~"}:
        value = None
    return path, value


def apply_override(data: dict[str, Any], path: Sequence[str], value: Any) -> None:
    """Set ``value`` at ``path`` in a raw scenario dict (creating mappings as needed)."""
    node: Any = data
    for i, key in enumerate(path[:-1]):
        here = ".".join(path[: i + 1])
        if isinstance(node, list):
            try:
                node = node[int(key)]
            except (ValueError, IndexError):
                raise ScenarioError(
                    f"--set {'.'.join(path)}: {here!r} is not an index of a list of {len(node)}",
                    [(here, key, f"an index 0..{len(node) - 1}")],
                ) from None
            continue
        if not isinstance(node, dict):
            raise ScenarioError(
                f"--set {'.'.join(path)}: {here!r} is not a mapping",
                [(here, node, "a mapping")],
            )
        # a dotted catalog id is one key of the `catalog` mapping
        if path[0] == "catalog" and i == 0:
            node = node.setdefault("catalog", {})
            node[".".join(path[1:])] = value
            return
        if node.get(key) is None:
            node[key] = {}
        node = node[key]
    last = path[-1]
    if not isinstance(node, dict | list):
        parent = ".".join(path[:-1])
        raise ScenarioError(
            f"--set {'.'.join(path)}: {parent!r} is a value ({node!r}), not a mapping",
            [(parent, node, "a mapping to set a key in")],
        )
    if isinstance(node, list):
        try:
            node[int(last)] = value
        except (ValueError, IndexError):
            raise ScenarioError(
                f"--set {'.'.join(path)}: {last!r} is not an index of a list of {len(node)}",
                [(".".join(path), last, "an index")],
            ) from None
    else:
        node[last] = value


def _problems(exc: ValidationError, data: Mapping[str, Any]) -> list[tuple[str, object, str]]:
    out = []
    for e in exc.errors():
        loc = ".".join(str(p) for p in e["loc"])
        out.append((loc or "<root>", e.get("input"), e["msg"]))
    return out


def validate_scenario(data: Mapping[str, Any], origin: str = "scenario") -> Scenario:
    """Validate a raw dict; raise ScenarioError listing every problem (path, value, expected)."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        probs = _problems(exc, data)
        lines = [f"{origin} is invalid ({len(probs)} problem{'s' * (len(probs) > 1)}):"]
        for loc, val, msg in probs:
            shown = repr(val)
            if len(shown) > 80:
                shown = shown[:77] + "..."
            lines.append(f"  - {loc}: got {shown}; {msg}")
        raise ScenarioError("\n".join(lines), probs) from None


def load_scenario_dict(
    source: str | Path | None = None, _seen: tuple[Path, ...] = ()
) -> tuple[dict[str, Any], str]:
    """The raw dict of a scenario file (None → the embedded default) and its origin label."""
    if source is None or str(source) == DEFAULT_SCENARIO:
        return safe_load(default_scenario_text()), "default scenario"
    path = Path(source)
    if not path.is_file():
        raise ScenarioError(
            f"scenario file {str(path)!r} does not exist", [("SCENARIO", str(path), "a YAML file")]
        )
    try:
        data = safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ScenarioError(
            f"{path}: not valid YAML: {exc}", [("<file>", str(path), "valid YAML")]
        ) from None
    if not isinstance(data, dict):
        raise ScenarioError(
            f"{path}: top level is {type(data).__name__}; expected a mapping of scenario fields",
            [("<root>", data, "a mapping")],
        )
    base = data.pop("extends", None)
    if base is not None:
        # a scenario may extend the default (or another file) and change only what it names
        me = path.resolve()
        if me in _seen:
            chain = " -> ".join(str(p) for p in (*_seen, me))
            raise ScenarioError(
                f"{path}: 'extends' goes round in a circle: {chain}",
                [("extends", str(base), "a chain of files that ends at a scenario")],
            )
        parent, _ = load_scenario_dict(
            base if base == DEFAULT_SCENARIO else (path.parent / str(base)), (*_seen, me)
        )
        data = deep_merge(parent, data)
    return data, str(path)


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
    data, origin = load_scenario_dict(source)
    for item in overrides:
        path, value = parse_override(item)
        apply_override(data, path, value)
    return validate_scenario(data, origin)
