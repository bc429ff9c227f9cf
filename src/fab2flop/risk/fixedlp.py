"""The LP with the plan's builds fixed, under one sampled future: replay's yardstick.

The network of the sample (its arrays from :func:`fab2flop.risk.futures.future_arrays`,
its openings re-timed as replay re-times them) is optimised with ``new`` fixed through its
bounds; everything else (activity, inventories, deployment, money) is free, with the
scenario's own objective. Build inputs are dropped and capacity caps lifted: the builds
are given, so what they consume and whether they fit their caps is not in question (replay
does the same). The best operations any dispatch could achieve with these capacities:
replay must never beat it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import xarray as xr

from ..constants import H100_FLOPS_BF16_DENSE
from ..network import Network
from .futures import SAMPLED, FutureArrays
from .replay import Plan, retime


@dataclass(frozen=True)
class FixedLPResult:
    status: str
    compute_h100e: np.ndarray  # (T,)
    seconds: float


def sample_network(
    net: Network, plan: Plan, fa: FutureArrays, i: int
) -> tuple[Network, np.ndarray]:
    """The network of sample ``i`` of a chunk, and its openings (P,R,T) re-timed."""
    ds = net.ds.copy(deep=True)
    for a in (*SAMPLED, "destroyed_fraction"):
        ds[a] = (ds[a].dims, np.asarray(fa.arrays[a][i], dtype=ds[a].dtype))
    for a, (idx, vals) in fa.structural.items():  # yields, stacks per wafer, lives
        v = ds[a].values.copy()
        flat = v.reshape(-1)
        flat[idx] = vals[i] if a == "io" else np.maximum(np.round(vals[i]), 1)
        ds[a] = (ds[a].dims, v.astype(ds[a].dtype))
    new = plan.new.copy()
    ol = ds["open_lead_periods"].values.copy()
    if fa.extra_start is not None and fa.extra_start[i].any():
        pi, ri = np.nonzero(fa.extra_start[i].any(axis=-1))
        n_c, ol_c = retime(
            plan.new[pi, ri],
            ds["lead_periods"].values[pi],
            ol[pi, ri],
            fa.extra_start[i : i + 1, pi, ri],
        )
        new[pi, ri], ol[pi, ri] = n_c[0], ol_c[0]
    ds["open_lead_periods"] = (ds["open_lead_periods"].dims, ol)
    ds["build_io"] = xr.zeros_like(ds["build_io"])
    ds["max_capacity"] = xr.full_like(ds["max_capacity"], np.inf)
    ds["max_new_per_year"] = xr.full_like(ds["max_new_per_year"], np.inf)
    return dataclasses.replace(net, ds=ds), new


def solve_fixed(net: Network, plan: Plan, fa: FutureArrays, i: int) -> FixedLPResult:
    """Optimise operations of sample ``i`` with the builds fixed; its installed compute."""
    import time

    from ..optimizer import optimize

    t0 = time.perf_counter()
    snet, new = sample_network(net, plan, fa, i)

    def fix(lp) -> None:  # noqa: ANN001 - an lp.model.LP
        var = lp.model.variables["new"]
        s_p = lp.scaling.process[:, None, None]
        val = np.where(var.labels >= 0, new / s_p, 0.0)
        lp.model.set_bounds("new", lower=val, upper=val)

    dropped = float(np.where(_mask(snet), 0.0, new).sum())
    res = optimize(snet, hooks=(fix,))
    secs = time.perf_counter() - t0
    if not res.status.ok:
        return FixedLPResult(res.status.value, np.full(new.shape[-1], np.nan), secs)
    h = snet.ds["flops_bf16_dense"].values / H100_FLOPS_BF16_DENSE
    comp = (res.dataset["installed"].values * h[:, None, None]).sum(axis=(0, 1))
    status = res.status.value if dropped <= 1e-6 else f"{res.status.value} (openings dropped)"
    return FixedLPResult(status, comp, secs)


def _mask(net: Network) -> np.ndarray:
    from .. import dynamics as dyn

    ds = net.ds
    return (
        ds["exists"].values[:, :, None]
        & (ds["buildable"].values & ~ds["unlimited"].values)[:, None, None]
        & ds["region_enabled"].values[None, :, None]
        & dyn.opening_mask(ds["open_lead_periods"].values)
    )


def discounted(net: Network, compute: np.ndarray) -> np.ndarray:
    """Discounted installed compute [H100e-years] (the default objective's measure)."""
    disc = net.ds["discount"].values
    return (np.asarray(compute) * disc).sum(axis=-1) * float(net.ds.attrs["dt_years"])
