"""Replay: the plan's builds fixed, operations re-dispatched under many futures at once.

The plan is optimised once (nominal). Its construction starts are fixed; in each sample
they open after the sample's lead (a delay event re-times them) and destroyed capacity is
gone. Capacity, ramp, fleet and spend come from :mod:`fab2flop.dynamics`. Each period, in
stage (topological) order, every process is asked for what the plan intended (its
activity); a producer short of capacity passes the shortfall of its carrier to other
producers of it with room (re-dispatch); a process makes what its usable capacity and its
inputs allow, scarce inputs rationed among consumers in proportion to what they ask;
storable worldwide carriers carry over. Accelerators are deployed (the plan's deployments
plus any backlog) where MW of IT are free and export approvals allow; what one region
cannot take goes to regions with room. If money runs short in a period, that period's
operations (variable spend, systems) are scaled down together, which keeps every balance.

Samples are processed in chunks (on two forked processes when there are several chunks).
A chunk's arrays (capacities from the shared dynamics, the futures' sampled arrays) are built
with numpy; its period loop runs compiled (numba, :mod:`fab2flop.risk.kernel`) or, as the
reference, vectorised over samples with numpy; both work on the existing (process, region)
cells (:class:`Compact`), touching only what can be nonzero, and agree (tests). A sample's
result does not depend on the samples sharing its chunk (chunk size and workers change
nothing). Yields,
stacks per wafer and lives vary per sample through the futures' structural curves.
Build inputs (e.g. power-build slots) are sunk with the fixed builds and not re-checked.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr
from scipy import sparse

from .. import dynamics as dyn
from ..constants import H100_FLOPS_BF16_DENSE, SAMPLE
from ..network import Network
from .futures import FutureArrays, Probe, SampledEvent, future_arrays

TOL = 1e-9
# sampled arrays the dispatch does not read (left at nominal in its futures)
UNUSED = frozenset({"acc_unit_cost_usd"})


@dataclass(frozen=True)
class Plan:
    """The fixed decisions of a solved plan (natural units)."""

    new: np.ndarray  # (P,R,T) capacity opening, nominal timing
    activity: np.ndarray  # (P,R,T)
    deployed: np.ndarray  # (A,R,T)
    compute_h100e: np.ndarray  # (T,) the plan's own installed compute

    @classmethod
    def from_solution(cls, sol: xr.Dataset, net: Network) -> Plan:
        h = net.ds["flops_bf16_dense"].values / H100_FLOPS_BF16_DENSE
        inst = sol["installed"].values
        return cls(
            np.nan_to_num(sol["new_capacity"].values),
            np.nan_to_num(sol["activity"].values),
            np.nan_to_num(sol["deployed"].values),
            (inst * h[:, None, None]).sum(axis=(0, 1)),
        )


# ------------------------------------------------------------------ structure
@dataclass(frozen=True)
class Structure:
    """What the dispatch needs from the network, computed once."""

    order: list[int]  # processes in stage order
    stage: np.ndarray  # (P,) stage number
    inputs: list[np.ndarray]  # per process: input carrier indices
    out: np.ndarray  # (P,) main output carrier index
    io: np.ndarray  # (P,C)
    glob: np.ndarray  # (C,) worldwide carrier
    storable: np.ndarray  # (C,) carried over (worldwide storable)
    per_period: np.ndarray  # (C,) dt for quantity carriers, 1 for rates
    acc_c: np.ndarray  # (A,) carrier index of each accelerator
    buildable: np.ndarray  # (P,) buildable and not unlimited
    unlimited: np.ndarray
    dt: float


def stages(io: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Stage of each process: 0 without inputs, else 1 + the highest stage making an input."""
    P = io.shape[0]
    st = np.zeros(P, int)
    for _ in range(P + 1):
        changed = False
        for p in range(P):
            ins = np.flatnonzero(io[p] < 0)
            makers = [q for q in range(P) if out[q] in ins and q != p]
            s = 1 + max((st[q] for q in makers), default=-1)
            if s != st[p]:
                st[p], changed = s, True
        if not changed:
            return st
    raise ValueError("the process graph has a cycle: no stage order")


def structure(net: Network) -> Structure:
    ds = net.ds
    io = ds["io"].values
    cidx = {c: i for i, c in enumerate(ds.indexes["carrier"])}
    out = np.array([cidx[c] for c in ds["main_output"].values])
    st = stages(io, out)
    glob = ds["carrier_scope"].values == "global"
    dt = float(ds.attrs["dt_years"])
    return Structure(
        order=list(np.argsort(st, kind="stable")),
        stage=st,
        inputs=[np.flatnonzero(io[p] < 0) for p in range(io.shape[0])],
        out=out,
        io=io,
        glob=glob,
        storable=ds["carrier_storable"].values & glob,
        per_period=np.where(ds["carrier_kind"].values == "quantity", dt, 1.0),
        acc_c=np.array([cidx[c] for c in ds["acc_carrier"].values], int),
        buildable=ds["buildable"].values & ~ds["unlimited"].values,
        unlimited=ds["unlimited"].values,
        dt=dt,
    )


