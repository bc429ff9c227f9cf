"""The two-fab hedge network of the robust tests, built by hand.

Horizon 2025-2026 (one-year periods), no discounting: Z = installed X in 2025 + in 2026
[H100e-years], X worth exactly one H100e. X is made by a fab in TW (capex $5,000 per
unit/year of capacity) or in the US ($10,000, at most ``us_cap`` units/year opened a year).
Both take one year to build, so every fab that can produce (opening 2026) is decided in
2025, before the blockade is known: the only first-stage decisions. $10M arrive in 2025
(carried over). Data centers and power are free and ample. The blockade future idles the
TW fab in 2026 (availability 0).
"""

from __future__ import annotations

import dataclasses

from fab2flop.constants import Category
from fab2flop.network import Network, assemble_network
from fab2flop.robust.members import Member
from fab2flop.scenario import CarrierSpec, ProcessSpec
from fab2flop.supplychain import SupplyChain

from ..handnets import EMPTY, fleet_x, money_from, power_and_sites, rate, scenario

MONEY_USD = 10e6
CAPEX_TW, CAPEX_US = 5_000.0, 10_000.0  # USD per unit/year of fab capacity
US_CAP = 600.0  # units/year of US fab capacity opened at most per year


def fab(name: str, region: str, capex: float, max_new: float | None = None) -> ProcessSpec:
    return ProcessSpec(
        name=name,
        category=Category.FABS,
        regions=[region],
        activity_unit="units/year",
        outputs={"acc_X": 1.0},
        capex_usd_per_unit=capex,
        lead_years=1.0,
        life_years=10.0,
        max_new_per_year=max_new,
    )


def hedge_network(us_cap: float | None = US_CAP, **budget_changes: float) -> Network:
    sc = scenario(
        years=(2025, 2026),
        budget=money_from(MONEY_USD, 2025, 2025),
        regions={"US": {}, "TW": {"datacenters": False}},
    )
    procs = [
        fab("fab_TW", "TW", CAPEX_TW),
        fab("fab_US", "US", CAPEX_US, us_cap),
        *power_and_sites(grid_mw={"US": 1e6}),
    ]
    carriers = {
        "acc_X": CarrierSpec(name="acc_X", unit="units", scale=1e3),
        "mw_it": rate("mw_it"),
        "mw_power": rate("mw_power"),
    }
    return assemble_network(sc, EMPTY, SupplyChain(carriers, procs, fleet_x(), []))


def blockaded(net: Network) -> Network:
    """The same network with the TW fab idle in 2026."""
    ds = net.ds.copy(deep=True)
    ds["availability"].loc[{"process": "fab_TW", "region": "TW", "period": 2026}] = 0.0
    return dataclasses.replace(net, ds=ds)


def members(q: float, info_period_blockade: int = 1) -> list[Member]:
    """calm (1 - q, never revealed: info period 2 = T) and blockade (q, known in 2026)."""
    net = hedge_network()
    return [
        Member("calm", 1.0 - q, net, 2),
        Member("blockade", q, blockaded(net), info_period_blockade, ("blockade",)),
    ]
