"""Root Typer application; sub-commands live in their own modules."""

from __future__ import annotations

import typer

from . import (
    chip,
    context_cmd,
    data_cmd,
    dependence_cmd,
    finance_cmd,
    report_cmd,
    robust_cmd,
    run_cmd,
    runs_cmd,
    scenario_cmd,
    serve_cmd,
)
from .risk_cmd import risk_app

app = typer.Typer(
    name="fab2flop",
    help="Plan and stress-test an AI-compute build-out: from dollars to fabs, HBM, "
    "packaging, data centers and power, to FLOP/s.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("run")(run_cmd.run)
app.command("plan")(robust_cmd.plan)
app.command("context")(context_cmd.context)
app.command("dependence")(dependence_cmd.dependence)
app.command("finance")(finance_cmd.finance)
app.add_typer(scenario_cmd.app, name="scenario")
app.add_typer(data_cmd.app, name="data")
app.add_typer(chip.app, name="chip")
app.command("serve")(serve_cmd.serve)
app.command("report")(report_cmd.report)
app.add_typer(runs_cmd.app, name="runs")
app.add_typer(risk_app, name="risk")


def main() -> None:
    app()
