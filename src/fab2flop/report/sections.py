"""Report sections from the finance, context and dependence engines (issues 12 and 13).

Each ``*_section`` takes a solved :class:`~fab2flop.results.Results` and returns a
:class:`Section`: its figures by id, plain tables and lines for the template, or, when the
run lacks the inputs (e.g. a catalog without finance records), no figures and a one-line note.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import plotly.graph_objects as go

from ..errors import Fab2FlopError

if TYPE_CHECKING:
    from ..results import Results

_MISSING = (Fab2FlopError, KeyError, ValueError, IndexError)


@dataclass
class Section:
    """One report section: ``title``, figures by id, table rows, text lines, or a ``note``."""

    id: str
    title: str
    figures: dict[str, go.Figure] = field(default_factory=dict)
    rows: list[dict[str, str]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    note: str | None = None
    # generic tables: {"title", "columns": [str], "rows": [[{"text", "raw"[, "num"]}]]}
    tables: list[dict[str, Any]] = field(default_factory=list)
    lead: list[str] = field(default_factory=list)  # lines shown before the figures


def _usd(v: float | None) -> str:
    if v is None or not np.isfinite(v):
        return "–"
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= scale:
            return f"${v / scale:,.2f}{suffix}"
    return f"${v:,.0f}"


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v:.1%}"


def finance_section(res: Results) -> Section:
    """Who pays and who gains: cumulative net cash flow by party, returns, jobs by region."""
    from ..finance import DEFAULTS_RECORD, JOBS_RECORD, finance_of

    sec = Section("finance", "Who pays and who gains")
    has_cfg = getattr(res.network.scenario, "finance", None) is not None
    if not (has_cfg or DEFAULTS_RECORD in res.network.catalog):
        sec.note = "Finance omitted: the run's catalog has no finance-party records."
        return sec
    try:
        fa = finance_of(res)
        metrics = fa.party_metrics()
    except _MISSING as exc:
        sec.note = f"Finance omitted: {exc}"
        return sec
    years = [int(y) for y in fa.spend.years]
    fig = go.Figure()
    for name in metrics:
        fig.add_scatter(x=years, y=np.cumsum(fa.flows(name)), name=name, mode="lines+markers")
    fig.update_layout(
        title="Cumulative net cash flow by party (+ into the party)",
        yaxis_title="USD (cumulative, undiscounted)",
        xaxis_title="year",
    )
    sec.figures["finance_flows"] = fig
    for name, m in metrics.items():
        pb = m["payback_year"]
        sec.rows.append(
            {
                "party": name,
                "kind": m["kind"],
                "npv": _usd(m["npv_usd"]),
                "npv_raw": repr(m["npv_usd"]),
                "irr": _pct(m["irr"]),
                "payback": "–" if pb is None else str(int(pb)),
            }
        )
    if JOBS_RECORD in res.network.catalog:
        sec.lines = _jobs_lines(res)
    return sec


def _jobs_lines(res: Results) -> list[str]:
    from ..finance.jobs import jobs_of

    try:
        jobs = jobs_of(res).summary()
    except _MISSING:
        return []
    return [
        f"Jobs in {r}: peak construction {j['peak_construction_jobs']:,.0f}, operating at the "
        f"end {j['operating_jobs_at_end']:,.0f} (spend there {_usd(j['spend_total_usd'])})"
        for r, j in jobs.items()
    ]


def context_section(res: Results) -> Section:
    """Scale in context: the plan's spend by year beside USD/year yardsticks."""
    from ..context import context_of

    sec = Section("context", "Scale in context")
    try:
        out = context_of(res)
    except _MISSING as exc:
        sec.note = f"Context omitted: {exc}"
        return sec
    flows = [y for y in out["yardsticks"] if y["kind"] == "flow"]
    if not flows:
        sec.note = "Context omitted: the run's catalog has no USD/year yardsticks."
        return sec
    years = [str(y) for y in out["years"]]
    fig = go.Figure()
    fig.add_bar(x=years, y=[out["spend_by_year_usd"][y] for y in years], name="plan spend")
    for f in flows:
        fig.add_bar(
            x=[str(r["year"]) for r in f["by_year"]],
            y=[r["value_usd"] for r in f["by_year"]],
            name=f["label"],
        )
    fig.update_layout(
        barmode="group", title="Plan spend by year beside yardsticks", yaxis_title="USD/year"
    )
    sec.figures["context"] = fig
    sec.lines = list(out["sentences"])
    return sec


def dependence_section(res: Results) -> Section:
    """Dependence: H100e share by vendor, Taiwan/Korea-dependent H100e, HHI per input."""
    from ..dependence import dependence_of

    sec = Section("dependence", "Dependence")
    try:
        d = dependence_of(res)
    except _MISSING as exc:
        sec.note = f"Dependence omitted: {exc}"
        return sec
    periods = [int(p) for p in d["periods"]]
    fig = go.Figure()
    for v, xs in d["by_vendor"].items():
        if any((x or 0) > 0 for x in xs):
            fig.add_scatter(x=periods, y=[x or 0.0 for x in xs], name=v, stackgroup="vendor")
    fig.update_layout(
        title="Share of H100e by vendor", yaxis_title="share of H100e", yaxis_tickformat=".0%"
    )
    sec.figures["vendors"] = fig
    dep = go.Figure()
    for key, label in (("taiwan_dependent_h100e", "Taiwan"), ("korea_dependent_h100e", "Korea")):
        dep.add_bar(x=periods, y=[x or 0.0 for x in d[key]], name=label)
    dep.update_layout(
        barmode="group", title="H100e that depends on Taiwan / Korea", yaxis_title="H100e"
    )
    sec.figures["dependent"] = dep
    for name, hs in d["hhi"].items():
        sec.rows.append(
            {
                "input": name,
                "hhi": ", ".join(
                    f"{p} {'–' if h is None else f'{h:,.0f}'}"
                    for p, h in zip(periods, hs, strict=True)
                ),
            }
        )
    sec.lines = [d["line"]]
    return sec


def report_sections(res: Results) -> list[Section]:
    """The finance, context and dependence sections of a solved run, in report order; a
    robust run's section first when its ``meta`` holds the robust summary."""
    from .robust import ROBUST_KEY, robust_section

    first = [robust_section(res.meta[ROBUST_KEY])] if res.meta.get(ROBUST_KEY) else []
    return [*first, finance_section(res), context_section(res), dependence_section(res)]
