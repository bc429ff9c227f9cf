"""Dependence, measured: on whom and on where the plan's compute depends, period by period.

Everything here reads a solved run only (``Results.dataset``, ``Results.network``):

- **by vendor**: installed H100e by vendor (``own`` for the plan's designs) and the money
  paid for accelerators: a merchant part's purchase price goes to its vendor; everything
  spent on the own chain (fabs, foundry wafers, HBM, CoWoS, assembly: capex, fixed O&M and
  variable costs) counts as ``own``. Systems (servers, networking) and data centers are
  vendor-neutral and not counted.
- **by region**: where each critical input is made (:data:`CRITICAL_INPUTS`), as shares of
  its production in each period, and the Herfindahl–Hirschman index of those shares
  (0–10,000; 10,000 = made in one region).
- **compute that depends on a region** (Taiwan, Korea, ...): H100e with at least one
  critical step made there — wafers, HBM, packaging, assembly or merchant supply.

Attribution rule (the LP does not track which wafer went into which chip): every worldwide
carrier is one pool per period, mixed in proportion to where its units were made; the
inventory carried in joins the pool with the mix it had. A unit made by a process in region
r is *free of R* when r ≠ R (for a critical output) and every input it draws is free of R;
inputs are drawn independently from their pools, so the free share of a process's output is
the product of its inputs' free shares. An accelerator deployed in period t carries the free
share of its pool in t for its whole life. This sits between the best routing (dependent
share = the largest share of R among the inputs) and the worst (their sum).
"""

from __future__ import annotations

from fnmatch import fnmatch
from typing import TYPE_CHECKING, Any

import numpy as np

from .constants import (
    ACCELERATOR,
    CARRIER,
    H100_FLOPS_BF16_DENSE,
    PERIOD,
    PROCESS,
    REGION,
)

if TYPE_CHECKING:
    from .network import Network
    from .results import Results

OWN = "own"
# critical inputs: carriers by name pattern; accelerators are the fleet's carriers
CRITICAL_INPUTS: dict[str, tuple[str, ...]] = {
    "leading_edge_wafers": ("wafer_*",),
    "hbm": ("hbm_wafer", "alloc_hbm"),
    "cowos": ("cowos_wafer",),
    "accelerators": (),
}
INPUT_UNITS = {
    "leading_edge_wafers": "wafers/year",
    "hbm": "wafer-equivalents/year",
    "cowos": "wafers/year",
    "accelerators": "H100e/year",
}
OWN_CHAIN_CATEGORIES = ("fabs", "memory", "packaging", "accelerators")
SPEND_KINDS = ("capex", "fixed_om", "variable")
RULE = (
    "each worldwide carrier is one pool per period, mixed in proportion to where its units "
    "were made (inventory carries its mix forward); a unit is free of region R when the "
    "critical step that made it is outside R and every input it draws is free of R (inputs "
    "drawn independently: free shares multiply); an accelerator keeps the mix of the period "
    "it was deployed in for its whole life"
)


def h100e_per_unit(net: Network) -> np.ndarray:
    """H100-equivalents per accelerator, (A,)."""
    return np.asarray(net.ds["flops_bf16_dense"].values, float) / H100_FLOPS_BF16_DENSE


def input_carriers(net: Network) -> dict[str, dict[str, float]]:
    """Critical input -> {carrier: weight}: wafers, stacks' wafers and CoWoS count 1 per
    unit, accelerators count their H100e per unit. Inputs the network lacks are left out."""
    carriers = [str(c) for c in net.ds.indexes[CARRIER]]
    out: dict[str, dict[str, float]] = {}
    for name, pats in CRITICAL_INPUTS.items():
        if name == "accelerators":
            acc = [str(c) for c in net.ds["acc_carrier"].values]
            w = dict(zip(acc, h100e_per_unit(net), strict=True))
            got = {c: float(w[c]) for c in acc if c in carriers}
        else:
            got = {c: 1.0 for c in carriers if any(fnmatch(c, p) for p in pats)}
        if got:
            out[name] = got
    return out


