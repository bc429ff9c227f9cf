"""The replay's period loop compiled (numba): a block of samples at a time, every period in
order, the samples innermost.

:func:`fab2flop.risk.replay.replay_chunk` prepares a chunk's arrays with numpy (capacities
from the shared dynamics, the sampled arrays of the futures) and hands the cells' limits
(:func:`limits`) and the period loop (:func:`periods`) to the compiled functions here when
numba imports (:func:`available`); otherwise the numpy steps of ``replay.py`` run, which are
the reference: both follow the same steps in the same order (re-dispatch to producers with
room, the chain stage by stage with scarce inputs rationed, deployment into free MW of IT
and export approvals, money, the fleet powered, inventory), and
``tests/risk/test_replay_kernel.py`` holds them equal on sampled futures with events.

Why compiled: the numpy loop makes ~250 calls a period on (cells, samples) arrays of a few
hundred KB each, so 100,000 samples cost ~17 CPU s in it; a sample's period is a few
thousand scalar operations. Here a block of :data:`BLOCK` samples keeps its state (a few
hundred KB) in cache and each operation runs over the block's samples in one inner loop,
which the compiler vectorises. Samples are independent, so a sample's result does not
depend on the block or the chunk it is in.

The compiled functions are cached on disk (numba ``cache=True``, next to this file or in
the user's cache directory when that is not writable): the first call after installing
compiles them (15-20 s on the 2-core machine), later processes load them (~0.5 s);
:func:`fab2flop.risk.replay.warm` does it before chunks fork. Every array is passed
C-ordered and writeable (:func:`_f`, :func:`_i`), so one compiled specialisation serves all.
"""

from __future__ import annotations

from typing import Any

import numpy as np

TOL = 1e-9  # as replay.TOL

try:  # numba is a dependency; the numpy loop stands in where it cannot be imported
    from numba import njit

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised only where numba is missing
    HAVE_NUMBA = False

    def njit(*_a: Any, **_k: Any) -> Any:
        return lambda f: f


def available() -> bool:
    """Whether the compiled period loop can run here."""
    return HAVE_NUMBA


BLOCK = (
    32  # samples a block works on together (inner loops run over them; 32 measured best of 16-128)
)


@njit(cache=True, nogil=True)
def _fill(t, s0, nb, plan_act, cap, gperm, gstart, give, v):  # type: ignore[no-untyped-def]
    """Targets (K, block) of period t: each producer's ask within its capacity, the
    shortfall of each group passed to its other producers with room (replay._fill)."""
    K = plan_act.shape[0]
    sh, n_unl, sw, tot = v[0], v[1], v[2], v[3]
    for k in range(K):
        pa = plan_act[k, t]
        for j in range(nb):
            give[k, j] = min(pa, cap[s0 + j, k, t])
    for g in range(gstart.shape[0] - 1):
        lo, hi = gstart[g], gstart[g + 1]
        for j in range(nb):
            sh[j] = 0.0
        for i in range(lo, hi):
            k = gperm[i]
            pa = plan_act[k, t]
            for j in range(nb):
                sh[j] += pa - give[k, j]
        hit = False
        for j in range(nb):
            hit = hit or sh[j] > TOL
        if not hit:
            continue
        for j in range(nb):
            n_unl[j] = 0.0
            sw[j] = 0.0
            tot[j] = 0.0
        for i in range(lo, hi):
            k = gperm[i]
            pa = plan_act[k, t]
            for j in range(nb):
                room = cap[s0 + j, k, t] - give[k, j]
                if np.isinf(room):
                    n_unl[j] += 1.0
                    sw[j] += max(pa, TOL)
                else:
                    tot[j] += room
        for i in range(lo, hi):
            k = gperm[i]
            pa = plan_act[k, t]
            for j in range(nb):
                if sh[j] > TOL:
                    room = cap[s0 + j, k, t] - give[k, j]
                    if n_unl[j] > 0:
                        w = max(pa, TOL) / max(sw[j], TOL) if np.isinf(room) else 0.0
                        extra = w * sh[j]
                    else:
                        extra = room * min(1.0, sh[j] / max(tot[j], TOL))
                    give[k, j] = give[k, j] + extra


