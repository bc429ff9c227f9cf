"""Seeded sampling of an uncertainty section into a Dataset with a ``sample`` dimension.

Steps, each a pure function: points in the unit hypercube (:func:`unit_points`, scrambled
Sobol, Latin hypercube or plain random, all from ``numpy.random.Generator``/``SeedSequence``),
rank correlation induced on them (:func:`iman_conover`), then each column mapped through its
distribution's inverse CDF (:func:`ppf`) and events drawn (:func:`draw_event`).

>>> from fab2flop.catalog import load_catalog
>>> from fab2flop.risk.resolve import resolve_uncertainty
>>> from fab2flop.risk.uncertainty import validate_uncertainty
>>> unc = validate_uncertainty({"samples": 8, "seed": 1,
...                             "parameters": [{"id": "nodes.N3.wafer_price_usd"}]})
>>> ds = sample_uncertainty(resolve_uncertainty(unc, load_catalog()))
>>> ds.sizes["sample"], ds["nodes.N3.wafer_price_usd"].attrs["units"]
(8, 'USD/wafer')
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import xarray as xr
from scipy import stats
from scipy.stats import qmc

from ..constants import SAMPLE
from .resolve import ResolvedEvent, ResolvedParameter, ResolvedUncertainty
from .uncertainty import Z90, DistSpec

EPS = 1e-12  # keeps unit draws off 0 and 1, where unbounded inverse CDFs are infinite
EVENT_PREFIX = "event."
EVENT_FIELDS = ("occurs", "start", "duration_years", "fraction")
EVENT_COLUMNS = 3  # occurrence (and start), duration, severity


def unit_points(n: int, d: int, method: str, seed: int) -> np.ndarray:
    """``n`` points in (0, 1)^d. Sobol is scrambled with the seed; the first n of 2^m are kept."""
    if d == 0:
        return np.empty((n, 0))
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    if method == "sobol":
        m = max(int(np.ceil(np.log2(n))), 0)
        u = qmc.Sobol(d, scramble=True, rng=rng).random_base2(m)[:n]
    elif method == "lhs":
        u = qmc.LatinHypercube(d, rng=rng).random(n)
    elif method == "random":
        u = rng.random((n, d))
    else:
        raise ValueError(f"method {method!r}; expected sobol, lhs or random")
    return np.clip(u, EPS, 1.0 - EPS)


# ---- inverse CDFs: u in (0, 1) → values; one function per distribution -----------------------


def _triangular(u: np.ndarray, d: DistSpec) -> np.ndarray:
    a, c, b = float(d.low), float(d.mode), float(d.high)  # type: ignore[arg-type]
    if b == a:
        return np.full_like(u, a)
    fc = (c - a) / (b - a)  # CDF at the mode
    left = a + np.sqrt(u * (b - a) * (c - a))
    right = b - np.sqrt((1.0 - u) * (b - a) * (b - c))
    return np.where(u < fc, left, right)


def _uniform(u: np.ndarray, d: DistSpec) -> np.ndarray:
    return float(d.low) + u * (float(d.high) - float(d.low))  # type: ignore[arg-type]


def _pert(u: np.ndarray, d: DistSpec) -> np.ndarray:
    a, c, b = float(d.low), float(d.mode), float(d.high)  # type: ignore[arg-type]
    if b == a:
        return np.full_like(u, a)
    lam = d.shape if d.shape is not None else 4.0
    alpha = 1.0 + lam * (c - a) / (b - a)
    beta = 1.0 + lam * (b - c) / (b - a)
    return a + (b - a) * stats.beta.ppf(u, alpha, beta)


def lognormal_params(d: DistSpec) -> tuple[float, float]:
    """(mu, sigma) of ln(x): given, or from low/high as the 5th and 95th percentiles."""
    if d.mu is not None and d.sigma is not None:
        return float(d.mu), float(d.sigma)
    lo, hi = np.log(float(d.low)), np.log(float(d.high))  # type: ignore[arg-type]
    return (lo + hi) / 2.0, (hi - lo) / (2.0 * Z90)


def _lognormal(u: np.ndarray, d: DistSpec) -> np.ndarray:
    mu, sigma = lognormal_params(d)
    return np.exp(mu + sigma * stats.norm.ppf(u))


def _discrete(u: np.ndarray, d: DistSpec) -> np.ndarray:
    vals = np.asarray(d.values, float)
    w = np.asarray(d.weights if d.weights is not None else np.ones(len(vals)), float)
    cum = np.cumsum(w) / w.sum()
    idx = np.searchsorted(cum, u, side="right")
    return vals[np.minimum(idx, len(vals) - 1)]


def _constant(u: np.ndarray, d: DistSpec) -> np.ndarray:
    return np.full_like(u, float(d.value))  # type: ignore[arg-type]


PPF: dict[str, Callable[[np.ndarray, DistSpec], np.ndarray]] = {
    "triangular": _triangular,
    "uniform": _uniform,
    "pert": _pert,
    "lognormal": _lognormal,
    "discrete": _discrete,
    "constant": _constant,
}


def ppf(d: DistSpec, u: np.ndarray) -> np.ndarray:
    """Inverse CDF of distribution ``d`` at ``u`` (any shape)."""
    return PPF[d.dist](np.asarray(u, float), d)


# ---- rank correlation ------------------------------------------------------------------------


def normal_target(rank_corr: np.ndarray) -> np.ndarray:
    """Pearson correlation of normal scores that gives Spearman ``rank_corr``: 2 sin(pi r / 6).

    Clipped back to positive semi-definite when the transform leaves it slightly indefinite.
    """
    m = 2.0 * np.sin(np.pi * np.asarray(rank_corr, float) / 6.0)
    np.fill_diagonal(m, 1.0)
    w, v = np.linalg.eigh(m)
    if w.min() < 0:
        m = (v * np.clip(w, 0, None)) @ v.T
        s = np.sqrt(np.diag(m))
        m = m / np.outer(s, s)
    return m


def _sqrt_psd(m: np.ndarray) -> np.ndarray:
    """A matrix P with P Pᵀ = m, for positive semi-definite m (singular allowed)."""
    w, v = np.linalg.eigh(m)
    return v * np.sqrt(np.clip(w, 0, None))


def iman_conover(u: np.ndarray, rank_corr: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Reorder each column of ``u`` (n×k) so its rank correlation approaches ``rank_corr``.

    Iman & Conover (1982): build van der Waerden scores in random order, remove their sample
    correlation (Cholesky of it), impose the target (its square root), and give each column
    of ``u`` the ranks of the resulting scores. Each column keeps its own values (marginals
    are untouched); only the pairing changes.
    """
    n, k = u.shape
    if k < 2 or n < 3:
        return u
    scores = stats.norm.ppf(np.arange(1, n + 1) / (n + 1.0))
    s = np.column_stack([rng.permutation(scores) for _ in range(k)])
    e = np.corrcoef(s, rowvar=False)
    try:
        f = np.linalg.cholesky(e)
    except np.linalg.LinAlgError:  # n too small for k independent columns
        f = _sqrt_psd(e) + 1e-12 * np.eye(k)
    t = s @ np.linalg.inv(f).T @ _sqrt_psd(normal_target(rank_corr)).T
    out = np.empty_like(u)
    for j in range(k):
        # the i-th smallest score gets the i-th smallest value of the column
        out[np.argsort(t[:, j]), j] = np.sort(u[:, j])
    return out


