"""``fab2flop risk``: the plan under sampled futures (replay), what matters most
(sensitivity); ``risk sweep`` (re-optimisation per sample) is added by its own module."""

from __future__ import annotations

import typer

risk_app = typer.Typer(
    name="risk",
    help="Stress-test a plan under sampled futures: replay, sensitivity, sweep.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
