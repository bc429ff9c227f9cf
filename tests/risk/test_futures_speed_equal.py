"""The sampled arrays of a chunk (``future_arrays`` as replay calls it) equal, bit for bit, a
plain element-by-element construction from the probe's responses and curves and the events'
profiles; whichever way they are evaluated (one gather of the whole array or the nominal
array with the moved elements written over it), on cells or on the whole (P, R) arrays, in
any chunk; and the buffers of a chunk still referenced are never handed to the next."""

from __future__ import annotations

import bisect
import copy

import numpy as np
import pytest

from fab2flop import events as evm
from fab2flop import load_scenario
from fab2flop.risk import futures as F
from fab2flop.risk.replay import UNUSED, compact, setup, structure
from fab2flop.risk.uncertainty import validate_uncertainty

# parameters moving every sampled array (several on one element: products), availability
# (bounded by 1), a market limit, capex, approvals; three structural curves (a yield, a fab
# life, an accelerator life); every kind of event, each in some samples only
SET = {
    "samples": 24,
    "seed": 7,
    "parameters": [
        {"id": "accelerators.roadmap.flops_growth_per_year"},
        {"id": "accelerators.roadmap.usd_per_flops_decline_per_year"},
        {"id": "accelerators.system.host_overhead_kw_per_accelerator"},
        {"id": "accelerators.B200.price_usd"},
        {"id": "datacenters.lease.market_mw_it"},
        {"id": "power.gas_cc.firm_fraction"},
        {"id": "nodes.N3.fab_capex_usd_per_wpm"},
        {"id": "regions.AE.accelerator_cap_units_per_year"},
        {"id": "memory.hbm3e.stacks_per_wafer"},
        {"id": "nodes.N3.fab_life_years"},
        {"id": "datacenters.fleet.accelerator_life_years"},
    ],
    "events": [
        {"name": "taiwan_earthquake", "probability": 0.5},
        {"name": "korea_hbm_disruption", "probability": 0.5},
        {"name": "uae_export_denial", "probability": 0.5},
        {"name": "turbine_shortage", "probability": 0.5},
        {"name": "hbm_price_spike", "probability": 0.5},
        {"name": "funding_pullback", "probability": 0.5},
    ],
}


@pytest.fixture(scope="module")
def su():
    sc = load_scenario().model_copy(update={"uncertainty": validate_uncertainty(SET)})
    return setup(sc)


@pytest.fixture(scope="module")
def cells(su):
    cp = compact(su.net, structure(su.net))
    return (cp.pk, cp.rk)


def _fresh(probe):
    """The probe with its memos empty (designs evaluated again under a changed setting)."""
    p = copy.copy(probe)
    p.design, p.design_cells = None, {}
    return p


def _chunk(su, probe, sl, cells, events=None, unused=UNUSED):
    shifts = F.parameter_shifts(probe, su.samples)
    n = sl.stop - sl.start
    ev = su.events if events is None else events
    return F.future_arrays(
        su.net, probe, su.samples, sl, ev, n=n, cells=cells, shifts=shifts, unused=unused
    )


def _on(x, cells):
    return x if cells is None or x.ndim < 2 else x[cells[0], cells[1]]


def expected_parameters(su, sl, cells, unused=UNUSED):
    """Per sampled array (S, ...): each element a parameter moves is its nominal value times
    max(1 + dx_i · rho_i, 1e-12) over the parameters moving it, in their order (rho: the
    probe's change per unit over the nominal, to 12 decimals), clipped to the array's
    bounds; the others nominal."""
    probe, ds = su.probe, su.net.ds
    dx = F.parameter_shifts(probe, su.samples)[sl]
    S = dx.shape[0]
    out = {}
    for a in F.SAMPLED:
        nom = ds[a].values.astype(float)
        full = np.broadcast_to(nom, (S, *nom.shape)).copy().reshape(S, -1)
        factor: dict[int, np.ndarray] = {}
        for i, r in enumerate(probe.responses):
            if a in unused or a not in r.changes:
                continue
            idx, v0, d = r.changes[a]
            for e, v, dd in zip(idx.tolist(), v0.tolist(), d.tolist(), strict=True):
                assert v != 0  # (no element of these moves additively from 0)
                rho = float(np.round(dd / v, 12))
                f = np.maximum(1.0 + dx[:, i] * rho, 1e-12)
                factor[e] = f if e not in factor else factor[e] * f
        lo, hi = F._BOUNDS.get(a, (None, None))
        finite = nom[np.isfinite(nom)]
        # the nominal is inside the bounds: only moved elements can leave them
        assert lo is None or (finite.min() >= lo and (hi is None or finite.max() <= hi))
        for e, f in factor.items():
            full[:, e] = f * full[:, e]
            if lo is not None:
                full[:, e] = np.clip(full[:, e], lo, hi)
        v = full.reshape(S, *nom.shape)
        out[a] = v[:, cells[0], cells[1]] if a in F.PR_ARRAYS and cells is not None else v
    return out


