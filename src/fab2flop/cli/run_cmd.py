"""``fab2flop run``: optimise a scenario and print what comes out."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from .common import console, err_console, fmt_num, fmt_usd, handle_errors


@handle_errors
def run(
    scenario: str = typer.Argument(
        "default",
        help="scenario YAML file; 'default' is the embedded Feb-2024 plan, 'world' the "
        "world market of every buyer and vendor (docs/model.md)",
    ),
    set_: list[str] = typer.Option(
        [], "--set", help="override KEY=VALUE, e.g. --set budget.total_usd=3.5e12 (repeatable)"
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        help="new folder for full results (netCDF, Parquet, scenario, metadata), written "
        "whole with a .complete marker",
    ),
    force: bool = typer.Option(
        False, "--force", help="replace an existing non-empty --out folder (whole)"
    ),
    as_json: bool = typer.Option(False, "--json", help="print a JSON summary instead of tables"),
    method: str | None = typer.Option(
        None, "--solver", help="HiGHS method: choose | simplex | ipm | pdlp"
    ),
    top: int = typer.Option(10, "--top", help="binding constraints to list"),
    event: list[str] = typer.Option(
        [],
        "--event",
        help="add a catalog event (docs/scenarios.md), e.g. --event taiwan_blockade (repeatable)",
    ),
    event_start: float | None = typer.Option(
        None,
        "--event-start",
        help="start year of the --event events, e.g. 2028 (a year; 2028.5 = mid-2028)",
    ),
    event_duration: float | None = typer.Option(
        None, "--event-duration", help="length of the --event events in years"
    ),
    report: Path | None = typer.Option(
        None, "--report", help="write the HTML report of the run to this file"
    ),
    store: Path | None = typer.Option(
        None, "--store", help="run store to record in (default $FAB2FLOP_STORE, else user data dir)"
    ),
    no_store: bool = typer.Option(False, "--no-store", help="do not record the run"),
) -> None:
    """Decide what to build where and when; print compute, spend and bottlenecks.

    Examples:

      fab2flop run

      fab2flop run --set budget.total_usd=3.5e12 --set regions.TW.enabled=false --json

      fab2flop run my_scenario.yaml --out runs/mine

      fab2flop run --event taiwan_blockade --event-start 2028 --json

      fab2flop run --report plan.html --no-store
    """
    from .._compat import defer_dask_import, defer_unused_imports

    defer_unused_imports()  # numpy.f2py, numpy.testing: ~0.05 s, never used by a run
    defer_dask_import()  # before the first xarray array: saves ~0.5 s of dask.array import
    if scenario != "default":  # the default is no world: skip importing its module
        from ..world import is_world_source

        if is_world_source(scenario):  # the world market (fab2flop/world.py): its own LP
            from .world_cmd import run_world_cmd

            return run_world_cmd(scenario, set_, as_json, out, force)
    sc = _load(scenario, set_, event, event_start, event_duration)  # fails before work
    if sc.objective.kind.value == "robust":  # a robust scenario: `fab2flop plan --robust`
        from .robust_cmd import run_robust_scenario

        run_robust_scenario(sc, as_json, method, out, force, report)
        return
    if method is not None and method not in ("choose", "simplex", "ipm", "pdlp"):
        from .common import fail

        fail(f"--solver {method!r}: expected one of choose, simplex, ipm, pdlp")
    if out is not None:
        from ..outdir import check_out_dir

        check_out_dir(out, force)  # before the solve

    from ..checks import validate_scenario_deep
    from ..optimizer import optimize

    status_console = err_console if as_json else console
    with status_console.status("building the supply-chain network...") as st:
        net = validate_scenario_deep(sc, origin=scenario)  # what `scenario validate` checks
        st.update(
            f"optimising {len(net.processes)} processes x {len(net.regions)} regions x "
            f"{len(net.periods)} periods with HiGHS..."
        )
        res = optimize(net, method=method)
    if out is not None:
        files = res.save(out, force=force)
        status_console.print(f"wrote {len(files)} files to {escape(str(out))}/", highlight=False)
    if not no_store:
        _record(res, store, status_console)
    if as_json:
        typer.echo(res.to_json())
    else:
        _print_summary(res, top)
    if report is not None:
        from .report_cmd import write_run_report

        write_run_report(res, report, out_console=status_console)  # failed run: exit 2
    if not res.status.ok:
        raise typer.Exit(1)


def _record(
    res, store: Path | None, status_console, kind: str = "run", label: str | None = None
) -> None:
    """Record the run in the run store; a store that cannot be written is a warning (the
    run's results are still printed and saved). The run is left whole beside the store
    and moved into it by the next command that opens it (``RunStore.record``: no DuckDB
    import or commit here)."""
    from ..store import RunStore, StoreError

    try:
        st = RunStore(store)
        run_id = st.record(res, kind=kind, label=label)
    except StoreError as exc:
        err_console.print(f"[yellow]warning:[/] run not recorded: {exc}", highlight=False)
        return
    status_console.print(f"recorded as run {run_id} in {st.path}", highlight=False)


def _load(
    scenario: str,
    sets: list[str],
    events: list[str],
    start: float | None,
    duration: float | None,
):
    """The scenario with ``--set`` overrides applied and the ``--event`` catalog events
    appended (``--event-start``/``--event-duration`` override theirs), then validated."""
    from ..scenario import (
        apply_override,
        load_scenario_dict,
        parse_override,
        short_repr,
        validate_scenario,
    )
    from .common import fail

    if (start is not None or duration is not None) and not events:
        fail("--event-start and --event-duration apply to --event events; name one with --event")
    data, origin = load_scenario_dict(None if scenario == "default" else scenario)
    for item in sets:
        apply_override(data, *parse_override(item))
    added = []
    for name in events:
        ev: dict = {"use": name}
        if start is not None:
            ev["start"] = start
        if duration is not None:
            ev["duration_years"] = duration
        added.append(ev)
    if added:
        have = data.get("events") or []
        if not isinstance(have, list):
            fail(f"events is {short_repr(have)}; expected a list to add the --event events to")
        data["events"] = have + added
    return validate_scenario(data, origin)


def _print_summary(res, top: int) -> None:
    s = res._summary_view()  # read only: the run's summary, not a copy
    console.rule(f"[bold]fab2flop[/] - {escape(str(s['scenario']))} - {s['objective']}")
    if not res.status.ok:
        console.print(f"[bold red]{res.status.value}[/]: {escape(res.message)}")
        return
    if res.message != "optimal":
        console.print(f"[bold yellow]note:[/] {escape(res.message)}")
    ds = res.dataset
    t = Table(
        title="Compute by year (installed accelerators, H100-equivalents, dense BF16 FLOP/s, "
        "facility GW, spend, largest training run)",
        title_justify="left",
    )
    for col in ("period", "units", "H100e", "BF16 FLOP/s", "GW", "spend", "max run FLOP"):
        t.add_column(col, justify="right")
    units = ds["installed_units"].sum("accelerator").values
    for i, p in enumerate(s["periods"]):
        t.add_row(
            str(p),
            fmt_num(units[i]),
            fmt_num(s["compute_h100e"][i]),
            f"{s['compute_flops'][i]:.2e}",
            f"{s['facility_power_gw'][i]:.1f}",
            fmt_usd(s["spend_by_period_usd"][i]),
            f"{s['largest_training_run_flop'][i]:.2e}",
        )
    console.print(t)

    t = Table(title="Spending by category (horizon total)", title_justify="left")
    t.add_column("category")
    t.add_column("USD", justify="right")
    t.add_column("share", justify="right")
    tot = s["spend_total_usd"] or 1.0
    for k, v in sorted(s["spend_usd"].items(), key=lambda kv: -kv[1]):
        if abs(v) > 0:
            t.add_row(k, fmt_usd(v), f"{v / tot:.1%}")
    t.add_row("[bold]total spent[/]", fmt_usd(s["spend_total_usd"]), "")
    t.add_row("funding", fmt_usd(s["funding_total_usd"]), "")
    console.print(t)

    t = Table(title="Accelerators installed in the last period", title_justify="left")
    t.add_column("accelerator")
    t.add_column("units", justify="right")
    for a, v in s["installed_accelerators"].items():
        if v[-1] > 0:
            t.add_row(escape(str(a)), fmt_num(v[-1]))
    console.print(t)

    from ..bottlenecks import group_bottlenecks

    groups = group_bottlenecks(res.bottlenecks)
    t = Table(
        title=f"What binds (top {min(top, len(groups))} of {len(groups)}; every period in --json)",
        title_justify="left",
    )
    t.add_column("constraint")
    t.add_column("binds", justify="center")
    t.add_column("what one more unit is worth (first year it binds)", overflow="fold")
    for g in groups[:top]:
        where = f" ({g.region})" if g.region else ""
        span = f"{g.first_period}" if g.n_periods == 1 else f"{g.first_period}-{g.last_period}"
        t.add_row(escape(f"{g.constraint}: {g.item}{where}"), span, escape(g.first.description))
    console.print(t)
    if s["first_binding"]:
        fb = s["first_binding"]
        console.print(f"[bold]Binds first:[/] {escape(str(fb['description']))}")

    share = ", ".join(f"{r} {v:.0%}" for r, v in s["regional_share"].items() if v > 0.005)
    console.print(
        f"[bold]Cost per H100e-hour:[/] {fmt_usd(s['cost_per_h100e_hour_usd'])} undiscounted, "
        f"{fmt_usd(s.get('levelised_cost_per_h100e_hour_usd'))} levelised at "
        f"{s.get('cost_of_capital', 0.0):.1%}   "
        f"[bold]Capex per GW added (facility + IT):[/] {fmt_usd(s['capex_per_gw_usd'])}; "
        f"upstream (fabs, lines, power) {fmt_usd(s.get('upstream_capex_usd'))}   "
        f"[bold]Regional share ({s['periods'][-1]}):[/] {share or '-'}"
    )
    if s.get("compute_h100e_fp8"):
        console.print(
            f"[bold]Compute {s['periods'][-1]}:[/] {s['compute_h100e'][-1] / 1e6:,.1f}M H100e "
            f"(dense BF16), {s['compute_h100e_fp8'][-1] / 1e6:,.1f}M at FP8, "
            f"{s['compute_h100e_fp4'][-1] / 1e6:,.1f}M at FP4, "
            f"{s['compute_h100e_effective'][-1] / 1e6:,.1f}M workload-weighted",
            highlight=False,
        )
    console.print(f"[bold]Dependence:[/] {s['dependence'].get('line', '-')}", highlight=False)
    for ev in s.get("events", []):
        where = ", ".join(ev.get("regions", []) or ev.get("funders", []) or [])
        text = (
            f"{ev['name']} ({ev['kind']}{', ' + where if where else ''}) "
            f"in {', '.join(ev['periods']) or 'no period'}"
        )
        console.print(f"[bold]event:[/] {escape(text)}")
    for note in s.get("notes", []):
        console.print(f"[yellow]note:[/] {escape(str(note))}")
    tm = res.timings
    console.print(
        f"[dim]network {tm.get('network_s', 0):.2f}s, model {tm.get('build_s', 0):.2f}s, "
        f"solve {tm.get('solve_s', 0):.2f}s; data hash {res.meta['data_hash']}[/]"
    )
