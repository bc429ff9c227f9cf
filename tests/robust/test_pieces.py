"""Small pieces: the tail mean, the shared slots, the decision periods."""

from __future__ import annotations

import numpy as np
import pytest

from fab2flop.robust.config import RobustConfig
from fab2flop.robust.evaluate import lower_tail_mean
from fab2flop.robust.members import decision_periods, shared_slots
from fab2flop.robust.run import plan_value

from .hedge import members


def test_lower_tail_mean_by_hand():
    v = np.array([3.0, 1.0, 4.0, 2.0])
    p = np.full(4, 0.25)
    assert lower_tail_mean(v, p, 0.5) == pytest.approx(1.5)  # (1 + 2) / 2
    assert lower_tail_mean(v, p, 0.25) == pytest.approx(1.0)  # the worst alone
    # alpha = 0.3: all of the 1 (0.25) and 0.05 of the 2: (0.25*1 + 0.05*2) / 0.3
    assert lower_tail_mean(v, p, 0.3) == pytest.approx(0.35 / 0.3)
    assert lower_tail_mean(v, p, 0.999999) == pytest.approx(2.5, rel=1e-5)  # ~ the mean
    # unequal probabilities: 0.1 on 10, 0.9 on 20, alpha 0.2: (0.1*10 + 0.1*20) / 0.2 = 15
    assert lower_tail_mean(np.array([20.0, 10.0]), np.array([0.9, 0.1]), 0.2) == pytest.approx(15)


def test_plan_value_by_mode():
    z, p = np.array([1400.0, 600.0]), np.array([0.7, 0.3])
    assert plan_value(z, p, RobustConfig(), 2000.0) == pytest.approx(1160.0)  # 980 + 180
    cvar = RobustConfig(mode="cvar", alpha=0.3, **{"lambda": 2.0})
    assert plan_value(z, p, cvar, 2000.0) == pytest.approx(1160.0 - 2.0 * (2000.0 - 600.0))
    worst = RobustConfig(mode="worst_alpha", alpha=0.3)
    assert plan_value(z, p, worst, 2000.0) == pytest.approx(600.0)


def test_decision_periods_and_shared_slots_of_the_hedge():
    ms = members(0.5)
    dec = decision_periods(ms[0].network)
    # fabs take one year: opening 2026 is decided in 2025 (period 0); the data center none
    assert int(dec["new"].sel(process="fab_TW", region="TW", period=2026)) == 0
    assert int(dec["new"].sel(process="datacenter", region="US", period=2026)) == 1
    sh = shared_slots(ms)
    assert sh["new"].dims[0] == "scenario" and list(sh["new"]["scenario"].values) == [
        "calm",
        "blockade",
    ]
    # blockade known from 2026 (period 1): its 2025 decisions are shared, 2026 ones are not;
    # the calm future is never revealed: all its slots are first stage
    fab = {"process": "fab_TW", "region": "TW"}
    assert bool(sh["new"].sel(scenario="blockade", period=2026, **fab))
    assert not bool(sh["act"].sel(scenario="blockade", period=2026, **fab))
    assert bool(sh["act"].sel(scenario="calm", period=2026, **fab))
    assert set(shared_slots(ms, operations=False)) == {"new", "deploy"}


def test_sampled_futures_of_the_default_scenario():
    # S = 2 draws of the default uncertainty set: probability 1/2 each, known no later than
    # the information year 2028 (period 3 of 2025..2035)
    from fab2flop.robust.members import scenario_set
    from fab2flop.scenario import load_scenario

    sc = load_scenario(
        None, ["objective.kind=robust", "robust.scenarios=2", "robust.information_year=2028"]
    )
    ms = scenario_set(sc)
    assert [m.name for m in ms] == ["s0", "s1"]
    assert [m.probability for m in ms] == [0.5, 0.5]
    assert all(0 <= m.info_period <= 3 for m in ms)
    # each member is the deterministic counterpart of its future
    assert all(m.network.scenario.objective.kind.value == "max_discounted_compute" for m in ms)


def test_a_cluster_shape_parameter_is_not_a_share():
    # yield_cluster_alpha (catalog value 3, range 1-10) is drawn by the default uncertainty
    # set; its name says "yield" but it is not a share in [0, 1]
    from fab2flop.network import build_network
    from fab2flop.scenario import load_scenario

    sc = load_scenario(None, ["catalog={nodes.common.yield_cluster_alpha: 4.0}"])
    assert build_network(sc).scenario.catalog["nodes.common.yield_cluster_alpha"] == 4.0


def test_evaluation_through_an_evaluator_matches_the_plain_loop():
    # the deterministic hedge plan (2,000 TW) on calm and blockade: 2,000 and 0; foresight
    # 2,000 and 600 (the US cap); the same rows through the risk engine's evaluator
    from fab2flop.optimizer import optimize
    from fab2flop.risk.evaluators import SequentialEvaluator
    from fab2flop.robust.evaluate import evaluate_plans, plan_of_results

    ms = members(0.5)
    plan = plan_of_results("d", optimize(ms[0].network))
    a = evaluate_plans({"d": plan}, ms)
    with SequentialEvaluator() as ev:
        b = evaluate_plans({"d": plan}, ms, evaluator=ev)
    z = a.dataset["discounted_h100e_years"]
    np.testing.assert_allclose(z.sel(plan="d").values, [2000.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(z.sel(plan="foresight").values, [2000.0, 600.0], atol=1e-6)
    np.testing.assert_allclose(b.dataset["discounted_h100e_years"].values, z.values, atol=1e-9)