def expected_structural(su, sl):
    """Per curved array: (elements, values (S, n)); each element the product of its curves'
    y / nominal (y: linear between the probed points, flat beyond) times its nominal."""
    probe = su.probe
    names = [r.name for r in probe.responses]
    dx = F.parameter_shifts(probe, su.samples)[sl]
    out = {}
    for a in F.CURVED:
        mine = [c for c in probe.curves if c.array == a]
        if not mine:
            continue
        idx = sorted({int(e) for c in mine for e in c.idx})
        nominal = su.net.ds[a].values.astype(float).ravel()
        vals = np.empty((dx.shape[0], len(idx)))
        for s in range(dx.shape[0]):
            for k, e in enumerate(idx):
                f, add = 1.0, 0.0
                for c in mine:
                    if e not in c.idx:
                        continue
                    m = int(np.flatnonzero(c.idx == e)[0])
                    xs = c.xs.tolist()
                    x = min(max(float(dx[s, names.index(c.name)] + c.x0), xs[0]), xs[-1])
                    j = min(max(bisect.bisect_right(xs, x), 1), len(xs) - 1)
                    w = (x - xs[j - 1]) / (xs[j] - xs[j - 1])
                    y = float(c.ys[j - 1, m]) * (1.0 - w) + float(c.ys[j, m]) * w
                    n0 = float(c.nominal[m])
                    if n0 != 0:
                        f *= y / n0
                    else:
                        add += y - n0
                v0 = nominal[e]
                vals[s, k] = v0 * f if v0 != 0 else v0 + add
        out[a] = (np.array(idx), vals)
    return out


def assert_same(got, want, what=""):
    assert got.shape == want.shape, what
    # bit for bit (the same NaN where NaN)
    assert np.array_equal(got, want, equal_nan=True), what


@pytest.mark.parametrize("gather_from", [0.0, 0.5, 1.1])
def test_parameters_and_curves_equal_the_element_by_element_construction(
    su, cells, gather_from, monkeypatch
):
    # 0: every array one gather; 1.1: every array nominal + moved elements; 0.5: as shipped
    monkeypatch.setattr(F, "GATHER_FROM", gather_from)
    probe = _fresh(su.probe)
    for sl in (slice(0, 10), slice(10, 24)):
        fa = _chunk(su, probe, sl, cells, events=[])
        want = expected_parameters(su, sl, cells)
        for a in F.SAMPLED:
            assert_same(fa.arrays[a], want[a], a)
        for a, (idx, vals) in expected_structural(su, sl).items():
            assert np.array_equal(fa.structural[a][0], idx), a
            assert_same(fa.structural[a][1], vals, a)
        assert set(fa.structural) == {"io", "life_periods", "acc_life_periods"}
    modes = {g.gather for k, g in probe.design_cells.items() if k[0] == "gather" and g}
    assert modes == {0.0: {True}, 0.5: {True, False}, 1.1: {False}}[gather_from]
    # the parameters do move the arrays (else the comparison would be empty)
    moved = [a for a in F.SAMPLED if not np.array_equal(fa.arrays[a][0], fa.arrays[a][1])]
    assert {"availability", "capex_usd_per_unit", "var_cost_usd_per_unit"} <= set(moved)