@njit(cache=True, nogil=True)
def _rows_add(dst, tmp, rows, lo, hi, nb):  # type: ignore[no-untyped-def]
    for i in range(lo, hi):
        row = rows[i]
        for j in range(nb):
            dst[row, j] += tmp[row, j]


@njit(cache=True, nogil=True)
def _rows_zero(tmp, rows, lo, hi, nb):  # type: ignore[no-untyped-def]
    for i in range(lo, hi):
        row = rows[i]
        for j in range(nb):
            tmp[row, j] = 0.0


@njit(cache=True, nogil=True)
def _chain(s0, nb, target, inv, R, ch, fx, ratio, bufs, a, v):  # type: ignore[no-untyped-def]
    """One period through the chain for a block of samples (replay._run_chain): activity
    ``a`` (K, block), carriers made and used (C·R, block)."""
    (need_ptr, need_row, need_val, make_row, make_val, stage_lo, stage_hi, rg_ptr, rg_c,
     rr_ptr, rr_c, in_rows, in_n, mk_ptr, mk_rows, nd_ptr, nd_rows, _za, _zm) = ch  # fmt: skip
    (fx_k, fx_row, fx_dneed, fx_dmake, fx_hit, fx_perm, fx_sptr, fx_srow_ptr, fx_srows, z_ask,
     z_mu) = fx  # fmt: skip
    ask, made, used, tmp = bufs
    ag, hg, m = v[0], v[1], v[2]
    K = target.shape[0]
    # only rows some cell writes are cleared: the others stay 0 from the start
    for i in range(z_ask.shape[0]):
        row = z_ask[i]
        for j in range(nb):
            ask[row, j] = 0.0
    for i in range(z_mu.shape[0]):
        row = z_mu[i]
        for j in range(nb):
            made[row, j] = 0.0
            used[row, j] = 0.0
    for k in range(K):
        for q in range(need_ptr[k], need_ptr[k + 1]):
            row, val = need_row[q], need_val[q]
            for j in range(nb):
                ask[row, j] += val * target[k, j]
    E = fx_k.shape[0]
    if E:
        _rows_zero(tmp, fx_hit, 0, fx_hit.shape[0], nb)
        for e in range(E):
            row, k = fx_row[e], fx_k[e]
            for j in range(nb):
                tmp[row, j] += fx_dneed[e, s0 + j] * target[k, j]
        _rows_add(ask, tmp, fx_hit, 0, fx_hit.shape[0], nb)
    for st in range(stage_lo.shape[0]):
        for i in range(rg_ptr[st], rg_ptr[st + 1]):  # worldwide carriers rationed here
            c = rg_c[i]
            for j in range(nb):
                ag[j] = 0.0
                hg[j] = 0.0
            for r in range(R):
                for j in range(nb):
                    ag[j] += ask[c * R + r, j]
            for r in range(R):
                for j in range(nb):
                    hg[j] += made[c * R + r, j]
            for j in range(nb):
                hg[j] += inv[c, j]
                ag[j] = min(1.0, hg[j] / ag[j]) if ag[j] > TOL else 1.0
            for r in range(R):
                for j in range(nb):
                    ratio[c * R + r, j] = ag[j]
        for i in range(rr_ptr[st], rr_ptr[st + 1]):  # regional carriers
            c = rr_c[i]
            for r in range(R):
                row = c * R + r
                for j in range(nb):
                    ar = ask[row, j]
                    ratio[row, j] = min(1.0, made[row, j] / ar) if ar > TOL else 1.0
        for k in range(stage_lo[st], stage_hi[st]):
            if in_n[k]:
                for j in range(nb):
                    m[j] = 1.0
                for q in range(in_n[k]):
                    row = in_rows[k, q]
                    for j in range(nb):
                        m[j] = min(m[j], ratio[row, j])
                for j in range(nb):
                    a[k, j] = target[k, j] * m[j]
            else:
                for j in range(nb):
                    a[k, j] = target[k, j]
        # made and used: the stage's sums per row, then added (as the numpy loop does)
        _rows_zero(tmp, mk_rows, mk_ptr[st], mk_ptr[st + 1], nb)
        for k in range(stage_lo[st], stage_hi[st]):
            row, val = make_row[k], make_val[k]
            for j in range(nb):
                tmp[row, j] += val * a[k, j]
        _rows_add(made, tmp, mk_rows, mk_ptr[st], mk_ptr[st + 1], nb)
        _rows_zero(tmp, nd_rows, nd_ptr[st], nd_ptr[st + 1], nb)
        for k in range(stage_lo[st], stage_hi[st]):
            for q in range(need_ptr[k], need_ptr[k + 1]):
                row, val = need_row[q], need_val[q]
                for j in range(nb):
                    tmp[row, j] += val * a[k, j]
        _rows_add(used, tmp, nd_rows, nd_ptr[st], nd_ptr[st + 1], nb)
        if E and fx_sptr[st + 1] > fx_sptr[st]:  # sampled io entries of this stage's cells
            for dst in range(2):
                d = fx_dneed if dst == 0 else fx_dmake
                _rows_zero(tmp, fx_srows, fx_srow_ptr[st], fx_srow_ptr[st + 1], nb)
                for q in range(fx_sptr[st], fx_sptr[st + 1]):
                    e = fx_perm[q]
                    row, k = fx_row[e], fx_k[e]
                    for j in range(nb):
                        tmp[row, j] += d[e, s0 + j] * a[k, j]
                _rows_add(
                    used if dst == 0 else made, tmp, fx_srows, fx_srow_ptr[st],
                    fx_srow_ptr[st + 1], nb,
                )  # fmt: skip


