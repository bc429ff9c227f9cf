"""The robust plan on the two-fab hedge network (tests/robust/hedge.py), worked by hand.

Per dollar of 2025 money, a unit/year of TW fab capacity costs $5,000 and a US one
$10,000 (at most 600 opened). $10M buys 2,000 TW units or 1,000 US units (600 at most).
Z = installed X in 2026 (nothing opens in 2025; no discounting): calm Z = k_TW + k_US,
blockade Z = k_US.
"""

from __future__ import annotations

import numpy as np
import pytest

from fab2flop.optimizer import optimize
from fab2flop.robust.config import RobustConfig
from fab2flop.robust.evaluate import lower_tail_mean, plan_of_members
from fab2flop.robust.extensive import (
    assign_solution,
    build_extensive_model,
    member_measures,
    solve_extensive,
)
from fab2flop.robust.members import Member
from fab2flop.robust.run import robust_from_members

from .hedge import blockaded, hedge_network, members

TOL = 1e-6  # relative, on numbers of order 1e3


def solve(ms: list[Member], **cfg: float | str):
    ext = build_extensive_model(ms, RobustConfig(**cfg))
    sol = solve_extensive(ext)
    assert sol.status.ok
    assign_solution(ext, sol)
    return ext, sol


def fabs(ext) -> tuple[float, float]:
    """(k_TW, k_US) opening in 2026 on the nominal path [units/year]."""
    new = plan_of_members("r", ext).new.sel(period=2026)
    return float(new.sel(process="fab_TW", region="TW")), float(
        new.sel(process="fab_US", region="US")
    )


def test_one_future_is_the_deterministic_plan():
    # one future, probability 1: the extensive form is the deterministic LP itself.
    # All $10M into TW: 10e6 / 5,000 = 2,000 units/year, Z = 2,000.
    net = hedge_network()
    ext, sol = solve([Member("only", 1.0, net, 2)])
    det = optimize(net)
    k_tw, k_us = fabs(ext)
    assert k_tw == pytest.approx(2000.0, rel=TOL) and k_us == pytest.approx(0.0, abs=1e-6)
    d_new = det.dataset["new_capacity"].fillna(0.0)
    r_new = plan_of_members("r", ext).new.fillna(0.0)
    np.testing.assert_allclose(r_new.values, d_new.values, atol=1e-6)
    z = member_measures(ext, sol) * ext.subproblems[0].lp.scaling.compute
    assert z[0] == pytest.approx(2000.0, rel=TOL)
    assert sol.objective == pytest.approx(det.objective_value, rel=1e-9)


def test_expected_mode_does_not_hedge_a_30_percent_blockade():
    # E[Z] = 0.7 k_TW + k_US: per dollar TW gives 0.7 / 5,000 = 1.4e-4, US 1 / 10,000 =
    # 1e-4, so all in TW (the deterministic plan): 2,000 TW, 0 US.
    ext, _ = solve(members(0.3), mode="expected")
    k_tw, k_us = fabs(ext)
    assert k_tw == pytest.approx(2000.0, rel=TOL) and k_us == pytest.approx(0.0, abs=1e-6)


def test_expected_mode_hedges_a_60_percent_blockade():
    # E[Z] = 0.4 k_TW + k_US: TW 0.4 / 5,000 = 0.8e-4 per dollar < US 1e-4, so US first up
    # to its cap (600 units, $6M), the remaining $4M in TW (800 units).
    ext, sol = solve(members(0.6), mode="expected")
    k_tw, k_us = fabs(ext)
    assert k_us == pytest.approx(600.0, rel=TOL) and k_tw == pytest.approx(800.0, rel=TOL)
    z = member_measures(ext, sol) * ext.subproblems[0].lp.scaling.compute
    np.testing.assert_allclose(z, [1400.0, 600.0], rtol=TOL)  # calm 800+600, blockade 600


def test_non_anticipativity_ties_the_2025_decisions():
    # both futures build the same fabs (decided in 2025): the blockade member cannot put
    # everything in the US knowing its future, nor the calm one everything in TW.
    ext, _ = solve(members(0.6), mode="expected")
    a, b = (s.lp.solution.primal(s.model.variables["new"]) for s in ext.subproblems)
    np.testing.assert_allclose(np.nan_to_num(a), np.nan_to_num(b), atol=1e-9)
    # rows tying the blockade member to the calm one, all decided in 2025: openings of
    # fab_TW and fab_US in 2026 and of the data center in 2025 (3), X deployed in 2025 (1),
    # 2025 activity of both fabs, the data center and the grid (4), X carried out of 2025 (1)
    assert ext.n_ties == 9
    ext, _ = solve(members(0.6), mode="expected", shared_operations=False)
    assert ext.n_ties == 4  # builds and deployments only


