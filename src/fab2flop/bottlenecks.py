"""The bottleneck report: which constraints bind, when, and what relaxing them is worth.

It reads the LP duals (shadow prices) and turns them into natural units and words. In a
compute-maximising run a dual is in objective units (discounted million H100e-years); it is
converted to dollars by dividing by the dual of the money constraint in the same period —
the compute that one more dollar arriving then would buy. In a cost-minimising run duals
are already in (discounted) dollars.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .constants import CARRIER, PERIOD, PROCESS, REGION, Objective
from .policy import policy_bottlenecks

if TYPE_CHECKING:
    from .lp.model import LP

TOL = 1e-7
# The objective's cost tie-break (EPS_COST per billion USD of discounted spend) gives every
# unit a shadow price of at most EPS_COST x its cost: for anything costing under $100M
# (a MW of campus ~$14M, a wafer <$50k, an accelerator <$150k) that is below
# 1e-6 x 0.1 = 1e-7 million H100e-years = 0.1 H100e-years. Smaller duals are noise.
MIN_H100E_YEARS = 0.1


@dataclass(frozen=True)
class Bottleneck:
    """One binding constraint in one period."""

    constraint: str  # family, e.g. "market-cap"
    item: str  # process or carrier it concerns ("cowos_market", "cowos_wafer", "money")
    region: str | None
    period: Any
    shadow_price: float  # objective units per natural unit (see unit)
    unit: str  # what "one more" means, e.g. "wafer/month of capacity"
    value_usd: float | None  # dollars of compute one more unit is worth (None if money is free)
    importance: float  # |dual| × size of the constraint: how much objective it holds up
    description: str

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if isinstance(d["period"], np.generic):
            d["period"] = d["period"].item()
        return d


def _per_month(unit: str) -> tuple[str, float]:
    """Express capacities in wafers/year as wafer/month (the industry's unit)."""
    if unit.startswith("wafers/year") or unit.startswith("wafer-equivalents/year"):
        return unit.split("/")[0][:-1] + "/month", 12.0
    if unit.startswith("units/year"):
        return "unit/year", 1.0
    return unit, 1.0


_PLAIN = {
    "cowos_market": "CoWoS capacity reserved at TSMC",
    "hbm_market": "HBM supply bought from SK hynix/Samsung/Micron",
    "grid": "grid power contracted",
    "power_build_limit": "power-plant construction starts",
    "datacenter_lease": "leasable data-center capacity",
    "nvidia_supply": "Nvidia GPUs available to buy",
    "amd_supply": "AMD GPUs available to buy",
}


def _plain(name: str) -> str:
    if name in _PLAIN:
        return _PLAIN[name]
    if name.startswith("foundry_"):
        return f"{name.split('_', 1)[1]} foundry wafers reserved"
    return name.replace("_", " ")


def _fmt_usd(x: float) -> str:
    a = abs(x)
    for div, suf in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            return f"${x / div:,.1f}{suf}"
    return f"${x:,.0f}"


def _worth(v: float | None, per_nat: float, minimise: bool, compute_scale: float) -> str:
    if v is not None:
        return f"worth {_fmt_usd(v)} of savings" if minimise else f"worth {_fmt_usd(v)} of compute"
    # money is not scarce: say it in compute (objective units are compute_scale H100e-years)
    h = per_nat * compute_scale
    hs = f"{h:,.0f}" if h >= 10 else f"{h:.3g}"
    return f"worth {hs} H100e-years of compute (discounted; money does not bind)"


def bottlenecks(lp: LP) -> list[Bottleneck]:
    """All binding constraints of the solved LP, most important first."""
    m, net = lp.model, lp.net
    ds = net.ds
    sc = lp.scaling
    obj = net.scenario.objective.kind
    periods = list(ds.indexes[PERIOD])
    minimise = obj is Objective.MIN_COST_FOR_PATH
    # value of one more model-dollar (billion USD) arriving in each period, objective units
    lam = np.zeros(len(periods))
    if "cash" in m.constraints and not minimise:
        lam = np.abs(np.nan_to_num(m.constraints["cash"].dual.values))

    def usd(dual: float, t: int) -> float | None:
        if minimise:
            return abs(dual) * sc.money
        if lam[t] > TOL:
            return abs(dual) / lam[t] * sc.money
        return None

    out: list[Bottleneck] = []
    pidx = list(ds.indexes[PROCESS])
    units = ds["activity_unit"].values
    avail = ds["availability"].values

    for fam in ("market-cap", "capacity-max"):
        if fam not in m.constraints:
            continue
        con = m.constraints[fam]
        dual = np.nan_to_num(con.dual.values)
        rhs = np.nan_to_num(con.rhs.values)
        for p, r, t in zip(*np.nonzero(np.abs(dual) > TOL), strict=True):
            unit, f = _per_month(str(units[p]))
            per_nat = (
                abs(dual[p, r, t])
                * (avail[p, r, t] if fam == "market-cap" else 1.0)
                / sc.process[p]
                * f
            )
            v = usd(per_nat, t)
            name = pidx[p]
            reg = str(ds.indexes[REGION][r])
            what = _plain(name) if fam == "market-cap" else f"the cap on {name}"
            worth = _worth(v, per_nat, minimise, sc.compute)
            out.append(
                Bottleneck(
                    fam,
                    name,
                    reg,
                    periods[t],
                    per_nat,
                    unit,
                    v,
                    abs(dual[p, r, t] * rhs[p, r, t]),
                    f"One more {unit} of {what} ({reg}) in {periods[t]} is {worth}.",
                )
            )

    cidx = list(ds.indexes[CARRIER])
    cscale = dict(zip(cidx, sc.carrier, strict=True))
    cunit = dict(zip(cidx, ds["carrier_unit"].values, strict=True))
    for fam in ("balance", "balance-regional"):
        if fam not in m.constraints:
            continue
        con = m.constraints[fam]
        dual = np.nan_to_num(con.dual.values)
        carriers = list(con.dual.indexes[CARRIER])
        for idx in zip(*np.nonzero(np.abs(dual) > TOL), strict=True):
            c = carriers[idx[0]]
            creg: str | None = (
                str(con.dual.indexes[REGION][idx[1]]) if fam == "balance-regional" else None
            )
            t = idx[-1]
            per_nat = abs(dual[idx]) / cscale[c]
            v = usd(per_nat, t)
            u = str(cunit[c]).rstrip("s") if cunit[c] != "MW" else "MW"
            where = f" in {creg}" if creg else ""
            worth = _worth(v, per_nat, minimise, sc.compute)
            out.append(
                Bottleneck(
                    fam,
                    c,
                    creg,
                    periods[t],
                    per_nat,
                    u,
                    v,
                    0.0,
                    f"One more {u} of {c}{where} in {periods[t]} is {worth}.",
                )
            )

    if "export-cap" in m.constraints:
        con = m.constraints["export-cap"]
        dual = np.nan_to_num(con.dual.values)
        rhs = np.nan_to_num(con.rhs.values)
        s_mean = sc.accelerator.mean()
        for r, t in zip(*np.nonzero(np.abs(dual) > TOL), strict=True):
            per_nat = abs(dual[r, t]) * net.periods.dt / s_mean
            v = usd(per_nat, t)
            reg = str(ds.indexes[REGION][r])
            worth = _worth(v, per_nat, minimise, sc.compute)
            out.append(
                Bottleneck(
                    "export-cap",
                    "export approval",
                    reg,
                    periods[t],
                    per_nat,
                    "accelerator/year approved",
                    v,
                    abs(dual[r, t] * rhs[r, t]),
                    f"Approval for one more accelerator a year in {reg} in {periods[t]} "
                    f"is {worth}.",
                )
            )

    out += policy_bottlenecks(lp, usd)  # the policy-max-share family (fab2flop.policy)
    if "cash" in m.constraints and not minimise:
        con = m.constraints["cash"]
        fund = np.nan_to_num(con.rhs.values)
        for t in np.flatnonzero(lam > TOL):
            per_usd = lam[t] / sc.money
            out.append(
                Bottleneck(
                    "cash",
                    "money",
                    None,
                    periods[t],
                    per_usd,
                    "USD",
                    1.0,
                    lam[t] * fund[t],
                    f"Money binds in {periods[t]}: one more $1B arriving then buys "
                    f"{lam[t] * 1e3:.3g} thousand discounted H100e-years.",
                )
            )
    if "compute-path" in m.constraints:
        con = m.constraints["compute-path"]
        dual = np.nan_to_num(con.dual.values)
        for t in np.flatnonzero(np.abs(dual) > TOL):
            per = abs(dual[t]) * sc.money / sc.compute
            out.append(
                Bottleneck(
                    "compute-path",
                    "compute target",
                    None,
                    periods[t],
                    per,
                    "H100e",
                    per,
                    abs(dual[t] * con.rhs.values[t]),
                    f"Each H100-equivalent required in {periods[t]} costs {_fmt_usd(per)} "
                    "at the margin (discounted).",
                )
            )
    # drop what only the cost tie-break in the objective priced
    out = [
        b
        for b in out
        if b.constraint in ("cash", "compute-path")
        or minimise
        or b.shadow_price * sc.compute >= MIN_H100E_YEARS
    ]
    out.sort(key=lambda b: (-b.importance, str(b.period)))
    return out


def first_binding(items: list[Bottleneck]) -> Bottleneck | None:
    """The earliest-period binding external limit (not a carrier balance or money)."""
    ext = [
        b
        for b in items
        if b.constraint in ("market-cap", "capacity-max", "export-cap", "policy-max-share")
    ]
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


def group_bottlenecks(items: list[Bottleneck]) -> list[BottleneckGroup]:
    """Bottlenecks grouped by (constraint, item, region), most important first."""
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
    # external limits first (what a strategist can negotiate), then by importance
    ext = {
        "market-cap": 0,
        "capacity-max": 0,
        "export-cap": 0,
        "policy-max-share": 0,
        "cash": 1,
        "compute-path": 1,
    }
    out.sort(key=lambda g: (ext.get(g.constraint, 2), -g.importance, str(g.first_period)))
    return out
