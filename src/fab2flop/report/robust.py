"""The robust run's report section (issue 11): robust versus deterministic on the held-out
futures, the robust-minus-deterministic build, the price of resilience, VSS and EVPI, and each
plan's outcomes across the held-out futures.

Everything comes from the board's JSON summary (:meth:`fab2flop.robust.run.RobustResult.
to_json`), which ``plan --robust`` stores in the nominal run's ``meta["robust"]`` (so a saved
``--out`` folder reloads with it and ``fab2flop report DIR`` renders the same section).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from .figures import _LAYOUT
from .sections import Section

ROBUST_KEY = "robust"  # Results.meta key holding the robust run's JSON summary
PLANS = ("robust", "deterministic", "foresight")
MEASURES = (("expected_h100e", "expected"), ("cvar_h100e", "CVaR"), ("worst_h100e", "worst"))

T_ROBUST_COMPARE = "Robust vs deterministic on the held-out futures: installed compute [H100e]"
T_ROBUST_BUILD = "Builds differently: robust minus deterministic capacity [activity unit]"
T_ROBUST_STOCK = "Holds differently: robust minus deterministic inventory [carrier unit]"
T_ROBUST_OUTCOMES = "Each plan's outcome on the held-out futures [discounted H100e-years]"

DEFINITIONS = {
    "price_of_resilience": "deterministic plan's compute minus the robust plan's, both in the "
    "nominal future (the robust plan's commitments kept, the rest re-optimised)",
    "vss": "value of the stochastic solution: V(robust plan) − V(deterministic plan), each "
    "with recourse in every future (V: the robust objective's value of the outcomes)",
    "evpi": "expected value of perfect information: V(each future optimised knowing it) − "
    "V(robust plan)",
}


def _num(v: Any) -> float | None:
    if v is None:
        return None
    f = float(v)
    return f if np.isfinite(f) else None


def _text(v: float | None) -> str:
    if v is None:
        return "–"
    if abs(v) >= 1e15 or (0 < abs(v) < 1e-3):
        return f"{v:.3e}"
    return f"{v:,.4g}" if abs(v) < 1e4 else f"{v:,.0f}"


def cell(v: Any) -> dict[str, str]:
    """A table cell: the shown text and the exact value (``data-value``) for numbers."""
    if isinstance(v, str):
        return {"text": v, "raw": "", "num": ""}
    f = _num(v)
    return {"text": _text(f), "raw": "" if f is None else repr(f), "num": "1"}


def _table(title: str, columns: Sequence[str], rows: list[list[Any]]) -> dict[str, Any]:
    return {"title": title, "columns": list(columns), "rows": [[cell(v) for v in r] for r in rows]}


def comparison_figure(s: Mapping[str, Any]) -> go.Figure:
    """Grouped bars: expected, CVaR and worst installed H100e by target year, one bar per plan."""
    years = [str(y) for y in s["target_years"]]
    x = [[y for y in years for _ in MEASURES], [lab for _ in years for _, lab in MEASURES]]
    fig = go.Figure()
    for p in PLANS:
        y = [_num((s.get(k) or {}).get(p, {}).get(yr)) for yr in years for k, _ in MEASURES]
        fig.add_bar(x=x, y=y, name=p)
    fig.update_layout(title=T_ROBUST_COMPARE, barmode="group", yaxis_title="H100e", **_LAYOUT)
    return fig


def _diff_heatmap(rows: list[dict[str, Any]], label, title: str, colorbar: str) -> go.Figure | None:
    """Rows (``label(d)``) × periods of ``value``, diverging around zero (blue: robust more)."""
    if not rows:
        return None
    labels = sorted({label(d) for d in rows})
    periods = sorted({str(d["period"]) for d in rows})
    z = np.full((len(labels), len(periods)), np.nan)
    for d in rows:
        z[labels.index(label(d)), periods.index(str(d["period"]))] = float(d["value"])
    top = float(np.nanmax(np.abs(z))) or 1.0
    fig = go.Figure(
        go.Heatmap(
            z=z, x=periods, y=labels, colorscale="RdBu", zmid=0.0, zmin=-top, zmax=top,
            colorbar={"title": colorbar}, hovertemplate="%{y}<br>%{x}: %{z:,.4g}<extra></extra>",
        )
    )  # fmt: skip
    layout = dict(_LAYOUT, height=max(320, 60 + 22 * len(labels)))
    fig.update_layout(title=title, xaxis_title="period", xaxis_type="category", **layout)
    return fig


def build_figure(diff: list[dict[str, Any]]) -> go.Figure | None:
    """Capacity difference by stage: process (region) × period; None when there is none."""
    return _diff_heatmap(
        diff,
        lambda d: f"{d['stage']}: {d['process']} ({d['region']}) [{d['unit']}]",
        T_ROBUST_BUILD,
        "robust − det.",
    )


def stock_figure(diff: list[dict[str, Any]]) -> go.Figure | None:
    """Inventory difference: carrier × period; None when there is none."""
    return _diff_heatmap(
        diff, lambda d: f"{d['carrier']} [{d['unit']}]", T_ROBUST_STOCK, "robust − det."
    )


def outcomes_figure(futures: list[dict[str, Any]]) -> go.Figure:
    """A box per plan of the held-out futures' discounted H100e-years, every future a dot."""
    fig = go.Figure()
    for p in PLANS:
        vals = [_num(f["discounted_h100e_years"].get(p)) for f in futures]
        fig.add_box(
            y=vals,
            name=p,
            boxpoints="all",
            pointpos=0,
            jitter=0.3,
            text=[f["future"] for f in futures],
            hovertemplate="%{text}: %{y:,.4g}<extra>" + p + "</extra>",
        )
    fig.update_layout(
        title=T_ROBUST_OUTCOMES, yaxis_title="discounted H100e-years", showlegend=False, **_LAYOUT
    )
    return fig


