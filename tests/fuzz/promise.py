"""The promise, checked on one fuzz case: a clean error naming a field, or a run whose answer
is finite and sane; never a traceback, a hang or a half-written folder.

:func:`check_case` returns an outcome class: ``refused`` (a ScenarioError with field paths,
from loading or from the front door), ``valid`` (passed the front door, not solved),
``optimal``, ``buys_nothing`` (optimal but no usable compute, said so), ``not_optimal`` (a
status with an explanation). Broken promises are classes starting with ``FAIL``:
``FAIL_crash`` (an exception that is not the package's), ``FAIL_hang`` (over the time
limit), ``FAIL_refusal`` (an error without a field path or with an uncut echo),
``FAIL_insane`` (a non-finite or negative answer, or JSON with NaN), ``FAIL_output`` (a
saved folder without its marker, or leftovers beside it).
"""

from __future__ import annotations

import json
import math
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fab2flop.checks import validate_scenario_deep
from fab2flop.constants import Status
from fab2flop.errors import Fab2FlopError, ScenarioError
from fab2flop.scenario import load_scenario

from .strategies import Case

MAX_MESSAGE = 20_000  # an error message longer than this echoes user text uncut
MAX_SOLVE_PERIODS = 3  # cases with a longer horizon are checked, not solved


class Hang(Exception):
    pass


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`Hang` in the main thread after ``seconds`` (a watchdog for hangs)."""

    def _raise(signum, frame):  # noqa: ANN001
        raise Hang(f"over {seconds} s")

    old = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def write_case(case: Case, folder: Path) -> Path:
    path = folder / "scenario.yaml"
    if isinstance(case.text, bytes):
        path.write_bytes(case.text)
    else:
        path.write_text(case.text, encoding="utf-8", errors="surrogatepass")
    for name, text in case.siblings.items():
        (folder / name).write_text(text, encoding="utf-8")
    return path


def _refusal_ok(exc: ScenarioError) -> str | None:
    """Why a refusal breaks the promise (None: it keeps it)."""
    msg = str(exc)
    if not msg.strip():
        return "empty message"
    if len(msg) > MAX_MESSAGE:
        return f"message of {len(msg)} characters"
    if not exc.problems or not all(isinstance(p[0], str) and p[0] for p in exc.problems):
        return "no field path"
    return None


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} in JSON output")


def _answer_ok(res) -> str | None:
    """Why a solved run's answer breaks the promise (None: it keeps it)."""
    text = res.to_json()
    json.loads(text, parse_constant=_no_constant)  # NaN/Infinity are not JSON
    s = res.summary()
    if not res.status.ok:
        return None if res.message and "Traceback" not in res.message else "unexplained status"
    for key in ("compute_h100e", "compute_flops", "spend_by_period_usd", "facility_power_gw"):
        vals = s[key]
        if any(v is None or not math.isfinite(v) or v < 0 for v in vals):
            return f"{key} = {vals}"
    for name in ("installed", "deployed", "activity", "capacity", "new_capacity"):
        if float(res.dataset[name].min()) < 0:
            return f"negative {name}"
    return None


def _saved_ok(res, folder: Path) -> str | None:
    """Why a saved run breaks the promise (None: whole, with its marker, no leftovers)."""
    out = folder / "out"
    res.save(out)
    left = [p.name for p in folder.iterdir() if p.name.startswith(".out")]
    if not (out / ".complete").is_file() or left:
        return f"saved folder incomplete or leftovers {left}"
    return None


def classify(case: Case, solve: bool = True, save: bool = False) -> tuple[str, str]:
    """(outcome class, detail) of one case; see the module docstring."""
    from fab2flop.optimizer import optimize

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = write_case(case, folder)
        try:
            sc = load_scenario(path, case.sets)
            net = validate_scenario_deep(sc)
        except ScenarioError as exc:
            why = _refusal_ok(exc)
            return ("FAIL_refusal", why) if why else ("refused", exc.problems[0][0])
        except Fab2FlopError as exc:
            return "FAIL_refusal", f"{type(exc).__name__} is not a ScenarioError: {exc}"[:300]
        periods = len(net.periods)
        if not solve or periods > MAX_SOLVE_PERIODS:
            return "valid", f"{periods} periods"
        res = optimize(net)
        why = _answer_ok(res)
        if why:
            return "FAIL_insane", why
        why = _saved_ok(res, folder) if save else None
        if why:
            return "FAIL_output", why
        if res.status is not Status.OPTIMAL:
            return "not_optimal", res.status.value
        return ("buys_nothing" if res.buys_nothing else "optimal"), ""


def check_case(
    case: Case, solve: bool = True, save: bool = False, limit_s: float = 60.0
) -> tuple[str, str]:
    """:func:`classify` with a watchdog; any exception is a broken promise."""
    try:
        with time_limit(limit_s):
            return classify(case, solve, save)
    except Hang:
        return "FAIL_hang", f"{case.kind}: over {limit_s} s"
    except Exception as exc:  # the promise: never a traceback
        return "FAIL_crash", f"{case.kind}: {type(exc).__name__}: {str(exc)[:300]}"
