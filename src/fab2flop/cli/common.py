"""Shared CLI helpers: consoles, error exits and number formatting."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn

import typer
from rich.console import Console

from ..errors import Fab2FlopError

console = Console()
err_console = Console(stderr=True)


MAX_MESSAGE_CHARS = 4000  # an error message longer than this is cut (with a note)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``message`` as an error and exit. The message is plain text: user text in it
    (file names, keys, values) is never read as Rich markup."""
    text = str(message)
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[:MAX_MESSAGE_CHARS] + f"... ({len(text) - MAX_MESSAGE_CHARS:,} more characters)"
    err_console.print("[bold red]error:[/] ", end="", highlight=False)
    err_console.print(text, markup=False, highlight=False, soft_wrap=True, emoji=False)
    raise typer.Exit(code)


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the package's domain errors into a message on stderr and exit code 2; anything
    else (a bug) into a one-line message and exit code 3, never a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort, KeyboardInterrupt, SystemExit):
            raise
        except Fab2FlopError as exc:
            fail(str(exc))
        except RecursionError:
            fail("input nested too deeply to process", 2)
        except Exception as exc:  # a bug: say so plainly, with what to report
            fail(
                f"internal error ({type(exc).__name__}: {str(exc)[:300]}); please report it "
                "with the scenario and command that caused it",
                3,
            )

    return wrapper


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=str) + "\n")


def fmt_num(x: float | None, unit: str = "") -> str:
    if x is None:
        return "-"
    a = abs(x)
    for div, suf in ((1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            return f"{x / div:,.2f}{suf}{unit}"
    if a < 0.005:  # "-0.00" would read as a loss where a solver's tolerance left a sliver
        return f"0.00{unit}"
    return f"{x:,.2f}{unit}" if a < 100 else f"{x:,.0f}{unit}"


def fmt_usd(x: float | None) -> str:
    if x is None:
        return "-"
    a = abs(x)
    for div, suf in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= div:
            return f"${x / div:,.2f}{suf}"
    return f"${x:,.2f}"