@njit(cache=True, nogil=True)
def _draw_of(s0, nb, x, draw, out):  # type: ignore[no-untyped-def]
    """MW of IT (Kd,R',block) drawn by accelerators ``x`` (A',R',block)."""
    Ao, Ro = x.shape[0], x.shape[1]
    for kd in range(out.shape[0]):
        for r in range(Ro):
            for j in range(nb):
                out[kd, r, j] = 0.0
            for a in range(Ao):
                for j in range(nb):
                    out[kd, r, j] += x[a, r, j] * draw[s0 + j, a, kd]


@njit(cache=True, nogil=True)
def _fit(s0, nb, ask, draw, free, cap, out, need, k, n):  # type: ignore[no-untyped-def]
    """Scale each region's asks (A',R',block) into its free MW (Kd,R',block) and
    approvals (R',block)."""
    Ao, Ro = ask.shape[0], ask.shape[1]
    Kd = free.shape[0]
    _draw_of(s0, nb, ask, draw, need)
    for r in range(Ro):
        for j in range(nb):
            k[j] = 1.0
            n[j] = 0.0
        for kd in range(Kd):
            for j in range(nb):
                nd = need[kd, r, j]
                k[j] = min(k[j], min(1.0, free[kd, r, j] / nd) if nd > TOL else 1.0)
        for a in range(Ao):
            for j in range(nb):
                n[j] += ask[a, r, j]
        for j in range(nb):
            kc = min(1.0, cap[r, j] / n[j]) if n[j] > TOL else 1.0
            k[j] = min(k[j], kc)
        for a in range(Ao):
            for j in range(nb):
                out[a, r, j] = ask[a, r, j] * k[j]


