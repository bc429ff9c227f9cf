"""The default parties when a scenario has no ``finance`` section.

The scenario's funders (``budget.funders``) become the equity holders and the lender; the
fab company, the data-center company (builds, buys the accelerators and leases compute to
the anchor), the power company, the anchor customer (OpenAI) and the foundry operator
(TSMC) are added. Terms come from the catalog (``finance_parties.*``). When the scenario's
funders are not those of the catalog's ownership table, each equity funder owns every
company in proportion to its budget share (a documented fallback).
"""

from __future__ import annotations

from typing import Any

from ..catalog import Catalog
from ..constants import Category
from .schema import FinanceConfig

FAB, DC, POWER = "fab_company", "datacenter_company", "power_company"
ANCHOR, OPERATOR = "openai", "tsmc"
COMPANIES = (FAB, DC, POWER)
PAYS_FOR: dict[str, list[str]] = {
    FAB: [Category.FABS, Category.MEMORY, Category.PACKAGING, Category.ACCELERATORS],
    DC: ["*"],
    POWER: [Category.POWER],
}
PRE = "finance_parties"


def _funder_kind(cat: Catalog, name: str) -> str:
    return "lender" if f"{PRE}.funders.{name}.rate" in cat else "equity"


def _weights(scenario: Any) -> dict[str, float]:
    total = scenario.budget.total_usd
    return {
        f.name: (f.share * total if f.share is not None else f.amount_usd)
        for f in scenario.budget.funders
    }


def _ownership(
    cat: Catalog, equity: list[str], weights: dict[str, float]
) -> dict[str, dict[str, float]]:
    """company -> funder -> share: the catalog table when it names exactly these funders."""
    table = {
        c: {f: cat.number(f"{PRE}.ownership.{c}.{f}") for f in cat.group(f"{PRE}.ownership.{c}")}
        for c in COMPANIES
    }
    named = set().union(*(set(t) for t in table.values()))
    if named and named <= set(equity):
        return table
    tot = sum(weights[f] for f in equity) or 1.0
    return {c: {f: weights[f] / tot for f in equity} for c in COMPANIES}


def _funder_parties(cat: Catalog, scenario: Any, rate: float) -> list[dict[str, Any]]:
    names = [f.name for f in scenario.budget.funders]
    lenders = [n for n in names if _funder_kind(cat, n) == "lender"]
    equity = [n for n in names if n not in lenders]
    own = _ownership(cat, equity, _weights(scenario))
    out: list[dict[str, Any]] = []
    if not equity:  # no equity funder named: one generic owner of every company
        equity, own = ["investors"], {c: {"investors": 1.0} for c in COMPANIES}
    for n in equity:
        owns = {c: own[c][n] for c in COMPANIES if own[c].get(n, 0.0) > 0}
        if owns:
            rr = cat.number(f"{PRE}.funders.{n}.required_return", rate)
            out.append({"name": n, "kind": "equity", "required_return": rr, "owns": owns})
    if not lenders:  # somebody must lend what the companies borrow
        lenders = ["lenders"]
    for n in lenders:
        key = n if f"{PRE}.funders.{n}.rate" in cat else "private_capital_and_debt"
        out.append(
            {
                "name": n,
                "kind": "lender",
                "rate": cat.number(f"{PRE}.funders.{key}.rate"),
                "tenor_years": cat.number(f"{PRE}.funders.{key}.tenor_years"),
                "lends": {c: 1.0 / len(lenders) for c in COMPANIES},
            }
        )
    return out


def default_finance_dict(scenario: Any, cat: Catalog) -> dict[str, Any]:
    """The raw default ``finance`` section for ``scenario`` (see module docstring)."""
    rate = scenario.objective.discount_rate
    parties = _funder_parties(cat, scenario, rate)
    for c in COMPANIES:
        parties.append(
            {
                "name": c,
                "kind": "asset_company",
                "required_return": cat.number(f"{PRE}.companies.{c}.required_return"),
                "debt_share": cat.number(f"{PRE}.companies.{c}.debt_share"),
                "pays_for": [str(x) for x in PAYS_FOR[c]],
            }
        )
    parties.append(
        {
            "name": ANCHOR,
            "kind": "anchor",
            "required_return": cat.number(f"{PRE}.companies.anchor_customer.required_return"),
            "note": "anchor customer (OpenAI)",
        }
    )
    parties.append(
        {
            "name": OPERATOR,
            "kind": "operator",
            "note": "foundry operator (TSMC): runs the fabs, sells wafers and packaging",
        }
    )
    return {"parties": parties, "anchor": ANCHOR, "lessor": DC, "operator": OPERATOR}


def default_finance(scenario: Any, cat: Catalog) -> FinanceConfig:
    return FinanceConfig.model_validate(default_finance_dict(scenario, cat))


def lease_inputs(cfg: FinanceConfig, cat: Catalog) -> dict[str, Any]:
    """Lease price, decline and cloud price: the scenario's values, else the catalog's."""
    le = cfg.lease
    return {
        "price": le.price_usd_per_h100e_hour
        if le.price_usd_per_h100e_hour is not None
        else cat.number(f"{PRE}.lease.h100e_price_usd_per_hour"),
        "decline": le.decline_per_year
        if le.decline_per_year is not None
        else cat.number(f"{PRE}.lease.decline_per_year"),
        "cloud": le.cloud_price_usd_per_h100e_hour
        if le.cloud_price_usd_per_h100e_hour is not None
        else cat.number(f"{PRE}.lease.cloud_h100e_price_usd_per_hour"),
    }
