"""The ``finance`` section of a scenario: parties, who owns and lends to what, the lease.

Every numeric field states its unit in ``[...]`` in its description. Values left out come
from the catalog (``finance_parties.*``) when the section is built by
:func:`fab2flop.finance.defaults.default_finance`.

>>> fc = FinanceConfig.model_validate({"parties": [
...     {"name": "fund", "kind": "equity", "required_return": 0.08,
...      "owns": {"dc": 1.0}},
...     {"name": "dc", "kind": "asset_company", "required_return": 0.12,
...      "pays_for": ["*"]}]})
>>> fc.party("dc").pays_for
['*']
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..constants import Category
from .vocabulary import ALL_CATEGORIES, PartyKind

SHARE_TOL = 1e-6
MAX_PLAUSIBLE_USD_PER_H100E_HOUR = 50.0  # 4x the 2023 scarcity peak (~$12/h)
_PRICE_RE = re.compile(r"^\s*\$?\s*([0-9.eE+\-]+)\s*(?:USD|\$)?\s*/\s*(.+?)\s*$")
_HOUR_UNITS = {"h100e-hour", "h100e-h", "h100e-hr", "h100-hour", "gpu-hour", "hour", "h", "hr"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def parse_price_usd_per_h100e_hour(v: Any) -> Any:
    """A number, or a string such as ``"2.2 USD/H100e-hour"``; other units are refused.

    >>> parse_price_usd_per_h100e_hour("2.2 USD/H100e-hour")
    2.2
    """
    if isinstance(v, str):
        m = _PRICE_RE.match(v)
        unit = m.group(2).strip().lower() if m else ""
        if not m or unit not in _HOUR_UNITS:
            raise ValueError(
                f"lease price {v!r} is not in USD per H100e-hour; write a number such as 2.2 "
                "or '2.2 USD/H100e-hour' (a rent per kW-month or per GPU-month must be "
                "converted: USD/kW-month x kW per H100e / 730 hours)"
            )
        v = float(m.group(1))
    if isinstance(v, dict):
        return {int(k): parse_price_usd_per_h100e_hour(x) for k, x in v.items()}
    if isinstance(v, int | float) and not isinstance(v, bool):
        if not 0 < v <= MAX_PLAUSIBLE_USD_PER_H100E_HOUR:
            raise ValueError(
                f"lease price {v} USD per H100e-hour is outside (0, "
                f"{MAX_PLAUSIBLE_USD_PER_H100E_HOUR:g}]; market prices are ~$2/h (a value in "
                "the hundreds is probably per month or per kW-month)"
            )
        return float(v)
    return v


class Party(_Model):
    """One party: a funder (equity or lender), an asset company, the anchor or an operator."""

    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.\-]*$", description="party name")
    kind: PartyKind = Field(description="equity | lender | asset_company | anchor | operator")
    required_return: float | None = Field(
        None, ge=0.0, lt=1.0, description="return the party requires on its money [1/year]"
    )
    rate: float | None = Field(None, ge=0.0, lt=1.0, description="lender: interest rate [1/year]")
    tenor_years: float | None = Field(
        None, gt=0.0, le=60.0, description="lender: years over which each loan is repaid [year]"
    )
    owns: dict[str, float] = Field(
        default_factory=dict, description="asset company -> equity share held [1]"
    )
    lends: dict[str, float] = Field(
        default_factory=dict, description="asset company -> share of its debt lent [1]"
    )
    debt_share: float = Field(
        0.0, ge=0.0, lt=1.0, description="asset company: share of capex paid with debt [1]"
    )
    pays_for: list[str] = Field(
        default_factory=list,
        description="asset company: spending categories it pays for ('*' = all not named "
        "by another company)",
    )
    note: str = ""

    @field_validator("owns", "lends")
    @classmethod
    def _shares(cls, v: dict[str, float]) -> dict[str, float]:
        bad = {k: x for k, x in v.items() if not 0.0 < x <= 1.0}
        if bad:
            raise ValueError(f"shares must lie in (0, 1]; got {bad}")
        return v

    @field_validator("pays_for")
    @classmethod
    def _categories(cls, v: list[str]) -> list[str]:
        bad = [c for c in v if c != "*" and c not in ALL_CATEGORIES]
        if bad:
            raise ValueError(f"unknown categories {bad}; expected among {ALL_CATEGORIES} or '*'")
        return v

    @model_validator(mode="after")
    def _terms(self) -> Party:
        k = self.kind
        if k is PartyKind.LENDER and (self.rate is None or self.tenor_years is None):
            raise ValueError(f"lender {self.name!r} needs rate [1/year] and tenor_years [year]")
        if k in (PartyKind.EQUITY, PartyKind.ASSET_COMPANY) and self.required_return is None:
            raise ValueError(f"{k.value} party {self.name!r} needs required_return [1/year]")
        if k is PartyKind.EQUITY and not self.owns:
            raise ValueError(
                f"equity party {self.name!r} owns nothing; give owns: {{company: share}}"
            )
        if k is PartyKind.LENDER and not self.lends:
            raise ValueError(
                f"lender {self.name!r} lends to nobody; give lends: {{company: share}}"
            )
        if k is PartyKind.ASSET_COMPANY and not self.pays_for:
            raise ValueError(f"asset company {self.name!r} pays for nothing; give pays_for")
        if k is not PartyKind.ASSET_COMPANY and (self.pays_for or self.debt_share):
            raise ValueError(f"only an asset_company has pays_for and debt_share ({self.name!r})")
        return self


class LeaseConfig(_Model):
    """What the anchor customer pays the data-center company for compute."""

    mode: Literal["market", "required_return"] = Field(
        "market",
        description="market: the price path below; required_return: the price at which the "
        "data-center company's equity NPV is zero at its required return",
    )
    price_usd_per_h100e_hour: float | dict[int, float] | None = Field(
        None, description="lease price in the first year, or by year [USD/H100e-hour]"
    )
    decline_per_year: float | None = Field(
        None, ge=0.0, lt=1.0, description="yearly fall of the price after the first year [1/year]"
    )
    cloud_price_usd_per_h100e_hour: float | None = Field(
        None, description="on-demand cloud price to compare against, first year [USD/H100e-hour]"
    )

    @field_validator("price_usd_per_h100e_hour", "cloud_price_usd_per_h100e_hour", mode="before")
    @classmethod
    def _unit(cls, v: Any) -> Any:
        return None if v is None else parse_price_usd_per_h100e_hour(v)


class FinanceConfig(_Model):
    """Parties and the lease. Ownership and lending shares of each company sum to one."""

    parties: list[Party] = Field(
        default_factory=list,
        description="every party, funders to operators (empty: the default parties, built "
        "from budget.funders and the catalog)",
    )
    lease: LeaseConfig = Field(default_factory=LeaseConfig)
    anchor: str | None = Field(None, description="name of the anchor customer (leases compute)")
    lessor: str | None = Field(None, description="asset company that leases compute to the anchor")
    operator: str | None = Field(None, description="foundry operator paid for wafers/packaging")

    def party(self, name: str) -> Party:
        for p in self.parties:
            if p.name == name:
                return p
        raise KeyError(name)

    def of_kind(self, kind: PartyKind) -> list[Party]:
        return [p for p in self.parties if p.kind is kind]

    @model_validator(mode="after")
    def _links(self) -> FinanceConfig:
        if not self.parties:
            return self  # the default parties are filled in from the scenario's funders
        names = [p.name for p in self.parties]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"parties named twice: {dup}")
        companies = {p.name: p for p in self.of_kind(PartyKind.ASSET_COMPANY)}
        if not companies:
            raise ValueError("no asset_company among parties; at least one must pay for the plan")
        _check_links(self.parties, companies)
        _check_sums(self.parties, companies)
        _check_categories(companies)
        for field in ("anchor", "lessor", "operator"):
            v = getattr(self, field)
            if v is not None and v not in names:
                raise ValueError(f"{field}: unknown party {v!r}; parties are {names}")
        if self.lessor is not None and self.lessor not in companies:
            raise ValueError(f"lessor: {self.lessor!r} is not an asset_company")
        return self


def _check_links(parties: list[Party], companies: dict[str, Party]) -> None:
    for i, p in enumerate(parties):
        for field in ("owns", "lends"):
            unknown = sorted(set(getattr(p, field)) - set(companies))
            if unknown:
                raise ValueError(
                    f"parties[{i}].{field} ({p.name}): unknown asset company {unknown}; "
                    f"asset companies are {sorted(companies)}"
                )


def _check_sums(parties: list[Party], companies: dict[str, Party]) -> None:
    for c, comp in companies.items():
        owned = sum(p.owns.get(c, 0.0) for p in parties)
        if abs(owned - 1.0) > SHARE_TOL:
            holders = {p.name: p.owns[c] for p in parties if c in p.owns}
            raise ValueError(
                f"ownership shares of {c!r} add up to {owned:.6g}, expected 1 "
                f"(owns.{c} of {holders or 'nobody'})"
            )
        lent = sum(p.lends.get(c, 0.0) for p in parties)
        if comp.debt_share > 0 and abs(lent - 1.0) > SHARE_TOL:
            raise ValueError(
                f"{c!r} borrows debt_share={comp.debt_share} but lends.{c} shares add up to "
                f"{lent:.6g}, expected 1"
            )
        if comp.debt_share == 0 and lent > 0:
            raise ValueError(f"lenders lend to {c!r} but its debt_share is 0")


def _check_categories(companies: dict[str, Party]) -> None:
    seen: dict[str, str] = {}
    stars = [n for n, p in companies.items() if "*" in p.pays_for]
    if len(stars) > 1:
        raise ValueError(f"pays_for '*' is given by more than one company: {stars}")
    for n, p in companies.items():
        for c in p.pays_for:
            if c != "*" and c in seen:
                raise ValueError(f"category {c!r} is paid by both {seen[c]!r} and {n!r}")
            seen[c] = n
    missing = [c for c in ALL_CATEGORIES if c not in seen]
    if missing and not stars:
        raise ValueError(
            f"no asset company pays for {missing}; add them to a pays_for or give one '*'"
        )


def payer_of_category(cfg: FinanceConfig) -> dict[str, str]:
    """Category -> name of the asset company that pays its spending."""
    out: dict[str, str] = {}
    rest = None
    for p in cfg.of_kind(PartyKind.ASSET_COMPANY):
        for c in p.pays_for:
            if c == "*":
                rest = p.name
            else:
                out[c] = p.name
    for c in ALL_CATEGORIES:
        if c not in out and rest is not None:
            out[c] = rest
    return out


__all__ = ["Category", "FinanceConfig", "LeaseConfig", "Party", "payer_of_category"]
