"""Each party's yearly cash flows from an optimised plan.

The orchestration, in order (each step a small pure function over numpy arrays):

1. :func:`plan_spend` — the plan's spending by category, kind (capital or running) and
   period, from ``Results.dataset``; each category is paid by one asset company.
2. :func:`company_books` — per company: capital, running costs, what it sells to the lessor
   (the lessor buys wafers and power at cost plus a capital charge at the seller's cost of
   capital), the anchor's lease to the lessor, debt drawn and serviced, residual value.
3. Funders' flows are their ownership (equity) and lending shares of the companies' flows;
   the anchor pays the lease; the operator receives payments for wafers and packaging.

Sign convention: + is money into the party, - is money out of it. A company's own lines
sum to zero each period (owners put in what it lacks and take out what is left), so its
owners' view (``-equity``) is the cash flow its return is measured on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..constants import ACCELERATOR, HOURS_PER_YEAR, PERIOD, REGION, Category
from .metrics import capital_recovery_factor
from .schema import FinanceConfig, Party, payer_of_category
from .vocabulary import ALL_CATEGORIES, Line, PartyKind

# running costs on these categories buy hardware (GPUs, wafers, stacks, packaging), so they
# are capital of the company that buys them
HARDWARE = {
    Category.MERCHANT.value,
    Category.ACCELERATORS.value,
    Category.FABS.value,
    Category.MEMORY.value,
    Category.PACKAGING.value,
}
# running costs on these categories are paid to the foundry operator (wafers, packaging)
OPERATOR_CATEGORIES = {Category.FABS.value, Category.PACKAGING.value}


@dataclass(frozen=True)
class PlanSpend:
    """The plan's spending in USD per period, split the ways finance needs [USD]."""

    years: np.ndarray  # (T,) [year]
    dt_years: float
    capex: dict[str, np.ndarray]  # category -> (T,) construction spend
    hardware: dict[str, np.ndarray]  # category -> (T,) hardware bought (running spend)
    running: dict[str, np.ndarray]  # category -> (T,) O&M, electricity, fuel, rent
    to_operator: np.ndarray  # (T,) part of the above paid to the foundry operator
    residual: dict[str, float]  # category -> value left at the horizon
    life_periods: dict[str, float]  # category -> capex-weighted life of its assets [periods]
    h100e_hours: np.ndarray  # (T,) compute delivered [H100e-hour]
    periods: list[Any] = field(default_factory=list)  # period labels of the results

    def total(self) -> np.ndarray:
        out = np.zeros(len(self.years))
        for d in (self.capex, self.hardware, self.running):
            for v in d.values():
                out = out + v
        return out


def _by_category(values: np.ndarray, cats: np.ndarray) -> dict[str, np.ndarray]:
    """(P, T) summed into category -> (T,)."""
    return {c: values[cats == c].sum(axis=0) for c in ALL_CATEGORIES}


def _process_residual(res: Any) -> np.ndarray:
    """Undepreciated capex of each process at the horizon's end (straight line) [USD]."""
    ds, nds = res.dataset, res.network.ds
    years = nds["year"].values.astype(float)
    dt = float(ds.attrs.get("dt_years", 1.0))
    end = years[-1] + dt
    life_y = nds["life_periods"].values * dt
    rem = np.clip(1.0 - (end - years[None, :]) / life_y[:, None], 0.0, 1.0)
    capex = (ds["new_capacity"] * nds["capex_usd_per_unit"]).values  # (P,R,T)
    return (capex * rem[:, None, :]).sum(axis=(1, 2))


