"""Events on the command line: ``run --event``, and scenario files with ``events:``."""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

from fab2flop.cli import app

runner = CliRunner()

# the README's money-bound plan: with power and grid relaxed, chips and money bind, so a
# Taiwan blockade known in advance still costs compute (in the default plan power binds
# first and the plan routes around Taiwan at no loss of compute)
MONEY_BOUND = [
    "--set",
    "regions.US.max_new_power_mw_per_year=20000",
    "--set",
    "regions.US.grid_mw_available=30000",
]


def _run(*args: str) -> dict:
    r = runner.invoke(app, ["run", "--json", *args])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_run_with_a_catalog_event_has_the_plain_keys_plus_events_and_less_compute():
    plain = _run(*MONEY_BOUND)
    hit = _run(*MONEY_BOUND, "--event", "taiwan_blockade", "--event-start", "2028")
    assert set(hit) == set(plain) and "events" in hit
    assert plain["events"] == []
    (ev,) = hit["events"]
    assert (ev["name"], ev["kind"], ev["start"], ev["regions"]) == (
        "taiwan_blockade",
        "outage",
        2028.0,
        ["TW"],
    )
    assert {"foundry_N3", "cowos_market", "nvidia_supply"} <= set(ev["processes"])
    assert ev["periods"] == ["2028", "2029"]  # half a year lost, a year's ramp back
    i = plain["periods"].index(2028)
    before = np.array(plain["compute_h100e"][i:])
    after = np.array(hit["compute_h100e"][i:])
    assert np.abs(after - before).max() > 1e-3 * before.max()
    # knowing the event in advance the plan hedges, but the blockade's year loses compute
    assert after[0] < before[0]


def test_run_event_on_the_default_plan_and_duration_override():
    s = _run("--event", "taiwan_blockade", "--event-start", "2030", "--event-duration", "1")
    (ev,) = s["events"]
    assert (ev["start"], ev["duration_years"], ev["end"]) == (2030.0, 1.0, 2031.0)
    assert ev["periods"] == ["2030", "2031"]
    assert s["status"] == "optimal"


def test_event_flags_fail_clearly():
    r = runner.invoke(app, ["run", "--event-start", "2028"])
    assert r.exit_code == 2 and "--event" in r.output
    r = runner.invoke(app, ["run", "--event", "taiwan_invasion_by_aliens"])
    assert r.exit_code == 2 and "events.0.use" in r.output
    r = runner.invoke(app, ["run", "--event", "taiwan_blockade", "--event-start", "2050"])
    assert r.exit_code == 2 and "events.0.start" in r.output


def test_scenario_file_with_events_validates_and_a_bad_one_names_the_field(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(
        "extends: default\n"
        "events:\n"
        "  - {name: tw_outage, kind: outage, region: TW, start: 2028, duration_years: 1,\n"
        "     fraction: 1.0, recovery_years: 2}\n"
        "  - {name: hbm_squeeze, kind: price, group: hbm, start: 2026, duration_years: 2,\n"
        "     multiplier: 1.6}\n"
        "  - {use: uae_export_denial, start: 2030}\n"
    )
    r = runner.invoke(app, ["scenario", "validate", str(good)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["scenario", "show", str(good), "--json"])
    events = json.loads(r.stdout)["events"]
    assert [e["name"] for e in events] == ["tw_outage", "hbm_squeeze", "uae_export_denial"]
    assert events[2]["deploy_cap_units_per_year"] == 0 and events[2]["start"] == 2030
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "extends: default\n"
        "events:\n"
        "  - {name: ok, kind: funding, funder: softbank, start: 2027, fraction: 0.5}\n"
        "  - {name: typo, kind: outage, region: TAIWAN, start: 2028}\n"
    )
    r = runner.invoke(app, ["scenario", "validate", str(bad)])
    assert r.exit_code == 2
    assert "events.1.region" in r.output and "TAIWAN" in r.output
