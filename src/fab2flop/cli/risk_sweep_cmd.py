"""``fab2flop risk sweep``: each sampled future re-optimised, on Dask distributed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from .common import console, err_console, fail, fmt_num, fmt_usd, handle_errors, print_json


@handle_errors
def sweep(
    scenario: str = typer.Argument("default", help="scenario YAML file; 'default': embedded"),
    set_: list[str] = typer.Option([], "--set", help="override KEY=VALUE (repeatable)"),
    samples: int = typer.Option(32, "--samples", help="sampled futures to re-optimise"),
    seed: int = typer.Option(0, "--seed", help="seed of the draws: same seed, same futures"),
    mode: str = typer.Option(
        "foresight",
        "--mode",
        help="foresight: each future known from the start; recourse: "
        "the plan's decisions before the future is known are kept",
    ),
    information_year: float | None = typer.Option(
        None,
        "--information-year",
        help="recourse: the year every future becomes known "
        "(default: each sample's first event start; no event: the horizon's start)",
    ),
    commit: str = typer.Option(
        "started",
        "--commit",
        help="recourse: fix builds whose construction 'started' before "
        "the information year (default) or only those 'opened' before it",
    ),
    uncertainty: str = typer.Option(
        "default",
        "--uncertainty",
        help="'default' (data/uncertainty.yaml), 'none' (nominal "
        "values: only --event differs from the plan) or a YAML file with an uncertainty section",
    ),
    event: list[str] = typer.Option(
        [], "--event", help="a catalog event forced in every sample (repeatable)"
    ),
    event_start: float | None = typer.Option(None, "--event-start", help="its start [year]"),
    event_duration: float | None = typer.Option(
        None, "--event-duration", help="its length [years]"
    ),
    workers: int = typer.Option(2, "--workers", help="local Dask workers; 1: in this process"),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="an existing Dask cluster, tcp://HOST:PORT"
    ),
    target_year: list[int] = typer.Option(
        [], "--target-year", help="years of the CVaR 5% of compute (default: objective, end)"
    ),
    as_json: bool = typer.Option(False, "--json", help="print a JSON summary"),
    out: Path | None = typer.Option(None, "--out", help="folder for sweep.nc and summary.json"),
    store: Path | None = typer.Option(
        None, "--store", help="run store to record in (default $FAB2FLOP_STORE, else user data dir)"
    ),
    no_store: bool = typer.Option(False, "--no-store", help="do not record the run"),
) -> None:
    """Re-optimise the plan under sampled futures (perfect foresight or recourse).

    Examples:

      fab2flop risk sweep --samples 200 --workers 2

      fab2flop risk sweep --uncertainty none --samples 1 --mode recourse
      --event taiwan_blockade --event-start 2028 --event-duration 3 --json

      fab2flop risk sweep --scheduler tcp://10.0.0.5:8786 --samples 1000 --out runs/sweep
    """
    from ..risk import sweep as sw
    from ..scenario import load_scenario

    _check_choices(mode, commit, workers, scheduler, samples)
    sc = load_scenario(None if scenario == "default" else scenario, set_)
    forced = _forced_events(event, event_start, event_duration)
    unc = _uncertainty(uncertainty, sc)
    inputs = sw.draw_samples(sc, unc, samples, seed)
    _validate_first(sw, sc, inputs, forced, mode)
    years = target_year or sw.target_years(sc)
    result = _run(sw, sc, inputs, forced, mode, information_year, commit, workers, scheduler,
                  as_json)  # fmt: skip
    summary = sw.summarize(result, years, seed)
    summary["notes"] = list(getattr(inputs, "notes", []))
    if not no_store:
        from .run_cmd import _record

        label = sweep_label(samples, seed, mode, [str(f["use"]) for f in forced])
        _record(result.nominal, store, err_console if as_json else console, "risk-sweep", label)
    if out is not None:
        _save(result, summary, out, err_console if as_json else console)
    if as_json:
        print_json(summary)
    else:
        _print(summary)
    if summary["optimal"] == 0:
        raise typer.Exit(1)


def sweep_label(samples: int, seed: int | None, mode: str, events: list[str]) -> str:
    """The run store label of a risk run: ``<mode> samples=N seed=S events=a,b``."""
    ev = ",".join(events) or "-"
    return f"{mode} samples={samples} seed={seed} events={ev}"


def _check_choices(mode: str, commit: str, workers: int, scheduler: str | None, n: int) -> None:
    from ..risk.sweep import COMMITS, MODES

    if mode not in MODES:
        fail(f"--mode {mode!r}: expected one of {', '.join(MODES)}")
    if commit not in COMMITS:
        fail(f"--commit {commit!r}: expected one of {', '.join(COMMITS)}")
    if workers < 1:
        fail(f"--workers {workers}: expected at least 1")
    if n < 1:
        fail(f"--samples {n}: expected at least 1")
    if scheduler is not None and not scheduler.startswith(("tcp://", "tls://", "inproc://")):
        fail(f"--scheduler {scheduler!r}: expected an address such as tcp://HOST:PORT")


def _forced_events(names: list[str], start: float | None, dur: float | None) -> list[dict]:
    if (start is not None or dur is not None) and not names:
        fail("--event-start and --event-duration apply to --event events; name one with --event")
    out = []
    for name in names:
        ev: dict[str, Any] = {"use": name}
        if start is not None:
            ev["start"] = start
        if dur is not None:
            ev["duration_years"] = dur
        out.append(ev)
    return out


def _uncertainty(choice: str, sc: Any) -> Any:
    """The uncertainty set: the scenario's own section when it has one and 'default' is asked."""
    from ..risk.uncertainty import default_uncertainty, validate_uncertainty

    if choice == "none":
        return None
    if choice == "default":
        return getattr(sc, "uncertainty", None) or default_uncertainty()
    import yaml

    path = Path(choice)
    if not path.is_file():
        fail(f"--uncertainty {choice!r}: not 'default', 'none' or a YAML file")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if isinstance(data, dict) and "uncertainty" in data:
        data = data["uncertainty"]
    return validate_uncertainty(data)


