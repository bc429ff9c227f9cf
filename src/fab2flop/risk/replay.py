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

Everything is vectorised over a leading sample axis; samples are processed in chunks.
Build inputs (e.g. power-build slots) are sunk with the fixed builds and not re-checked.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from .. import dynamics as dyn
from ..constants import H100_FLOPS_BF16_DENSE, SAMPLE
from ..network import Network
from .futures import FutureArrays, Probe, SampledEvent, future_arrays

TOL = 1e-9


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


@dataclass
class Capacities:
    """Capacity standing, usable capacity and committed spend of a chunk."""

    capacity: np.ndarray  # (S,P,R,T)
    usable: np.ndarray  # (S,P,R,T)
    committed_usd: np.ndarray  # (S,T) capex of the fixed builds + fixed O&M


def capacities(net: Network, plan: Plan, st: Structure, fa: FutureArrays) -> Capacities:
    """Capacity from the fixed builds (re-timed by delays, less destruction), with the
    shared dynamics; capacity and capex are linear in the openings, so the nominal timing
    is computed once and only re-timed cells per sample."""
    ds, arr = net.ds, fa.arrays
    S = fa.n
    life = ds["life_periods"].values[:, None]
    ramp = ds["ramp_periods"].values[:, None]
    ol0 = ds["open_lead_periods"].values
    d = arr["destroyed_fraction"] if arr["destroyed_fraction"].any() else None
    capex = arr["capex_usd_per_unit"]
    moved = None
    if fa.extra_start is not None and fa.extra_start.any():
        pi, ri = np.nonzero(fa.extra_start.any(axis=(0, 3)))
        new_c, ol_c = retime(
            plan.new[pi, ri], ds["lead_periods"].values[pi], ol0[pi, ri], fa.extra_start[:, pi, ri]
        )
        moved = (pi, ri, new_c, ol_c)
    if d is None:  # linear in the openings: nominal once, re-timed cells per sample
        built = np.broadcast_to(dyn.capacity_stock(plan.new, 0.0, life), (S, *plan.new.shape))
        unripe = np.broadcast_to(dyn.ramp_unripe(plan.new, ramp, life), built.shape)
        if moved is not None:
            pi, ri, new_c, _ = moved
            dn = new_c - plan.new[pi, ri]
            built, unripe = built.copy(), unripe.copy()
            built[:, pi, ri] += dyn.capacity_stock(dn, 0.0, life[pi, 0])
            unripe[:, pi, ri] += dyn.ramp_unripe(dn, ramp[pi, 0], life[pi, 0])
    else:
        new = np.broadcast_to(plan.new, (S, *plan.new.shape)).copy()
        if moved is not None:
            new[:, moved[0], moved[1]] = moved[2]
        built = dyn.capacity_stock(new, 0.0, life, d)
        unripe = dyn.ramp_unripe(new, ramp, life, d)
    capacity = built + arr["existing"]
    usable = arr["availability"] * (capacity - unripe)
    # capex of the fixed openings is linear in the prices: one matrix (T x P·R·T)
    cap_spend = capex_matrix(plan.new, ol0, moved) @ capex.reshape(S, -1).T
    cap_spend = cap_spend.T
    if moved is not None:
        pi, ri, new_c, ol_c = moved
        cap_spend += dyn.capex_schedule(new_c * capex[:, pi, ri], 1.0, ol_c).sum(axis=1)
    own = ds["exists"].values & st.buildable[:, None]
    rate = arr["fixed_om_usd_per_unit_year"][:, :, None]
    fixed = (rate * np.where(own[None, ..., None], capacity, 0.0).sum(axis=2)).sum(axis=1) * st.dt
    return Capacities(capacity, usable, cap_spend + fixed)


# ------------------------------------------------------------------ the dispatch
def _fill(ask: np.ndarray, cap: np.ndarray, G: np.ndarray, glob_out: np.ndarray) -> np.ndarray:
    """Targets (S,P,R): each producer's ask within its capacity, and the shortfall of each
    carrier passed to its other producers with room (worldwide carriers across regions,
    regional ones within the region); room without limit takes it in proportion to asks."""
    give = np.minimum(ask, cap)
    short_pr = ask - give  # (S,P,R)
    room = cap - give
    inf = ~np.isfinite(room)
    out = give.copy()
    for c in np.flatnonzero(G.any(axis=0)):
        ps = np.flatnonzero(G[:, c])
        axes = (1, 2) if glob_out[c] else (1,)
        short = short_pr[:, ps].sum(axis=axes, keepdims=True)
        if not (short > TOL).any():
            continue
        r = room[:, ps]
        unl = inf[:, ps]
        fin_room = np.where(unl, 0.0, r)
        n_unl = unl.sum(axis=axes, keepdims=True)
        w_unl = np.where(unl, np.maximum(ask[:, ps], TOL), 0.0)
        w_unl = w_unl / np.maximum(w_unl.sum(axis=axes, keepdims=True), TOL)
        tot = fin_room.sum(axis=axes, keepdims=True)
        share = np.minimum(1.0, short / np.maximum(tot, TOL))
        extra = np.where(n_unl > 0, w_unl * short, fin_room * share)
        out[:, ps] += np.where(short > TOL, extra, 0.0)
    return out


