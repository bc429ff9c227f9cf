"""Stages that take the user's word: their own carriers and processes, then the
``process_overrides`` applied to everything generated before."""

from __future__ import annotations

from ..errors import ScenarioError
from ..scenario import ProcessSpec
from .base import BuildContext


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
    by_name = {p.name: i for i, p in enumerate(ctx.processes)}
    procs = ctx.processes
    for pname, fields in ctx.scenario.process_overrides.items():
        if pname not in by_name:
            raise ScenarioError(
                f"process_overrides: no process {pname!r}",
                [(f"process_overrides.{pname}", fields, f"one of {sorted(by_name)}")],
            )
        i = by_name[pname]
        try:
            procs[i] = ProcessSpec.model_validate({**procs[i].model_dump(), **fields})
        except Exception as exc:
            raise ScenarioError(
                f"process_overrides.{pname}: {exc}",
                [(f"process_overrides.{pname}", fields, str(exc))],
            ) from None
