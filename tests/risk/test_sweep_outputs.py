"""Risk runs joined to finance, dependence and the run store: per-sample IRR, NPV and
Taiwan-dependent compute in the sweep, and sweep/replay runs listed in the run history."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from fab2flop.cli import app
from fab2flop.dependence import dependence_of
from fab2flop.finance import risk_outputs
from fab2flop.optimizer import optimize
from fab2flop.risk.evaluators import SequentialEvaluator
from fab2flop.risk.sweep import draw_samples, plan_tasks, run_sweep, scalar_bands, summarize
from fab2flop.risk.uncertainty import validate_uncertainty
from fab2flop.scenario import load_scenario, validate_scenario
from fab2flop.store import RunStore

runner = CliRunner()
TINY_UNCERTAINTY = {  # two prices varied: each sample is a different future
    "samples": 2,
    "seed": 3,
    "parameters": [{"id": "memory.hbm3e.stack_price_usd"}, {"id": "nodes.N3.wafer_price_usd"}],
}


def test_scalar_bands_leave_out_failed_samples():
    # 1, 2, 3 with a NaN: P50 = 2, P5 = 1 + 0.05 * 2 = 1.1, P95 = 1 + 0.95 * 2 = 2.9
    got = scalar_bands(np.array([3.0, np.nan, 1.0, 2.0]))
    assert got == pytest.approx({"p5": 1.1, "p50": 2.0, "p95": 2.9})
    assert scalar_bands(np.array([np.nan])) == {"p5": None, "p50": None, "p95": None}


@pytest.fixture(scope="module")
def swept():
    sc = load_scenario(overrides=["time.end=2026"])  # two periods
    inputs = draw_samples(sc, validate_uncertainty(TINY_UNCERTAINTY), 2, 3)
    return sc, inputs, run_sweep(sc, inputs, evaluator=SequentialEvaluator())


def test_sweep_per_sample_finance_and_dependence_match_a_direct_optimize(swept):
    sc, inputs, result = swept
    ds = result.dataset
    assert ds["status"].values.tolist() == ["optimal", "optimal"]
    assert ds["irr"].dims == ("sample", "party") and ds["npv_usd"].dims == ("sample", "party")
    assert ds["taiwan_dependent_h100e"].dims == ("sample", "period")
    for i, task in enumerate(plan_tasks(sc, inputs)):
        res = optimize(validate_scenario(task.scenario, f"sample {i}"))
        want = risk_outputs(res)
        for party in ds["party"].values:
            irr = want[f"irr.{party}"]
            got = ds["irr"].sel(sample=i, party=party).item()
            assert np.isnan(got) if irr is None else got == pytest.approx(irr, rel=1e-6)
            assert ds["npv_usd"].sel(sample=i, party=party).item() == pytest.approx(
                want[f"npv_usd.{party}"], rel=1e-6, abs=1.0
            )
        tw = dependence_of(res)["taiwan_dependent_h100e"]
        np.testing.assert_allclose(ds["taiwan_dependent_h100e"].values[i], tw, rtol=1e-6)
    # the two futures are different draws (each compared with its own direct optimize)
    assert inputs[0].catalog_overrides != inputs[1].catalog_overrides


def test_sweep_summary_has_bands_of_irr_and_taiwan_dependence(swept):
    sc, _, result = swept
    s = json.loads(json.dumps(summarize(result, [2026], 3)))
    irr = s["parties_irr"]
    finite = [v for b in irr.values() for v in b.values() if v is not None]
    assert finite and all(np.isfinite(finite))  # some party has an IRR, every one finite
    for b in irr.values():
        assert set(b) == {"p5", "p50", "p95"}
        if b["p5"] is not None:
            assert b["p5"] <= b["p50"] <= b["p95"]
    tw = s["taiwan_dependent_h100e"]
    assert set(tw) == {"p5", "p50", "p95"} and len(tw["p50"]) == 2
    assert all(np.isfinite(tw[k]).all() for k in tw)
    # Taiwan-dependent compute is part of the installed compute, never above it
    for k in tw:
        assert all(a <= c * (1 + 1e-9) for a, c in zip(tw[k], s["compute_h100e"][k], strict=True))


def _kinds() -> list[tuple[str, str | None]]:
    return [(r["kind"], r["label"]) for r in RunStore().list(limit=500)]


def test_risk_sweep_json_and_store():
    args = ["risk", "sweep", "--set", "time.end=2026", "--uncertainty", "none"]
    r = runner.invoke(app, [*args, "--samples", "2", "--seed", "5", "--workers", "1", "--json"])
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout)
    assert s["parties_irr"] and set(s["taiwan_dependent_h100e"]) == {"p5", "p50", "p95"}
    assert ("risk-sweep", "foresight samples=2 seed=5 events=-") in _kinds()
    r = runner.invoke(app, [*args, "--samples", "1", "--seed", "6", "--workers", "1", "--no-store"])
    assert r.exit_code == 0, r.output
    assert not any(label and "seed=6" in label for _, label in _kinds())


def test_risk_replay_is_recorded_with_its_kind():
    r = runner.invoke(app, ["risk", "replay", "--samples", "8", "--seed", "4", "--json"])
    assert r.exit_code == 0, r.output
    assert ("risk-replay", "replay samples=8 seed=4 events=-") in _kinds()
