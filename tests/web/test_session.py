"""The playground's warm re-solve gives what a cold build-and-solve of the same state gives,
and its fast readout says what the ordinary pipeline (``optimize`` → ``Results.summary``)
says."""

from __future__ import annotations

import numpy as np
import pytest

from fab2flop.optimizer import optimize
from fab2flop.web.session import Levers, Session, build_structure, scenario_of, warm_possible

from .headline import same_headline


@pytest.fixture(scope="module")
def session() -> Session:
    s = Session()
    first = s.solve(Levers())
    assert first["mode"] == "cold"
    return s


def test_every_warm_lever_is_learnt_on_the_default(session: Session) -> None:
    b = session.built[0]
    for lever in ("budget_usd", "us_power_mw_per_year", "us_grid_mw", "merchant_share"):
        assert warm_possible(b, b.state.model_copy(update={lever: 0.3}))  # learns it
    # budget -> money arriving in each of the 11 years; power and grid -> the US slot and
    # grid rows of each year; merchant share -> the Nvidia and AMD supply rows of each year
    # (the playground runs the simple market mode, market.mode fixed_share)
    assert set(b.learnt) == {"budget_usd", "us_power_mw_per_year", "us_grid_mw", "merchant_share"}
    assert len(b.learnt["budget_usd"].idx) == 11
    assert len(b.learnt["us_power_mw_per_year"].idx) == 11
    assert len(b.learnt["us_grid_mw"].idx) == 11
    assert len(b.learnt["merchant_share"].idx) == 22
    assert b.cost_by_period is not None  # the discount rate moves costs in place
    assert not warm_possible(b, b.state.model_copy(update={"custom_designs": False}))


MOVES = [
    Levers(budget_usd=2.5e12),
    Levers(us_power_mw_per_year=20_000, us_grid_mw=30_000),
    Levers(us_power_mw_per_year=20_000, us_grid_mw=30_000, budget_usd=3e12),
    Levers(merchant_share=0.6, discount_rate=0.03),
    Levers(discount_rate=0.15, us_grid_mw=0.0),
    Levers(),  # back to the catalog paths
]


@pytest.mark.parametrize("state", MOVES, ids=lambda s: str(s.model_dump(exclude_defaults=True)))
def test_warm_equals_cold(session: Session, state: Levers) -> None:
    session.answers.clear()  # Levers() was the first view: re-solve it, not recall it
    warm = session.solve(state)
    assert warm["mode"] == "warm"
    cold = Session().solve(state, force_cold=True)
    assert cold["mode"] == "cold"
    same_headline(warm, cold)


def test_structural_levers_rebuild(session: Session) -> None:
    out = session.solve(Levers(custom_designs=False))
    assert out["mode"] == "cold"
    out = session.solve(Levers(custom_designs=False, budget_usd=4e12))
    assert out["mode"] == "warm"  # the new structure is kept and moved in place


def test_readout_matches_the_summary() -> None:
    """The fast readout against Results.summary of optimize() on the same scenario: a
    state where money binds (US power and grid opened up), so the binds carry dollars."""
    state = Levers(us_power_mw_per_year=20_000, us_grid_mw=30_000, budget_usd=3e12)
    s = Session()
    s.solve(Levers(us_power_mw_per_year=10_000, us_grid_mw=20_000))
    fast = s.solve(state)
    assert fast["mode"] == "warm"
    ref = optimize(scenario_of(state)).summary()
    assert fast["compute_h100e"] == pytest.approx(ref["compute_h100e"], rel=1e-6)
    assert fast["spend_total_usd"] == pytest.approx(ref["spend_total_usd"], rel=1e-6)
    for cat, v in ref["spend_usd"].items():
        got = sum(fast["spend_by_category_usd"].get(cat, [0.0]))
        assert got == pytest.approx(v, rel=1e-6, abs=1.0), cat
    assert fast["first_binding"]["description"] == ref["first_binding"]["description"]
    got = [g["first"]["description"] for g in fast["binds"]]
    want = [g["first"]["description"] for g in ref["bottleneck_groups"][: len(got)]]
    assert got == want


def test_learnt_rows_are_the_lp_rows() -> None:
    """The learnt right-hand sides reproduce the LP's rows: 3e12 dollars flat would be
    $272.7B a year, but the default's funders have ramps; what must hold is that the money
    rows add up to the budget that arrives inside the horizon (model unit: $1B)."""
    b = build_structure(Levers(budget_usd=3e12))
    lo = np.asarray(b.highs.getLp().row_lower_)
    rows = b.rows_y[:11]
    assert (rows >= 0).all()
    arriving = b.net.ds["funding_usd"].values.sum()
    assert lo[rows].sum() == pytest.approx(arriving / 1e9, rel=1e-12)
    assert arriving <= 3e12 * (1 + 1e-12)


