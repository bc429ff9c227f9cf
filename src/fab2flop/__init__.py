"""fab2flop: plan and stress-test an AI-compute build-out, from dollars to FLOP/s.

The public surface is small; everything else is reached by submodule. Importing the package
is cheap: the solver stack (the LP layer, HiGHS) loads only when :func:`optimize` is called.

>>> import fab2flop
>>> sc = fab2flop.load_scenario()
>>> sc.name
'openai-7t-feb-2024'
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "Scenario",
    "load_scenario",
    "check_scenario",
    "validate_scenario_deep",
    "load_catalog",
    "build_network",
    "Network",
    "optimize",
    "Results",
    "Status",
    "__version__",
]

_LAZY = {
    "Scenario": ("fab2flop.scenario", "Scenario"),
    "load_scenario": ("fab2flop.scenario", "load_scenario"),
    "check_scenario": ("fab2flop.checks", "check_scenario"),
    "validate_scenario_deep": ("fab2flop.checks", "validate_scenario_deep"),
    "load_catalog": ("fab2flop.catalog", "load_catalog"),
    "build_network": ("fab2flop.network", "build_network"),
    "Network": ("fab2flop.network", "Network"),
    "optimize": ("fab2flop.optimizer", "optimize"),
    "Results": ("fab2flop.results", "Results"),
    "Status": ("fab2flop.constants", "Status"),
}

if TYPE_CHECKING:  # pragma: no cover
    from .catalog import load_catalog
    from .checks import check_scenario, validate_scenario_deep
    from .constants import Status
    from .network import Network, build_network
    from .optimizer import optimize
    from .results import Results
    from .scenario import Scenario, load_scenario


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        mod, attr = _LAZY[name]
        return getattr(import_module(mod), attr)
    raise AttributeError(f"module 'fab2flop' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
