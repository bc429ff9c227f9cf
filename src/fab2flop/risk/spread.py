"""Dependence across sampled futures (issue 13): the figures of ``fab2flop dependence`` per
sample, and their spread (P5/P50/P95 across samples).

Per sample and period, keyed by a flat name (each an array (sample, period)):

- ``by_vendor.<vendor>``: share of installed H100e by vendor (``own`` for the plan's designs);
- ``by_region.<input>.<region>``: share of each critical input made in each region;
- ``hhi.<input>``: its Herfindahl–Hirschman index (0–10,000);
- ``taiwan_dependent_h100e``, ``korea_dependent_h100e`` and their ``_share`` of installed
  H100e (the attribution rule of :mod:`fab2flop.dependence`).

``risk sweep`` takes them from each re-optimised sample's Results
(:func:`from_results`); ``risk replay`` computes them vectorised over a chunk of samples
from the replayed activity, inventory and fleet (:func:`from_replay`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import dependence as dep
from ..constants import CARRIER, REGION

QUANTILES = (5, 50, 95)
DEPENDENT_REGIONS = {"taiwan": "TW", "korea": "KR"}
PREFIX = "dependence."  # Dataset variables: dependence.<flat name>


def from_results(res: Any) -> dict[str, list[float | None]]:
    """The per-period figures of one solved run (``dependence_of``), flat-named."""
    d = dep.dependence_of(res)
    out: dict[str, list[float | None]] = {}
    for v, xs in d["by_vendor"].items():
        out[f"by_vendor.{v}"] = xs
    for name, by_r in d["by_region"].items():
        for r, xs in by_r.items():
            out[f"by_region.{name}.{r}"] = xs
    for name, xs in d["hhi"].items():
        out[f"hhi.{name}"] = xs
    for who in DEPENDENT_REGIONS:
        out[f"{who}_dependent_h100e"] = d[f"{who}_dependent_h100e"]
        out[f"{who}_dependent_share"] = d[f"{who}_dependent_share"]
    return out


def _shares(x: np.ndarray, tot: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tot > 0, x / np.where(tot > 0, tot, 1.0), np.nan)


def from_replay(net: Any, cells: tuple[np.ndarray, np.ndarray], r: Any) -> dict[str, np.ndarray]:
    """The figures of a replayed chunk ``r`` (a ``replay.ReplayOut``), each (S, T)."""
    ds = net.ds
    pk, rk = cells
    T, K, S = r.act_tks.shape
    P = ds.sizes["process"]
    regions = [str(x) for x in ds.indexes[REGION]]
    R = len(regions)
    io = np.asarray(ds["io"].values, float)
    out: dict[str, np.ndarray] = {}
    # vendors: installed H100e (S,A,T)
    vendors = dep.dependence_coords(net)["acc_vendor"][1]
    acc_h = r.accelerator_h100e
    total = acc_h.sum(axis=1)
    for v in dict.fromkeys(vendors):
        sel = np.array([x == v for x in vendors])
        out[f"by_vendor.{v}"] = _shares(acc_h[:, sel].sum(axis=1), total)
    # where each critical input is made: Σ max(io, 0) x activity, by region
    pos = np.clip(io[pk], 0.0, None)  # (K,C)
    carriers = [str(c) for c in ds.indexes[CARRIER]]
    for name, cw in dep.input_carriers(net).items():
        w = np.zeros(len(carriers))
        for c, x in cw.items():
            w[carriers.index(c)] = x
        per_cell = pos @ w  # (K,) units of the input per unit of activity
        onto = np.zeros((R, K))
        onto[rk, np.arange(K)] = per_cell
        prod = _onto(onto, r.act_tks).transpose(1, 2, 0)  # (S,R,T)
        tot = prod.sum(axis=1, keepdims=True)
        sh = _shares(prod, tot)
        for j, reg in enumerate(regions):
            if np.nansum(sh[:, j]) > 0:
                out[f"by_region.{name}.{reg}"] = sh[:, j]
        out[f"hhi.{name}"] = np.where(
            tot[:, 0] > 0, np.square(np.nan_to_num(sh) * 100).sum(1), np.nan
        )
    # compute that depends on Taiwan, Korea; processes without activity in the chunk and
    # accelerators and regions without fleet add nothing to the pools or windows: left out
    glob = np.asarray(ds["carrier_scope"].values) == "global"
    act_k = r.act_tks  # (T,K,S)
    busy = np.flatnonzero(np.isin(np.arange(P), pk[np.flatnonzero(act_k.any(axis=(0, 2)))]))
    by_proc = np.zeros((len(busy), K))
    pos = np.searchsorted(busy, pk)
    on_k = np.isin(pk, busy)
    by_proc[pos[on_k], np.flatnonzero(on_k)] = float(ds.attrs["dt_years"])
    made_all = _onto(by_proc, act_k).transpose(1, 2, 0)  # (S,P',T), periods outermost
    inv = r.inv_tcs.transpose(2, 1, 0)  # (S,C,T)
    acc_c = np.array([carriers.index(str(c)) for c in ds["acc_carrier"].values], int)
    a_on = r.on[0] if getattr(r, "on", None) is not None else np.arange(len(acc_c))
    life = np.asarray(r.acc_life, int).T[:, a_on]  # (S,A')
    h = np.asarray(r.h_as, float).T[:, a_on]  # (S,A')
    deployed, installed = r.fleet() if hasattr(r, "fleet") else (r.deployed, r.installed)
    window = dep.window_sum(deployed, life)  # the same for every region
    for who, reg in DEPENDENT_REGIONS.items():
        if reg not in regions:
            out[f"{who}_dependent_h100e"] = np.zeros((S, T))
            out[f"{who}_dependent_share"] = _shares(np.zeros((S, T)), total)
            continue
        step = dep.critical_step(net, reg)[pk, rk]  # (K,)
        made_free = _onto(by_proc * ~step[None, :], act_k).transpose(1, 2, 0)
        phi = dep.pool_free_share(io[busy], glob, made_free, made_all, inv)
        x = _dependent(phi[:, acc_c[a_on]], deployed, window, installed, life, h)
        out[f"{who}_dependent_h100e"] = x
        out[f"{who}_dependent_share"] = _shares(x, total)
    return out


def _dependent(
    phi_acc: np.ndarray,
    deployed: np.ndarray,
    window: np.ndarray,
    installed: np.ndarray,
    life: np.ndarray,
    h: np.ndarray,
) -> np.ndarray:
    """``dep.dependent_from_share`` step for step, given ``window`` = ``window_sum(deployed,
    life)``, which does not depend on the region (computed once for Taiwan and Korea)."""
    dep_frac = (1.0 - phi_acc)[..., :, None, :]
    window_dep = dep.window_sum(deployed * dep_frac, life)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(window > 0, window_dep / np.where(window > 0, window, 1.0), 0.0)
    return np.einsum("...art,...a->...t", installed * frac, np.asarray(h, float))


def _onto(m: np.ndarray, act_tks: np.ndarray) -> np.ndarray:
    """``m`` (n,K) times the activity (T,K,S) of every period and sample, as (T,S,n): one
    matrix product; a period's (S,n) slice is contiguous."""
    T, K, S = act_tks.shape
    flat = m @ act_tks.transpose(1, 0, 2).reshape(K, T * S)  # (n, T·S)
    return np.ascontiguousarray(flat.reshape(-1, T, S).transpose(1, 2, 0))


