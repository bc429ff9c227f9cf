"""``fab2flop finance``: who pays and who gains, the lease, export policy and jobs."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from .common import console, err_console, fail, fmt_num, fmt_usd, handle_errors, print_json


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def _optimise(scenario: str, overrides: list[str]):
    from ..network import build_network
    from ..optimizer import optimize
    from ..scenario import load_scenario

    sc = load_scenario(None if scenario == "default" else scenario, overrides)
    return optimize(build_network(sc))


@handle_errors
def finance(
    scenario: str = typer.Argument("default", help="scenario YAML file or 'default'"),
    set_: list[str] = typer.Option([], "--set", help="override KEY=VALUE (repeatable)"),
    lease: str | None = typer.Option(
        None,
        "--lease",
        help="market: the sourced price path; required_return: the price at which the "
        "data-center company earns its required return (default: the scenario's)",
    ),
    export_policy: bool = typer.Option(
        False, "--export-policy", help="table of UAE/Saudi export policies (7 optimisations)"
    ),
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of tables"),
) -> None:
    """Each party's cash flows and returns, the lease, and jobs by region.

    Examples:

      fab2flop finance                              # today's lease prices

      fab2flop finance --lease required_return      # the lease price the lessor needs

      fab2flop finance --export-policy --json
    """
    from ..scenario import load_scenario

    sc = load_scenario(None if scenario == "default" else scenario, set_)  # fail early
    if lease is not None and lease not in ("market", "required_return"):
        fail(f"--lease {lease!r}: expected market or required_return")
    if export_policy:
        return _export_policy(scenario, set_, sc, as_json)
    st_console = err_console if as_json else console
    with st_console.status("optimising the plan..."):
        res = _optimise(scenario, set_)
    if not res.status.ok:
        fail(f"the plan is {res.status.value}: {res.message}", code=1)
    from ..finance import finance_of
    from ..finance.jobs import jobs_of

    fa = finance_of(res, lease)
    jobs = jobs_of(res).summary()
    if as_json:
        print_json(_payload(fa, jobs))
        return None
    _print(fa, jobs)
    return None


def _payload(fa, jobs: dict[str, Any]) -> dict[str, Any]:
    s = fa.summary()
    s["jobs"] = jobs
    s["periods"] = fa.spend.periods
    s["cash_flows_usd"] = {p: {k: v.tolist() for k, v in ls.items()} for p, ls in fa.lines.items()}
    return s


def _print(fa, jobs: dict[str, Any]) -> None:
    s = fa.summary()
    t = Table(
        title="Parties: NPV at their own rate, IRR, payback, peak funding", title_justify="left"
    )
    for col in ("party", "kind", "rate", "NPV", "IRR", "payback", "peak funding", "min DSCR"):
        t.add_column(col, justify="left" if col in ("party", "kind") else "right", no_wrap=True)
    for name, m in s["parties"].items():
        dscr = m.get("min_dscr")
        t.add_row(
            name,
            m["kind"],
            _pct(m["rate"]),
            fmt_usd(m["npv_usd"]),
            _pct(m["irr"]),
            "-" if m["payback_year"] is None else str(int(m["payback_year"])),
            fmt_usd(m["peak_funding_usd"]),
            "-" if dscr is None else f"{dscr:.2f}",
        )
    console.print(t)
    le = s["lease"]
    lessor = s["parties"][le["lessor"]]
    # a required-return lease leaves an NPV of zero up to rounding
    verdict = "earns" if lessor["npv_usd"] >= -1e-6 * lessor["out_usd"] else "does NOT earn"
    console.print(
        f"[bold]Lease ({le['mode']}):[/] {le['price_usd_per_h100e_hour'][0]:.2f} USD/H100e-hour "
        f"in {fa.spend.periods[0]}; {le['lessor']} {verdict} its required return "
        f"{_pct(lessor['rate'])} (NPV {fmt_usd(lessor['npv_usd'])}, IRR {_pct(lessor['irr'])})",
        soft_wrap=True,
    )
    console.print(
        f"[bold]Anchor ({le['anchor']}) pays[/] {_usd_h(le['lease_usd_per_h100e_hour'])} per "
        f"H100e-hour (levelised) against {_usd_h(le['cloud_usd_per_h100e_hour'])} from a cloud",
        soft_wrap=True,
    )
    t = Table(
        title="Jobs and spending by region (estimates; ranges in --json)", title_justify="left"
    )
    for col in ("region", "peak construction jobs", "operating jobs (last year)", "spend"):
        t.add_column(col, justify="left" if col == "region" else "right")
    for r, v in jobs.items():
        t.add_row(
            r,
            fmt_num(v["peak_construction_jobs"]),
            fmt_num(v["operating_jobs_at_end"]),
            fmt_usd(v["spend_total_usd"]),
        )
    console.print(t)


def _usd_h(x: float | None) -> str:
    return "-" if x is None else f"${x:.2f}"


def _export_policy(scenario: str, set_: list[str], sc, as_json: bool) -> None:
    from ..catalog import load_catalog
    from ..finance.policy import COUNTRIES, export_policy_table

    cat = load_catalog().with_overrides(sc.catalog)
    caps = {c: float(cat.number(f"regions.{c}.accelerator_cap_units_per_year")) for c in COUNTRIES}
    st_console = err_console if as_json else console
    with st_console.status("optimising once per export policy (UAE, Saudi Arabia)..."):
        rows = export_policy_table(lambda ov: _optimise(scenario, [*set_, *ov]), caps)
    if as_json:
        print_json({"export_policy": [r.to_dict() for r in rows]})
        return
    t = Table(
        title="Export approval policies: compute and its value lost against 'approved'",
        title_justify="left",
    )
    for col in (
        "country",
        "policy",
        "H100e (last year)",
        "H100e-years",
        "spend",
        "lost H100e-years",
        "lost value",
    ):
        t.add_column(col, justify="left" if col in ("country", "policy") else "right")
    for r in rows:
        t.add_row(
            r.country,
            r.policy,
            fmt_num(r.h100e_end),
            fmt_num(r.h100e_years),
            fmt_usd(r.spend_usd),
            fmt_num(r.lost_h100e_years),
            fmt_usd(r.lost_value_usd),
        )
    console.print(t)