def production(res: Results) -> np.ndarray:
    """Units of each carrier made, (C, R, T) [units/year]: Σ_p max(io, 0) · activity."""
    io_out = np.clip(np.asarray(res.network.ds["io"].values, float), 0.0, None)  # (P,C)
    act = np.asarray(res.dataset["activity"].values, float)  # (P,R,T)
    return np.einsum("pc,prt->crt", io_out, act)


def input_production(res: Results) -> dict[str, np.ndarray]:
    """Critical input -> (R, T) production in the input's unit (see INPUT_UNITS)."""
    prod = production(res)
    cpos = {str(c): i for i, c in enumerate(res.network.ds.indexes[CARRIER])}
    return {
        name: sum(w * prod[cpos[c]] for c, w in cw.items())  # type: ignore[misc]
        for name, cw in input_carriers(res.network).items()
    }


def shares(x: np.ndarray) -> np.ndarray:
    """Shares along the first axis; NaN where the total is zero.

    >>> shares(np.array([[1.0, 0.0], [3.0, 0.0]])).tolist()
    [[0.25, nan], [0.75, nan]]
    """
    tot = x.sum(axis=0, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tot > 0, x / np.where(tot > 0, tot, 1.0), np.nan)


def hhi(share: np.ndarray) -> np.ndarray:
    """Herfindahl–Hirschman index of shares along the first axis, 0–10,000 (NaN if no
    production).

    >>> float(hhi(np.array([0.5, 0.3, 0.2])))   # 2500 + 900 + 400
    3800.0
    """
    return (np.square(share * 100.0)).sum(axis=0)


def critical_step(net: Network, region: str) -> np.ndarray:
    """(P,R) bool: the process makes a critical input (or an accelerator) in ``region``."""
    out_ = np.clip(np.asarray(net.ds["io"].values, float), 0.0, None)
    carriers = [str(c) for c in net.ds.indexes[CARRIER]]
    critical = {c for cw in input_carriers(net).values() for c in cw}
    crit_out = (out_[:, [carriers.index(c) for c in sorted(critical)]] > 0).any(axis=1)  # (P,)
    in_r = np.array([str(r) == region for r in net.ds.indexes[REGION]])
    return crit_out[:, None] & in_r[None, :]


def _input_index(uses: np.ndarray) -> np.ndarray:
    """(P, J) columns of each process's worldwide inputs, padded with C (a column of ones)."""
    P, C = uses.shape
    J = max(int(uses.sum(axis=1).max(initial=0)), 1)
    idx = np.full((P, J), C)
    for p in range(P):
        cs = np.flatnonzero(uses[p])
        idx[p, : len(cs)] = cs
    return idx


