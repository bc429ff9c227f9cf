"""The plan's dynamics in time, written once: pure functions on numpy arrays.

Capacity stock, ramp, where capacity may open, the capex schedule, when build inputs are
consumed, the installed fleet and the spend of each kind. The LP builder (``lp/model.py``)
takes every coefficient of its rows from the kernels here, and a simulator calls the same
functions on sampled decisions, so the two cannot disagree.

Conventions:

- Arrays have any leading dimensions (e.g. ``sample, process, region``) and **time last**
  (one entry per period).
- Parameters of a cohort that do not vary in time (``life``, ``ramp``, in whole periods)
  broadcast against ``x.shape[:-1]``; time-indexed parameters (``open_lead``, ``capex``,
  ``destroyed_fraction``, ``availability``, ``existing``) broadcast against ``x.shape``.
  For (process, region, period) decisions pass a per-process life as ``life[:, None]``.
- Each dynamic is a linear operator in time given by a :class:`Kernel`:
  ``y[..., t] = Σ_k w[..., t, k] · x[..., t − lags[k]]`` (terms outside the horizon are 0).
  A negative lag reads a later period (capex paid before capacity opens).

Timing conventions (the LP's):

- ``new[t]`` is capacity that *opens* in period t; construction took ``open_lead[t]``
  periods before it, and build inputs are consumed at ``t − open_lead[t]``.
- A cohort opened in u is alive in t when ``t − u < life`` (retired at ``u + life``).
- ``destroyed_fraction[t]`` hits the plan-built capacity standing at the start of t
  (cohorts opened before t and still alive in t); what opens in t opens after the hit.

>>> import numpy as np
>>> capacity_stock(np.array([[1.0, 0.0, 2.0]]), 0.0, np.array([2])).tolist()
[[1.0, 1.0, 2.0]]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import xarray as xr

ArrayLike = np.ndarray | float | int


@dataclass(frozen=True)
class Kernel:
    """A linear operator in time: ``y[..., t] = Σ_k weights[..., t, k] · x[..., t − lags[k]]``.

    ``lags`` has shape (K,) (integer periods); ``weights`` has shape (..., T or 1, K) and
    broadcasts against the operand's shape plus the K axis.
    """

    lags: np.ndarray
    weights: np.ndarray

    def apply(self, x: ArrayLike) -> np.ndarray:
        """The operator applied to ``x`` (..., T)."""
        x = np.asarray(x, dtype=float)
        out = np.zeros(np.broadcast_shapes(x.shape, self.weights.shape[:-1]))
        for k, lag in enumerate(self.lags):
            w = self.weights[..., k]
            if np.any(w):
                out += w * shift(x, int(lag))
        return out


def shift(x: ArrayLike, lag: int, fill: float = 0.0) -> np.ndarray:
    """``x[..., t − lag]`` along the last axis; ``fill`` where that falls outside.

    >>> shift(np.array([1.0, 2.0, 3.0]), 1).tolist(), shift(np.array([1, 2, 3]), -1, -1).tolist()
    ([0.0, 1.0, 2.0], [2, 3, -1])
    """
    x = np.asarray(x)
    out = np.full_like(x, fill)
    T = x.shape[-1]
    if lag >= 0 and lag < T:
        out[..., lag:] = x[..., : T - lag]
    elif lag < 0 and -lag < T:
        out[..., : T + lag] = x[..., -lag:]
    return out


def _as_int(a: ArrayLike) -> np.ndarray:
    return np.asarray(a, dtype=np.int64)


# ----------------------------------------------------------------- opening and construction
def opening_mask(open_lead: ArrayLike) -> np.ndarray:
    """Where capacity may open: ``open_lead[..., t] >= 0`` and ``t >= open_lead[..., t]``.

    ``open_lead`` (..., T) is the construction time [periods] of capacity opening in t
    (-1: nothing opens then). Nothing opens before its construction could have started.

    >>> opening_mask(np.array([2, 2, 2, -1])).tolist()
    [False, False, True, False]
    """
    lead = _as_int(open_lead)
    t = np.arange(lead.shape[-1])
    return (lead >= 0) & (t >= lead)


def capex_kernel(capex: ArrayLike, open_lead: ArrayLike) -> Kernel:
    """Spend in period s of capacity opening in t = s + j (lags −j).

    Capacity opening in t costs ``capex[..., t]`` per unit, spread evenly over the
    ``open_lead[..., t]`` periods before t (all in t itself when the lead is 0). Weights
    are in the units of ``capex`` per unit of ``new``.
    """
    lead = _as_int(open_lead)
    shape = np.broadcast_shapes(lead.shape, np.shape(capex))
    capex = np.broadcast_to(np.asarray(capex, dtype=float), shape)
    K = max(int(lead.max(initial=0)), 0) + 1
    w = np.zeros((*shape, K))
    for j in range(K):
        L = shift(lead, -j, fill=-1)  # lead of the capacity opening in s + j
        c = shift(capex, -j)
        share = np.where(L == 0, 1.0 * (j == 0), 0.0)
        if j > 0:
            share = np.where((L >= j), 1.0 / np.maximum(L, 1), share)
        w[..., j] = c * share
    return Kernel(-np.arange(K), w)


def capex_schedule(new: ArrayLike, capex: ArrayLike, open_lead: ArrayLike) -> np.ndarray:
    """Capex spent in each period [units of ``capex`` × ``new``] for capacity ``new`` opening
    in each period: spread evenly over the ``open_lead`` periods before opening.

    >>> capex_schedule(np.array([0.0, 0.0, 3.0]), 1.0, np.array([2, 2, 2])).tolist()
    [1.5, 1.5, 0.0]
    """
    return capex_kernel(capex, open_lead).apply(new)


def build_start_kernel(open_lead: ArrayLike) -> Kernel:
    """Construction starting in s of capacity opening in t = s + j (weight 1 when
    ``open_lead[t] == j``)."""
    lead = _as_int(open_lead)
    K = max(int(lead.max(initial=0)), 0) + 1
    w = np.zeros((*lead.shape, K))
    for j in range(K):
        w[..., j] = shift(lead, -j, fill=-1) == j
    return Kernel(-np.arange(K), w)


def build_start(new: ArrayLike, open_lead: ArrayLike) -> np.ndarray:
    """Capacity whose construction starts in each period (when build inputs are consumed).

    >>> build_start(np.array([0.0, 0.0, 3.0, 1.0]), np.array([0, 1, 2, 2])).tolist()
    [3.0, 1.0, 0.0, 0.0]
    """
    return build_start_kernel(open_lead).apply(new)


# ----------------------------------------------------------------- stocks
def survival(destroyed_fraction: ArrayLike, K: int) -> np.ndarray:
    """Share of a cohort opened in t − k still standing at the end of t, (..., T, K).

    ``S[..., t, k] = Π_{i<k} (1 − d[..., t − i])``: the destruction of periods after the
    cohort opened, up to and including t (none before the horizon).
    """
    keep = 1.0 - np.asarray(destroyed_fraction, dtype=float)
    S = np.ones((*keep.shape, K))
    for k in range(1, K):
        S[..., k] = S[..., k - 1] * shift(keep, k - 1, fill=1.0)
    return S


def _lifetime(life: ArrayLike) -> np.ndarray:
    """Life as (..., 1, 1): against (..., T, K)."""
    return _as_int(life)[..., None, None]


def stock_kernel(life: ArrayLike, T: int, destroyed_fraction: ArrayLike | None = None) -> Kernel:
    """Standing stock from openings: cohorts opened in (t − life, t], times their survival."""
    lf = _lifetime(life)
    K = max(min(int(lf.max(initial=1)), T), 1)
    k = np.arange(K)
    w = (k < lf) * 1.0
    if destroyed_fraction is not None:
        w = w * survival(destroyed_fraction, K)
    return Kernel(k, w)


def stock_recursion(
    life: ArrayLike, T: int, destroyed_fraction: ArrayLike | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients of the sparse stock form of :func:`stock_kernel`.

    ``B[t] = keep[t] · B[t−1] + new[t] − retire[t] · new[t − life]`` with
    ``keep = 1 − d`` and ``retire[t] = S[t, life]``, the share of the cohort retiring at t
    that survived until then. Returns ``(keep, retire)``, each (..., T).
    """
    lf = _as_int(life)
    if destroyed_fraction is None:
        one = np.ones((*lf.shape, T))
        return one, one
    d = np.asarray(destroyed_fraction, dtype=float)
    K = min(int(lf.max(initial=1)), T) + 1
    S = survival(d, K)
    idx = np.minimum(lf, K - 1)[..., None, None]
    retire = np.take_along_axis(S, np.broadcast_to(idx, (*S.shape[:-1], 1)), axis=-1)[..., 0]
    return 1.0 - d, retire