def plan_spend(res: Any) -> PlanSpend:
    """Split ``Results.dataset`` spending by category and kind (see :class:`PlanSpend`)."""
    ds, nds = res.dataset, res.network.ds
    cats = np.asarray(nds["category"].values).astype(str)
    capex_p = ds["spend_capex_usd"].sum(REGION).values
    var_p = ds["spend_variable_usd"].sum(REGION).values
    fixed_p = ds["spend_fixed_om_usd"].sum(REGION).values
    systems = ds["spend_systems_usd"].sum([ACCELERATOR, REGION]).values
    capex = _by_category(capex_p, cats)
    var = _by_category(var_p, cats)
    running = _by_category(fixed_p, cats)
    hardware = {c: np.zeros_like(systems) for c in ALL_CATEGORIES}
    for c in ALL_CATEGORIES:
        if c in HARDWARE:
            hardware[c] = var[c]
        else:
            running[c] = running[c] + var[c]
    hardware[Category.SYSTEMS.value] = hardware[Category.SYSTEMS.value] + systems
    to_op = sum((var[c] for c in OPERATOR_CATEGORIES), np.zeros_like(systems))
    res_p = _process_residual(res)
    residual = {c: float(res_p[cats == c].sum()) for c in ALL_CATEGORIES}
    # accelerators and systems left at the end: the plan's total residual minus what its
    # own lines keep (they are owned by whoever pays for servers and networking)
    residual[Category.SYSTEMS.value] += max(0.0, float(res.residual_value_usd()) - res_p.sum())
    life = nds["life_periods"].values.astype(float)
    life_periods = {}
    for c in ALL_CATEGORIES:
        w = capex_p[cats == c].sum(axis=1)
        life_periods[c] = float((life[cats == c] * w).sum() / w.sum()) if w.sum() > 0 else 1.0
    dt = float(ds.attrs.get("dt_years", 1.0))
    hours = ds["compute_h100e"].values * HOURS_PER_YEAR * dt
    years = nds["year"].values.astype(float)
    labels = [p.item() if isinstance(p, np.generic) else p for p in ds.indexes[PERIOD]]
    return PlanSpend(
        years, dt, capex, hardware, running, to_op, residual, life_periods, hours, labels
    )


# --------------------------------------------------------------------------- debt


def per_period_rate(rate: float, dt_years: float) -> float:
    """Per-period rate equivalent to an annual ``rate`` [1/period]."""
    return (1.0 + rate) ** dt_years - 1.0


def amortise(draws: np.ndarray, rate: float, tenor_years: float, dt_years: float):
    """Debt service of loans drawn each period, each repaid as an annuity from the next
    period over ``tenor_years``; returns (service (T,), balance left at the end) [USD].

    >>> s, left = amortise(np.array([100.0, 0.0, 0.0]), 0.10, 2.0, 1.0)
    >>> [round(float(x), 4) for x in s], round(left, 6)    # 100 x CRF(10%, 2) = 57.619
    ([0.0, 57.619, 57.619], 0.0)
    """
    t_n = len(draws)
    r = per_period_rate(rate, dt_years)
    n = max(1, int(round(tenor_years / dt_years)))
    pay = capital_recovery_factor(r, n)
    service = np.zeros(t_n)
    left = 0.0
    for s, d in enumerate(draws):
        if d <= 0:
            continue
        last = min(t_n - 1, s + n)
        service[s + 1 : last + 1] += d * pay
        k = last - s  # payments made within the horizon
        g = (1.0 + r) ** k
        bal = d * g - d * pay * ((g - 1.0) / r if r > 0 else k)
        left += max(0.0, bal)
    return service, left


def interest_paid(draws: np.ndarray, service: np.ndarray, rate: float, dt_years: float):
    """Interest within ``service`` on a balance that grows with ``draws`` [USD per period].

    >>> i = interest_paid(np.array([100.0, 0.0]), np.array([0.0, 110.0]), 0.10, 1.0)
    >>> [round(float(x), 9) for x in i]
    [0.0, 10.0]
    """
    r = per_period_rate(rate, dt_years)
    out = np.zeros(len(draws))
    bal = 0.0
    for t, (d, s) in enumerate(zip(draws, service, strict=True)):
        out[t] = r * bal
        bal += out[t] - s + d
    return out


# --------------------------------------------------------------------------- companies


@dataclass
class CompanyBooks:
    """One asset company's lines (USD per period, + in / - out) and its debt by lender."""

    name: str
    lines: dict[str, np.ndarray]
    cfads: np.ndarray  # cash flow available for debt service [USD]
    debt_service: np.ndarray  # [USD]
    by_lender: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    project_flows: np.ndarray = field(default_factory=lambda: np.zeros(0))  # unlevered [USD]

    def owners_flows(self) -> np.ndarray:
        """What the owners get (+) or put in (-) each period [USD]."""
        return -self.lines[Line.EQUITY.value]


def _wacc(comp: Party, cfg: FinanceConfig) -> float:
    """Cost of capital of a company: debt share at its lenders' mean rate + equity [1/year]."""
    lenders = [p for p in cfg.of_kind(PartyKind.LENDER) if comp.name in p.lends]
    kd = sum(p.lends[comp.name] * (p.rate or 0.0) for p in lenders)
    return comp.debt_share * kd + (1 - comp.debt_share) * (comp.required_return or 0.0)


