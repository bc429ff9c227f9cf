"""Sampled futures as network arrays with a leading ``sample`` dimension.

Two sources change the arrays of the network contract (docs/risk.md, "Futures as arrays"):

- **Parameters** (catalog numbers, scenario fields). Each is *probed* once: the network is
  rebuilt with the parameter at its high (or low) value and the arrays that can vary per
  sample (:data:`SAMPLED`) are compared with the nominal ones. An array element moves
  linearly in the parameter; several parameters hitting the same element combine
  multiplicatively (exact for prices x multipliers, and for a single parameter). What a
  parameter changes outside :data:`SAMPLED` (yields and sizes that change ``io``, lead
  times, lives, the fleet) is **held at nominal** in replay; :func:`probe_parameters`
  reports which parameters those are. ``risk sweep`` rebuilds the network per sample instead.
- **Events** (sampled, or forced with ``--event``): applied with :mod:`fab2flop.events`'
  profiles, vectorised over samples.

Arrays are produced a chunk of samples at a time (:func:`future_arrays`), so 100,000
samples never sit in memory at once.
"""

from __future__ import annotations

import copy
import json
import sys
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr
from scipy import sparse

from .. import events as evm
from ..constants import PERIOD, REGION
from ..network import Network, _funding_by_funder, build_network
from ..scenario import apply_override, validate_scenario
from .sampling import EVENT_PREFIX

# arrays a sample may change, and their leading (non-sample) dims
SAMPLED: tuple[str, ...] = (
    "capex_usd_per_unit",
    "var_cost_usd_per_unit",
    "existing",
    "availability",
    "fixed_om_usd_per_unit_year",
    "deploy_cap_units_per_year",
    "funding_usd",
    "acc_unit_cost_usd",
    "acc_deploy_cost_usd",
    "flops_bf16_dense",
    "fleet_draw",
)
# arrays replay holds at nominal: a parameter changing them is (partly) held
STRUCTURAL: tuple[str, ...] = (
    "io",
    "build_io",
    "lead_periods",
    "ramp_periods",
    "life_periods",
    "acc_life_periods",
    "exists",
    "active",
    "max_capacity",
    "max_new_per_year",
)
# arrays over (process, region, ...): held on the existing cells only when asked
PR_ARRAYS = frozenset(
    {
        "capex_usd_per_unit",
        "var_cost_usd_per_unit",
        "existing",
        "availability",
        "destroyed_fraction",
    }
)
# structural arrays replay varies too, through curves probed at several values (yields,
# dies and stacks per wafer, PUE change ``io``; lives change ``life_periods`` and
# ``acc_life_periods``)
CURVED: tuple[str, ...] = ("io", "life_periods", "acc_life_periods")
CURVE_QUANTILES = (0.001, 0.05, 0.25, 0.5, 0.75, 0.95, 0.999)
MAX_INTEGER_POINTS = 12  # an integer parameter is probed at each of its values up to this
NONNEG = {
    "capex_usd_per_unit",
    "var_cost_usd_per_unit",
    "existing",
    "fixed_om_usd_per_unit_year",
    "deploy_cap_units_per_year",
    "funding_usd",
    "acc_unit_cost_usd",
    "acc_deploy_cost_usd",
    "flops_bf16_dense",
    "fleet_draw",
}


@dataclass(frozen=True)
class Response:
    """How one parameter moves the sampled arrays: per array, the flat indices it changes,
    their nominal values and the change per unit of the parameter."""

    name: str
    nominal: float
    changes: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]
    held: tuple[str, ...] = ()  # structural arrays it changes (held at nominal in replay)
    error: str = ""


@dataclass(frozen=True)
class Curve:
    """How one parameter moves a structural array (:data:`CURVED`): the elements it changes
    (flat indices) and their values at a grid of parameter values (interpolated linearly
    between them; an integer parameter is probed at each of its values)."""

    name: str
    array: str
    idx: np.ndarray  # (n,) flat indices
    xs: np.ndarray  # (G,) parameter values, increasing
    ys: np.ndarray  # (G, n) element values at them
    nominal: np.ndarray  # (n,) element values at the nominal network
    x0: float = 0.0  # the parameter's nominal value


@dataclass
class Probe:
    """Every parameter's :class:`Response`, and which parameters replay varies."""

    responses: list[Response]
    design: dict[str, Any] | None = None  # per array: a Design (built on first use)
    design_cells: dict[Any, Any] = field(default_factory=dict)  # designs on cells (memo)
    curves: list[Curve] = field(default_factory=list)

    @property
    def varied(self) -> list[str]:
        curved = {c.name for c in self.curves}
        return [r.name for r in self.responses if r.changes or r.name in curved]

    @property
    def held(self) -> list[str]:
        """Parameters replay holds (partly) at nominal: they change lead or ramp times or
        the network's structure, or their network could not be built."""
        return [r.name for r in self.responses if set(r.held) - set(CURVED) or r.error]

    @property
    def inert(self) -> list[str]:
        """Parameters that change no network array (used by metrics or not at all)."""
        return [r.name for r in self.responses if not (r.changes or r.held or r.error)]


def _with_value(scenario_data: dict[str, Any], var: xr.DataArray, x: float) -> dict[str, Any]:
    data = copy.deepcopy(scenario_data)
    value: Any = x
    if "series" in var.attrs:
        value = {int(y): float(v) * x for y, v in json.loads(var.attrs["series"]).items()}
    if var.attrs["kind"] == "catalog":
        data.setdefault("catalog", {})
        data["catalog"] = {**(data["catalog"] or {}), var.attrs["target"]: value}
    else:
        apply_override(data, var.attrs["target"].split("."), value)
    return data


def _probe_value(var: xr.DataArray) -> float:
    """A value far from nominal inside the parameter's range: its 99.9th percentile (or its
    0.1st when that one is farther), from the distribution, not from the draws."""
    from .sampling import ppf
    from .uncertainty import DistSpec

    nominal = float(var.attrs["nominal"])
    d = DistSpec.model_validate_json(var.attrs["dist"])
    hi, lo = (float(ppf(d, np.array([u]))[0]) for u in (0.999, 0.001))
    return hi if abs(hi - nominal) >= abs(lo - nominal) else lo


