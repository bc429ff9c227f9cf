"""Shared fixtures: tiny hand-made networks whose optimum is known by hand."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import pytest
from hypothesis import settings

from fab2flop.catalog import Catalog
from fab2flop.constants import H100_FLOPS_BF16_DENSE, CarrierKind, Category, Scope
from fab2flop.network import assemble_network
from fab2flop.scenario import CarrierSpec, ProcessSpec, Scenario
from fab2flop.supplychain import FleetItem, SupplyChain

from .handnets import merchant_x

# CI replays the same examples every run (a red build is then always reproducible);
# local runs explore new ones.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

EMPTY_CATALOG = Catalog({}, "test")

# Every run the suite makes is recorded in a throw-away run store, never in the user's
# (fab2flop.store reads $FAB2FLOP_STORE); subprocesses inherit it.
_STORE_DIR = tempfile.mkdtemp(prefix="fab2flop-test-store-")
os.environ["FAB2FLOP_STORE"] = os.path.join(_STORE_DIR, "runs.duckdb")
atexit.register(shutil.rmtree, _STORE_DIR, ignore_errors=True)
# and every cache (parsed catalog, parameter probes) in a throw-away folder too: a test never
# reads what an earlier run or another version of the package left behind
os.environ["FAB2FLOP_CACHE_DIR"] = os.path.join(_STORE_DIR, "cache")


def tiny_network(
    *,
    budget_per_year: float = 15e6,
    market_units_per_year: float = 1000.0,
    price_usd: float = 10_000.0,
    grid_mw: float = 10.0,
    dc_lead_years: float = 0.0,
    dc_capex_usd_per_mw: float = 0.0,
    life_years: float = 10.0,
    years: tuple[int, int] = (2025, 2027),
    step: str = "year",
    discount_rate: float = 0.0,
    enforce: bool = True,
    objective: dict | None = None,
    extra_processes: list[ProcessSpec] = (),
    extra_carriers: list[CarrierSpec] = (),
):
    """One region (US), one accelerator X worth exactly one H100e and drawing 1 kW.

    X is bought at ``price_usd`` within ``market_units_per_year``; it runs in a data center
    (PUE 1) fed by ``grid_mw`` of free grid power.
    """
    n = years[1] - years[0] + 1
    sc = Scenario.model_validate(
        {
            "name": "tiny",
            "time": {"start": years[0], "end": years[1], "step": step},
            "objective": {"discount_rate": discount_rate, **(objective or {})},
            "budget": {"total_usd": budget_per_year * n, "enforce": enforce},
            "regions": {"US": {}},
        }
    )
    carriers = {
        "acc_X": CarrierSpec(name="acc_X", unit="units", scale=1e6),
        "alloc_x": CarrierSpec(name="alloc_x", unit="units", scale=1e6),
        "mw_it": CarrierSpec(
            name="mw_it", unit="MW", scale=1e3, kind=CarrierKind.RATE, scope=Scope.REGIONAL
        ),
        "mw_power": CarrierSpec(
            name="mw_power", unit="MW", scale=1e3, kind=CarrierKind.RATE, scope=Scope.REGIONAL
        ),
    }
    for c in extra_carriers:
        carriers[c.name] = c
    procs = [
        *merchant_x(units_per_year=market_units_per_year, price_usd=price_usd),
        ProcessSpec(
            name="datacenter",
            category=Category.DATACENTERS,
            regions=["US"],
            activity_unit="MW",
            outputs={"mw_it": 1.0},
            inputs={"mw_power": 1.0},
            capex_usd_per_unit=dc_capex_usd_per_mw,
            lead_years=dc_lead_years,
        ),
        ProcessSpec(
            name="grid",
            category=Category.OPERATIONS,
            regions=["US"],
            activity_unit="MW",
            outputs={"mw_power": 1.0},
            existing=grid_mw,
            buildable=False,
        ),
        *extra_processes,
    ]
    fleet = {
        "X": FleetItem(
            name="X",
            kind="merchant",
            vendor="test",
            carrier="acc_X",
            flops_bf16_dense=H100_FLOPS_BF16_DENSE,
            kw_it_per_unit=1.0,
            life_years=life_years,
            unit_cost_usd=price_usd,
            deploy_cost_usd=0.0,
            available_from=years[0],
            available_until=None,
        )
    }
    return assemble_network(sc, EMPTY_CATALOG, SupplyChain(carriers, procs, fleet, []))


@pytest.fixture
def tiny():
    return tiny_network


# two solved runs of the tiny network (budgets $5M and $10M a year), for the run-store tests
@pytest.fixture(scope="module")
def five():
    from fab2flop.constants import Status
    from fab2flop.optimizer import optimize

    r = optimize(tiny_network(budget_per_year=5e6))
    assert r.status is Status.OPTIMAL
    return r


@pytest.fixture(scope="module")
def ten():
    from fab2flop.constants import Status
    from fab2flop.optimizer import optimize

    r = optimize(tiny_network(budget_per_year=10e6))
    assert r.status is Status.OPTIMAL
    return r
