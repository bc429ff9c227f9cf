"""The policy constraint: validation, and a tiny network whose optimum is worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from fab2flop.constants import H100_FLOPS_BF16_DENSE, CarrierKind, Category, Scope, Status
from fab2flop.errors import ScenarioError
from fab2flop.network import assemble_network
from fab2flop.optimizer import optimize
from fab2flop.scenario import (
    CarrierSpec,
    ProcessSpec,
    Scenario,
    load_scenario,
    validate_scenario,
)
from fab2flop.supplychain import FleetItem, SupplyChain

from .conftest import EMPTY_CATALOG


def _net(policy: dict | None = None):
    """Accelerator X (1 H100e, 1 kW) bought in TW (at most 1000 a year) or in the US (at
    most 200 a year), $10k each; money ($100M a year), power (10 MW) and data-center space
    are ample; 2025-2027, no discount, life 10 years."""
    sc = Scenario.model_validate(
        {
            "name": "two-suppliers",
            "time": {"start": 2025, "end": 2027},
            "objective": {"discount_rate": 0.0},
            "budget": {"total_usd": 3e8},
            "regions": {"TW": {"datacenters": False}, "US": {}},
            "policy": policy or {},
        }
    )
    u = {"unit": "units", "scale": 1e6}
    rate = {"unit": "MW", "scale": 1e3, "kind": CarrierKind.RATE, "scope": Scope.REGIONAL}
    carriers = {
        "acc_X": CarrierSpec(name="acc_X", **u),
        "alloc_tw": CarrierSpec(name="alloc_tw", storable=False, **u),
        "alloc_us": CarrierSpec(name="alloc_us", storable=False, **u),
        "mw_it": CarrierSpec(name="mw_it", **rate),
        "mw_power": CarrierSpec(name="mw_power", **rate),
    }

    def fixed(name, region, out, cap, inputs=None, cost=0.0, cat=Category.MERCHANT, **kw):
        return ProcessSpec(
            name=name,
            category=cat,
            regions=[region],
            activity_unit="units/year",
            outputs={out: 1.0},
            inputs=inputs or {},
            existing=cap,
            var_cost_usd_per_unit=cost,
            buildable=False,
            **kw,
        )

    procs = [
        fixed("tw_supply", "TW", "alloc_tw", 1000.0),
        fixed("us_supply", "US", "alloc_us", 200.0),
        fixed("buy_X_tw", "TW", "acc_X", 0.0, {"alloc_tw": 1.0}, 1e4, unlimited=True),
        fixed("buy_X_us", "US", "acc_X", 0.0, {"alloc_us": 1.0}, 1e4, unlimited=True),
        ProcessSpec(
            name="datacenter",
            category=Category.DATACENTERS,
            regions=["US"],
            activity_unit="MW",
            outputs={"mw_it": 1.0},
            inputs={"mw_power": 1.0},
        ),
        fixed("grid", "US", "mw_power", 10.0, cat=Category.OPERATIONS),
    ]
    fleet = {
        "X": FleetItem(
            name="X",
            kind="merchant",
            vendor="NVIDIA",
            carrier="acc_X",
            flops_bf16_dense=H100_FLOPS_BF16_DENSE,
            kw_it_per_unit=1.0,
            life_years=10.0,
            unit_cost_usd=1e4,
            deploy_cost_usd=0.0,
            available_from=2025,
            available_until=None,
        )
    }
    return assemble_network(sc, EMPTY_CATALOG, SupplyChain(carriers, procs, fleet, []))


def test_without_policy_both_suppliers_are_used():
    """1000 + 200 units a year: installed 1200, 2400, 3600 H100e."""
    res = optimize(_net())
    np.testing.assert_allclose(res.dataset["compute_h100e"].values, [1200, 2400, 3600], rtol=1e-6)
    assert not [b for b in res.bottlenecks if b.constraint == "policy-max-share"]


def test_taiwan_cap_on_paper():
    """TW made <= 0.3 x deployed, and everything bought is deployed (it is worth compute):
    TW <= 0.3 (TW + US) -> TW <= (0.3 / 0.7) x 200 = 85.714 a year; 285.714 units a year,
    installed 285.714, 571.429, 857.143.

    Dual: allowing d more H100e a year from TW relaxes 0.7 TW <= 0.3 US + d, so TW grows by
    d / 0.7; a unit installed in 2025 runs three years: 3 / 0.7 = 4.286 H100e-years per
    H100e/year (2026: 2 / 0.7 = 2.857; 2027: 1 / 0.7 = 1.429).
    """
    res = optimize(_net({"max_share_from": {"TW": 0.3}}))
    assert res.status is Status.OPTIMAL
    per_year = 200 + 0.3 / 0.7 * 200
    np.testing.assert_allclose(
        res.dataset["compute_h100e"].values, [per_year, 2 * per_year, 3 * per_year], rtol=1e-6
    )
    tw = res.dataset["activity"].sel(process="buy_X_tw", region="TW").values
    np.testing.assert_allclose(tw, [0.3 / 0.7 * 200] * 3, rtol=1e-6)
    pol = {b.period: b for b in res.bottlenecks if b.constraint == "policy-max-share"}
    assert set(pol) == {2025, 2026, 2027}
    assert {b.item for b in pol.values()} == {"accelerators"} and pol[2025].region == "TW"
    # shadow price in objective units (million H100e-years) per H100e/year
    np.testing.assert_allclose(
        [pol[y].shadow_price * 1e6 for y in (2025, 2026, 2027)],
        [3 / 0.7, 2 / 0.7, 1 / 0.7],
        rtol=1e-3,
    )
    assert pol[2025].description.startswith("One more H100e/year of accelerators from TW")
    # the dependence measure agrees: 30% of the H100e were made in Taiwan
    share = res.summary()["dependence"]["taiwan_dependent_share"]
    np.testing.assert_allclose(share, [0.3, 0.3, 0.3], rtol=1e-6)


def test_cap_on_other_inputs_or_at_one_changes_nothing():
    """A cap on HBM only (which this network lacks) and a cap of 1 add no rows."""
    for policy in (
        {"max_share_from": {"TW": 0.3}, "inputs": ["hbm"]},
        {"max_share_from": {"TW": 1}},
    ):
        res = optimize(_net(policy))
        np.testing.assert_allclose(res.dataset["compute_h100e"].values, [1200, 2400, 3600])


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ("policy.max_share_from.TW=1.5", "policy.max_share_from.TW"),
        ("policy.max_share_from.TW=-0.1", "policy.max_share_from.TW"),
        ("policy.max_share_from.XX=0.3", "policy.max_share_from.XX"),
        ("policy.inputs=[wafers]", "policy.inputs"),
    ],
)
def test_bad_policy_is_refused_with_the_field_named(override, field):
    with pytest.raises(ScenarioError) as exc:
        load_scenario(overrides=[override])
    assert field in str(exc.value)
    assert exc.value.problems and exc.value.problems[0][0].startswith("policy")


def test_policy_region_keys_read_as_booleans_are_explained():
    with pytest.raises(ScenarioError, match="quote the region code"):
        validate_scenario({"regions": {"NO": {}}, "policy": {"max_share_from": {False: 0.3}}})


def test_policy_family_is_registered_and_a_saved_run_reports_it(tmp_path):
    """The cap of test_taiwan_cap_on_paper through the registry: the allowed amount at the
    solution is rhs = 0.3 x use = 0.3 x 285.714 = 85.714 H100e a year; importance is
    |dual| x allowed = 3 / 0.7 x 85.714 = 367.3 H100e-years in 2025 (0.000367 million);
    Results.save then Results.load gives the same bottlenecks."""
    from fab2flop.results import Results

    res = optimize(_net({"max_share_from": {"TW": 0.3}}))
    fam = res.registry["policy-max-share"]
    assert fam.group.value == "limit" and fam.dims == ("input", "region", "period")
    allowed = res.dataset["rhs_policy-max-share"].sel(input="accelerators", region="TW")
    np.testing.assert_allclose(allowed.values, [0.3 * (200 + 0.3 / 0.7 * 200)] * 3, rtol=1e-6)
    assert np.isnan(res.dataset["rhs_policy-max-share"].sel(region="US")).all()  # no cap
    pol = {b.period: b for b in res.bottlenecks if b.constraint == "policy-max-share"}
    np.testing.assert_allclose(pol[2025].importance * 1e6, 3 / 0.7 * 0.3 / 0.7 * 200, rtol=1e-3)
    # a limit a strategist can negotiate: grouped with market caps, before balances
    names = [g["constraint"] for g in res.summary()["bottleneck_groups"]]
    before = names[: names.index("policy-max-share")]
    assert all(res.registry[n].group.value == "limit" for n in before)
    res.save(tmp_path / "run")
    back = Results.load(tmp_path / "run")
    again = [b for b in back.bottlenecks if b.constraint == "policy-max-share"]
    assert again == [b for b in res.bottlenecks if b.constraint == "policy-max-share"]
    assert back.summary()["dependence"] == res.summary()["dependence"]


def test_a_scale_factor_may_name_an_array_kept_on_the_solution():
    """'/input' divides by the coordinate scale_input (per input), as '/carrier' does by
    scale_carrier: 1 / 4 and 1 / 8."""
    import xarray as xr

    from fab2flop.solution import scale_factor

    sol = xr.Dataset(coords={"scale_input": ("input", [4.0, 8.0]), "input": ["a", "b"]})
    got = scale_factor("/input", xr.Dataset(), sol)
    np.testing.assert_allclose(got.values, [0.25, 0.125])
    with pytest.raises(KeyError, match="nope"):
        scale_factor("nope", xr.Dataset(), sol)
