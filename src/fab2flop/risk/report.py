"""Statistics a strategist reads from a replay Dataset (``sample`` x ``period``).

>>> import numpy as np
>>> cvar(np.arange(1.0, 101.0), 0.05)   # mean of the worst 5 of 100: (1+2+3+4+5)/5
3.0
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from ..constants import SAMPLE

PERCENTILES = (5, 50, 95)


def percentiles(x: np.ndarray) -> dict[str, list[float]]:
    """P5/P50/P95 along the sample axis (axis 0) of a (sample, period) array."""
    q = np.percentile(x, PERCENTILES, axis=0)
    return {f"p{p}": [float(v) for v in q[i]] for i, p in enumerate(PERCENTILES)}


def cvar(x: np.ndarray, alpha: float = 0.05) -> float:
    """Expected shortfall: the mean of the worst ``alpha`` share of outcomes (lowest values).

    The worst ``ceil(alpha · n)`` samples are averaged (at least one)."""
    x = np.sort(np.asarray(x, float).ravel())
    k = max(1, int(np.ceil(alpha * len(x) - 1e-9)))
    return float(x[:k].mean())


def year_index(ds: xr.Dataset, year: int) -> int:
    """The last period of ``year`` (compute reached by the end of that year)."""
    years = ds["year"].values
    idx = np.flatnonzero(np.floor(years) == year)
    if not idx.size:
        raise KeyError(f"year {year} is outside the horizon {int(years[0])}-{int(years[-1])}")
    return int(idx[-1])


def path_probability(ds: xr.Dataset, path: dict[int, float]) -> float | None:
    """Share of samples whose compute reaches every point of ``path`` {year: H100e}."""
    if not path:
        return None
    c = ds["compute_h100e"].values
    ok = np.ones(c.shape[0], bool)
    for y, v in path.items():
        ok &= c[:, year_index(ds, int(y))] >= float(v) * (1 - 1e-9)
    return float(ok.mean())


def stage_loss(event_ds: xr.Dataset, base_ds: xr.Dataset) -> dict[str, Any]:
    """Where an event's loss comes from: per stage, the output lost over the horizon as a
    share of the no-event replay of the same samples (mean over samples), and per
    accelerator the installed H100e lost (mean over samples, summed over periods as
    H100e-years)."""
    dt = 1.0
    if len(event_ds["year"]) > 1:
        dt = float(event_ds["year"].values[1] - event_ds["year"].values[0])
    rows = []
    e = event_ds["stage_output_share"].fillna(0).values
    b = base_ds["stage_output_share"].fillna(0).values
    valid = np.isfinite(base_ds["stage_output_share"].values)
    for k, stage in enumerate(event_ds["stage"].values):
        lost = np.where(valid[:, k], b[:, k] - e[:, k], 0.0).sum(axis=1)
        denom = np.maximum(valid[:, k].sum(axis=-1), 1)
        rows.append({"stage": str(stage), "output_lost_share": float(np.mean(lost / denom))})
    acc = (base_ds["accelerator_h100e"] - event_ds["accelerator_h100e"]).values
    lost_acc = acc.sum(axis=2).mean(axis=0) * dt
    by_acc = {
        str(a): float(v) for a, v in zip(event_ds["accelerator"].values, lost_acc, strict=True)
    }
    lost_c = (base_ds["compute_h100e"] - event_ds["compute_h100e"]).values.mean(axis=0)
    return {
        "stages": sorted(rows, key=lambda r: -r["output_lost_share"]),
        "h100e_years_lost_by_accelerator": by_acc,
        "compute_lost_h100e": [float(v) for v in lost_c],
    }


def summarise(
    ds: xr.Dataset,
    *,
    seed: int | None,
    target_years: list[int],
    path: dict[int, float] | None = None,
) -> dict[str, Any]:
    """The JSON summary of a replay: samples, seed, periods, P5/P50/P95 of compute, spend
    and usable money, CVaR at 5% of compute in target years, the probability of the path."""
    c = ds["compute_h100e"].values
    out: dict[str, Any] = {
        "samples": int(ds.sizes[SAMPLE]),
        "seed": seed,
        "periods": [str(p) for p in ds["period"].values],
        "plan_compute_h100e": [float(v) for v in ds["plan_compute_h100e"].values],
        "compute_h100e": {**percentiles(c), "mean": [float(v) for v in c.mean(axis=0)]},
        "spend_usd": percentiles(ds["spend_usd"].values),
        "usable_money_usd": percentiles(ds["usable_money_usd"].values),
        "cvar5_compute_h100e": {str(y): cvar(c[:, year_index(ds, y)], 0.05) for y in target_years},
        "overspent_share": float((ds["cash_usd"].values < -1.0).any(axis=1).mean()),
    }
    if path:
        out["path"] = {str(k): float(v) for k, v in path.items()}
        out["path_probability"] = path_probability(ds, path)
    return out
