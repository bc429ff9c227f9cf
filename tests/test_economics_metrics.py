"""Levelised cost per H100e-hour, capex per GW added, H100e by precision and the blended
cost of capital, worked out by hand on the tiny network of test_metrics_hand."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from fab2flop import metrics, optimize
from fab2flop.catalog import load_catalog
from fab2flop.constants import H100_FLOPS_BF16_DENSE, H100_FLOPS_FP8_DENSE, Status
from fab2flop.economics import blended_rate, category_rates
from fab2flop.finance.defaults import default_finance
from fab2flop.metrics import MetricParams
from fab2flop.scenario import load_scenario

from .test_metrics_hand import _residual_network


@pytest.fixture(scope="module")
def res():
    r = optimize(_residual_network())
    assert r.status is Status.OPTIMAL
    return r


def test_levelised_cost_by_hand(res) -> None:
    """$12.3M spent each year 2025-27, H100e 1k/2k/3k, $28.62M left at the start of 2028.
    At 10%: PV spend = 12.3M x (1 + 1/1.1 + 1/1.21) = 12.3M x 2.735537 = 33.647107M;
    residual 28.62M / 1.1^3 = 21.502630M; PV hours = 8.76M x (1 + 2/1.1 + 3/1.21)
    = 8.76M x 5.297521 = 46.406281M h; (33.647107 - 21.502630) / 46.406281 = $0.261699."""
    ds, sol = res.network.ds, res.dataset
    assert float(metrics.levelised_cost_per_h100e_hour(ds, sol, 0.10)) == pytest.approx(
        0.261699, rel=1e-5
    )
    # at 0% it is the undiscounted figure: (36.9M - 28.62M) / 52.56M h = $0.157534
    assert float(metrics.levelised_cost_per_h100e_hour(ds, sol, 0.0)) == pytest.approx(
        float(metrics.cost_per_h100e_hour(ds, sol)), rel=1e-12
    )


def test_capex_per_gw_added_by_hand(res) -> None:
    """Each year 1 MW of data center opens ($1M/MW, PUE 1) and 1,000 X (1 kW each) are
    deployed at $11,000 cash + $300 of systems: facility $1M / 0.001 GW = $1B/GW, IT
    $11.3M / 0.001 GW = $11.3B/GW, together $12.3B/GW in every year; nothing upstream."""
    s = res.summary()
    assert s["facility_capex_per_gw_usd"] == pytest.approx(1.0e9, rel=1e-6)
    assert s["it_capex_per_gw_usd"] == pytest.approx(11.3e9, rel=1e-6)
    assert s["capex_per_gw_usd"] == pytest.approx(12.3e9, rel=1e-6)
    np.testing.assert_allclose(s["capex_per_gw_added_by_period_usd"], [12.3e9] * 3, rtol=1e-6)
    assert s["upstream_capex_usd"] == 0.0
    # the legacy figure: all capital spend / peak facility GW = 36.9M / 0.003 GW = $12.3B/GW
    assert s["all_spend_per_peak_gw_usd"] == pytest.approx(36.9e6 / 0.003, rel=1e-6)


def test_precision_weights_by_hand() -> None:
    # inference 2/3, training FP8 half, inference FP4 half:
    # BF16 = 1/3 x 1/2 = 1/6; FP8 = 1/3 x 1/2 + 2/3 x 1/2 = 1/2; FP4 = 2/3 x 1/2 = 1/3
    w = metrics.precision_weights(
        MetricParams(inference_share=2 / 3, training_fp8_share=0.5, inference_fp4_share=0.5)
    )
    assert w == pytest.approx({"bf16": 1 / 6, "fp8": 0.5, "fp4": 1 / 3})
    assert sum(w.values()) == pytest.approx(1.0)


def test_compute_by_precision_by_hand() -> None:
    """Two parts: P (1 H100 at BF16, 2 at FP8, 4 at FP4 in FP8-H100 units) and Q with no FP8
    or FP4 (runs them at its BF16 rate). 10 P + 10 Q installed.
    BF16 H100e = 10 + 10 = 20; FP8 H100e = (10 x 2 x 1,979 + 10 x 989) / 1,979 = 24.9975;
    FP4 H100e = (10 x 4 x 1,979 + 10 x 989) / 1,979 = 44.9975;
    effective at 1/6, 1/2, 1/3 = 20/6 + 24.9975/2 + 44.9975/3 = 30.8312."""
    h, h8 = H100_FLOPS_BF16_DENSE, H100_FLOPS_FP8_DENSE
    acc = {"accelerator": ["P", "Q"]}
    net = xr.Dataset(
        {
            "flops_bf16_dense": ("accelerator", [h, h]),
            "flops_fp8_dense": ("accelerator", [2 * h8, h]),
            "flops_fp4_dense": ("accelerator", [4 * h8, h]),
        },
        coords=acc,
    )
    inst = xr.DataArray([[10.0], [10.0]], dims=("accelerator", "region"), coords=acc)
    sol = xr.Dataset({"installed": inst, "compute_h100e": xr.DataArray(20.0)})
    p = MetricParams(inference_share=2 / 3, training_fp8_share=0.5, inference_fp4_share=0.5)
    out = metrics.compute_by_precision(net, sol, p)
    assert float(out["compute_h100e_fp8"]) == pytest.approx(20 + 10 * 989 / 1979)
    assert float(out["compute_h100e_fp4"]) == pytest.approx(40 + 10 * 989 / 1979)
    assert float(out["compute_h100e_effective"]) == pytest.approx(
        20 / 6 + (20 + 4.997473) / 2 + (40 + 4.997473) / 3, rel=1e-6
    )
    # a network saved before FP8/FP4 were recorded reads its BF16 figures
    old = net.drop_vars(["flops_fp8_dense", "flops_fp4_dense"])
    assert float(metrics.compute_by_precision(old, sol, p)["compute_h100e_fp8"]) == (
        pytest.approx(20 * 989 / 1979)
    )


def test_cost_of_capital_by_payer() -> None:
    """Finance parties (finance_parties.*): data-center company 63% debt at 6.58% + 37%
    equity at 15% = 9.6954%; fab company 50% x 6.58% + 50% x 12% = 9.29%; power company
    60% x 6.58% + 40% x 11.1% = 8.388%."""
    rates = category_rates(default_finance(load_scenario(), load_catalog()))
    assert rates["servers_networking"] == pytest.approx(0.096954)
    assert rates["datacenters"] == pytest.approx(0.096954)
    assert rates["fabs"] == pytest.approx(0.0929)
    assert rates["memory"] == pytest.approx(0.0929)
    assert rates["power"] == pytest.approx(0.08388)
    # $3 at 10% and $1 at 6%: (3 x 0.10 + 1 x 0.06) / 4 = 9%
    assert blended_rate({"a": 3.0, "b": 1.0, "c": 5.0}, {"a": 0.10, "b": 0.06}) == (
        pytest.approx(0.09)
    )
    assert blended_rate({}, {"a": 0.1}) == 0.0
