"""Root Typer application; sub-commands live in their own modules, imported when invoked.

``fab2flop run`` imports ``run_cmd`` only, not the modules of the other commands (chip,
risk, robust, ...: ~0.1 s of imports a run never uses). ``fab2flop --help`` imports them
all, so the command list shows each command's own help text, as before.
"""

from __future__ import annotations

from difflib import get_close_matches
from importlib import import_module
from typing import Any

import typer
from typer.core import TyperGroup, _click

# name -> (module under fab2flop.cli, attribute, kind): a command function or a Typer
# sub-application; in the order `fab2flop --help` lists them (commands, then groups, as
# Typer orders them)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "run": ("run_cmd", "run", "command"),
    "plan": ("robust_cmd", "plan", "command"),
    "context": ("context_cmd", "context", "command"),
    "dependence": ("dependence_cmd", "dependence", "command"),
    "finance": ("finance_cmd", "finance", "command"),
    "serve": ("serve_cmd", "serve", "command"),
    "report": ("report_cmd", "report", "command"),
    "scenario": ("scenario_cmd", "app", "group"),
    "data": ("data_cmd", "app", "group"),
    "chip": ("chip", "app", "group"),
    "runs": ("runs_cmd", "app", "group"),
    "risk": ("risk_cmd", "risk_app", "group"),
}


def load_command(name: str) -> Any:
    """The Click command of the sub-command ``name``, importing its module now."""
    mod, attr, kind = COMMANDS[name]
    obj = getattr(import_module(f"{__package__}.{mod}"), attr)
    if kind == "group":
        sub = typer.main.get_group(obj)
        sub.name = name
        return sub
    single = typer.Typer(add_completion=False)
    single.command(name)(obj)
    return typer.main.get_command(single)


class LazyGroup(TyperGroup):
    """The root group: lists every command by name and builds one only when asked for it
    (to run it, or to show the help that lists them all)."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS:
            return None
        if cmd_name not in self.commands:
            self.commands[cmd_name] = load_command(cmd_name)
        return self.commands[cmd_name]

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        """Typer's, with its "Did you mean ...?" drawn from every command (Typer looks in
        the commands built so far, which here are none)."""
        suggest, self.suggest_commands = self.suggest_commands, False
        try:
            return super().resolve_command(ctx, args)
        except _click.exceptions.UsageError as e:
            matches = get_close_matches(args[0], list(COMMANDS)) if suggest and args else []
            if matches:
                suggestions = ", ".join(f"{m!r}" for m in matches)
                e.message = f"{e.message.rstrip('.')}. Did you mean {suggestions}?"
            raise
        finally:
            self.suggest_commands = suggest


app = typer.Typer(
    name="fab2flop",
    cls=LazyGroup,
    help="Plan and stress-test an AI-compute build-out: from dollars to fabs, HBM, "
    "packaging, data centers and power, to FLOP/s.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:  # a group needs one; no options, and no docstring (help is above)
    pass


def main() -> None:
    app()
