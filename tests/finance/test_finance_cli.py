"""``fab2flop finance`` through Typer's CliRunner, on a short default horizon."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fab2flop.cli import app

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "finance_custom.yaml"
SHORT = ["--set", "time.end=2027"]


@pytest.fixture(scope="module")
def fin_json():
    r = runner.invoke(app, ["finance", *SHORT, "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_json_has_parties_and_jobs(fin_json):
    parties = fin_json["parties"]
    for name in (
        "gulf_sovereign",
        "softbank",
        "microsoft",
        "chipmakers",
        "private_capital_and_debt",
        "fab_company",
        "datacenter_company",
        "power_company",
        "openai",
        "tsmc",
    ):
        assert {"npv_usd", "irr", "payback_year", "peak_funding_usd"} <= set(parties[name])
    # no NaN anywhere: an IRR is a number or None with a reason
    for m in parties.values():
        assert m["irr"] is None or m["irr"] == m["irr"]
        if m["irr"] is None:
            assert m["irr_note"]
    assert "US" in fin_json["jobs"]
    us = fin_json["jobs"]["US"]
    assert len(us["construction_jobs"]) == len(fin_json["periods"]) == 3


def test_every_dollar_is_paid_by_a_party(fin_json):
    r = runner.invoke(app, ["run", *SHORT, "--json"])
    run = json.loads(r.stdout)
    paid = sum(fin_json["spend_paid_by_usd"].values())
    assert paid == pytest.approx(run["spend_total_usd"], rel=1e-9)
    # the run summary carries the same parties and jobs
    assert run["parties"]["datacenter_company"]["npv_usd"] == pytest.approx(
        fin_json["parties"]["datacenter_company"]["npv_usd"], rel=1e-9
    )
    assert set(run["jobs"]) == set(fin_json["jobs"])


def test_required_return_lease_and_text_output():
    r = runner.invoke(app, ["finance", *SHORT, "--lease", "required_return"])
    assert r.exit_code == 0, r.output
    assert "required_return" in r.output and "earns its required return" in r.output
    assert "from a cloud" in r.output


def test_bad_lease_mode_and_bad_finance_input():
    r = runner.invoke(app, ["finance", "--lease", "cheap"])
    assert r.exit_code == 2 and "--lease 'cheap'" in r.output
    r = runner.invoke(app, ["finance", "--set", "finance.lease.price_usd_per_h100e_hour=184"])
    assert r.exit_code == 2 and "finance.lease.price_usd_per_h100e_hour" in r.output


@pytest.fixture(scope="module")
def short_res():
    from fab2flop.optimizer import optimize
    from fab2flop.scenario import load_scenario

    return optimize(load_scenario(overrides=["time.end=2027"]))


def test_finance_dataset_and_risk_outputs(short_res):
    from fab2flop.finance import finance_dataset, finance_of, risk_outputs

    ds = finance_dataset(short_res)
    cf = ds["finance_cash_flow_usd"]
    assert cf.sizes["period"] == 3 and "datacenter_company" in cf["party"].values
    # a company's lines balance each year: owners cover what it lacks, take what is left
    comp = cf.sel(party="datacenter_company").sum("line").values
    assert abs(comp).max() < 1e-6 * abs(cf).max()
    jobs = ds["jobs_operating"].sel(bound="value")
    assert (ds["jobs_operating"].sel(bound="high") >= jobs - 1e-9).all()
    out = risk_outputs(short_res)
    m = finance_of(short_res).party_metrics()
    assert out["npv_usd.openai"] == m["openai"]["npv_usd"] < 0
    assert out["irr.openai"] is None  # the anchor only pays


def test_example_with_its_own_finance_section():
    r = runner.invoke(app, ["finance", str(EXAMPLE), *SHORT, "--json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert set(d["parties"]) == {
        "gulf_sovereign",
        "chipmakers",
        "microsoft",
        "banks",
        "fab_company",
        "datacenter_company",
        "power_company",
        "openai",
        "tsmc",
    }
    assert d["lease"]["price_usd_per_h100e_hour"][:2] == pytest.approx([2.0, 1.6])
    # the lender earns its own 7% on what it lends
    assert d["parties"]["banks"]["irr"] == pytest.approx(0.07, abs=1e-6)