# ---- events ----------------------------------------------------------------------------------


def draw_event(ev: ResolvedEvent, u: np.ndarray, horizon: tuple[int, int]) -> dict[str, Any]:
    """Occurrence, start year, duration and severity from three unit columns (n×3).

    Per year: the event starts in the first year k (0-based) with a success, so it occurs at all
    with probability 1 - (1 - p)^years and k = floor(ln(1 - u) / ln(1 - p)). Over the horizon:
    it occurs when u < p, and u / p (uniform given that) draws the start year; a start drawn
    outside the horizon is no event in it.
    Values are NaN where the event does not occur.
    """
    y0, y1 = horizon
    years = y1 - y0 + 1
    u_occ, u_dur, u_frac = u[:, 0], u[:, 1], u[:, 2]
    if ev.probability_per_year is not None:
        p = ev.probability_per_year
        occurs = u_occ < 1.0 - (1.0 - p) ** years
        if p >= 1.0:
            k = np.zeros_like(u_occ)
        else:
            with np.errstate(divide="ignore"):
                k = np.floor(np.log1p(-u_occ) / np.log1p(-p)) if p > 0 else np.full_like(u_occ, 0)
        start = y0 + k
    else:
        p = float(ev.probability)  # type: ignore[arg-type]
        occurs = u_occ < p
        v = np.clip(u_occ / p if p > 0 else u_occ, EPS, 1.0 - EPS)
        start = y0 + np.floor(v * years) if ev.start is None else np.floor(ppf(ev.start, v))
        occurs &= (start >= y0) & (start <= y1)  # a start outside the horizon: no event in it
    nan = np.full_like(u_occ, np.nan)
    return {
        "occurs": occurs,
        "start": np.where(occurs, start, nan),
        "duration_years": np.where(occurs, ppf(ev.duration_years, u_dur), nan),
        "fraction": np.where(occurs, np.clip(ppf(ev.fraction, u_frac), 0.0, 1.0), nan),
    }


# ---- the whole sample ------------------------------------------------------------------------