@dataclass
class ReplayOut:
    """Per-sample results of one chunk (natural units)."""

    compute_h100e: np.ndarray  # (S,T)
    activity: np.ndarray  # (S,P,R,T)
    deployed: np.ndarray  # (S,A,R,T)
    installed: np.ndarray  # (S,A,R,T)
    spend_usd: np.ndarray  # (S,T)
    funding_usd: np.ndarray  # (S,T)
    usable_money_usd: np.ndarray  # (S,T) cash carried in + money arriving
    cash_usd: np.ndarray  # (S,T) carried out (negative: committed spend above the money)


def replay_chunk(net: Network, plan: Plan, st: Structure, fa: FutureArrays) -> ReplayOut:
    """Simulate the plan under the futures of one chunk, vectorised over samples."""
    ds = net.ds
    arr = fa.arrays
    S = fa.n
    P, R, T = plan.activity.shape
    A = plan.deployed.shape[0]
    C = st.io.shape[1]
    dt = st.dt
    caps = capacities(net, plan, st, fa)
    avail = arr["availability"]
    existing = arr["existing"]
    exists = ds["exists"].values[:, :, None] & ds["active"].values[:, None, :]
    allowed = exists[None] & (avail > 0)
    cap = np.where(st.buildable[None, :, None, None], caps.usable, avail * existing)
    cap = np.where(st.unlimited[None, :, None, None], np.inf, cap)
    cap = np.where(allowed, np.maximum(cap, 0.0), 0.0)
    committed = caps.committed_usd

    G = np.zeros((P, C), bool)
    G[np.arange(P), st.out] = True
    glob_out = st.glob
    b = net.scenario.budget
    growth = (1.0 + b.cash_interest_rate) ** dt
    draw = arr["fleet_draw"]  # (S,A,C)
    dc = ds["datacenter_region"].values
    acc_life = ds["acc_life_periods"].values
    var_cost = arr["var_cost_usd_per_unit"]
    dep_cost = arr["acc_deploy_cost_usd"]  # (S,A,T)
    dcap = arr["deploy_cap_units_per_year"] * dt  # (S,R,T)
    fund = arr["funding_usd"]

    inv = np.zeros((S, C))
    backlog = np.zeros((S, A))
    act = np.zeros((S, P, R, T))
    dep = np.zeros((S, A, R, T))
    spend = np.zeros((S, T))
    usable_money = np.zeros((S, T))
    cash_out = np.zeros((S, T))
    cash = np.zeros(S)
    draw_c = np.flatnonzero(draw.reshape(-1, C).any(axis=0))
    for t in range(T):
        target = _fill(np.broadcast_to(plan.activity[:, :, t], (S, P, R)), cap[..., t], G, glob_out)
        a_t, made, used = _run_chain(target, st, inv, S, R, C)
        # deployment
        avail_acc = inv[:, st.acc_c] + made[:, st.acc_c].sum(axis=2) - used[:, st.acc_c].sum(2)
        alive = np.zeros((S, A, R))
        for a in range(A):
            lo = max(0, t - int(acc_life[a]) + 1)
            alive[:, a] = dep[:, a, :, lo:t].sum(axis=-1)
        mw_free = np.stack([made[:, c] - used[:, c] for c in draw_c], 1) if len(draw_c) else None
        dep_t = _deploy(
            plan.deployed[:, :, t],
            backlog,
            avail_acc,
            alive,
            draw[:, :, draw_c],
            mw_free,
            dcap[..., t],
            dc,
        )
        disc = (var_cost[..., t] * a_t * dt).sum(axis=(1, 2)) + (
            dep_cost[:, :, t, None] * dep_t
        ).sum(axis=(1, 2))
        # money: scale the period's operations down when the money does not reach
        money_in = (growth * cash if b.carry_over else 0.0) + fund[:, t]
        usable_money[:, t] = money_in
        k = np.ones(S)
        if b.enforce:
            room = money_in - committed[:, t]
            k = np.where(
                disc > room * (1 + 1e-9) + 1.0,
                np.clip(room / np.maximum(disc, 1e-30), 0.0, 1.0),
                1.0,
            )
        a_t *= k[:, None, None]
        dep_t *= k[:, None, None]
        made *= k[:, None, None]
        used *= k[:, None, None]
        spend[:, t] = committed[:, t] + k * disc
        cash = money_in - spend[:, t]
        cash_out[:, t] = cash
        act[..., t] = a_t
        dep[..., t] = dep_t
        # inventory of storable worldwide carriers; deployed accelerators leave theirs
        net_flow = made.sum(axis=2) - used.sum(axis=2)  # (S,C)
        out_acc = np.zeros((S, C))
        np.add.at(out_acc, (slice(None), st.acc_c), dep_t.sum(axis=2))  # type: ignore[arg-type]
        inv = np.where(st.storable[None], np.maximum(inv + net_flow - out_acc, 0.0), 0.0)
        asked = plan.deployed[:, :, t].sum(axis=1)[None] + backlog
        backlog = np.maximum(asked - dep_t.sum(axis=2), 0.0)
    installed = dyn.fleet_stock(dep, acc_life[None, :, None])
    h = arr["flops_bf16_dense"] / H100_FLOPS_BF16_DENSE  # (S,A)
    # the fleet runs where MW of IT hold it (all of it unless supply fell below the draw)
    mw_have = (
        np.stack([(act * st.io[:, c][None, :, None, None]).clip(0).sum(1) for c in draw_c], 1)
        if len(draw_c)
        else None
    )
    powered = np.ones((S, R, T))
    if mw_have is not None:
        need = np.einsum("sarx,sac->scrx", installed, draw[:, :, draw_c])
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(need > TOL, np.minimum(1.0, mw_have / need), 1.0)
        powered = frac.min(axis=1)
    compute = (installed * h[:, :, None, None] * powered[:, None]).sum(axis=(1, 2))
    return ReplayOut(compute, act, dep, installed, spend, fund, usable_money, cash_out)


