"""Who pays and who gains: the orchestrator over :mod:`.cashflows` and :mod:`.metrics`.

>>> # fa = analyse(results)              # results of fab2flop.optimize
>>> # fa.summary()["parties"]["datacenter_company"]["npv_usd"]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from ..constants import PERIOD, Category
from .cashflows import CompanyBooks, PlanSpend, company_books, plan_spend
from .metrics import discount_factors, irr, npv, payback_year, peak_funding_usd
from .schema import FinanceConfig, Party, payer_of_category
from .vocabulary import Line, PartyKind

PARTY = "party"
LINE = "line"


@dataclass(frozen=True)
class LeasePath:
    """Lease and cloud prices by period [USD/H100e-hour] and how the lease was set."""

    price: np.ndarray
    cloud: np.ndarray
    mode: str


def price_path(first: float | dict[int, float], decline: float, years: np.ndarray) -> np.ndarray:
    """A price falling by ``decline`` a year from the first year, or a {year: price} series
    held flat between and beyond its points [USD/H100e-hour].

    >>> price_path(2.0, 0.5, np.array([2025.0, 2026.0, 2027.0])).tolist()
    [2.0, 1.0, 0.5]
    """
    if isinstance(first, dict):
        ks = sorted(first)
        return np.array([first[max([k for k in ks if k <= y] or [ks[0]])] for y in years])
    return float(first) * (1.0 - decline) ** (years - years[0])


def party_rate(p: Party, fallback: float) -> float:
    """The rate a party discounts at: its required return, a lender's rate, else the
    scenario's discount rate [1/year]."""
    if p.kind is PartyKind.LENDER:
        return float(p.rate or 0.0)
    return float(p.required_return if p.required_return is not None else fallback)


def _lessor(cfg: FinanceConfig) -> str:
    if cfg.lessor:
        return cfg.lessor
    return payer_of_category(cfg)[Category.SYSTEMS.value]


def _one(cfg: FinanceConfig, kind: PartyKind, given: str | None) -> str | None:
    if given:
        return given
    found = cfg.of_kind(kind)
    return found[0].name if found else None


def party_lines(
    cfg: FinanceConfig, books: dict[str, CompanyBooks], ps: PlanSpend, lease: np.ndarray
) -> dict[str, dict[str, np.ndarray]]:
    """Every party's lines (+ in / - out) [USD per period]."""
    t_n = len(ps.years)
    out: dict[str, dict[str, np.ndarray]] = {}
    anchor = _one(cfg, PartyKind.ANCHOR, cfg.anchor)
    operator = _one(cfg, PartyKind.OPERATOR, cfg.operator)
    for p in cfg.parties:
        lines = {line.value: np.zeros(t_n) for line in Line}
        if p.kind is PartyKind.ASSET_COMPANY:
            lines = {k: v.copy() for k, v in books[p.name].lines.items()}
        for c, share in p.owns.items():
            lines[Line.EQUITY.value] += share * books[c].owners_flows()
        for c in p.lends:
            d = books[c].by_lender[p.name]
            lines[Line.DEBT_DRAWN.value] -= d["drawn"]
            lines[Line.DEBT_INTEREST.value] += d["interest"]
            lines[Line.DEBT_PRINCIPAL.value] += d["principal"]
        if p.name == anchor:
            lines[Line.LEASE.value] -= lease
        if p.name == operator:
            lines[Line.OPERATOR.value] += ps.to_operator
        out[p.name] = lines
    return out


def _metrics(flows: np.ndarray, rate: float, ps: PlanSpend) -> dict[str, Any]:
    r = irr(flows, ps.dt_years)
    return {
        "rate": rate,
        "npv_usd": npv(flows, rate, ps.dt_years),
        **r.to_dict(),
        "payback_year": payback_year(flows, ps.years),
        "peak_funding_usd": peak_funding_usd(flows),
        "in_usd": float(flows[flows > 0].sum()),
        "out_usd": float(-flows[flows < 0].sum()),
    }


def measured_flows(p: Party, lines: dict[str, np.ndarray], books: dict[str, CompanyBooks]):
    """The flows a party's return is measured on: owners' view for a company, all lines
    for everyone else [USD per period]."""
    if p.kind is PartyKind.ASSET_COMPANY:
        return books[p.name].owners_flows()
    return sum(lines.values())


