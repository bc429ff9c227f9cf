"""Resolve an ``uncertainty:`` section against the catalog: patterns → concrete parameters.

>>> from fab2flop.catalog import load_catalog
>>> from fab2flop.risk.uncertainty import validate_uncertainty
>>> unc = validate_uncertainty({"parameters": [{"id": "nodes.*.wafer_price_usd"}]})
>>> res = resolve_uncertainty(unc, load_catalog())
>>> "nodes.N3.wafer_price_usd" in res.names
True

Every problem found (unknown id, pattern matching nothing, a range the catalog cannot fill,
a correlation group naming an unknown parameter, an event missing from the events catalog)
is collected and raised at once as a ScenarioError naming the field.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
import yaml

from ..catalog import Catalog, Record
from .uncertainty import (
    DIST_FIELDS,
    DistSpec,
    Number,
    ParameterSpec,
    Uncertainty,
    check_bounds,
    check_correlation_matrix,
    raise_problems,
)

SCENARIO_PREFIX = "scenario."  # variable names of scenario-path parameters
DEFAULT_HORIZON = (2025, 2035)  # the scenario's default time.start / time.end [year]
Problems = list[tuple[str, object, str]]

# the fields a distribution needs before it can be drawn (others have defaults)
_REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    "triangular": (("low", "mode", "high"),),
    "uniform": (("low", "high"),),
    "pert": (("low", "mode", "high"),),
    "lognormal": (("low", "high"), ("mu", "sigma")),
    "discrete": (("values",),),
    "constant": (("value",),),
}


@dataclass(frozen=True)
class ResolvedParameter:
    """One concrete uncertain quantity with a complete distribution."""

    name: str  # variable name: the catalog id, or "scenario." + the scenario path
    target: str  # catalog id or scenario path
    kind: str  # "catalog" | "scenario"
    dist: DistSpec  # complete: every field the distribution needs is set
    unit: str
    nominal: float
    integer: bool = False
    series: dict[int, float] | None = None  # set when a time series is scaled by one factor


@dataclass(frozen=True)
class ResolvedEvent:
    """A stochastic event with complete distributions of start, duration and severity."""

    name: str
    kind: str | None
    probability: float | None
    probability_per_year: float | None
    start: DistSpec | None
    duration_years: DistSpec
    fraction: DistSpec


@dataclass(frozen=True)
class ResolvedUncertainty:
    """Everything a sampler needs: concrete parameters, correlation blocks, events."""

    parameters: list[ResolvedParameter]
    groups: list[tuple[list[str], np.ndarray]]  # (parameter names, rank correlation matrix)
    events: list[ResolvedEvent]
    samples: int
    seed: int
    method: str
    horizon: tuple[int, int]
    notes: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.parameters]


def match_segments(pattern: str, key: str) -> bool:
    """fnmatch each dot-separated segment: ``a.*.c`` matches ``a.b.c``, not ``a.b.x.c``."""
    ps, ks = pattern.split("."), key.split(".")
    return len(ps) == len(ks) and all(
        fnmatch.fnmatchcase(k, p) for p, k in zip(ps, ks, strict=True)
    )


def expand(pattern: str, keys: Iterable[str]) -> list[str]:
    """The keys a pattern names (itself when it is one of them)."""
    keys = list(keys)
    if not any(c in pattern for c in "*?["):
        return [pattern] if pattern in keys else []
    return sorted(k for k in keys if match_segments(pattern, k))


def flatten_numbers(data: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted paths of every number or {year: number} series in a nested mapping."""
    out: dict[str, Any] = {}
    if isinstance(data, Mapping):
        if data and all(isinstance(k, int) for k in data):
            return {prefix: dict(data)} if prefix else {}
        for k, v in data.items():
            out.update(flatten_numbers(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(data, int | float) and not isinstance(data, bool):
        out[prefix] = float(data)
    return out


def _missing(d: DistSpec) -> str | None:
    options = _REQUIRED[d.dist]
    if any(all(getattr(d, f) is not None for f in opt) for opt in options):
        return None
    return " or ".join("/".join(opt) for opt in options)


def as_dist(d: DistSpec | Number) -> DistSpec:
    """A number means a constant."""
    return d if isinstance(d, DistSpec) else DistSpec(dist="constant", value=float(d))


def _series_factor_range(rec: Record, series: dict[int, float]) -> tuple[float | None, ...]:
    # a series' low/high are read against its largest value (the level the range describes)
    ref = max(abs(v) for v in series.values()) or 1.0
    lo = min(rec.low / ref, 1.0) if rec.low is not None else None
    hi = max(rec.high / ref, 1.0) if rec.high is not None else None
    return lo, hi


def _fill_from_catalog(spec: ParameterSpec, rec: Record) -> tuple[DistSpec, dict | None]:
    """Complete a catalog parameter's distribution from the record (value → mode)."""
    series = None
    low: float | None
    high: float | None
    if isinstance(rec.value, dict):
        series = {int(k): float(v) for k, v in sorted(rec.value.items())}
        low, high = _series_factor_range(rec, series)
        nominal = 1.0
    else:
        low = float(rec.low) if rec.low is not None else None
        high = float(rec.high) if rec.high is not None else None
        nominal = float(rec.value)  # type: ignore[arg-type]
    fill: dict[str, Any] = {}
    allowed = DIST_FIELDS[spec.dist]
    if "low" in allowed and spec.low is None and spec.mu is None and low is not None:
        fill["low"] = low
    if "high" in allowed and spec.high is None and spec.mu is None and high is not None:
        fill["high"] = high
    if "mode" in allowed and spec.mode is None:
        fill["mode"] = nominal
    if "value" in allowed and spec.value is None:
        fill["value"] = nominal
    base = spec.model_dump(include=set(DistSpec.model_fields), exclude_none=True)
    return DistSpec.model_construct(**{**base, **fill}), series


def _check_dist(d: DistSpec, where: str, got: object, probs: Problems) -> bool:
    miss = _missing(d)
    if miss:
        probs.append((where, got, f"a {d.dist} distribution needs {miss}"))
        return False
    try:
        check_bounds(d)
    except ValueError as exc:
        probs.append((where, got, str(exc)))
        return False
    return True


def _catalog_params(spec: ParameterSpec, where: str, cat: Catalog, probs: Problems) -> list:
    assert spec.id is not None
    ids = [i for i in expand(spec.id, cat.records) if not isinstance(cat.records[i].value, str)]
    if not ids:
        what = "matches no catalog number" if "*" in spec.id else "is not a catalog number"
        probs.append((f"{where}.id", spec.id, f"{what}; see `fab2flop data list`"))
        return []
    out = []
    pattern = any(c in spec.id for c in "*?[")
    for rid in ids:
        rec = cat.records[rid]
        dist, series = _fill_from_catalog(spec, rec)
        if pattern and _missing(dist):
            continue  # a pattern takes the records the catalog gives a range for
        if not _check_dist(dist, f"{where} ({rid})", spec.id, probs):
            continue
        integer = spec.integer if spec.integer is not None else isinstance(rec.value, int)
        unit = "1" if series is not None else rec.unit
        nominal = 1.0 if series is not None else float(rec.value)  # type: ignore[arg-type]
        out.append(
            ResolvedParameter(rid, rid, "catalog", dist, unit, nominal, bool(integer), series)
        )
    if pattern and not out and not any(p[0].startswith(f"{where} (") for p in probs):
        need = _missing(_fill_from_catalog(spec, cat.records[ids[0]])[0])
        probs.append((f"{where}.id", spec.id, f"no matching record has a range; give {need}"))
    return out


def _scenario_params(
    spec: ParameterSpec, where: str, flat: dict[str, Any] | None, probs: Problems
) -> list:
    assert spec.path is not None
    if flat is None:
        probs.append((f"{where}.path", spec.path, "scenario paths need the scenario to resolve"))
        return []
    paths = expand(spec.path, flat)
    if not paths:
        probs.append((f"{where}.path", spec.path, "matches no numeric scenario field"))
        return []
    out = []
    for p in paths:
        v = flat[p]
        series = {int(k): float(x) for k, x in v.items()} if isinstance(v, dict) else None
        nominal = 1.0 if series is not None else float(v)
        dist = DistSpec.model_construct(
            **spec.model_dump(include=set(DistSpec.model_fields), exclude_none=True)
        )
        if spec.dist in ("triangular", "pert") and spec.mode is None:
            dist = DistSpec.model_construct(
                **{**dist.model_dump(exclude_none=True), "mode": nominal}
            )
        if _check_dist(dist, f"{where} ({p})", spec.path, probs):
            integer = bool(spec.integer)
            out.append(
                ResolvedParameter(
                    SCENARIO_PREFIX + p, p, "scenario", dist, "scenario", nominal, integer, series
                )
            )
    return out


def _default_params(cat: Catalog) -> list[ResolvedParameter]:
    """Every catalog number (or series) with a low below its high, triangular about its value."""
    out = []
    for rec in cat:
        if rec.low is None or rec.high is None or rec.low >= rec.high:
            continue  # no range, or a degenerate one: nothing to vary
        if isinstance(rec.value, str):
            continue
        spec = ParameterSpec(id=rec.id)
        dist, series = _fill_from_catalog(spec, rec)
        if series is None and not (dist.low <= dist.mode <= dist.high):  # type: ignore[operator]
            continue  # a value outside its own range: the catalog test reports those
        unit = "1" if series is not None else rec.unit
        nominal = 1.0 if series is not None else float(rec.value)  # type: ignore[arg-type]
        out.append(
            ResolvedParameter(
                rec.id, rec.id, "catalog", dist, unit, nominal, isinstance(rec.value, int), series
            )
        )
    return out


def resolve_parameters(
    unc: Uncertainty, cat: Catalog, scenario: Mapping[str, Any] | None, probs: Problems
) -> list[ResolvedParameter]:
    """Concrete parameters; an explicit entry replaces a default or earlier one of the same id."""
    found: dict[str, ResolvedParameter] = {}
    if unc.catalog_ranges:
        found.update({p.name: p for p in _default_params(cat)})
    flat = flatten_numbers(scenario) if scenario is not None else None
    for i, spec in enumerate(unc.parameters):
        where = f"uncertainty.parameters.{i}"
        if spec.id is not None:
            items = _catalog_params(spec, where, cat, probs)
        else:
            items = _scenario_params(spec, where, flat, probs)
        found.update({p.name: p for p in items})
    return list(found.values())


def group_matrix(rho: float, k: int) -> np.ndarray:
    """A k×k matrix with ``rho`` off the diagonal."""
    return np.full((k, k), rho) + (1.0 - rho) * np.eye(k)


def resolve_groups(
    unc: Uncertainty, names: list[str], probs: Problems
) -> list[tuple[list[str], np.ndarray]]:
    """Correlation blocks over concrete parameter names; a parameter may be in one group only."""
    out: list[tuple[list[str], np.ndarray]] = []
    taken: dict[str, int] = {}
    for g, grp in enumerate(unc.correlations):
        where = f"uncertainty.correlations.{g}"
        before = len(probs)
        members: list[str] = []
        for j, pat in enumerate(grp.parameters):
            hits = [n for n in expand(pat, names) if n not in members]
            hits += [] if hits else expand(SCENARIO_PREFIX + pat, names)
            if not hits:
                probs.append((f"{where}.parameters.{j}", pat, "names no uncertain parameter"))
            elif grp.matrix is not None and len(hits) != 1:
                probs.append((f"{where}.parameters.{j}", pat, "with a matrix, name one each"))
            members += hits
        for n in members:
            if n in taken:
                probs.append((f"{where}.parameters", n, f"already in correlations.{taken[n]}"))
            taken[n] = g
        if len(probs) == before and len(members) < 2:
            probs.append((f"{where}.parameters", members, "a group of at least two parameters"))
        if len(probs) > before:
            continue
        m = np.asarray(grp.matrix, float) if grp.matrix is not None else None
        if m is None:
            m = group_matrix(float(grp.rho), len(members))  # type: ignore[arg-type]
            try:
                check_correlation_matrix(m)
            except ValueError:
                probs.append(
                    (
                        f"{where}.rho",
                        grp.rho,
                        f"for {len(members)} parameters rho must be >= "
                        f"{-1 / (len(members) - 1):.4g} (else not positive semi-definite)",
                    )
                )
                continue
        out.append((members, m))
    return out


def _check_start(
    d: DistSpec, horizon: tuple[int, int], where: str, probs: Problems, notes: list[str]
) -> bool:
    """Whether an event with start distribution ``d`` can start in the horizon. Draws outside
    it mean the event does not occur in the horizon (a note says so); a distribution wholly
    outside drops the event (a note); a lognormal start is an error."""
    vals = [v for v in (d.low, d.high, d.value, *(d.values or [])) if v is not None]
    y0, y1 = horizon
    if d.dist == "lognormal":
        probs.append((where, vals, f"start years must lie in the horizon {y0}..{y1}"))
        return False
    span = f"{min(vals):g}-{max(vals):g}" if len(vals) > 1 else f"{vals[0]:g}"
    if all(v < y0 or v >= y1 + 1 for v in vals) and not (min(vals) < y0 and max(vals) >= y1 + 1):
        notes.append(f"{where}: start {span} lies outside the horizon {y0}..{y1}: event dropped")
        return False
    if any(v < y0 or v >= y1 + 1 for v in vals):
        notes.append(
            f"{where}: start {span} reaches outside the horizon {y0}..{y1}: a start drawn "
            "outside it is no event in the horizon (its probability there is lower)"
        )
    return True


def resolve_events(
    unc: Uncertainty,
    horizon: tuple[int, int],
    known: Mapping[str, Mapping[str, Any]] | None,
    probs: Problems,
    notes: list[str] | None = None,
) -> list[ResolvedEvent]:
    """Complete each event; its name must be in the events catalog when one is given.
    Events whose start lies wholly outside the horizon are dropped (with a note)."""
    notes = [] if notes is None else notes
    out = []
    for i, ev in enumerate(unc.events):
        where = f"uncertainty.events.{i}"
        kind = ev.kind
        if known is not None:
            if ev.name not in known:
                probs.append(
                    (f"{where}.name", ev.name, f"one of the catalog's events: {', '.join(known)}")
                )
                continue
            kind = kind or known[ev.name].get("kind")
        dists = {}
        for fname in ("start", "duration_years", "fraction"):
            val = getattr(ev, fname)
            if val is None:
                continue
            d = as_dist(val)
            if _check_dist(d, f"{where}.{fname}", val, probs):
                dists[fname] = d
        if "start" in dists and not _check_start(
            dists["start"], horizon, f"{where}.start", probs, notes
        ):
            continue
        if "duration_years" not in dists or "fraction" not in dists:
            continue
        out.append(
            ResolvedEvent(
                ev.name,
                kind,
                ev.probability,
                ev.probability_per_year,
                dists.get("start"),
                dists["duration_years"],
                dists["fraction"],
            )
        )
    return out


def load_event_catalog() -> dict[str, dict[str, Any]] | None:
    """Named events of ``data/events.yaml`` by name, or None when the package ships none.

    Accepts a mapping of names, or an ``events:`` key holding a mapping or a list of records
    with a ``name``.
    """
    path = resources.files("fab2flop") / "data" / "events.yaml"
    if not path.is_file():
        return None
    data = yaml.safe_load(path.read_text("utf-8")) or {}
    body = data.get("events", data) if isinstance(data, Mapping) else data
    if isinstance(body, list):
        return {str(e["name"]): dict(e) for e in body if isinstance(e, Mapping) and "name" in e}
    return {str(k): dict(v) if isinstance(v, Mapping) else {} for k, v in body.items()}


def resolve_uncertainty(
    unc: Uncertainty,
    catalog: Catalog,
    scenario: Mapping[str, Any] | None = None,
    *,
    horizon: tuple[int, int] | None = None,
    events_catalog: Mapping[str, Mapping[str, Any]] | None | bool = True,
) -> ResolvedUncertainty:
    """Expand patterns into concrete ids and check everything against the catalog.

    ``scenario`` is the scenario as a plain mapping (``Scenario.model_dump()``); it resolves
    ``path`` parameters and gives the horizon (``time.start``/``time.end``) unless ``horizon``
    is given. ``events_catalog``: a mapping of known events, True to load the shipped one (names
    are then checked only when it exists), or None/False not to check names.
    """
    probs: Problems = []
    if horizon is None:
        t = (scenario or {}).get("time") or {}
        horizon = (int(t.get("start", DEFAULT_HORIZON[0])), int(t.get("end", DEFAULT_HORIZON[1])))
    known = load_event_catalog() if events_catalog is True else (events_catalog or None)
    params = resolve_parameters(unc, catalog, scenario, probs)
    groups = resolve_groups(unc, [p.name for p in params], probs)
    notes: list[str] = [] if known is not None or not unc.events else ["event names not checked"]
    events = resolve_events(unc, horizon, known, probs, notes)  # type: ignore[arg-type]
    if probs:
        raise_problems(probs, "uncertainty")
    return ResolvedUncertainty(
        params, groups, events, unc.samples, unc.seed, unc.method, horizon, notes
    )
