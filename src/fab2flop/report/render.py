"""Assemble the report: figures from :mod:`.figures`, tables and text into the Jinja2
template ``templates/report.html.j2``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import xarray as xr

from ..errors import Fab2FlopError
from ..store import HEADLINE_METRICS, headline_metrics
from . import figures
from .data import catalog_sources, money_flows
from .sections import Section, report_sections

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from ..results import Results


class ReportError(Fab2FlopError):
    """A report cannot be made (a run that did not solve, a missing image exporter)."""


TW_SPREAD = "dependence.taiwan_dependent_share"  # risk replay / sweep Dataset variable
T_TW_SPREAD = "Taiwan-dependent share of installed H100e across samples: P5–P95 fan"


@dataclass(frozen=True)
class RiskInputs:
    """What a risk run adds to the report, as plain data (any of them may be absent).

    ``samples``: a Dataset with a ``sample`` dim holding ``compute_h100e`` (period, sample);
    ``sensitivity``: parameter → index (e.g. Sobol total order); ``event_losses``: event →
    H100e-years lost."""

    samples: xr.Dataset | None = None
    sensitivity: Mapping[str, float] | None = None
    event_losses: Mapping[str, float] | None = None


_LABELS = {
    "compute_h100e_final": "Installed compute, last year",
    "compute_flops_final": "Installed dense BF16 FLOP/s, last year",
    "facility_power_gw_final": "Facility power, last year",
    "energy_twh_total": "Energy over the horizon",
    "largest_training_run_flop_final": "Largest training run, last year",
    "spend_total_usd": "Spent over the horizon",
    "funding_total_usd": "Funding over the horizon",
    "residual_value_usd": "Value left at the end (straight-line)",
    "cost_per_h100e_hour_usd": "Cost per H100e-hour (undiscounted)",
    "levelised_cost_per_h100e_hour_usd": "Cost per H100e-hour (levelised at the cost of capital)",
    "capex_per_gw_usd": "Capex per GW added (facility + IT)",
    "upstream_capex_usd": "Upstream capex (fabs, lines, power plants)",
    "compute_h100e_fp8_final": "Installed compute at FP8, last year (H100e)",
    "compute_h100e_effective_final": "Installed compute, workload-weighted, last year (H100e)",
    "objective_value": "Objective",
}


def _check(results: Results) -> None:
    if not results.status.ok:
        raise ReportError(
            f"run of scenario {results.network.scenario.name!r} did not solve (status "
            f"{results.status.value}: {results.message}); a report needs a solved run"
        )


def report_figures(
    results: Results, risk: RiskInputs | None = None, sections: list[Section] | None = None
) -> dict[str, go.Figure]:
    """The main charts of the report, by id, in the order they appear, then those of the
    finance, context and dependence sections (``sections``; computed when None)."""
    _check(results)
    ds, s = results.dataset, results.summary()
    figs = {
        "compute": figures.compute_by_accelerator(ds, results.network.ds),
        "spend": figures.spend_by_year(ds),
        "money": figures.money_sankey(money_flows(results)),
        "bottlenecks": figures.bottleneck_heatmap(
            [b.to_dict() for b in results.bottlenecks], s["periods"]
        ),
        "capacity": figures.capacity_by_stage_region(ds, _activity_units(results)),
        "regions": figures.regional_shares(s["periods"], s["regional_share_by_period"]),
    }
    risk = risk or RiskInputs()
    samples = risk.samples if risk.samples is not None else _samples_of(ds)
    if samples is not None:
        figs["fan"] = figures.fan_chart(samples)
        if TW_SPREAD in samples:  # a risk run's dependence across futures (issue 13)
            fig = figures.fan_chart(samples, TW_SPREAD)
            fig.update_layout(title=T_TW_SPREAD, yaxis_title="share of installed H100e")
            figs["dependence_fan"] = fig
    if risk.sensitivity:
        figs["sensitivity"] = figures.sensitivity_bars(risk.sensitivity)
    if risk.event_losses:
        figs["event_losses"] = figures.event_loss_bars(risk.event_losses)
    for sec in report_sections(results) if sections is None else sections:
        figs.update(sec.figures)
    return figs


def _activity_units(results: Results) -> dict[str, str]:
    net = results.network.ds
    if "activity_unit" not in net:
        return {}
    units = net["activity_unit"].to_series()
    return {str(p): str(u) for p, u in units.items()}


def _samples_of(ds: xr.Dataset) -> xr.Dataset | None:
    return ds if "compute_h100e" in ds and "sample" in ds["compute_h100e"].dims else None


def _fmt(v: float | None, unit: str) -> str:
    if v is None:
        return "–"
    if unit.startswith("USD") and abs(v) < 1e3:
        return f"${v:,.2f}"
    if abs(v) >= 1e15 or (0 < abs(v) < 1e-3):
        return f"{v:.3e}"
    return f"{v:,.4g}" if abs(v) < 1e4 else f"{v:,.0f}"


def _context(
    results: Results, charts: list[dict[str, str]], sections: list[Section]
) -> dict[str, Any]:
    s = results.summary()
    head = headline_metrics(s)
    units = dict(HEADLINE_METRICS)
    units["objective_value"] = str(results.dataset.attrs.get("objective_unit", "objective"))
    metrics = [
        {
            "name": _LABELS[k],
            "value": _fmt(v, units[k]),
            "raw": "" if v is None else repr(v),
            "unit": units[k],
        }
        for k, v in head.items()
    ]
    share = ", ".join(f"{r} {v:.0%}" for r, v in s["regional_share"].items() if v > 0.005)
    metrics.append(
        {
            "name": f"Regional share, {s['periods'][-1]}",
            "value": share or "–",
            "raw": "",
            "unit": "share of H100e",
        }
    )
    groups = [_group_row(g) for g in s["bottleneck_groups"][:15]]
    sources, note = catalog_sources(results)
    meta = results.meta
    return {
        "scenario": s["scenario"],
        "objective": s["objective"],
        "status": s["status"],
        "version": meta.get("version", ""),
        "digest": meta.get("scenario_digest", ""),
        "data_hash": meta.get("data_hash", ""),
        "created": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "metrics": metrics,
        "first_binding": (s.get("first_binding") or {}).get("description"),
        "events": [
            f"{e['name']} ({e['kind']}) in {', '.join(map(str, e['periods']))}"
            for e in s.get("events", [])
        ],
        "notes": s.get("notes", []),
        "charts": [c for c in charts if c["id"] not in _section_ids(sections)],
        "sections": [_section_row(sec, charts) for sec in sections],
        "groups": groups,
        "scenario_yaml": results.network.scenario.to_yaml(),
        "sources": sources,
        "sources_note": note,
    }


def _section_ids(sections: list[Section]) -> set[str]:
    return {k for sec in sections for k in sec.figures}


def _section_row(sec: Section, charts: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "id": sec.id,
        "title": sec.title,
        "charts": [c for c in charts if c["id"] in sec.figures],
        "rows": sec.rows,
        "lines": sec.lines,
        "note": sec.note,
        "tables": sec.tables,
        "lead": sec.lead,
    }


def _group_row(g: dict[str, Any]) -> dict[str, str]:
    where = f" ({g['region']})" if g.get("region") else ""
    one = g["n_periods"] == 1
    return {
        "name": f"{g['constraint']}: {g['item']}{where}",
        "span": str(g["first_period"]) if one else f"{g['first_period']}–{g['last_period']}",
        "description": g["first"]["description"],
    }


def render_report(results: Results, risk: RiskInputs | None = None) -> str:
    """The report as one HTML string (Plotly's JavaScript embedded in the first chart)."""
    import jinja2

    _check(results)
    sections = report_sections(results)
    figs = report_figures(results, risk, sections)
    charts = [
        {
            "id": k,
            "html": fig.to_html(
                full_html=False,
                include_plotlyjs=(i == 0),
                div_id=f"fig-{k}",
                config={"displaylogo": False, "responsive": True},
            ),
        }
        for i, (k, fig) in enumerate(figs.items())
    ]
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_template), autoescape=True, undefined=jinja2.StrictUndefined
    )
    return env.get_template("report.html.j2").render(**_context(results, charts, sections))