def test_cvar_mode_hedges_a_30_percent_blockade():
    # lambda = 1, alpha = 0.3: LTM_0.3(Z) = Z_blockade = k_US (the blockade has mass 0.3).
    # E[Z] + LTM = 0.7 k_TW + k_US + k_US: TW 0.7 / 5,000 = 1.4e-4 per dollar < US
    # 2 / 10,000 = 2e-4: US to its cap (600, $6M), then TW with $4M (800).
    ext, _ = solve(members(0.3), mode="cvar", alpha=0.3, **{"lambda": 1.0})
    k_tw, k_us = fabs(ext)
    assert k_us == pytest.approx(600.0, rel=TOL) and k_tw == pytest.approx(800.0, rel=TOL)


def test_cvar_below_the_break_even_lambda_keeps_the_deterministic_plan():
    # 0.7 / 5,000 = 1.4e-4 vs (1 + lambda) / 10,000: US wins only for lambda > 0.4.
    ext, _ = solve(members(0.3), mode="cvar", alpha=0.3, **{"lambda": 0.3})
    k_tw, k_us = fabs(ext)
    assert k_tw == pytest.approx(2000.0, rel=TOL) and k_us == pytest.approx(0.0, abs=1e-6)


def test_worst_alpha_mode_maximises_the_blockade_compute():
    # LTM_0.3(Z) = k_US dominates: US to its cap (600); the 1e-3 x E[Z] tie-break then
    # spends the rest in TW (800), which raises the calm compute only.
    ext, sol = solve(members(0.3), mode="worst_alpha", alpha=0.3)
    k_tw, k_us = fabs(ext)
    assert k_us == pytest.approx(600.0, rel=TOL) and k_tw == pytest.approx(800.0, rel=TOL)
    z = member_measures(ext, sol) * ext.subproblems[0].lp.scaling.compute
    assert lower_tail_mean(z, np.array([0.7, 0.3]), 0.3) == pytest.approx(600.0, rel=TOL)


def test_information_at_the_start_is_wait_and_see():
    # every future known from 2025 (info period 0): nothing is shared, each future does its
    # own best: calm 2,000 TW (Z 2,000); blockade 600 US, and TW is useless (Z 600).
    ms = members(0.3, info_period_blockade=0)
    ms[0] = Member("calm", 0.7, ms[0].network, 0)
    ext, sol = solve(ms, mode="expected")
    assert ext.n_ties == 0
    z = member_measures(ext, sol) * ext.subproblems[0].lp.scaling.compute
    np.testing.assert_allclose(z, [2000.0, 600.0], rtol=TOL)


def board(q: float, **cfg):
    ms = members(q)
    net = ms[0].network
    return robust_from_members(
        ms,
        RobustConfig(**cfg),
        det_scenario=net,
        nominal=lambda: ms[0],
        held_out=lambda: [Member("h_calm", 0.5, net, 2), Member("h_block", 0.5, blockaded(net), 1)],
        target_years=[2026],
    )


def test_board_numbers_expected_mode_q60():
    # robust plan (TW 800, US 600): calm 1,400, blockade 600; deterministic (TW 2,000):
    # calm 2,000, blockade 0; foresight: calm 2,000, blockade 600 (US at its cap).
    res = board(0.6, mode="expected")
    j = res.to_json()
    assert j["status"] == "optimal"
    # in sample (p = 0.4 calm, 0.6 blockade): RP = 0.4*1400 + 0.6*600 = 920;
    # EEV = 0.4*2000 = 800; WS = 0.4*2000 + 0.6*600 = 1160
    assert j["rp_in_sample"] == pytest.approx(920.0, rel=TOL)
    assert j["vss_in_sample"] == pytest.approx(120.0, rel=TOL)
    assert j["evpi_in_sample"] == pytest.approx(240.0, rel=TOL)
    # held out (0.5 / 0.5): RP = 1000, EEV = 1000, WS = 1300: VSS 0, EVPI 300
    assert j["vss"] == pytest.approx(0.0, abs=1e-6)
    assert j["evpi"] == pytest.approx(300.0, rel=TOL)
    e = j["expected_h100e"]
    assert e["robust"]["2026"] == pytest.approx(1000.0, rel=TOL)
    assert e["deterministic"]["2026"] == pytest.approx(1000.0, rel=TOL)
    assert j["worst_h100e"]["robust"]["2026"] == pytest.approx(600.0, rel=TOL)
    assert j["worst_h100e"]["deterministic"]["2026"] == pytest.approx(0.0, abs=1e-6)
    # price of resilience: nominal (calm) 2,000 - 1,400 = 600 H100e in 2026;
    # H100e-years: 2025 has none, so also 600
    assert j["price_of_resilience_h100e"] == pytest.approx(600.0, rel=TOL)
    assert j["price_of_resilience_h100e_years"] == pytest.approx(600.0, rel=TOL)
    diff = {(d["process"], d["region"], d["period"]): d["value"] for d in j["build_difference"]}
    # capacity standing in 2026: TW 800 - 2000 = -1200, US 600 - 0 = +600 (stage fabs)
    assert diff[("fab_TW", "TW", "2026")] == pytest.approx(-1200.0, rel=TOL)
    assert diff[("fab_US", "US", "2026")] == pytest.approx(600.0, rel=TOL)
    assert {d["stage"] for d in j["build_difference"]} == {"fabs"}
    # nothing can be carried: X is made from 2026, the last period (nothing beyond it)
    assert j["inventory_difference"] == []
    # held-out futures listed with their outcomes: calm 1,400 / 2,000 / 2,000, blockade
    # 600 / 0 / 600 (robust / deterministic / foresight)
    ho = {f["future"]: f["discounted_h100e_years"] for f in j["held_out_futures"]}
    assert ho["h_block"]["robust"] == pytest.approx(600.0, rel=TOL)
    assert ho["h_block"]["deterministic"] == pytest.approx(0.0, abs=1e-6)
    assert ho["h_calm"]["foresight"] == pytest.approx(2000.0, rel=TOL)
    # VSS >= 0 and EVPI >= 0 (in sample by construction; held out on this instance)
    for key in ("vss_in_sample", "evpi_in_sample", "evpi"):
        assert j[key] >= -1e-6, key


