"""Global sensitivity of any vectorised model through SALib: Sobol indices and Morris screening.

A model is a function ``f(X) -> Y`` with ``X`` of shape (n, k) (one column per factor) and
``Y`` of shape (n,) or (n, m) (m outputs). The result is a ranked table, a list of plain dicts
(JSON-ready; :func:`to_frame` makes a pandas DataFrame):

>>> import numpy as np
>>> rows = sobol_indices(lambda x: x[:, 0] + 0.1 * x[:, 1], [Factor("a"), Factor("b")], 256)
>>> [r["parameter"] for r in rows]
['a', 'b']

Factors are uniform on [low, high], or, with ``transform``, uniform on [0, 1] and mapped by
``transform`` (for instance each column through its distribution's inverse CDF, see
:func:`factors_from_resolved`). Sobol indices assume independent inputs: correlation groups
are not applied here. Morris effects are per unit of the [0, 1]-scaled factor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Model = Callable[[np.ndarray], np.ndarray]
Transform = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Factor:
    """An input varied in the analysis: uniform on [low, high] (in ``units``)."""

    name: str
    low: float = 0.0
    high: float = 1.0
    units: str = "1"


def problem_of(factors: Sequence[Factor], unit_cube: bool = False) -> dict[str, Any]:
    """SALib's problem dict (bounds [0, 1] when a transform maps the unit cube)."""
    names = [f.name for f in factors]
    if len(set(names)) != len(names):
        raise ValueError(f"factor names must be unique; got {names}")
    for f in factors:
        if not f.low < f.high:
            raise ValueError(f"factor {f.name!r}: low ({f.low:g}) must be below high ({f.high:g})")
    bounds = [[0.0, 1.0] if unit_cube else [f.low, f.high] for f in factors]
    return {"num_vars": len(factors), "names": names, "bounds": bounds}


def evaluate(model: Model, x: np.ndarray) -> np.ndarray:
    """Run the model and return outputs as (n, m); refuse wrong shapes or non-finite values."""
    y = np.asarray(model(x), dtype=float)
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2 or y.shape[0] != x.shape[0]:
        raise ValueError(
            f"model returned shape {y.shape} for {x.shape[0]} rows; expected (n,) or (n, m)"
        )
    bad = ~np.isfinite(y).all(axis=1)
    if bad.any():
        raise ValueError(f"model returned non-finite outputs for {int(bad.sum())} of {len(y)} rows")
    return y


def _output_names(m: int, outputs: Sequence[str] | None) -> list[str]:
    if outputs is None:
        return ["y"] if m == 1 else [f"y{j}" for j in range(m)]
    if len(outputs) != m:
        raise ValueError(f"{len(outputs)} output names for {m} model outputs")
    return list(outputs)


def _ranked(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name in dict.fromkeys(r["output"] for r in rows):
        block = sorted((r for r in rows if r["output"] == name), key=lambda r: -r[key])
        out += [{**r, "rank": i + 1} for i, r in enumerate(block)]
    return out


def sobol_indices(
    model: Model,
    factors: Sequence[Factor],
    n_base: int = 1024,
    *,
    seed: int = 0,
    transform: Transform | None = None,
    outputs: Sequence[str] | None = None,
    conf_level: float = 0.95,
    num_resamples: int = 100,
) -> list[dict[str, Any]]:
    """First-order and total Sobol indices with bootstrap confidence half-widths.

    Runs the model on n_base·(k + 2) Saltelli/Sobol points (``n_base`` a power of two).
    Rows: output, parameter, first_order, first_order_conf, total, total_conf, confidence
    (= total_conf), rank (by total, within each output).
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    if n_base < 2 or n_base & (n_base - 1):
        raise ValueError(f"n_base must be a power of two (Sobol balance); got {n_base}")
    problem = problem_of(factors, unit_cube=transform is not None)
    x = sobol_sample.sample(problem, n_base, calc_second_order=False, scramble=True, seed=seed)
    y = evaluate(model, transform(x) if transform is not None else x)
    rows = []
    for j, out in enumerate(_output_names(y.shape[1], outputs)):
        si = sobol_analyze.analyze(
            problem,
            y[:, j],
            calc_second_order=False,
            num_resamples=num_resamples,
            conf_level=conf_level,
            seed=seed,
        )
        for i, name in enumerate(problem["names"]):
            rows.append(
                {
                    "output": out,
                    "parameter": name,
                    "first_order": float(si["S1"][i]),
                    "first_order_conf": float(si["S1_conf"][i]),
                    "total": float(si["ST"][i]),
                    "total_conf": float(si["ST_conf"][i]),
                    "confidence": float(si["ST_conf"][i]),
                }
            )
    return _ranked(rows, "total")


def morris_indices(
    model: Model,
    factors: Sequence[Factor],
    trajectories: int = 20,
    *,
    num_levels: int = 4,
    seed: int = 0,
    transform: Transform | None = None,
    outputs: Sequence[str] | None = None,
    conf_level: float = 0.95,
) -> list[dict[str, Any]]:
    """Morris elementary effects: mu_star (mean |effect|), its confidence, sigma, mu.

    Runs the model on trajectories·(k + 1) points: cheap screening for many factors.
    Rows are ranked by mu_star within each output; ``confidence`` is mu_star_conf.
    """
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    problem = problem_of(factors, unit_cube=transform is not None)
    x = morris_sample.sample(problem, trajectories, num_levels=num_levels, seed=seed)
    y = evaluate(model, transform(x) if transform is not None else x)
    rows = []
    for j, out in enumerate(_output_names(y.shape[1], outputs)):
        mi = morris_analyze.analyze(
            problem, x, y[:, j], num_levels=num_levels, conf_level=conf_level, seed=seed
        )
        for i, name in enumerate(problem["names"]):
            rows.append(
                {
                    "output": out,
                    "parameter": name,
                    "mu_star": float(mi["mu_star"][i]),
                    "mu_star_conf": float(mi["mu_star_conf"][i]),
                    "sigma": float(mi["sigma"][i]),
                    "mu": float(mi["mu"][i]),
                    "confidence": float(mi["mu_star_conf"][i]),
                }
            )
    return _ranked(rows, "mu_star")


def factors_from_resolved(params: Sequence[Any]) -> tuple[list[Factor], Transform]:
    """Factors on the unit cube and the transform through each parameter's inverse CDF.

    ``params`` are :class:`~fab2flop.risk.resolve.ResolvedParameter` (integer ones rounded).
    """
    from .sampling import EPS, ppf

    factors = [Factor(p.name, 0.0, 1.0, p.unit) for p in params]

    def transform(u: np.ndarray) -> np.ndarray:
        u = np.clip(u, EPS, 1.0 - EPS)
        cols = [ppf(p.dist, u[:, j]) for j, p in enumerate(params)]
        cols = [np.round(c) if p.integer else c for c, p in zip(cols, params, strict=True)]
        return np.column_stack(cols) if cols else np.empty((len(u), 0))

    return factors, transform


def to_frame(rows: list[dict[str, Any]]) -> Any:
    """The ranked table as a pandas DataFrame."""
    import pandas as pd

    return pd.DataFrame(rows)