def _key(b) -> tuple:
    return (b.constraint, b.item, b.region, b.period, b.unit, b.description)


def test_fast_report_is_the_bottleneck_report_of_the_same_solution() -> None:
    """The numpy report of a structure (no xarray per move) against fab2flop.bottlenecks read
    from the same HiGHS solution through the solution reader: same items, words and numbers."""
    from fab2flop.bottlenecks import bottlenecks
    from fab2flop.constants import PROCESS
    from fab2flop.results import process_labels
    from fab2flop.solution import read_solution
    from fab2flop.web.session import _fast_bottlenecks

    b = build_structure(Levers(us_power_mw_per_year=20_000, us_grid_mw=30_000, budget_usd=3e12))
    sol = read_solution(b.lp)  # the solved LP, read as Results.from_lp reads it
    sol.coords["process_label"] = (PROCESS, process_labels(b.net))
    ref = bottlenecks(b.net.ds, sol, b.lp.registry)
    fast = _fast_bottlenecks(b, np.asarray(b.highs.getSolution().row_dual))
    assert len(ref) > 20  # money binds here: a real report, dollars included
    assert any(x.value_usd is not None for x in ref)
    assert [_key(x) for x in fast] == [_key(x) for x in ref]
    for f, r in zip(fast, ref, strict=True):
        assert f.shadow_price == pytest.approx(r.shadow_price, rel=1e-12)
        assert f.importance == pytest.approx(r.importance, rel=1e-12, abs=1e-300)
        assert (f.value_usd is None) == (r.value_usd is None)
        if r.value_usd is not None:
            assert f.value_usd == pytest.approx(r.value_usd, rel=1e-12)


def test_fast_report_after_moves_matches_a_cold_run() -> None:
    """After warm moves the right-hand sides come from HiGHS's changed rows: the report
    equals the one of optimize() on the same state (binding items and their importance)."""
    state = Levers(us_power_mw_per_year=20_000, us_grid_mw=30_000, budget_usd=3e12)
    s = Session()
    s.solve(Levers(us_power_mw_per_year=10_000, us_grid_mw=20_000, budget_usd=5e12))
    assert s.solve(state)["mode"] == "warm"
    from fab2flop.web.session import _fast_bottlenecks

    b = s.built[-1]  # its optimum is in b.solved: its own HiGHS object or the racing twin
    fast = _fast_bottlenecks(b, np.asarray(b.solved.getSolution().row_dual))
    ref = optimize(scenario_of(state)).bottlenecks
    top = {_key(x): x for x in ref[:20]}
    got = {_key(x): x for x in fast}
    assert top.keys() <= got.keys()
    for k, r in top.items():
        assert got[k].importance == pytest.approx(r.importance, rel=1e-6)


def test_a_state_answered_before_comes_from_memory() -> None:
    s = Session()
    a = s.solve(Levers(budget_usd=1e12))
    b = s.solve(Levers(budget_usd=1.5e12))
    a["compute_h100e"][-1] = -1.0  # the caller's copy: changing it changes nothing kept
    again = s.solve(Levers(budget_usd=1e12))
    assert (a["mode"], b["mode"], again["mode"]) == ("cold", "warm", "cached")
    assert again["compute_h100e"][-1] > 0
    assert again["objective_value"] == a["objective_value"]
    assert again["objective_value"] < b["objective_value"]  # money binds at $1T: more buys more
    assert s.solve(Levers(budget_usd=1e12), force_cold=True)["mode"] == "cold"


def test_learn_ahead_learns_every_warm_lever_after_a_cold_build() -> None:
    from fab2flop.web.session import WARM_LEVERS

    s = Session(learn_ahead=True)
    out = s.solve(Levers())
    assert out["mode"] == "cold" and out["cpu_ms"] > 0
    assert s.learner is not None
    s.learner.join(timeout=300)
    with s.lock:
        b = s.built[-1]
        assert b.tried == set(WARM_LEVERS)
        assert {"budget_usd", "us_power_mw_per_year"} <= set(b.learnt)
    moved = s.solve(Levers(budget_usd=3e12))
    assert moved["mode"] == "warm"
    assert moved["objective_value"] == pytest.approx(
        Session().solve(Levers(budget_usd=3e12))["objective_value"], rel=1e-7
    )
