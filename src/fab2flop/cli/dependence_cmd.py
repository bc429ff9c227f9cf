"""``fab2flop dependence``: on whom and on where the plan's compute depends."""

from __future__ import annotations

import typer
from rich.table import Table

from .common import console, fmt_num, handle_errors, print_json


@handle_errors
def dependence(
    scenario: str = typer.Argument(
        "default", help="scenario YAML file; 'default' is the embedded Feb-2024 plan"
    ),
    set_: list[str] = typer.Option(
        [], "--set", help="override KEY=VALUE, e.g. --set policy.max_share_from.TW=0.3"
    ),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of tables"),
) -> None:
    """Measure dependence by period: compute and spending by vendor, where each critical
    input is made (with its Herfindahl-Hirschman index), and the compute that depends on
    Taiwan, Korea and export-controlled destinations.

    Examples:

      fab2flop dependence

      fab2flop dependence --set policy.max_share_from.TW=0.3 --json
    """
    from ..dependence import dependence_of
    from ..scenario import load_scenario
    from .context_cmd import solve

    load_scenario(None if scenario == "default" else scenario, set_)  # fails before work
    res = solve(scenario, set_, as_json)
    if not res.status.ok:
        from .common import fail

        fail(f"the scenario did not solve ({res.status.value}): {res.message}", 1)
    out = dependence_of(res)
    if as_json:
        print_json(out)
        return
    _print(out)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}"


def _print(d: dict) -> None:
    periods = d["periods"]
    console.rule(f"[bold]fab2flop dependence[/] - {d['scenario']}")
    vendors = [v for v, xs in d["by_vendor"].items() if any((x or 0) > 0 for x in xs)]
    vendors += [
        v
        for v, xs in d["spend_by_vendor_share"].items()
        if v not in vendors and any((x or 0) > 0 for x in xs)
    ]
    ec = ",".join(d["export_controlled_regions"])
    t = Table(
        title="Compute by vendor (share of H100e / share of accelerator spend) and the share "
        "of H100e that depends on a region",
        title_justify="left",
    )
    for col in ("period", "H100e", *vendors, "Taiwan", "Korea", *([f"in {ec}"] if ec else [])):
        t.add_column(col, justify="right")
    zero = [None] * len(periods)
    for i, p in enumerate(periods):
        cells = [
            f"{_pct(d['by_vendor'].get(v, zero)[i])} / "
            f"{_pct(d['spend_by_vendor_share'].get(v, zero)[i])}"
            for v in vendors
        ]
        extra = [_pct(d["export_controlled_share"][i])] if ec else []
        t.add_row(
            str(p),
            fmt_num(d["compute_h100e"][i]),
            *cells,
            _pct(d["taiwan_dependent_share"][i]),
            _pct(d["korea_dependent_share"][i]),
            *extra,
        )
    console.print(t)
    t = Table(
        title="Where each critical input is made (share of production; HHI 0-10,000)",
        title_justify="left",
    )
    t.add_column("period", justify="right")
    for name in d["by_region"]:
        t.add_column(name, overflow="fold")
    for i, p in enumerate(periods):
        cells = []
        for name, regs in d["by_region"].items():
            h = d["hhi"][name][i]
            parts = [f"{r} {_pct(xs[i])}" for r, xs in regs.items() if (xs[i] or 0) > 0.005]
            cells.append(" ".join(parts) + (f" ({h:,.0f})" if h is not None else "-"))
        t.add_row(str(p), *cells)
    console.print(t)
    console.print(f"[bold]Dependence:[/] {d['line']}", highlight=False)
    console.print(f"[dim]attribution: {d['rule']}[/]", highlight=False)


__all__ = ["dependence"]