def probe_one(net: Network, data: dict[str, Any], var: xr.DataArray, x1: float) -> Response:
    """Rebuild the network with one parameter at ``x1`` and compare the arrays."""
    name = str(var.name)
    x0 = float(var.attrs["nominal"])
    if x1 == x0:
        return Response(name, x0, {})
    try:
        alt = build_network(validate_scenario(_with_value(data, var, x1)), net.catalog).ds
    except Exception as exc:  # a value the supply chain cannot take: hold it
        return Response(name, x0, {}, error=f"{type(exc).__name__}: {exc}")
    base = net.ds
    changes = {}
    for a in SAMPLED:
        v0, v1 = base[a].values.astype(float), alt[a].values.astype(float)
        if v0.shape != v1.shape:
            return Response(name, x0, {}, error=f"{a} changed shape")
        diff = ~((v0 == v1) | (np.isnan(v0) & np.isnan(v1)))
        both = diff & np.isfinite(v0) & np.isfinite(v1)
        idx = np.flatnonzero(both)
        if idx.size:
            changes[a] = (idx, v0.ravel()[idx], (v1.ravel()[idx] - v0.ravel()[idx]) / (x1 - x0))
    held = tuple(
        a
        for a in STRUCTURAL
        if base[a].shape != alt[a].shape or not np.array_equal(base[a].values, alt[a].values)
    )
    return Response(name, x0, changes, held)


_PROBES: dict[str, Probe] = {}


PROBE_WORKERS = 2  # forked processes the probes run on (each probe is a network rebuild)
PROBE_PROCESSES_FROM = 8  # parameters from which a pool of processes is worth its start


def probe_parameters(
    net: Network,
    samples: xr.Dataset,
    progress: Any = None,
    workers: int = PROBE_WORKERS,
    disk: bool = True,
) -> Probe:
    """Every sampled parameter's :class:`Response`, memoised per scenario, catalog, code
    and parameter set (:func:`fab2flop.risk.probecache.probe_key`): in this process, and
    on disk unless ``disk`` is False (:mod:`fab2flop.risk.probecache`). Each probe rebuilds
    the network; they run on ``workers`` forked processes (in order, so the result does not
    depend on the number of workers)."""
    from . import probecache
    from .forked import map_forked

    names = [
        n for n, v in samples.data_vars.items() if v.attrs.get("kind") in ("catalog", "scenario")
    ]
    key = probecache.probe_key(net, samples, names)
    if key in _PROBES:
        return _PROBES[key]
    if disk and (kept := probecache.load(key)) is not None:
        _PROBES[key] = kept
        return kept
    data = net.scenario.model_dump(mode="json", exclude_none=True)
    data["events"] = []

    def one(n: str) -> tuple[Response, list[Curve]]:
        r = probe_one(net, data, samples[n], _probe_value(samples[n]))
        held = set(r.held) & set(CURVED)
        return r, (probe_curves(net, data, samples[n], held) if held else [])

    out, curves = [], []
    for r, c in map_forked(one, names, workers, min_items=PROBE_PROCESSES_FROM, chunksize=4):
        out.append(r)
        curves += c
        if progress is not None:
            progress()
    _PROBES[key] = Probe(out, curves=curves)
    if disk:
        probecache.save(key, _PROBES[key])
    return _PROBES[key]


def _curve_points(var: xr.DataArray) -> np.ndarray:
    """Parameter values to probe a structural response at: every integer in the range of
    an integer parameter (up to MAX_INTEGER_POINTS), else quantiles of its distribution."""
    from .sampling import ppf
    from .uncertainty import DistSpec

    d = DistSpec.model_validate_json(var.attrs["dist"])
    xs = np.asarray(ppf(d, np.array(CURVE_QUANTILES)), float)
    nominal = float(var.attrs["nominal"])
    drawn = np.asarray(var.values, float)
    if float(nominal).is_integer() and np.allclose(drawn, np.round(drawn)):  # whole numbers
        lo, hi = int(np.floor(xs.min())), int(np.ceil(xs.max()))
        # every value of a short range; else whole-number quantiles (a life in periods is
        # linear in years, so interpolating between them and rounding stays exact)
        xs = np.arange(lo, hi + 1.0) if hi - lo + 1 <= MAX_INTEGER_POINTS else np.round(xs)
    return np.unique(np.append(xs, nominal))


def probe_curves(
    net: Network, data: dict[str, Any], var: xr.DataArray, arrays: set[str]
) -> list[Curve]:
    """The curves of one parameter on the structural ``arrays`` it changes: the network
    rebuilt at each value of :func:`_curve_points`."""
    xs = _curve_points(var)
    base = {a: net.ds[a].values.astype(float).ravel() for a in arrays}
    vals: dict[str, list[np.ndarray]] = {a: [] for a in arrays}
    kept = []
    for x in xs:
        try:
            alt = build_network(validate_scenario(_with_value(data, var, float(x))), net.catalog)
        except Exception:  # a value the chain cannot take: not a point of the curve
            continue
        if any(alt.ds[a].shape != net.ds[a].shape for a in arrays):
            continue
        kept.append(x)
        for a in arrays:
            vals[a].append(alt.ds[a].values.astype(float).ravel())
    out = []
    for a in arrays:
        if len(kept) < 2:
            continue
        ys = np.array(vals[a])
        idx = np.flatnonzero((ys != base[a][None]).any(axis=0) & np.isfinite(ys).all(axis=0))
        if idx.size:
            x0 = float(var.attrs["nominal"])
            out.append(Curve(str(var.name), a, idx, np.array(kept), ys[:, idx], base[a][idx], x0))
    return out