def bands(values: np.ndarray) -> dict[str, list[float | None]]:
    """P5/P50/P95 by period of a (sample, period) array, NaN samples left out per period."""
    out: dict[str, list[float | None]] = {f"p{q}": [] for q in QUANTILES}
    for t in range(values.shape[1]):
        v = values[:, t]
        v = v[np.isfinite(v)]
        for q in QUANTILES:
            out[f"p{q}"].append(float(np.percentile(v, q)) if len(v) else None)
    return out


def spread(per_sample: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """``dependence_spread``: the bands of every figure, nested like ``fab2flop
    dependence --json`` (``by_vendor``, ``by_region``, ``hhi``, ``taiwan_dependent_h100e``,
    ``taiwan_dependent_share``, ``korea_...``)."""
    out: dict[str, Any] = {"by_vendor": {}, "by_region": {}, "hhi": {}}
    for key, v in per_sample.items():
        b = bands(np.asarray(v, float))
        head, _, rest = key.partition(".")
        if head == "by_vendor":
            out["by_vendor"][rest] = b
        elif head == "by_region":
            name, _, reg = rest.rpartition(".")
            out["by_region"].setdefault(name, {})[reg] = b
        elif head == "hhi":
            out["hhi"][rest] = b
        else:
            out[key] = b
    return out


def per_sample_from_dataset(ds: Any) -> dict[str, np.ndarray]:
    """The ``dependence.*`` variables of a sweep or replay Dataset, by flat name."""
    return {
        str(k)[len(PREFIX) :]: np.asarray(v.values, float)
        for k, v in ds.data_vars.items()
        if str(k).startswith(PREFIX)
    }


def rows_to_arrays(
    rows: list[dict[str, list[float | None]] | None], t: int
) -> dict[str, np.ndarray]:
    """Per-sample dicts (None: no figures) as (sample, period) arrays, NaN where missing."""
    keys = list(dict.fromkeys(k for r in rows if r for k in r))
    out = {k: np.full((len(rows), t), np.nan) for k in keys}
    for i, r in enumerate(rows):
        for k, xs in (r or {}).items():
            out[k][i] = [np.nan if x is None else x for x in xs]
    return out


def table_rows(sp: Mapping[str, Any], i: int) -> list[tuple[str, str, str, str]]:
    """Rows (figure, P5, P50, P95) of period index ``i`` for a terminal table: shares by
    vendor, Taiwan- and Korea-dependent H100e and shares, HHI of each critical input."""

    def pct(x: float | None) -> str:
        return "-" if x is None else f"{x:.0%}"

    def num(x: float | None) -> str:
        return "-" if x is None else f"{x:,.3g}" if abs(x) < 1e4 else f"{x:,.0f}"

    def row(label: str, b: Mapping[str, list], f: Any) -> tuple[str, str, str, str]:
        return (label, *(f(b[f"p{q}"][i]) for q in QUANTILES))  # type: ignore[return-value]

    rows = [row(f"H100e share {v}", b, pct) for v, b in sp.get("by_vendor", {}).items()]
    for who in DEPENDENT_REGIONS:
        if f"{who}_dependent_share" in sp:
            rows.append(
                row(f"{who.capitalize()}-dependent share", sp[f"{who}_dependent_share"], pct)
            )
            rows.append(
                row(f"{who.capitalize()}-dependent H100e", sp[f"{who}_dependent_h100e"], num)
            )
    rows += [row(f"HHI {name}", b, num) for name, b in sp.get("hhi", {}).items()]
    return rows
