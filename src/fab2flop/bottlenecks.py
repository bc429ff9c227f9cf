"""The bottleneck report: which constraints bind, when, and what relaxing them is worth.

It reads a solution Dataset (duals already in objective units per natural unit, see
:mod:`fab2flop.solution`), the network Dataset and the registry of constraint families; the
words, units and grouping come from the registry, so nothing here names a family or a
process. In a compute-maximising run a dual is in (discounted) H100e-years; it is converted
to dollars by dividing by the dual of the money family in the same period — the compute
that one more dollar arriving then would buy. In a cost-minimising run duals are already in
(discounted) dollars.

``Bottleneck.shadow_price`` and ``importance`` are in million H100e-years (compute
objectives) or USD (cost objective) per unit of ``unit``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from string import Formatter
from typing import Any

import numpy as np
import xarray as xr

from .constants import PERIOD, REGION, SAMPLE, Objective
from .lp.core import aligned
from .lp.registry import CONSTRAINTS, Basis, Family, Group, Registry
from .solution import family_scale

TOL = 1e-7  # |dual| in model units below which a constraint does not bind (solver noise)
# The objective's cost tie-break (EPS_COST per billion USD of discounted spend) gives every
# unit a shadow price of at most EPS_COST x its cost: for anything costing under $100M
# (a MW of campus ~$14M, a wafer <$50k, an accelerator <$150k) that is below
# 1e-6 x 0.1 = 1e-7 million H100e-years = 0.1 H100e-years. Smaller duals are noise.
MIN_H100E_YEARS = 0.1
REPORT_COMPUTE_UNIT = 1e6  # shadow prices of compute objectives are per million H100e-years
_REPORTED = (Group.LIMIT, Group.BALANCE, Group.MONEY, Group.TARGET)
_FIRST_ORDER = {Group.LIMIT: 0, Group.MONEY: 1, Group.TARGET: 1}


@dataclass(frozen=True)
class Bottleneck:
    """One binding constraint in one period."""

    constraint: str  # family, e.g. "market-cap"
    item: str  # process or carrier it concerns ("cowos_market", "cowos_wafer", "money")
    region: str | None
    period: Any
    shadow_price: float  # objective per natural unit (see the module docstring and unit)
    unit: str  # what "one more" means, e.g. "wafer/month"
    value_usd: float | None  # dollars of compute one more unit is worth (None if money is free)
    importance: float  # |dual| × size of the constraint: how much objective it holds up
    description: str

    def to_dict(self) -> dict[str, Any]:
        # asdict() without its deep copies: every field is a number, text or None
        d = {name: getattr(self, name) for name in _BOTTLENECK_FIELDS}
        d["period"] = _plainval(d["period"])
        return d


_BOTTLENECK_FIELDS = tuple(f.name for f in fields(Bottleneck))


def display_unit(unit: str) -> tuple[str, float]:
    """A natural unit as the report says it, and natural units per displayed unit:
    capacities in wafers/year are said per month (the industry's unit), counts singular."""
    if unit.startswith(("wafers/year", "wafer-equivalents/year")):
        return unit.split("/")[0][:-1] + "/month", 12.0
    if unit.startswith("units/year"):
        return "unit/year", 1.0
    if "/" not in unit and unit != "MW":
        return unit.rstrip("s"), 1.0
    return unit, 1.0


def _fmt_usd(x: float) -> str:
    a = abs(x)
    for div, suf in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            return f"${x / div:,.1f}{suf}"
    return f"${x:,.0f}"


def _worth(v: float | None, h100e_years: float, minimise: bool) -> str:
    if v is not None:
        return f"worth {_fmt_usd(v)} of savings" if minimise else f"worth {_fmt_usd(v)} of compute"
    hs = f"{h100e_years:,.0f}" if h100e_years >= 10 else f"{h100e_years:.3g}"
    return f"worth {hs} H100e-years of compute (discounted; money does not bind)"


def _when(period: Any, dt: float, basis: Basis) -> str:
    """'in 2025'; for periods shorter than a year it says what the value covers."""
    if dt >= 1.0 - 1e-9:
        return f"in {period}"
    span = "quarter" if abs(dt - 0.25) < 1e-9 else f"{dt:g}-year period"
    if basis is Basis.RATE:
        return f"in {period} (held for that {span} only)"
    if basis is Basis.AMOUNT:
        return f"in {period} (within that {span})"
    return f"in {period}"


def _item_names(
    template: str, dim: str | None, net_ds: xr.Dataset, sol: xr.Dataset
) -> dict[str, dict[str, str]]:
    """For each ``{field}`` of a unit or name template, its text by item: the item itself
    (the field is the item's dimension) or a 1-D array along it (solution, then network).
    Items of a dimension the network lacks (e.g. ``input``) are the solution's."""
    out: dict[str, dict[str, str]] = {}
    fields = {f for _, f, _, _ in Formatter().parse(template) if f}
    if dim is None:
        return out
    items = [str(i) for i in (sol if dim in sol.indexes else net_ds).indexes[dim]]
    for f in fields:
        if f == dim:
            out[f] = {i: i for i in items}
            continue
        for src in (sol, net_ds):
            if f in src.variables and src[f].dims == (dim,):
                out[f] = {
                    str(i): str(v) for i, v in zip(src.indexes[dim], src[f].values, strict=True)
                }
                break
        else:
            if f == "process_label":  # a network without labels: the name in words
                out[f] = {i: i.replace("_", " ") for i in items}
    return out


def _fill(template: str, names: dict[str, dict[str, str]], item: str) -> str:
    if "{" not in template:
        return template
    return template.format(**{k: v[item] for k, v in names.items()})


@dataclass(frozen=True)
class _Context:
    net_ds: xr.Dataset
    sol: xr.Dataset
    minimise: bool
    report_scale: float  # natural objective units per reported unit
    lam: np.ndarray | None  # |money dual| per USD, by period (natural objective units)
    lam_binds: np.ndarray
    periods: list
    dt: float


def _binds(dual: xr.DataArray, fam: Family, net_ds: xr.Dataset, sol: xr.Dataset) -> np.ndarray:
    """Where the dual in model units (natural / scale / objective scale) exceeds TOL, the
    solver's own scale of noise."""
    scale = family_scale(fam, net_ds, sol)
    tol = TOL * float(sol.attrs["objective_scale"])
    if isinstance(scale, xr.DataArray):
        try:  # numpy when the scale's items are the dual's (they are: same network)
            coords = {d: dual.indexes[d] for d in dual.dims}
            lim = tol * np.abs(aligned(scale, dual.dims, coords, "scale"))
        except (ValueError, KeyError):
            lim = tol * np.abs(scale.broadcast_like(dual).transpose(*dual.dims).values)
    else:
        lim = tol * abs(scale)
    return np.abs(np.nan_to_num(dual.values)) > lim


def _context(net_ds: xr.Dataset, sol: xr.Dataset, registry: Registry) -> _Context:
    minimise = sol.attrs["objective"] == Objective.MIN_COST_FOR_PATH.value
    money = registry.money()
    lam = None
    binds = np.zeros(net_ds.sizes[PERIOD], bool)
    if money is not None and money.solution_name in sol and not minimise:
        d = sol[money.solution_name].transpose(PERIOD)
        lam = np.abs(np.nan_to_num(d.values))
        binds = _binds(d, money, net_ds, sol)
    return _Context(
        net_ds,
        sol,
        minimise,
        1.0 if minimise else REPORT_COMPUTE_UNIT,
        lam,
        binds,
        [_plainval(p) for p in net_ds.indexes[PERIOD]],
        float(net_ds.attrs["dt_years"]),
    )


def _value_usd(dual_nat: float, t: int, ctx: _Context) -> float | None:
    if ctx.minimise:
        return dual_nat
    if ctx.lam is not None and ctx.lam_binds[t]:
        return dual_nat / ctx.lam[t]
    return None


def _family_items(fam: Family, ctx: _Context) -> list[Bottleneck]:
    """The binding items of one family, in natural units and words."""
    sol, net_ds = ctx.sol, ctx.net_ds
    if fam.solution_name not in sol:
        return []
    dual = sol[fam.solution_name].transpose(*fam.dims)
    rhs = sol[f"rhs_{fam.name}"].transpose(*fam.dims) if f"rhs_{fam.name}" in sol else None
    dvals = np.abs(np.nan_to_num(dual.values))
    rvals = np.nan_to_num(rhs.values, posinf=0.0, neginf=0.0) if rhs is not None else None
    hit = _binds(dual, fam, net_ds, sol)
    idim = fam.item_dim
    units = _item_names(fam.unit, idim, net_ds, sol)
    whats = _item_names(fam.what, idim, net_ds, sol)
    out = []
    # looked up once, not per binding cell (DataArray.indexes and .values build objects)
    labels = {d: [str(x) for x in idx] for d, idx in dual.indexes.items()}
    raw = dual.values
    for idx in zip(*np.nonzero(hit), strict=True):
        pos = dict(zip(fam.dims, idx, strict=True))
        t = int(pos[PERIOD])
        item = labels[idim][pos[idim]] if idim else fam.what
        region = labels[REGION][pos[REGION]] if REGION in pos else None
        unit, f = fam.unit, 1.0
        if "{" in unit:
            unit, f = display_unit(_fill(unit, units, item))
        d = float(dvals[idx]) * f  # natural objective units per displayed unit
        if not (fam.group in (Group.MONEY, Group.TARGET) or ctx.minimise):
            if d < MIN_H100E_YEARS:  # only the cost tie-break priced it
                continue
        v = _value_usd(d, t, ctx)
        imp = abs(float(raw[idx]) * float(rvals[idx])) if rvals is not None else 0.0
        words = {
            "unit": unit,
            "what": _fill(fam.what, whats, item),
            "region": region or "",
            "in_region": f" in {region}" if region else "",
            "when": _when(ctx.periods[t], ctx.dt, fam.basis),
            "worth": _worth(v, d, ctx.minimise),
            "cost": _fmt_usd(d),
            "thousand_per_billion": f"{d * 1e6:.3g}",
        }
        out.append(
            Bottleneck(
                fam.name,
                item,
                region,
                ctx.periods[t],
                d / ctx.report_scale,
                unit,
                v,
                float(np.nan_to_num(imp / ctx.report_scale)),
                fam.phrase.format(**words),
            )
        )
    return out


def bottlenecks(net_ds: Any, sol: xr.Dataset | None = None, registry: Registry | None = None):
    """All binding constraints of a solution, most important first.

    ``bottlenecks(net_ds, sol, registry)``: the network Dataset, a solution (or results)
    Dataset and the registry it was read with (default: the one stored on ``sol``). With a
    ``sample`` dimension on ``sol`` it returns one list per sample. A solved LP may be
    passed alone (``bottlenecks(lp)``): it is read first.
    """
    if sol is None and hasattr(net_ds, "model"):  # a solved LP
        from .solution import read_solution

        lp = net_ds
        net_ds, sol, registry = lp.net.ds, read_solution(lp), lp.registry
    assert sol is not None
    if registry is None:
        registry = Registry.from_json(sol.attrs["registry"])
    if SAMPLE in sol.dims:
        return [
            bottlenecks(net_ds, sol.isel({SAMPLE: i}), registry) for i in range(sol.sizes[SAMPLE])
        ]
    ctx = _context(net_ds, sol, registry)
    fams = sorted(registry.constraints(*_REPORTED), key=lambda f: _REPORTED.index(f.group))
    out: list[Bottleneck] = []
    for fam in fams:
        if fam.group is Group.MONEY and ctx.minimise:
            continue  # in a cost objective money is what the duals are measured in
        out += _family_items(fam, ctx)
    out.sort(key=lambda b: (-b.importance, str(b.period)))
    return out


def _group_of(name: str, registry: Registry | None) -> Group | None:
    if registry is not None and name in registry:
        return registry[name].group
    fam = CONSTRAINTS.get(name)
    return fam.group if fam else None


def first_binding(items: list[Bottleneck], registry: Registry | None = None) -> Bottleneck | None:
    """The earliest-period binding external limit (not a carrier balance or money)."""
    ext = [b for b in items if _group_of(b.constraint, registry) is Group.LIMIT]
    if not ext:
        return None
    return min(ext, key=lambda b: (str(b.period), -b.importance))


@dataclass(frozen=True)
class BottleneckGroup:
    """One constraint over all the periods in which it binds."""

    constraint: str
    item: str
    region: str | None
    first_period: Any
    last_period: Any
    n_periods: int
    importance: float
    first: Bottleneck  # the entry of the first binding period
    peak: Bottleneck  # the entry with the highest shadow price

    def to_dict(self) -> dict[str, Any]:
        d = {
            k: getattr(self, k) for k in ("constraint", "item", "region", "n_periods", "importance")
        }
        d["first_period"] = _plainval(self.first_period)
        d["last_period"] = _plainval(self.last_period)
        d["first"] = self.first.to_dict()
        d["peak"] = self.peak.to_dict()
        return d


def _plainval(x: Any) -> Any:
    return x.item() if isinstance(x, np.generic) else x


def group_bottlenecks(
    items: list[Bottleneck], registry: Registry | None = None
) -> list[BottleneckGroup]:
    """Bottlenecks grouped by (constraint, item, region): external limits first (what a
    strategist can negotiate), then money and targets, then balances; by importance."""
    groups: dict[tuple, list[Bottleneck]] = {}
    for b in items:
        groups.setdefault((b.constraint, b.item, b.region), []).append(b)
    out = []
    for (c, i, r), bs in groups.items():
        bs = sorted(bs, key=lambda b: str(b.period))
        out.append(
            BottleneckGroup(
                c,
                i,
                r,
                bs[0].period,
                bs[-1].period,
                len(bs),
                sum(b.importance for b in bs),
                bs[0],
                max(bs, key=lambda b: b.shadow_price),
            )
        )

    def order(g: BottleneckGroup) -> int:
        grp = _group_of(g.constraint, registry)
        return _FIRST_ORDER.get(grp, 2) if grp is not None else 2

    out.sort(key=lambda g: (order(g), -g.importance, str(g.first_period)))
    return out
