"""Jobs from sourced multipliers, and the export-policy table (fake optimiser runs)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from fab2flop.catalog import load_catalog
from fab2flop.constants import HOURS_PER_YEAR, Status
from fab2flop.finance.jobs import construction_headcount, jobs_of
from fab2flop.finance.policy import NO_CAP_UNITS_PER_YEAR, export_policy_table, policy_overrides
from fab2flop.optimizer import optimize

from ..conftest import tiny_network


def test_construction_headcount_by_hand():
    # $6.67B spent in a year on a $20B fab built over 3 years by 6,500 workers:
    # 6.67/20 of a fab paid this year x 3 years x 6,500 = 6,500 workers on site
    x = construction_headcount(np.array(20e9 / 3), np.array(20e9), 3.0, 6500.0)
    assert float(x) == pytest.approx(6500.0)
    assert float(construction_headcount(np.array(5.0), np.array(0.0), 3.0, 1.0)) == 0.0


def test_datacenter_jobs_from_capacity_and_capex():
    """Data center at $10M/MW (lead 0). Construction = capex that year / ($10M x 1000 per
    GW) x 2 build years x 2,500 jobs per GW; operating = GW in use x 250 (Meta Hyperion)."""
    res = optimize(tiny_network(dc_capex_usd_per_mw=10e6, budget_per_year=30e6))
    assert res.status is Status.OPTIMAL
    cat = load_catalog()
    j = jobs_of(res, cat)
    k = j.classes.index("datacenter")
    capex = res.dataset["spend_capex_usd"].sel(process="datacenter", region="US").values
    mw = res.dataset["capacity"].sel(process="datacenter", region="US").values
    assert capex.sum() > 0
    np.testing.assert_allclose(j.construction["value"][k, 0], capex / 10e9 * 2 * 2500)
    np.testing.assert_allclose(j.operating["value"][k, 0], mw / 1e3 * 250)
    # ranges bracket the central value: 1,000-5,000 and 100-500 per GW
    np.testing.assert_allclose(j.construction["high"][k, 0], capex / 10e9 * 2 * 5000)
    np.testing.assert_allclose(j.operating["low"][k, 0], mw / 1e3 * 100)
    s = j.summary()["US"]
    assert s["operating_jobs_at_end"] == pytest.approx(mw[-1] / 1e3 * 250)
    total = res.dataset["spend_usd"].sum().item()
    assert s["spend_total_usd"] == pytest.approx(total, rel=1e-9)


def _fake(h100e: list[float], cost: float):
    summary = {
        "compute_h100e": h100e,
        "spend_total_usd": 1e9,
        "cost_per_h100e_hour_usd": cost,
    }
    return SimpleNamespace(
        status=Status.OPTIMAL,
        summary=lambda: summary,
        dataset=SimpleNamespace(attrs={"dt_years": 1.0}),
    )


def test_export_policy_table_costs_against_approved():
    """Each policy's H100e by year (fake runs): AE denied 10+10, capped 10+20, approved
    10+30 H100e-years; denied loses 20 H100e-years = 20 x 8760 h x $2 = $350,400."""
    by_policy = {
        "regions.AE.accelerator_cap_units_per_year=0": [10.0, 10.0],
        "regions.AE.accelerator_cap_units_per_year=500000.0": [10.0, 20.0],
        f"regions.AE.accelerator_cap_units_per_year={NO_CAP_UNITS_PER_YEAR}": [10.0, 30.0],
    }
    seen = []

    def run(ov):
        seen.append(ov)
        return _fake(by_policy[ov[-1]], 2.0)

    rows = export_policy_table(run, {"AE": 5e5}, countries=["AE"])
    assert [r.policy for r in rows] == ["denied", "capped", "approved"]
    assert len(seen) == 3
    assert [r.lost_h100e_years for r in rows] == [20.0, 10.0, 0.0]
    assert rows[0].lost_value_usd == pytest.approx(20 * HOURS_PER_YEAR * 2.0)
    assert rows[2].h100e_end == 30.0


def test_policy_overrides_enable_saudi_arabia():
    assert policy_overrides("SA", "approved", 5e4) == [
        "regions.SA.enabled=true",
        f"regions.SA.accelerator_cap_units_per_year={NO_CAP_UNITS_PER_YEAR}",
    ]
    assert policy_overrides("AE", "denied", 5e5) == ["regions.AE.accelerator_cap_units_per_year=0"]


@pytest.mark.parametrize(
    ("country", "policy", "cap", "enabled"),
    [
        ("AE", "denied", 0.0, True),
        ("AE", "capped", 5e5, True),
        ("AE", "approved", NO_CAP_UNITS_PER_YEAR, True),
        ("SA", "denied", None, False),
        ("SA", "capped", 5e4, True),
        ("SA", "approved", NO_CAP_UNITS_PER_YEAR, True),
    ],
)
def test_policy_overrides_reach_the_network(country, policy, cap, enabled):
    """The caps are the catalog's regions.<R>.accelerator_cap_units_per_year (UAE 500,000,
    Saudi Arabia 50,000 a year); Saudi Arabia is off unless approved or capped."""
    from fab2flop.network import build_network
    from fab2flop.scenario import load_scenario

    ov = policy_overrides(country, policy, {"AE": 5e5, "SA": 5e4}[country])
    net = build_network(load_scenario(overrides=["time.end=2026", *ov]))
    assert bool(net.ds["region_enabled"].sel(region=country)) is enabled
    if cap is not None:
        got = net.ds["deploy_cap_units_per_year"].sel(region=country).values
        np.testing.assert_allclose(got, cap)


def test_export_policy_cli_with_fake_runs(monkeypatch):
    import json

    from typer.testing import CliRunner

    from fab2flop.cli import app, finance_cmd

    calls = []

    def fake(scenario, overrides):
        calls.append(overrides)
        return _fake([1.0, 2.0 + len(calls)], 3.0)

    monkeypatch.setattr(finance_cmd, "_optimise", fake)
    r = CliRunner().invoke(app, ["finance", "--export-policy", "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)["export_policy"]
    assert [(x["country"], x["policy"]) for x in rows] == [
        (c, p) for c in ("AE", "SA") for p in ("denied", "capped", "approved")
    ]
    # catalog caps reach the overrides: UAE 500,000 and Saudi Arabia 50,000 a year
    assert "regions.AE.accelerator_cap_units_per_year=500000.0" in calls[1]
    assert "regions.SA.accelerator_cap_units_per_year=50000.0" in calls[4]
    # fake H100e-years 1+3, 1+4, 1+5: denied loses 2 against approved
    assert rows[0]["lost_h100e_years"] == pytest.approx(2.0)
    r = CliRunner().invoke(app, ["finance", "--export-policy"])
    assert r.exit_code == 0 and "approved" in r.output