@njit(cache=True, nogil=True)
def _deploy(s0, nb, t, dp, backlog, avail_acc, alive, mw_free, dcap_t, w, v):  # type: ignore[no-untyped-def]
    """Accelerators (A',R',block) deployed in period t (replay._deploy); into ``w[0]``."""
    pdep, draw, dc_on, per_unit = dp
    dep, askd, free, free2, cap2, room, left, extra, need = w
    Ao, Ro = alive.shape[0], alive.shape[1]
    Kd = mw_free.shape[0]
    tot, f, kk, n = v[0], v[1], v[2], v[3]
    _draw_of(s0, nb, alive, draw, need)
    for kd in range(Kd):
        for r in range(Ro):
            for j in range(nb):
                free[kd, r, j] = max(mw_free[kd, r, j] - need[kd, r, j], 0.0)
    ndc = 0.0
    for r in range(Ro):
        ndc += 1.0 if dc_on[r] else 0.0
    for a in range(Ao):
        tp = 0.0
        for r in range(Ro):
            tp += pdep[a, r, t]
        for j in range(nb):
            tot[j] = 0.0
        for r in range(Ro):
            if tp > TOL:
                split = pdep[a, r, t] / max(tp, TOL)
            else:
                split = (1.0 if dc_on[r] else 0.0) / max(ndc, 1.0)
            for j in range(nb):
                askd[a, r, j] = pdep[a, r, t] + backlog[a, j] * split
                tot[j] += askd[a, r, j]
        for j in range(nb):
            f[j] = min(1.0, avail_acc[a, j] / max(tot[j], TOL)) if tot[j] > TOL else 1.0
        for r in range(Ro):
            for j in range(nb):
                askd[a, r, j] *= f[j]
    _fit(s0, nb, askd, draw, free, dcap_t, dep, need, kk, n)
    spill = False
    for a in range(Ao):
        for j in range(nb):
            tot[j] = 0.0
            f[j] = 0.0
        for r in range(Ro):
            for j in range(nb):
                tot[j] += askd[a, r, j]
        for r in range(Ro):
            for j in range(nb):
                f[j] += dep[a, r, j]
        for j in range(nb):
            left[a, j] = tot[j] - f[j]
            spill = spill or left[a, j] > TOL
    if not spill:
        return
    # per sample: the samples without anything left over spill nothing
    for j in range(nb):
        sp = False
        for a in range(Ao):
            sp = sp or left[a, j] > TOL
        if not sp:
            for a in range(Ao):
                left[a, j] = 0.0
    _draw_of(s0, nb, dep, draw, need)
    for kd in range(Kd):
        for r in range(Ro):
            for j in range(nb):
                free2[kd, r, j] = max(free[kd, r, j] - need[kd, r, j], 0.0)
    for j in range(nb):
        tot[j] = 0.0
    for r in range(Ro):
        for j in range(nb):
            n[j] = 0.0
        for a in range(Ao):
            for j in range(nb):
                n[j] += dep[a, r, j]
        for j in range(nb):
            cap2[r, j] = max(dcap_t[r, j] - n[j], 0.0)
            room[r, j] = min(cap2[r, j], 1e30) if dc_on[r] else 0.0
        if Kd:
            for j in range(nb):
                mf = free2[0, r, j]
                for kd in range(1, Kd):
                    mf = min(mf, free2[kd, r, j])
                room[r, j] = min(room[r, j], mf / per_unit[s0 + j])
    for r in range(Ro):
        for j in range(nb):
            tot[j] += room[r, j]
    for a in range(Ao):
        for r in range(Ro):
            for j in range(nb):
                askd[a, r, j] = left[a, j] * (room[r, j] / max(tot[j], TOL))
    _fit(s0, nb, askd, draw, free2, cap2, extra, need, kk, n)
    for a in range(Ao):
        for r in range(Ro):
            for j in range(nb):
                dep[a, r, j] += extra[a, r, j]


