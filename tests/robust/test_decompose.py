"""Benders decomposition of the robust plan against the extensive form (one LP), on the
two-fab hedge network worked by hand in tests/robust/test_hedge.py.

Z in model units (1e6 H100e-years): calm Z = k_TW + k_US, blockade Z = k_US (2026 only).
With a 60% blockade the robust plan is US 600, TW 800 (test_hedge): E[Z] = 0.4 * 1,400 +
0.6 * 600 = 920 H100e-years = 9.2e-4 model units. Wait and see: calm 2,000 (all TW),
blockade 600 (US at its cap): 0.4 * 2,000 + 0.6 * 600 = 1,160 = 1.16e-3.
"""

from __future__ import annotations

import pytest

from fab2flop.constants import Status
from fab2flop.errors import ScenarioError
from fab2flop.risk.evaluators import DaskEvaluator, SequentialEvaluator
from fab2flop.robust.config import RobustConfig
from fab2flop.robust.decompose import DecomposeOptions, solve_decomposed
from fab2flop.robust.extensive import build_extensive_model, solve_extensive

from .hedge import members

GAP = 1e-6  # the stated tolerance: decomposition stops at (UB - LB) / |UB| <= GAP
# the objective's spend tie-break (EPS_COST per billion USD, $10M spent) moves it by far
# less than this share of 9.2e-4 [1]
HAND = 1e-4


def extensive_objective(ms) -> float:
    sol = solve_extensive(build_extensive_model(ms, RobustConfig()))
    assert sol.status.ok and sol.objective is not None
    return sol.objective


@pytest.mark.parametrize("q", [0.3, 0.6])
def test_decomposition_agrees_with_the_extensive_form(q):
    ms = members(q)
    res = solve_decomposed(ms, RobustConfig(), options=DecomposeOptions(gap_tol=GAP))
    ext = extensive_objective(ms)
    assert res.status is Status.OPTIMAL
    assert res.gap <= GAP
    # the bounds bracket the extensive optimum (both engines' rounding: 1e-9 relative)
    assert res.objective <= ext * (1 + 1e-9) and res.bound >= ext * (1 - 1e-9)
    assert res.objective == pytest.approx(ext, rel=GAP)
    assert res.max_elastic < 1e-7  # the plan found is non-anticipative, not penalised
    # linked slots: the fabs' builds, and (robust.shared_operations, the default) the
    # activity, deployments and inventory of 2025, decided before the blockade is known
    kinds = {k for k, _ in res.slots}
    assert {"new", "act", "deploy", "inv"} <= kinds


def test_hedge_values_by_hand():
    res = solve_decomposed(members(0.6), options=DecomposeOptions(gap_tol=GAP))
    assert res.objective == pytest.approx(9.2e-4, rel=HAND)
    # member values at the robust plan: calm 1,400, blockade 600
    assert res.member_values == pytest.approx([1.4e-3, 6e-4], rel=HAND)
    assert res.wait_and_see == pytest.approx([2e-3, 6e-4], rel=HAND)
    # the first bound is the wait-and-see value, 1.16e-3, and it falls to 9.2e-4
    assert res.history[0]["ub"] <= 1.16e-3 * (1 + HAND)
    assert res.bound == pytest.approx(9.2e-4, rel=HAND)


def test_a_30_percent_blockade_is_not_hedged():
    # E[Z] = 0.7 k_TW + k_US: all in TW (1.4e-4 per dollar against 1e-4), E[Z] = 0.7 * 2,000
    # = 1,400 H100e-years; the blockade's member value is 0 compute less the spend tie-break:
    # EPS_COST 1e-6 per billion USD x $0.01 billion = -1e-8
    res = solve_decomposed(members(0.3), options=DecomposeOptions(gap_tol=GAP))
    assert res.objective == pytest.approx(1.4e-3, rel=HAND)
    assert res.member_values[1] == pytest.approx(-1e-8, rel=1e-3)


def test_sequential_evaluator_and_dask_give_the_same_plan():
    ms = members(0.6)
    opts = DecomposeOptions(gap_tol=GAP)
    with SequentialEvaluator() as ev:
        a = solve_decomposed(ms, evaluator=ev, options=opts)
    with DaskEvaluator(n_workers=2, processes=False) as ev:
        b = solve_decomposed(ms, evaluator=ev, options=opts)
    assert b.n_workers == 2
    assert b.objective == pytest.approx(a.objective, rel=GAP)
    assert b.z == pytest.approx(a.z, rel=1e-6, abs=1e-9)


def test_iteration_limit_returns_the_incumbent_marked():
    res = solve_decomposed(members(0.6), options=DecomposeOptions(gap_tol=GAP, max_iter=1))
    assert res.iterations == 1
    assert res.status is Status.TIME_LIMIT  # not proven optimal
    assert res.objective <= res.bound


def test_bad_input_names_the_field():
    with pytest.raises(ScenarioError) as e:
        solve_decomposed(members(0.6), RobustConfig(mode="cvar", **{"lambda": 1.0}))
    assert e.value.problems[0][0] == "robust.mode"
    with pytest.raises(ScenarioError) as e:
        DecomposeOptions(gap_tol=0.0)
    assert e.value.problems[0][0] == "decompose.gap_tol"
    with pytest.raises(ScenarioError) as e:
        solve_decomposed([])
    assert e.value.problems[0][0] == "members"
