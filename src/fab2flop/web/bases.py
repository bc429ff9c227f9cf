"""A warm move that is never slower than a fresh solve: two HiGHS runs race.

The playground keeps one solved LP per structure and moves its right-hand sides and costs in
place (:mod:`fab2flop.web.session`). Simplex from the previous basis is fast after a small
move (tens of iterations), but a big one (the budget from $2T to $14T) takes one to three
thousand dual simplex iterations on the full LP, 0.2 ms each here: 0.3-1.5 s, longer than
solving the same LP from nothing, where HiGHS's presolve first shrinks it from 2,675 rows
to ~550 and simplex on that takes ~70-100 ms whatever the move.

So each move runs both at once on the machine's two cores: the structure's own
``highspy.Highs`` object from its basis (*warm*), and a twin holding the same LP, cleared
and solved from scratch with presolve (*fresh*). The first to reach an optimum answers;
the other is told to stop (HiGHS's simplex interrupt callback) and joined before either
object is used again. Both answers are optima of the same LP (the one the session's rows
and costs describe), so which one wins changes the time, not the answer beyond solver
tolerance (tests/web/test_session.py). When fresh wins, the warm object takes the fresh
optimal basis before its next run.

Measured on the 200-move benchmark (benchmarks/web.py): see docs/web.md.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

WARM, FRESH = "warm basis", "fresh presolve"
PRIMAL = 4  # HiGHS simplex_strategy: primal simplex (after presolve: ~30% faster here)
# the fresh solve starts only if the warm run has not finished by then: small moves (a third
# of the benchmark's, under 20 iterations) then cost no second core and leave no loser to join
FRESH_DELAY_S = 0.010
_COPIED_OPTIONS = ("time_limit", "primal_feasibility_tolerance", "dual_feasibility_tolerance")


@dataclass
class Racer:
    """The race's state of one structure: the fresh twin and who won last."""

    twin: Any  # highspy.Highs with the structure's LP
    stops: dict[int, threading.Event] = field(default_factory=dict)  # id(Highs) -> stop flag
    pending: threading.Thread | None = None  # a stopped loser still winding down
    delay_s: float = FRESH_DELAY_S  # the fresh solve starts this late (see FRESH_DELAY_S)
    # CPU time of each run of the last race [ms] (the fresh one: None if it never started)
    cpu_ms: dict[str, float | None] = field(default_factory=dict)

    def settle(self) -> None:
        """Wait for the last race's loser (both objects are free afterwards)."""
        if self.pending is not None:
            self.pending.join()
            self.pending = None


def _stoppable(h: Any, stops: dict[int, threading.Event]) -> threading.Event:
    """A stop flag that HiGHS's simplex checks through its interrupt callback."""
    ev = stops.get(id(h))
    if ev is None:
        ev = stops[id(h)] = threading.Event()

        def check(e: Any, ev: threading.Event = ev) -> None:
            # set either way: HiGHS keeps the flag of the last call, run after run
            e.interrupt(ev.is_set())

        h.cbSimplexInterrupt.subscribe(check)
    return ev


def can_race(h: Any) -> bool:
    """Whether ``h`` can be stopped mid-run: highspy's ``Highs`` class has the callbacks (a
    bare ``highspy._core._Highs`` has not; then the warm run goes alone)."""
    return hasattr(h, "cbSimplexInterrupt")


def make_racer(warm: Any) -> Racer:
    """A twin of ``warm`` (the same LP as it stands now, its tolerances and time limit),
    solved with presolve and primal simplex."""
    import highspy

    twin = highspy.Highs()
    twin.setOptionValue("output_flag", False)
    for name in _COPIED_OPTIONS:
        twin.setOptionValue(name, warm.getOptionValue(name)[1])
    twin.setOptionValue("solver", "simplex")
    twin.setOptionValue("presolve", "on")
    twin.setOptionValue("simplex_strategy", PRIMAL)
    twin.passModel(warm.getLp())
    return Racer(twin)


def _optimal(h: Any) -> bool:
    return h.getModelStatus() == h.getModelStatus().__class__.kOptimal


def race(r: Racer, warm: Any) -> tuple[Any, str]:
    """Solve the current LP with ``warm`` (from its basis, in this thread) and ``r.twin``
    (from scratch, in another thread, unless the warm optimum came within ``r.delay_s``);
    return the object holding the first optimum and how it was found. When neither is
    optimal the warm object is returned."""
    r.settle()
    twin = r.twin
    stop_w, stop_t = _stoppable(warm, r.stops), _stoppable(twin, r.stops)
    stop_w.clear()
    stop_t.clear()

    warm_done, warm_ok = threading.Event(), threading.Event()

    cpu: dict[str, float | None] = {WARM: None, FRESH: None}
    r.cpu_ms = cpu

    def fresh() -> None:
        if warm_done.wait(r.delay_s) and warm_ok.is_set():
            return  # the warm optimum came before the fresh solve would have started
        c0 = time.thread_time()
        twin.clearSolver()  # no basis: presolve, simplex, postsolve
        twin.run()
        cpu[FRESH] = (time.thread_time() - c0) * 1e3
        if _optimal(twin):
            stop_w.set()  # the warm run stops at its next simplex iteration

    # not a daemon: at exit Python joins it (a HiGHS run cut off by exit aborts the process)
    th = threading.Thread(target=fresh, name="fab2flop-fresh")
    th.start()
    c0 = time.thread_time()
    warm.run()
    cpu[WARM] = (time.thread_time() - c0) * 1e3
    if _optimal(warm):
        warm_ok.set()
    warm_done.set()
    if warm_ok.is_set():
        stop_t.set()
        r.pending = th  # joined before the twin is used again
        return warm, WARM
    th.join()
    if _optimal(twin):
        warm.setBasis(twin.getBasis())  # the next warm run starts from this optimum
        return twin, FRESH
    return warm, WARM