@njit(cache=True, nogil=True)
def periods(cells, ch, fx, acc, money, out):  # type: ignore[no-untyped-def]
    """Every sample through every period (the numpy loop of replay.replay_chunk), a block
    of samples at a time (inner loops over the block's samples).

    ``cells``: cap (S,K,T) limits, plan_act (K,T), var_cost (S,K,T) [USD/unit-year], dt,
    gperm, gstart (re-dispatch groups). ``ch``: the chain (see :func:`_chain`). ``fx``: the
    sampled io entries. ``acc``: deployment and fleet arrays. ``money``: committed, fund
    (S,T), growth, carry_over, enforce. ``out``: act (T,K,S), cum (T+1,A',R',S) (zero),
    inv_hist (T,C,S), powered, spend, usable, cash_out (S,T), acc_h (S,A,T) (zero), written
    here."""
    cap, plan_act, var_cost, dt, gperm, gstart = cells
    (acc_c, pdep, start, draw, draw_c, r_on, dc_on, dcap, per_unit, life_on, dep_cost, h,
     a_on, mw_ptr, mw_col, mw_val, keep_c, acc_keep, acc_row, R) = acc  # fmt: skip
    committed, fund, growth, carry_over, enforce = money
    act, cum, inv_hist, powered, spend, usable, cash_out, acc_h = out
    S, K, T = cap.shape
    Ao, Ro = pdep.shape[0], pdep.shape[1]
    C = inv_hist.shape[1]
    CR = C * R
    Kd = draw_c.shape[0]
    nk = keep_c.shape[0]
    B = BLOCK
    target = np.empty((K, B))
    a = np.empty((K, B))
    bufs = (np.zeros((CR, B)), np.zeros((CR, B)), np.zeros((CR, B)), np.zeros((CR, B)))
    made, used = bufs[1], bufs[2]
    ratio = np.empty((CR + 1, B))
    inv = np.empty((C, B))
    flow = np.empty((nk, B))
    backlog = np.empty((Ao, B))
    avail_acc = np.empty((Ao, B))
    alive = np.empty((Ao, Ro, B))
    installed = np.empty((Ao, Ro, B))
    mw_free = np.empty((Kd, Ro, B))
    dcap_t = np.empty((Ro, B))
    frac = np.empty((Ro, B))
    v = np.empty((4, B))
    cash = np.empty(B)
    disc = np.empty(B)
    kk = np.empty(B)
    w = (
        np.empty((Ao, Ro, B)),  # dep
        np.empty((Ao, Ro, B)),  # asks
        np.empty((Kd, Ro, B)),  # free
        np.empty((Kd, Ro, B)),  # free after the first fit
        np.empty((Ro, B)),  # approvals left
        np.empty((Ro, B)),  # room
        np.empty((Ao, B)),  # left over
        np.empty((Ao, Ro, B)),  # spilled
        np.empty((Kd, Ro, B)),  # MW drawn
    )
    dep = w[0]
    dp = (pdep, draw, dc_on, per_unit)
    for s0 in range(0, S, B):
        nb = min(B, S - s0)
        ratio[:] = 1.0
        inv[:] = 0.0
        backlog[:] = 0.0
        cash[:] = 0.0
        for t in range(T):
            _fill(t, s0, nb, plan_act, cap, gperm, gstart, target, v)
            _chain(s0, nb, target, inv, R, ch, fx, ratio, bufs, a, v)
            for i in range(Ao):
                c = acc_c[i]
                for j in range(nb):
                    avail_acc[i, j] = 0.0
                for r in range(R):
                    for j in range(nb):
                        avail_acc[i, j] += made[c * R + r, j] - used[c * R + r, j]
                for j in range(nb):
                    avail_acc[i, j] = inv[c, j] + avail_acc[i, j]
                for j in range(nb):
                    lo = max(0, t - life_on[i, s0 + j] + 1)
                    for r in range(Ro):
                        alive[i, r, j] = cum[t, i, r, s0 + j] - cum[lo, i, r, s0 + j]
                for r in range(Ro):
                    st_ = start[i, r, t]
                    for j in range(nb):
                        alive[i, r, j] += st_
            for kd in range(Kd):
                for r in range(Ro):
                    row = draw_c[kd] * R + r_on[r]
                    for j in range(nb):
                        mw_free[kd, r, j] = made[row, j] - used[row, j]
            for r in range(Ro):
                for j in range(nb):
                    dcap_t[r, j] = dcap[s0 + j, r_on[r], t] * dt
            _deploy(s0, nb, t, dp, backlog, avail_acc, alive, mw_free, dcap_t, w, v)
            for j in range(nb):
                disc[j] = 0.0
                kk[j] = 0.0
            for k in range(K):
                for j in range(nb):
                    disc[j] += var_cost[s0 + j, k, t] * dt * a[k, j]
            for i in range(Ao):
                ai = a_on[i]
                for r in range(Ro):
                    for j in range(nb):
                        kk[j] += dep_cost[s0 + j, ai, t] * dep[i, r, j]
            scale = False
            for j in range(nb):
                s = s0 + j
                disc[j] += kk[j]
                money_in = (growth * cash[j] if carry_over else 0.0) + fund[s, t]
                usable[s, t] = money_in
                kk[j] = 1.0
                if enforce:
                    room = money_in - committed[s, t]
                    if disc[j] > room * (1 + 1e-9) + 1.0:
                        kk[j] = min(max(room / max(disc[j], 1e-30), 0.0), 1.0)
                    disc[j] = disc[j] * kk[j]
                    scale = scale or kk[j] < 1.0
                spend[s, t] = committed[s, t] + disc[j]
                cash[j] = money_in - spend[s, t]
                cash_out[s, t] = cash[j]
            if scale:  # the period's operations scaled down where money does not reach
                for k in range(K):
                    for j in range(nb):
                        a[k, j] *= kk[j]
                for i in range(Ao):
                    for r in range(Ro):
                        for j in range(nb):
                            dep[i, r, j] *= kk[j]
                z_mu = fx[10]
                for q in range(z_mu.shape[0]):
                    row = z_mu[q]
                    for j in range(nb):
                        made[row, j] *= kk[j]
                        used[row, j] *= kk[j]
            for k in range(K):
                for j in range(nb):
                    act[t, k, s0 + j] = a[k, j]
            for i in range(Ao):
                for r in range(Ro):
                    for j in range(nb):
                        cum[t + 1, i, r, s0 + j] = cum[t, i, r, s0 + j] + dep[i, r, j]
                        installed[i, r, j] = alive[i, r, j] + dep[i, r, j]
            # the fleet runs where MW of IT hold it
            frac[:] = 1.0
            if Kd:
                need = w[8]
                _draw_of(s0, nb, installed, draw, need)
                for kd in range(Kd):
                    for r in range(Ro):
                        row = kd * Ro + r
                        for j in range(nb):
                            v[0, j] = 0.0
                        for q in range(mw_ptr[row], mw_ptr[row + 1]):
                            col, val = mw_col[q], mw_val[q]
                            for j in range(nb):
                                v[0, j] += val * a[col, j]
                        for j in range(nb):
                            nd = need[kd, r, j]
                            x = min(1.0, v[0, j] / nd) if nd > TOL else 1.0
                            frac[r, j] = min(frac[r, j], x)
            for j in range(nb):
                v[0, j] = 0.0
            for i in range(Ao):
                for j in range(nb):
                    v[1, j] = 0.0
                for r in range(Ro):
                    for j in range(nb):
                        hs = h[i, s0 + j]
                        v[0, j] += installed[i, r, j] * frac[r, j] * hs
                        v[1, j] += installed[i, r, j]
                for j in range(nb):
                    acc_h[s0 + j, a_on[i], t] = v[1, j] * h[i, s0 + j]
            for j in range(nb):
                powered[s0 + j, t] = v[0, j]
            # inventory of storable worldwide carriers; deployed accelerators leave theirs
            for q in range(nk):
                c = keep_c[q]
                for j in range(nb):
                    v[0, j] = 0.0
                    v[1, j] = 0.0
                for r in range(R):
                    for j in range(nb):
                        v[0, j] += made[c * R + r, j]
                for r in range(R):
                    for j in range(nb):
                        v[1, j] += used[c * R + r, j]
                for j in range(nb):
                    flow[q, j] = v[0, j] - v[1, j]
            for q in range(acc_keep.shape[0]):
                i = acc_keep[q]
                for j in range(nb):
                    v[0, j] = 0.0
                for r in range(Ro):
                    for j in range(nb):
                        v[0, j] += dep[i, r, j]
                for j in range(nb):
                    flow[acc_row[i], j] -= v[0, j]
            for q in range(nk):
                c = keep_c[q]
                for j in range(nb):
                    inv[c, j] = max(inv[c, j] + flow[q, j], 0.0)
            for c in range(C):
                for j in range(nb):
                    inv_hist[t, c, s0 + j] = inv[c, j]
            for i in range(Ao):
                tp = 0.0
                for r in range(Ro):
                    tp += pdep[i, r, t]
                for j in range(nb):
                    v[0, j] = 0.0
                for r in range(Ro):
                    for j in range(nb):
                        v[0, j] += dep[i, r, j]
                for j in range(nb):
                    backlog[i, j] = max(tp + backlog[i, j] - v[0, j], 0.0)


