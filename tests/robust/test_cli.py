"""``fab2flop plan --robust`` (and ``run`` on a robust scenario) through Typer's CliRunner."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from fab2flop.cli import app
from fab2flop.results import Results

runner = CliRunner()
ONE = ["--set", "robust.source=events", "--set", "robust.futures=[{name: nominal, probability: 1}]"]


def test_plan_needs_robust():
    r = runner.invoke(app, ["plan"])
    assert r.exit_code == 2 and "--robust" in r.output


def test_bad_robust_input_exits_before_work():
    r = runner.invoke(app, ["plan", "--robust", "--set", "robust.alpha=2"])
    assert r.exit_code == 2 and "robust.alpha" in r.output
    r = runner.invoke(app, ["plan", "--robust", "--event", "taiwan_blockade"])
    assert r.exit_code == 2 and "--probability" in r.output
    # run routes a robust scenario to the robust planner, which checks the block first
    r = runner.invoke(
        app, ["run", "--set", "objective.kind=robust", "--set", "robust.information_year=2050"]
    )
    assert r.exit_code == 2 and "robust.information_year" in r.output


def test_event_flags_make_two_named_futures():
    r = runner.invoke(
        app,
        ["plan", "--robust", "--event", "taiwan_blockade", "--event-start", "2028",
         "--probability", "0.2", "--no-eval", "--json"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    j = json.loads(r.stdout)
    assert [(f["name"], f["probability"]) for f in j["futures"]] == [
        ("nominal", 0.8),
        ("taiwan_blockade", 0.2),
    ]
    # the blockade is known from its start; the nominal future never differs
    assert [f["known_from"] for f in j["futures"]] == [None, "2028"]
    assert j["lp"]["non_anticipativity_rows"] > 0 and "vss" not in j


def test_one_future_plan_json_and_saved_run(tmp_path):
    # one future with probability 1 is the deterministic plan: nothing is given up in the
    # nominal future, nothing is built differently, and in sample the robust plan is the
    # wait-and-see plan of that future (VSS = EVPI = 0)
    out = tmp_path / "robust"
    args = ["plan", "--robust", *ONE, "--held-out", "1", "--json", "--out", str(out)]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    j = json.loads(r.stdout)
    for key in ("expected_h100e", "cvar_h100e", "price_of_resilience_h100e", "vss", "evpi",
                "build_difference", "worst_h100e"):  # fmt: skip
        assert key in j, key
    assert j["status"] == "optimal"
    assert abs(j["price_of_resilience_h100e"]) < 1.0  # H100e, of ~1e8
    assert j["build_difference"] == []
    assert abs(j["vss_in_sample"]) < 1.0 and abs(j["evpi_in_sample"]) < 1.0
    assert j["evpi"] >= -1.0  # held out: wait-and-see is never worse
    assert set(j["expected_h100e"]) == {"robust", "deterministic", "foresight"}
    saved = Results.load(out)
    assert saved.meta["robust"]["vss"] == j["vss"]
    assert saved.meta["robust"]["build_difference"] == []
