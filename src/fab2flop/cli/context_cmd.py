"""``fab2flop context``: the plan's spending beside sourced macro yardsticks."""

from __future__ import annotations

import typer
from rich.table import Table

from .common import console, err_console, fmt_usd, handle_errors, print_json


def solve(scenario: str, set_: list[str], quiet: bool):
    """Load (failing before any work on bad input), build and optimise a scenario."""
    from ..network import build_network
    from ..optimizer import optimize
    from ..scenario import load_scenario

    sc = load_scenario(None if scenario == "default" else scenario, set_)
    status_console = err_console if quiet else console
    with status_console.status("optimising the scenario with HiGHS..."):
        res = optimize(build_network(sc))
    return res


@handle_errors
def context(
    scenario: str = typer.Argument(
        "default", help="scenario YAML file; 'default' is the embedded Feb-2024 plan"
    ),
    set_: list[str] = typer.Option(
        [], "--set", help="override KEY=VALUE, e.g. --set budget.total_usd=3.5e12 (repeatable)"
    ),
    yardstick: list[str] = typer.Option(
        [],
        "--yardstick",
        "-y",
        help="only these yardsticks (context.* short ids such as gdp_france, or any catalog "
        "id in USD or USD/year; repeatable)",
    ),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of tables"),
) -> None:
    """Set the plan's spending by year and in total beside macro yardsticks.

    Yardsticks are sourced catalog records (fab2flop data list context); change one like
    any catalog value with --set 'catalog.context.gdp_france={2023: 3.05e12}'.

    Examples:

      fab2flop context

      fab2flop context -y world_semiconductor_capex -y us_corporate_bond_issuance --json
    """
    from ..catalog import load_catalog
    from ..context import context_of, load_yardsticks
    from ..scenario import load_scenario

    # unknown yardsticks and bad scenarios fail before the solve
    sc = load_scenario(None if scenario == "default" else scenario, set_)
    load_yardsticks(load_catalog().with_overrides(sc.catalog), yardstick)
    res = solve(scenario, set_, as_json)
    if not res.status.ok:
        from .common import fail

        fail(f"the scenario did not solve ({res.status.value}): {res.message}", 1)
    out = context_of(res, yardstick)
    if as_json:
        print_json(out)
        return
    _print(out)


def _ratio(r: float | None) -> str:
    if r is None:
        return "-"
    return f"{r:.2g}" if abs(r) < 0.1 else f"{r:.2f}"


def _print(out: dict) -> None:
    years = out["years"]
    spend = out["spend_by_year_usd"]
    console.rule(f"[bold]fab2flop context[/] - {out['scenario']}")
    console.print(
        "Plan spend: "
        + ", ".join(f"{y} {fmt_usd(spend[str(y)])}" for y in years)
        + f"; total {fmt_usd(out['spend_total_usd'])} (budget {fmt_usd(out['budget_total_usd'])})"
    )
    flows = [y for y in out["yardsticks"] if y["kind"] == "flow"]
    if flows:
        t = Table(
            title="Annual yardsticks: the plan's spend in each year as a multiple of the "
            "yardstick that year (* = the source's nearest earlier year)",
            title_justify="left",
        )
        t.add_column("yardstick")
        t.add_column("latest (year)", justify="right")
        for y in years:
            t.add_column(str(y), justify="right")
        t.add_column("total", justify="right")
        t.add_column("budget", justify="right")
        for f in flows:
            cells = [
                _ratio(r["ratio"]) + ("" if r["value_year"] == r["year"] else "*")
                for r in f["by_year"]
            ]
            last = max(int(k) for k in f["series"])
            t.add_row(
                f["label"],
                f"{fmt_usd(f['series'][str(last)])} ({last})",
                *cells,
                _ratio(f["total_ratio"]),
                _ratio(f["budget_ratio"]),
            )
        console.print(t)
    stocks = [y for y in out["yardsticks"] if y["kind"] == "stock"]
    if stocks:
        t = Table(
            title="Stocks (assets, market value): the plan's total spend and its budget as a "
            "multiple",
            title_justify="left",
        )
        for col in ("yardstick", "value (year)", "spend total", "budget"):
            t.add_column(col, justify="right" if col != "yardstick" else "left")
        for s in stocks:
            t.add_row(
                s["label"],
                f"{fmt_usd(s['reference_value_usd'])} ({s['reference_year']})",
                _ratio(s["spend_total_ratio"]),
                _ratio(s["budget_ratio"]),
            )
        console.print(t)
    for line in out["sentences"]:
        console.print(f"- {line}", highlight=False)
    console.print("[dim]sources: fab2flop data list context[/]")


__all__ = ["context", "solve"]
