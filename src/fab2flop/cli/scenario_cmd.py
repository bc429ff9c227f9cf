"""``fab2flop scenario``: validate, show and describe scenario files."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from .common import console, handle_errors, print_json

app = typer.Typer(help="Validate, show and describe scenario files.", no_args_is_help=True)


@app.command("validate")
@handle_errors
def validate(
    file: Path = typer.Argument(..., help="scenario YAML file"),
    set_: list[str] = typer.Option([], "--set", help="override KEY=VALUE (repeatable)"),
) -> None:
    """Check a scenario file; print every problem with its field path.

    Example: fab2flop scenario validate my.yaml --set budget.total_usd=5e12
    """
    from ..scenario import load_scenario

    sc = load_scenario(file, set_)
    console.print(f"[green]valid[/]: {file} (scenario {sc.name!r}, {sc.time.start}-{sc.time.end})")


@app.command("show")
@handle_errors
def show(
    file: str = typer.Argument("default", help="scenario YAML file (default: the embedded one)"),
    set_: list[str] = typer.Option([], "--set", help="override KEY=VALUE (repeatable)"),
    as_json: bool = typer.Option(False, "--json", help="JSON instead of YAML"),
) -> None:
    """Print the resolved scenario (defaults filled in, overrides applied).

    Example: fab2flop scenario show --set time.end=2040
    """
    from ..scenario import load_scenario

    sc = load_scenario(None if file == "default" else file, set_)
    if as_json:
        print_json(sc.model_dump(mode="json"))
    else:
        typer.echo(sc.to_yaml(), nl=False)


@app.command("schema")
def schema() -> None:
    """Print the scenario JSON Schema (for editors and validators).

    Example: fab2flop scenario schema > scenario.schema.json
    """
    from ..scenario import Scenario

    typer.echo(json.dumps(Scenario.model_json_schema(), indent=2))
