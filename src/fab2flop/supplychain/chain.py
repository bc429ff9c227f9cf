"""The supply chain, built stage by stage from a registry.

Each stage is a function of a shared :class:`~.base.BuildContext`: it reads the scenario,
the catalog and the fleet, and adds carriers and :class:`~fab2flop.scenario.ProcessSpec`
objects. :data:`STAGES` fixes their order (later stages may read what earlier ones made:
user processes see the generated names, overrides see everything).
"""

from __future__ import annotations

from collections.abc import Callable

from ..catalog import Catalog
from ..scenario import Scenario
from . import fleet as _fleet
from .base import BuildContext, SupplyChain
from .compute import add_assembly, add_merchant
from .facilities import add_datacenters, add_power
from .installed import add_installed, apply_market_mode
from .silicon import add_fabs, add_foundry, add_memory, add_packaging
from .user import add_user_processes, apply_overrides

Stage = Callable[[BuildContext], None]

# Merchant parts come before own designs because the fleet lists them first: the carrier
# order (and so the LP's row order) then follows the fleet.
STAGES: dict[str, Stage] = {
    "fabs": add_fabs,
    "foundry": add_foundry,
    "memory": add_memory,
    "packaging": add_packaging,
    "merchant": add_merchant,
    "accelerators": add_assembly,
    "datacenters": add_datacenters,
    "power": add_power,
    "installed": add_installed,  # the plan's starting position (scenario.installed)
    "market_mode": apply_market_mode,  # market.mode: residual
    "user": add_user_processes,
    "overrides": apply_overrides,
}


def build_supply_chain(scenario: Scenario, cat: Catalog) -> SupplyChain:
    """All carriers and processes of the scenario: each stage of :data:`STAGES` in order.

    >>> from fab2flop import load_scenario
    >>> from fab2flop.catalog import load_catalog
    >>> chain = build_supply_chain(load_scenario(), load_catalog())
    >>> [p.name for p in chain.processes if p.name.startswith("fab_")]
    ['fab_A16', 'fab_N2', 'fab_N3']
    """
    ctx = BuildContext(scenario, cat, _fleet.build_fleet(scenario, cat))
    for stage in STAGES.values():
        stage(ctx)
    return SupplyChain(ctx.carriers, ctx.processes, ctx.fleet, list(dict.fromkeys(ctx.notes)))
