"""The playground's race (fab2flop.web.bases): whichever HiGHS run answers a move, warm from
the previous basis or fresh with presolve on the twin, the answer is the optimum of the LP
at the slider state, the one a cold build-and-solve of that state gives."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from fab2flop.web import bases
from fab2flop.web.session import Levers, Session

from .headline import same_headline

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from web import random_moves  # noqa: E402  (the benchmark's own walk)

NO_LIMIT = 2147483647  # HiGHS's default simplex_iteration_limit (kHighsIInf)


def _cold(state: Levers) -> dict:
    out = Session().solve(state, force_cold=True)
    assert out["mode"] == "cold"
    return out


@pytest.fixture(scope="module")
def session() -> Session:
    s = Session()
    assert s.solve(Levers())["mode"] == "cold"
    assert bases.can_race(s.built[-1].highs)  # the structure's HiGHS object can be stopped
    return s


def test_the_fresh_path_answers_the_optimum_and_hands_its_basis_on(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A warm run that cannot finish (iteration limit 0) leaves the move to the twin; the
    next move starts warm from the twin's optimal basis."""
    b = session.built[-1]
    b.highs.setOptionValue("simplex_iteration_limit", 0)
    try:
        state = Levers(budget_usd=13.6e12, merchant_share=0.4)
        out = session.solve(state)
    finally:
        b.highs.setOptionValue("simplex_iteration_limit", NO_LIMIT)
    assert (out["mode"], out["solved_by"]) == ("warm", bases.FRESH)
    assert b.solved is b.racer.twin
    same_headline(out, _cold(state))
    # a small move from there, the warm run alone (the twin would start after a minute):
    # few iterations from the twin's basis, and again the optimum
    monkeypatch.setattr(b.racer, "delay_s", 60.0)
    state = Levers(budget_usd=13.5e12, merchant_share=0.4)
    out = session.solve(state)
    assert out["solved_by"] == bases.WARM
    assert out["simplex_iterations"] < 200  # the twin's optimum was a near start
    assert b.solved is b.highs
    same_headline(out, _cold(state))


def test_the_warm_path_alone_answers_the_optimum(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The twin held back for a minute: the warm run answers a big budget move on its own
    (hundreds of dual simplex iterations), and its answer is the cold one."""
    b = session.built[-1]
    b.racer = b.racer or bases.make_racer(b.highs)
    monkeypatch.setattr(b.racer, "delay_s", 60.0)
    state = Levers(budget_usd=2.0e12, discount_rate=0.03)
    out = session.solve(state)
    assert out["solved_by"] == bases.WARM
    assert out["simplex_iterations"] > 0
    same_headline(out, _cold(state))


def test_a_sample_of_the_benchmark_moves_equals_cold_solves() -> None:
    """Every move of the benchmark's random walk (seed 0: five sliders, one at a time) is
    raced; every second one of the first 12 is checked against a cold build-and-solve."""
    s = Session()
    s.solve(Levers())
    for i, st in enumerate(random_moves(12, np.random.default_rng(0))):
        out = s.solve(Levers(**st))
        assert out["mode"] == "warm"
        assert out["solved_by"] in (bases.WARM, bases.FRESH, "unchanged")
        if i % 2 == 1:
            same_headline(out, _cold(Levers(**st)))


def test_concurrent_moves_get_their_own_optimum(session: Session) -> None:
    """Two threads moving the shared session at once: each answer is that state's optimum
    (the session's lock serialises the moves; the race's threads are per move)."""
    states = [Levers(budget_usd=3e12), Levers(budget_usd=9e12, us_grid_mw=20_000)]
    want = [_cold(st)["objective_value"] for st in states]
    session.answers.clear()
    got: dict[int, list[float]] = {0: [], 1: []}

    def mover(k: int) -> None:
        for _ in range(3):
            got[k].append(session.solve(states[k])["objective_value"])
            session.answers.clear()  # solve again, not recall

    ts = [threading.Thread(target=mover, args=(k,)) for k in (0, 1)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=600)
    for k in (0, 1):
        assert got[k] == pytest.approx([want[k]] * 3, rel=1e-7)
    # money binds at $3T and not at $9T with a 20 GW grid: the two optima differ
    assert want[0] < want[1]


def test_only_a_stoppable_highs_races() -> None:
    """highspy's Highs class has the interrupt callback the race stops a run with; the bare
    core class has not (an LP layer handing one over gets warm runs alone)."""
    import highspy

    assert bases.can_race(highspy.Highs())
    assert not bases.can_race(highspy._core._Highs())


def test_the_readout_dicts_are_the_report_dicts(session: Session) -> None:
    """The readout's shallow dicts equal ``Bottleneck.to_dict`` and
    ``BottleneckGroup.to_dict`` (dataclasses.asdict) on the same items."""
    from fab2flop.bottlenecks import group_bottlenecks
    from fab2flop.web.session import _fast_bottlenecks, _group_dict, _item_dict

    b = session.built[-1]
    items = _fast_bottlenecks(b, np.asarray(b.solved.getSolution().row_dual))
    assert len(items) > 10
    for x in items:
        assert _item_dict(x) == x.to_dict()
    groups = group_bottlenecks(items, b.lp.registry)
    for g in groups:
        assert _group_dict(g, _item_dict) == g.to_dict()
