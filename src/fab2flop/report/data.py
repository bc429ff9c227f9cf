"""Plain tables for the report, read from a :class:`~fab2flop.results.Results`.

Pure functions of the results Dataset, the network Dataset and the scenario: no Plotly here,
so the numbers a chart shows can be tested by themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from ..constants import ACCELERATOR, PERIOD, PROCESS, REGION, Category

if TYPE_CHECKING:
    from ..results import Results

UNSPENT = "unspent"
UNFUNDED = "beyond the budget"
SYSTEMS_STAGE = "servers and networking for {acc}"


@dataclass(frozen=True)
class Flow:
    """Money moving from one node of the Sankey to another [USD over the horizon]."""

    source: str
    target: str
    usd: float


def funding_by_funder(results: Results) -> dict[str, float]:
    """Money each funder brought over the horizon [USD].

    Each funder's share of every period's funding comes from the scenario's funders (their
    shares and profiles); the period totals are the run's ``funding_usd`` (which includes
    what events changed), so the funders add up to the run's funding."""
    from ..network import _funding_by_funder

    net = results.network
    names, by_funder = _funding_by_funder(net.scenario, net.periods, [])
    funding = np.asarray(results.dataset["funding_usd"].values, float)
    col = by_funder.sum(axis=0)
    share = np.divide(by_funder, col, out=np.zeros_like(by_funder), where=col > 0)
    return {n: float((share[i] * funding).sum()) for i, n in enumerate(names)}


def stage_flows(results: Results) -> list[Flow]:
    """Spend from each category to each stage (process, or the servers bought with each
    accelerator) [USD], by the rule of :func:`fab2flop.metrics.spend_by_category`: capex to
    the process's category, fixed O&M to operations, variable cost to the category (to
    operations for rate carriers), systems to servers and networking."""
    ds, net = results.dataset, results.network.ds
    labels = [str(x) for x in ds["process_label"].values] if "process_label" in ds else None
    names = [str(p) for p in net.indexes[PROCESS]]
    cat = [str(c) for c in net["category"].values]
    kind = net["carrier_kind"].sel(carrier=net["main_output"]).values
    ops = Category.OPERATIONS.value
    var_cat = [ops if k == "rate" else c for k, c in zip(kind, cat, strict=True)]
    parts = {
        "spend_capex_usd": cat,
        "spend_fixed_om_usd": [Category.OPERATIONS.value] * len(cat),
        "spend_variable_usd": var_cat,
    }
    acc: dict[tuple[str, str], float] = {}
    for var, cats in parts.items():
        usd = ds[var].sum([REGION, PERIOD]).sel({PROCESS: names}).values
        for i, v in enumerate(usd):
            if v > 0:
                key = (cats[i], labels[i] if labels else names[i])
                acc[key] = acc.get(key, 0.0) + float(v)
    systems = ds["spend_systems_usd"].sum([REGION, PERIOD])
    for a, v in zip(systems[ACCELERATOR].values, systems.values, strict=True):
        if v > 0:
            acc[(Category.SYSTEMS.value, SYSTEMS_STAGE.format(acc=a))] = float(v)
    return [Flow(s, t, v) for (s, t), v in acc.items()]


def money_flows(results: Results) -> list[Flow]:
    """Funders → categories → stages [USD over the horizon].

    Each funder pays its share of every category; money not spent flows to ``unspent``, and
    spend beyond the funding (``budget.enforce: false``) comes from ``beyond the budget``."""
    funders = {k: v for k, v in funding_by_funder(results).items() if v > 0}
    cats = results.spend_by_category()
    spent = sum(v for v in cats.values() if v > 0)
    funded = sum(funders.values())
    sources = dict(funders)
    if spent > funded:
        sources[UNFUNDED] = spent - funded
    targets = {c: v for c, v in cats.items() if v > 0}
    if funded > spent:
        targets[UNSPENT] = funded - spent
    total = sum(sources.values())
    flows = [
        Flow(s, t, sv * tv / total)
        for s, sv in sources.items()
        for t, tv in targets.items()
        if total > 0
    ]
    return flows + stage_flows(results)


def capacity_table(ds: xr.Dataset) -> pd.DataFrame:
    """Capacity (stock) by process, region and period where any is built [activity unit]."""
    cap = ds["capacity"]
    keep = (cap > 0).any([REGION, PERIOD]).values
    df = cap.isel({PROCESS: keep}).to_dataframe().reset_index()
    cols = [PROCESS, REGION, PERIOD, "capacity"]
    if "process_label" in df:
        cols.insert(1, "process_label")
    return df[cols]


def bottleneck_matrix(
    bottlenecks: list[dict[str, Any]], periods: list[Any], top: int = 25
) -> tuple[list[str], list[str], np.ndarray, list[list[str]]]:
    """Rows (constraint: item (region)), columns (periods), the shadow price of one more
    unit in each (NaN where it does not bind) and the hover text; the ``top`` rows holding
    up the most objective."""
    rows: dict[str, dict[Any, dict[str, Any]]] = {}
    weight: dict[str, float] = {}
    for b in bottlenecks:
        where = f" ({b['region']})" if b.get("region") else ""
        name = f"{b['constraint']}: {b['item']}{where}"
        rows.setdefault(name, {})[b["period"]] = b
        weight[name] = weight.get(name, 0.0) + float(b.get("importance") or 0.0)
    names = sorted(rows, key=lambda n: -weight[n])[:top]
    cols = [str(p) for p in periods]
    z = np.full((len(names), len(periods)), np.nan)
    text = [["" for _ in periods] for _ in names]
    for i, n in enumerate(names):
        for j, p in enumerate(periods):
            cell = rows[n].get(p)
            if cell is not None:
                z[i, j] = float(cell["shadow_price"])
                text[i][j] = str(cell.get("description") or "")
    return names, cols, z, text


def fan_bands(ds: xr.Dataset, var: str = "compute_h100e", dim: str = "sample") -> pd.DataFrame:
    """P5, P25, P50, P75 and P95 of ``var`` over ``dim`` by period (linear interpolation
    between samples)."""
    if dim not in ds[var].dims:
        raise ValueError(f"{var} has no {dim!r} dimension (dims {ds[var].dims})")
    q = ds[var].quantile([0.05, 0.25, 0.5, 0.75, 0.95], dim=dim)
    df = q.to_pandas().T if q.dims[0] == "quantile" else q.to_pandas()
    df.columns = ["p5", "p25", "p50", "p75", "p95"]
    return df


def catalog_sources(results: Results) -> tuple[list[dict[str, Any]], str]:
    """The catalog records behind the run (id, value, unit, year, source) and a note on
    whether the installed catalog is the one the run used (same data hash)."""
    from ..catalog import load_catalog

    cat = load_catalog().with_overrides(results.network.scenario.catalog)
    used = str(results.meta.get("data_hash", ""))
    recs = [
        {"id": r.id, "value": r.value, "unit": r.unit, "year": r.year, "source": r.source}
        for r in cat
    ]
    if cat.data_hash == used:
        note = f"The catalog installed now is the one this run used (data hash {used})."
    else:
        note = (
            f"The catalog changed since this run (run: {used or 'unknown'}, installed: "
            f"{cat.data_hash}); the sources below are the installed catalog's."
        )
    return recs, note