@njit(cache=True, nogil=True)
def limits(existing, stock0, unripe0, avail, vpos, built_v, unripe_v, override, unlimited,
           active, rate, paying, dt, cap, fixed):  # type: ignore[no-untyped-def]  # fmt: skip
    """Each cell's limit (S,K,T) into ``cap`` and fixed O&M (S,T) into ``fixed``, in one
    pass (replay.capacities and replay_chunk's numpy steps, in their order): capacity =
    existing + built (the nominal ``stock0``, or per sample ``built_v`` for cells with
    ``vpos`` >= 0), usable = (capacity - unripe) x availability, availability x existing
    where ``override``; then at least 0, without limit where ``unlimited``, 0 where not
    ``active`` (K,T) or unavailable. Fixed O&M: Σ over ``paying`` cells of rate x capacity, x dt."""
    S, K, T = cap.shape
    for s in range(S):
        for t in range(T):
            fixed[s, t] = 0.0
        for k in range(K):
            v = vpos[k]
            for t in range(T):
                e = existing[s, k, t]
                a = avail[s, k, t]
                if v >= 0:
                    c = e + built_v[s, v, t]
                    u = c - unripe_v[s, v, t]
                else:
                    c = e + stock0[k, t]
                    u = c - unripe0[k, t]
                u = u * a
                if override[k]:
                    u = a * e
                u = max(u, 0.0)
                if unlimited[k]:
                    u = np.inf
                if not active[k, t]:
                    u = 0.0
                if a <= 0:
                    u = 0.0
                cap[s, k, t] = u
                if paying[k]:
                    fixed[s, t] += rate[s, k] * c
        for t in range(T):
            fixed[s, t] = fixed[s, t] * dt


