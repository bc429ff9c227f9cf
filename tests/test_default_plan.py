"""The embedded default scenario: hand-checkable facts and a golden regression."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fab2flop import load_scenario, optimize
from fab2flop.catalog import load_catalog
from fab2flop.constants import Status

from .golden.compare import mismatches
from .golden.update import golden

GOLDEN = Path(__file__).parent / "golden" / "default.json"


@pytest.fixture(scope="module")
def res():
    r = optimize(load_scenario())
    assert r.status is Status.OPTIMAL, r.message
    return r


def test_first_years_run_only_on_leased_capacity(res):
    """Own data centers take catalog build_years (2) to open: in 2025 and 2026 the fleet can
    only draw on leased colocation, at most the catalog's lease market (300 and 1,500 MW),
    plus the 500 MW of IT the plan holds at the start (scenario installed.datacenter_mw)."""
    cat = load_catalog()
    assert cat.number("datacenters.ai_campus.build_years") == 2
    lease = cat.series("datacenters.lease.market_mw_it")
    start_mw = 500.0
    it = res.dataset["fleet_mw_it"].sum("region")
    assert float(it.sel(period=2025)) <= (lease[2025] + start_mw) * (1 + 1e-6)
    assert float(it.sel(period=2026)) <= (lease[2026] + start_mw) * (1 + 1e-6)
    own = res.dataset["capacity"].sel(process="datacenter").sum("region")
    assert float(own.sel(period=2025)) == 0 and float(own.sel(period=2026)) == 0


def test_no_accelerator_before_it_exists(res):
    inst = res.dataset["installed_units"]
    for name in ("custom_v1", "custom_v2", "custom_v3", "Rubin"):
        first = res.network.fleet[name].available_from
        before = [p for p in res.periods if p < first]
        assert float(inst.sel(accelerator=name, period=before).sum()) == 0.0, name


def test_export_approval_caps_uae_deployments(res):
    cat = load_catalog()
    cap = cat.series("regions.AE.accelerator_cap_units_per_year")
    dep = res.dataset["deployed"].sel(region="AE").sum("accelerator")
    for p in res.periods:
        allowed = np.interp(p, list(cap), list(cap.values()))
        assert float(dep.sel(period=p)) <= allowed * (1 + 1e-6) + 1e-6


def test_money_is_within_funding_and_fully_attributed(res):
    s = res.summary()
    assert s["spend_total_usd"] <= s["funding_total_usd"]
    # the default carries cash at 0% interest: what is carried out of each period is what
    # arrived so far less what was spent so far (the spend read back from the LP's terms,
    # the cash from its own variable), and it never goes negative
    assert res.network.scenario.budget.cash_interest_rate == 0.0
    carried = np.cumsum(np.array(s["funding_usd"]) - np.array(s["spend_by_period_usd"]))
    np.testing.assert_allclose(res.dataset["cash_usd"].values, carried, rtol=1e-6, atol=1e3)
    assert np.all(carried >= -1e3)


def test_less_money_never_more_compute(res):
    half = optimize(load_scenario(overrides=["budget.total_usd=3.5e12"]))
    d = res.network.ds["discount"].values
    assert (half.dataset["compute_h100e"].values * d).sum() <= (
        res.dataset["compute_h100e"].values * d
    ).sum() * (1 + 1e-6)


def test_bottleneck_report_names_what_binds(res):
    assert res.bottlenecks, "a plan this size must hit some limit"
    # the default's headline finding (README): power and sites bind first, money does not,
    # so no period puts a value on money and every worth is given in H100e-years
    assert not [b for b in res.bottlenecks if b.constraint == "cash"]
    for b in res.bottlenecks:
        assert b.description.startswith(("One more", "Approval"))
        assert str(b.period) in b.description, b
        assert b.value_usd is None and "H100e-years" in b.description, b
    first = res.summary()["first_binding"]
    assert (first["constraint"], first["item"], first["period"]) == (
        "market-cap",
        "power_build_limit",
        2025,
    )


def test_golden_default(res):
    """Regression against tests/golden/default.json: every field of the summary but `meta`
    (regenerate with `python -m tests.golden.update` only after reviewing why it moved)."""
    g = json.loads(GOLDEN.read_text())
    diffs = mismatches(golden(res), g)
    assert not diffs, f"{len(diffs)} fields differ from the golden run:\n" + "\n".join(diffs[:30])


def test_golden_comparison_catches_what_it_should():
    g = {"a": [1.0e6, 2.0e6, 1e-7], "b": {"x": 1.0}, "t": "worth 1,554 H100e-years", "n": None}
    assert mismatches(json.loads(json.dumps(g)), g) == []
    assert mismatches({**g, "a": [1.0e6, 2.0e6, 0.5]}, g)  # 0.5 is not noise next to 2e6
    assert mismatches({**g, "a": [1.0e6, 2.0e6, 0.0]}, g) == []  # 1e-7 is
    assert mismatches({**g, "a": [1.01e6, 2.0e6, 1e-7]}, g)  # 1% off
    assert mismatches({**g, "a": [1.0e6, 2.0e6]}, g)  # shorter
    assert mismatches({k: v for k, v in g.items() if k != "b"}, g) == [".b: missing"]
    assert mismatches({**g, "z": 1}, g) == [".z: not in the golden file"]
    assert mismatches({**g, "b": {"x": 1.0, "y": 2.0}}, g)
    assert mismatches({**g, "t": "worth 1,555 H100e-years"}, g) == []  # rounding
    assert mismatches({**g, "t": "worth 1,754 H100e-years"}, g)
    # one step of the last printed digit is rounding (11.5 prints as 11 or 12); two are not
    small = {"t": "worth 12 H100e-years"}
    assert mismatches({"t": "worth 11 H100e-years"}, small) == []
    assert mismatches({"t": "worth 10 H100e-years"}, small)
    assert mismatches({**g, "t": "worth 1,554 H100e-hours"}, g)
    assert mismatches({**g, "n": 0.0}, g)


def test_bottleneck_regions_match_their_constraint(res):
    regions = set(res.network.regions)
    for b in res.bottlenecks:
        if b.constraint in ("balance", "cash", "compute-path"):
            assert b.region is None, b
        elif b.constraint in ("balance-regional", "market-cap", "export-cap", "capacity-max"):
            assert b.region in regions, b


def test_longer_horizon_and_quarters():
    long = optimize(load_scenario(overrides=["time.end=2040"]))
    assert long.status is Status.OPTIMAL and len(long.periods) == 16
    q = optimize(load_scenario(overrides=["time.end=2027", "time.step=quarter"]))
    assert q.status is Status.OPTIMAL and len(q.periods) == 12
    assert q.periods[0] == "2025Q1"
    # a 2-year data-center lead time is 8 quarters: own capacity from 2027Q1 on
    own = q.dataset["capacity"].sel(process="datacenter").sum("region").values
    assert np.all(own[:8] == 0)


def test_other_objectives_on_the_default():
    tgt = optimize(
        load_scenario(
            overrides=["objective.kind=max_compute_in_year", "objective.target_year=2030"]
        )
    )
    assert tgt.status is Status.OPTIMAL
    path = optimize(
        load_scenario(
            overrides=[
                "objective.kind=min_cost_for_path",
                "objective.compute_path_h100e={2028: 5.0e6, 2030: 1.0e7}",
            ]
        )
    )
    assert path.status is Status.OPTIMAL
    h = dict(zip(path.periods, path.dataset["compute_h100e"].values, strict=True))
    assert h[2028] >= 5.0e6 * (1 - 1e-6) and h[2030] >= 1.0e7 * (1 - 1e-6)
    # it spends far less than the compute-maximising plan, which builds to the power limits
    assert path.total_spend() < optimize(load_scenario()).total_spend()
    # the path's marginal cost per H100e is reported in dollars
    assert any(b.constraint == "compute-path" for b in path.bottlenecks)