def _value_table(s: Mapping[str, Any]) -> dict[str, Any]:
    u = s.get("value_units", "discounted H100e-years")
    last = s["target_years"][-1] if s.get("target_years") else ""
    rows: list[list[Any]] = [
        [f"price of resilience (nominal future, {last})", s.get("price_of_resilience_h100e"),
         None, "H100e", DEFINITIONS["price_of_resilience"]],
        ["price of resilience (nominal future, horizon)",
         s.get("price_of_resilience_h100e_years"), None, u,
         "the same, discounted over the horizon"],
    ]  # fmt: skip
    if "vss" in s:
        rows += [
            ["VSS (held-out futures)", s["vss"], s.get("vss_in_sample"), u, DEFINITIONS["vss"]],
            ["EVPI (held-out futures)", s["evpi"], s.get("evpi_in_sample"), u,
             DEFINITIONS["evpi"]],
        ]  # fmt: skip
    cols = ("measure", "value", "in sample (optimised futures)", "unit", "definition")
    return _table("What resilience costs and is worth", cols, rows)


def _compare_table(s: Mapping[str, Any]) -> dict[str, Any]:
    rows = [
        [str(y), lab, *((s.get(k) or {}).get(p, {}).get(str(y)) for p in PLANS)]
        for y in s["target_years"]
        for k, lab in MEASURES
    ]
    title = (
        f"Installed H100e on {s.get('held_out', '?')} held-out futures (CVaR: mean of the "
        f"worst {float(s.get('alpha', 0)):.0%})"
    )
    return _table(title, ("year", "measure", *PLANS), rows)


def _header_lines(s: Mapping[str, Any]) -> list[str]:
    futures = ", ".join(f"{f['name']} ({f['probability']:.3g})" for f in s.get("futures", []))
    lines = [
        f"Mode {s['mode']} (alpha {s['alpha']}, lambda {s['lambda']}) over {s['scenarios']} "
        f"futures from {s['source']}: {futures}. Status {s['status']}: {s['message']}.",
        "The rest of this report shows the robust plan in the nominal future.",
    ]
    if s.get("best_plan_not_proven_optimal"):
        lines.append("The robust plan is the best found at the time limit, not proven optimal.")
    for f in s.get("evaluation_failures", []):
        lines.append(f"Judging failed: plan {f['plan']} in future {f['future']} ({f['status']}).")
    return lines


def robust_section(summary: Mapping[str, Any] | None) -> Section:
    """The robust run's section from its JSON summary (``RobustResult.to_json()``)."""
    sec = Section("robust", "Robust plan: what it hedges and what that costs")
    if not summary:
        sec.note = "Robust section omitted: the run holds no robust summary."
        return sec
    s = summary
    sec.lead = _header_lines(s)
    if "expected_h100e" in s and s.get("target_years"):
        sec.figures["robust_compare"] = comparison_figure(s)
        sec.tables.append(_compare_table(s))
    else:
        sec.lines.append("Not judged on held-out futures (no comparison, VSS or EVPI).")
    if "price_of_resilience_h100e" in s:
        sec.tables.append(_value_table(s))
    build = build_figure(list(s.get("build_difference") or []))
    if build is not None:
        sec.figures["robust_build"] = build
    elif "build_difference" in s:
        sec.lines.append("Builds differently: nothing (the same capacity everywhere).")
    stock = stock_figure(list(s.get("inventory_difference") or []))
    if stock is not None:
        sec.figures["robust_stock"] = stock
    if s.get("held_out_futures"):
        sec.figures["robust_outcomes"] = outcomes_figure(list(s["held_out_futures"]))
    return sec


__all__ = ["DEFINITIONS", "ROBUST_KEY", "robust_section"]