# ------------------------------------------------------------------ arguments
# every array the loop takes is C-ordered and writeable (numba compiles one specialisation
# per layout and per read-only flag: a different one would cost another compilation)
def _i(x: Any) -> np.ndarray:
    return _writeable(np.ascontiguousarray(x, dtype=np.int64))


def _f(x: Any) -> np.ndarray:
    return _writeable(np.ascontiguousarray(x, dtype=np.float64))


def _writeable(x: np.ndarray) -> np.ndarray:
    return x if x.flags.writeable else x.copy()


def _ptr(parts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """CSR-like (pointers, values) of a list of index arrays."""
    ptr = np.zeros(len(parts) + 1, np.int64)
    ptr[1:] = np.cumsum([len(p) for p in parts])
    vals = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)
    return ptr, vals


def chain_args(cp: Any, st: Any, R: int) -> tuple[Any, ...]:
    """The chain of a :class:`~fab2flop.risk.replay.Compact` as flat arrays (once per
    network: kept in ``cp.memo``)."""
    key = ("kernel-chain", R)
    if key in cp.memo:
        return cp.memo[key]  # type: ignore[no-any-return]
    need = cp.need.tocsc()
    need.sort_indices()
    o = st.out[cp.pk]
    K = len(cp.pk)
    CR = cp.need.shape[0]
    J = max((m.shape[1] for m in cp.inputs), default=1)
    in_rows = np.full((K, J), CR, np.int64)
    for sl, m in zip(cp.stages, cp.inputs, strict=True):
        in_rows[sl, : m.shape[1]] = m
    in_n = (in_rows != CR).sum(axis=1)
    rg_ptr, rg_c = _ptr(list(cp.ratio_g))
    rr_ptr, rr_c = _ptr(list(cp.ratio_r))
    mk_ptr, mk_rows = _ptr([r for r, _ in cp.make_s])
    nd_ptr, nd_rows = _ptr([r for r, _ in cp.need_s])
    out = (
        _i(need.indptr),
        _i(need.indices),
        _f(need.data),
        _i(o * R + cp.rk),
        _f(st.io[cp.pk, o] * st.per_period[o]),
        _i([sl.start for sl in cp.stages]),
        _i([sl.stop for sl in cp.stages]),
        rg_ptr,
        rg_c,
        rr_ptr,
        rr_c,
        in_rows,
        _i(in_n),
        mk_ptr,
        mk_rows,
        nd_ptr,
        nd_rows,
        _i(np.unique(need.indices)),  # rows asked for
        _i(np.union1d(mk_rows, nd_rows)),  # rows made or used
    )
    cp.memo[key] = out
    return out


