"""Robust plans: a two-stage stochastic LP over futures (issue 10, docs/robust.md).

The stable API (see /work/notes/robust_api.md) is imported lazily, so that
:mod:`fab2flop.scenario` can import :mod:`fab2flop.robust.config` without the LP stack.
"""

from __future__ import annotations

import importlib
from typing import Any

from .config import NamedFuture, RobustConfig, robust_problems

_LAZY = {
    "Member": "members",
    "scenario_set": "members",
    "held_out_set": "members",
    "nominal_member": "members",
    "robust_config": "members",
    "deterministic_scenario": "members",
    "decision_periods": "members",
    "first_stage_masks": "members",
    "shared_slots": "members",
    "Subproblem": "extensive",
    "build_subproblem": "extensive",
    "ExtensiveModel": "extensive",
    "build_extensive_model": "extensive",
    "solve_extensive": "extensive",
    "Plan": "evaluate",
    "plan_of_members": "evaluate",
    "plan_of_results": "evaluate",
    "evaluate_plans": "evaluate",
    "RobustResult": "run",
    "solve_robust": "run",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["NamedFuture", "RobustConfig", "robust_problems", *_LAZY]
