"""``fab2flop risk``: the plan under sampled futures (replay), what matters most
(sensitivity); ``risk sweep`` (re-optimisation per sample) is added by its own module."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .common import console, err_console, fail, fmt_num, fmt_usd, handle_errors, print_json

risk_app = typer.Typer(
    name="risk",
    help="Stress-test a plan under sampled futures: replay, sensitivity, sweep.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


SCENARIO_ARG = typer.Argument("default", help="scenario YAML file; 'default': the embedded plan")
SET_OPT = typer.Option([], "--set", help="override KEY=VALUE (repeatable)")


def _scenario(scenario: str, sets: list[str]) -> Any:
    from ..scenario import apply_override, load_scenario_dict, parse_override, validate_scenario

    data, origin = load_scenario_dict(None if scenario == "default" else scenario)
    for item in sets:
        apply_override(data, *parse_override(item))
    return validate_scenario(data, origin)


def _forced(events: list[str], start: float | None, duration: float | None, sc: Any) -> list:
    """``--event`` catalog events as validated models, checked against the scenario."""
    from ..errors import ScenarioError
    from ..events import event_catalog
    from ..risk.futures import catalog_event

    if (start is not None or duration is not None) and not events:
        fail("--event-start and --event-duration apply to --event events; name one with --event")
    out = []
    for name in events:
        if name not in event_catalog():
            raise ScenarioError(
                f"--event {name!r}: no such catalog event; known: {', '.join(event_catalog())}",
                [("--event", name, f"one of {', '.join(event_catalog())}")],
            )
        ev = catalog_event(name, start, duration)
        if not sc.time.start <= ev.start < sc.time.end + 1:
            raise ScenarioError(
                f"--event-start {ev.start:g}: outside the horizon {sc.time.start}-{sc.time.end}",
                [("--event-start", ev.start, f"a year in {sc.time.start}..{sc.time.end}")],
            )
        out.append(ev)
    return out


def _paths(items: list[str]) -> dict[int, float]:
    from ..errors import ScenarioError

    out = {}
    for item in items:
        try:
            y, v = item.split("=", 1)
            out[int(y)] = float(v)
        except ValueError:
            raise ScenarioError(
                f"--path {item!r}: expected YEAR=H100E, e.g. 2030=5e7",
                [("--path", item, "YEAR=H100E")],
            ) from None
    return out


def _progress(quiet: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err_console,
        disable=quiet,
        transient=True,
    )


# the dependence attribution costs several times the replay; the P5/P50/P95 of its shares
# need far fewer samples (8,192 = 2^13: a whole Sobol block; docs/context-dependence.md
# compares them with all of 100,000)
DEPENDENCE_SAMPLES = 8192


@risk_app.command("replay")
@handle_errors
def replay_cmd(
    scenario: str = SCENARIO_ARG,
    set_: list[str] = SET_OPT,
    samples: int | None = typer.Option(
        None, "--samples", help="futures to draw (default: the uncertainty set's)"
    ),
    seed: int | None = typer.Option(None, "--seed", help="seed of the draws"),
    event: list[str] = typer.Option([], "--event", help="force a catalog event in every sample"),
    event_start: float | None = typer.Option(None, "--event-start", help="its start year"),
    event_duration: float | None = typer.Option(
        None, "--event-duration", help="its length [years]"
    ),
    path: list[str] = typer.Option([], "--path", help="compute path YEAR=H100E (repeatable)"),
    target_year: list[int] = typer.Option([], "--target-year", help="years for CVaR (repeatable)"),
    chunk: int = typer.Option(512, "--chunk", min=1, help="samples simulated at once"),
    dependence_samples: int = typer.Option(
        DEPENDENCE_SAMPLES,
        "--dependence-samples",
        min=0,
        help="samples whose dependence (Taiwan/Korea share, HHI) is attributed: the first N "
        "(whole chunks); 0: none",
    ),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
    out: Path | None = typer.Option(None, "--out", help="folder: replay.nc with a sample dim"),
    store: Path | None = typer.Option(
        None, "--store", help="run store to record in (default $FAB2FLOP_STORE, else user data dir)"
    ),
    no_store: bool = typer.Option(False, "--no-store", help="do not record the run"),
) -> None:
    """The plan's builds fixed, simulated under N sampled futures at once.

    Examples:

      fab2flop risk replay --samples 1000 --seed 1

      fab2flop risk replay --event taiwan_blockade --event-start 2028 --event-duration 1 --json
    """
    from ..risk.futures import forced_event
    from ..risk.replay import replay, resolve_for, setup
    from ..risk.report import stage_loss, summarise
    from ..risk.spread import per_sample_from_dataset, spread

    sc = _scenario(scenario, set_)
    forced = _forced(event, event_start, event_duration, sc)
    paths = _paths(path) or {int(k): float(v) for k, v in sc.objective.compute_path_h100e.items()}
    # the objective's target year counts only inside the horizon (a short horizon drops it)
    goal = sc.objective.target_year
    years = target_year or sorted(
        {sc.time.end} | ({goal} if goal and sc.time.start <= goal <= sc.time.end else set())
    )
    for y in [*years, *paths]:
        if not sc.time.start <= y <= sc.time.end:
            fail(
                f"year {y} (--target-year/--path) is outside the horizon "
                f"{sc.time.start}-{sc.time.end}"
            )
    resolve_for(sc, samples, seed)  # every uncertainty problem, before any work
    status_console = err_console if as_json else console
    with status_console.status("preparing...") as st:
        su = setup(sc, samples, seed, st.update)
    n = su.samples.sizes["sample"]
    runs: list[tuple[str, list]] = [("no event" if forced else "replay", [])]
    if forced:
        runs.append(("with event", [forced_event(e, n) for e in forced]))
    got = {}
    with _progress(as_json) as prog:
        for label, extra in runs:
            task = prog.add_task(f"replay {label}", total=n)
            got[label] = replay(
                su.net,
                su.plan,
                su.samples,
                su.probe,
                su.events + extra,
                chunk=chunk,
                progress=partial(prog.advance, task),
                dependence=label != "no event" and dependence_samples > 0,
                dependence_samples=dependence_samples,
            )
    main = got[runs[-1][0]]
    summary = summarise(main.dataset, seed=su.seed, target_years=years, path=paths)
    summary["seconds"] = round(sum(r.seconds for r in got.values()), 3)
    summary["parameters_varied"] = su.probe.varied
    summary["parameters_held_nominal"] = su.probe.held
    summary["notes"] = su.notes
    summary["dependence_spread"] = spread(per_sample_from_dataset(main.dataset))
    summary["dependence_samples"] = int(main.dataset.attrs.get("dependence_samples", 0))
    if forced:
        summary["events_forced"] = [e.model_dump(mode="json", exclude_none=True) for e in forced]
        base = summarise(got["no event"].dataset, seed=su.seed, target_years=years, path=paths)
        summary["no_event"] = {
            k: base[k]
            for k in ("compute_h100e", "cvar5_compute_h100e", "path_probability")
            if k in base
        }
        summary["event_loss"] = stage_loss(main.dataset, got["no event"].dataset)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        ds = main.dataset.assign_attrs(
            seed=su.seed, scenario=sc.name, summary=json.dumps(summary, default=str)
        )
        ds.to_netcdf(out / "replay.nc")
        status_console.print(f"wrote {out / 'replay.nc'}")
    if not no_store:
        from .risk_sweep_cmd import sweep_label
        from .run_cmd import _record

        label = sweep_label(n, su.seed, "replay", list(event))
        _record(su.results, store, status_console, "risk-replay", label)
    if as_json:
        print_json(summary)
    else:
        _print_replay(summary)


def _print_replay(s: dict[str, Any]) -> None:
    console.rule(f"[bold]risk replay[/] - {s['samples']} futures, seed {s['seed']}")
    t = Table(
        title="Installed compute (H100e), spend and usable money by period", title_justify="left"
    )
    for col in ("period", "plan", "P5", "P50", "P95", "spend P50", "usable P50"):
        t.add_column(col, justify="right")
    c = s["compute_h100e"]
    for i, p in enumerate(s["periods"]):
        t.add_row(
            p,
            fmt_num(s["plan_compute_h100e"][i]),
            fmt_num(c["p5"][i]),
            fmt_num(c["p50"][i]),
            fmt_num(c["p95"][i]),
            fmt_usd(s["spend_usd"]["p50"][i]),
            fmt_usd(s["usable_money_usd"]["p50"][i]),
        )
    console.print(t)
    cv = ", ".join(f"{y}: {fmt_num(v)}" for y, v in s["cvar5_compute_h100e"].items())
    console.print(f"[bold]CVaR 5% of compute (H100e):[/] {cv}")
    _print_spread(s)
    if s.get("path_probability") is not None:
        console.print(f"[bold]P(reach the path {s['path']}):[/] {s['path_probability']:.1%}")
    if "event_loss" in s:
        t = Table(
            title="Where the event's loss comes from (output lost vs the no-event replay "
            "of the same futures, mean over samples)",
            title_justify="left",
        )
        t.add_column("stage")
        t.add_column("output lost", justify="right")
        for r in s["event_loss"]["stages"]:
            t.add_row(r["stage"], f"{r['output_lost_share']:.1%}")
        console.print(t)
        lost = s["event_loss"]["compute_lost_h100e"]
        console.print(
            "[bold]compute lost (H100e, mean):[/] "
            + ", ".join(
                f"{p} {fmt_num(v)}" for p, v in zip(s["periods"], lost, strict=True) if v > 1
            )
        )
    for note in s.get("notes", []):
        console.print(f"[dim]note: {note}[/]")
    console.print(
        f"[dim]{len(s['parameters_varied'])} parameters varied, "
        f"{len(s['parameters_held_nominal'])} held at nominal (--json lists them); "
        f"{s['seconds']:.2f}s; overspent in {s['overspent_share']:.1%} of futures[/]"
    )


@risk_app.command("sensitivity")
@handle_errors
def sensitivity_cmd(
    scenario: str = SCENARIO_ARG,
    set_: list[str] = SET_OPT,
    method: str = typer.Option("sobol", "--method", help="sobol | morris"),
    output: list[str] = typer.Option(
        [],
        "--output",
        help="compute_YEAR | spend | cost_per_h100e_hour (repeatable; "
        "default compute in the target year)",
    ),
    params: list[str] = typer.Option(
        [],
        "--params",
        help="parameter names or fnmatch patterns (repeatable; default: every "
        "parameter replay varies)",
    ),
    n_base: int = typer.Option(256, "--n-base", help="Sobol base points (a power of two)"),
    trajectories: int = typer.Option(20, "--trajectories", help="Morris trajectories"),
    seed: int = typer.Option(0, "--seed", help="seed of the design"),
    top: int = typer.Option(15, "--top", help="rows shown per output"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Which uncertain parameters move the plan's outcome most (SALib, on replay).

    Examples:

      fab2flop risk sensitivity --output compute_2030 --params "nodes.*" --n-base 128

      fab2flop risk sensitivity --method morris --output spend --json
    """
    import fnmatch
    import time

    from ..risk.replay import replay_model, resolve_for, setup
    from ..risk.sensitivity import factors_from_resolved, morris_indices, sobol_indices

    if method not in ("sobol", "morris"):
        fail(f"--method {method!r}: expected sobol or morris")
    if method == "sobol" and (n_base < 2 or n_base & (n_base - 1)):
        fail(f"--n-base {n_base}: expected a power of two >= 2 (Sobol balance)")
    sc = _scenario(scenario, set_)
    outputs = output or [f"compute_{sc.objective.target_year or sc.time.end}"]
    for o in outputs:
        ok = o in ("spend", "cost_per_h100e_hour") or (
            o.startswith("compute_")
            and o[8:].isdigit()
            and sc.time.start <= int(o[8:]) <= sc.time.end
        )
        if not ok:
            fail(
                f"--output {o!r}: expected compute_YEAR (a year of {sc.time.start}-"
                f"{sc.time.end}), spend or cost_per_h100e_hour"
            )
    res_unc = resolve_for(sc)
    names = [p.name for p in res_unc.parameters]
    for pat in params:
        if not any(fnmatch.fnmatchcase(n, pat) for n in names):
            fail(f"--params {pat!r} matches no uncertain parameter (e.g. {names[0]})")
    status_console = err_console if as_json else console
    with status_console.status("preparing...") as st:
        su = setup(sc, 2, None, st.update)
    varied = set(su.probe.varied)
    chosen = [
        p
        for p in res_unc.parameters
        if p.name in varied
        and (not params or any(fnmatch.fnmatchcase(p.name, pat) for pat in params))
    ]
    held = [
        n
        for n in names
        if n not in varied and (not params or any(fnmatch.fnmatchcase(n, pat) for pat in params))
    ]
    if not chosen:
        fail(
            "none of the chosen parameters is varied by replay (they change the network's "
            "structure, which replay holds at nominal; use risk sweep)"
        )
    factors, transform = factors_from_resolved(chosen)
    model = replay_model(su, [p.name for p in chosen], outputs)
    t0 = time.perf_counter()
    with status_console.status(f"{method}: {len(chosen)} parameters on replay..."):
        if method == "sobol":
            rows = sobol_indices(
                model, factors, n_base, seed=seed, transform=transform, outputs=outputs
            )
            runs = n_base * (len(chosen) + 2)
        else:
            rows = morris_indices(
                model, factors, trajectories, seed=seed, transform=transform, outputs=outputs
            )
            runs = trajectories * (len(chosen) + 1)
    secs = time.perf_counter() - t0
    out = {
        "method": method,
        "outputs": outputs,
        "parameters": len(chosen),
        "runs": runs,
        "seconds": round(secs, 3),
        "held_nominal": held,
        "indices": rows,
    }
    if as_json:
        print_json(out)
        return
    for o in outputs:
        t = Table(
            title=f"{method.title()} indices of {o} ({len(chosen)} parameters, {runs} "
            f"replays in {secs:.1f}s)",
            title_justify="left",
        )
        cols = (
            (("first order", "first_order"), ("total", "total"), ("±", "confidence"))
            if method == "sobol"
            else (("mu*", "mu_star"), ("sigma", "sigma"), ("±", "confidence"))
        )
        t.add_column("rank", justify="right")
        t.add_column("parameter")
        for c, _ in cols:
            t.add_column(c, justify="right")
        for r in [r for r in rows if r["output"] == o][:top]:
            t.add_row(str(r["rank"]), r["parameter"], *(f"{r[k]:.3g}" for _, k in cols))
        console.print(t)
    if held:
        console.print(
            f"[dim]{len(held)} chosen parameters are held at nominal by replay or change "
            "no network array "
            "(structure: yields, lead times, lives); --json lists them[/]"
        )


from .risk_sweep_cmd import _print_spread, sweep  # noqa: E402  (its own module; registered here)

risk_app.command("sweep")(sweep)
