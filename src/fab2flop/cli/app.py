"""Root Typer application; sub-commands live in their own modules."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="fab2flop",
    help="Plan and stress-test an AI-compute build-out: from dollars to fabs, HBM, "
    "packaging, data centers and power, to FLOP/s.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    from . import chip

    app.add_typer(chip.app, name="chip")


def main() -> None:
    _register()
    app()
