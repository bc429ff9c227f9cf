"""From scenario + catalog to the processes and carriers of the supply-chain network.

This package holds the domain knowledge of *which* processes exist (a fab per node, an HBM
line, stacking per HBM generation, CoWoS lines, market reservations, assembly of each own
design, purchases of merchant parts, data centers, power plants, grid supply). Each becomes
a plain :class:`~fab2flop.scenario.ProcessSpec` — the same schema a user writes in a
scenario file to add a process — so the optimiser and the simulator see only data.

Modules: ``base`` (names, context), ``fleet``, one module per group of stages
(``silicon``, ``compute``, ``facilities``, ``user``) and ``chain`` (the stage registry).
"""

from __future__ import annotations

from .base import (
    COWOS_WAFER,
    HBM_WAFER,
    MW_IT,
    MW_POWER,
    POWER_BUILD,
    BuildContext,
    FleetItem,
    SupplyChain,
    acc_carrier,
    stack_carrier,
    wafer_carrier,
)
from .chain import STAGES, build_supply_chain
from .fleet import build_fleet

__all__ = [
    "COWOS_WAFER",
    "HBM_WAFER",
    "MW_IT",
    "MW_POWER",
    "POWER_BUILD",
    "STAGES",
    "BuildContext",
    "FleetItem",
    "SupplyChain",
    "acc_carrier",
    "build_fleet",
    "build_supply_chain",
    "stack_carrier",
    "wafer_carrier",
]
