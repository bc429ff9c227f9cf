"""The ramp of a new part: its output in its first years within a share of its mature output.

For each accelerator ``a`` first available in year ``y0`` and each period ``t`` of its
``k``-th year (``k = year(t) − y0`` with a ramp share ``s_k < 1``,
:func:`fab2flop.roadmap.ramp_shares`), with ``m`` its mature year (the first with share 1):

    Σ_r out[a, r, t]  ≤  (s_k / s_m') · Σ_r out[a, r, t + (m' − k) · periods per year]

``out`` is the activity of every process making ``a`` (buying a merchant part, assembling
an own design). ``m' = m`` when the part is still made in its mature year within the
horizon; otherwise the last year of its window (or of the horizon) after ``k`` stands in
for it, with the profile's share there (so the ratio keeps the profile's shape). No row is
written when no later year remains (a part launched in the horizon's last year), nor when
an event disrupts the mature year (the making processes' availability there is below the
ramp year's): a plan committed to its first years must stay feasible in such a future.

The same rows are written on deployments (``fleet-ramp``): balances allow disposal, so a
cap on output alone could be met by making, and scrapping, more in the mature year.

A relative cap fits the LP: it needs no absolute size for a design the plan invents, and
"mature output" is the plan's own choice. Parts launched before the horizon start ramp
only in the years that remain.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from ..constants import ACCELERATOR, PERIOD
from ..roadmap import ramp_shares
from .registry import registers
from .terms import constraint

if TYPE_CHECKING:
    from .model import LP


def ramp_pairs(
    years: np.ndarray, dt: float, y0: int, until: int | None, shares: tuple[float, ...]
) -> list[tuple[int, int, float]]:
    """(period, mature period, cap ratio) rows of one part.

    >>> ramp_pairs(np.arange(2025.0, 2031.0), 1.0, 2026, 2029, (0.3,))
    [(1, 2, 0.3)]
    >>> ramp_pairs(np.arange(2025.0, 2031.0), 1.0, 2030, None, (0.3,))
    []
    """
    per_year = int(round(1.0 / dt))
    last_year = int(np.floor(years[-1])) if until is None else min(until, int(years[-1]))
    full = (*shares, 1.0)
    out = []
    for t, y in enumerate(np.floor(years).astype(int)):
        k = int(y) - y0
        if k < 0 or k >= len(shares):
            continue
        m = min(len(shares), last_year - y0)  # mature year, or the last one available
        if m <= k:
            continue
        t2 = t + (m - k) * per_year
        if t2 >= len(years):
            continue
        out.append((t, t2, full[k] / full[m]))
    return out


def _rows(
    labels: list[np.ndarray], pairs: list[list[tuple[int, int, float]]], coords: dict
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(A, T, K) variables and coefficients of Σ x[a, ·, t] − ratio · Σ x[a, ·, t2] and the
    mask of rows written; ``labels[a]`` is (items, T) of the variables making part ``a``."""
    A, T = len(coords[ACCELERATOR]), len(coords[PERIOD])
    found: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
    for a, (lab, rows) in enumerate(zip(labels, pairs, strict=True)):
        for t, t2, ratio in rows:
            now, later = lab[:, t], lab[:, t2]
            v = np.concatenate([now, later])
            c = np.concatenate([np.ones(len(now)), np.full(len(later), -ratio)])
            keep = v >= 0
            if keep[: len(now)].any():
                found[(a, t)] = (v[keep], c[keep])
    if not found:
        return None
    K = max(len(v) for v, _ in found.values())
    v = np.full((A, T, K), -1, dtype=np.int64)
    c = np.zeros((A, T, K))
    mask = np.zeros((A, T), bool)
    for (a, t), (vv, cc) in found.items():
        v[a, t, : len(vv)], c[a, t, : len(cc)], mask[a, t] = vv, cc, True
    return v, c, mask


def _availability(ds: xr.Dataset, procs: list[np.ndarray]) -> list[np.ndarray]:
    """Per part, the least availability (T,) of the processes making it where they exist:
    a mature year disrupted by an event (availability below the ramp year's) is no
    reference, so its rows are dropped (a plan committed to its first years could otherwise
    not be kept in a future whose mature year is blockaded)."""
    av, ex = ds["availability"].values, ds["exists"].values
    out = []
    for p in procs:
        if not len(p):
            out.append(np.ones(ds.sizes[PERIOD]))
            continue
        a = np.where(ex[p][:, :, None], av[p], np.inf).min(axis=(0, 1))
        out.append(np.where(np.isfinite(a), a, 1.0))
    return out


@registers("design-ramp", "fleet-ramp")
def define_ramp(lp: LP) -> None:
    """Rows of :func:`ramp_pairs` for every part of the fleet, on its output
    (``design-ramp``) and on its deployments (``fleet-ramp``).

    Both are needed: carrier balances allow disposal, so a cap on output alone could be met
    by making (and scrapping) more in the mature year; deployments cannot be scrapped and
    draw power, so the fleet ramps too.
    """
    net, ds, m = lp.net, lp.net.ds, lp.model
    if not ds.sizes[ACCELERATOR] or "act" not in m.variables:
        return
    shares = ramp_shares(net.catalog)
    if not shares:
        return
    years, dt = net.periods.years, net.periods.dt
    fleet = list(net.fleet.values())
    coords = {ACCELERATOR: ds.indexes[ACCELERATOR], PERIOD: ds.indexes[PERIOD]}
    dims = (ACCELERATOR, PERIOD)
    act = m.variables["act"].labels  # (P, R, T), -1 where absent
    out_c = ds["main_output"].values
    T = ds.sizes[PERIOD]
    procs = [np.flatnonzero(out_c == f.carrier) for f in fleet]
    made = [act[p].reshape(-1, T) for p in procs]
    avail = _availability(ds, procs)
    pairs = [
        [
            (t, t2, r)
            for t, t2, r in ramp_pairs(years, dt, f.available_from, f.available_until, shares)
            if avail[a][t2] >= avail[a][t] - 1e-9
        ]
        for a, f in enumerate(fleet)
    ]
    families = [("design-ramp", made)]
    if "deploy" in m.variables:
        dep = m.variables["deploy"].labels  # (A, R, T)
        families.append(("fleet-ramp", [dep[a] for a in range(len(fleet))]))
    for name, labels in families:
        got = _rows(labels, pairs, coords)
        if got is None:
            continue
        v, c, mask = got
        m.add_constraints(
            constraint(v, c, "<=", 0.0, dims, coords),
            name=name,
            mask=xr.DataArray(mask, coords=coords, dims=dims),
        )


__all__ = ["define_ramp", "ramp_pairs"]
