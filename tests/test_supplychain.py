"""Generated processes: market shares are per year, and every merchant part has a cap."""

from __future__ import annotations

import numpy as np
import pytest

from fab2flop import load_scenario, optimize
from fab2flop.catalog import load_catalog
from fab2flop.errors import ScenarioError
from fab2flop.supplychain import build_supply_chain


def test_a_years_share_of_vendor_output_cannot_be_banked():
    """Rubin exists from 2026. Unused 2025 Nvidia allocation must not be carried to 2026:
    2026 purchases stay within that year's allocation."""
    res = optimize(
        load_scenario(
            overrides=[
                "time.end=2027",
                "accelerators.custom={}",
                "accelerators.merchant=[Rubin]",
                "budget.enforce=false",
                "regions.US.max_datacenter_mw=1e9",
                "regions.US.grid_mw_available=1e7",
                "catalog.datacenters.ai_campus.build_years=0",
            ]
        )
    )
    act = res.dataset["activity"].sum("region")
    bought = act.sel(process="buy_Rubin").values
    alloc = act.sel(process="nvidia_supply").values
    cap = res.network.ds["existing"].sel(process="nvidia_supply").sum("region").values
    assert np.all(bought <= cap * (1 + 1e-6))
    assert np.all(alloc <= cap * (1 + 1e-6))
    assert bought[0] == 0  # no Rubin in 2025


def test_allocation_carriers_are_not_storable():
    sc = load_scenario()
    chain = build_supply_chain(sc, load_catalog())
    allocs = [c for name, c in chain.carriers.items() if name.startswith("alloc_")]
    assert allocs and not any(c.storable for c in allocs)


def test_merchant_part_without_a_supply_cap_is_refused():
    """Vendors are catalog data: a part whose vendor has no supply.merchant.<vendor> entry
    would have unlimited supply, so it is refused with the record it lacks."""
    sc = load_scenario(overrides=["catalog.accelerators.H100.vendor=Acme"])
    cat = load_catalog().with_overrides(sc.catalog)
    with pytest.raises(ScenarioError, match="Acme.*supply.merchant.Acme.dc_units_per_year"):
        build_supply_chain(sc, cat)


def _chain(*overrides: str):
    sc = load_scenario(overrides=list(overrides))
    return build_supply_chain(sc, load_catalog().with_overrides(sc.catalog))


def _process(chain, name: str):
    return next(p for p in chain.processes if p.name == name)


def test_disabled_region_keeps_its_processes_and_says_supply_is_unavailable():
    """Disabling TW deletes nothing: TSMC wafers, CoWoS and Nvidia/AMD parts stay in TW
    (the network makes a disabled region unavailable), and a note says they are."""
    chain = _chain("regions.TW.enabled=false")
    assert _process(chain, "foundry_N3").regions == ["TW"]
    assert _process(chain, "cowos_market").regions == ["TW"]
    assert _process(chain, "nvidia_supply").regions == ["TW"]
    assert "TW" in _process(chain, "fab_N3").regions
    for key in ("foundry", "cowos", "merchant"):
        assert any(n.startswith(f"{key} supply made in TW is unavailable") for n in chain.notes)
    # the default has SA disabled with datacenters: true, so data centers and power are
    # generated there too; fabs only where the catalog allows them (SA: fabs false)
    default = _chain()
    assert "SA" in _process(default, "datacenter").regions
    assert "SA" in _process(default, "power_gas_cc").regions
    assert "SA" not in _process(default, "fab_N3").regions
    assert not any("unavailable" in n for n in default.notes)


def test_own_designs_need_an_enabled_assembly_region():
    with pytest.raises(ScenarioError, match="assembly_regions"):
        _chain("regions.TW.enabled=false", "regions.US.enabled=false")


def test_stages_run_in_registry_order_and_each_adds_its_own_part():
    """The registry fixes the order; running the first stages alone gives only their part
    of the chain (a stage reads the context, adds carriers and processes, nothing else)."""
    from fab2flop.supplychain import STAGES, BuildContext, build_fleet

    assert list(STAGES) == [
        "fabs",
        "foundry",
        "memory",
        "packaging",
        "merchant",
        "accelerators",
        "datacenters",
        "power",
        "installed",
        "market_mode",
        "user",
        "overrides",
    ]
    sc, cat = load_scenario(), load_catalog()
    ctx = BuildContext(sc, cat, build_fleet(sc, cat))
    STAGES["fabs"](ctx)
    # own designs use N3, N2 and A16 (custom_v1..v3); the default may build fabs for all three
    assert [p.name for p in ctx.processes] == ["fab_A16", "fab_N2", "fab_N3"]
    assert list(ctx.carriers) == ["wafer_A16", "wafer_N2", "wafer_N3"]
    STAGES["foundry"](ctx)
    # the catalog has third-party wafer supply for N3 and N2, none for A16
    assert [p.name for p in ctx.processes][3:] == ["foundry_N2", "foundry_N3"]