def _outage_and_price_expected(su, sl, cells, base):
    """Availability and variable costs of the hit cells after the sampled events, one event
    after the other: x (1 - severity · outage profile) and x (1 + severity · window share)."""
    idx = F.event_index(su.net)
    avail = base["availability"].copy()
    var = base["var_cost_usd_per_unit"].copy()
    for i, se in enumerate(su.events):
        ev, at = se.event, f"events.{i}"
        if ev.kind not in ("outage", "price"):
            continue
        if ev.kind == "price" and not (ev.selects_processes or ev.region is not None):
            continue
        hit = _on(evm.hit_cells(ev, idx, at), cells)
        for s in range(sl.stop - sl.start):
            k = sl.start + s
            occ = float(se.occurs[k])
            if ev.kind == "outage":
                dur = se.duration[k] if np.isfinite(se.duration[k]) else 1e6
                prof = evm.outage_profile(idx.years, idx.dt, se.start[k], dur, ev.recovery_years)
                avail[s][hit] *= 1.0 - se.severity[k] * prof * occ
            elif "variable" in ev.costs:
                end = se.start[k] + se.duration[k]
                w = evm.window_share(idx.years, idx.dt, se.start[k], end) * occ
                var[s][hit] *= 1.0 + se.severity[k] * w
    return avail, var


def test_events_on_cells_equal_the_whole_arrays_and_the_per_sample_construction(su, cells):
    probe = su.probe
    sl = slice(4, 20)
    fa = _chunk(su, probe, sl, cells)
    # on the whole (P, R) arrays (events gathered differently), then on the cells
    whole = _chunk(su, probe, sl, None).compacted(cells)
    for a in fa.arrays:
        assert_same(fa.arrays[a], whole.arrays[a], a)
    assert np.array_equal(fa.extra_start, whole.extra_start)
    assert np.array_equal(fa.delayed, whole.delayed)
    assert np.array_equal(fa.funding_by_funder, whole.funding_by_funder)
    # availability and variable costs: the parameters' arrays, then each event per sample
    base = _chunk(su, probe, sl, cells, events=[])
    avail, var = _outage_and_price_expected(su, sl, cells, base.arrays)
    assert_same(fa.arrays["availability"], avail, "availability")
    assert_same(fa.arrays["var_cost_usd_per_unit"], var, "var_cost_usd_per_unit")
    # the events do change them in some samples of the chunk, not in all
    changed = (fa.arrays["availability"] != base.arrays["availability"]).any(axis=(1, 2))
    assert changed.any() and not changed.all()
    assert fa.extra_start is not None and fa.extra_start.any()


def test_a_sample_does_not_depend_on_its_chunk_nor_on_arrays_kept_from_before(su, cells):
    probe = su.probe
    first = _chunk(su, probe, slice(0, 16), cells)
    kept = {a: v.copy() for a, v in first.arrays.items()}
    second = _chunk(su, probe, slice(8, 24), cells)  # while the first is still referenced
    for a, v in first.arrays.items():
        assert_same(v, kept[a], a)  # not overwritten by the second chunk
        assert_same(v[8:], second.arrays[a][:8], a)
    del first, second  # the buffers come back: the next chunk reuses them
    again = _chunk(su, probe, slice(0, 16), cells)
    for a, v in again.arrays.items():
        assert_same(v, kept[a], a)


def test_slab_pool_hands_out_a_buffer_again_only_once_nothing_refers_to_it():
    pool = F.SlabPool(max_bytes=2**20, min_bytes=1024)
    a = pool.empty((64, 8))  # 4 KiB: pooled
    a[...] = 1.0
    view = a[3:5]  # a view of a view still holds the buffer
    del a
    b = pool.empty((64, 8))
    assert not np.shares_memory(b, view)
    at = b.__array_interface__["data"][0]  # (its address: a reference would hold it)
    held = pool.empty((64, 8))  # b is still referenced: another buffer
    assert held.__array_interface__["data"][0] != at
    del b
    c = pool.empty((8, 64))  # the same size: b's buffer is free again
    assert c.__array_interface__["data"][0] == at
    assert pool.empty((2, 2)).base is None  # small: a plain array
    kept = pool._bytes
    big = pool.empty((2**18,))  # 2 MiB, beyond max_bytes: not kept
    assert big.shape == (2**18,) and pool._bytes == kept
