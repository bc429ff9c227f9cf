"""The ``uncertainty:`` section of a scenario: what is uncertain and how it is distributed.

>>> unc = validate_uncertainty({"samples": 64, "parameters": [{"id": "nodes.*.wafer_price_usd"}]})
>>> unc.method, unc.parameters[0].dist
('sobol', 'triangular')

A parameter names catalog records (``id``) or scenario fields (``path``); both may contain
fnmatch patterns, matched segment by segment (``nodes.*.wafer_price_usd`` matches
``nodes.N3.wafer_price_usd`` but not ``nodes.N3.x.wafer_price_usd``). Distribution fields left
out come from the catalog record: ``low``/``high`` from its range and ``mode`` from its value.
Resolution against a :class:`~fab2flop.catalog.Catalog` (:func:`resolve_uncertainty`, in
:mod:`fab2flop.risk.resolve`) expands the patterns into concrete ids and checks them.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import ScenarioError

DistName = Literal["triangular", "uniform", "pert", "lognormal", "discrete", "constant"]
Method = Literal["sobol", "lhs", "random"]

# which fields each distribution reads; any other distribution field set is an error
DIST_FIELDS: dict[str, frozenset[str]] = {
    "triangular": frozenset({"low", "mode", "high"}),
    "uniform": frozenset({"low", "high"}),
    "pert": frozenset({"low", "mode", "high", "shape"}),
    "lognormal": frozenset({"low", "high", "mu", "sigma"}),
    "discrete": frozenset({"values", "weights"}),
    "constant": frozenset({"value"}),
}
_ALL_DIST_FIELDS = frozenset().union(*DIST_FIELDS.values())
Z90 = 1.6448536269514722  # standard normal quantile at 0.95: a 90% interval is mu ± Z90·sigma


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DistSpec(_Model):
    """A distribution. Fields a distribution does not read are refused.

    ``lognormal`` takes either ``low``/``high`` (a 90% interval) or ``mu``/``sigma`` (of the
    logarithm); ``pert`` is a beta distribution on [low, high] with mode ``mode`` and weight
    ``shape`` (4 for the classic PERT).
    """

    dist: DistName = Field("triangular", description="distribution family")
    low: float | None = Field(None, description="lower bound (lognormal: 5th percentile) [unit]")
    mode: float | None = Field(None, description="most likely value [unit of the parameter]")
    high: float | None = Field(None, description="upper bound (lognormal: 95th pct) [unit]")
    shape: float | None = Field(None, gt=0, description="PERT weight of the mode (4) [1]")
    mu: float | None = Field(None, description="lognormal: mean of ln(x) [ln(unit)]")
    sigma: float | None = Field(None, gt=0, description="lognormal: std of ln(x) [ln(unit)]")
    values: list[float] | None = Field(None, min_length=1, description="discrete values [unit]")
    weights: list[float] | None = Field(None, description="discrete weights, normalised [1]")
    value: float | None = Field(None, description="constant value [unit of the parameter]")

    @model_validator(mode="after")
    def _fields_fit_dist(self) -> DistSpec:
        given = {
            f for f in self.model_fields_set & _ALL_DIST_FIELDS if getattr(self, f) is not None
        }
        extra = given - DIST_FIELDS[self.dist]
        if extra:
            raise ValueError(
                f"{', '.join(sorted(extra))} not read by a {self.dist} distribution; it takes "
                f"{', '.join(sorted(DIST_FIELDS[self.dist]))}"
            )
        check_bounds(self)
        return self


def _g(x: float | None) -> str:
    return "unset" if x is None else f"{x:g}"


def check_bounds(d: DistSpec) -> None:
    """Raise ValueError when the bounds that are set contradict each other."""
    lo, mo, hi = d.low, d.mode, d.high
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"low ({lo:g}) is above high ({hi:g})")
    if mo is not None and ((lo is not None and mo < lo) or (hi is not None and mo > hi)):
        raise ValueError(f"mode ({mo:g}) is outside [low, high] = [{_g(lo)}, {_g(hi)}]")
    if d.dist == "lognormal":
        if (d.mu is None) != (d.sigma is None):
            raise ValueError("lognormal takes mu and sigma together")
        if d.mu is not None and (lo is not None or hi is not None):
            raise ValueError("lognormal takes either low/high (a 90% interval) or mu/sigma")
        if lo is not None and lo <= 0:
            raise ValueError(f"lognormal low must be > 0; got {lo:g}")
    if d.dist == "discrete" and d.weights is not None:
        if len(d.weights) != len(d.values or []):
            raise ValueError(f"{len(d.weights)} weights for {len(d.values or [])} values")
        if min(d.weights) < 0 or sum(d.weights) <= 0:
            raise ValueError("weights must be >= 0 and not all zero")


class ParameterSpec(DistSpec):
    """An uncertain parameter: catalog records (``id``) or scenario fields (``path``)."""

    id: str | None = Field(None, description="catalog id or fnmatch pattern")
    path: str | None = Field(None, description="scenario field path or fnmatch pattern")
    integer: bool | None = Field(
        None, description="round draws to whole numbers (default: when the catalog value is one)"
    )
    source: str | None = Field(None, description="where the range comes from")

    @model_validator(mode="after")
    def _one_target(self) -> ParameterSpec:
        if (self.id is None) == (self.path is None):
            raise ValueError("give exactly one of id (catalog) or path (scenario field)")
        return self


class CorrelationGroup(_Model):
    """Parameters whose ranks move together: one coefficient for every pair, or a matrix."""

    name: str | None = Field(None, description="label of the group")
    parameters: list[str] = Field(min_length=1, description="parameter names or patterns")
    rho: float | None = Field(None, ge=-1, le=1, description="rank correlation of each pair [1]")
    matrix: list[list[float]] | None = Field(None, description="rank correlation matrix [1]")

    @model_validator(mode="after")
    def _one_form(self) -> CorrelationGroup:
        if (self.rho is None) == (self.matrix is None):
            raise ValueError("give exactly one of rho (one coefficient) or matrix")
        if self.matrix is not None:
            check_correlation_matrix(np.asarray(self.matrix, dtype=float))
            if len(self.matrix) != len(self.parameters):
                raise ValueError(
                    f"matrix is {len(self.matrix)}x{len(self.matrix)} for "
                    f"{len(self.parameters)} parameters"
                )
        return self


def check_correlation_matrix(m: np.ndarray, tol: float = 1e-9) -> None:
    """Raise ValueError unless ``m`` is a square, symmetric, unit-diagonal PSD matrix."""
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"correlation matrix must be square; got shape {m.shape}")
    if not np.allclose(m, m.T, atol=tol):
        raise ValueError("correlation matrix is not symmetric")
    if not np.allclose(np.diag(m), 1.0, atol=tol):
        raise ValueError(f"correlation matrix diagonal must be 1; got {np.diag(m).tolist()}")
    if np.any(np.abs(m) > 1 + tol):
        raise ValueError("correlation coefficients must be within [-1, 1]")
    low = float(np.linalg.eigvalsh(m).min())
    if low < -1e-8:
        raise ValueError(
            f"correlation matrix is not positive semi-definite (smallest eigenvalue {low:.4g})"
        )


Number = float | int


class EventSpec(_Model):
    """A stochastic event from the events catalog.

    It occurs with ``probability`` over the horizon (then starts in a year drawn from
    ``start``, uniform over the horizon's years by default) or with ``probability_per_year``
    (then it starts in the first year it occurs). Duration and severity are distributions or
    numbers.
    """

    name: str = Field(min_length=1, description="event name in the events catalog")
    kind: str | None = Field(None, description="event kind (default: the catalog's)")
    probability: float | None = Field(
        None, ge=0, le=1, description="probability of occurring within the horizon [1]"
    )
    probability_per_year: float | None = Field(
        None, ge=0, le=1, description="probability of starting in each year [1/year]"
    )
    start: DistSpec | Number | None = Field(
        None, description="start year (floored to a whole year) [year]"
    )
    duration_years: DistSpec | Number = Field(1.0, description="how long it lasts [years]")
    fraction: DistSpec | Number = Field(1.0, description="severity: share of output lost [1]")
    source: str | None = Field(None, description="where the probability comes from")
    note: str | None = None

    @model_validator(mode="after")
    def _one_probability(self) -> EventSpec:
        if (self.probability is None) == (self.probability_per_year is None):
            raise ValueError("give exactly one of probability or probability_per_year")
        if self.probability_per_year is not None and self.start is not None:
            raise ValueError("start is set by probability_per_year; give probability instead")
        _check_range(self.duration_years, 0.0, None, "duration_years")
        _check_range(self.fraction, 0.0, 1.0, "fraction")
        return self


def _check_range(d: DistSpec | Number, lo: float, hi: float | None, what: str) -> None:
    vals: list[float] = []
    if isinstance(d, DistSpec):
        if d.dist == "lognormal" and hi is not None:
            raise ValueError(f"{what}: a lognormal is unbounded; use a bounded distribution")
        vals = [v for v in (d.low, d.mode, d.high, d.value, *(d.values or [])) if v is not None]
        if d.dist != "constant" and d.dist != "discrete" and d.low is None:
            raise ValueError(f"{what}: a {d.dist} distribution needs low and high here")
    else:
        vals = [float(d)]
    for v in vals:
        if v < lo or (hi is not None and v > hi):
            top = "inf" if hi is None else f"{hi:g}"
            raise ValueError(f"{what}: {v:g} is outside [{lo:g}, {top}]")


class Uncertainty(_Model):
    """The ``uncertainty:`` section: parameters, correlations, events and how to sample."""

    samples: int = Field(1024, gt=0, description="number of sampled futures [samples]")
    seed: int = Field(0, ge=0, description="seed of every random draw [1]")
    method: Method = Field("sobol", description="sobol (scrambled) | lhs | random")
    catalog_ranges: bool = Field(
        False, description="add every catalog number with low and high (triangular)"
    )
    parameters: list[ParameterSpec] = Field(default_factory=list)
    correlations: list[CorrelationGroup] = Field(default_factory=list)
    events: list[EventSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_events(self) -> Uncertainty:
        names = [e.name for e in self.events]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"events listed twice: {', '.join(dup)}")
        return self


def _problems(exc: ValidationError, prefix: str) -> list[tuple[str, object, str]]:
    out = []
    for e in exc.errors():
        loc = ".".join(str(p) for p in (prefix, *e["loc"]) if p != "")
        out.append((loc, e.get("input"), e["msg"]))
    return out


def raise_problems(probs: list[tuple[str, object, str]], origin: str) -> None:
    """Raise one ScenarioError listing every (path, value, expected)."""
    lines = [f"{origin} is invalid ({len(probs)} problem{'s' * (len(probs) > 1)}):"]
    for loc, val, msg in probs:
        shown = repr(val)
        lines.append(f"  - {loc}: got {shown[:77] + '...' if len(shown) > 80 else shown}; {msg}")
    raise ScenarioError("\n".join(lines), probs)


def validate_uncertainty(data: Any, prefix: str = "uncertainty") -> Uncertainty:
    """Validate a raw ``uncertainty:`` mapping; ScenarioError names each bad field."""
    if isinstance(data, Uncertainty):
        return data
    try:
        return Uncertainty.model_validate(data)
    except ValidationError as exc:
        raise_problems(_problems(exc, prefix), prefix)
        raise  # unreachable: raise_problems always raises


@lru_cache(maxsize=1)
def default_uncertainty_data() -> dict[str, Any]:
    """The shipped default set (``data/uncertainty.yaml``) as a raw mapping."""
    text = (resources.files("fab2flop") / "data" / "uncertainty.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, Mapping):
        raise ScenarioError("data/uncertainty.yaml: expected a mapping", [])
    return dict(data)


def default_uncertainty(**changes: Any) -> Uncertainty:
    """The default uncertainty set: every catalog range plus the named events.

    ``changes`` replace top-level fields (``samples=200, seed=7``).
    """
    return validate_uncertainty({**default_uncertainty_data(), **changes})
