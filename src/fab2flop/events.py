"""Disruptions as data: named, dated events that change the network's arrays.

An event never deletes structure. An *outage* lowers ``availability`` over a window (and may
destroy capacity), a *delay* lengthens ``open_lead_periods`` of builds started in a window,
a *price* event multiplies costs, an *export* event cuts ``deploy_cap_units_per_year`` and a
*funding* event cuts a funder's money. The LP, the simulator and a robust LP all read the
same arrays, so they all see the event.

>>> ev = validate_event({"use": "taiwan_blockade", "start": 2028})
>>> ev.kind, ev.region, ev.start
('outage', 'TW', 2028.0)

Windows are in years: ``[start, start + duration_years)``; ``duration_years: null`` runs to
the end of the horizon. A window in years covers its quarters when the step is a quarter.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from .constants import Category
from .errors import ScenarioError

if TYPE_CHECKING:
    from .scenario import Scenario

# ----------------------------------------------------------------------------- groups

# A supplier group names the generated processes it covers by name pattern (fnmatch) or by
# spending category; ``exclude`` takes names back out. Third-party supply groups first
# (made where market.supplier_regions says), then the plan's own lines.
GROUPS: dict[str, dict[str, tuple[str, ...]]] = {
    "foundry": {"names": ("foundry_*",)},
    "cowos": {"names": ("cowos_market",)},
    "hbm": {"names": ("hbm_market", "buy_hbm*")},
    "merchant": {"categories": (Category.MERCHANT.value,)},
    "fabs": {"names": ("fab_*",)},
    "memory": {"names": ("hbm_line", "stack_*")},
    "packaging": {"names": ("cowos_line",)},
    "assembly": {"names": ("assemble_*",)},
    "datacenters": {"categories": (Category.DATACENTERS.value,)},
    "power": {"names": ("power_*",), "exclude": ("power_build_limit",)},
    "power_build": {"names": ("power_build_limit",)},
    "grid": {"names": ("grid",)},
}
SUPPLIER_GROUPS = ("foundry", "cowos", "hbm", "merchant")

CostKind = Literal["capex", "variable", "systems"]
DEFAULT_COSTS: tuple[CostKind, ...] = ("capex", "variable")


# ----------------------------------------------------------------------------- models


class _EventBase(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    name: str = Field(description="name shown in the results")
    use: str | None = Field(None, description="catalog event this one started from")
    description: str = ""
    source: str = Field("", description="public analysis or stated reasoning behind the numbers")
    start: float = Field(description="first year of the window (2028.5 = mid-2028) [year]")
    duration_years: float | None = Field(
        None, gt=0, description="length of the window; null: to the end of the horizon [years]"
    )

    @property
    def end(self) -> float:
        """End of the window, exclusive [year] (inf: to the end of the horizon)."""
        return np.inf if self.duration_years is None else self.start + self.duration_years


class _Selecting(_EventBase):
    """What an event hits: processes in a region. Selectors of processes add up (union);
    the region narrows them. No process selector: every process of the region."""

    region: str | None = Field(None, description="region hit (all regions when null)")
    group: str | list[str] | None = Field(
        None, description=f"supplier group(s): {', '.join(GROUPS)}"
    )
    processes: list[str] | None = Field(
        None, description="process names or fnmatch patterns, e.g. fab_* "
    )
    category: Category | None = Field(None, description="spending category of the processes")

    @field_validator("group")
    @classmethod
    def _known_groups(cls, v: str | list[str] | None) -> str | list[str] | None:
        bad = [g for g in ([v] if isinstance(v, str) else v or []) if g not in GROUPS]
        if bad:
            raise ValueError(f"unknown group {bad}; expected among {list(GROUPS)}")
        return v

    @property
    def groups(self) -> list[str]:
        if self.group is None:
            return []
        return [self.group] if isinstance(self.group, str) else list(self.group)

    @property
    def selects_processes(self) -> bool:
        return bool(self.groups or self.processes or self.category is not None)


def _needs_selector(ev: _Selecting, what: str) -> None:
    if not (ev.selects_processes or ev.region):
        raise ValueError(f"say {what}: region, group, processes or category")


class OutageEvent(_Selecting):
    """Matched processes lose ``fraction`` of their output over the window, then come back
    linearly over ``recovery_years``; ``destroy_fraction`` of capacity is destroyed at the
    start (plan-built: gone for good; third-party: rebuilt along the same ramp)."""

    kind: Literal["outage"] = "outage"
    fraction: float = Field(1.0, ge=0, le=1, description="share of output lost [1]")
    recovery_years: float = Field(
        0.0, ge=0, le=30, description="linear return to full output after the window [years]"
    )
    destroy_fraction: float = Field(
        0.0, ge=0, le=1, description="share of capacity destroyed at the start [1]"
    )

    @model_validator(mode="after")
    def _hits_something(self) -> OutageEvent:
        _needs_selector(self, "what is hit")
        return self


class DelayEvent(_Selecting):
    """Builds of matched processes started in the window take ``years`` longer."""

    kind: Literal["delay"] = "delay"
    years: float = Field(gt=0, le=20, description="extra construction time [years]")

    @model_validator(mode="after")
    def _hits_something(self) -> DelayEvent:
        _needs_selector(self, "whose builds are late")
        return self


class PriceEvent(_Selecting):
    """Costs of matched processes multiplied over the window: ``capex`` of builds started
    in it, ``variable`` cost of activity in it, ``systems`` bought with each accelerator
    deployed in it (of the accelerators the matched processes make; all when no selector)."""

    kind: Literal["price"] = "price"
    multiplier: float = Field(gt=0, le=100, description="cost factor (1.6 = +60%) [1]")
    costs: list[CostKind] = Field(
        default_factory=lambda: list(DEFAULT_COSTS), min_length=1, description="costs hit"
    )

    @model_validator(mode="after")
    def _hits_something(self) -> PriceEvent:
        if {"capex", "variable"} & set(self.costs):
            _needs_selector(self, "whose costs")
        return self


class ExportEvent(_EventBase):
    """Export approvals for ``region`` cut to ``deploy_cap_units_per_year`` over the window."""

    kind: Literal["export"] = "export"
    region: str = Field(description="region whose approvals are cut")
    deploy_cap_units_per_year: float = Field(
        ge=0, description="accelerators deployable per year [units/year]"
    )


class FundingEvent(_EventBase):
    """A funder's money arriving in the window is cut by ``fraction``."""

    kind: Literal["funding"] = "funding"
    funder: str | None = Field(None, description="budget.funders name (null: all money)")
    fraction: float = Field(ge=0, le=1, description="share of the money that never arrives [1]")