@dataclass
class FinanceAnalysis:
    """Cash flows and returns of every party for one plan."""

    config: FinanceConfig
    spend: PlanSpend
    books: dict[str, CompanyBooks]
    lines: dict[str, dict[str, np.ndarray]]
    lease: LeasePath
    discount_rate: float
    lessor: str
    anchor: str | None

    def flows(self, party: str) -> np.ndarray:
        return measured_flows(self.config.party(party), self.lines[party], self.books)

    def party_metrics(self) -> dict[str, dict[str, Any]]:
        out = {}
        for p in self.config.parties:
            m = _metrics(self.flows(p.name), party_rate(p, self.discount_rate), self.spend)
            m["kind"] = p.kind.value
            if p.kind is PartyKind.ASSET_COMPANY:
                b = self.books[p.name]
                m["project_irr"] = irr(b.project_flows, self.spend.dt_years).value
                m["dscr"] = dscr(b)
                m["min_dscr"] = min((x for x in m["dscr"] if x is not None), default=None)
            out[p.name] = m
        return out

    def spend_paid_by(self) -> dict[str, np.ndarray]:
        """Plan spending paid by each asset company [USD per period]; sums to the plan."""
        return {
            n: -(b.lines[Line.CAPEX.value] + b.lines[Line.OPEX.value])
            for n, b in self.books.items()
        }

    def anchor_cost(self) -> dict[str, float | None]:
        """Levelised lease and cloud prices the anchor faces [USD/H100e-hour]."""
        hours = self.spend.h100e_hours
        rate = self.discount_rate
        if self.anchor is not None:
            rate = party_rate(self.config.party(self.anchor), rate)
        df = discount_factors(len(hours), rate, self.spend.dt_years)
        pv_h = float((hours * df).sum())
        if pv_h <= 0:
            return {"lease_usd_per_h100e_hour": None, "cloud_usd_per_h100e_hour": None}
        lease = float((self.lease.price * hours * df).sum()) / pv_h
        cloud = float((self.lease.cloud * hours * df).sum()) / pv_h
        return {
            "lease_usd_per_h100e_hour": lease,
            "cloud_usd_per_h100e_hour": cloud,
            "saving_vs_cloud_usd": (cloud - lease) * pv_h,
            "discount_rate": rate,
        }

    def to_dataset(self) -> xr.Dataset:
        """Lines as a Dataset ``finance_cash_flow_usd`` (party, line, period) [USD]."""
        parties = list(self.lines)
        lines = [line.value for line in Line]
        arr = np.array([[self.lines[p][k] for k in lines] for p in parties])
        da = xr.DataArray(
            arr,
            coords={PARTY: parties, LINE: lines, PERIOD: self.spend.periods},
            dims=(PARTY, LINE, PERIOD),
            attrs={"units": "USD per period", "sign": "+ into the party, - out of it"},
        )
        return xr.Dataset({"finance_cash_flow_usd": da})

    def summary(self) -> dict[str, Any]:
        return {
            "parties": self.party_metrics(),
            "lease": {
                "mode": self.lease.mode,
                "lessor": self.lessor,
                "anchor": self.anchor,
                "price_usd_per_h100e_hour": self.lease.price.tolist(),
                "cloud_usd_per_h100e_hour": self.lease.cloud.tolist(),
                **self.anchor_cost(),
            },
            "spend_paid_by_usd": {k: float(v.sum()) for k, v in self.spend_paid_by().items()},
        }


def dscr(b: CompanyBooks) -> list[float | None]:
    """Debt-service coverage by period: CFADS / debt service (None without debt service) [1]."""
    return [
        float(c / s) if s > 1e-6 else None for c, s in zip(b.cfads, b.debt_service, strict=True)
    ]


def _build(cfg: FinanceConfig, ps: PlanSpend, lease: LeasePath, rate: float) -> FinanceAnalysis:
    lessor = _lessor(cfg)
    lease_usd = lease.price * ps.h100e_hours
    books = company_books(ps, cfg, lease_usd, lessor)
    lines = party_lines(cfg, books, ps, lease_usd)
    anchor = _one(cfg, PartyKind.ANCHOR, cfg.anchor)
    return FinanceAnalysis(cfg, ps, books, lines, lease, rate, lessor, anchor)


def required_lease_scale(cfg: FinanceConfig, ps: PlanSpend, shape: np.ndarray, rate: float):
    """Multiple of ``shape`` [USD/H100e-hour] at which the lessor's owners' NPV at its
    required return is zero. The owners' flows are linear in the price, so two
    evaluations give the answer."""
    lessor = _lessor(cfg)
    r = party_rate(cfg.party(lessor), rate)

    def owners_npv(k: float) -> float:
        fa = _build(cfg, ps, LeasePath(shape * k, shape, "required_return"), rate)
        return npv(fa.flows(lessor), r, ps.dt_years)

    n0, n1 = owners_npv(0.0), owners_npv(1.0)
    if abs(n1 - n0) < 1e-9:
        return None
    return -n0 / (n1 - n0)


def analyse(res: Any, cfg: FinanceConfig, lease_inputs: dict[str, Any]) -> FinanceAnalysis:
    """Cash flows and returns of every party for optimised results ``res``.

    ``lease_inputs``: ``price`` (first-year price or series), ``decline`` [1/year], ``cloud``
    (first-year cloud price) [USD/H100e-hour], resolved from the scenario and catalog.
    """
    ps = plan_spend(res)
    rate = float(res.network.scenario.objective.discount_rate)
    shape = price_path(lease_inputs["price"], lease_inputs["decline"], ps.years)
    cloud = price_path(lease_inputs["cloud"], lease_inputs["decline"], ps.years)
    if cfg.lease.mode == "required_return":
        k = required_lease_scale(cfg, ps, shape, rate)
        price = shape * (k if k is not None else np.nan)
        return _build(cfg, ps, LeasePath(np.nan_to_num(price), cloud, "required_return"), rate)
    return _build(cfg, ps, LeasePath(shape, cloud, "market"), rate)
