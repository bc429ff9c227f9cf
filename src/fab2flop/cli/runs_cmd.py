"""``fab2flop runs``: the run history (a DuckDB file; see docs/report-and-store.md)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from .common import console, fmt_num, handle_errors, print_json

app = typer.Typer(
    help="The run history: every `fab2flop run` recorded in a DuckDB file.",
    no_args_is_help=True,
)

STORE_HELP = "run store file (default: $FAB2FLOP_STORE, else runs.duckdb in the user data dir)"


def _store(path: Path | None):
    from ..store import RunStore

    return RunStore(path)


@app.command("list")
@handle_errors
def list_(
    limit: int = typer.Option(50, "--limit", "-n", help="newest runs to show"),
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """The recorded runs, newest first."""
    st = _store(store)
    runs = st.list(limit)
    if as_json:
        print_json(runs)
        return
    t = Table(title=f"{len(runs)} runs in {st.path}", title_justify="left")
    for col in (
        "id",
        "created (UTC)",
        "kind",
        "scenario",
        "label",
        "status",
        "H100e last yr",
        "spent",
    ):
        t.add_column(col)
    for r in runs:
        h = r["headline"]
        t.add_row(
            r["id"],
            r["created"][:19].replace("T", " "),
            r["kind"],
            r["scenario"] or "",
            r["label"] or "",
            r["status"],
            fmt_num(h.get("compute_h100e_final")),
            fmt_num(h.get("spend_total_usd"), " USD"),
        )
    console.print(t)


@app.command("show")
@handle_errors
def show(
    run_id: str = typer.Argument(..., help="run id (or a unique prefix)"),
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),
    as_json: bool = typer.Option(False, "--json", help="print everything recorded as JSON"),
) -> None:
    """What was recorded for one run: headline metrics, versions, timings."""
    from ..store import HEADLINE_METRICS

    rec = _store(store).get(run_id)
    if as_json:
        print_json(rec)
        return
    console.rule(f"run {rec['id']} - {rec['scenario']} - {rec['status']}")
    console.print(
        f"created {rec['created']}  kind {rec['kind']}  label {rec['label'] or '-'}\n"
        f"scenario digest {rec['scenario_digest']}  catalog {rec['data_hash']}  "
        f"fab2flop {rec['version']}\n"
        "timings " + ", ".join(f"{k} {v:.2f}s" for k, v in rec["timings"].items()),
        highlight=False,
    )
    t = Table(title="headline metrics", title_justify="left")
    for col in ("metric", "value", "unit"):
        t.add_column(col)
    for k, unit in HEADLINE_METRICS.items():
        if k in rec["headline"]:
            t.add_row(k, fmt_num(rec["headline"][k]), unit)
    console.print(t)
    console.print(f"tables: {', '.join(rec['tables']) or '-'}", highlight=False)


@app.command("compare")
@handle_errors
def compare(
    a: str = typer.Argument(..., help="first run id"),
    b: str = typer.Argument(..., help="second run id"),
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
) -> None:
    """Headline metrics side by side, and how the two scenarios differ."""
    from ..store import HEADLINE_METRICS

    cmp = _store(store).compare(a, b)
    if as_json:
        print_json(cmp)
        return
    t = Table(title=f"{cmp['a']} vs {cmp['b']}", title_justify="left")
    for col in ("metric", "unit", cmp["a"], cmp["b"], "b - a"):
        t.add_column(col, justify="right" if col not in ("metric", "unit") else "left")
    for k, (va, vb, d) in cmp["metrics"].items():
        t.add_row(k, HEADLINE_METRICS[k], fmt_num(va), fmt_num(vb), fmt_num(d))
    console.print(t)
    if cmp["scenario_diff"]:
        console.print("\n".join(cmp["scenario_diff"]), highlight=False, markup=False)
    else:
        console.print("the two resolved scenarios are identical")


@app.command("rm")
@handle_errors
def rm(
    run_id: str = typer.Argument(..., help="run id to delete"),
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),
) -> None:
    """Delete a recorded run."""
    st = _store(store)
    full = st.get(run_id)["id"]
    st.remove(full)
    console.print(f"removed run {full}", highlight=False)


@app.command("export")
@handle_errors
def export(
    run_id: str = typer.Argument(..., help="run id"),
    out_dir: Path = typer.Argument(..., help="folder to write"),
    store: Path | None = typer.Option(None, "--store", help=STORE_HELP),
) -> None:
    """Write a run's summary.json, scenario.yaml, metadata.json and Parquet tables."""
    files = _store(store).export(run_id, out_dir)
    console.print(f"wrote {len(files)} files to {out_dir}/", highlight=False)