def _run_chain(
    target: np.ndarray, st: Structure, inv: np.ndarray, S: int, R: int, C: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One period through the chain in stage order: activity (S,P,R), carriers made and used
    (S,C,R) [per period amounts for quantities, rates for rate carriers]."""
    P = target.shape[1]
    a = np.zeros((S, P, R))
    made = np.zeros((S, C, R))
    used = np.zeros((S, C, R))
    ratio: dict[int, np.ndarray] = {}
    need_unit = -np.minimum(st.io, 0.0) * st.per_period[None, :]  # (P,C) per unit activity
    for p in st.order:
        r_p = np.ones((S, R))
        for c in st.inputs[p]:
            if c not in ratio:
                cons = need_unit[:, c] > 0
                ask = (target[:, cons] * need_unit[cons, c][None, :, None]).sum(axis=1)  # (S,R)
                have = made[:, c]
                if st.glob[c]:
                    ask = ask.sum(axis=1, keepdims=True)
                    have = have.sum(axis=1, keepdims=True) + inv[:, c, None]
                with np.errstate(divide="ignore", invalid="ignore"):
                    ratio[c] = np.where(ask > TOL, np.minimum(1.0, have / ask), 1.0)
            r_p = np.minimum(r_p, ratio[c])
        a[:, p] = target[:, p] * r_p
        made[:, st.out[p]] += a[:, p] * st.io[p, st.out[p]] * st.per_period[st.out[p]]
        for c in st.inputs[p]:
            used[:, c] += a[:, p] * need_unit[p, c]
    return a, made, used


def _deploy(
    plan_dep: np.ndarray,
    backlog: np.ndarray,
    avail_acc: np.ndarray,
    alive: np.ndarray,
    draw: np.ndarray,
    mw_free: np.ndarray | None,
    cap: np.ndarray,
    dc: np.ndarray,
) -> np.ndarray:
    """Accelerators (S,A,R) deployed in a period: the plan's deployments plus the backlog
    (spread like the plan's, over regions), within the accelerators on hand, the free MW
    of IT of each region and its export approvals; what a region cannot take goes to
    regions with room."""
    S, A, R = alive.shape
    split = plan_dep / np.maximum(plan_dep.sum(axis=1, keepdims=True), TOL)
    split = np.where(plan_dep.sum(axis=1, keepdims=True) > TOL, split, dc / max(dc.sum(), 1))
    ask = plan_dep[None] + backlog[:, :, None] * split[None]
    tot = ask.sum(axis=2)
    ask = (
        ask * np.where(tot > TOL, np.minimum(1.0, avail_acc / np.maximum(tot, TOL)), 1.0)[..., None]
    )
    free = None
    if mw_free is not None:
        # free MW of IT: made minus what the installed fleet draws (S,K,R)
        free = np.maximum(mw_free - np.einsum("sar,sak->skr", alive, draw), 0.0)
    dep = _fit(ask, draw, free, cap)
    left = ask.sum(axis=2) - dep.sum(axis=2)  # (S,A) asked but not placed
    if (left > TOL).any():
        free2 = None if free is None else np.maximum(free - np.einsum("sar,sak->skr", dep, draw), 0)
        cap2 = np.maximum(cap - dep.sum(axis=1), 0.0)
        room = np.where(dc[None], np.minimum(cap2, 1e30), 0.0)  # (S,R)
        if free2 is not None:
            per_unit = np.maximum(draw.max(axis=2), TOL)  # (S,A)
            room = np.minimum(room, free2.min(axis=1) / per_unit.max(axis=1, keepdims=True))
        w = room / np.maximum(room.sum(axis=1, keepdims=True), TOL)
        dep = dep + _fit(left[:, :, None] * w[:, None, :], draw, free2, cap2)
    return dep


def _fit(ask: np.ndarray, draw: np.ndarray, free: np.ndarray | None, cap: np.ndarray) -> np.ndarray:
    """Scale each region's asks (S,A,R) into its free MW (S,K,R) and approvals (S,R)."""
    k = np.ones(cap.shape)
    if free is not None:
        need = np.einsum("sar,sak->skr", ask, draw)
        with np.errstate(divide="ignore", invalid="ignore"):
            k = np.where(need > TOL, np.minimum(1.0, free / need), 1.0).min(axis=1)
    n = ask.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        kc = np.where(n > TOL, np.minimum(1.0, cap / n), 1.0)
    return ask * np.minimum(k, kc)[:, None, :]


# ------------------------------------------------------------------ driver
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
    chunk: int = 2048,
    progress: Callable[[int], None] | None = None,
    keep_activity: bool = False,
    workers: int = 2,
) -> ReplayResult:
    """Simulate the fixed plan under every sample; chunks of ``chunk`` samples at a time."""
    t0 = time.perf_counter()
    st = structure(net)
    N = samples.sizes[SAMPLE] if samples is not None else int(n or 1)
    T = plan.activity.shape[-1]
    cats = list(dict.fromkeys(str(c) for c in net.ds["category"].values))
    cat_of = np.array([cats.index(str(c)) for c in net.ds["category"].values])
    out = {
        k: np.zeros((N, T))
        for k in ("compute_h100e", "spend_usd", "funding_usd", "usable_money_usd", "cash_usd")
    }
    stage_out = np.zeros((N, len(cats), T))
    acc_h = np.zeros((N, plan.deployed.shape[0], T))
    acts = []
    # probe designs are built once, before chunks run side by side
    if probe is not None and probe.design is None and samples is not None:
        future_arrays(net, probe, samples, slice(0, 1), [])

    def one(lo: int) -> tuple[slice, ReplayOut, FutureArrays]:
        sl = slice(lo, min(N, lo + chunk))
        fa = future_arrays(net, probe, samples, sl, events, n=sl.stop - sl.start)
        return sl, replay_chunk(net, plan, st, fa), fa

    def keep(sl: slice, r: ReplayOut, fa: FutureArrays) -> None:
        out["compute_h100e"][sl] = r.compute_h100e
        out["spend_usd"][sl] = r.spend_usd
        out["funding_usd"][sl] = r.funding_usd
        out["usable_money_usd"][sl] = r.usable_money_usd
        out["cash_usd"][sl] = r.cash_usd
        # output of each stage, as a share of the plan's (1 = as planned)
        for k in range(len(cats)):
            stage_out[sl, k] = r.activity[:, cat_of == k].sum(axis=(1, 2))
        h = fa.arrays["flops_bf16_dense"] / H100_FLOPS_BF16_DENSE
        acc_h[sl] = (r.installed * h[:, :, None, None]).sum(axis=2)
        if keep_activity:
            acts.append(r.activity)
        if progress is not None:
            progress(sl.stop - sl.start)

    starts = list(range(0, N, chunk))
    if workers > 1 and len(starts) > 1:
        # numpy releases the GIL in its array loops: chunks run on several cores
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers) as pool:
            for item in pool.map(one, starts):
                keep(*item)
    else:
        for lo in starts:
            keep(*one(lo))
    plan_stage = np.array([plan.activity[cat_of == k].sum(axis=(0, 1)) for k in range(len(cats))])
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(plan_stage[None] > 0, stage_out / plan_stage[None], np.nan)
    ds = net.ds
    coords = {
        SAMPLE: np.arange(N),
        "period": ds.indexes["period"],
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
        coords={**coords, "stage": cats, "accelerator": ds.indexes["accelerator"]},
    )
    if keep_activity:
        res["activity"] = ((SAMPLE, "process", "region", "period"), np.concatenate(acts))
        res = res.assign_coords(process=ds.indexes["process"], region=ds.indexes["region"])
    return ReplayResult(res, time.perf_counter() - t0, [])


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
    su: Setup, names: list[str], outputs: list[str], chunk: int = 2048
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
