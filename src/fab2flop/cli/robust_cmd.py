"""``fab2flop plan --robust``: a plan that hedges over futures, and what resilience costs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from .common import console, err_console, fail, fmt_num, handle_errors, print_json


@handle_errors
def plan(
    scenario: str = typer.Argument(
        "default", help="scenario YAML file; 'default' is the embedded Feb-2024 plan"
    ),
    robust: bool = typer.Option(
        False, "--robust", help="optimise over futures (objective.kind robust, docs/robust.md)"
    ),
    set_: list[str] = typer.Option(
        [], "--set", help="override KEY=VALUE, e.g. --set robust.mode=cvar (repeatable)"
    ),
    event: list[str] = typer.Option(
        [],
        "--event",
        help="a named future with this catalog event (with --probability), e.g. taiwan_blockade",
    ),
    event_start: float | None = typer.Option(
        None, "--event-start", help="start year of the --event events"
    ),
    event_duration: float | None = typer.Option(
        None, "--event-duration", help="length of the --event events in years"
    ),
    probability: float | None = typer.Option(
        None, "--probability", help="probability of the --event future (the rest: nominal)"
    ),
    held_out: int | None = typer.Option(
        None, "--held-out", help="held-out futures to judge the plans on (robust.held_out)"
    ),
    no_eval: bool = typer.Option(
        False, "--no-eval", help="only optimise: no deterministic plan, no held-out judging"
    ),
    time_limit: float | None = typer.Option(
        None, "--time-limit", help="seconds for the extensive-form solve (solver.time_limit_s)"
    ),
    method: str | None = typer.Option(
        None, "--solver", help="HiGHS method: choose | simplex | ipm | pdlp"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the JSON summary"),
    out: Path | None = typer.Option(
        None, "--out", help="new folder for the robust plan in the nominal future (as run --out)"
    ),
    force: bool = typer.Option(False, "--force", help="replace an existing --out folder"),
    report: Path | None = typer.Option(
        None, "--report", help="write the HTML report of the robust run to this file"
    ),
) -> None:
    """Optimise a robust plan over futures and judge it against the deterministic plan.

    Examples:

      fab2flop plan --robust --event taiwan_blockade --event-start 2028 --probability 0.2

      fab2flop plan --robust --set robust.scenarios=16 --set robust.information_year=2028

      fab2flop plan --robust --set robust.mode=cvar --set robust.lambda=1 --json

      fab2flop plan --robust --set robust.scenarios=8 --report robust.html
    """
    sc = _load(scenario, set_, event, event_start, event_duration, probability, robust)
    if method is not None and method not in ("choose", "simplex", "ipm", "pdlp"):
        fail(f"--solver {method!r}: expected one of choose, simplex, ipm, pdlp")
    if held_out is not None and held_out < 1:
        fail(f"--held-out {held_out}: expected at least 1")
    if time_limit is not None and time_limit <= 0:
        fail(f"--time-limit {time_limit}: expected a positive number of seconds")
    if report is not None and no_eval:
        fail("--report needs the plans judged (the comparison, VSS, EVPI): drop --no-eval")
    _check_outputs(out, force, report)
    res = run_robust(sc, as_json, method, time_limit, not no_eval, held_out)
    _finish(res, as_json, out, force, report)


def run_robust_scenario(
    sc: Any, as_json: bool, method, out: Path | None, force: bool, report: Path | None = None
) -> None:
    """``fab2flop run`` on a scenario whose objective.kind is robust."""
    from ..robust.members import robust_config

    robust_config(sc)  # the robust block against the horizon, before any work
    _check_outputs(out, force, report)
    _finish(run_robust(sc, as_json, method, None, True, None), as_json, out, force, report)


def _check_outputs(out: Path | None, force: bool, report: Path | None) -> None:
    """--out and --report checked before the solve."""
    if out is not None:
        from ..outdir import check_out_dir

        check_out_dir(out, force)
    if report is not None:
        from ..report import check_report_path

        check_report_path(report)


def _write_report(res: Any, summary: dict[str, Any], report: Path, as_json: bool) -> None:
    """The robust run's HTML report: the robust plan in the nominal future with the robust
    section (its ``meta["robust"]``); written whole or not at all."""
    from ..report import ReportError, write_report

    if res.robust_nominal is None:
        raise ReportError(
            f"no report written to {str(report)!r}: the run has no robust plan in the nominal "
            f"future ({summary['message']})"
        )
    path = write_report(res.robust_nominal, report)
    (err_console if as_json else console).print(f"wrote report {path}", highlight=False)


def _finish(
    res: Any, as_json: bool, out: Path | None, force: bool, report: Path | None = None
) -> None:
    summary = res.to_json()
    if res.robust_nominal is not None:  # saved with --out, shown by --report
        res.robust_nominal.meta["robust"] = summary
    if out is not None and res.robust_nominal is None:
        err_console.print("[yellow]note:[/] nothing written to --out: no plan in the nominal "
                          "future (--no-eval, or no plan)")  # fmt: skip
    if out is not None and res.robust_nominal is not None:
        files = res.robust_nominal.save(out, force=force)
        (err_console if as_json else console).print(
            f"wrote {len(files)} files to {escape(str(out))}/", highlight=False
        )
    if as_json:
        print_json(summary)
    else:
        print_board(summary)
    if report is not None:
        _write_report(res, summary, report, as_json)  # no plan: ReportError, exit 2
    if not res.has_plan:
        raise typer.Exit(1)


def run_robust(sc: Any, as_json: bool, method, time_limit, evaluate: bool, held_out) -> Any:
    from ..robust.run import solve_robust

    status_console = err_console if as_json else console
    with status_console.status("robust plan: building the futures...") as st:
        return solve_robust(
            sc,
            method=method,
            time_limit_s=time_limit,
            evaluate=evaluate,
            held_out=held_out,
            progress=lambda msg: st.update(f"robust plan: {msg}..."),
        )


def _load(
    scenario: str,
    sets: list[str],
    events: list[str],
    start: float | None,
    duration: float | None,
    probability: float | None,
    robust: bool,
) -> Any:
    """The scenario with ``--set`` overrides; ``--event`` makes two named futures (nominal
    and the events, with ``--probability``); validated before any work."""
    from ..robust.members import robust_config
    from ..scenario import apply_override, load_scenario_dict, parse_override, validate_scenario

    if (start is not None or duration is not None or probability is not None) and not events:
        fail("--event-start, --event-duration and --probability apply to --event; name one")
    if events and probability is None:
        fail("--event needs --probability, the chance of that future (e.g. 0.2)")
    data, origin = load_scenario_dict(None if scenario == "default" else scenario)
    for item in sets:
        apply_override(data, *parse_override(item))
    kind = (data.get("objective") or {}).get("kind")
    if not robust and kind != "robust":
        fail("plan optimises robust plans: pass --robust (or use `fab2flop run`)")
    data.setdefault("objective", {})["kind"] = "robust"
    if events:
        assert probability is not None
        evs = []
        for name in events:
            ev: dict = {"use": name}
            if start is not None:
                ev["start"] = start
            if duration is not None:
                ev["duration_years"] = duration
            evs.append(ev)
        block = dict(data.get("robust") or {})
        block["source"] = "events"
        block["futures"] = [
            {"name": "nominal", "probability": 1.0 - probability},
            {"name": "+".join(events), "probability": probability, "events": evs},
        ]
        data["robust"] = block
    sc = validate_scenario(data, origin)
    robust_config(sc)  # the robust block against the horizon
    return sc


def _row(d: dict | None, plans: tuple[str, ...], year: str) -> list[str]:
    return [fmt_num((d or {}).get(p, {}).get(year)) for p in plans]


def print_board(s: dict[str, Any]) -> None:
    """The board's numbers as tables."""
    console.rule(f"[bold]fab2flop robust plan[/] - mode {s['mode']} - {s['scenarios']} futures")
    colour = "green" if s["status"] == "optimal" else "yellow"
    console.print(f"[bold {colour}]{s['status']}[/]: {escape(str(s['message']))}")
    if "expected_h100e" in s:
        plans = ("robust", "deterministic", "foresight")
        t = Table(
            title=f"Installed H100e on {s['held_out']} held-out futures "
            f"(CVaR: mean of the worst {s['alpha']:.0%})",
            title_justify="left",
        )
        t.add_column("year")
        t.add_column("measure")
        for p in plans:
            t.add_column(p, justify="right")
        for y in map(str, s["target_years"]):
            for key, label in (("expected_h100e", "expected"), ("cvar_h100e", "CVaR"),
                               ("worst_h100e", "worst")):  # fmt: skip
                t.add_row(y, label, *_row(s[key], plans, y))
        console.print(t)
        console.print(
            f"[bold]VSS:[/] {fmt_num(s['vss'])} (in sample {fmt_num(s['vss_in_sample'])})   "
            f"[bold]EVPI:[/] {fmt_num(s['evpi'])} (in sample {fmt_num(s['evpi_in_sample'])})"
            f"   ({s['value_units']})",
            highlight=False,
        )
    if s.get("price_of_resilience_h100e") is not None:
        console.print(
            f"[bold]Price of resilience:[/] {fmt_num(s['price_of_resilience_h100e'])} H100e in "
            f"{s['target_years'][-1]} ({fmt_num(s['price_of_resilience_h100e_years'])} "
            "discounted H100e-years) given up in the nominal future",
            highlight=False,
        )
        diff = sorted(s.get("build_difference", []), key=lambda d: -abs(d["value"]))
        if diff:
            t = Table(title="Builds differently (robust minus deterministic capacity, top 10)",
                      title_justify="left")  # fmt: skip
            for c in ("stage", "process", "region", "period", "value", "unit"):
                t.add_column(c, justify="right" if c == "value" else "left")
            for d in diff[:10]:
                t.add_row(d["stage"], d["process"], d["region"], d["period"],
                          fmt_num(d["value"]), d["unit"])  # fmt: skip
            console.print(t)
        else:
            console.print("[bold]Builds differently:[/] nothing (same capacity everywhere)")
        stock = sorted(s.get("inventory_difference", []), key=lambda d: -abs(d["value"]))
        if stock:
            t = Table(title="Holds differently (robust minus deterministic inventory, top 5)",
                      title_justify="left")  # fmt: skip
            for c in ("carrier", "period", "value", "unit"):
                t.add_column(c, justify="right" if c == "value" else "left")
            for d in stock[:5]:
                t.add_row(d["carrier"], d["period"], fmt_num(d["value"]), d["unit"])
            console.print(t)
    tm = s.get("seconds", {})
    console.print("[dim]seconds: " + ", ".join(f"{k[:-2]} {v:.1f}" for k, v in tm.items()) + "[/]")
