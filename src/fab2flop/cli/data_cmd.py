"""``fab2flop data``: the sourced catalog."""

from __future__ import annotations

import typer
from rich.table import Table

from .common import console, print_json

app = typer.Typer(help="The sourced catalog of default numbers.", no_args_is_help=True)


@app.command("list")
def list_(
    prefix: str = typer.Argument("", help="only ids starting with this (e.g. nodes.N3)"),
    as_json: bool = typer.Option(False, "--json", help="one JSON record per value"),
) -> None:
    """Print every catalog value with its unit, year and source.

    Example: fab2flop data list power.gas_cc
    """
    from ..catalog import load_catalog

    cat = load_catalog()
    recs = [r for r in cat if r.id.startswith(prefix)]
    if as_json:
        print_json([r.to_dict() for r in recs])
        return
    t = Table(title=f"catalog ({len(recs)} values, data hash {cat.data_hash})", show_lines=False)
    for col in ("id", "value", "low-high", "unit", "year", "conf", "source"):
        t.add_column(col, overflow="fold")
    for r in recs:
        v = r.value
        vs = (
            ", ".join(f"{k}: {x:g}" for k, x in v.items())
            if isinstance(v, dict)
            else (f"{v:g}" if isinstance(v, int | float) else str(v))
        )
        rng = f"{r.low:g}-{r.high:g}" if r.low is not None and r.high is not None else ""
        t.add_row(r.id, vs, rng, r.unit, str(r.year), r.conf or "", r.source)
    console.print(t)
