"""``fab2flop scenario``: validate, show and describe scenario files."""

from __future__ import annotations

import json

import typer
from rich.markup import escape

from .common import console, handle_errors, print_json

app = typer.Typer(help="Validate, show and describe scenario files.", no_args_is_help=True)


@app.command("validate")
@handle_errors
def validate(
    file: str = typer.Argument(..., help="scenario YAML file ('default': the embedded one)"),
    set_: list[str] = typer.Option([], "--set", help="override KEY=VALUE (repeatable)"),
    as_json: bool = typer.Option(
        False, "--json", help='print {"valid": ..., "problems": [{path, value, expected}]}'
    ),
) -> None:
    """Check a scenario file as `run` would before solving; print every problem with its
    field path (exit code 2 when invalid).

    Example: fab2flop scenario validate my.yaml --set budget.total_usd=5e12
    """
    from ..checks import validate_scenario_deep
    from ..errors import ScenarioError
    from ..scenario import load_scenario, short_repr

    try:
        sc = load_scenario(None if file == "default" else file, set_)
        validate_scenario_deep(sc, origin=file)
    except ScenarioError as exc:
        if not as_json:
            raise
        probs = [
            {"path": str(p), "value": short_repr(v), "expected": str(e)[:400]}
            for p, v, e in exc.problems
        ]
        print_json({"valid": False, "message": str(exc), "problems": probs})
        raise typer.Exit(2) from None
    if as_json:
        print_json({"valid": True, "scenario": sc.name, "problems": []})
        return
    console.print(
        f"[green]valid[/]: {escape(file)} (scenario {escape(repr(sc.name)[:80])}, "
        f"{sc.time.start}-{sc.time.end})",
        highlight=False,
    )


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