# ------------------------------------------------------------------ re-timed builds
def retime(
    plan_new: np.ndarray, lead: np.ndarray, open_lead: np.ndarray, extra: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Openings and their construction periods (S,n,T) of cells whose starts take ``extra``
    (S,n,T) periods more. ``plan_new``, ``open_lead`` (n,T), ``lead`` (n,) of those cells.
    Starts are the plan's (:func:`dynamics.build_start`); openings whose start lies before
    the horizon keep their timing; builds that would open after the horizon are lost; the
    construction time of an opening is that of its latest start (as the events module
    sets ``open_lead_periods``)."""
    T = plan_new.shape[-1]
    S = extra.shape[0]
    starts = dyn.build_start(plan_new, open_lead)  # by start period
    t = np.arange(T)
    early = t - open_lead < 0  # started before the horizon
    new = np.broadcast_to(np.where(early, plan_new, 0.0), (S, *plan_new.shape)).copy()
    none = -(10**6)
    best = np.broadcast_to(
        np.where(early & (open_lead >= 0), t - open_lead, none), new.shape
    ).copy()
    for u in range(T):
        tgt = u + lead[None, :] + extra[..., u]  # (S,n): opening period of starts in u
        for k in range(u, T):
            hit = tgt == k
            if hit.any():
                new[..., k] += np.where(hit, starts[..., u], 0.0)
                best[..., k] = np.where(hit, np.maximum(best[..., k], u), best[..., k])
    return new, np.where(best > none, t - best, -1)


def capex_matrix(new: np.ndarray, open_lead: np.ndarray, moved: Any = None) -> np.ndarray:
    """(T, P·R·T): capex spent in each period per USD/unit of price of each opening
    (p, r, u), for the openings ``new`` at construction times ``open_lead``: the weights of
    :func:`dynamics.capex_kernel` times the openings (cells in ``moved`` left out)."""
    new = new.copy()
    if moved is not None:
        new[moved[0], moved[1]] = 0.0
    ker = dyn.capex_kernel(1.0, open_lead)
    P, R, T = new.shape
    W = np.zeros((T, P, R, T))
    for k, lag in enumerate(ker.lags):
        j = -int(lag)  # spend in t of capacity opening in t + j
        for t in range(T - j):
            W[t, :, :, t + j] += ker.weights[:, :, t, k] * new[:, :, t + j]
    return W.reshape(T, -1)


# ------------------------------------------------------------------ compact cells
@dataclass(frozen=True)
class Compact:
    """The network on its existing (process, region) cells, as index maps and sparse
    matrices for the dispatch (computed once per network). Cells are sorted by stage;
    per-period arrays are (cells, samples): samples last, so a sparse matrix times a
    period's array runs along contiguous rows. ``CR`` rows index (carrier, region)."""

    pk: np.ndarray  # (K,) process of each cell
    rk: np.ndarray  # (K,) region of each cell
    stages: list[slice]  # cells of each stage
    gid: np.ndarray  # (K,) re-dispatch group (main output, and region when regional)
    group: Any  # (groups, K) sparse 0/1
    gperm: np.ndarray  # (K,) cells sorted by group (stable)
    gsize: np.ndarray  # (groups,) cells in each group
    need: Any  # (C·R, K) sparse: input per unit of activity, by carrier and region
    need_s: list[tuple[np.ndarray, Any]]  # per stage: rows it draws, ``need`` there (rows, Ks)
    make_s: list[tuple[np.ndarray, Any]]  # per stage: rows it makes, main output per unit
    ratio_g: list[np.ndarray]  # per stage: worldwide carriers rationed before it
    ratio_r: list[np.ndarray]  # per stage: regional carriers rationed before it
    inputs: list[np.ndarray]  # per stage (Ks, J): rows of the ratio array (C·R = none)
    drawing: list[tuple[np.ndarray, np.ndarray]]  # per stage: cells with inputs, their rows
    made_any: Any  # (C·R, K) sparse: every positive output per unit of activity (a rate)
    cats: list[str]  # spending categories (stages of the report)
    stage_sum: np.ndarray  # (categories, K) 0/1: the cells of each category
    memo: dict[Any, Any] = field(default_factory=dict)  # the plan's nominal cell arrays


def compact(net: Network, st: Structure) -> Compact:
    ds = net.ds
    P, R = ds["exists"].shape
    C = st.io.shape[1]
    pi, ri = np.nonzero(ds["exists"].values)
    order = np.lexsort((ri, pi, st.stage[pi]))
    pk, rk = pi[order], ri[order]
    K = len(pk)
    sk = st.stage[pk]
    stages = [slice(int(a), int(b)) for a, b in _runs(sk)]
    key = np.where(st.glob[st.out[pk]], st.out[pk] * (R + 1) + R, st.out[pk] * (R + 1) + rk)
    _, gid = np.unique(key, return_inverse=True)
    group = sparse.csr_matrix((np.ones(K), (gid, np.arange(K))), shape=(gid.max() + 1, K))
    need_unit = -np.minimum(st.io, 0.0) * st.per_period[None, :]  # (P,C)
    rows, cols, vals = [], [], []
    for k in range(K):
        for c in st.inputs[pk[k]]:
            rows.append(c * R + rk[k])
            cols.append(k)
            vals.append(need_unit[pk[k], c])
    need = sparse.csc_matrix((vals, (rows, cols)), shape=(C * R, K))
    o = st.out[pk]
    mk = st.io[pk, o] * st.per_period[o]
    make = sparse.csc_matrix((mk, (o * R + rk, np.arange(K))), shape=(C * R, K))
    # a carrier is rationed just before the first stage that draws it: its makers all
    # come earlier (stage = 1 + the highest stage making an input)
    first = np.full(C, -1)
    for k in range(K):
        for c in st.inputs[pk[k]]:
            first[c] = sk[k] if first[c] < 0 else min(first[c], sk[k])
    J = max((len(st.inputs[p]) for p in pk), default=0)
    inputs = []
    for sl in stages:
        m = np.full((sl.stop - sl.start, max(J, 1)), C * R)
        for j, k in enumerate(range(sl.start, sl.stop)):
            ins = st.inputs[pk[k]]
            m[j, : len(ins)] = ins * R + rk[k]
        inputs.append(m)
    s_of = [int(sk[sl.start]) for sl in stages]
    pos = np.maximum(st.io[pk], 0.0)  # (K,C)
    kk, cc = np.nonzero(pos)
    made_any = sparse.csr_matrix((pos[kk, cc], (cc * R + rk[kk], kk)), shape=(C * R, K))
    cats = list(dict.fromkeys(str(c) for c in ds["category"].values))
    cat_p = np.array([cats.index(str(c)) for c in ds["category"].values])
    return Compact(
        pk,
        rk,
        stages,
        gid,
        group,
        np.argsort(gid, kind="stable"),
        np.bincount(gid),
        need.tocsr(),
        [_rows_of(need[:, sl].tocsr()) for sl in stages],
        [_rows_of(make[:, sl].tocsr()) for sl in stages],
        [np.flatnonzero((first == s) & st.glob) for s in s_of],
        [np.flatnonzero((first == s) & ~st.glob) for s in s_of],
        inputs,
        [_drawing(m, C * R) for m in inputs],
        made_any,
        cats,
        (cat_p[pk][None, :] == np.arange(len(cats))[:, None]).astype(float),
    )


def _drawing(m: np.ndarray, none: int) -> tuple[np.ndarray, np.ndarray]:
    """Of a stage's (Ks, J) ratio rows: the cells that draw any input, and their rows
    trimmed to the most inputs one of them draws."""
    n_in = (m != none).sum(axis=1)
    has = np.flatnonzero(n_in > 0)
    return has, m[has, : max(int(n_in.max(initial=0)), 1)]


def _rows_of(m: Any) -> tuple[np.ndarray, Any]:
    """The rows of a sparse matrix holding an entry, and the matrix on those rows only (a
    product then touches only them)."""
    rows = np.flatnonzero(np.diff(m.indptr))
    return rows, m[rows]


def _runs(x: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of equal values of a sorted array."""
    cut = np.flatnonzero(np.diff(x)) + 1
    edges = [0, *cut.tolist(), len(x)]
    return list(zip(edges[:-1], edges[1:], strict=True))


# ------------------------------------------------------------------ capacities
@dataclass
class Capacities:
    """Capacity standing, usable capacity (of the cells) and committed spend of a chunk."""

    capacity: np.ndarray  # (S,K,T)
    usable: np.ndarray  # (S,K,T) the chunk's own (replay_chunk makes it each cell's limit)
    committed_usd: np.ndarray  # (S,T) capex of the fixed builds + fixed O&M
    moved: np.ndarray  # cells with openings a delay event can re-time


def capacities(
    net: Network,
    plan: Plan,
    st: Structure,
    fa: FutureArrays,
    cp: Compact,
    limits: bool = False,
) -> Capacities:
    """Capacity from the fixed builds (re-timed by delays, less destruction), with the
    shared dynamics, on the cells; capacity and capex are linear in the openings, so the
    nominal timing is computed once and only re-timed cells per sample. With ``limits``,
    ``usable`` is each cell's limit (what replay_chunk's numpy path makes of it), computed
    with capacity and fixed O&M in one compiled pass (``capacity`` is then None)."""
    ds, arr = net.ds, fa.arrays
    S = fa.n
    pk, rk = cp.pk, cp.rk
    P, R, T = plan.new.shape
    K = len(pk)
    life = ds["life_periods"].values[pk]  # (K,): against (..., K) openings
    ramp = ds["ramp_periods"].values[pk]
    ol0 = ds["open_lead_periods"].values
    new0 = plan.new[pk, rk]
    key = id(plan)
    if key not in cp.memo:  # the plan's nominal capacity, ramp and capex weights, once
        W0 = capex_matrix(plan.new, ol0).reshape(T, P, R, T)[:, pk, rk]
        stock0 = dyn.capacity_stock(new0, 0.0, life)
        cp.memo[key] = (W0, stock0, dyn.ramp_unripe(new0, ramp, life))
    W0, stock0, unripe0 = cp.memo[key]  # W0 (T, K, T)
    d = arr["destroyed_fraction"] if arr["destroyed_fraction"].any() else None
    moved = None
    km: Any = []
    if fa.extra_start is not None and fa.delayed is not None:  # cells a delay can re-time
        km = np.flatnonzero(fa.delayed & new0.any(axis=1))
    if fa.extra_start is not None and len(km):  # re-timed cells with openings
        pi, ri = pk[km], rk[km]
        new_c, ol_c = retime(
            plan.new[pi, ri], ds["lead_periods"].values[pi], ol0[pi, ri], fa.extra_start[:, km]
        )
        moved = (pi, ri, new_c, ol_c, km)
    life_s = sample_life(fa, life, pk)  # (S,K) or None: lives at nominal
    # only cells with openings have built capacity; a life counts up to the horizon
    opens = new0.any(axis=1)
    if moved is not None:
        opens[moved[4]] = True
    if d is None:  # nominal once; re-timed cells and cells of sampled lives per sample
        kl: Any = []
        if life_s is not None:
            kl = np.flatnonzero((np.minimum(life_s, T) != np.minimum(life, T)).any(axis=0))
        var = np.union1d(moved[4] if moved is not None else [], kl).astype(int)
        var = var[opens[var]]
    else:  # destruction: every cell with openings per sample
        var = np.flatnonzero(opens)
    # the built capacity and unripe part of the cells that vary per sample
    built_v = unripe_v = np.zeros((S, 0, T))
    if var.size:
        new_v = np.broadcast_to(new0[var], (S, var.size, T)).copy()
        if moved is not None:
            on = np.zeros(K, bool)
            on[var] = True
            on = on[moved[4]]
            new_v[:, np.searchsorted(var, moved[4][on])] = moved[2][:, on]
        life_v = life_s[:, var] if life_s is not None else life[var]
        if d is None:
            built_v = dyn.window_stock(new_v, life_v)
            unripe_v = dyn.window_unripe(new_v, ramp[var], life_v)
        else:
            dv = d[:, var]
            lv = life_v if np.ndim(life_v) == 2 else life_v[None, :]
            built_v = dyn.capacity_stock(new_v, 0.0, lv, dv)
            unripe_v = dyn.ramp_unripe(new_v, ramp[var], lv, dv)
    cap_spend = _capex_spend(arr, W0, new0, moved, S, T)
    rate = arr["fixed_om_usd_per_unit_year"][:, pk] * st.buildable[pk][None]  # (S,K)
    kf = np.flatnonzero(st.buildable[pk])  # cells paying fixed O&M
    if limits:  # compiled: capacity, the cells' limits and fixed O&M in one pass
        from . import kernel as kn

        # cells not buildable take availability x existing when the plan (or a delay)
        # opens any of them (as replay_chunk's numpy path)
        nbc = ~st.buildable[pk]
        opened = bool(new0[nbc].any()) or bool(nbc[np.asarray(km, int)].any())
        override = nbc & opened
        vpos = np.full(K, -1)
        vpos[var] = np.arange(var.size)
        cap = np.empty((S, K, T))
        fixed = np.empty((S, T))
        kn.limits(
            kn._f(arr["existing"]), kn._f(stock0), kn._f(unripe0), kn._f(arr["availability"]),
            kn._i(vpos), kn._f(built_v), kn._f(unripe_v), override,
            np.ascontiguousarray(st.unlimited[pk]), np.ascontiguousarray(ds["active"].values[pk]),
            kn._f(rate), np.ascontiguousarray(st.buildable[pk]), st.dt, cap, fixed,
        )  # fmt: skip
        return Capacities(None, cap, cap_spend + fixed, np.asarray(km, int))
    # capacity = existing + built; usable = availability x (capacity - unripe): the nominal
    # built and unripe of every cell, then the cells that vary per sample overwritten
    capacity = np.add(arr["existing"], stock0)
    usable = np.subtract(capacity, unripe0)
    if var.size:
        capacity[:, var] = arr["existing"][:, var] + built_v
        usable[:, var] = capacity[:, var] - unripe_v
    usable *= arr["availability"]
    fixed = np.einsum("sk,skt->st", rate[:, kf], capacity[:, kf]) * st.dt
    return Capacities(capacity, usable, cap_spend + fixed, np.asarray(km, int))


def _capex_spend(
    arr: dict[str, np.ndarray], W0: np.ndarray, new0: np.ndarray, moved: Any, S: int, T: int
) -> np.ndarray:
    """(S,T) capex of the fixed openings: linear in the prices, one matrix (T x K·T) for
    the cells at their nominal timing, and the re-timed cells' own schedules."""
    # capex of the fixed openings is linear in the prices: one matrix (T x K·T)
    pay = new0.any(axis=1)  # cells with openings; re-timed ones pay their own schedule
    if moved is not None:
        pay[moved[4]] = False
    kp = np.flatnonzero(pay)
    W = W0[:, kp].reshape(T, -1)  # (T, cells paying x T)
    cap_spend = arr["capex_usd_per_unit"][:, kp].reshape(S, -1) @ W.T
    if moved is not None:
        pi, ri, new_c, ol_c, km = moved
        price = arr["capex_usd_per_unit"][:, km]
        cap_spend += dyn.capex_spread(new_c * price, ol_c).sum(axis=1)
    return cap_spend  # type: ignore[no-any-return]


def sample_life(fa: FutureArrays, life: np.ndarray, pk: np.ndarray) -> np.ndarray | None:
    """Life [periods] of each cell's capacity per sample (S,K), from the futures' sampled
    ``life_periods`` (whole periods); None when lives are held at nominal."""
    if "life_periods" not in fa.structural:
        return None
    idx, vals = fa.structural["life_periods"]
    P = int(max(pk.max(initial=0), idx.max(initial=0))) + 1
    by_p = np.broadcast_to(np.full(P, -1, np.int64), (fa.n, P)).copy()
    by_p[:, idx] = np.maximum(np.round(vals), 1).astype(np.int64)
    out = np.broadcast_to(life, (fa.n, len(pk))).copy()
    sel = by_p[:, pk]
    return np.where(sel >= 0, sel, out)


def sample_acc_life(fa: FutureArrays, life: np.ndarray) -> np.ndarray:
    """Accelerator life [whole periods] per sample (A,S): sampled or nominal."""
    out = np.repeat(life[:, None], fa.n, axis=1)
    if "acc_life_periods" in fa.structural:
        idx, vals = fa.structural["acc_life_periods"]
        out[idx] = np.maximum(np.round(vals), 1).astype(out.dtype).T
    return out


@dataclass(frozen=True)
class IoChanges:
    """Per-sample changes of ``io`` on the cells: entry e is cell ``k[e]``, carrier-region
    row ``rows[e]``, extra input ``dneed[e]`` (S,) and extra main output ``dmake[e]`` (S,)
    per unit of activity. ``scatter`` sums entries onto their rows (the rows hit, and a
    0/1 matrix (rows hit, E)); ``by_stage`` holds, per stage, its entries and their scatter
    (None: no entry in that stage)."""

    k: np.ndarray
    rows: np.ndarray
    dneed: np.ndarray  # (E,S)
    dmake: np.ndarray  # (E,S)
    scatter: tuple[np.ndarray, Any]
    by_stage: list[tuple[np.ndarray, tuple[np.ndarray, Any]] | None]


def io_changes(fa: FutureArrays, st: Structure, cp: Compact, R: int) -> IoChanges | None:
    """Per-sample changes of ``io`` (yields, dies and stacks per wafer) as cell entries;
    None when ``io`` is held at nominal."""
    if "io" not in fa.structural:
        return None
    idx, vals = fa.structural["io"]
    C = st.io.shape[1]
    p_e, c_e = np.divmod(idx, C)
    io0 = st.io[p_e, c_e]
    pp = st.per_period[c_e]
    dneed = (np.maximum(-vals, 0.0) - np.maximum(-io0, 0.0)) * pp  # (S,n)
    dmake = np.where(c_e == st.out[p_e], vals - io0, 0.0) * pp
    ks, es = [], []
    for e, p in enumerate(p_e):
        for k in np.flatnonzero(cp.pk == p):
            ks.append(k)
            es.append(e)
    if not ks:
        return None
    k_arr, e_arr = np.array(ks), np.array(es)
    rows = c_e[e_arr] * R + cp.rk[k_arr]
    CR = C * R

    def scatter(ent: np.ndarray) -> tuple[np.ndarray, Any]:
        m = sparse.csr_matrix(
            (np.ones(len(ent)), (rows[ent], np.arange(len(ent)))), shape=(CR, len(ent))
        )
        return _rows_of(m)

    by_stage: list[tuple[np.ndarray, tuple[np.ndarray, Any]] | None] = []
    for sl in cp.stages:
        ent = np.flatnonzero((k_arr >= sl.start) & (k_arr < sl.stop))
        by_stage.append((ent, scatter(ent)) if len(ent) else None)
    return IoChanges(
        k_arr,
        rows,
        np.ascontiguousarray(dneed[:, e_arr].T),
        np.ascontiguousarray(dmake[:, e_arr].T),
        scatter(np.arange(len(k_arr))),
        by_stage,
    )


# ------------------------------------------------------------------ the dispatch
def _fill(ask: np.ndarray, cap: np.ndarray, cp: Compact) -> np.ndarray:
    """Targets (K,S): each producer's ask within its capacity, and the shortfall of each
    carrier passed to its other producers with room (worldwide carriers across regions,
    regional ones within the region); room without limit takes it in proportion to asks.
    Only the groups short in some sample are worked on."""
    give = np.minimum(ask, cap)
    short_g = cp.group @ (ask - give)  # (groups,S)
    hit = (short_g > TOL).any(axis=1)
    if not hit.any():
        return give
    gi = np.flatnonzero(hit)
    ks = cp.gperm[hit[cp.gid[cp.gperm]]]  # the cells of those groups, group by group
    size = cp.gsize[gi]
    starts = np.concatenate(([0], np.cumsum(size)[:-1]))

    def per_cell_group_sum(x: np.ndarray) -> np.ndarray:
        return np.repeat(np.add.reduceat(x, starts, axis=0), size, axis=0)

    a, g0 = ask[ks], give[ks]
    room = cap[ks] - g0
    unl = np.isinf(room)
    fin_room = np.where(unl, 0.0, room)
    w_unl = np.where(unl, np.maximum(a, TOL), 0.0)
    n_unl = per_cell_group_sum(unl.astype(float))
    w_unl /= np.maximum(per_cell_group_sum(w_unl), TOL)
    tot = per_cell_group_sum(fin_room)
    sh = np.repeat(short_g[gi], size, axis=0)
    extra = np.where(n_unl > 0, w_unl * sh, fin_room * np.minimum(1.0, sh / np.maximum(tot, TOL)))
    give[ks] = g0 + np.where(sh > TOL, extra, 0.0)
    return give


def _run_chain(
    target: np.ndarray,
    cp: Compact,
    inv: np.ndarray,
    R: int,
    fix: IoChanges | None = None,
    ratio: np.ndarray | None = None,
    buffers: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One period through the chain, a stage at a time: activity (K,S), carriers made and
    used (C·R,S) [per period amounts for quantities, rates for rate carriers]. Each input
    is rationed among all who ask for it, in proportion to what they ask. ``ratio``
    (C·R + 1, S), ones, may be passed to be reused across periods: a stage rewrites the
    rows it rations before any stage reads them, and never touches the others; so may
    ``buffers`` (made, used, and the rows of each that stages write: only these are
    cleared), which are returned."""
    S = target.shape[1]
    CR = cp.need.shape[0]
    C = CR // R
    ask_flat = cp.need @ target
    if fix is not None:  # sampled io: each entry's extra input per unit, at its cell's ask
        rows, m = fix.scatter
        ask_flat[rows] += m @ (fix.dneed * target[fix.k])
    ask = ask_flat.reshape(C, R, S)
    ratio = np.ones((CR + 1, S)) if ratio is None else ratio
    ratio3 = ratio[:CR].reshape(C, R, S)
    a = np.empty_like(target)
    if buffers is None:
        made, used = np.zeros((CR, S)), np.zeros((CR, S))
    else:  # (C·R, S) arrays of the caller's to reuse, zero but on the rows any stage
        made, used, made_rows, used_rows = buffers  # writes, which are cleared here
        made[made_rows] = 0.0
        used[used_rows] = 0.0
    made3 = made.reshape(C, R, S)
    for s, sl in enumerate(cp.stages):
        g, r = cp.ratio_g[s], cp.ratio_r[s]
        if len(g):
            ag = ask[g].sum(axis=1)
            hg = made3[g].sum(axis=1) + inv[g]
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio3[g] = np.where(ag > TOL, np.minimum(1.0, hg / ag), 1.0)[:, None, :]
        if len(r):
            ar = ask[r]
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio3[r] = np.where(ar > TOL, np.minimum(1.0, made3[r] / ar), 1.0)
        has, rows = cp.drawing[s]
        a_s = target[sl].copy()  # cells without inputs make their target
        if len(has):
            a_s[has] *= ratio[rows].min(axis=1)
        a[sl] = a_s
        rows, m = cp.make_s[s]
        made[rows] += m @ a_s
        rows, m = cp.need_s[s]
        used[rows] += m @ a_s
        if fix is not None and fix.by_stage[s] is not None:
            e, (rows, m) = fix.by_stage[s]
            a_e = a[fix.k[e]]
            used[rows] += m @ (fix.dneed[e] * a_e)
            made[rows] += m @ (fix.dmake[e] * a_e)
    return a, made, used


def _draw_of(x: np.ndarray, draw: np.ndarray) -> np.ndarray:
    """MW of IT (Kd,R,S) drawn by accelerators ``x`` (A,R,S) at ``draw`` (A,Kd,S)."""
    return np.einsum("ars,aks->krs", x, draw)


def _deploy(
    plan_dep: np.ndarray,
    backlog: np.ndarray,
    avail_acc: np.ndarray,
    alive: np.ndarray,
    draw: np.ndarray,
    mw_free: np.ndarray | None,
    cap: np.ndarray,
    dc: np.ndarray,
    per_unit: np.ndarray,
) -> np.ndarray:
    """Accelerators (A,R,S) deployed in a period: the plan's deployments (A,R) plus the
    backlog (A,S) (spread like the plan's, over regions), within the accelerators on hand
    (A,S), the free MW of IT of each region (Kd,R,S) net of the ``alive`` fleet's draw and
    its export approvals ``cap`` (R,S); what a region cannot take goes to regions with room
    (``per_unit`` (S,): the most MW of IT an accelerator draws, room in MW to units)."""
    free = None
    if mw_free is not None:
        free = np.maximum(mw_free - _draw_of(alive, draw), 0.0)
    tot_plan = plan_dep.sum(axis=1, keepdims=True)
    split = np.where(
        tot_plan > TOL, plan_dep / np.maximum(tot_plan, TOL), dc / max(dc.sum(), 1)
    )  # (A,R)
    ask = plan_dep[:, :, None] + backlog[:, None, :] * split[:, :, None]
    tot = ask.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ask *= np.where(tot > TOL, np.minimum(1.0, avail_acc / np.maximum(tot, TOL)), 1.0)[
            :, None, :
        ]
    dep = _fit(ask, draw, free, cap)
    left = ask.sum(axis=1) - dep.sum(axis=1)  # (A,S) asked but not placed
    # samples with more than TOL of an accelerator left over (per sample: a sample's result
    # never depends on the others in its chunk)
    spill = (left > TOL).any(axis=0)
    if spill.any():
        left = np.where(spill[None, :], left, 0.0)
        free2 = None if free is None else np.maximum(free - _draw_of(dep, draw), 0.0)
        cap2 = np.maximum(cap - dep.sum(axis=0), 0.0)
        room = np.where(dc[:, None], np.minimum(cap2, 1e30), 0.0)  # (R,S)
        if free2 is not None:
            room = np.minimum(room, free2.min(axis=0) / per_unit[None])
        w = room / np.maximum(room.sum(axis=0, keepdims=True), TOL)
        dep += _fit(left[:, None, :] * w[None], draw, free2, cap2)
    return dep


def _fit(ask: np.ndarray, draw: np.ndarray, free: np.ndarray | None, cap: np.ndarray) -> np.ndarray:
    """Scale each region's asks (A,R,S) into its free MW (Kd,R,S) and approvals (R,S)."""
    k = np.ones(cap.shape)
    if free is not None:
        need = _draw_of(ask, draw)
        with np.errstate(divide="ignore", invalid="ignore"):
            k = np.where(need > TOL, np.minimum(1.0, free / need), 1.0).min(axis=0)
    n = ask.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        kc = np.where(n > TOL, np.minimum(1.0, cap / n), 1.0)
    return ask * np.minimum(k, kc)[None]


@dataclass
class ReplayOut:
    """Per-sample results of one chunk (natural units)."""

    compute_h100e: np.ndarray  # (S,T) installed H100e that MW of IT can run
    stage_activity: np.ndarray  # (S,stages,T) activity summed over each stage's cells
    accelerator_h100e: np.ndarray  # (S,A,T) installed H100e by accelerator
    spend_usd: np.ndarray  # (S,T)
    funding_usd: np.ndarray  # (S,T)
    usable_money_usd: np.ndarray  # (S,T) cash carried in + money arriving
    cash_usd: np.ndarray  # (S,T) carried out (negative: committed spend above the money)
    act_tks: np.ndarray  # (T,K,S) activity of the cells (samples last)
    cum_on: np.ndarray  # (T+1,A',R',S) accelerators deployed before each period, on ``on``
    inv_tcs: np.ndarray  # (T,C,S) inventory carried out of each period
    h_as: np.ndarray  # (A,S) H100e per accelerator
    acc_life: np.ndarray  # (A,S) accelerator life [periods]
    cells: tuple[np.ndarray, np.ndarray]  # (process, region) of each cell
    grid: tuple[int, int]  # (processes, regions)
    start_units: np.ndarray | None = None  # (A,R,T) the starting fleet (not the plan's)
    # the accelerators and regions any deployment or starting fleet is on (the others: 0)
    on: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def activity(self) -> np.ndarray:
        """Activity (S,P,R,T) on the full grid (0 where no cell exists)."""
        T, _, S = self.act_tks.shape
        out = np.zeros((S, *self.grid, T))
        out[:, self.cells[0], self.cells[1]] = self.act_tks.transpose(2, 1, 0)
        return out

    @property
    def cum_deployed(self) -> np.ndarray:
        """(T+1,A,R,S) accelerators deployed before each period."""
        T1, _, _, S = self.cum_on.shape
        A, R = self.h_as.shape[0], self.grid[1]
        if self.on is None:
            return self.cum_on
        out = np.zeros((T1, A, R, S))
        out[:, self.on[0][:, None], self.on[1][None, :]] = self.cum_on
        return out

    @property
    def deployed(self) -> np.ndarray:
        """Accelerators deployed (S,A,R,T)."""
        return np.diff(self.cum_deployed, axis=0).transpose(3, 1, 2, 0)

    @property
    def installed(self) -> np.ndarray:
        """Accelerators installed (S,A,R,T): deployed in (t - life, t]."""
        return self.fleet(full=True)[1]

    def fleet(self, full: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Accelerators deployed and installed (S,A',R',T) on ``on`` (all with ``full``)."""
        c = self.cum_deployed if full or self.on is None else self.cum_on
        a_idx = np.arange(c.shape[1]) if full or self.on is None else self.on[0]
        r_idx = np.arange(c.shape[2]) if full or self.on is None else self.on[1]
        t = np.arange(c.shape[0] - 1)
        T, A, R, S = c.shape[0] - 1, c.shape[1], c.shape[2], c.shape[3]
        life = np.broadcast_to(self.acc_life[a_idx].reshape(A, -1), (A, S))
        lo = np.maximum(0, t[:, None, None] - life[None] + 1)  # (T,A,S)
        idx = np.broadcast_to(lo[:, :, None, :], (T, A, R, S))
        out = (c[t + 1] - np.take_along_axis(c, idx, axis=0)).transpose(3, 1, 2, 0)
        if self.start_units is not None:
            out = out + self.start_units[np.ix_(a_idx, r_idx)][None]
        return np.diff(c, axis=0).transpose(3, 1, 2, 0), out


def _by_category(act: np.ndarray, stage_sum: np.ndarray) -> np.ndarray:
    """Activity (T,K,S) summed over each category's cells, (T,categories,S): cell by cell
    in a fixed order (a matrix product's order would depend on how many samples there are)."""
    out = np.zeros((act.shape[0], stage_sum.shape[0], act.shape[2]))
    for j, row in enumerate(stage_sum):
        ks = np.flatnonzero(row)
        if len(ks):
            out[:, j] = act[:, ks].sum(axis=1)
    return out


def _samples_last(x: np.ndarray) -> np.ndarray:
    """(S, ..., T) -> (T, ..., S), contiguous."""
    return np.ascontiguousarray(np.moveaxis(np.moveaxis(x, 0, -1), -2, 0))


ENGINES = ("auto", "numba", "numpy")


def engine_of(engine: str) -> str:
    """The period loop that runs: ``numba`` (compiled, :mod:`fab2flop.risk.kernel`) or
    ``numpy`` (the reference); ``auto`` is numba where it imports."""
    from . import kernel

    if engine not in ENGINES:
        raise ValueError(f"engine={engine!r}: expected one of {', '.join(ENGINES)}")
    if engine == "auto":
        return "numba" if kernel.available() else "numpy"
    if engine == "numba" and not kernel.available():
        raise ValueError("engine='numba': numba cannot be imported here")
    return engine


def replay_chunk(
    net: Network,
    plan: Plan,
    st: Structure,
    fa: FutureArrays,
    cp: Compact | None = None,
    engine: str = "auto",
) -> ReplayOut:
    """Simulate the plan under the futures of one chunk: the cells' limits and the period
    loop compiled (``engine="numba"``, :mod:`fab2flop.risk.kernel`) or vectorised over
    samples with numpy (the reference, samples axis last)."""
    engine = engine_of(engine)
    cp = cp if cp is not None else compact(net, st)
    fa = fa.compacted((cp.pk, cp.rk))
    ds, arr = net.ds, fa.arrays
    S = fa.n
    P, R, T = plan.activity.shape
    A = plan.deployed.shape[0]
    C = st.io.shape[1]
    dt = st.dt
    pk, rk = cp.pk, cp.rk
    caps = capacities(net, plan, st, fa, cp, limits=engine == "numba")
    fix = io_changes(fa, st, cp, R)
    cap = caps.usable  # (S,K,T), ours to change
    if engine == "numpy":
        # what each cell can do: usable capacity where the plan builds (else availability
        # x existing), without limit where unlimited, 0 where inactive or unavailable
        avail = arr["availability"]
        nb = np.flatnonzero(~st.buildable[pk])
        if plan.new[pk[nb], rk[nb]].any() or np.isin(caps.moved, nb).any():
            cap[:, nb] = avail[:, nb] * arr["existing"][:, nb]
        np.maximum(cap, 0.0, out=cap)
        cap[:, st.unlimited[pk]] = np.inf
        cap[:, ~ds["active"].values[pk]] = 0.0
        np.copyto(cap, 0.0, where=avail <= 0)
    committed = caps.committed_usd
    plan_act = plan.activity[pk, rk]  # (K,T)
    b = net.scenario.budget
    growth = (1.0 + b.cash_interest_rate) ** dt
    dc = ds["datacenter_region"].values
    start_all = ds["acc_installed_units"].values  # (A,R,T) the starting fleet, nominal life
    # deployments on the accelerators the plan deploys or that start installed, in the
    # regions that can take them (data centers, or where the plan deploys): the others
    # deploy nothing and hold no fleet
    a_on = np.flatnonzero(plan.deployed.any(axis=(1, 2)) | start_all.any(axis=(1, 2)))
    r_on = np.flatnonzero(dc | plan.deployed.any(axis=(0, 2)) | start_all.any(axis=(0, 2)))
    Ao, Ro = len(a_on), len(r_on)
    pdep = plan.deployed[np.ix_(a_on, r_on)]  # (A',R',T)
    start = start_all[np.ix_(a_on, r_on)]
    acc_c = st.acc_c[a_on]
    draw_all = arr["fleet_draw"]  # (S,A,C)
    draw_c = np.flatnonzero(draw_all.reshape(-1, C).any(axis=0))
    draw_full = draw_all[:, :, draw_c]  # (S,A,Kd)
    # MW per accelerator, the most of any accelerator (S,): spreads what is left over regions
    per_unit = np.maximum(draw_full.max(axis=2), TOL).max(axis=1)
    mw_rows = (draw_c[:, None] * R + r_on[None]).ravel()
    made_mw = cp.made_any[mw_rows]  # (Kd·R', K)
    acc_life = sample_acc_life(fa, ds["acc_life_periods"].values.astype(int))  # (A,S)
    life_on = acc_life[a_on]
    fund = arr["funding_usd"]
    dc_on = dc[r_on]

    keep_c = np.flatnonzero(st.storable)  # carriers with inventory
    acc_keep = np.flatnonzero(st.storable[acc_c])  # accelerators whose carrier is kept
    acc_row = np.searchsorted(keep_c, acc_c)  # their row among the kept carriers
    act = np.empty((T, len(pk), S))
    cum = np.zeros((T + 1, Ao, Ro, S))  # deployments before each period
    inv_hist = np.zeros((T, C, S))
    h_all = np.ascontiguousarray((arr["flops_bf16_dense"] / H100_FLOPS_BF16_DENSE).T)  # (A,S)
    h = h_all[a_on]
    spend = np.zeros((S, T))
    usable_money = np.zeros((S, T))
    cash_out = np.zeros((S, T))
    if engine == "numba":
        from . import kernel as kn

        acc_hs = np.zeros((S, A, T))  # installed H100e by accelerator
        powered_st = np.zeros((S, T))  # installed H100e that MW of IT can run
        kn.periods(
            (kn._f(cap), kn._f(plan_act), kn._f(arr["var_cost_usd_per_unit"]), dt,
             kn._i(cp.gperm), kn._i(np.concatenate(([0], np.cumsum(cp.gsize))))),
            ch := kn.chain_args(cp, st, R),
            kn.fix_args(fix, len(cp.stages), S, ch),
            (kn._i(acc_c), kn._f(pdep), kn._f(start), kn._f(draw_full[:, a_on]),
             kn._i(draw_c), kn._i(r_on), np.ascontiguousarray(dc_on, bool),
             kn._f(arr["deploy_cap_units_per_year"]), kn._f(per_unit), kn._i(life_on),
             kn._f(arr["acc_deploy_cost_usd"]), kn._f(h), kn._i(a_on),
             *kn.csr_args(made_mw), kn._i(keep_c), kn._i(acc_keep), kn._i(acc_row), R),
            (kn._f(committed), kn._f(fund), float(growth), bool(b.carry_over),
             bool(b.enforce)),
            (act, cum, inv_hist, powered_st, spend, usable_money, cash_out, acc_hs),
        )  # fmt: skip
        return _replay_out(
            powered_st, acc_hs, spend, fund, usable_money, cash_out, act, cum, inv_hist,
            h_all, acc_life, cp, (P, R), start_all, (a_on, r_on),
        )  # fmt: skip
    draw = np.ascontiguousarray(np.moveaxis(draw_full[:, a_on], 0, -1))  # (A',Kd,S)
    # flat index of (a, r, s) in a period of ``cum``: gathers cum[lo[a, s], a, r, s]
    ars = np.arange(Ao * Ro * S).reshape(Ao, Ro, S)

    dep_cost = _samples_last(arr["acc_deploy_cost_usd"])[:, a_on]  # (T,A',S)
    dcap = _samples_last(arr["deploy_cap_units_per_year"])[:, r_on] * dt  # (T,R',S)
    acc_unique = len(np.unique(acc_c)) == len(acc_c)
    inv_prev_keep = np.zeros((len(keep_c), S))
    ratio = np.ones((C * R + 1, S))
    made_rows = [r for r, _ in cp.make_s] + ([fix.scatter[0]] if fix is not None else [])
    used_rows = [r for r, _ in cp.need_s] + ([fix.scatter[0]] if fix is not None else [])
    made_rows_all = np.unique(np.concatenate(made_rows)).astype(int)
    used_rows_all = np.unique(np.concatenate(used_rows)).astype(int)
    buffers = (np.zeros((C * R, S)), np.zeros((C * R, S)), made_rows_all, used_rows_all)
    cap = _samples_last(cap)  # (T,K,S)
    var_cost = np.empty(cap.shape)
    np.multiply(arr["var_cost_usd_per_unit"].transpose(2, 1, 0), dt, out=var_cost)  # (T,K,S)
    inv = np.zeros((C, S))
    backlog = np.zeros((Ao, S))
    powered = np.zeros((T, S))  # installed H100e that MW of IT can run
    acc_h = np.zeros((T, A, S))  # installed H100e by accelerator
    cash = np.zeros(S)
    for t in range(T):
        ask = np.broadcast_to(plan_act[:, t, None], (len(pk), S))
        target = _fill(ask, cap[t], cp)
        a_t, made, used = _run_chain(target, cp, inv, R, fix, ratio, buffers)
        made3, used3 = made.reshape(C, R, S), used.reshape(C, R, S)
        # deployment
        avail_acc = inv[acc_c] + (made3[acc_c] - used3[acc_c]).sum(axis=1)
        lo = np.maximum(0, t - life_on + 1)  # (A',S)
        gone = cum.ravel().take(lo[:, None, :] * (Ao * Ro * S) + ars)  # deployed before lo
        alive = cum[t] - gone  # deployed in [lo, t)
        alive += start[:, :, t, None]  # and the starting fleet, which holds its MW
        mw_free = (made3[draw_c][:, r_on] - used3[draw_c][:, r_on]) if len(draw_c) else None
        dep_t = _deploy(
            pdep[:, :, t], backlog, avail_acc, alive, draw, mw_free, dcap[t], dc_on, per_unit
        )
        disc = np.einsum("ks,ks->s", var_cost[t], a_t) + np.einsum("as,ars->s", dep_cost[t], dep_t)
        # money: scale the period's operations down when the money does not reach
        money_in = (growth * cash if b.carry_over else 0.0) + fund[:, t]
        usable_money[:, t] = money_in
        if b.enforce:
            room = money_in - committed[:, t]
            with np.errstate(divide="ignore", invalid="ignore"):
                k = np.where(
                    disc > room * (1 + 1e-9) + 1.0,
                    np.clip(room / np.maximum(disc, 1e-30), 0.0, 1.0),
                    1.0,
                )
            if (k < 1.0).any():  # (made and used are 0 off the rows stages write)
                a_t *= k
                dep_t *= k
                made[made_rows_all] *= k
                used[used_rows_all] *= k
            disc = disc * k
        spend[:, t] = committed[:, t] + disc
        cash = money_in - spend[:, t]
        cash_out[:, t] = cash
        act[t] = a_t
        np.add(cum[t], dep_t, out=cum[t + 1])
        # the fleet (deployed in (t - life, t]) runs where MW of IT hold it
        installed = alive + dep_t
        if len(draw_c):
            have = (made_mw @ a_t).reshape(len(draw_c), Ro, S)
            need = _draw_of(installed, draw)
            with np.errstate(divide="ignore", invalid="ignore"):
                frac = np.where(need > TOL, np.minimum(1.0, have / need), 1.0).min(axis=0)
            powered[t] = np.einsum("ars,rs,as->s", installed, frac, h)
        else:
            powered[t] = np.einsum("ars,as->s", installed, h)
        acc_h[t, a_on] = installed.sum(axis=1) * h
        # inventory of storable worldwide carriers; deployed accelerators leave theirs
        # (only storable carriers keep any: the others' flows are not needed)
        flow = made3[keep_c].sum(axis=1) - used3[keep_c].sum(axis=1)  # (storable, S)
        if acc_unique:
            flow[acc_row[acc_keep]] -= dep_t[acc_keep].sum(axis=1)
        else:
            np.subtract.at(flow, acc_row[acc_keep], dep_t[acc_keep].sum(axis=1))
        inv = np.zeros((C, S))
        inv[keep_c] = np.maximum(inv_prev_keep + flow, 0.0)
        inv_prev_keep = inv[keep_c]
        inv_hist[t] = inv
        backlog = np.maximum(pdep[:, :, t].sum(axis=1)[:, None] + backlog
                             - dep_t.sum(axis=1), 0.0)  # fmt: skip
    return _replay_out(
        powered.T.copy(), acc_h.transpose(2, 1, 0), spend, fund, usable_money, cash_out, act,
        cum, inv_hist, h_all, acc_life, cp, (P, R), start_all, (a_on, r_on),
    )  # fmt: skip


def _replay_out(
    powered: np.ndarray,
    acc_h: np.ndarray,
    spend: np.ndarray,
    fund: np.ndarray,
    usable_money: np.ndarray,
    cash_out: np.ndarray,
    act: np.ndarray,
    cum: np.ndarray,
    inv_hist: np.ndarray,
    h_all: np.ndarray,
    acc_life: np.ndarray,
    cp: Compact,
    grid: tuple[int, int],
    start_all: np.ndarray,
    on: tuple[np.ndarray, np.ndarray],
) -> ReplayOut:
    """The chunk's results; ``powered`` (S,T), ``acc_h`` (S,A,T), ``act`` (T,K,S)."""
    return ReplayOut(
        compute_h100e=powered,
        stage_activity=_by_category(act, cp.stage_sum).transpose(2, 1, 0),
        accelerator_h100e=acc_h,
        spend_usd=spend,
        funding_usd=fund,
        usable_money_usd=usable_money,
        cash_usd=cash_out,
        act_tks=act,
        cum_on=cum,
        inv_tcs=inv_hist,
        h_as=h_all,
        acc_life=acc_life,
        cells=(cp.pk, cp.rk),
        grid=grid,
        start_units=start_all,
        on=on,
    )


PROCESSES_FROM = 4  # chunks from which a pool of processes is worth its start


def _shared(shape: tuple[int, ...]) -> np.ndarray:
    """A zeroed float64 array in anonymous shared memory: what a forked worker writes in it,
    the parent reads (``mmap(-1, ...)`` maps MAP_SHARED | MAP_ANONYMOUS on Linux; where
    it is not shared, chunks run in this process or in threads, which share it anyway)."""
    import mmap

    n = int(np.prod(shape))
    buf = mmap.mmap(-1, max(n, 1) * 8)
    return np.frombuffer(buf, np.float64, count=n).reshape(shape)


def _run_chunks(one: Callable[[int], Any], starts: list[int], workers: int) -> Any:
    """``one(lo)`` of every chunk start, in order. With ``workers`` > 1: a pool of forked
    processes when there are enough chunks and the platform forks (the period loop's many
    numpy calls on (cells, samples) arrays hold the GIL too often for threads to use two
    cores), else a pool of threads (:func:`fab2flop.risk.forked.map_forked`)."""
    from .forked import map_forked

    yield from map_forked(one, starts, workers, min_items=PROCESSES_FROM, threads=True)


@dataclass
class ReplayResult:
    """Replay of a plan under ``samples`` futures (summaries; full arrays optional)."""

    dataset: xr.Dataset  # sample x period (and stage x period) results
    seconds: float
    notes: list[str]


def replay(
    net: Network,
    plan: Plan,
    samples: xr.Dataset | None,
    probe: Probe | None,
    events: list[SampledEvent],
    *,
    n: int | None = None,
    chunk: int = 512,
    progress: Callable[[int], None] | None = None,
    keep_activity: bool = False,
    workers: int = 2,
    dependence: bool = False,
    engine: str = "auto",
    dependence_samples: int | None = None,
) -> ReplayResult:
    """Simulate the fixed plan under every sample; chunks of ``chunk`` samples at a time,
    the period loop run by ``engine`` (:func:`engine_of`). With ``dependence``, the
    dependence figures (:func:`fab2flop.risk.spread.from_replay`) of every sample, or of the
    chunks holding the first ``dependence_samples`` (the others NaN): the attribution costs
    several times the replay itself, and its P5/P50/P95 need far fewer samples."""
    t0 = time.perf_counter()
    engine = engine_of(engine)
    st = structure(net)
    cp = compact(net, st)
    N = samples.sizes[SAMPLE] if samples is not None else int(n or 1)
    T = plan.activity.shape[-1]
    cats = cp.cats
    # the results, written by each chunk where it runs: in memory shared with the forked
    # workers (so only small things travel back; 100,000 samples hold ~380 MB of these)
    out = {
        k: _shared((N, T))
        for k in ("compute_h100e", "spend_usd", "funding_usd", "usable_money_usd", "cash_usd")
    }
    stage_out = _shared((N, len(cats), T))
    acc_h = _shared((N, plan.deployed.shape[0], T))
    acts = []
    deps: dict[str, np.ndarray] = {}
    # probe designs are built once, before chunks run side by side
    cells = (cp.pk, cp.rk)
    if probe is not None and probe.design is None and samples is not None:
        future_arrays(net, probe, samples, slice(0, 1), [], cells=cells)

    def one(lo: int) -> tuple[slice, dict[str, Any]]:
        sl = slice(lo, min(N, lo + chunk))
        m = sl.stop - sl.start
        fa = future_arrays(net, probe, samples, sl, events, n=m, cells=cells, unused=UNUSED)
        r = replay_chunk(net, plan, st, fa, cp, engine)
        out["compute_h100e"][sl] = r.compute_h100e
        out["spend_usd"][sl] = r.spend_usd
        out["funding_usd"][sl] = r.funding_usd
        out["usable_money_usd"][sl] = r.usable_money_usd
        out["cash_usd"][sl] = r.cash_usd
        stage_out[sl] = r.stage_activity
        acc_h[sl] = r.accelerator_h100e
        got: dict[str, Any] = {}
        if keep_activity:
            got["activity"] = r.activity
        if dependence and (dependence_samples is None or lo < dependence_samples):
            from .spread import from_replay

            got["deps"] = {k: v.astype(np.float32) for k, v in from_replay(net, cells, r).items()}
        return sl, got

    def keep(sl: slice, got: dict[str, Any]) -> None:
        if keep_activity:
            acts.append(got["activity"])
        for k, v in got.get("deps", {}).items():
            deps.setdefault(k, np.full((N, T), np.nan, np.float32))[sl] = v
        if progress is not None:
            progress(sl.stop - sl.start)

    starts = list(range(0, N, chunk))
    # one BLAS thread per chunk: the chunks are the parallel work (a multi-threaded BLAS
    # on small products spins its threads against the other chunk's, for nothing)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"):
        if engine == "numba" and workers > 1 and len(starts) > 1:
            warm(net, plan)  # compiled (or loaded) once here, before the workers fork
        for item in _run_chunks(one, starts, workers):
            keep(*item)
    cat_of = np.array([cats.index(str(c)) for c in net.ds["category"].values])
    plan_stage = np.array([plan.activity[cat_of == k].sum(axis=(0, 1)) for k in range(len(cats))])
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(plan_stage[None] > 0, stage_out / plan_stage[None], np.nan)
    ds = net.ds
    # coordinates as numpy arrays (a pandas Index makes xarray look for dask, an import)
    coords = {
        SAMPLE: np.arange(N),
        "period": np.asarray(ds.indexes["period"]),
        "year": ("period", ds["year"].values),
    }
    res = xr.Dataset(
        {
            "compute_h100e": ((SAMPLE, "period"), out["compute_h100e"], {"units": "H100e"}),
            "spend_usd": ((SAMPLE, "period"), out["spend_usd"], {"units": "USD"}),
            "funding_usd": ((SAMPLE, "period"), out["funding_usd"], {"units": "USD"}),
            "usable_money_usd": (
                (SAMPLE, "period"),
                out["usable_money_usd"],
                {"units": "USD", "description": "cash carried in plus money arriving"},
            ),
            "cash_usd": ((SAMPLE, "period"), out["cash_usd"], {"units": "USD"}),
            "stage_output_share": (
                (SAMPLE, "stage", "period"),
                share,
                {"units": "1", "description": "activity of the stage / the plan's"},
            ),
            "accelerator_h100e": ((SAMPLE, "accelerator", "period"), acc_h, {"units": "H100e"}),
            "plan_compute_h100e": (("period",), plan.compute_h100e, {"units": "H100e"}),
        },
        coords={
            **coords,
            "stage": np.asarray(cats),
            "accelerator": np.asarray(ds.indexes["accelerator"]),
        },
    )
    n_dep = N if dependence_samples is None else min(N, -(-dependence_samples // chunk) * chunk)
    for k, v in deps.items():
        res[f"dependence.{k}"] = (
            (SAMPLE, "period"),
            v,
            {"description": f"see risk/spread.py; samples 0-{n_dep - 1} (others NaN)"},
        )
    if deps:
        res.attrs["dependence_samples"] = n_dep
    if keep_activity:
        res["activity"] = ((SAMPLE, "process", "region", "period"), np.concatenate(acts))
        res = res.assign_coords(process=ds.indexes["process"], region=ds.indexes["region"])
    return ReplayResult(res, time.perf_counter() - t0, [])


def warm(net: Network, plan: Plan) -> None:
    """Compile (or load from numba's cache) the compiled loop here, with one nominal
    sample, unless it is already: forked chunk workers then inherit it instead of compiling
    it each (``setup`` calls it with a status line; ``replay`` before it forks)."""
    from .futures import future_arrays as fut
    from .kernel import periods

    if not periods.signatures:
        replay_chunk(net, plan, structure(net), fut(net, None, None, slice(0, 1), [], n=1))


# ------------------------------------------------------------------ from a scenario
@dataclass
class Setup:
    """Everything replay needs: the nominal network and plan, the samples and their probe."""

    net: Network
    results: Any  # the nominal plan's Results
    plan: Plan
    samples: xr.Dataset
    probe: Probe
    events: list[SampledEvent]
    seed: int
    notes: list[str] = field(default_factory=list)  # the resolver's (events dropped, clipped)


def resolve_for(scenario: Any, samples: int | None = None, seed: int | None = None) -> Any:
    """The scenario's uncertainty set (or the default), with ``samples``/``seed`` changed,
    checked against the catalog: every problem is a ScenarioError naming the field, raised
    before any work."""
    from ..catalog import load_catalog
    from .resolve import resolve_uncertainty
    from .uncertainty import default_uncertainty_data, validate_uncertainty

    unc = scenario.uncertainty
    data = unc.model_dump(exclude_none=True) if unc is not None else default_uncertainty_data()
    changes = {k: v for k, v in (("samples", samples), ("seed", seed)) if v is not None}
    unc = validate_uncertainty({**data, **changes})
    cat = load_catalog().with_overrides(scenario.catalog)
    return resolve_uncertainty(unc, cat, scenario.model_dump())


def setup(
    scenario: Any,
    samples: int | None = None,
    seed: int | None = None,
    status: Callable[[str], None] | None = None,
) -> Setup:
    """Check the uncertainty set, optimise the nominal plan, draw the samples, probe them."""
    from ..errors import Fab2FlopError
    from ..network import build_network
    from ..optimizer import optimize
    from .futures import probe_parameters, sampled_events
    from .sampling import sample_uncertainty

    say = status or (lambda _m: None)
    res_unc = resolve_for(scenario, samples, seed)
    say("optimising the nominal plan...")
    net = build_network(scenario)
    res = optimize(net)
    if not res.status.ok:
        raise Fab2FlopError(f"the nominal plan failed ({res.status.value}): {res.message}")
    plan = Plan.from_solution(res.dataset, net)
    say(f"drawing {res_unc.samples} futures and probing {len(res_unc.parameters)} parameters...")
    ds = sample_uncertainty(res_unc)
    probe = probe_parameters(net, ds)
    if engine_of("auto") == "numba":
        say("loading the compiled replay loop (compiled once after install: ~20 s)...")
        warm(net, plan)
    return Setup(net, res, plan, ds, probe, sampled_events(ds), res_unc.seed, res_unc.notes)


# ------------------------------------------------------------------ sensitivity on replay
HOURS_PER_YEAR = 8766.0


def output_of(name: str, ds: xr.Dataset, dt: float) -> np.ndarray:
    """One scalar output per sample: ``compute_YEAR`` [H100e at the end of YEAR],
    ``spend`` [USD over the horizon] or ``cost_per_h100e_hour`` [USD per H100e-hour
    delivered: spend over the horizon / Σ installed H100e × period hours]."""
    from .report import year_index

    if name.startswith("compute_"):
        return ds["compute_h100e"].values[:, year_index(ds, int(name.split("_", 1)[1]))]
    spend = ds["spend_usd"].values.sum(axis=1)
    if name == "spend":
        return spend
    if name == "cost_per_h100e_hour":
        hours = ds["compute_h100e"].values.sum(axis=1) * dt * HOURS_PER_YEAR
        return spend / np.maximum(hours, 1e-9)
    raise KeyError(name)


def replay_model(
    su: Setup, names: list[str], outputs: list[str], chunk: int = 1024
) -> Callable[[np.ndarray], np.ndarray]:
    """``f(X) -> Y``: replay with parameters ``names`` at the values of X's columns and every
    other parameter at nominal, no sampled event; Y has one column per output."""
    dt = float(su.net.ds.attrs["dt_years"])
    params = [
        n for n, v in su.samples.data_vars.items() if v.attrs.get("kind") in ("catalog", "scenario")
    ]

    def f(x: np.ndarray) -> np.ndarray:
        n = x.shape[0]
        data = {}
        for p in params:
            v = su.samples[p]
            col = x[:, names.index(p)] if p in names else np.full(n, float(v.attrs["nominal"]))
            data[p] = xr.Variable(SAMPLE, col, v.attrs)
        ds = xr.Dataset(data, coords={SAMPLE: np.arange(n)}, attrs={"events": "[]"})
        out = replay(su.net, su.plan, ds, su.probe, [], chunk=chunk).dataset
        return np.column_stack([output_of(o, out, dt) for o in outputs])

    return f