def curve_values(
    curves: list[Curve], array: str, shifts: np.ndarray, names: list[str], nominal: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """(flat indices, values (S, n)) of ``array`` under the samples' parameter values
    (``shifts`` from nominal, columns in ``names`` order); several parameters on one
    element combine multiplicatively against its nominal value (additively from 0)."""
    plan = _curve_plan(curves, array, names, nominal)
    return None if plan is None else _curve_values(plan, shifts)


@dataclass(frozen=True)
class CurvePlan:
    """The curves of one array ready for a chunk: the elements they change (flat indices)
    and their nominal values; per curve its column of the shifts and, for its elements of
    nonzero and of zero nominal value, their positions among the elements; and the same
    stacked for all curves at once (``grid``)."""

    idx: np.ndarray
    v0: np.ndarray
    parts: list[tuple[Curve, int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
    grid: CurveGrid


@dataclass(frozen=True)
class CurveGrid:
    """Every curve of an array interpolated at once. Per curve: its shift column, nominal
    value, grid ends and size, and grid (padded with inf); per curve element: its curve,
    its values on the grid (padded), nominal value; the elements of nonzero (``nz``) and
    zero nominal value, and per rank (an element's first curve, its second, ... in the
    curves' order) the elements' positions among ``idx`` (targets) and among the nonzero
    or zero elements (sources)."""

    cols: np.ndarray
    x0: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    top: np.ndarray  # (curves,) grid size - 1
    xs: np.ndarray  # (curves, G) padded with inf
    cur: np.ndarray  # (elements,)
    ys: np.ndarray  # (G, elements)
    nominal: np.ndarray
    nz: np.ndarray
    z: np.ndarray
    ranks_nz: list[tuple[np.ndarray, np.ndarray]]
    ranks_z: list[tuple[np.ndarray, np.ndarray]]


def _curve_grid(parts: list[Any]) -> CurveGrid:
    curves = [p[0] for p in parts]
    G = max(len(c.xs) for c in curves)
    xs = np.full((len(curves), G), np.inf)
    for i, c in enumerate(curves):
        xs[i, : len(c.xs)] = c.xs
    ys = np.zeros((G, sum(len(c.idx) for c in curves)))
    cur: list[int] = []
    nominal, nzs, target = [], [], []
    for i, (c, _, nz, _, jnz, jz) in enumerate(parts):
        e0 = len(cur)
        ys[: len(c.xs), e0 : e0 + len(c.idx)] = c.ys
        cur += [i] * len(c.idx)
        nominal.append(c.nominal)
        nzs.append(nz)
        js = np.empty(len(c.idx), int)
        js[nz], js[~nz] = jnz, jz
        target.append(js)
    nz = np.concatenate(nzs)
    tgt = np.concatenate(target)

    def ranks(sel: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        t = tgt[sel]  # in the curves' order
        seen: dict[int, int] = {}
        rank = np.zeros(len(t), int)
        for i, e in enumerate(t.tolist()):
            rank[i] = seen.get(e, 0)
            seen[e] = rank[i] + 1
        top = int(rank.max(initial=-1)) + 1
        return [(t[rank == k], np.flatnonzero(rank == k)) for k in range(top)]

    return CurveGrid(
        np.array([p[1] for p in parts]),
        np.array([c.x0 for c in curves]),
        np.array([c.xs[0] for c in curves]),
        np.array([c.xs[-1] for c in curves]),
        np.array([len(c.xs) - 1 for c in curves]),
        xs,
        np.array(cur),
        ys,
        np.concatenate(nominal),
        np.flatnonzero(nz),
        np.flatnonzero(~nz),
        ranks(nz),
        ranks(~nz),
    )


def _curve_plan(
    curves: list[Curve], array: str, names: list[str], nominal: np.ndarray
) -> CurvePlan | None:
    mine = [c for c in curves if c.array == array]
    if not mine:
        return None
    idx = np.unique(np.concatenate([c.idx for c in mine]))
    pos = {int(e): j for j, e in enumerate(idx)}
    parts = []
    for c in mine:
        js = np.array([pos[int(e)] for e in c.idx])
        nz = c.nominal != 0
        parts.append((c, names.index(c.name), nz, ~nz, js[nz], js[~nz]))
    return CurvePlan(idx, nominal.ravel()[idx].astype(float), parts, _curve_grid(parts))


def _curve_values(plan: CurvePlan, shifts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    S, n = shifts.shape[0], len(plan.idx)
    factor = np.ones((S, n))
    add = np.zeros((S, n))
    g = plan.grid
    x = shifts[:, g.cols] + g.x0
    if np.isnan(x).any():  # (searchsorted puts NaN last) one curve at a time
        for c, col, nz, z, jnz, jz in plan.parts:
            y = _interp(shifts[:, col] + c.x0, c.xs, c.ys)  # (S, n_c)
            factor[:, jnz] *= y[:, nz] / c.nominal[nz]
            add[:, jz] += y[:, z] - c.nominal[z]
    else:  # the same operations on every element, all curves at once
        x = np.clip(x, g.lo, g.hi)
        j = np.clip((g.xs[None] <= x[:, :, None]).sum(axis=2), 1, g.top)  # (S, curves)
        k = np.arange(len(g.cols))
        xa, xb = g.xs[k, j - 1], g.xs[k, j]
        w = ((x - xa) / np.where(xb > xa, xb - xa, 1.0))[:, g.cur]  # (S, elements)
        je = j[:, g.cur]
        e = np.arange(len(g.cur))
        y = g.ys[je - 1, e] * (1.0 - w) + g.ys[je, e] * w
        r = y[:, g.nz] / g.nominal[g.nz]
        for t, src in g.ranks_nz:  # each element's factors multiplied in the curves' order
            factor[:, t] *= r[:, src]
        a = y[:, g.z] - g.nominal[g.z]
        for t, src in g.ranks_z:
            add[:, t] += a[:, src]
    v0 = plan.v0
    return plan.idx, np.where(v0 != 0, v0 * factor, v0 + add)


def _interp(x: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Piecewise-linear values (S, n) at ``x`` (S,) of points ``xs`` (G,), ``ys`` (G, n);
    flat beyond the ends."""
    x = np.clip(x, xs[0], xs[-1])
    j = np.clip(np.searchsorted(xs, x, side="right"), 1, len(xs) - 1)
    w = ((x - xs[j - 1]) / np.where(xs[j] > xs[j - 1], xs[j] - xs[j - 1], 1.0))[:, None]
    return ys[j - 1] * (1.0 - w) + ys[j] * w


# ------------------------------------------------------------------ sampled events
@dataclass(frozen=True)
class SampledEvent:
    """An event of the events catalog applied in some samples: per sample, whether it occurs,
    its start [year], duration [years] (inf: to the end) and severity (outage/funding: share
    lost; price: multiplier − 1; export: share of the approvals lost, between nominal and the
    event's cap; delay: ignored, the catalog's extra years apply)."""

    event: Any  # an events.AnyEvent
    occurs: np.ndarray  # (S,) bool
    start: np.ndarray  # (S,)
    duration: np.ndarray  # (S,)
    severity: np.ndarray  # (S,)


def catalog_event(name: str, start: float | None = None, duration: float | None = None) -> Any:
    """A catalog event as a validated model (start/duration as given or the catalog's)."""
    raw: dict[str, Any] = {"use": name}
    if start is not None:
        raw["start"] = start
    if duration is not None:
        raw["duration_years"] = duration
    return evm.validate_event(raw)


def _severity_of(ev: Any) -> float:
    if ev.kind == "price":
        return float(ev.multiplier) - 1.0
    if ev.kind == "export":
        return 1.0
    return float(getattr(ev, "fraction", 1.0))


def forced_event(ev: Any, n: int) -> SampledEvent:
    """An event that happens in every one of ``n`` samples, as the catalog (or caller) says."""
    dur = np.inf if ev.duration_years is None else float(ev.duration_years)
    return SampledEvent(
        ev,
        np.ones(n, bool),
        np.full(n, float(ev.start)),
        np.full(n, dur),
        np.full(n, _severity_of(ev)),
    )


def sampled_events(samples: xr.Dataset) -> list[SampledEvent]:
    """The stochastic events of a sampled Dataset (``event.NAME.*`` variables)."""
    out = []
    for name in json.loads(samples.attrs.get("events", "[]")):
        pre = f"{EVENT_PREFIX}{name}."
        occ = samples[pre + "occurs"].values.astype(bool)
        start = np.where(occ, samples[pre + "start"].values, 0.0)
        ev = catalog_event(name, start=float(start[occ][0]) if occ.any() else 2025.0)
        out.append(
            SampledEvent(
                ev,
                occ,
                start,
                np.where(occ, samples[pre + "duration_years"].values, 0.0),
                np.where(occ, samples[pre + "fraction"].values, 0.0),
            )
        )
    return out


def event_index(net: Network) -> evm.EventIndex:
    """The labels events are matched against, from a built network."""
    ds = net.ds
    funders, _ = _funding_by_funder(net.scenario, net.periods, [])
    return evm.EventIndex(
        processes=list(ds.indexes["process"]),
        categories=[str(c) for c in ds["category"].values],
        main_output=[str(c) for c in ds["main_output"].values],
        exists=ds["exists"].values,
        buildable=ds["buildable"].values & ~ds["unlimited"].values,
        lead=ds["lead_periods"].values,
        regions=list(ds.indexes[REGION]),
        periods=list(ds.indexes[PERIOD]),
        years=ds["year"].values.astype(float),
        dt=float(ds.attrs["dt_years"]),
        acc_carrier=[str(c) for c in ds["acc_carrier"].values],
        acc_merchant=np.array([f.kind == "merchant" for f in net.fleet.values()], bool),
        funders=funders,
    )


class SlabPool:
    """Buffers the large arrays of a chunk are written into, handed out again once nothing
    refers to them (every view of a buffer holds a reference to it). Writing a fresh buffer
    costs the kernel a page fault per page on first touch, which was most of what remained
    of :func:`future_arrays`; replay drops a chunk's arrays before the next chunk's are
    made, so their buffers come back. Every element of a buffer handed out is written by its
    user: no value depends on the pool. Up to ``max_bytes`` are kept (beyond: plain arrays);
    thread-safe; a forked worker starts with its parent's buffers."""

    def __init__(self, max_bytes: int, min_bytes: int) -> None:
        self.max_bytes, self.min_bytes = max_bytes, min_bytes
        self._slabs: dict[tuple[int, str], list[np.ndarray]] = {}
        self._bytes = 0
        self._lock = threading.Lock()
        probe = [np.empty(1)]
        self._free_refs = sys.getrefcount(probe[0])  # held by its list only

    def empty(self, shape: tuple[int, ...], dtype: Any = float) -> np.ndarray:
        """An uninitialised array of ``shape`` (a view of a free buffer, or a new one)."""
        dt = np.dtype(dtype)
        n = int(np.prod(shape, dtype=np.int64))
        if n * dt.itemsize < self.min_bytes:
            return np.empty(shape, dt)
        with self._lock:
            slabs = self._slabs.setdefault((n, dt.str), [])
            for i in range(len(slabs)):
                if sys.getrefcount(slabs[i]) == self._free_refs:
                    return slabs[i].reshape(shape)
            slab = np.empty(n, dt)
            if self._bytes + slab.nbytes <= self.max_bytes:
                slabs.append(slab)
                self._bytes += slab.nbytes
            return slab.reshape(shape)

    def clear(self) -> None:
        with self._lock:
            self._slabs, self._bytes = {}, 0


# a chunk of 512 samples of the default set holds ~30 MB of such arrays; two chunks run
# side by side in replay's workers
SLABS = SlabPool(max_bytes=256 * 2**20, min_bytes=2**18)


@dataclass
class _NetMemo:
    """What the chunks of one network share and no sample changes: its event index, the
    cells each event hits, its nominal arrays as float (on cells)."""

    ref: Any  # weakref to the network
    index: evm.EventIndex
    hits: dict[Any, np.ndarray] = field(default_factory=dict)
    nominal: dict[Any, np.ndarray] = field(default_factory=dict)


_NET_MEMO: dict[int, _NetMemo] = {}


def _memo(net: Network) -> _NetMemo:
    """The :class:`_NetMemo` of ``net`` (built on first use, dropped with the network)."""
    key = id(net)
    m = _NET_MEMO.get(key)
    if m is None or m.ref() is not net:

        def forget(_ref: Any) -> None:
            _NET_MEMO.pop(key, None)

        m = _NET_MEMO[key] = _NetMemo(weakref.ref(net, forget), event_index(net))
    return m


def _hit(net: Network, idx: evm.EventIndex, ev: Any, at: str, buildable: bool = False) -> Any:
    """:func:`events.hit_cells`, memoised per network when ``idx`` is its memo's (read-only;
    an event hitting nothing raises each time)."""
    m = _NET_MEMO.get(id(net))
    if m is None or m.ref() is not net or m.index is not idx:
        return evm.hit_cells(ev, idx, at, buildable_only=buildable)
    key = (ev.model_dump_json(), at, buildable)
    got = m.hits.get(key)
    if got is None:
        got = evm.hit_cells(ev, idx, at, buildable_only=buildable)
        got.setflags(write=False)
        m.hits[key] = got
    return got


# ------------------------------------------------------------------ the arrays of a chunk
@dataclass
class FutureArrays:
    """Network arrays of a chunk of samples: ``arrays[name]`` is (S, *dims of name)."""

    arrays: dict[str, np.ndarray]
    extra_start: np.ndarray | None = None  # (S,P,R,T) extra construction periods by start
    funding_by_funder: np.ndarray | None = None  # (S,F,T)
    notes: list[str] = field(default_factory=list)
    # with cells (process, region indices), (process, region, ...) arrays hold those cells
    # only: (S, K, ...) instead of (S, P, R, ...)
    cells: tuple[np.ndarray, np.ndarray] | None = None
    # structural arrays (CURVED) that samples change: name -> (flat indices into the
    # nominal array, values (S, n)); held at nominal where absent
    structural: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    # cells (P,R) or (K,) a delay event re-times in some sample (None: no delay event)
    delayed: np.ndarray | None = None

    @property
    def n(self) -> int:
        return int(self.arrays["availability"].shape[0])

    def on_cells(self, x: np.ndarray) -> np.ndarray:
        """A (P, R, ...) array as these arrays hold it: itself, or its cells (K, ...)."""
        return x if self.cells is None else x[self.cells[0], self.cells[1]]

    def compacted(self, cells: tuple[np.ndarray, np.ndarray]) -> FutureArrays:
        """The same futures on ``cells`` only (a gather of every (P, R, ...) array)."""
        if self.cells is not None:
            return self
        pk, rk = cells
        arr = {a: (v[:, pk, rk] if a in PR_ARRAYS else v) for a, v in self.arrays.items()}
        extra = None if self.extra_start is None else self.extra_start[:, pk, rk]
        delayed = None if self.delayed is None else self.delayed[pk, rk]
        return FutureArrays(
            arr, extra, self.funding_by_funder, list(self.notes), cells, self.structural, delayed
        )


@dataclass(frozen=True)
class Design:
    """Every response of one array combined for fast evaluation over many samples.

    Elements with a nonzero nominal value move by a product of factors ``1 + dx_i · rho``
    (``rho`` the relative change per unit of parameter i): one per-sample column per
    distinct ``rho`` of a parameter, and an incidence matrix of the columns on the elements
    (evaluated as products of columns: :class:`DesignOn`, :class:`Gather`). Elements
    nominally 0 move additively.
    """

    idx: np.ndarray  # flat indices of the elements any parameter changes
    cols: list[tuple[int, float]]  # (parameter position, rho) per column of M
    M: Any  # (cols, idx) sparse 0/1 incidence of each column on the elements
    add: Any  # (parameters, idx) sparse additive change per unit where the nominal is 0
    nz: np.ndarray  # (idx,) nominal value is nonzero


def designs(probe: Probe) -> dict[str, Design]:
    """One :class:`Design` per sampled array a parameter of ``probe`` changes."""
    out = {}
    for a in SAMPLED:
        hits = [(i, r.changes[a]) for i, r in enumerate(probe.responses) if a in r.changes]
        if not hits:
            continue
        idx = np.unique(np.concatenate([h[1][0] for h in hits]))
        pos = {int(e): j for j, e in enumerate(idx)}
        nz = np.zeros(len(idx), bool)
        add = np.zeros((len(probe.responses), len(idx)))
        cols: list[tuple[int, float]] = []
        rows = []
        for i, (e, v0, d) in hits:
            js = np.array([pos[int(x)] for x in e])
            nonzero = v0 != 0
            nz[js[nonzero]] = True
            add[i, js[~nonzero]] = d[~nonzero]
            rho = np.round(d[nonzero] / v0[nonzero], 12)
            for val in np.unique(rho):
                row = np.zeros(len(idx))
                row[js[nonzero][rho == val]] = 1.0
                cols.append((i, float(val)))
                rows.append(row)
        M = sparse.csr_matrix(np.array(rows) if rows else np.zeros((0, len(idx))))
        out[a] = Design(idx, cols, M, sparse.csr_matrix(add), nz)
    return out


def parameter_shifts(probe: Probe, samples: xr.Dataset, sl: slice = slice(None)) -> np.ndarray:
    """(S, parameters) the parameter values of samples ``sl`` minus their nominal (read
    from the Dataset chunk by chunk: 100,000 samples of ~300 parameters are 250 MB)."""
    n = len(range(*sl.indices(samples.sizes["sample"])))
    if not probe.responses:
        return np.zeros((n, 0))
    v = samples.variables  # (no DataArray per parameter)
    return np.column_stack([np.asarray(v[r.name].values[sl]) - r.nominal for r in probe.responses])


def _cell_design(dz: Design, shape: tuple[int, ...], cells: Any) -> tuple[np.ndarray, np.ndarray]:
    """A design's flat indices into a (P, R, ...) array, as flat indices into its cells'
    (K, ...) array, and which of the design's elements fall on a cell."""
    P, R = shape[:2]
    rest = int(np.prod(shape[2:], dtype=int))
    kmap = np.full((P, R), -1)
    kmap[cells[0], cells[1]] = np.arange(len(cells[0]))
    pr, tail = np.divmod(dz.idx, rest)
    k = kmap.ravel()[pr]
    on = k >= 0
    return (k[on] * rest + tail[on]), on


@dataclass(frozen=True)
class DesignOn:
    """A :class:`Design` ready to apply to one array as a chunk holds it (on cells or not):
    the flat indices it changes there and their nominal values, the parameter and relative
    change ``rho`` of each column; an element moved by one column takes ``1 + dx · rho``
    of it (``one``), one moved by several the product of theirs (``many``: the elements
    and their columns, padded with a column of ones); elements nominally 0 move additively
    (``addt``, elements x parameters)."""

    idx: np.ndarray  # flat indices: elements moved by factors, then the additive ones
    v0: np.ndarray  # their nominal values
    n_nz: int  # how many move by factors
    param: np.ndarray  # (cols,) parameter position of each column
    rho: np.ndarray  # (cols,) relative change per unit of that parameter
    one: np.ndarray  # (n_nz,) the column of an element moved by one column, else -1
    # elements moved by several columns: their positions, the distinct sets of columns
    # (sets, m) padded with the ones column, and each element's set
    many: tuple[np.ndarray, np.ndarray, np.ndarray]
    addt: Any  # (additive elements, parameters) sparse
    lo: float | None  # bounds of the array (None: none)
    hi: float | None


def _design_on(
    dz: Design, nominal: np.ndarray, cells: Any, pr: bool, bounds: tuple[Any, Any]
) -> DesignOn:
    idx, on = dz.idx, np.ones(len(dz.idx), bool)
    if cells is not None and pr:
        idx, on = _cell_design(dz, nominal.shape, cells)
        nominal = nominal[cells[0], cells[1]]
    nz = dz.nz[on]
    Mt = dz.M.T.tocsr()[np.flatnonzero(on)][np.flatnonzero(nz)]
    n_cols = np.diff(Mt.indptr)
    one = np.where(n_cols == 1, Mt.indices[np.minimum(Mt.indptr[:-1], max(Mt.nnz - 1, 0))], -1)
    addt = dz.add.T.tocsr()[np.flatnonzero(on)][np.flatnonzero(~nz)]
    multi = np.flatnonzero(one < 0)
    m = int(n_cols[multi].max(initial=1))
    cols = np.full((len(multi), m), len(dz.cols))  # the padding column holds ones
    for j, e in enumerate(multi):
        got = Mt.indices[Mt.indptr[e] : Mt.indptr[e + 1]]
        cols[j, : len(got)] = got
    sets, which = np.unique(cols, axis=0, return_inverse=True)
    flat_idx = np.concatenate([idx[nz], idx[~nz]])
    lo, hi = bounds
    v = nominal.ravel().astype(float)
    v = v[np.isfinite(v)]
    if lo is not None and not (np.all(v >= lo) and (hi is None or np.all(v <= hi))):
        lo = hi = None  # the nominal itself is outside: bounds are the whole array's (below)
    return DesignOn(
        flat_idx,
        nominal.ravel()[flat_idx].astype(float),
        int(nz.sum()),
        np.array([i for i, _ in dz.cols], int),
        np.array([r for _, r in dz.cols], float),
        one,
        (multi, sets, np.ravel(which)),
        addt,
        lo,
        hi,
    )


@dataclass(frozen=True)
class Gather:
    """A :class:`DesignOn` ready to evaluate over a chunk: per sample, a table of factors
    (the columns ``1 + dx · rho``, a column of ones, then the product of each distinct set
    of columns); each moved element takes its table column times its nominal value. When
    most elements move, the whole array is one gather (an element no parameter moves takes
    the ones: ``1 · v`` is ``v`` bit for bit); else the nominal array is copied and the
    moved elements written over it."""

    d: DesignOn
    shape: tuple[int, ...]  # the array's dims after the sample
    col: np.ndarray  # (E,) table column of each element (flat); gather mode only
    v0: np.ndarray  # (E,) nominal value of each element
    cm: np.ndarray  # (len(d.idx),) table column of each moved element
    # gather mode: clipping the moved elements to the bounds: "none" (it cannot change
    # them: factors are >= 1e-12 and their nominal values > 0 against a bound of 0 only),
    # "all" (the unmoved elements are inside the bounds: clip the whole array) or "moved"
    clip: str
    gather: bool  # the whole array as one gather (else nominal copy + moved elements)


GATHER_FROM = 0.5  # share of moved elements from which the whole array is one gather


def _gather_of(d: DesignOn, nominal: np.ndarray) -> Gather:
    v0 = nominal.ravel().astype(float)
    C = len(d.param)
    col = np.full(v0.size, C, np.intp)  # C: the ones column
    moved = d.idx[: d.n_nz]
    col[moved] = np.where(d.one >= 0, d.one, C)
    multi, _, which = d.many
    col[moved[multi]] = C + 1 + which
    clip = "none"
    if d.lo is not None:
        rest = np.delete(v0, d.idx)
        inside = np.clip(rest, d.lo, d.hi).view(np.int64) == rest.view(np.int64)
        products_only = d.n_nz == len(d.idx) and bool(np.all(d.v0 > 0))
        if not (d.lo == 0.0 and d.hi is None and products_only):
            clip = "all" if inside.all() else "moved"
    gather = len(d.idx) >= GATHER_FROM * v0.size
    return Gather(d, nominal.shape, col, v0, col[d.idx], clip, gather)


def _factor_table(d: DesignOn, dx: np.ndarray) -> np.ndarray:
    """(S, columns + 1 + sets): the factors of each column, ones, the products of sets."""
    C = len(d.param)
    multi, sets, _ = d.many
    table = np.empty((dx.shape[0], C + 1 + len(sets)))
    f = dx[:, d.param]
    f *= d.rho
    f += 1.0  # (1 + dx · rho, as dx · rho + 1: the same sum)
    np.maximum(f, 1e-12, out=table[:, :C])
    table[:, C] = 1.0
    if len(multi):  # the product of each distinct set of columns, once
        prod = table[:, sets[:, 0]]
        for j in range(1, sets.shape[1]):
            prod *= table[:, sets[:, j]]
        table[:, C + 1 :] = prod
    return table


def _gathered(g: Gather, dx: np.ndarray) -> np.ndarray:
    """(S, E) values of the array under the shifts ``dx`` (S, parameters)."""
    d = g.d
    table = _factor_table(d, dx)
    out = SLABS.empty((dx.shape[0], g.v0.size))
    if not g.gather:
        out[:] = g.v0
        vals = table[:, g.cm]
        vals *= d.v0
        if d.n_nz < len(d.idx):  # nominally 0: additive
            vals[:, d.n_nz :] = d.v0[d.n_nz :] + (d.addt @ dx.T).T
        if d.lo is not None:
            np.clip(vals, d.lo, d.hi, out=vals)
        out[:, d.idx] = vals
        return out
    np.take(table, g.col, axis=1, out=out, mode="wrap")  # (wrap: unbuffered; in range)
    out *= g.v0
    if d.n_nz < len(d.idx):
        out[:, d.idx[d.n_nz :]] = d.v0[d.n_nz :] + (d.addt @ dx.T).T
    if g.clip == "all":
        np.clip(out, d.lo, d.hi, out=out)
    elif g.clip == "moved":
        vals = out[:, d.idx]
        np.clip(vals, d.lo, d.hi, out=vals)
        out[:, d.idx] = vals
    return out


def _apply_responses(
    base: xr.Dataset,
    probe: Probe,
    samples: xr.Dataset,
    sl: slice,
    cells: Any = None,
    dx_all: np.ndarray | None = None,
    unused: frozenset[str] = frozenset(),
    memo: dict[Any, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """The sampled arrays of samples ``sl``: each element a parameter moves is its nominal
    value times the product of ``1 + dx_i · rho``, or its nominal 0 plus a sum of changes;
    the others stay nominal."""
    S = len(range(*sl.indices(samples.sizes["sample"])))
    if probe.design is None:
        probe.design = designs(probe)
    out = _nominal(base, S, cells, memo)
    dx = parameter_shifts(probe, samples, sl) if dx_all is None else dx_all[sl]
    ckey = (cells[0].tobytes(), cells[1].tobytes()) if cells is not None else None
    for a in probe.design:
        if a in unused:
            continue
        g = _gather_for(probe, base, a, cells, ckey)
        if g is None:
            continue
        flat = _gathered(g, dx)
        lo, hi = _BOUNDS.get(a, (None, None))
        if lo is not None and g.d.lo is None:
            np.clip(flat, lo, hi, out=flat)
        out[a] = flat.reshape(S, *g.shape)
    return out


def _gather_for(probe: Probe, base: xr.Dataset, a: str, cells: Any, ckey: Any) -> Gather | None:
    """The :class:`Gather` of array ``a`` on ``cells`` (memoised on the probe); None when
    no parameter moves an element of it there."""
    key = ("gather", a, ckey)
    if key not in probe.design_cells:
        assert probe.design is not None
        bounds = _BOUNDS.get(a, (None, None))
        v = base[a].values
        d = _design_on(probe.design[a], v, cells, a in PR_ARRAYS, bounds)
        if cells is not None and a in PR_ARRAYS:
            v = v[cells[0], cells[1]]
        probe.design_cells[key] = _gather_of(d, v) if len(d.idx) else None
    return probe.design_cells[key]


# bounds of the sampled arrays (lower, upper or None)
_BOUNDS: dict[str, tuple[float, float | None]] = {
    **{a: (0.0, None) for a in NONNEG},
    "availability": (0.0, 1.0),
}


def _nominal(
    base: xr.Dataset, S: int, cells: Any = None, memo: dict[Any, np.ndarray] | None = None
) -> dict[str, np.ndarray]:
    """The nominal arrays broadcast over S samples (read-only views: copy before changing);
    (process, region, ...) arrays on ``cells`` only when given (``memo``: a network's
    :attr:`_NetMemo.nominal`)."""
    return {a: np.broadcast_to(v, (S, *v.shape)) for a, v in _nominal_one(base, cells, memo)}


def _nominal_one(
    base: xr.Dataset, cells: Any, memo: dict[Any, np.ndarray] | None
) -> list[tuple[str, np.ndarray]]:
    """(name, nominal array as float, on ``cells`` when one of PR_ARRAYS) per sampled array."""
    ckey = (cells[0].tobytes(), cells[1].tobytes()) if cells is not None else None
    out = []
    for a in SAMPLED:
        v = None if memo is None else memo.get((a, ckey))
        if v is None:
            v = base[a].values.astype(float)
            if cells is not None and a in PR_ARRAYS:
                v = v[cells[0], cells[1]]
            if memo is not None:
                v.setflags(write=False)
                memo[(a, ckey)] = v
        out.append((a, v))
    return out


def future_arrays(
    net: Network,
    probe: Probe | None,
    samples: xr.Dataset | None,
    sl: slice,
    events: list[SampledEvent],
    n: int | None = None,
    cells: tuple[np.ndarray, np.ndarray] | None = None,
    shifts: np.ndarray | None = None,
    unused: frozenset[str] = frozenset(),
) -> FutureArrays:
    """The arrays of samples ``sl``: parameters through ``probe``, then ``events``. With
    ``cells`` (process, region indices), (process, region, ...) arrays hold only those
    cells; ``shifts``, :func:`parameter_shifts` of all ``samples``, may be passed to skip
    reading the chunk's from the Dataset."""
    base = net.ds
    memo = _memo(net)
    if samples is not None and probe is not None:
        arr = _apply_responses(base, probe, samples, sl, cells, shifts, unused, memo.nominal)
    else:
        arr = _nominal(base, int(n or 1), cells, memo.nominal)
    S = arr["availability"].shape[0]
    d = base["destroyed_fraction"].values
    d = d if cells is None else d[cells[0], cells[1]]
    arr["destroyed_fraction"] = np.broadcast_to(d, (S, *d.shape))
    fa = FutureArrays(arr, cells=cells)
    if samples is not None and probe is not None and probe.curves:
        dx = parameter_shifts(probe, samples, sl) if shifts is None else shifts[sl]
        for a in CURVED:
            key = ("curves", a)
            if key not in probe.design_cells:
                names = [r.name for r in probe.responses]
                plan = _curve_plan(probe.curves, a, names, base[a].values)
                probe.design_cells[key] = plan
            if probe.design_cells[key] is not None:
                fa.structural[a] = _curve_values(probe.design_cells[key], dx)
    idx = memo.index
    for i, se in enumerate(events):
        part = SampledEvent(se.event, se.occurs[sl], se.start[sl], se.duration[sl], se.severity[sl])
        # applied even where no sample of the chunk has it (a factor of 1 there), so that a
        # sample's arrays never depend on which samples share its chunk
        APPLY_SAMPLED[se.event.kind](part, fa, idx, net, f"events.{i}")
    return fa


def _window(se: SampledEvent, idx: evm.EventIndex) -> np.ndarray:
    """(S,T) share of each period in each sample's window ``[start, start + duration)``."""
    end = se.start + se.duration
    return evm.window_share(idx.years[None, :], idx.dt, se.start[:, None], end[:, None])  # type: ignore[arg-type]


def _occ(se: SampledEvent) -> np.ndarray:
    return se.occurs.astype(float)[:, None]


def apply_outage_s(
    se: SampledEvent, fa: FutureArrays, idx: evm.EventIndex, net: Network, at: str
) -> None:
    """Availability x (1 − fraction x profile), per sample; destruction at the start period."""
    ev = se.event
    hit = _hit(net, idx, ev, at)  # (P,R)
    dur = np.where(np.isfinite(se.duration), se.duration, 1e6)[:, None]
    start = se.start[:, None]
    prof = evm.outage_profile(idx.years[None, :], idx.dt, start, dur, ev.recovery_years)  # type: ignore[arg-type]
    hc = fa.on_cells(hit)
    lost = se.severity[:, None] * prof * _occ(se)  # (S,T)
    _times_on(_own(fa, "availability"), hc, 1.0 - lost[:, None, :])
    if ev.destroy_fraction > 0:
        ts = np.clip(np.searchsorted(idx.years, se.start + 1e-9, side="right") - 1, 0, None)
        d = fa.on_cells(ev.destroy_fraction * (hit & idx.buildable[:, None]))
        T = len(idx.years)
        at_t = (np.arange(T)[None, :] == ts[:, None]) & se.occurs[:, None]  # (S,T)
        dn = np.nonzero(d)
        dd = d[dn][None, :, None] * at_t[:, None, :]  # (S, destroyed cells, T)
        df = _own(fa, "destroyed_fraction")
        on_d: Any = (slice(None), *dn)
        df[on_d] = 1.0 - (1.0 - df[on_d]) * (1 - dd)
        _times_on(
            _own(fa, "existing"), hc, 1.0 - ev.destroy_fraction * (prof * _occ(se))[:, None, :]
        )


def _own(fa: FutureArrays, name: str) -> np.ndarray:
    """``fa.arrays[name]`` as an array of this chunk's own (a copy of a read-only view of
    the nominal arrays), to change in place: an event touches only the cells it hits."""
    x = fa.arrays[name]
    if not x.flags.writeable:
        y = fa.arrays[name] = SLABS.empty(x.shape, x.dtype)
        y[...] = x
        x = y
    return x


def _times_on(x: np.ndarray, hit: np.ndarray, m: np.ndarray, op: Any = np.multiply) -> None:
    """``x[:, hit] = op(x[:, hit], m)`` in place (``m`` (S, 1 or hit cells, ...)): per run of
    consecutive hit cells when they are one axis (slices: no gathered copy), else at once."""
    if hit.ndim != 1:
        on: Any = (slice(None), *np.nonzero(hit))
        x[on] = op(x[on], m)
        return
    ks = np.flatnonzero(hit)
    if not len(ks):
        return
    cut = np.flatnonzero(np.diff(ks) != 1) + 1
    starts, ends = np.r_[0, cut], np.r_[cut, len(ks)]
    for i, j in zip(starts.tolist(), ends.tolist(), strict=True):
        part = x[:, ks[i] : ks[j - 1] + 1]
        op(part, m if m.shape[1] == 1 else m[:, i:j], out=part)


def _cellwise(x: np.ndarray) -> np.ndarray:
    """(cells...) -> (1, cells..., 1): against (S, cells..., T)."""
    return x[None, ..., None]


def _timewise(x: np.ndarray, ndim: int) -> np.ndarray:
    """(S, T) -> (S, 1 x ndim, T): against (S, cells..., T)."""
    return x.reshape(x.shape[0], *([1] * ndim), x.shape[1])


def apply_price_s(
    se: SampledEvent, fa: FutureArrays, idx: evm.EventIndex, net: Network, at: str
) -> None:
    """Costs x (1 + severity x share of the period in the window), per sample."""
    ev = se.event
    w = _window(se, idx) * _occ(se)
    f = 1.0 + se.severity[:, None] * w  # (S,T)
    selects = ev.selects_processes or ev.region is not None
    hit = _hit(net, idx, ev, at) if selects else np.zeros_like(idx.exists)
    hc = fa.on_cells(hit)
    hn = np.nonzero(hc)
    if "variable" in ev.costs and len(hn[0]):
        _times_on(_own(fa, "var_cost_usd_per_unit"), hc, f[:, None, :])
    if "capex" in ev.costs and len(hn[0]):
        ol = fa.on_cells(net.ds["open_lead_periods"].values)[hn]  # (hit cells, T)
        s = np.arange(len(idx.years)) - ol
        ok = (ol >= 0) & (s >= 0)
        fs = np.where(ok[None], f[:, np.clip(s, 0, f.shape[1] - 1)], 1.0)  # (S,hit,T)
        _times_on(_own(fa, "capex_usd_per_unit"), hc, fs)
    made = {idx.main_output[i] for i in np.flatnonzero(hit.any(axis=1))}
    accs = np.array([c in made for c in idx.acc_carrier], bool)
    if "variable" in ev.costs:
        # x 1 elsewhere: unchanged bit for bit, so only the selected rows are multiplied
        _times_on(_own(fa, "acc_unit_cost_usd"), accs & idx.acc_merchant, f[:, None, :])
    if "systems" in ev.costs:
        sel = accs if hit.any() else np.ones(len(idx.acc_carrier), bool)
        _times_on(_own(fa, "acc_deploy_cost_usd"), sel, f[:, None, :])


def apply_export_s(
    se: SampledEvent, fa: FutureArrays, idx: evm.EventIndex, net: Network, at: str
) -> None:
    """Approvals of the region move from nominal towards the event's cap by ``severity`` over
    the window (time-weighted in a partly covered period; an unlimited cap stays unlimited
    unless the whole period is in the window)."""
    ev = se.event
    w = _window(se, idx) * _occ(se)
    j = idx.regions.index(ev.region)
    fa.arrays["deploy_cap_units_per_year"] = fa.arrays["deploy_cap_units_per_year"].copy()
    old = fa.arrays["deploy_cap_units_per_year"][:, j, :]  # (S,T)
    low = np.minimum(old, ev.deploy_cap_units_per_year)
    with np.errstate(invalid="ignore"):
        cut = np.where(np.isfinite(old), old - se.severity[:, None] * (old - low), low)
        mixed = old * (1.0 - w) + cut * w
    fa.arrays["deploy_cap_units_per_year"][:, j, :] = np.where(
        w >= 1.0 - 1e-12, cut, np.where((w > 0) & np.isfinite(old), mixed, old)
    )


def apply_funding_s(
    se: SampledEvent, fa: FutureArrays, idx: evm.EventIndex, net: Network, at: str
) -> None:
    """The funder's money arriving in the window x (1 − severity), per sample."""
    ev = se.event
    if fa.funding_by_funder is None:
        _, byf = _funding_by_funder(net.scenario, net.periods, [])
        fa.funding_by_funder = np.broadcast_to(byf, (fa.n, *byf.shape)).copy()
        # parameter changes of the total funding scale every funder alike
        tot = byf.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(tot > 0, fa.arrays["funding_usd"] / np.where(tot > 0, tot, 1), 1.0)
        fa.funding_by_funder *= scale[:, None, :]
    w = _window(se, idx) * _occ(se)
    rows = np.array([ev.funder is None or f == ev.funder for f in idx.funders], bool)
    fa.funding_by_funder *= 1.0 - se.severity[:, None, None] * rows[None, :, None] * w[:, None]
    fa.arrays["funding_usd"] = fa.funding_by_funder.sum(axis=1)


def apply_delay_s(
    se: SampledEvent, fa: FutureArrays, idx: evm.EventIndex, net: Network, at: str
) -> None:
    """Builds of hit cells started in the window take the event's extra periods."""
    ev = se.event
    hit = _hit(net, idx, ev, at, buildable=True)
    nper = max(1, int(np.ceil(round(ev.years / idx.dt, 6))))
    w = _window(se, idx)
    started = (w >= 0.5 - 1e-9) & se.occurs[:, None]  # (S,T)
    hc = fa.on_cells(hit)
    if fa.extra_start is None:
        fa.extra_start = SLABS.empty((fa.n, *hc.shape, len(idx.years)), np.int16)
        fa.extra_start[...] = 0
    _times_on(fa.extra_start, hc, (nper * started[:, None, :]).astype(np.int16), np.add)
    fa.delayed = hc.copy() if fa.delayed is None else (fa.delayed | hc)


APPLY_SAMPLED = {
    "outage": apply_outage_s,
    "price": apply_price_s,
    "export": apply_export_s,
    "funding": apply_funding_s,
    "delay": apply_delay_s,
}


def sample_event_as_scenario_event(ev: dict[str, Any]) -> dict[str, Any]:
    """A sampled event (``sample_inputs(...).events`` item) as a scenario ``events:`` entry
    with the same meaning replay gives it (for re-optimising a sample)."""
    cat = evm.event_catalog()[ev["name"]]
    kind = cat["kind"]
    out: dict[str, Any] = {"use": ev["name"], "start": ev["start"]}
    if ev.get("duration_years"):
        out["duration_years"] = ev["duration_years"]
    if kind in ("outage", "funding"):
        out["fraction"] = ev["fraction"]
    elif kind == "price":
        out["multiplier"] = 1.0 + ev["fraction"]
    return out
