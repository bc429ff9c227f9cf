"""Return metrics of a cash-flow series: NPV, IRR, payback year, peak funding need.

Cash flows are in USD per period, one value per period, the first period being the base of
discounting (year 0). Rates are annual; a period lasts ``dt_years`` years.

>>> round(npv([-100.0, 60.0, 60.0], 0.10), 4)     # -100 + 60/1.1 + 60/1.21
4.1322
>>> round(irr([-100.0, 60.0, 60.0]).value, 6)     # (1+r)^2 * 100 = 60(1+r) + 60
0.130662
>>> irr([10.0, 20.0]).value is None
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_RATE_LOW = -0.99  # annual rates searched for an IRR [1/year]
_RATE_HIGH = 100.0


def discount_factors(n: int, rate: float, dt_years: float = 1.0) -> np.ndarray:
    """1/(1+rate)^(t·dt) for t = 0..n-1 [1]."""
    if rate <= -1.0:
        raise ValueError(f"rate {rate} must be > -1")
    return (1.0 + rate) ** (-np.arange(n) * dt_years)


def npv(flows: Sequence[float] | np.ndarray, rate: float, dt_years: float = 1.0) -> float:
    """Net present value at the start of the first period [USD]; rate [1/year]."""
    f = np.asarray(flows, dtype=float)
    return float((f * discount_factors(len(f), rate, dt_years)).sum())


@dataclass(frozen=True)
class IRR:
    """An internal rate of return [1/year], or None with the reason there is none."""

    value: float | None
    reason: str = ""

    def to_dict(self) -> dict[str, float | str | None]:
        return {"irr": self.value, "irr_note": self.reason or None}


def _roots(f: np.ndarray, dt_years: float) -> list[float]:
    """Annual rates in (_RATE_LOW, _RATE_HIGH) where the NPV changes sign (bisection)."""
    grid = np.concatenate(
        [np.linspace(_RATE_LOW, 1.0, 400), np.geomspace(1.0, _RATE_HIGH, 200)[1:]]
    )
    # npv at every grid rate in one array operation (each row summed as npv sums it)
    vals = (f * (1.0 + grid)[:, None] ** (-np.arange(len(f)) * dt_years)).sum(axis=1)
    out = []
    for i in range(len(grid) - 1):
        if vals[i] == 0.0:
            out.append(float(grid[i]))
        elif vals[i] * vals[i + 1] < 0:
            lo, hi, flo = grid[i], grid[i + 1], vals[i]
            for _ in range(100):
                mid = 0.5 * (lo + hi)
                fm = npv(f, mid, dt_years)
                if fm * flo <= 0:
                    hi = mid
                else:
                    lo, flo = mid, fm
            out.append(float(0.5 * (lo + hi)))
    return out


def irr(flows: Sequence[float] | np.ndarray, dt_years: float = 1.0) -> IRR:
    """The annual rate at which the NPV is zero [1/year]; never NaN.

    None (with a reason) when the flows never change sign or no rate in (-99%, 10000%)
    zeroes the NPV. With several roots (flows that change sign more than once) the one
    nearest zero is returned and the reason says so.
    """
    f = np.asarray(flows, dtype=float)
    nz = f[np.abs(f) > 1e-9 * max(1.0, float(np.abs(f).max(initial=0.0)))]
    if len(nz) == 0:
        return IRR(None, "all cash flows are zero")
    if (nz > 0).all():
        return IRR(None, "only inflows: no money is put in, so there is no rate of return")
    if (nz < 0).all():
        return IRR(None, "only outflows: nothing comes back, so there is no rate of return")
    roots = _roots(f, dt_years)
    if not roots:
        return IRR(None, "no rate between -99% and 10000% a year makes the NPV zero")
    best = min(roots, key=abs)
    note = (
        f"{len(roots)} rates make the NPV zero; the one nearest 0 is given"
        if len(roots) > 1
        else ""
    )
    return IRR(best, note)


def payback_year(
    flows: Sequence[float] | np.ndarray, years: Sequence[float] | np.ndarray
) -> float | None:
    """First year in which the cumulative cash flow is back to >= 0 after money went in.

    None when no money goes in, or when the cumulative flow is still negative at the end.
    """
    cum = np.cumsum(np.asarray(flows, dtype=float))
    neg = np.flatnonzero(cum < -1e-6)
    if len(neg) == 0:
        return None
    after = np.flatnonzero((cum >= -1e-6) & (np.arange(len(cum)) > neg[-1]))
    return float(years[after[0]]) if len(after) else None


def peak_funding_usd(flows: Sequence[float] | np.ndarray) -> float:
    """Largest cumulative net outflow (the most money the party has in at once) [USD]."""
    cum = np.cumsum(np.asarray(flows, dtype=float))
    return float(max(0.0, -cum.min(initial=0.0)))


def capital_recovery_factor(rate: float, life_years: float) -> float:
    """Annual payment per dollar of capital repaid over ``life_years`` at ``rate`` [1/year].

    >>> round(capital_recovery_factor(0.10, 2), 6)   # 0.1 * 1.21 / 0.21
    0.57619
    """
    if life_years <= 0:
        raise ValueError(f"life_years {life_years} must be > 0")
    if abs(rate) < 1e-12:
        return 1.0 / life_years
    g = (1.0 + rate) ** life_years
    return rate * g / (g - 1.0)
