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

if TYPE_CHECKING:
    from .optimize.model import LP

TOL = 1e-7


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
        return unit.split("/")[0][:-1] + "/month of capacity", 12.0
    if unit == "MW":
        return "MW", 1.0
    return unit.replace("/year", "/year of capacity"), 1.0


_PLAIN = {
    "cowos_market": "CoWoS capacity reserved at TSMC",
    "hbm_market": "HBM supply bought from SK hynix/Samsung/Micron",
    "grid": "grid power contracted",
    "power_build_limit": "new power plants that can come online",
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
            per_nat = abs(dual[p, r, t]) * (avail[p] if fam == "market-cap" else 1.0) / sc.process[p] * f
            v = usd(per_nat, t)
            name = pidx[p]
            reg = str(ds.indexes[REGION][r])
            what = _plain(name) if fam == "market-cap" else f"the cap on {name}"
            worth = f"worth {_fmt_usd(v)} of compute" if v is not None and not minimise else (
                f"would save {_fmt_usd(v)}" if v is not None else f"worth {per_nat:.3g} M H100e-years")
            out.append(
                Bottleneck(
                    fam, name, reg, periods[t], per_nat, unit, v,
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
            reg = str(con.dual.indexes[REGION][idx[1]]) if fam == "balance-regional" else None
            t = idx[-1]
            per_nat = abs(dual[idx]) / cscale[c]
            v = usd(per_nat, t)
            u = str(cunit[c]).rstrip("s") if cunit[c] != "MW" else "MW"
            where = f" in {reg}" if reg else ""
            worth = (f"worth {_fmt_usd(v)}" if v is not None else f"worth {per_nat:.3g} M H100e-years")
            out.append(
                Bottleneck(
                    fam, c, reg, periods[t], per_nat, u, v, 0.0,
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
            worth = f"worth {_fmt_usd(v)}" if v is not None else f"worth {per_nat:.3g} M H100e-years"
            out.append(
                Bottleneck(
                    "export-cap", "export approval", reg, periods[t], per_nat,
                    "accelerator/year approved", v, abs(dual[r, t] * rhs[r, t]),
                    f"Approval for one more accelerator a year in {reg} in {periods[t]} is {worth}.",
                )
            )

    if "cash" in m.constraints and not minimise:
        con = m.constraints["cash"]
        fund = np.nan_to_num(con.rhs.values)
        for t in np.flatnonzero(lam > TOL):
            per_usd = lam[t] / sc.money
            out.append(
                Bottleneck(
                    "cash", "money", None, periods[t], per_usd, "USD", 1.0, lam[t] * fund[t],
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
                    "compute-path", "compute target", None, periods[t], per, "H100e", per,
                    abs(dual[t] * con.rhs.values[t]),
                    f"Each H100-equivalent required in {periods[t]} costs {_fmt_usd(per)} "
                    "at the margin (discounted).",
                )
            )
    # balances: importance = value per unit × units flowing (approximate by dual magnitude)
    out.sort(key=lambda b: (-b.importance, str(b.period)))
    return out


def first_binding(items: list[Bottleneck]) -> Bottleneck | None:
    """The earliest-period binding external limit (not a carrier balance or money)."""
    ext = [b for b in items if b.constraint in ("market-cap", "capacity-max", "export-cap")]
    if not ext:
        return None
    return min(ext, key=lambda b: (str(b.period), -b.importance))