KINDS: dict[str, type[_EventBase]] = {
    "outage": OutageEvent,
    "delay": DelayEvent,
    "price": PriceEvent,
    "export": ExportEvent,
    "funding": FundingEvent,
}
AnyEvent = OutageEvent | DelayEvent | PriceEvent | ExportEvent | FundingEvent


@lru_cache(maxsize=1)
def event_catalog() -> dict[str, dict[str, Any]]:
    """The named events shipped in ``data/events.yaml`` (name -> raw fields)."""
    text = (resources.files("fab2flop") / "data" / "events.yaml").read_text(encoding="utf-8")
    return dict(yaml.safe_load(text) or {})


def _error(loc: tuple[str | int, ...], value: Any, message: str) -> InitErrorDetails:
    return InitErrorDetails(type=PydanticCustomError("event", message), loc=loc, input=value)


def _resolve(v: Any) -> Any:
    """``{use: NAME, ...}`` -> the catalog event NAME with the given fields on top."""
    if not isinstance(v, dict) or v.get("use") is None:
        return v
    cat = event_catalog()
    name = v["use"]
    if name not in cat:
        raise ValidationError.from_exception_data(
            "Event", [_error(("use",), name, f"no catalog event {name!r}; known: {sorted(cat)}")]
        )
    return {"name": name, **cat[name], **v}


