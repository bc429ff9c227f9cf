"""The report's charts: one function per chart, from a Dataset or plain data to a Plotly
figure. Titles are module constants so tests and the template name the same thing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import xarray as xr

from ..constants import ACCELERATOR, H100_FLOPS_BF16_DENSE, PERIOD, PROCESS, REGION
from .data import Flow, bottleneck_matrix, capacity_table, fan_bands

T_COMPUTE = "Installed compute by year, stacked by accelerator [H100e]"
T_SPEND = "Spend by year by category [USD]"
T_SANKEY = "Where the money goes: funders → categories → stages [USD over the horizon]"
T_BOTTLENECKS = "What binds: value of one more unit, by constraint and year"
T_CAPACITY = "Capacity built by stage and region [the stage's activity unit]"
T_REGIONS = "Regional share of installed compute [share of H100e]"
T_FAN = "Installed compute across samples: P5–P95 fan [H100e]"
T_SENSITIVITY = "Sensitivity: what drives the outcome"
T_EVENT_LOSS = "Compute lost to each event [H100e-years]"

_LAYOUT = {"template": "plotly_white", "height": 460, "margin": {"l": 60, "r": 20, "t": 60}}


def _years(ds: xr.Dataset) -> list[str]:
    return [str(p) for p in ds.indexes[PERIOD]]


def compute_by_accelerator(ds: xr.Dataset, net_ds: xr.Dataset) -> go.Figure:
    """Installed H100-equivalents of each accelerator (units × its dense BF16 FLOP/s ÷ an
    H100's), stacked; they add up to the run's ``compute_h100e``."""
    x = _years(ds)
    units = ds["installed_units"]
    h100e = units * net_ds["flops_bf16_dense"] / H100_FLOPS_BF16_DENSE
    fig = go.Figure()
    for a in ds.indexes[ACCELERATOR]:
        y = h100e.sel({ACCELERATOR: a}).values
        if np.any(y > 0):
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=y,
                    name=str(a),
                    stackgroup="compute",
                    mode="lines",
                    customdata=units.sel({ACCELERATOR: a}).values,
                    hovertemplate="%{y:,.0f} H100e (%{customdata:,.0f} units)",
                ),
            )
    fig.update_layout(title=T_COMPUTE, yaxis_title="H100e", **_LAYOUT)
    return fig


def spend_by_year(ds: xr.Dataset) -> go.Figure:
    x = _years(ds)
    fig = go.Figure()
    for c in ds["spend_usd"]["category"].values:
        y = ds["spend_usd"].sel(category=c).values
        if np.any(np.abs(y) > 0):
            fig.add_trace(go.Bar(x=x, y=y, name=str(c)))
    fig.add_trace(
        go.Scatter(
            x=x,
            y=ds["funding_usd"].values,
            name="funding arriving",
            mode="lines+markers",
            line={"color": "black", "dash": "dot"},
        ),
    )
    fig.update_layout(title=T_SPEND, barmode="stack", yaxis_title="USD", **_LAYOUT)
    return fig


def money_sankey(flows: Sequence[Flow]) -> go.Figure:
    nodes: list[str] = []
    index: dict[str, int] = {}
    for f in flows:
        for n in (f.source, f.target):
            if n not in index:
                index[n] = len(nodes)
                nodes.append(n)
    fig = go.Figure(
        go.Sankey(
            node={"label": nodes, "pad": 12},
            link={
                "source": [index[f.source] for f in flows],
                "target": [index[f.target] for f in flows],
                "value": [f.usd for f in flows],
                "hovertemplate": "%{source.label} → %{target.label}: $%{value:,.3s}",
            },
            valueformat="$,.3s",
        )
    )
    fig.update_layout(title=T_SANKEY, **{**_LAYOUT, "height": 700})
    return fig


def bottleneck_heatmap(bottlenecks: list[dict[str, Any]], periods: list[Any]) -> go.Figure:
    """Constraint × year; colour = shadow price of one more unit (objective units per the
    constraint's unit, log scale), hover = the sentence saying what it is worth."""
    rows, cols, z, text = bottleneck_matrix(bottlenecks, periods)
    with np.errstate(divide="ignore", invalid="ignore"):
        zc = np.where(np.abs(z) > 0, np.log10(np.abs(z)), np.nan)
    fig = go.Figure(
        go.Heatmap(
            z=zc,
            x=cols,
            y=rows,
            text=text,
            customdata=z,
            colorscale="Reds",
            hovertemplate="%{y}, %{x}<br>%{text}<extra>shadow price %{customdata:.3g}</extra>",
            colorbar={"title": "log10 value<br>of one more unit"},
        )
    )
    fig.update_layout(
        title=T_BOTTLENECKS,
        yaxis={"autorange": "reversed"},
        **{**_LAYOUT, "height": max(360, 28 * len(rows) + 140), "margin": {"l": 320, "t": 60}},
    )
    return fig


def capacity_by_stage_region(ds: xr.Dataset, units: Mapping[str, str] | None = None) -> go.Figure:
    """Capacity of each stage, stacked by region; a menu picks the stage (``units``: each
    process's activity unit, shown on the y axis)."""
    df = capacity_table(ds)
    units = units or {}
    x = _years(ds)
    fig = go.Figure()
    stages = [str(s) for s in dict.fromkeys(df[PROCESS])]
    labels: dict[str, str] = {}
    owner: list[str] = []
    for s in stages:
        sub = df[df[PROCESS] == s]
        labels[s] = str(sub["process_label"].iloc[0]) if "process_label" in sub else s
        for r, g in sub.groupby(REGION, sort=False):
            if (g["capacity"] > 0).any():
                fig.add_trace(
                    go.Scatter(x=x, y=g["capacity"].values, name=f"{r}", stackgroup=s,
                               mode="lines", visible=s == stages[0], legendgroup=str(r),
                               hovertemplate=f"{labels[s]}, {r}: " + "%{y:,.4g}"),
                )  # fmt: skip
                owner.append(s)
    buttons = [
        {
            "label": labels[s],
            "method": "update",
            "args": [{"visible": [o == s for o in owner]}, {"yaxis.title.text": units.get(s, "")}],
        }
        for s in stages
    ]
    fig.update_layout(
        title=T_CAPACITY,
        yaxis_title=units.get(stages[0], "") if stages else "",
        updatemenus=[{"buttons": buttons, "x": 1.0, "y": 1.15, "xanchor": "right"}],
        **_LAYOUT,
    )
    return fig


def regional_shares(periods: list[Any], by_period: Mapping[str, Sequence[float]]) -> go.Figure:
    fig = go.Figure()
    x = [str(p) for p in periods]
    for r, v in by_period.items():
        if any(abs(s) > 1e-9 for s in v):
            fig.add_trace(go.Scatter(x=x, y=list(v), name=r, stackgroup="share", mode="lines"))
    fig.update_layout(title=T_REGIONS, yaxis={"tickformat": ".0%", "range": [0, 1]}, **_LAYOUT)
    return fig


def fan_chart(ds: xr.Dataset, var: str = "compute_h100e", dim: str = "sample") -> go.Figure:
    """P5–P95 and P25–P75 bands and the median of ``var`` over the ``dim`` samples."""
    bands = fan_bands(ds, var, dim)
    x = [str(p) for p in bands.index]
    fig = go.Figure()
    for lo, hi, name, alpha in (("p5", "p95", "P5–P95", 0.18), ("p25", "p75", "P25–P75", 0.35)):
        fig.add_trace(
            go.Scatter(
                x=x,
                y=bands[lo],
                mode="lines",
                line={"width": 0},
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=bands[hi],
                mode="lines",
                line={"width": 0},
                name=name,
                fill="tonexty",
                fillcolor=f"rgba(31,119,180,{alpha})",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=x, y=bands["p50"], mode="lines", name="median", line={"color": "rgb(31,119,180)"}
        )
    )
    fig.update_layout(title=T_FAN, yaxis_title="H100e", **_LAYOUT)
    return fig


def sensitivity_bars(indices: Mapping[str, float], label: str = "total-order index") -> go.Figure:
    """Horizontal bars, largest first (e.g. Sobol total-order or Morris mu*)."""
    s = pd.Series(dict(indices), dtype=float).sort_values()
    fig = go.Figure(go.Bar(x=s.values, y=list(s.index), orientation="h", name=label))
    fig.update_layout(title=T_SENSITIVITY, xaxis_title=label, **_LAYOUT)
    return fig


def event_loss_bars(losses: Mapping[str, float]) -> go.Figure:
    """Compute each event takes away (deterministic run minus run with the event)."""
    s = pd.Series(dict(losses), dtype=float).sort_values()
    fig = go.Figure(go.Bar(x=s.values, y=list(s.index), orientation="h"))
    fig.update_layout(title=T_EVENT_LOSS, xaxis_title="H100e-years lost", **_LAYOUT)
    return fig