def capacity_stock(
    new: ArrayLike,
    existing: ArrayLike,
    life: ArrayLike,
    destroyed_fraction: ArrayLike | None = None,
) -> np.ndarray:
    """Capacity standing in each period [units of ``new``]: plan-built capacity opened in
    (t − life, t] less what destruction removed while it stood, plus ``existing``.

    >>> capacity_stock(np.array([2.0, 0.0, 0.0]), 1.0, 5, np.array([0.0, 0.5, 0.0])).tolist()
    [3.0, 2.0, 2.0]
    """
    new = np.asarray(new, dtype=float)
    built = stock_kernel(life, new.shape[-1], destroyed_fraction).apply(new)
    return built + np.asarray(existing, dtype=float)


def ramp_kernel(
    ramp: ArrayLike, life: ArrayLike, T: int, destroyed_fraction: ArrayLike | None = None
) -> Kernel:
    """Unripe capacity from openings: in the k-th period after opening (k < ramp) a share
    ``1 − (k+1)/(ramp+1)`` of a surviving, still-alive cohort cannot produce yet."""
    rp, lf = _lifetime(ramp), _lifetime(life)
    K = max(min(int(rp.max(initial=0)), T), 1)
    k = np.arange(K)
    w = np.where(k < rp, 1.0 - (k + 1) / (rp + 1.0), 0.0) * (k < lf)
    if destroyed_fraction is not None:
        w = w * survival(destroyed_fraction, K)
    return Kernel(k, w)