def test_board_numbers_cvar_mode_q30():
    # robust = (TW 800, US 600) as above; V = E[Z] - lambda (Zref - LTM_0.3(Z)), Zref = the
    # deterministic plan's nominal Z = 2,000.
    # in sample (0.7 calm, 0.3 blockade): robust E = 0.7*1400 + 0.3*600 = 1160, LTM = 600:
    #   RP = 1160 - (2000 - 600) = -240; det E = 1400, LTM = 0: EEV = 1400 - 2000 = -600;
    #   WS: E = 0.7*2000 + 0.3*600 = 1580, LTM = 600: 1580 - 1400 = 180.
    #   VSS = -240 + 600 = 360; EVPI = 180 + 240 = 420.
    res = board(0.3, mode="cvar", alpha=0.3, **{"lambda": 1.0})
    j = res.to_json()
    assert j["rp_in_sample"] == pytest.approx(-240.0, rel=TOL)
    assert j["vss_in_sample"] == pytest.approx(360.0, rel=TOL)
    assert j["evpi_in_sample"] == pytest.approx(420.0, rel=TOL)
    # held out (0.5 / 0.5), LTM_0.3 = the blockade's: robust E 1000, LTM 600: -400;
    # det E 1000, LTM 0: -1000; WS E 1300, LTM 600: -100. VSS 600, EVPI 300.
    assert j["vss"] == pytest.approx(600.0, rel=TOL)
    assert j["evpi"] == pytest.approx(300.0, rel=TOL)
    assert j["cvar_h100e"]["robust"]["2026"] == pytest.approx(600.0, rel=TOL)
    assert j["cvar_h100e"]["deterministic"]["2026"] == pytest.approx(0.0, abs=1e-6)
    assert j["evaluation_failures"] == []


def test_board_numbers_worst_alpha_q50():
    # alpha = 0.5 = the blockade's mass: V = LTM_0.5(Z) = Z_blockade. Robust (TW 800, US 600)
    # 600; deterministic 0; foresight 600 (the blockade future cannot beat the US cap).
    # In sample and held out (both 0.5 / 0.5): VSS = 600 - 0 = 600, EVPI = 600 - 600 = 0.
    j = board(0.5, mode="worst_alpha", alpha=0.5).to_json()
    assert j["vss_in_sample"] == pytest.approx(600.0, rel=TOL)
    assert j["evpi_in_sample"] == pytest.approx(0.0, abs=1e-6)
    assert j["vss"] == pytest.approx(600.0, rel=TOL)
    assert j["evpi"] == pytest.approx(0.0, abs=1e-6)


def test_time_limit_without_a_point_returns_the_deterministic_commitments_marked():
    # HiGHS stops at once (1e-9 s) with no feasible point: the run says time_limit and
    # returns the deterministic plan's commitments with recourse (TW 2,000), marked as
    # not optimised. In sample (q = 0.6) RP = EEV = 0.4 * 2000 = 800: VSS 0.
    ms = members(0.6)
    net = ms[0].network
    res = robust_from_members(
        ms,
        RobustConfig(),
        det_scenario=net,
        nominal=lambda: ms[0],
        held_out=lambda: ms,
        target_years=[2026],
        time_limit_s=1e-9,
    )
    j = res.to_json()
    assert j["status"] == "time_limit" and j["best_plan_not_proven_optimal"] is True
    assert "time limit" in j["message"] and "not optimised" in j["message"]
    assert res.has_plan
    new = res.plans["robust"].new.sel(period=2026)
    assert float(new.sel(process="fab_TW", region="TW")) == pytest.approx(2000.0, rel=TOL)
    assert j["rp_in_sample"] == pytest.approx(800.0, rel=TOL)
    assert j["vss_in_sample"] == pytest.approx(0.0, abs=1e-6)