def _dispatch(v: Any, handler: Any) -> Any:
    if isinstance(v, _EventBase):
        return v
    v = _resolve(v)
    kind = v.get("kind") if isinstance(v, dict) else None
    if kind not in KINDS:
        raise ValidationError.from_exception_data(
            "Event",
            [_error(("kind",), kind, f"kind must be one of {', '.join(KINDS)}; got {kind!r}")],
        )
    return KINDS[kind].model_validate(v)


Event = Annotated[AnyEvent, WrapValidator(_dispatch)]


def validate_event(data: dict[str, Any]) -> AnyEvent:
    """One event from a raw mapping (``use:`` resolved against the catalog)."""
    return _dispatch(data, None)


# ------------------------------------------------------------ checks against the scenario


def scenario_problems(sc: Scenario) -> list[InitErrorDetails]:
    """What needs the scenario but not the network: regions, funders, the horizon."""
    out: list[InitErrorDetails] = []
    regions = list(sc.regions)
    funders = [f.name for f in sc.budget.funders]
    for i, ev in enumerate(sc.events):
        at = ("events", i)
        if not sc.time.start <= ev.start < sc.time.end + 1:
            out.append(
                _error(
                    (*at, "start"),
                    ev.start,
                    f"the event starts outside the horizon [{sc.time.start}, {sc.time.end}]",
                )
            )
        region = getattr(ev, "region", None)
        if region is not None and region not in regions:
            out.append(
                _error((*at, "region"), region, f"unknown region; expected one of {regions}")
            )
        if isinstance(ev, FundingEvent) and ev.funder is not None and ev.funder not in funders:
            out.append(
                _error((*at, "funder"), ev.funder, f"unknown funder; budget.funders are {funders}")
            )
    return out


def check_events(sc: Scenario) -> None:
    """Raise a pydantic ValidationError whose locations are the events' field paths."""
    problems = scenario_problems(sc)
    if problems:
        raise ValidationError.from_exception_data("Scenario", problems)


# ------------------------------------------------------------------- windows in periods


def window_share(years: np.ndarray, dt: float, start: float, end: float) -> np.ndarray:
    """Share of each period ``[y, y + dt)`` that lies in the window ``[start, end)`` [1].

    >>> window_share(np.array([2027.0, 2028.0, 2029.0]), 1.0, 2028.5, 2030.0).tolist()
    [0.0, 0.5, 1.0]
    """
    lo = np.maximum(years, start)
    hi = np.minimum(years + dt, end)
    return np.clip(hi - lo, 0.0, dt) / dt


def starts_in_window(years: np.ndarray, dt: float, start: float, end: float) -> np.ndarray:
    """Periods whose builds count as started in the window: at least half of the period
    lies in it (exact for whole-year windows, annual or quarterly)."""
    return window_share(years, dt, start, end) >= 0.5 - 1e-9


def _loss_integral(tau: np.ndarray, start: float, duration: float, recovery: float) -> np.ndarray:
    """Integral of the loss profile (1 in the window, then a linear ramp down to 0 over
    ``recovery`` years) from -inf to ``tau`` [years]."""
    full = np.clip(tau - start, 0.0, duration)
    if recovery <= 0:
        return full
    u = np.clip(tau - start - duration, 0.0, recovery)
    return full + u - u * u / (2.0 * recovery)


def outage_profile(
    years: np.ndarray, dt: float, start: float, duration: float | None, recovery: float
) -> np.ndarray:
    """Average share of output lost in each period per unit of ``fraction`` [1]: 1 inside
    the window, falling linearly to 0 over ``recovery`` years after it.

    A whole-year outage in 2028 recovering over 2 years loses all of 2028, 3/4 of 2029
    (the ramp's mean over its first year: 1 - 1/4) and 1/4 of 2030:

    >>> outage_profile(np.arange(2027.0, 2032.0), 1.0, 2028, 1.0, 2.0).tolist()
    [0.0, 1.0, 0.75, 0.25, 0.0]
    """
    d = 1e6 if duration is None else duration
    a = _loss_integral(years, start, d, recovery)
    b = _loss_integral(years + dt, start, d, recovery)
    return (b - a) / dt


