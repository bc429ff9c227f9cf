"""Root Typer application; sub-commands live in their own modules."""

from __future__ import annotations

import typer

from . import chip, data_cmd, risk_cmd, run_cmd, scenario_cmd

app = typer.Typer(
    name="fab2flop",
    help="Plan and stress-test an AI-compute build-out: from dollars to fabs, HBM, "
    "packaging, data centers and power, to FLOP/s.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("run")(run_cmd.run)
app.add_typer(scenario_cmd.app, name="scenario")
app.add_typer(data_cmd.app, name="data")
app.add_typer(chip.app, name="chip")
app.add_typer(risk_cmd.risk_app, name="risk")


def main() -> None:
    app()
