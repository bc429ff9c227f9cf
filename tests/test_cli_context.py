"""``fab2flop context`` and ``fab2flop dependence`` through Typer's CliRunner."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from fab2flop.cli import app

runner = CliRunner()
SHORT = ["--set", "time.end=2026"]


def test_context_json_ratios_are_spend_over_yardstick():
    r = runner.invoke(
        app, ["context", *SHORT, "--json", "-y", "gdp_france", "-y", "us_corporate_bond_issuance"]
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert [y["id"] for y in out["yardsticks"]] == [
        "context.gdp_france",
        "context.us_corporate_bond_issuance",
    ]
    france = out["yardsticks"][0]
    assert [row["year"] for row in france["by_year"]] == [2025, 2026]
    for row in france["by_year"]:
        # France's GDP is given for 2023 only: both years use it
        assert row["value_year"] == 2023 and row["value_usd"] == 3.052e12
        assert row["ratio"] == pytest.approx(out["spend_by_year_usd"][str(row["year"])] / 3.052e12)
    assert france["budget_ratio"] == pytest.approx(7.0e12 / 3.052e12)  # "twice France's GDP"


def test_context_table_and_unknown_yardstick():
    r = runner.invoke(app, ["context", "-y", "gdp_atlantis"])
    assert r.exit_code == 2
    assert "gdp_atlantis" in r.output and "known yardsticks" in r.output


def test_dependence_json_has_the_documented_keys():
    r = runner.invoke(app, ["dependence", *SHORT, "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    n = len(d["periods"])
    assert n == 2
    for key in ("by_vendor", "by_region", "hhi"):
        assert d[key]
    assert len(d["taiwan_dependent_h100e"]) == n
    for t in range(n):
        if d["compute_h100e"][t] > 0:
            assert sum(v[t] or 0 for v in d["by_vendor"].values()) == pytest.approx(1.0)
            assert 0 <= d["taiwan_dependent_h100e"][t] <= d["compute_h100e"][t] * (1 + 1e-9)
    for name, regs in d["by_region"].items():
        for t in range(n):
            got = [v[t] for v in regs.values() if v[t] is not None]
            if got:
                assert sum(got) == pytest.approx(1.0), name
                assert d["hhi"][name][t] == pytest.approx(sum(10_000 * s * s for s in got))


def test_dependence_prints_tables_and_refuses_a_bad_share():
    r = runner.invoke(app, ["dependence", "--set", "time.end=2025"])
    assert r.exit_code == 0, r.output
    assert "Where each critical input is made" in r.stdout and "Taiwan" in r.stdout
    r = runner.invoke(app, ["dependence", "--set", "policy.max_share_from.TW=1.5"])
    assert r.exit_code == 2
    assert "policy.max_share_from.TW" in r.output
    r = runner.invoke(app, ["dependence", "--set", "policy.max_share_from.ZZ=0.2"])
    assert r.exit_code == 2 and "policy.max_share_from.ZZ" in r.output


def test_run_summary_has_one_dependence_line():
    r = runner.invoke(app, ["run", *SHORT])
    assert r.exit_code == 0, r.output
    assert "Dependence: share of H100e" in r.stdout
