"""Scale in context: the plan's spending beside sourced macro yardsticks of the same years.

Yardsticks are catalog records under ``context.`` (``data/catalog/context.yaml``): a unit of
``USD/year`` is a *flow* (semiconductor capex, bond issuance, GDP), compared year by year
with the plan's spend of the same calendar year; ``USD`` is a *stock* (a fund's assets, a
company's market value), compared with the plan's total spend and its budget. Any other
catalog record in USD or USD/year can be named as a yardstick by its full id.

Rule for years a source does not give: the value of the nearest earlier year given (or the
earliest, for years before the series starts); every ratio says which year it used.

>>> ys = load_yardsticks(ids=["gdp_france"])
>>> ys[0].kind, ys[0].label
('flow', "France's GDP")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .catalog import Catalog, load_catalog
from .constants import PERIOD
from .errors import CatalogError

if TYPE_CHECKING:
    from .results import Results

PREFIX = "context."
FLOW_UNIT = "USD/year"
STOCK_UNIT = "USD"

# how the shipped yardsticks read in a sentence; user-named ids fall back to their id
LABELS = {
    "world_semiconductor_capex": "world semiconductor capex",
    "tsmc_capex": "TSMC's capex",
    "world_datacenter_capex": "world data-center capex",
    "hyperscaler_capex": "the big four hyperscalers' capex",
    "us_corporate_bond_issuance": "US corporate bond issuance",
    "pif_assets": "PIF's assets",
    "adia_assets": "ADIA's assets",
    "mubadala_assets": "Mubadala's assets",
    "qia_assets": "QIA's assets",
    "abu_dhabi_swfs_assets": "Abu Dhabi's sovereign funds' assets",
    "apple_market_cap": "Apple's market value",
    "microsoft_market_cap": "Microsoft's market value",
    "nvidia_market_cap": "Nvidia's market value",
    "gdp_us": "US GDP",
    "gdp_japan": "Japan's GDP",
    "gdp_uk": "the UK's GDP",
    "gdp_france": "France's GDP",
}


@dataclass(frozen=True)
class Yardstick:
    """One macro figure: a value by year [USD or USD/year], with its source."""

    id: str
    label: str
    kind: str  # "flow" (USD/year) or "stock" (USD)
    series: dict[int, float]
    source: str
    conf: str | None = None
    note: str | None = None

    def at(self, year: int) -> tuple[float, int]:
        """The value for ``year`` and the year it was taken from (see the module rule)."""
        return value_at(self.series, year)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "kind": self.kind,
            "unit": FLOW_UNIT if self.kind == "flow" else STOCK_UNIT,
            "series": {str(y): v for y, v in self.series.items()},
            "source": self.source,
            "conf": self.conf,
            "note": self.note,
        }


def value_at(series: Mapping[int, float], year: int) -> tuple[float, int]:
    """Value of a year→value series at ``year``: that year's, else the nearest earlier
    year's, else (before the series starts) the earliest.

    >>> value_at({2023: 1.0, 2025: 3.0}, 2024)
    (1.0, 2023)
    >>> value_at({2023: 1.0, 2025: 3.0}, 2020)
    (1.0, 2023)
    """
    years = sorted(series)
    if not years:
        raise ValueError("empty series")
    earlier = [y for y in years if y <= year]
    used = earlier[-1] if earlier else years[0]
    return float(series[used]), used


def _full_id(name: str, cat: Catalog) -> str:
    if name in cat:
        return name
    if PREFIX + name in cat:
        return PREFIX + name
    known = sorted(r.id[len(PREFIX) :] for r in cat if r.id.startswith(PREFIX))
    raise CatalogError(
        f"yardstick {name!r} is unknown: the catalog has no record {name!r} or "
        f"{PREFIX + name!r}; known yardsticks: {', '.join(known)} (or any catalog id in USD "
        "or USD/year)"
    )


def to_yardstick(rid: str, cat: Catalog) -> Yardstick:
    """The catalog record ``rid`` as a yardstick; it must be a number or series in USD or
    USD/year."""
    rec = cat.record(rid)
    if rec.unit not in (FLOW_UNIT, STOCK_UNIT) or not (
        rec.is_number or isinstance(rec.value, dict)
    ):
        raise CatalogError(
            f"yardstick {rid!r} is {rec.value!r} in {rec.unit!r}; a yardstick must be a "
            f"number or a year series in {FLOW_UNIT!r} (a flow) or {STOCK_UNIT!r} (a stock)"
        )
    short = rid[len(PREFIX) :] if rid.startswith(PREFIX) else rid
    return Yardstick(
        id=rid,
        label=LABELS.get(short, short.replace("_", " ")),
        kind="flow" if rec.unit == FLOW_UNIT else "stock",
        series=cat.series(rid),
        source=rec.source,
        conf=rec.conf,
        note=rec.note,
    )


def load_yardsticks(
    cat: Catalog | None = None, ids: Sequence[str] | None = None
) -> list[Yardstick]:
    """Yardsticks named by ``ids`` (short ``gdp_france`` or full catalog ids), or every
    ``context.*`` record when ``ids`` is empty. Unknown ids raise CatalogError naming them."""
    cat = cat or load_catalog()
    if ids:
        return [to_yardstick(_full_id(i, cat), cat) for i in ids]
    return [to_yardstick(r.id, cat) for r in cat if r.id.startswith(PREFIX)]


def spend_by_year(res: Results) -> dict[int, float]:
    """The plan's spending by calendar year [USD] (quarters are summed into their year)."""
    ds = res.dataset
    per = ds["spend_usd"].sum("category").values
    years = np.floor(np.asarray(res.network.ds["year"].values, float) + 1e-9).astype(int)
    out: dict[int, float] = {}
    for y, v in zip(years, per, strict=True):
        out[int(y)] = out.get(int(y), 0.0) + float(v)
    assert len(per) == ds.sizes[PERIOD]
    return out