def ramp_unripe(
    new: ArrayLike,
    ramp: ArrayLike,
    life: ArrayLike | None = None,
    destroyed_fraction: ArrayLike | None = None,
) -> np.ndarray:
    """Capacity standing but not yet usable because it is still ramping up [units of new].

    >>> ramp_unripe(np.array([3.0, 0.0, 0.0]), 2).tolist()
    [2.0, 1.0, 0.0]
    """
    new = np.asarray(new, dtype=float)
    T = new.shape[-1]
    lf = T if life is None else life
    return ramp_kernel(ramp, lf, T, destroyed_fraction).apply(new)


def usable_capacity(
    new: ArrayLike,
    existing: ArrayLike,
    life: ArrayLike,
    ramp: ArrayLike,
    availability: ArrayLike,
    destroyed_fraction: ArrayLike | None = None,
) -> np.ndarray:
    """The most a buildable process can do in each period:
    ``availability × (capacity_stock − ramp_unripe)``."""
    stock = capacity_stock(new, existing, life, destroyed_fraction)
    unripe = ramp_unripe(new, ramp, life, destroyed_fraction)
    return np.asarray(availability, dtype=float) * (stock - unripe)


def fleet_stock(deploy: ArrayLike, life: ArrayLike) -> np.ndarray:
    """Installed accelerators: those deployed in (t − life, t].

    >>> fleet_stock(np.array([1.0, 2.0, 4.0]), 2).tolist()
    [1.0, 3.0, 6.0]
    """
    return capacity_stock(deploy, 0.0, life)


# ----------------------------------------------------------------- spend
def fixed_om_spend(
    capacity: ArrayLike, fixed_om_usd_per_unit_year: ArrayLike, dt: float
) -> np.ndarray:
    """Fixed O&M of standing capacity in a period of ``dt`` years [USD]."""
    return np.asarray(fixed_om_usd_per_unit_year) * capacity * dt


def variable_spend(activity: ArrayLike, var_cost_usd_per_unit: ArrayLike, dt: float) -> np.ndarray:
    """Variable cost of activity (a rate per year) over a period of ``dt`` years [USD]."""
    return np.asarray(var_cost_usd_per_unit) * activity * dt


def systems_spend(deploy: ArrayLike, deploy_cost_usd: ArrayLike) -> np.ndarray:
    """Systems (hosts, networking) bought with each deployed accelerator [USD]."""
    return np.asarray(deploy_cost_usd) * deploy


# ----------------------------------------------------------------- on the network's arrays
def plan_capacity(ds: xr.Dataset, new: ArrayLike) -> np.ndarray:
    """Capacity standing [natural units] of (..., process, region, period) openings ``new``
    under the network Dataset ``ds`` (existing, life, destruction), for every process:
    the LP's ``cap`` where a process is buildable."""
    life = ds["life_periods"].values[:, None]
    return capacity_stock(new, ds["existing"].values, life, ds["destroyed_fraction"].values)