def delayed_open_lead(
    lead: np.ndarray,
    n_regions: int,
    n_periods: int,
    delays: list[tuple[np.ndarray, int, np.ndarray]],
) -> np.ndarray:
    """Construction periods of capacity opening in each period, with delays [periods].

    ``lead`` (P,) nominal; each delay is ``(hit (P,R) bool, extra periods, started_in (T,)
    bool)``. A build started in period s takes ``lead + sum of the delays whose window holds
    s``; capacity opening in t comes from the latest start s that opens in t (paying later
    is never worse with cash carried over); -1 where no start opens in t.
    """
    P, R, T = len(lead), n_regions, n_periods
    extra = np.zeros((P, R, T), int)
    for hit, n, started in delays:
        extra += n * (hit[:, :, None] & started[None, None, :])
    K = int(lead.max(initial=0)) + int(extra.max(initial=0))
    s = np.arange(-K, T)  # starts before the horizon take the nominal lead
    dur = np.broadcast_to(lead[:, None, None], (P, R, len(s))).copy()
    dur[:, :, K:] += extra
    opens = s[None, None, :] + dur
    ok = (opens >= 0) & (opens < T)
    pi, ri, si = np.nonzero(ok)
    best = np.full((P, R, T), -(10**9), int)
    np.maximum.at(best, (pi, ri, opens[pi, ri, si]), s[si])
    t = np.arange(T)[None, None, :]
    return np.where(best > -(10**9), t - best, -1)


# ------------------------------------------------------------------- applying to arrays


@dataclass
class EventArrays:
    """The network arrays events change, modified in place by :func:`apply_events`."""

    availability: np.ndarray  # (P,R,T) [1]
    destroyed_fraction: np.ndarray  # (P,R,T) [1]
    existing: np.ndarray  # (P,R,T) [activity unit]
    open_lead_periods: np.ndarray  # (P,R,T) [periods]
    capex_usd_per_unit: np.ndarray  # (P,R,T) [USD/unit], by opening period
    var_cost_usd_per_unit: np.ndarray  # (P,R,T) [USD/unit]
    acc_unit_cost_usd: np.ndarray  # (A,T) [USD]
    acc_deploy_cost_usd: np.ndarray  # (A,T) [USD]
    deploy_cap_units_per_year: np.ndarray  # (R,T) [units/year]
    funding_by_funder: np.ndarray  # (F,T) [USD]


@dataclass(frozen=True)
class EventIndex:
    """Labels and masks events are matched against."""

    processes: list[str]
    categories: list[str]
    main_output: list[str]
    exists: np.ndarray  # (P,R) bool
    buildable: np.ndarray  # (P,) bool: the plan can add capacity
    lead: np.ndarray  # (P,) nominal construction periods
    regions: list[str]
    periods: list[Any]
    years: np.ndarray  # (T,) period starts [year]
    dt: float  # [years]
    acc_carrier: list[str]
    acc_merchant: np.ndarray  # (A,) bool
    funders: list[str]


def match_processes(ev: _Selecting, idx: EventIndex, at: str) -> np.ndarray:
    """(P,) processes an event's selectors name; a pattern or group matching nothing is an
    error naming the field."""
    P = len(idx.processes)
    if not ev.selects_processes:
        return np.ones(P, bool)
    names = np.array(idx.processes, dtype=object)
    cats = np.array(idx.categories, dtype=object)
    out = np.zeros(P, bool)

    def by_names(patterns: tuple[str, ...] | list[str]) -> np.ndarray:
        return np.array([any(fnmatch.fnmatchcase(n, pat) for pat in patterns) for n in names], bool)

    for g in ev.groups:
        spec = GROUPS[g]
        m = by_names(spec.get("names", ())) | np.isin(cats, spec.get("categories", ()))
        m &= ~by_names(spec.get("exclude", ()))
        if not m.any():
            _fail(f"{at}.group", g, "a group with processes in this network")
        out |= m
    for pat in ev.processes or []:
        m = by_names([pat])
        if not m.any():
            _fail(f"{at}.processes", pat, f"a name or pattern matching a process: {idx.processes}")
        out |= m
    if ev.category is not None:
        m = cats == ev.category.value
        if not m.any():
            _fail(f"{at}.category", ev.category.value, "a category with processes in this network")
        out |= m
    return out