def correlate(u: np.ndarray, res: ResolvedUncertainty, seed: int) -> np.ndarray:
    """Apply each correlation group to its parameters' columns (its own spawned generator)."""
    if not res.groups:
        return u
    col = {name: j for j, name in enumerate(res.names)}
    # a stream of its own (entropy [seed, 1]), apart from the one that drew the points
    children = np.random.SeedSequence([seed, 1]).spawn(len(res.groups))
    rngs = [np.random.default_rng(c) for c in children]
    u = u.copy()
    for (names, matrix), rng in zip(res.groups, rngs, strict=True):
        idx = [col[n] for n in names]
        u[:, idx] = iman_conover(u[:, idx], matrix, rng)
    return u


def _param_var(p: ResolvedParameter, u: np.ndarray) -> xr.Variable:
    x = ppf(p.dist, u)
    if p.integer:
        x = np.round(x)
    attrs: dict[str, Any] = {
        "units": p.unit,
        "kind": p.kind,
        "target": p.target,
        "dist": p.dist.model_dump_json(exclude_none=True),
        "nominal": p.nominal,
    }
    if p.series is not None:
        attrs["series"] = json.dumps({str(k): v for k, v in p.series.items()})
        attrs["long_name"] = f"factor scaling the series {p.target}"
    return xr.Variable(SAMPLE, x, attrs)


def sample_uncertainty(res: ResolvedUncertainty, samples: int | None = None) -> xr.Dataset:
    """Draw ``samples`` (default: ``res.samples``) futures: one variable per parameter, four per
    event (``event.NAME.occurs|start|duration_years|fraction``), along ``sample``.

    Same resolved input and seed → identical Dataset.
    """
    n = int(samples if samples is not None else res.samples)
    k = len(res.parameters)
    u = unit_points(n, k + EVENT_COLUMNS * len(res.events), res.method, res.seed)
    # one contiguous row per parameter (a column of the (n, k) draws is strided: the inverse
    # CDFs ran ~3x slower on it)
    up = np.ascontiguousarray(correlate(u[:, :k], res, res.seed).T)
    data: dict[str, xr.Variable] = {
        p.name: _param_var(p, up[j]) for j, p in enumerate(res.parameters)
    }
    units = {"occurs": "1", "start": "year", "duration_years": "years", "fraction": "1"}
    for e, ev in enumerate(res.events):
        cols = u[:, k + EVENT_COLUMNS * e : k + EVENT_COLUMNS * (e + 1)]
        drawn = draw_event(ev, cols, res.horizon)
        for fname in EVENT_FIELDS:
            meta = {"units": units[fname], "event": ev.name, "kind": ev.kind or ""}
            data[f"{EVENT_PREFIX}{ev.name}.{fname}"] = xr.Variable(SAMPLE, drawn[fname], meta)
    attrs: dict[str, Any] = {
        "seed": res.seed,
        "method": res.method,
        "horizon_start": res.horizon[0],
        "horizon_end": res.horizon[1],
        "events": json.dumps([ev.name for ev in res.events]),
    }
    return xr.Dataset(data, coords={SAMPLE: np.arange(n)}, attrs=attrs)


class SampleInputs(NamedTuple):
    """What one sampled future changes: catalog values, scenario fields and events."""

    catalog_overrides: dict[str, Any]  # catalog id → number or {year: number}
    scenario_overrides: dict[str, Any]  # scenario path → number or {year: number}
    events: list[dict[str, Any]]  # {name, kind?, start, duration_years, fraction}


def _value(var: xr.DataArray, x: float) -> Any:
    if "series" in var.attrs:
        return {int(y): float(v) * x for y, v in json.loads(var.attrs["series"]).items()}
    return x


def sample_inputs(ds: xr.Dataset, i: int) -> SampleInputs:
    """Sample ``i`` of a sampled Dataset as overrides and event dicts a scenario can take."""
    cat: dict[str, Any] = {}
    scen: dict[str, Any] = {}
    row = ds.isel({SAMPLE: i})
    for var in row.data_vars.values():
        kind = var.attrs.get("kind")
        if kind == "catalog":
            cat[var.attrs["target"]] = _value(var, float(var))
        elif kind == "scenario":
            scen[var.attrs["target"]] = _value(var, float(var))
    events = []
    for name in json.loads(ds.attrs.get("events", "[]")):
        pre = f"{EVENT_PREFIX}{name}."
        if not bool(row[pre + "occurs"]):
            continue
        ev: dict[str, Any] = {"name": name}
        if row[pre + "occurs"].attrs.get("kind"):
            ev["kind"] = row[pre + "occurs"].attrs["kind"]
        ev["start"] = int(row[pre + "start"])
        ev["duration_years"] = float(row[pre + "duration_years"])
        ev["fraction"] = float(row[pre + "fraction"])
        events.append(ev)
    return SampleInputs(cat, scen, events)
