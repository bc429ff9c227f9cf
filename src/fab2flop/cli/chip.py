"""``fab2flop chip``: the accelerators of the catalog and ad-hoc designs.

Front end only: every number comes from :mod:`fab2flop.components.accelerator`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Annotated, Any, NoReturn

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from ..errors import Fab2FlopError
from ..yamlio import load_yaml

app = typer.Typer(
    name="chip",
    help="Accelerators: catalog parts and ad-hoc designs, from silicon to cost and FLOP/s.",
    no_args_is_help=True,
    add_completion=False,
)


# ---- formatting ---------------------------------------------------------------------------


def _num(x: float | None, scale: float = 1.0, digits: int = 0, unit: str = "") -> str:
    if x is None:
        return "—"
    v = x / scale
    s = f"{v:,.{digits}f}"
    return f"{s} {unit}".rstrip()


def _usd(x: float | None) -> str:
    return "—" if x is None else f"${x:,.0f}"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


Row = tuple[str, Callable[[Any], str]]

# (label, formatter of a spec) — the rows of `show` and `compare`
ROWS: list[Row] = [
    ("kind", lambda s: s.kind),
    ("vendor", lambda s: s.vendor or "—"),
    ("node", lambda s: s.node or "—"),
    ("available", lambda s: f"{s.available_from or '?'}–{s.available_until or ''}"),
    ("compute dies", lambda s: str(s.compute_dies)),
    ("die area", lambda s: _num(s.die_area_mm2, unit="mm²")),
    ("gross dies / wafer", lambda s: _num(s.gross_dies_per_wafer)),
    ("die yield (harvested)", lambda s: _pct(s.die_yield)),
    ("die yield (no harvest)", lambda s: _pct(s.die_yield_without_harvesting)),
    ("good dies / wafer", lambda s: _num(s.good_dies_per_wafer, digits=1)),
    ("BF16 dense", lambda s: _num(s.flops_bf16_dense, 1e12, 0, "TF/s")),
    ("FP8 dense", lambda s: _num(s.flops_fp8_dense, 1e12, 0, "TF/s")),
    ("FP4 dense", lambda s: _num(s.flops_fp4_dense, 1e12, 0, "TF/s")),
    ("FLOP/s from", lambda s: s.flops_source),
    ("HBM", lambda s: f"{s.hbm_stacks} × {s.hbm_generation or '—'}"),
    ("HBM capacity", lambda s: _num(s.hbm_gb, unit="GB")),
    ("HBM bandwidth", lambda s: _num(s.hbm_bandwidth_bytes_per_s, 1e12, 2, "TB/s")),
    ("TDP", lambda s: _num(s.tdp_w, unit="W")),
    ("IT power all-in", lambda s: _num(s.kw_it_per_unit, digits=2, unit="kW")),
    ("packaging", lambda s: s.packaging),
    ("interposer", lambda s: _num(s.interposer_area_mm2, unit="mm²")),
    ("packages / wafer", lambda s: _num(s.packages_per_packaging_wafer)),
    ("unit cost", lambda s: _usd(s.unit_cost_usd)),
    ("price", lambda s: _usd(s.price_usd)),
    ("markup", lambda s: "—" if s.markup is None else f"{s.markup:.1f}×"),
    ("$ per BF16 PFLOP/s", lambda s: _usd(s.usd_per_bf16_pflops)),
]


def _console() -> Console:
    """Rich console; 120 columns when the output is not a terminal (pipes, tests)."""
    con = Console()
    return con if con.is_terminal else Console(width=120)


def _fail(exc: Exception) -> NoReturn:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(code=2)


def _echo_json(payload: Any) -> None:
    typer.echo(json.dumps(payload, indent=2, default=float))


def _parse_sets(sets: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in sets:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise Fab2FlopError(f"--set {item!r}: expected FIELD=VALUE, e.g. --set hbm_stacks=6")
        out[key.strip()] = load_yaml(raw, f"--set {key.strip()[:60]}", syntax_errors_as_text=True)
    return out


def _spec_table(spec: Any) -> Table:
    t = Table(title=f"{spec.name}", show_header=False, title_justify="left")
    t.add_column("field", style="bold")
    t.add_column("value", justify="right")
    for label, fmt in ROWS:
        t.add_row(label, fmt(spec))
    return t


def _cost_table(spec: Any) -> Table:
    t = Table(title="bill of materials per good unit", title_justify="left")
    t.add_column("item")
    t.add_column("USD", justify="right")
    t.add_column("share", justify="right")
    total = spec.unit_cost_usd or 0.0
    for k, v in spec.cost_breakdown.items():
        t.add_row(k, _usd(v), _pct(v / total if total else None))
    t.add_row("[bold]unit cost[/]", f"[bold]{_usd(spec.unit_cost_usd)}[/]", "")
    return t


def _supply_table(spec: Any) -> Table:
    t = Table(title="supply chain per good unit", title_justify="left")
    t.add_column("input")
    t.add_column("per unit", justify="right")
    for node, w in spec.wafers_per_unit.items():
        t.add_row(f"{node} wafers", f"{w:.4f}")
    t.add_row(f"{spec.hbm_generation or 'HBM'} stacks", f"{spec.hbm_stacks_per_unit:.2f}")
    pw = spec.packaging_wafers_per_unit
    t.add_row("packaging wafers", "—" if pw is None else f"{pw:.4f}")
    t.add_row("assembly, substrate, test", _usd(spec.assembly_cost_usd))
    return t


def _print_spec(spec: Any) -> None:
    con = _console()
    con.print(_spec_table(spec))
    if spec.cost_breakdown:
        con.print(_cost_table(spec))
        con.print(_supply_table(spec))
    for note in spec.notes:
        con.print(f"[dim]note: {note}[/]")


# ---- commands -----------------------------------------------------------------------------


@app.command("list")
def list_chips(
    kind: str = typer.Option(None, help="only this kind: merchant, custom or comparison"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
) -> None:
    """List the accelerators of the catalog.

    Example: fab2flop chip list --kind merchant
    """
    from ..components.accelerator import evaluate_catalog

    try:
        specs = [s for s in evaluate_catalog().values() if kind is None or s.kind == kind]
    except Fab2FlopError as exc:
        _fail(exc)
    if as_json:
        _echo_json([s.to_dict() for s in specs])
        return
    t = Table(
        title="accelerators in the catalog",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        caption="BF16 dense PFLOP/s; unit cost bottom-up; price = merchant price",
        caption_justify="left",
    )
    t.add_column("name", no_wrap=True)
    t.add_column("kind")
    t.add_column("node")
    t.add_column("year", justify="right")
    for col in ("PF/s", "HBM GB", "TB/s", "TDP kW", "cost $k", "price $k"):
        t.add_column(col, justify="right", no_wrap=True)
    for s in specs:
        t.add_row(
            s.name,
            s.kind,
            s.node or "—",
            str(s.available_from or "—"),
            _num(s.flops_bf16_dense, 1e15, 2),
            _num(s.hbm_gb),
            _num(s.hbm_bandwidth_bytes_per_s, 1e12, 1),
            _num(s.tdp_w, 1e3, 2),
            _num(s.unit_cost_usd, 1e3, 1),
            _num(s.price_usd, 1e3, 1),
        )
    _console().print(t)


@app.command("show")
def show(
    name: str = typer.Argument(..., help="accelerator name, e.g. H100 (see `fab2flop chip list`)"),
    sets: Annotated[
        list[str] | None,
        typer.Option("--set", help="override a design field: --set hbm_stacks=6 (repeatable)"),
    ] = None,
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of tables"),
) -> None:
    """Show one accelerator: silicon, memory, packaging, cost, performance, power.

    Example: fab2flop chip show H100 --json
    """
    from ..components.accelerator import design_from_catalog, evaluate

    try:
        spec = evaluate(design_from_catalog(name, **_parse_sets(sets or [])))
    except Fab2FlopError as exc:
        _fail(exc)
    if as_json:
        _echo_json(spec.to_dict())
    else:
        _print_spec(spec)


@app.command("compare")
def compare(
    names: Annotated[list[str], typer.Argument(help="two or more accelerator names")],
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of a table"),
) -> None:
    """Compare accelerators side by side.

    Example: fab2flop chip compare H100 B200 MI355X custom_v1
    """
    from ..components.accelerator import design_from_catalog, evaluate

    try:
        specs = [evaluate(design_from_catalog(n)) for n in names]
    except Fab2FlopError as exc:
        _fail(exc)
    if as_json:
        _echo_json({s.name: s.to_dict() for s in specs})
        return
    t = Table(title="accelerators compared", title_justify="left", box=box.SIMPLE_HEAD)
    t.add_column("", style="bold", no_wrap=True)
    for s in specs:
        t.add_column(s.name, justify="right")
    for label, fmt in ROWS:
        t.add_row(label, *(fmt(s) for s in specs))
    _console().print(t)


def _io_die(text: str) -> tuple[str, float, int]:
    parts = text.split(":")
    if len(parts) != 3:
        raise Fab2FlopError(f"--io-die {text!r}: expected NODE:AREA_MM2:COUNT, e.g. N6:370:4")
    try:
        return parts[0], float(parts[1]), int(parts[2])
    except ValueError:
        raise Fab2FlopError(
            f"--io-die {text!r}: expected NODE:AREA_MM2:COUNT with numbers, e.g. N6:370:4"
        ) from None


@app.command("design")
def design(
    node: str = typer.Option(None, help="logic node of the compute dies, e.g. N3"),
    die_area_mm2: float = typer.Option(None, help="area of one compute die [mm²]"),
    dies: int = typer.Option(None, help="compute dies per package"),
    hbm: str = typer.Option(None, help="HBM generation: hbm3, hbm3e, hbm4, hbm4e"),
    hbm_stacks: int = typer.Option(None, help="active HBM stacks"),
    hbm_gb: float = typer.Option(None, help="HBM capacity [GB] (default stacks × GB/stack)"),
    hbm_pin_rate_gbps: float = typer.Option(None, help="HBM per-pin rate [Gb/s]"),
    tdp_w: float = typer.Option(None, help="thermal design power [W]"),
    clock_ghz: float = typer.Option(None, help="clock [GHz]"),
    units: int = typer.Option(None, help="compute units per package (physical)"),
    units_enabled: int = typer.Option(None, help="compute units enabled per package"),
    unit_area_mm2: float = typer.Option(None, help="area of one compute unit [mm²]"),
    flop_per_clock_bf16: float = typer.Option(None, help="dense BF16 FLOP/clock per unit"),
    flop_per_clock_fp8: float = typer.Option(None, help="dense FP8 FLOP/clock per unit"),
    flop_per_clock_fp4: float = typer.Option(None, help="dense FP4 FLOP/clock per unit"),
    flops_bf16: float = typer.Option(None, help="published dense BF16 [FLOP/s]"),
    flops_fp8: float = typer.Option(None, help="published dense FP8 [FLOP/s]"),
    flops_fp4: float = typer.Option(None, help="published dense FP4 [FLOP/s]"),
    packaging: str = typer.Option(None, help="cowos_s, cowos_l or auto"),
    interposer_area_mm2: float = typer.Option(None, help="interposer area override [mm²]"),
    io_die: Annotated[
        list[str] | None, typer.Option(help="I/O dies NODE:AREA_MM2:COUNT (repeatable)")
    ] = None,
    stacked_on_io: bool = typer.Option(None, help="compute dies stacked on the I/O dies"),
    yield_model: str = typer.Option(None, help="poisson, murphy or negative_binomial"),
    defect_density: float = typer.Option(None, help="defects per cm² (default: the node's)"),
    price_usd: float = typer.Option(None, help="market price [USD]"),
    nre_usd: float = typer.Option(None, help="design cost (NRE) [USD]"),
    volume_units: float = typer.Option(None, help="units the NRE is amortised over"),
    year: int = typer.Option(None, help="first year of volume"),
    name: str = typer.Option(None, help="label of the design"),
    base: str = typer.Option(None, "--from", help="start from a catalog accelerator"),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of tables"),
) -> None:
    """Evaluate an ad-hoc design (or a catalog part with changes, via --from).

    Example: fab2flop chip design --node N3 --die-area-mm2 800 --dies 2 --hbm hbm3e
    --hbm-stacks 8 --tdp-w 1000 --json

    Without compute units (--units, --clock-ghz, --flop-per-clock-bf16) or published
    FLOP/s (--flops-bf16), FLOP/s are estimated from the node's compute density.
    """
    from ..components.accelerator import design_from_catalog, evaluate, make_design

    fields: dict[str, Any] = {
        "name": name,
        "node": node,
        "die_area_mm2": die_area_mm2,
        "compute_dies": dies,
        "hbm_generation": hbm,
        "hbm_stacks": hbm_stacks,
        "hbm_gb": hbm_gb,
        "hbm_pin_rate_gbps": hbm_pin_rate_gbps,
        "tdp_w": tdp_w,
        "clock_ghz": clock_ghz,
        "compute_units": units,
        "compute_units_enabled": units_enabled,
        "compute_unit_area_mm2": unit_area_mm2,
        "flop_per_clock_per_unit_bf16": flop_per_clock_bf16,
        "flop_per_clock_per_unit_fp8": flop_per_clock_fp8,
        "flop_per_clock_per_unit_fp4": flop_per_clock_fp4,
        "flops_bf16_dense": flops_bf16,
        "flops_fp8_dense": flops_fp8,
        "flops_fp4_dense": flops_fp4,
        "packaging": packaging,
        "interposer_area_mm2": interposer_area_mm2,
        "stacked_on_io": stacked_on_io,
        "yield_model": yield_model,
        "defect_density_per_cm2": defect_density,
        "price_usd": price_usd,
        "nre_usd": nre_usd,
        "volume_units": volume_units,
        "available_from": year,
    }
    fields = {k: v for k, v in fields.items() if v is not None}
    try:
        if io_die:
            fields["io_dies"] = [_io_die(x) for x in io_die]
        if base is not None:
            d = design_from_catalog(base, **fields)
        else:
            fields.setdefault("name", "design")
            d = make_design(**fields)
        spec = evaluate(d)
    except Fab2FlopError as exc:
        _fail(exc)
    if as_json:
        _echo_json(spec.to_dict())
    else:
        _print_spec(spec)
