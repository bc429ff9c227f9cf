"""``fab2flop risk``: a plan under many sampled futures (sub-commands in their own modules)."""

from __future__ import annotations

import typer

from .risk_sweep_cmd import sweep

risk_app = typer.Typer(
    help="Risk: a plan under sampled futures (sweep: each future re-optimised).",
    no_args_is_help=True,
)
risk_app.command("sweep")(sweep)