def _fail(path: str, value: Any, expected: str) -> None:
    raise ScenarioError(
        f"{path}: {value!r} matches nothing; expected {expected}", [(path, value, expected)]
    )


def hit_cells(ev: _Selecting, idx: EventIndex, at: str, buildable_only: bool = False) -> np.ndarray:
    """(P,R) cells (process existing in region) an event hits."""
    hit = idx.exists & match_processes(ev, idx, at)[:, None]
    if ev.region is not None:
        hit &= (np.array(idx.regions) == ev.region)[None, :]
    if buildable_only:
        hit &= idx.buildable[:, None]
    if not hit.any():
        what = "buildable process" if buildable_only else "process"
        _fail(at, ev.name, f"an event hitting at least one {what} existing in its region")
    return hit


def _record(ev: AnyEvent, idx: EventIndex, effect: np.ndarray, **what: Any) -> dict[str, Any]:
    rec = ev.model_dump(mode="json", exclude_none=True)
    rec["end"] = None if not np.isfinite(ev.end) else ev.end
    rec["periods"] = [str(p) for p, e in zip(idx.periods, effect, strict=True) if e]
    rec.update(what)
    return rec


def _hit_labels(hit: np.ndarray, idx: EventIndex) -> dict[str, list[str]]:
    return {
        "processes": [idx.processes[i] for i in np.flatnonzero(hit.any(axis=1))],
        "regions": [idx.regions[j] for j in np.flatnonzero(hit.any(axis=0))],
    }


def apply_outage(ev: OutageEvent, arr: EventArrays, idx: EventIndex, at: str) -> dict[str, Any]:
    """Availability x (1 - fraction x profile); destruction at the start period: plan-built
    capacity into ``destroyed_fraction``, third-party (``existing``) capacity lowered and
    rebuilt by its owner along the event's own profile (back after the recovery ramp)."""
    hit = hit_cells(ev, idx, at)
    prof = outage_profile(idx.years, idx.dt, ev.start, ev.duration_years, ev.recovery_years)
    arr.availability *= 1.0 - ev.fraction * hit[:, :, None] * prof[None, None, :]
    if ev.destroy_fraction > 0:
        ts = int(np.searchsorted(idx.years, ev.start + 1e-9, side="right")) - 1
        d = ev.destroy_fraction * (hit & idx.buildable[:, None])
        arr.destroyed_fraction[:, :, ts] = 1.0 - (1.0 - arr.destroyed_fraction[:, :, ts]) * (
            1.0 - d
        )
        arr.existing *= 1.0 - ev.destroy_fraction * hit[:, :, None] * prof[None, None, :]
    return _record(ev, idx, prof > 0, **_hit_labels(hit, idx))


def apply_price(ev: PriceEvent, arr: EventArrays, idx: EventIndex, at: str) -> dict[str, Any]:
    """Costs x (1 + (multiplier - 1) x share of the period in the window)."""
    w = window_share(idx.years, idx.dt, ev.start, ev.end)
    f = 1.0 + (ev.multiplier - 1.0) * w  # (T,)
    if ev.selects_processes or ev.region is not None:
        hit = hit_cells(ev, idx, at)
    else:
        hit = np.zeros_like(idx.exists)
    if "variable" in ev.costs:
        arr.var_cost_usd_per_unit *= np.where(hit[:, :, None], f[None, None, :], 1.0)
    if "capex" in ev.costs:
        # a build pays the price of the period its construction starts in
        ol = arr.open_lead_periods
        t = np.arange(len(idx.years))[None, None, :]
        s = t - ol
        ok = (ol >= 0) & (s >= 0)
        fs = np.where(ok, f[np.clip(s, 0, len(f) - 1)], 1.0)
        arr.capex_usd_per_unit *= np.where(hit[:, :, None], fs, 1.0)
    made = {idx.main_output[i] for i in np.flatnonzero(hit.any(axis=1))}
    accs = np.array([c in made for c in idx.acc_carrier], bool)
    if "variable" in ev.costs:
        arr.acc_unit_cost_usd *= np.where((accs & idx.acc_merchant)[:, None], f[None, :], 1.0)
    if "systems" in ev.costs:
        sel = accs if hit.any() else np.ones(len(idx.acc_carrier), bool)
        arr.acc_deploy_cost_usd *= np.where(sel[:, None], f[None, :], 1.0)
    labels = _hit_labels(hit, idx)
    return _record(ev, idx, w > 0, **labels)