def _chain_levels(makes: np.ndarray, uses: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Topological levels of the chain, or None if it has a cycle: a process's level is one
    more than the highest level of the carriers it draws (0 if none), a carrier's the highest
    level of the processes that make it (0 if none). ``makes``, ``uses`` (P,C) bool."""
    P, C = makes.shape
    p_lev, c_lev = np.zeros(P, int), np.zeros(C, int)
    for _ in range(P + C + 2):
        drawn = np.where(uses, c_lev[None, :] + 1, 0).max(axis=1, initial=0)
        made = np.where(makes, drawn[:, None], 0).max(axis=0, initial=0)
        if np.array_equal(drawn, p_lev) and np.array_equal(made, c_lev):
            return p_lev, c_lev
        p_lev, c_lev = drawn, made
    return None


def _pool_free_rounds(
    out_: np.ndarray,
    glob: np.ndarray,
    idx: np.ndarray,
    made_free: np.ndarray,
    made_all: np.ndarray,
    inventory: np.ndarray,
) -> np.ndarray:
    """The fixed point by rounds (any chain, cyclic too): up to C + 1 rounds per period."""
    S, P, T = made_all.shape
    C = out_.shape[1]
    phi = np.ones((S, C, T))
    for t in range(T):
        carried = inventory[:, :, t - 1] if t > 0 else np.zeros((S, C))
        prev = phi[:, :, t - 1] if t > 0 else np.ones((S, C))
        den = carried + made_all[:, :, t] @ out_
        safe = np.where(den > 0, den, 1.0)
        cur = phi[:, :, t]
        for _ in range(C + 1):
            padded = np.concatenate([cur, np.ones((S, 1))], axis=1)
            free = (made_free[:, :, t] * padded[:, idx].prod(axis=2)) @ out_
            with np.errstate(invalid="ignore", divide="ignore"):
                new = np.where(den > 0, (carried * prev + free) / safe, prev)
            new = np.where(glob[None], new, 1.0)
            if np.allclose(new, cur, atol=1e-12):
                break
            cur = new
        phi[:, :, t] = cur
    return phi


def pool_free_share(
    io: np.ndarray,
    glob: np.ndarray,
    made_free: np.ndarray,
    made_all: np.ndarray,
    inventory: np.ndarray,
) -> np.ndarray:
    """Share of each carrier's pool free of a region's critical steps, (S, C, T), for any
    number S of samples (the attribution rule of the module docstring).

    ``io`` (P,C); ``glob`` (C,) worldwide carriers (the others stay 1); ``made_all``
    (S,P,T) each process's activity in a period [activity x period] and ``made_free``
    (S,P,T) the part of it made outside the region's critical steps; ``inventory`` (S,C,T)
    carried out of each period.

    The chain is acyclic: each period, carriers are settled once each in topological order
    (levels of :func:`_chain_levels`), a process's draw once its inputs are settled."""
    out_, inp = np.clip(io, 0.0, None), np.clip(-io, 0.0, None)
    glob = np.asarray(glob, bool)
    uses = (inp > 0) & glob[None, :]  # (P,C) inputs drawn from worldwide pools
    idx = _input_index(uses)
    levels = _chain_levels(out_ > 0, uses)
    if levels is None:
        return _pool_free_rounds(out_, glob, idx, made_free, made_all, inventory)
    p_lev, c_lev = levels
    S, P, T = made_all.shape
    C = io.shape[1]
    steps = []
    for lev in range(int(max(p_lev.max(initial=0), c_lev.max(initial=0))) + 1):
        ps, cs = np.flatnonzero(p_lev == lev), np.flatnonzero((c_lev == lev) & glob)
        steps.append((ps, idx[ps], cs, np.ascontiguousarray(out_[:, cs])))
    made_t = made_all.transpose(2, 0, 1)  # (T,S,P): a view when periods are outermost
    den_all = made_t @ out_  # (T,S,C)
    phi = np.ones((T, S, C))
    wdraw = np.zeros((S, P))  # made_free x the free share of its inputs, settled processes
    cur = np.ones((S, C + 1))  # column C stays 1 (no input)
    for t in range(T):
        carried = inventory[:, :, t - 1] if t > 0 else np.zeros((S, C))
        prev = phi[t - 1] if t > 0 else np.ones((S, C))
        den = den_all[t] + carried
        kept, safe, pos = carried * prev, np.where(den > 0, den, 1.0), den > 0
        mf = made_free[:, :, t]
        wdraw[:] = 0.0
        for ps, ix, cs, out_cs in steps:
            if len(ps):
                wdraw[:, ps] = mf[:, ps] * cur[:, ix].prod(axis=2)
            if len(cs):
                got = (kept[:, cs] + wdraw @ out_cs) / safe[:, cs]
                cur[:, cs] = np.where(pos[:, cs], got, prev[:, cs])
        phi[t] = cur[:, :C]
    return np.ascontiguousarray(phi.transpose(1, 2, 0))


def free_share(res: Results, region: str) -> np.ndarray:
    """Share of each carrier's pool free of any critical step made in ``region``, (C, T)
    (the attribution rule of the module docstring). Rate and regional carriers stay 1."""
    net, ds = res.network, res.dataset
    io = np.asarray(net.ds["io"].values, float)
    C, T = io.shape[1], ds.sizes[PERIOD]
    glob = np.asarray(net.ds["carrier_scope"].values) == "global"
    step = critical_step(net, region)
    made = np.asarray(ds["activity"].values, float) * net.periods.dt  # (P,R,T) per period
    inv = np.asarray(ds["inventory"].values, float) if "inventory" in ds else np.zeros((C, T))
    made_free = (made * ~step[:, :, None]).sum(axis=1)
    return pool_free_share(io, glob, made_free[None], made.sum(axis=1)[None], inv[None])[0]


def window_sum(x: np.ndarray, life: np.ndarray) -> np.ndarray:
    """Σ of ``x`` (..., A, R, T) over the periods (t − life, t] of each accelerator;
    ``life`` (A,) or per sample (..., A).

    >>> window_sum(np.array([[[1.0, 2.0, 4.0]]]), np.array([2])).tolist()
    [[[1.0, 3.0, 6.0]]]
    """
    T = x.shape[-1]
    cum = np.concatenate([np.zeros((*x.shape[:-1], 1)), np.cumsum(x, axis=-1)], axis=-1)
    t = np.arange(T)
    lo = np.maximum(0, t - np.asarray(life, int)[..., None] + 1)[..., None, :]  # (...,A,1,T)
    hi = np.broadcast_to(t + 1, x.shape)
    return np.take_along_axis(cum, hi, -1) - np.take_along_axis(
        cum, np.broadcast_to(lo, x.shape), -1
    )


def dependent_from_share(
    phi_acc: np.ndarray, deployed: np.ndarray, installed: np.ndarray, life: np.ndarray, h: Any
) -> np.ndarray:
    """Installed H100e (..., T) that depends on a region: each accelerator deployed in a
    period keeps that period's dependent share ``1 − phi_acc`` (..., A, T) for its life.
    ``deployed``, ``installed`` (..., A, R, T); ``h`` H100e per unit (A,) or (..., A)."""
    dep_frac = (1.0 - phi_acc)[..., :, None, :]
    window = window_sum(deployed, life)
    window_dep = window_sum(deployed * dep_frac, life)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(window > 0, window_dep / np.where(window > 0, window, 1.0), 0.0)
    return np.einsum("...art,...a->...t", installed * frac, np.asarray(h, float))


def dependent_h100e(res: Results, region: str) -> np.ndarray:
    """Installed H100e with a critical step made in ``region``, by period (T,)."""
    net, ds = res.network, res.dataset
    phi = free_share(res, region)
    cpos = {str(c): i for i, c in enumerate(net.ds.indexes[CARRIER])}
    phi_acc = phi[[cpos[str(c)] for c in net.ds["acc_carrier"].values]]  # (A,T)
    deployed = np.asarray(ds["deployed"].values, float)  # (A,R,T)
    installed = np.asarray(ds["installed"].values, float)
    life = np.asarray(net.ds["acc_life_periods"].values, int)
    return dependent_from_share(phi_acc, deployed, installed, life, h100e_per_unit(net))


def dependence_coords(net: Network) -> dict[str, tuple[str, list]]:
    """What the measures need beyond the network Dataset, as coordinates the results Dataset
    keeps (so a saved run reproduces them): each accelerator's vendor and whether each
    enabled region's deployments need an export approval (catalog flag or scenario cap)."""
    cap = np.asarray(net.ds["deploy_cap_units_per_year"].values, float)
    enabled = np.asarray(net.ds["region_enabled"].values, bool)
    ec = [
        bool(enabled[j])
        and (
            float(net.catalog.value(f"regions.{r}.export_controlled", 0.0) or 0.0) > 0
            or bool(np.isfinite(cap[j]).any())
        )
        for j, r in enumerate(net.ds.indexes[REGION])
    ]
    vendors = []
    for a in net.ds.indexes[ACCELERATOR]:
        item = net.fleet[str(a)]
        vendors.append(OWN if item.kind == "custom" else str(item.vendor))
    return {"acc_vendor": (ACCELERATOR, vendors), "export_controlled": (REGION, ec)}


def _coord(res: Results, name: str) -> list:
    """A coordinate of :func:`dependence_coords`, from the results (else the network)."""
    if name in res.dataset.coords:
        return list(res.dataset.coords[name].values)
    return list(dependence_coords(res.network)[name][1])


def vendor_of(res: Results) -> dict[str, str]:
    """Accelerator -> vendor (``own`` for the plan's designs)."""
    accs = [str(a) for a in res.network.ds.indexes[ACCELERATOR]]
    return dict(zip(accs, [str(v) for v in _coord(res, "acc_vendor")], strict=True))


def compute_by_vendor(res: Results) -> dict[str, np.ndarray]:
    """Installed H100e by vendor, by period."""
    inst = np.asarray(res.dataset["installed"].sum(REGION).values, float)  # (A,T)
    h = h100e_per_unit(res.network)
    out: dict[str, np.ndarray] = {}
    for i, (_, v) in enumerate(vendor_of(res).items()):
        out[v] = out.get(v, 0.0) + inst[i] * h[i]
    return out


def spend_by_vendor(res: Results) -> dict[str, np.ndarray]:
    """Money paid for accelerators by vendor, by period [USD] (rule in the module docstring)."""
    net, ds = res.network, res.dataset
    io = np.asarray(net.ds["io"].values, float)
    carriers = [str(c) for c in net.ds.indexes[CARRIER]]
    acc_c = [str(c) for c in net.ds["acc_carrier"].values]
    acc_vendor = dict(zip(acc_c, vendor_of(res).values(), strict=True))
    spend = np.sum(
        [np.asarray(ds[f"spend_{k}_usd"].sum(REGION).values, float) for k in SPEND_KINDS],
        axis=0,
    )  # (P,T)
    cat = [str(c) for c in net.ds["category"].values]
    out: dict[str, np.ndarray] = {}
    for p in range(len(cat)):
        made = [carriers[c] for c in np.flatnonzero(io[p] > 0)]
        vend = next((acc_vendor[c] for c in made if c in acc_vendor), None)
        if vend is None and cat[p] in OWN_CHAIN_CATEGORIES:
            vend = OWN
        if vend is not None:
            out[vend] = out.get(vend, 0.0) + spend[p]
    return out


def export_controlled_regions(res: Results) -> list[str]:
    """Enabled regions whose deployments need an export approval: the catalog flags them
    (``regions.<R>.export_controlled``) or the scenario caps their deployments."""
    regions = res.network.ds.indexes[REGION]
    return [str(r) for r, ec in zip(regions, _coord(res, "export_controlled"), strict=True) if ec]


def _list(x: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(x, float)]


def _share_of(x: np.ndarray, tot: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(tot > 0, x / np.where(tot > 0, tot, 1.0), np.nan)


def dependence_of(res: Results, dependent_in: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Every dependence figure of a solved run, by period (the ``fab2flop dependence
    --json`` payload); ``dependent_in`` limits ``dependent_h100e`` to those regions (the
    summary needs Taiwan and Korea only: each region is a pass over the chain)."""
    ds, net = res.dataset, res.network
    total = np.asarray(ds["compute_h100e"].values, float)
    regions = [str(r) for r in net.ds.indexes[REGION]]
    by_vendor = compute_by_vendor(res)
    spend_v = spend_by_vendor(res)
    spend_tot = np.sum(list(spend_v.values()), axis=0) if spend_v else np.zeros(len(total))
    prod = input_production(res)
    by_region, hh = {}, {}
    for name, x in prod.items():
        s = shares(x)
        by_region[name] = {r: _list(s[j]) for j, r in enumerate(regions) if np.nansum(s[j]) > 0}
        hh[name] = _list(hhi(s))
    dep = {
        r: dependent_h100e(res, r)
        for r in regions
        if (dependent_in is None or r in dependent_in) and _makes_critical(prod, regions, r)
    }
    zero = np.zeros(len(total))
    ec = export_controlled_regions(res)
    ec_h = (
        np.asarray(ds["compute_flops_regional"].sel({REGION: ec}).sum(REGION).values, float)
        / H100_FLOPS_BF16_DENSE
        if ec
        else zero
    )
    out: dict[str, Any] = {
        "scenario": net.scenario.name,
        "status": res.status.value,
        "periods": res.periods,
        "compute_h100e": _list(total),
        "by_vendor": {v: _list(_share_of(x, total)) for v, x in by_vendor.items()},
        "by_vendor_h100e": {v: _list(x) for v, x in by_vendor.items()},
        "spend_by_vendor_usd": {v: _list(x) for v, x in spend_v.items()},
        "spend_by_vendor_share": {v: _list(_share_of(x, spend_tot)) for v, x in spend_v.items()},
        "by_region": by_region,
        "input_units": {k: INPUT_UNITS[k] for k in prod},
        "input_production": {k: _list(x.sum(axis=0)) for k, x in prod.items()},
        "hhi": hh,
        "taiwan_dependent_h100e": _list(dep.get("TW", zero)),
        "taiwan_dependent_share": _list(_share_of(dep.get("TW", zero), total)),
        "korea_dependent_h100e": _list(dep.get("KR", zero)),
        "korea_dependent_share": _list(_share_of(dep.get("KR", zero), total)),
        "dependent_h100e": {r: _list(x) for r, x in dep.items()},
        "export_controlled_regions": ec,
        "export_controlled_h100e": _list(ec_h),
        "export_controlled_share": _list(_share_of(ec_h, total)),
        "rule": RULE,
    }
    out["line"] = summary_line(out)
    return out


def _makes_critical(prod: dict[str, np.ndarray], regions: list[str], r: str) -> bool:
    j = regions.index(r)
    return any(float(x[j].sum()) > 0 for x in prod.values())


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}"


def summary_line(d: dict[str, Any]) -> str:
    """One line: first and last period with compute, vendor and regional dependence."""
    tot = d["compute_h100e"]
    idx = [i for i, v in enumerate(tot) if v and v > 0]
    if not idx:
        return "no compute installed"
    a, b = idx[0], idx[-1]
    pa, pb = d["periods"][a], d["periods"][b]

    def span(xs: list[float | None]) -> str:
        return f"{_pct(xs[a])} ({pa}) -> {_pct(xs[b])} ({pb})"

    parts = []
    for v in sorted(d["by_vendor"], key=lambda v: -(d["by_vendor"][v][b] or 0.0))[:3]:
        if any((x or 0) > 0.005 for x in d["by_vendor"][v]):
            parts.append(f"{v} {span(d['by_vendor'][v])}")
    parts.append(f"Taiwan-dependent {span(d['taiwan_dependent_share'])}")
    parts.append(f"Korea-dependent {span(d['korea_dependent_share'])}")
    if d["export_controlled_regions"]:
        ec = ",".join(d["export_controlled_regions"])
        parts.append(f"in export-controlled {ec} {span(d['export_controlled_share'])}")
    return "share of H100e: " + "; ".join(parts)


def dependence_summary(res: Results) -> dict[str, Any]:
    """The compact form kept in ``Results.summary()``."""
    if not res.status.ok or ACCELERATOR not in res.dataset.dims or PROCESS not in res.dataset.dims:
        return {}
    d = dependence_of(res, dependent_in=("TW", "KR"))  # the keys below need no other
    keys = (
        "line",
        "by_vendor",
        "taiwan_dependent_share",
        "korea_dependent_share",
        "export_controlled_share",
    )
    return {k: d[k] for k in keys}


__all__ = [
    "CRITICAL_INPUTS",
    "critical_step",
    "dependence_coords",
    "dependence_of",
    "dependence_summary",
    "dependent_from_share",
    "dependent_h100e",
    "free_share",
    "hhi",
    "input_carriers",
    "input_production",
    "pool_free_share",
    "shares",
    "spend_by_vendor",
    "window_sum",
]