def plan_spend(
    ds: xr.Dataset,
    new: ArrayLike,
    capacity: ArrayLike,
    activity: ArrayLike,
    deploy: ArrayLike | None = None,
) -> dict[str, np.ndarray]:
    """Spend [USD] by kind of a plan, as the LP counts it, from the network Dataset ``ds``.

    ``new``, ``capacity``, ``activity``: (..., process, region, period); ``deploy``:
    (..., accelerator, region, period). Fixed O&M is paid on the capacity of processes the
    plan may build (not on markets, nor unlimited ones). Returns ``capex``, ``fixed_om``,
    ``variable`` and (with ``deploy``) ``systems``, each shaped like its decision.
    """
    dt = float(ds.attrs["dt_years"])
    own = ds["exists"].values & (ds["buildable"].values & ~ds["unlimited"].values)[:, None]
    fixed_rate = ds["fixed_om_usd_per_unit_year"].values[:, None, None]
    out = {
        "capex": capex_schedule(
            new, ds["capex_usd_per_unit"].values, ds["open_lead_periods"].values
        ),
        "fixed_om": np.where(own[..., None], fixed_om_spend(capacity, fixed_rate, dt), 0.0),
        "variable": variable_spend(activity, ds["var_cost_usd_per_unit"].values, dt),
    }
    if deploy is not None:
        cost = ds["acc_deploy_cost_usd"].values[:, None, :]
        out["systems"] = systems_spend(deploy, cost)
    return out


# ----------------------------------------------------------------- fast forms for many samples
# The kernels above build a (..., T, K) weight array per call; replay calls them on
# (sample, cell, period) arrays whose life or construction time varies per sample, where
# building those weights costs more than the dynamics. The functions below compute the same
# operators in place, lag by lag on slices (no weights, no shifted copies); each equals its
# kernel form up to rounding (tests/test_dynamics.py checks them against it).
def window_stock(new: np.ndarray, life: ArrayLike) -> np.ndarray:
    """``capacity_stock(new, 0.0, life)`` without destruction: Σ ``new[..., u]`` over
    u ∈ (t − life, t], ``life`` [whole periods] broadcast against ``new.shape[:-1]``.

    >>> window_stock(np.array([[1.0, 0.0, 2.0], [1.0, 0.0, 2.0]]), np.array([2, 5])).tolist()
    [[1.0, 1.0, 2.0], [1.0, 1.0, 3.0]]
    """
    new = np.asarray(new, dtype=float)
    T = new.shape[-1]
    lf = _as_int(life)[..., None]  # against (..., T)
    out = new.copy()
    for k in range(1, min(int(lf.max(initial=1)), T)):
        out[..., k:] += np.where(lf > k, new[..., : T - k], 0.0)
    return out


def window_unripe(new: np.ndarray, ramp: ArrayLike, life: ArrayLike) -> np.ndarray:
    """``ramp_unripe(new, ramp, life)`` without destruction: in the k-th period after
    opening (k < ramp, k < life) a share ``1 − (k+1)/(ramp+1)`` of a cohort is unripe.

    >>> window_unripe(np.array([3.0, 0.0, 0.0]), 2, 5).tolist()
    [2.0, 1.0, 0.0]
    """
    new = np.asarray(new, dtype=float)
    T = new.shape[-1]
    rp = _as_int(ramp)[..., None]
    lf = _as_int(life)[..., None]
    out = np.zeros(np.broadcast_shapes(new.shape, rp.shape, lf.shape))
    for k in range(min(int(rp.max(initial=0)), T)):
        w = np.where((k < rp) & (k < lf), 1.0 - (k + 1) / (rp + 1.0), 0.0)
        out[..., k:] += w * new[..., : T - k]
    return out


def capex_spread(spend_at_opening: np.ndarray, open_lead: np.ndarray) -> np.ndarray:
    """``capex_schedule(spend_at_opening, 1.0, open_lead)``: the money of capacity opening
    in t spread evenly over the ``open_lead[..., t]`` periods before t (all in t when 0).

    >>> capex_spread(np.array([0.0, 0.0, 3.0]), np.array([2, 2, 2])).tolist()
    [1.5, 1.5, 0.0]
    """
    v = np.asarray(spend_at_opening, dtype=float)
    lead = _as_int(open_lead)
    v, lead = np.broadcast_arrays(v, lead)
    T = v.shape[-1]
    out = np.where(lead == 0, v, 0.0)
    per = np.where(lead > 0, v / np.maximum(lead, 1), 0.0)
    for j in range(1, min(int(lead.max(initial=0)), T - 1) + 1):
        out[..., : T - j] += np.where(lead[..., j:] >= j, per[..., j:], 0.0)
    return out