def _template(name: str) -> str:
    return (resources.files("fab2flop.report") / "templates" / name).read_text(encoding="utf-8")


def check_report_path(path: str | Path) -> Path:
    """``path`` can take a report: not a folder, and its nearest existing parent a folder
    that can be written (checked before a long solve); ReportError naming it otherwise."""
    out = Path(path)
    if out.is_dir():
        raise ReportError(f"report path {str(out)!r} is a folder; expected an HTML file name")
    parent = out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ReportError(
            f"report path {str(out)!r}: {str(parent)!r} is a file, not a folder to write into"
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ReportError(f"report path {str(out)!r}: folder {str(parent)!r} cannot be written")
    return out


def write_report(results: Results, path: str | Path, risk: RiskInputs | None = None) -> Path:
    """Write the report to ``path`` (written to a temporary file, then moved in place)."""
    check_report_path(path)
    html = render_report(results, risk)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)
    return out


def export_images(
    results: Results, out_dir: str | Path, fmt: str = "png", risk: RiskInputs | None = None
) -> list[Path]:
    """Each chart as a PNG or SVG file (needs the optional ``kaleido`` package and a
    browser it can drive); ReportError when that is not available."""
    if fmt not in ("png", "svg"):
        raise ReportError(f"image format {fmt!r}: expected png or svg")
    try:
        import kaleido  # noqa: F401
    except ImportError:
        raise ReportError(
            "image export needs the optional 'kaleido' package (pip install kaleido); the HTML "
            "report does not"
        ) from None
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for k, fig in report_figures(results, risk).items():
        p = out / f"{k}.{fmt}"
        try:
            fig.write_image(p, format=fmt)
        except Exception as exc:  # kaleido needs a Chrome; say so rather than a trace
            raise ReportError(f"image export of chart {k!r} failed: {exc}") from None
        written.append(p)
    return written
