"""Sparse expression builders on top of linopy.

linopy's broadcasting is dense: ``(coef * var).sum("process")`` over a (process, carrier)
coefficient matrix creates a term for every pair, zeros included. The supply-chain matrix
is sparse (a process touches two to five carriers), so balance rows are assembled here from
label arrays directly, with one term per non-zero. The same goes for per-process time lags
(lead times, lives, ramps differ by process), which linopy's ``shift`` cannot express.

Every builder here writes an absent slot (a masked variable, a period before the horizon) as
a term with no variable (label -1, coefficient 0) and a zero constant, so it counts as zero
in sums under both of linopy's arithmetic semantics ("legacy" and "v1", a process-wide
``linopy.options["semantics"]``). The model is therefore built the same whatever that
setting, without touching it, which keeps building safe from several threads at once. Use
:func:`present` wherever a masked variable enters arithmetic and :func:`shifted` instead of
``Variable.shift``: v1 would make the whole row absent at such a slot, legacy warns.
"""

from __future__ import annotations

from collections.abc import Sequence

import linopy
import numpy as np
import xarray as xr

from ..constants import PERIOD, TERM


def lag_labels(labels: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """Labels at ``t - lag``; -1 where that falls outside the horizon.

    ``labels`` has shape (X, M, T); ``lags`` has shape (X, K) (integer periods, negative for
    a lead into the future). Returns shape (X, M, T, K).
    """
    X, M, T = labels.shape
    K = lags.shape[1]
    t = np.arange(T)[None, None, :, None]
    src = t - lags[:, None, None, :]  # (X,1,T,K)
    valid = (src >= 0) & (src < T)
    srcc = np.clip(src, 0, T - 1)
    src_b = np.broadcast_to(srcc, (X, M, T, K)).reshape(X, M, T * K)
    out = np.take_along_axis(labels, src_b, axis=2).reshape(X, M, T, K)
    return np.where(np.broadcast_to(valid, out.shape), out, -1)


def lagged(
    var: linopy.Variable,
    lags: np.ndarray,
    coeffs: np.ndarray | float = 1.0,
) -> linopy.LinearExpression:
    """Expression Σ_k coeffs[..., k] · var[x, ..., t - lags[x, k]].

    ``var``'s first dimension is the one ``lags`` is indexed by and its last is ``period``.
    ``coeffs`` broadcasts to (X, M..., T, K). Terms outside the horizon are dropped.
    """
    dims = list(var.labels.dims)
    if dims[-1] != PERIOD:
        raise ValueError(f"lagged: last dimension must be {PERIOD!r}, got {dims}")
    lab = var.labels.values
    X, T = lab.shape[0], lab.shape[-1]
    mid = lab.shape[1:-1]
    lab3 = lab.reshape(X, int(np.prod(mid, dtype=int)), T)
    lags = np.asarray(lags, dtype=int).reshape(X, -1)
    out = lag_labels(lab3, lags).reshape(*lab.shape, lags.shape[1])
    c = np.broadcast_to(np.asarray(coeffs, dtype=float), out.shape)
    out = np.where(c != 0.0, out, -1)  # no explicit zeros in the matrix
    c = np.where(out >= 0, c, 0.0)
    coords = {d: var.labels.coords[d] for d in dims if d in var.labels.coords}
    ds = xr.Dataset(
        {"coeffs": ([*dims, TERM], c), "vars": ([*dims, TERM], out)},
        coords=coords,
    )
    return linopy.LinearExpression(ds, var.model)


def _as_expression(
    var: linopy.Variable, labels: np.ndarray, coeffs: np.ndarray | float = 1.0
) -> linopy.LinearExpression:
    """One term per slot: ``coeffs`` where ``labels`` holds a variable, else an empty term."""
    lab = var.labels
    vals = labels[..., None]
    c = np.broadcast_to(np.asarray(coeffs, dtype=float), labels.shape)[..., None]
    if np.isnan(c[vals >= 0]).any():  # v1 refuses a NaN constant, legacy reads it as 0
        raise ValueError(f"coefficient of {var.name!r} is NaN where the variable exists")
    ds = xr.Dataset(
        {
            "coeffs": ([*lab.dims, TERM], np.where(vals >= 0, c, 0.0)),
            "vars": ([*lab.dims, TERM], vals),
            "const": (lab.dims, np.zeros(labels.shape)),
        },
        coords=lab.coords,
    )
    return linopy.LinearExpression(ds, var.model)


def present(var: linopy.Variable, coeff: xr.DataArray | float = 1.0) -> linopy.LinearExpression:
    """``coeff · var`` as an expression whose absent (masked) slots count as zero in sums.

    ``coeff`` is a number or a DataArray over some of ``var``'s dims with the same labels
    (checked: a mismatch raises, as v1 semantics would), broadcast over the others. Passing
    it here builds one expression instead of two (``present(var) * coeff``).
    """
    lab = var.labels
    if isinstance(coeff, xr.DataArray):
        extra = set(coeff.dims) - set(lab.dims)
        if extra:
            raise ValueError(f"present: coefficient dims {sorted(extra)} not in {lab.dims}")
        xr.align(lab, coeff, join="exact")  # raises on differing labels of a shared dim
        return _as_expression(
            var, lab.values, coeff.broadcast_like(lab).transpose(*lab.dims).values
        )
    return _as_expression(var, lab.values, float(coeff))


def shifted(var: linopy.Variable, periods: int = 1) -> linopy.LinearExpression:
    """``var`` at ``t - periods`` (``periods`` ≥ 1) along its last dimension, ``period``; zero
    before the horizon (``Variable.shift`` marks those slots absent, and v1 semantics make a
    row with an absent operand absent as a whole)."""
    dims = list(var.labels.dims)
    if dims[-1] != PERIOD or periods < 1:
        raise ValueError(f"shifted: needs {PERIOD!r} last and periods >= 1, got {dims}, {periods}")
    vals = var.labels.values
    out = np.full_like(vals, -1)
    out[..., periods:] = vals[..., :-periods]
    return _as_expression(var, out)


def combine(*parts: tuple[float, linopy.LinearExpression]) -> linopy.LinearExpression:
    """Σ sign · expression for expressions with the same dims and coords (e.g. the outputs
    of :func:`present`, :func:`shifted` and :func:`lagged` of one variable family), joined
    along the term dimension in numpy: one expression built instead of one linopy merge
    per ``+``/``-`` (the 4-part capacity-stock row: ~46 ms with operators, ~18 ms here)."""
    first = parts[0][1]
    dims = first.vars.dims[:-1]
    for _, e in parts:
        if e.vars.dims[:-1] != dims or e.vars.shape[:-1] != first.vars.shape[:-1]:
            raise ValueError(f"combine: dims {e.vars.dims[:-1]} differ from {dims}")
    v = np.concatenate([e.vars.values for _, e in parts], axis=-1)
    c = np.concatenate([sign * e.coeffs.values for sign, e in parts], axis=-1)
    coords = {d: first.vars.coords[d] for d in dims if d in first.vars.coords}
    out = expression(first.model, v, np.where(v >= 0, c, 0.0), dims, coords)
    const = sum(sign * e.const.values for sign, e in parts)
    return out + xr.DataArray(const, coords=coords, dims=dims) if np.any(const) else out


def sparse_rows(
    model: linopy.Model,
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


def expression(
    model: linopy.Model,
    vars_: np.ndarray,
    coeffs: np.ndarray,
    dims: Sequence[str],
    coords: dict,
) -> linopy.LinearExpression:
    """Wrap raw (…, _term) arrays as a linopy expression with the given dims and coords."""
    ds = xr.Dataset(
        {"coeffs": ([*dims, TERM], coeffs), "vars": ([*dims, TERM], vars_)}, coords=coords
    )
    return linopy.LinearExpression(ds, model)
