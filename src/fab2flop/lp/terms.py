"""Sparse term builders on top of :mod:`fab2flop.lp.core`.

Broadcasting is dense: ``(coef * var).sum("process")`` over a (process, carrier)
coefficient matrix would create a term for every pair, zeros included. The supply-chain
matrix is sparse (a process touches two to five carriers), so balance rows are assembled
here from label arrays directly, with one term per non-zero. The same goes for per-process
time lags (lead times, lives, ramps differ by process).

Every builder here writes an absent slot (a masked variable, a period before the horizon) as
a term with no variable (label -1, coefficient 0), so it counts as zero in sums.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..constants import PERIOD
from . import core


def lag_labels(labels: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """Labels at ``t - lag``; -1 where that falls outside the horizon.

    ``labels`` has shape (..., T); ``lags`` (integer periods, negative for a lead into the
    future) broadcasts against ``labels.shape + (K,)``: a lag per term (K,), per term and
    leading item (X, 1, ..., 1, K), or varying by period as well (..., T, K).
    Returns shape ``labels.shape + (K,)``.
    """
    lags = np.asarray(lags, dtype=np.int64)
    T = labels.shape[-1]
    src = np.arange(T)[:, None] - lags  # (..., T, K)
    shape = np.broadcast_shapes(labels.shape + (1,), src.shape)
    valid = (src >= 0) & (src < T)
    srcc = np.broadcast_to(np.clip(src, 0, T - 1), shape)
    out = np.take_along_axis(np.broadcast_to(labels[..., None], shape[:-2] + (T, 1)), srcc, -2)
    return np.where(np.broadcast_to(valid, shape), out, -1)


def lag_terms(
    labels: np.ndarray, lags: np.ndarray, coeffs: np.ndarray | float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Raw terms Σ_k coeffs[..., t, k] · var[..., t - lags[..., t, k]] as (vars, coeffs)
    arrays of shape ``labels.shape + (K,)``; no explicit zeros (those slots are -1 / 0)."""
    out = lag_labels(labels, lags)
    c = np.asarray(coeffs, dtype=float)
    shape = np.broadcast_shapes(out.shape, c.shape)
    out = np.broadcast_to(out, shape)
    c = np.broadcast_to(c, shape)
    out = np.where(c != 0.0, out, -1)
    return out, np.where(out >= 0, c, 0.0)


def lagged(
    var: core.Variable,
    lags: np.ndarray,
    coeffs: np.ndarray | float = 1.0,
) -> core.Expression:
    """Expression Σ_k coeffs[..., t, k] · var[..., t - lags[..., t, k]].

    ``var``'s last dimension is ``period``; ``lags`` and ``coeffs`` broadcast against
    ``var.shape + (K,)`` (see :func:`lag_labels`). Terms outside the horizon are dropped.
    """
    if var.dims[-1] != PERIOD:
        raise ValueError(f"lagged: last dimension must be {PERIOD!r}, got {list(var.dims)}")
    v, c = lag_terms(var.labels, lags, coeffs)
    return core.expression(v, c, var.dims, var.coords)


def stack_terms(
    parts: Sequence[tuple[np.ndarray, np.ndarray | float]],
) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate term blocks along the term axis.

    Each part is ``(vars, coeffs)``: vars of shape (..., K_i) with -1 for absent slots, or
    a plain label array (...) for one term; coeffs broadcast to vars. All parts share the
    leading shape (broadcast if not).
    """
    vs, cs = [], []
    for v, c in parts:
        v = np.asarray(v)
        c = np.asarray(c, dtype=float)
        if v.ndim == 0 or c.ndim > v.ndim:
            raise ValueError("stack_terms: a part's coefficients have more dimensions than it")
        vs.append(v)
        cs.append(c)
    lead = np.broadcast_shapes(*(v.shape[:-1] for v in vs), *(c.shape[:-1] for c in cs))
    vv = [np.broadcast_to(v, (*lead, v.shape[-1])) for v in vs]
    cc = [np.broadcast_to(c, (*lead, v.shape[-1])) for v, c in zip(vs, cs, strict=True)]
    v = np.concatenate(vv, axis=-1)
    c = np.concatenate(cc, axis=-1)
    return v, np.where(v >= 0, c, 0.0)


def present(var: core.Variable, coeff: Any = 1.0) -> core.Expression:
    """``coeff · var``, one term per cell; an absent (masked) cell is an empty term.

    ``coeff`` is a number or a DataArray over some of ``var``'s dims with the same items
    (checked: a mismatch raises), broadcast over the others."""
    return var.to_expr(coeff)


def shifted(var: core.Variable, periods: int = 1) -> core.Expression:
    """``var`` at ``t - periods`` (``periods`` ≥ 1) along its last dimension, ``period``;
    empty terms before the horizon."""
    if var.dims[-1] != PERIOD or periods < 1:
        raise ValueError(
            f"shifted: needs {PERIOD!r} last and periods >= 1, got {list(var.dims)}, {periods}"
        )
    out = np.full_like(var.labels, -1)
    out[..., periods:] = var.labels[..., :-periods]
    return core.expression(out[..., None], np.ones((*out.shape, 1)), var.dims, var.coords)


def sparse_rows(
    parts: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    n_rows: int,
    T: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Assemble rows Σ coef · label[col, t] from several label sources.

    Each part is ``(labels (N, T), rows, cols, coefs)``, coefs either (nnz,) or (nnz, T).
    Returns ``vars`` and ``coeffs`` arrays of shape (n_rows, T, K), padded with -1 / 0.
    """
    all_rows, all_vars, all_coefs = [], [], []
    for labels, rows, cols, coefs in parts:
        if len(rows) == 0:
            continue
        v = labels[cols]  # (nnz, T)
        c = np.asarray(coefs, dtype=float)
        c = np.broadcast_to(c[:, None] if c.ndim == 1 else c, v.shape)
        all_rows.append(np.asarray(rows))
        all_vars.append(v)
        all_coefs.append(c)
    if not all_rows:
        return np.full((n_rows, T, 1), -1), np.zeros((n_rows, T, 1))
    rows = np.concatenate(all_rows)
    vars_ = np.concatenate(all_vars)
    coefs = np.concatenate(all_coefs)
    order = np.argsort(rows, kind="stable")
    rows, vars_, coefs = rows[order], vars_[order], coefs[order]
    counts = np.bincount(rows, minlength=n_rows)
    K = max(int(counts.max()), 1)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    slot = np.arange(len(rows)) - starts[rows]
    out_v = np.full((n_rows, K, T), -1, dtype=np.int64)
    out_c = np.zeros((n_rows, K, T))
    out_v[rows, slot] = vars_
    out_c[rows, slot] = np.where(vars_ >= 0, coefs, 0.0)
    return out_v.transpose(0, 2, 1), out_c.transpose(0, 2, 1)


def constraint(
    vars_: np.ndarray,
    coeffs: np.ndarray,
    sign: str,
    rhs: np.ndarray | float,
    dims: Sequence[str],
    coords: dict,
) -> core.Comparison:
    """Rows Σ coeffs · vars ``sign`` rhs from raw (…, K) arrays, for
    :meth:`~fab2flop.lp.core.Model.add_constraints`."""
    return core.Comparison(core.expression(vars_, coeffs, dims, coords), sign, rhs)


expression = core.expression
