"""``fab2flop run world``: the world market of every AI-accelerator buyer and vendor."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from .common import console, err_console, fmt_num


def run_world_cmd(
    scenario: str, sets: list[str], as_json: bool, out: Path | None, force: bool
) -> None:
    """Solve the world scenario; print output and stock by vendor, capacity use and fill."""
    from ..world import load_world, run_world, world_summary

    cfg = load_world(scenario, sets)  # a ScenarioError naming the field fails before work
    if out is not None:
        from ..outdir import check_out_dir

        check_out_dir(out, force)
    status = err_console if as_json else console
    with status.status("solving the world market with HiGHS..."):
        ds = run_world(cfg)
    summary = world_summary(ds)
    if out is not None:
        _save(ds, summary, out, force)
        status.print(f"wrote world.nc and summary.json to {out}/", highlight=False)
    if as_json:
        typer.echo(json.dumps({"scenario": cfg.name, **summary}, indent=1))
        return
    _print(cfg.name, summary)


def _save(ds, summary: dict, out: Path, force: bool) -> None:
    from ..outdir import write_dir

    def fill(tmp: Path) -> list[str]:
        ds.to_netcdf(tmp / "world.nc")
        (tmp / "summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
        return ["world.nc", "summary.json"]

    write_dir(out, fill, force=force)


def _print(name: str, s: dict) -> None:
    console.rule(f"[bold]fab2flop[/] - {name} - the world market")
    years = s["years"]
    for key, title in (
        ("units_by_vendor", "Accelerators made by vendor (units/year)"),
        ("h100e_by_vendor", "Output by vendor (H100e/year, dense BF16)"),
        ("stock_h100e_by_vendor", "Installed stock by vendor (H100e, end of year)"),
    ):
        t = Table(title=title, title_justify="left")
        t.add_column("vendor")
        for y in years:
            t.add_column(str(y), justify="right")
        for v, row in s[key].items():
            t.add_row(v, *(fmt_num(x) for x in row))
        console.print(t)
    t = Table(title="Shared capacity used (share of the year's supply)", title_justify="left")
    t.add_column("capacity")
    for y in years:
        t.add_column(str(y), justify="right")
    for r, row in s["capacity_use_share"].items():
        t.add_row(r, *("-" if x is None else f"{x:.0%}" for x in row))
    console.print(t)
    t = Table(title="Demand served (share of each bloc's demand line)", title_justify="left")
    t.add_column("bloc/vendor")
    for y in years:
        t.add_column(str(y), justify="right")
    for ln, row in s["fill"].items():
        t.add_row(ln, *(f"{x:.0%}" for x in row))
    console.print(t)