def compare(
    spend: Mapping[int, float], budget_usd: float, yardsticks: Sequence[Yardstick]
) -> dict[str, Any]:
    """Ratios of the plan to each yardstick (pure; see the module docstring for the rules).

    ``spend`` is the plan's spending by calendar year [USD]. Flows get a ratio per year
    (plan spend that year / yardstick that year) and ``total_ratio`` = plan total / the
    yardstick summed over the same years. Every yardstick gets ``budget_ratio`` and
    ``spend_total_ratio``: the budget and the total spend over the yardstick's value in the
    plan's first year.
    """
    years = sorted(spend)
    total = float(sum(spend.values()))
    first = years[0]
    out = []
    for y in yardsticks:
        v0, y0 = y.at(first)
        item: dict[str, Any] = {
            **y.to_dict(),
            "reference_year": y0,
            "reference_value_usd": v0,
            "budget_ratio": budget_usd / v0 if v0 else None,
            "spend_total_ratio": total / v0 if v0 else None,
        }
        if y.kind == "flow":
            rows: list[dict[str, Any]] = []
            for yr in years:
                v, used = y.at(yr)
                rows.append(
                    {
                        "year": yr,
                        "plan_spend_usd": spend[yr],
                        "value_usd": v,
                        "value_year": used,
                        "ratio": spend[yr] / v if v else None,
                    }
                )
            item["by_year"] = rows
            same_years = sum(r["value_usd"] for r in rows)
            item["total_ratio"] = total / same_years if same_years else None
        out.append(item)
    return {
        "years": years,
        "spend_by_year_usd": {str(y): spend[y] for y in years},
        "spend_total_usd": total,
        "budget_total_usd": budget_usd,
        "yardsticks": out,
        "sentences": sentences(spend, budget_usd, out),
    }


def _usd(x: float) -> str:
    for div, suf in ((1e12, "T"), (1e9, "B"), (1e6, "M")):
        if abs(x) >= div:
            return f"${x / div:,.2f}{suf}"
    return f"${x:,.0f}"


def _x(r: float | None) -> str:
    if r is None:
        return "-"
    return f"{r:.2g}x" if abs(r) < 0.1 else f"{r:.2f}x"


def sentences(
    spend: Mapping[int, float], budget_usd: float, items: Sequence[Mapping[str, Any]]
) -> list[str]:
    """One sentence per yardstick: flows at the plan's peak spending year, stocks against
    the budget and the total spend."""
    years = sorted(spend)
    peak = max(years, key=lambda y: spend[y])
    total = float(sum(spend.values()))
    out = []
    for it in items:
        if it["kind"] == "flow":
            row = next(r for r in it["by_year"] if r["year"] == peak)
            held = "" if row["value_year"] == peak else f", its {row['value_year']} value"
            out.append(
                f"The plan's {peak} spend ({_usd(spend[peak])}) is {_x(row['ratio'])} "
                f"{it['label']} ({_usd(row['value_usd'])}{held}); its budget "
                f"({_usd(budget_usd)}) is {_x(it['budget_ratio'])} its "
                f"{it['reference_year']} value."
            )
        else:
            out.append(
                f"The plan's budget ({_usd(budget_usd)}) is {_x(it['budget_ratio'])} "
                f"{it['label']} ({_usd(it['reference_value_usd'])}, {it['reference_year']}); "
                f"its spend over {years[0]}-{years[-1]} ({_usd(total)}) is "
                f"{_x(it['spend_total_ratio'])}."
            )
    return out


def context_of(res: Results, ids: Sequence[str] | None = None) -> dict[str, Any]:
    """The run's spending beside the yardsticks (the ``fab2flop context --json`` payload).

    Yardsticks are read from the run's catalog, so scenario ``catalog:`` overrides of
    ``context.*`` values apply.
    """
    ys = load_yardsticks(res.network.catalog, ids)
    out = compare(spend_by_year(res), float(res.network.scenario.budget.total_usd), ys)
    return {"scenario": res.network.scenario.name, "status": res.status.value, **out}


__all__ = [
    "Yardstick",
    "compare",
    "context_of",
    "load_yardsticks",
    "sentences",
    "spend_by_year",
    "to_yardstick",
    "value_at",
]