def fix_args(fix: Any, n_stages: int, S: int, ch: tuple[Any, ...]) -> tuple[Any, ...]:
    """The sampled io entries (:class:`~fab2flop.risk.replay.IoChanges`, or None) and the
    rows the period loop clears each period: asked for, and made or used (of the chain
    ``ch`` and of the entries)."""
    z_ask, z_mu = ch[17], ch[18]
    if fix is None:
        z = np.zeros(0, np.int64)
        zs = np.zeros(n_stages + 1, np.int64)
        e2 = np.zeros((0, S))
        return (z, z, e2, e2, z, z, zs, zs, z, z_ask, z_mu)
    perm, srows = [], []
    sptr = np.zeros(n_stages + 1, np.int64)
    for s, got in enumerate(fix.by_stage):
        ent, rows = (got[0], got[1][0]) if got is not None else (np.zeros(0, int), np.zeros(0, int))
        perm.append(np.asarray(ent))
        srows.append(np.asarray(rows))
        sptr[s + 1] = sptr[s] + len(ent)
    srow_ptr, srow = _ptr(srows)
    return (
        _i(fix.k),
        _i(fix.rows),
        _f(fix.dneed),
        _f(fix.dmake),
        _i(fix.scatter[0]),
        _i(np.concatenate(perm)) if perm else np.zeros(0, np.int64),
        sptr,
        srow_ptr,
        srow,
        _i(np.union1d(z_ask, fix.scatter[0])),
        _i(np.union1d(z_mu, srow)),
    )


def csr_args(m: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(indptr, indices, data) of a scipy sparse matrix, rows in order, columns sorted."""
    m = m.tocsr()
    m.sort_indices()
    return _i(m.indptr), _i(m.indices), _f(m.data)