def apply_export(ev: ExportEvent, arr: EventArrays, idx: EventIndex, at: str) -> dict[str, Any]:
    """Approvals in the window at most ``deploy_cap_units_per_year`` (a cut never raises
    them); a period partly in the window gets the time-weighted cap (an unlimited one stays
    unlimited unless the whole period is in the window)."""
    w = window_share(idx.years, idx.dt, ev.start, ev.end)
    j = idx.regions.index(ev.region)
    old = arr.deploy_cap_units_per_year[j]
    cut = np.minimum(old, ev.deploy_cap_units_per_year)
    with np.errstate(invalid="ignore"):
        mixed = old * (1.0 - w) + cut * w
    arr.deploy_cap_units_per_year[j] = np.where(
        w >= 1.0 - 1e-12, cut, np.where(w > 0, np.where(np.isfinite(old), mixed, old), old)
    )
    return _record(ev, idx, w > 0, regions=[ev.region])


def apply_funding(ev: FundingEvent, arr: EventArrays, idx: EventIndex, at: str) -> dict[str, Any]:
    """The funder's money arriving in the window x (1 - fraction)."""
    w = window_share(idx.years, idx.dt, ev.start, ev.end)
    rows = (
        np.ones(len(idx.funders), bool)
        if ev.funder is None
        else (np.array(idx.funders) == ev.funder)
    )
    before = arr.funding_by_funder.sum()
    arr.funding_by_funder *= 1.0 - ev.fraction * rows[:, None] * w[None, :]
    lost = float(before - arr.funding_by_funder.sum())
    return _record(
        ev,
        idx,
        w > 0,
        funders=[f for f, r in zip(idx.funders, rows, strict=True) if r],
        funding_lost_usd=lost,
    )


APPLY = {
    "outage": apply_outage,
    "price": apply_price,
    "export": apply_export,
    "funding": apply_funding,
}


def apply_events(events: list[AnyEvent], arr: EventArrays, idx: EventIndex) -> list[dict[str, Any]]:
    """Apply ``events`` to the arrays in place; return what each did (JSON-ready), in order.

    Delays are combined first (their extra years add up where windows overlap), so a price
    event's capex multiplier sees when each build really starts; the others apply in the
    order given (outage and price factors multiply; export cuts take the lowest cap).
    """
    records: list[dict[str, Any] | None] = [None] * len(events)
    delays = []
    for i, ev in enumerate(events):
        if isinstance(ev, DelayEvent):
            at = f"events.{i}"
            hit = hit_cells(ev, idx, at, buildable_only=True)
            n = max(1, int(np.ceil(round(ev.years / idx.dt, 6))))
            started = starts_in_window(idx.years, idx.dt, ev.start, ev.end)
            delays.append((hit, n, started))
            records[i] = _record(ev, idx, started, extra_periods=n, **_hit_labels(hit, idx))
    if delays:
        R, T = len(idx.regions), len(idx.years)
        arr.open_lead_periods[...] = delayed_open_lead(idx.lead, R, T, delays)
    for i, ev in enumerate(events):
        if not isinstance(ev, DelayEvent):
            records[i] = APPLY[ev.kind](ev, arr, idx, f"events.{i}")  # type: ignore[operator]
    return [r for r in records if r is not None]
