"""Dependence measures on tiny hand-made results (every expected value worked out below)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from fab2flop.constants import H100_FLOPS_BF16_DENSE, CarrierKind, Category, Scope, Status
from fab2flop.dependence import (
    critical_step,
    dependence_of,
    dependent_h100e,
    free_share,
    hhi,
    pool_free_share,
    shares,
    spend_by_vendor,
    window_sum,
)
from fab2flop.network import assemble_network
from fab2flop.results import Results
from fab2flop.scenario import CarrierSpec, ProcessSpec, Scenario
from fab2flop.supplychain import FleetItem, SupplyChain

from .conftest import EMPTY_CATALOG


def _net():
    """TW and US; N3 wafers from a TW foundry or a US fab; own design C (2 H100e, one wafer
    each) assembled in TW or US; merchant M (1 H100e) bought in TW. Two years, life 5."""
    sc = Scenario.model_validate(
        {
            "name": "hand",
            "time": {"start": 2025, "end": 2026},
            "regions": {
                "TW": {"datacenters": False},
                "US": {"accelerator_cap_units_per_year": 1e6},
            },
        }
    )
    q = {"unit": "units", "scale": 1e6}
    carriers = {
        "wafer_N3": CarrierSpec(name="wafer_N3", unit="wafers", scale=1e3),
        "acc_C": CarrierSpec(name="acc_C", **q),
        "acc_M": CarrierSpec(name="acc_M", **q),
        "alloc_m": CarrierSpec(name="alloc_m", storable=False, **q),
        "mw_it": CarrierSpec(
            name="mw_it", unit="MW", scale=1e3, kind=CarrierKind.RATE, scope=Scope.REGIONAL
        ),
    }

    def proc(name, regions, outputs, inputs=None, cat=Category.OTHER):
        return ProcessSpec(
            name=name,
            category=cat,
            regions=regions,
            activity_unit="units/year",
            outputs=outputs,
            inputs=inputs or {},
            unlimited=True,
            buildable=False,
        )

    procs = [
        proc("foundry_N3", ["TW"], {"wafer_N3": 1.0}, cat=Category.FABS),
        proc("fab_N3", ["US"], {"wafer_N3": 1.0}, cat=Category.FABS),
        proc("assemble_C", ["TW", "US"], {"acc_C": 1.0}, {"wafer_N3": 1.0}, Category.ACCELERATORS),
        proc("m_supply", ["TW"], {"alloc_m": 1.0}, cat=Category.MERCHANT),
        proc("buy_M", ["TW"], {"acc_M": 1.0}, {"alloc_m": 1.0}, Category.MERCHANT),
        proc("datacenter", ["US"], {"mw_it": 1.0}, cat=Category.DATACENTERS),
    ]

    def item(name, kind, vendor, h):
        return FleetItem(
            name=name,
            kind=kind,
            vendor=vendor,
            carrier=f"acc_{name}",
            flops_bf16_dense=h * H100_FLOPS_BF16_DENSE,
            kw_it_per_unit=1.0,
            life_years=5.0,
            unit_cost_usd=0.0,
            deploy_cost_usd=0.0,
            available_from=2025,
            available_until=None,
        )

    fleet = {"C": item("C", "custom", "own", 2.0), "M": item("M", "merchant", "NVIDIA", 1.0)}
    return assemble_network(sc, EMPTY_CATALOG, SupplyChain(carriers, procs, fleet, []))


def _results():
    """The hand-made plan:

    2025: TW foundry 300 wafers, US fab 100; 200 C assembled in the US (200 wafers), 200
    wafers stored; 100 M bought in TW. Deployed in the US: 200 C, 100 M.
    2026: no wafers made; the 200 stored are used: 100 C assembled in TW, 100 in the US.
    Deployed: 200 C.
    """
    net = _net()
    ds_n = net.ds
    P, R, T = ds_n.sizes["process"], ds_n.sizes["region"], ds_n.sizes["period"]
    pi = {p: i for i, p in enumerate(ds_n.indexes["process"])}
    ri = {r: i for i, r in enumerate(ds_n.indexes["region"])}
    act = np.zeros((P, R, T))
    for p, r, t, v in [
        ("foundry_N3", "TW", 0, 300),
        ("fab_N3", "US", 0, 100),
        ("assemble_C", "US", 0, 200),
        ("m_supply", "TW", 0, 100),
        ("buy_M", "TW", 0, 100),
        ("assemble_C", "TW", 1, 100),
        ("assemble_C", "US", 1, 100),
    ]:
        act[pi[p], ri[r], t] = v
    C = ds_n.sizes["carrier"]
    inv = np.zeros((C, T))
    inv[list(ds_n.indexes["carrier"]).index("wafer_N3"), 0] = 200
    dep = np.zeros((2, R, T))  # accelerators C, M
    dep[0, ri["US"], 0], dep[1, ri["US"], 0], dep[0, ri["US"], 1] = 200, 100, 200
    inst = np.cumsum(dep, axis=2)  # life 5 > horizon
    var = np.zeros((P, R, T))
    var[pi["foundry_N3"], ri["TW"], 0] = 3e6
    var[pi["assemble_C"], ri["US"], 0] = 0.5e6
    var[pi["buy_M"], ri["TW"], 0] = 2e6
    var[pi["datacenter"], ri["US"], 0] = 5e6  # vendor-neutral: not counted
    capex = np.zeros((P, R, T))
    capex[pi["fab_N3"], ri["US"], 0] = 1e6
    dims = ("process", "region", "period")
    adims = ("accelerator", "region", "period")
    flops = ds_n["flops_bf16_dense"].values
    regional = np.einsum("art,a->rt", inst, flops)
    ds = xr.Dataset(
        {
            "activity": (dims, act),
            "spend_capex_usd": (dims, capex),
            "spend_fixed_om_usd": (dims, np.zeros((P, R, T))),
            "spend_variable_usd": (dims, var),
            "inventory": (("carrier", "period"), inv),
            "deployed": (adims, dep),
            "installed": (adims, inst),
            "compute_flops_regional": (("region", "period"), regional),
            "compute_h100e": (("period",), regional.sum(0) / H100_FLOPS_BF16_DENSE),
        },
        coords={k: v for k, v in ds_n.coords.items()},
    )
    return Results(Status.OPTIMAL, "hand-made", 0.0, ds, net)


def test_shares_and_hhi_by_hand():
    # 0.75 / 0.25 -> HHI = 75^2 + 25^2 = 5625 + 625 = 6250; a column with no production is NaN
    s = shares(np.array([[300.0, 0.0], [100.0, 0.0]]))
    np.testing.assert_allclose(s[:, 0], [0.75, 0.25])
    assert np.isnan(s[:, 1]).all()
    assert float(hhi(s)[0]) == pytest.approx(6250.0)
    assert float(hhi(np.array([1.0]))) == 10_000.0  # one region makes everything


def test_pools_mix_by_region_and_inventory_carries_the_mix():
    """Wafer pool 2025: 100 of 400 made outside TW -> free share 0.25; the 200 stored keep it
    in 2026. C made in the US in 2025 is free only if its wafer is: 0.25. In 2026 half the C
    is assembled in TW (free 0) and half in the US (0.25): pool 0.125. M (bought in TW) 0."""
    res = _results()
    phi = free_share(res, "TW")
    c = list(res.network.ds.indexes["carrier"])
    np.testing.assert_allclose(phi[c.index("wafer_N3")], [0.25, 0.25])
    np.testing.assert_allclose(phi[c.index("acc_C")], [0.25, 0.125])
    # 2026: no M made or stored: an empty pool keeps its last mix (nothing is drawn from it)
    np.testing.assert_allclose(phi[c.index("acc_M")], [0.0, 0.0])
    np.testing.assert_allclose(free_share(res, "US")[c.index("acc_M")], [1.0, 1.0])


def test_taiwan_dependent_compute_by_hand():
    """2025: C 200 x (1 - 0.25) x 2 H100e = 300, M 100 x 1 x 1 = 100 -> 400 of 500 (80%).
    2026: C (200 x 0.75 + 200 x 0.875) x 2 = 650, M 100 -> 750 of 900 (83.3%).
    US-dependent: every C has a US wafer or US assembly step? 2025 C: made in the US (all);
    2026: 100 in the US (dependent) + 100 in TW from wafers 25% US -> 1 - 0.5 x 0.75 = 0.625.
    US-dependent H100e 2025: 200 x 2 = 400; 2026: (200 + 200 x 0.625) x 2 = 650."""
    res = _results()
    np.testing.assert_allclose(dependent_h100e(res, "TW"), [400.0, 750.0], rtol=1e-9)
    np.testing.assert_allclose(dependent_h100e(res, "US"), [400.0, 650.0], rtol=1e-9)
    d = dependence_of(res)
    np.testing.assert_allclose(d["taiwan_dependent_share"], [0.8, 750 / 900], rtol=1e-9)
    assert d["korea_dependent_h100e"] == [0.0, 0.0]


def test_vendor_and_region_shares_by_hand():
    """H100e: own 400 of 500 (2025), 800 of 900 (2026). Spend on accelerators 2025: own =
    foundry 3.0 + fab capex 1.0 + assembly 0.5 = $4.5M, NVIDIA $2M (data center not counted).
    Wafers made 2025: TW 75% / US 25% (HHI 6250); none in 2026. Accelerators in H100e:
    2025 US 400 vs TW 100 -> 80/20 (HHI 6800); 2026 TW 200 vs US 200 (HHI 5000)."""
    res = _results()
    d = dependence_of(res)
    np.testing.assert_allclose(d["by_vendor"]["own"], [0.8, 8 / 9])
    np.testing.assert_allclose(d["by_vendor"]["NVIDIA"], [0.2, 1 / 9])
    sv = spend_by_vendor(res)
    np.testing.assert_allclose(sv["own"], [4.5e6, 0.0])
    np.testing.assert_allclose(sv["NVIDIA"], [2e6, 0.0])
    assert d["spend_by_vendor_share"]["own"][0] == pytest.approx(4.5 / 6.5)
    w = d["by_region"]["leading_edge_wafers"]
    assert w["TW"] == [0.75, None] and w["US"] == [0.25, None]
    assert d["hhi"]["leading_edge_wafers"] == [pytest.approx(6250.0), None]
    acc = d["by_region"]["accelerators"]
    np.testing.assert_allclose(acc["US"], [0.8, 0.5])
    np.testing.assert_allclose(d["hhi"]["accelerators"], [6800.0, 5000.0])
    # US deployments need export approval in this scenario (a finite cap): all compute
    assert d["export_controlled_regions"] == ["US"]
    np.testing.assert_allclose(d["export_controlled_share"], [1.0, 1.0])
    assert "Taiwan-dependent 80% (2025) -> 83% (2026)" in d["line"]


def test_pool_free_share_is_vectorised_over_samples():
    """Sample 0 is the hand-made run (wafer pool 2025: 0.25); sample 1 makes every wafer in
    the US (fab_N3 400, foundry 0): its pool is free of TW (1.0), and so is C assembled in
    the US from it; each sample's result equals a one-sample call."""
    res = _results()
    net = res.network
    io = np.asarray(net.ds["io"].values, float)
    glob = np.asarray(net.ds["carrier_scope"].values) == "global"
    step = critical_step(net, "TW")
    act = np.asarray(res.dataset["activity"].values, float)
    pi = {p: i for i, p in enumerate(net.ds.indexes["process"])}
    other = act.copy()
    other[pi["foundry_N3"]] = 0.0
    other[pi["fab_N3"], :, 0] = [0.0 if r != "US" else 400.0 for r in net.ds.indexes["region"]]
    made = np.stack([act, other]) * net.periods.dt  # (S,P,R,T)
    inv = np.asarray(res.dataset["inventory"].values, float)
    free = (made * ~step[None, :, :, None]).sum(axis=2)
    phi = pool_free_share(io, glob, free, made.sum(axis=2), np.stack([inv, inv]))
    c = list(net.ds.indexes["carrier"])
    np.testing.assert_allclose(phi[0], free_share(res, "TW"))
    assert phi[1, c.index("wafer_N3"), 0] == pytest.approx(1.0)
    one = pool_free_share(io, glob, free[1:], made[1:].sum(axis=2), inv[None])
    np.testing.assert_allclose(phi[1], one[0])


def test_window_sum_counts_each_accelerators_life():
    # life 2: periods (t-2, t] -> [1, 1+2, 2+4]; life 1: the period itself
    x = np.array([[[1.0, 2.0, 4.0]], [[1.0, 2.0, 4.0]]])  # (A=2, R=1, T=3)
    np.testing.assert_allclose(window_sum(x, np.array([2, 1])), [[[1, 3, 6]], [[1, 2, 4]]])