def supply_charge(capital: np.ndarray, wacc: float, life_periods: float, dt: float) -> np.ndarray:
    """Capital charge for assets bought each period: a level payment from the next period
    over their life that repays them at ``wacc`` [USD per period]."""
    service, _ = amortise(capital, wacc, life_periods * dt, dt)
    return service


def _zeros(t_n: int) -> dict[str, np.ndarray]:
    return {line.value: np.zeros(t_n) for line in Line}


def _company_spend(ps: PlanSpend, cats: list[str]):
    t_n = len(ps.years)
    capital = sum((ps.capex[c] + ps.hardware[c] for c in cats), np.zeros(t_n))
    running = sum((ps.running[c] for c in cats), np.zeros(t_n))
    construction = sum((ps.capex[c] for c in cats), np.zeros(t_n))
    residual = sum(ps.residual[c] for c in cats)
    return capital, running, construction, residual


def company_books(
    ps: PlanSpend, cfg: FinanceConfig, lease_usd: np.ndarray, lessor: str
) -> dict[str, CompanyBooks]:
    """Lines of every asset company, given the lease the anchor pays the lessor [USD]."""
    t_n = len(ps.years)
    payer = payer_of_category(cfg)
    books: dict[str, CompanyBooks] = {}
    sold = np.zeros(t_n)  # what the lessor buys from the other companies
    comps = cfg.of_kind(PartyKind.ASSET_COMPANY)
    # sellers first, so the lessor knows what it buys
    for comp in sorted(comps, key=lambda p: p.name == lessor):
        cats = [c for c in ALL_CATEGORIES if payer[c] == comp.name]
        capital, running, construction, residual = _company_spend(ps, cats)
        lines = _zeros(t_n)
        lines[Line.CAPEX.value] = -capital
        lines[Line.OPEX.value] = -running
        if comp.name == lessor:
            lines[Line.LEASE.value] = lease_usd
            lines[Line.SUPPLY.value] = -sold
            financed = capital  # it keeps what it buys: GPUs, systems, buildings
        else:
            financed = construction  # hardware it buys is sold on at cost at once
            life = max((ps.life_periods[c] for c in cats if ps.capex[c].sum() > 0), default=1.0)
            charge = supply_charge(construction, _wacc(comp, cfg), life, ps.dt_years)
            # hardware bought and running costs are passed on at cost in the same period
            revenue = charge + (capital - construction) + running
            lines[Line.SUPPLY.value] = revenue
            sold = sold + revenue
        books[comp.name] = _finance(comp, cfg, lines, capital, financed, residual, ps.dt_years)
    return books


def _finance(
    comp: Party,
    cfg: FinanceConfig,
    lines: dict[str, np.ndarray],
    capital: np.ndarray,
    financed: np.ndarray,
    residual: float,
    dt: float,
) -> CompanyBooks:
    """Add debt (``debt_share`` of ``financed``), residual value and equity to a company's
    operating lines [USD per period]."""
    t_n = len(capital)
    cfads = lines[Line.LEASE.value] + lines[Line.SUPPLY.value] + lines[Line.OPEX.value]
    draws = comp.debt_share * financed
    service = np.zeros(t_n)
    by_lender = {}
    for lender in cfg.of_kind(PartyKind.LENDER):
        share = lender.lends.get(comp.name, 0.0)
        if share <= 0:
            continue
        d = draws * share
        s, left = amortise(d, lender.rate or 0.0, lender.tenor_years or 1.0, dt)
        s[-1] += left  # repaid at the horizon out of the residual value
        interest = interest_paid(d, s, lender.rate or 0.0, dt)
        by_lender[lender.name] = {"drawn": d, "interest": interest, "principal": s - interest}
        service += s
        lines[Line.DEBT_INTEREST.value] -= interest
        lines[Line.DEBT_PRINCIPAL.value] -= s - interest
    lines[Line.DEBT_DRAWN.value] = draws
    lines[Line.RESIDUAL.value][-1] = residual
    net = np.sum([lines[k] for k in lines if k != Line.EQUITY.value], axis=0)
    lines[Line.EQUITY.value] = -net  # owners cover shortfalls and take surpluses
    project = cfads - capital
    project[-1] += residual
    return CompanyBooks(comp.name, lines, cfads, service, by_lender, project)


__all__ = [
    "CompanyBooks",
    "PlanSpend",
    "amortise",
    "company_books",
    "interest_paid",
    "per_period_rate",
    "plan_spend",
    "supply_charge",
]
