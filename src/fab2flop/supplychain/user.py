"""Stages that take the user's word: their own carriers and processes, then the
``process_overrides`` applied to everything generated before."""

from __future__ import annotations

from ..errors import ScenarioError
from .base import BuildContext
from .overrides import apply_process_overrides


def add_user_processes(ctx: BuildContext) -> None:
    """Carriers and processes written in the scenario file (a name may not repeat)."""
    for c in ctx.scenario.carriers:
        ctx.add_carrier(c)
    names = {p.name for p in ctx.processes}
    for p in ctx.scenario.processes:
        if p.name in names:
            raise ScenarioError(
                f"processes: {p.name!r} already exists (generated); use process_overrides",
                [("processes", p.name, "a new process name")],
            )
        ctx.add(p)


def apply_overrides(ctx: BuildContext) -> None:
    """``process_overrides`` over every process made so far (see :mod:`.overrides`)."""
    ctx.processes = apply_process_overrides(ctx.processes, ctx.scenario.process_overrides)
