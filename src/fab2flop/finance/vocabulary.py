"""Vocabulary of the finance package: party kinds, cash-flow lines, job classes."""

from __future__ import annotations

from enum import StrEnum

from ..constants import Category

ALL_CATEGORIES = [c.value for c in Category]


class PartyKind(StrEnum):
    """What a party is in the plan's financing."""

    EQUITY = "equity"  # puts in equity, owns shares of asset companies
    LENDER = "lender"  # lends to asset companies
    ASSET_COMPANY = "asset_company"  # builds and owns fabs, data centers or power
    ANCHOR = "anchor"  # leases the compute (OpenAI)
    OPERATOR = "operator"  # runs fabs and sells wafers and packaging (TSMC)


class Line(StrEnum):
    """Lines of a party's yearly cash flow (sign: + into the party, - out of it)."""

    EQUITY = "equity"  # contributions (-) and distributions (+)
    DEBT_DRAWN = "debt_drawn"
    DEBT_INTEREST = "debt_interest"  # interest paid on debt
    DEBT_PRINCIPAL = "debt_principal"  # debt repaid (what is left is repaid at the horizon)
    CAPEX = "capex"
    OPEX = "opex"  # fixed O&M and running costs paid out
    LEASE = "lease"  # anchor -> lessor
    SUPPLY = "supply"  # sales between asset companies (wafers, power) at cost + capital
    OPERATOR = "operator_payments"  # payments for wafers and packaging to the operator
    RESIDUAL = "residual"  # value left at the horizon (net of debt for owners)


class JobClass(StrEnum):
    FAB = "fab"
    LINE = "hbm_or_packaging_line"
    DATACENTER = "datacenter"
    POWER_GAS = "power_gas_or_renewable"
    POWER_NUCLEAR = "power_nuclear"