def _validate_first(sw: Any, sc: Any, inputs: list, forced: list, mode: str) -> None:
    """Validate the first sample's scenario here, so bad --event input fails before work."""
    from ..scenario import validate_scenario

    task = sw.plan_tasks(sc, inputs[:1], forced, mode=mode)[0]
    validate_scenario(task.scenario, "the first sample (with --event)")


def _run(sw, sc, inputs, forced, mode, info, commit, workers, scheduler, quiet) -> Any:
    from rich.progress import Progress

    from ..risk.evaluators import make_evaluator

    shown = err_console if quiet else console
    # the evaluator first: a local cluster forks its workers from this process, before the
    # progress bar's refresh thread exists (risk/evaluators.py, LEAN_DASK_CONFIG)
    with make_evaluator(scheduler, workers) as ev, Progress(console=shown, transient=True) as bar:
        task = bar.add_task(f"sweep ({mode}) of {len(inputs)} futures", total=len(inputs))
        return sw.run_sweep(
            sc, inputs, forced, mode=mode, information_year=info, commit=commit,
            evaluator=ev, progress=lambda d, n: bar.update(task, completed=d),
        )  # fmt: skip


def _save(result: Any, summary: dict, out: Path, shown: Any) -> None:
    from ..results import _to_netcdf

    out.mkdir(parents=True, exist_ok=True)
    _to_netcdf(result.dataset, out / "sweep.nc")
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    shown.print(f"wrote sweep.nc and summary.json to {out}/")


def _print(s: dict) -> None:
    forced = f", forced: {', '.join(s['forced_events'])}" if s["forced_events"] else ""
    console.rule(f"[bold]risk sweep[/] - {s['mode']} - {s['samples']} futures (seed {s['seed']})")
    t = Table(title=f"Installed compute, H100e ({s['optimal']} optimal{forced})",
              title_justify="left")  # fmt: skip
    for col in ("period", "plan", "P5", "P50", "P95", "spend P50"):
        t.add_column(col, justify="right")
    c, sp = s["compute_h100e"], s["spend_usd"]
    for i, p in enumerate(s["periods"]):
        t.add_row(str(p), fmt_num(s["nominal_compute_h100e"][i]), fmt_num(c["p5"][i]),
                  fmt_num(c["p50"][i]), fmt_num(c["p95"][i]), fmt_usd(sp["p50"][i]))  # fmt: skip
    console.print(t)
    cv = ", ".join(f"{y}: {fmt_num(v)}" for y, v in s["cvar5_compute_h100e"].items())
    console.print(f"[bold]CVaR 5% of compute[/] {cv}")
    _print_spread(s)
    for f in s["failures"][:10]:
        console.print(f"[yellow]sample {f['sample']}[/] {f['status']}: {f['reason']}")
    if len(s["failures"]) > 10:
        console.print(f"... and {len(s['failures']) - 10} more failed samples (--json)")
    for note in s.get("notes", []):
        console.print(f"[dim]note: {note}[/]")
    console.print(f"[dim]{s['seconds']:.1f}s[/]")


def _print_spread(s: dict) -> None:
    """Dependence across the futures, in the last period (P5/P50/P95 across samples)."""
    from ..risk.spread import table_rows

    sp = s.get("dependence_spread") or {}
    rows = table_rows(sp, len(s["periods"]) - 1) if sp.get("by_vendor") else []
    if not rows:
        return
    n_dep, n = s.get("dependence_samples"), s.get("samples")
    of = f" (the first {n_dep:,} of {n:,})" if n_dep and n and n_dep < n else ""
    t = Table(title=f"Dependence across futures{of}, {s['periods'][-1]}", title_justify="left")
    for col in ("figure", "P5", "P50", "P95"):
        t.add_column(col, justify="left" if col == "figure" else "right")
    for r in rows:
        t.add_row(*r)
    console.print(t)
