"""Scenario decomposition of the robust plan: multi-cut Benders (L-shaped) with a trust region.

The extensive form (:mod:`fab2flop.robust.extensive`) is one LP with every future side by
side; it grows with S. Here each future's LP is its own HiGHS model, kept alive on a Dask
worker (or in this process) between iterations, and only the *shared* first-stage values
``z`` travel: a slot (``new`` or ``deploy`` at one process/accelerator, region, period) that
two or more members decide before they can be told apart (``Subproblem.first_stage``) is a
master variable.

Why Benders and not progressive hedging: PH's subproblems carry a quadratic proximal term, and
HiGHS's QP solver (active set) took 9-18 s on the default scenario's LP with a diagonal
proximal term on its 612 first-stage columns, against 0.06 s for the LP (measured; 150-300x) —
more than the whole extensive form of S = 50. Benders' subproblems are the members' own LPs,
which change only in the right-hand side of the linking rows from one iteration to the next,
so HiGHS's dual simplex restarts from the previous basis (the warm start); it gives a valid
bound at every iteration and ends in finitely many steps on an LP.

Method (maximisation, model units, expected mode):

- member s: ``Q_s(z) = max c_s x - M sum(e+ + e-)`` s.t. its LP rows and, for each linked
  slot j, ``x_j - e+_j + e-_j = z_j`` (elastic, so every z gives a solvable LP; with M above
  every shadow price of a linking row the penalty is exact and e = 0 at the optimum; the
  result reports ``max_elastic``). Q_s is concave in z; the dual ``pi_s`` of the linking
  rows is a supergradient, the cut ``theta_s <= Q_s(z^k) + pi_s (z - z^k)``;
- master: ``max sum_s p_s theta_s`` over the cuts, ``theta_s <= WS_s`` (the member's own
  optimum, iteration 0), z within its columns' bounds and at most CAP_FACTOR = 10 times the
  largest value any member gives the slot on its own (a working assumption that keeps the
  master well scaled: capacity nobody wants alone is not wanted tenfold together; the result
  counts slots at the cap, ``n_at_cap``, which should be 0); solved twice per iteration: without a
  box (its value is the **upper bound** UB) and with the trust region
  ``|z - z_inc| <= delta * scale`` (the next trial point);
- the incumbent z_inc starts at the probability-weighted mean of the members' own optima (the
  consensus of the wait-and-see plans); a trial point becomes the incumbent when it realises at
  least 10% of the predicted gain (then delta doubles if the box was binding), else delta
  halves (down to 1e-3). When the box holds no predicted gain (the incumbent is optimal in
  it), the next trial point is the unboxed master's (a Kelley step, which lowers UB).
  **Lower bound** LB = the best ``sum_s p_s Q_s(z)`` evaluated;
- **convergence**: ``(UB - LB) / |UB| <= gap_tol`` (default 1e-4), or the iteration or
  time limit (checked between iterations; status ``time_limit``: the incumbent plan, marked
  as not proven optimal).

Only ``mode: expected`` is decomposed (cvar / worst_alpha couple the futures through the
threshold eta; use the extensive form for them).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..constants import Status
from .config import EXPECTED, RobustConfig
from .members import FIRST_STAGE, Member

GAP_TOL = 1e-4  # relative gap (UB - LB) / |UB| at which the decomposition stops [1]
PENALTY = 1e3  # M: objective model units per model unit of first-stage mismatch [1]
DELTA0 = 0.25  # initial trust-region half-width, as a share of each slot's scale [1]
CAP_FACTOR = 10.0  # z at most this many times the largest member's own value of the slot [1]
DELTA_MIN = 1e-3  # the trust region shrinks no further [1]
ACCEPT = 0.1  # share of the predicted gain a trial point must realise to be accepted [1]
CUT_ZERO = 1e-7  # cut coefficients below this share of the cut's largest are dropped [1]
SCALE_FLOOR = 1e-3  # smallest slot scale in model units (slots all members leave at 0) [1]


@dataclass(frozen=True)
class DecomposeOptions:
    """Stopping rule and parameters of :func:`solve_decomposed`."""

    gap_tol: float = GAP_TOL
    max_iter: int = 200
    time_limit_s: float = 600.0
    penalty: float = PENALTY
    delta0: float = DELTA0

    def __post_init__(self) -> None:
        from ..errors import ScenarioError

        checks = [
            ("gap_tol", self.gap_tol > 0, "a relative gap > 0"),
            ("max_iter", self.max_iter >= 1, "an iteration count >= 1"),
            ("time_limit_s", self.time_limit_s > 0, "seconds > 0"),
            ("penalty", self.penalty > 0, "a penalty > 0"),
            ("delta0", self.delta0 > 0, "a share > 0"),
        ]
        bad = [(f"decompose.{k}", getattr(self, k), exp) for k, ok, exp in checks if not ok]
        if bad:
            raise ScenarioError(f"decomposition options: {bad[0][0]} must be {bad[0][2]}", bad)


@dataclass
class DecompositionResult:
    """The decomposed robust plan: bounds, first-stage values, history and timings."""

    status: Status  # optimal: gap <= gap_tol; time_limit: limit reached, incumbent returned
    objective: float  # LB: sum_s p_s Q_s(z_inc) [model units, max sense]
    bound: float  # UB: the master's value without trust region [model units]
    gap: float  # (UB - LB) / |UB| [1]
    iterations: int
    z: np.ndarray  # incumbent value of each linked slot [model units]
    slots: list[tuple[str, int]]  # (variable name, flat index over its dims) of each z
    member_values: np.ndarray  # Q_s(z_inc) [model units]
    wait_and_see: np.ndarray  # WS_s, each member's own optimum [model units]
    max_elastic: float  # largest |x_j - z_j| of any member at z_inc [model units]
    n_at_cap: int = 0  # slots whose value sits at the master's cap (the cap may bind: raise it)
    history: list[dict[str, float]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    n_workers: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "iterations": self.iterations,
            "n_linked_slots": len(self.slots),
            "max_elastic": self.max_elastic,
            "n_at_cap": self.n_at_cap,
            "n_workers": self.n_workers,
            "timings": self.timings,
            "history": self.history,
        }


# ---------------------------------------------------------------------- worker side

_STATE: dict[str, dict[int, _Sub]] = {}  # run key -> member index -> live subproblem


@dataclass
class _Sub:
    h: Any  # highspy.Highs holding the member's LP (+ elastic linking rows after _link)
    keys: list[tuple[str, int]]  # first-stage slots present: (variable name, flat index)
    cols: np.ndarray  # HiGHS column of each of ``keys``
    link_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    link_cols: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))


def _highs_of(model: Any) -> Any:
    """A HiGHS model (maximised) of a :mod:`fab2flop.lp.core` model, its columns the
    variable labels."""
    from scipy.sparse import csr_array

    from ..lp import core

    M = core.matrices(model)
    A = csr_array((M.data, M.indices, M.indptr), shape=(M.n_rows, M.n_columns)).tocsc()
    h = core.new_highs(False)
    h.setOptionValue("solver", "simplex")  # warm starts from the previous basis
    lp = core.highs_lp(A, M.cost, M.col_lower, M.col_upper, M.row_lower, M.row_upper, "max")
    h.passModel(lp)
    return h


def _first_stage_columns(sub: Any) -> tuple[list[tuple[str, int]], np.ndarray]:
    """(name, flat index) and HiGHS column of every first-stage slot of a Subproblem."""
    m = sub.model
    keys: list[tuple[str, int]] = []
    cols: list[np.ndarray] = []
    for name in FIRST_STAGE:
        if name not in sub.first_stage:
            continue
        mask = sub.first_stage[name].values.ravel()
        labels = m.variables[name].labels.ravel()
        flat = np.flatnonzero(mask & (labels >= 0))
        keys += [(name, int(i)) for i in flat]
        cols.append(labels[flat])  # a variable's label is its HiGHS column
    return keys, (np.concatenate(cols) if cols else np.zeros(0, np.int64)).astype(np.int32)


def _run(h: Any) -> tuple[str, float]:
    h.run()
    return h.modelStatusToString(h.getModelStatus()), float(h.getInfo().objective_function_value)


def _setup(key: str, items: dict[int, Member]) -> list[dict]:
    """Build, solve and keep each member's LP; return its first-stage slots and own optimum."""
    from .extensive import build_subproblem

    state = _STATE.setdefault(key, {})
    out = []
    for idx, member in items.items():
        t0 = time.perf_counter()
        sub = build_subproblem(member)
        h = _highs_of(sub.model)
        keys, cols = _first_stage_columns(sub)
        t1 = time.perf_counter()
        status, obj = _run(h)
        x = np.asarray(h.getSolution().col_value, float)
        lp = h.getLp()
        state[idx] = _Sub(h, keys, cols)
        out.append(
            {
                "index": idx,
                "keys": keys,
                "x": x[cols],
                "lower": np.asarray(lp.col_lower_)[cols],
                "upper": np.asarray(lp.col_upper_)[cols],
                "status": status,
                "objective": obj,
                "build_s": t1 - t0,
                "solve_s": time.perf_counter() - t1,
            }
        )
        del sub  # the model is not needed any more: HiGHS holds the LP
    return out


def _link(key: str, links: dict[int, np.ndarray], penalty: float) -> None:
    """Add the elastic linking rows ``x_j - e+_j + e-_j = z_j`` for the given positions (into
    the member's first-stage ``keys``) of each member."""
    for idx, where in links.items():
        s = _STATE[key][idx]
        h = s.h
        n = len(where)
        if n == 0:
            continue
        lp = h.getLp()
        c0, r0 = lp.num_col_, lp.num_row_
        inf = np.inf
        h.addCols(
            2 * n,
            np.full(2 * n, -penalty),
            np.zeros(2 * n),
            np.full(2 * n, inf),
            0,
            np.zeros(0, np.int32),
            np.zeros(0, np.int32),
            np.zeros(0),
        )
        cols = s.cols[where]
        idxs = np.stack([cols, c0 + np.arange(n), c0 + n + np.arange(n)], axis=1).ravel()
        vals = np.tile([1.0, -1.0, 1.0], n)
        starts = (3 * np.arange(n)).astype(np.int32)
        h.addRows(n, np.zeros(n), np.zeros(n), 3 * n, starts, idxs.astype(np.int32), vals)
        s.link_rows = (r0 + np.arange(n)).astype(np.int32)
        s.link_cols = cols.astype(np.int32)


def _evaluate(key: str, zs: dict[int, np.ndarray]) -> list[dict]:
    """Q_s(z), the linking rows' duals and the members' first-stage values at z."""
    out = []
    for idx, z in zs.items():
        s = _STATE[key][idx]
        h = s.h
        if len(z):
            h.changeRowsBounds(len(z), s.link_rows, z, z)
        status, obj = _run(h)
        sol = h.getSolution()
        rd = np.asarray(sol.row_dual, float)
        x = np.asarray(sol.col_value, float)
        xl = x[s.link_cols] if len(z) else np.zeros(0)
        out.append(
            {
                "index": idx,
                "status": status,
                "objective": obj,
                "dual": rd[s.link_rows] if len(z) else np.zeros(0),
                "elastic": float(np.max(np.abs(xl - z))) if len(z) else 0.0,
                "iterations": int(h.getInfo().simplex_iteration_count),
            }
        )
    return out


def _drop(key: str) -> None:
    _STATE.pop(key, None)


# ---------------------------------------------------------------------- where members live


class _Pool:
    """Members split across the evaluator's workers (round robin), each task pinned to its
    worker so that the live HiGHS models stay where they were built."""

    def __init__(self, evaluator: Any, n: int) -> None:
        self.client = getattr(evaluator, "client", None)
        self.key = uuid.uuid4().hex
        if self.client is None:
            self.workers: list[str | None] = [None]
        else:
            self.workers = sorted(self.client.scheduler_info()["workers"]) or [None]
        self.home = [i % len(self.workers) for i in range(n)]

    def call(self, fn: Any, per_member: dict[int, Any], *args: Any) -> list[Any]:
        """fn(key, {member: value} of one worker, *args) on every worker; results joined."""
        parts: list[dict[int, Any]] = [{} for _ in self.workers]
        for i, v in per_member.items():
            parts[self.home[i]][i] = v
        if self.client is None:
            return [fn(self.key, parts[0], *args)]
        futs = [
            self.client.submit(
                fn, self.key, p, *args, workers=[w], allow_other_workers=False, pure=False
            )
            for p, w in zip(parts, self.workers, strict=True)
            if p
        ]
        return self.client.gather(futs)

    def close(self) -> None:
        if self.client is None:
            _drop(self.key)
        else:
            self.client.run(_drop, self.key)


# ---------------------------------------------------------------------- the master


class _Master:
    """max sum p theta over cuts, with and without the trust-region box (two HiGHS models)."""

    def __init__(self, p: np.ndarray, ws: np.ndarray, lower: np.ndarray, upper: np.ndarray):
        import highspy

        from ..lp.core import new_highs

        self.S, self.n = len(p), len(lower)
        self.lower, self.upper = lower, upper
        self.models = []
        for _ in range(2):  # [0]: no box (the bound), [1]: boxed (the trial point)
            h = new_highs(False)
            h.setOptionValue("solver", "simplex")
            h.addVars(self.n + self.S, np.r_[lower, np.full(self.S, -np.inf)], np.r_[upper, ws])
            h.changeColsCost(
                self.n + self.S,
                np.arange(self.n + self.S, dtype=np.int32),
                np.r_[np.zeros(self.n), p],
            )
            h.changeObjectiveSense(highspy.ObjSense.kMaximize)
            self.models.append(h)

    def add_cut(self, s: int, cols: np.ndarray, pi: np.ndarray, q: float, z: np.ndarray) -> None:
        """theta_s - pi . z[cols] <= q - pi . z_k[cols]."""
        # coefficients below CUT_ZERO x the largest are dropped (they only spoil the master's
        # conditioning) and the right-hand side raised by the most they could contribute over
        # the master's box, so that the cut stays valid
        keep = np.abs(pi) > CUT_ZERO * max(float(np.max(np.abs(pi), initial=0.0)), 1e-300)
        d = ~keep
        reach = np.maximum(self.upper[cols[d]] - z[cols[d]], z[cols[d]] - self.lower[cols[d]])
        slack = float(np.abs(pi[d]) @ np.nan_to_num(reach, posinf=0.0)) if d.any() else 0.0
        rhs = q - float(pi[keep] @ z[cols[keep]]) + slack
        idx = np.r_[cols[keep], self.n + s].astype(np.int32)
        val = np.r_[-pi[keep], 1.0]
        for h in self.models:
            h.addRow(-np.inf, rhs, len(idx), idx, val)

    def solve(self, box: tuple[np.ndarray, np.ndarray] | None) -> tuple[float, np.ndarray]:
        h = self.models[1 if box is not None else 0]
        if box is not None:
            lo = np.maximum(self.lower, box[0])
            hi = np.minimum(self.upper, box[1])
            h.changeColsBounds(self.n, np.arange(self.n, dtype=np.int32), lo, hi)
        h.clearSolver()  # cold: warm starts after new cuts failed or crawled (measured)
        status, obj = _run(h)
        if status != "Optimal":  # dual simplex lost on nearly parallel cuts: interior point
            h.setOptionValue("solver", "ipm")
            h.setOptionValue("run_crossover", "off")
            h.clearSolver()
            status, obj = _run(h)
            h.setOptionValue("solver", "simplex")
            if int(h.getInfo().primal_solution_status) == 2:  # feasible: z and a value
                status = "Optimal"
        if status != "Optimal":
            raise RuntimeError(f"decomposition master: HiGHS status {status}")
        x = np.asarray(h.getSolution().col_value, float)
        return obj, x[: self.n]


# ---------------------------------------------------------------------- the driver


def _linked_slots(
    setups: list[dict],
) -> tuple[list[tuple[str, int]], dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Slots shared by two or more members; per member, positions into its keys and the
    master index of each."""
    owners: dict[tuple[str, int], list[int]] = {}
    for r in setups:
        for k in r["keys"]:
            owners.setdefault(k, []).append(r["index"])
    slots = sorted(k for k, who in owners.items() if len(who) >= 2)
    j_of = {k: j for j, k in enumerate(slots)}
    where: dict[int, np.ndarray] = {}
    master: dict[int, np.ndarray] = {}
    for r in setups:
        pos = [i for i, k in enumerate(r["keys"]) if k in j_of]
        where[r["index"]] = np.array(pos, dtype=np.int64)
        master[r["index"]] = np.array([j_of[r["keys"][i]] for i in pos], dtype=np.int64)
    return slots, where, master


def _consensus(setups: list[dict], p: np.ndarray, where: dict, master: dict, n: int):
    """Probability-weighted mean of the members' own values per slot, bounds and scale."""
    num, den = np.zeros(n), np.zeros(n)
    lo, hi, scale = np.full(n, -np.inf), np.full(n, np.inf), np.zeros(n)
    for r in setups:
        i, w, j = r["index"], where[r["index"]], master[r["index"]]
        np.add.at(num, j, p[i] * r["x"][w])
        np.add.at(den, j, p[i])
        np.maximum.at(lo, j, r["lower"][w])
        np.minimum.at(hi, j, r["upper"][w])
        np.maximum.at(scale, j, np.abs(r["x"][w]))
    z = np.clip(num / np.maximum(den, 1e-300), lo, hi)
    return z, lo, hi, np.maximum(scale, SCALE_FLOOR)


def solve_decomposed(
    members: Sequence[Member],
    config: RobustConfig | None = None,
    *,
    evaluator: Any | None = None,
    options: DecomposeOptions | None = None,
) -> DecompositionResult:
    """The robust plan over ``members`` (mode expected) by Benders decomposition, the members'
    LPs built, kept and solved on ``evaluator``'s workers (a ``DaskEvaluator`` inside its
    ``with`` block; None or ``SequentialEvaluator``: in this process)."""
    from ..errors import ScenarioError

    opt = options or DecomposeOptions()
    if config is not None and config.mode != EXPECTED:
        raise ScenarioError(
            f"robust.mode {config.mode!r}: decomposition handles mode 'expected' only",
            [("robust.mode", config.mode, "expected (or solve the extensive form)")],
        )
    if not members:
        raise ScenarioError("a robust plan needs at least one future", [("members", 0, ">= 1")])
    t0 = time.perf_counter()
    p = np.array([m.probability for m in members], float)
    pool = _Pool(evaluator, len(members))
    try:
        setups = sorted(
            (r for part in pool.call(_setup, dict(enumerate(members))) for r in part),
            key=lambda r: r["index"],
        )
        bad = [r for r in setups if r["status"] != "Optimal"]
        if bad:
            raise RuntimeError(f"member {members[bad[0]['index']].name}: {bad[0]['status']}")
        t1 = time.perf_counter()
        slots, where, master = _linked_slots(setups)
        pool.call(_link, where, opt.penalty)
        res = _iterate(pool, setups, p, slots, where, master, opt, t0)
        res.timings.update(setup_s=t1 - t0, total_s=time.perf_counter() - t0)
        res.timings["subproblem_build_s"] = float(sum(r["build_s"] for r in setups))
        res.n_workers = len(pool.workers)
        return res
    finally:
        pool.close()


def _gap(ub: float, lb: float) -> float:
    """Relative gap (UB - LB) / |UB| (|UB| floored at 1e-12: an LP worth nothing)."""
    return (ub - lb) / max(abs(ub), 1e-12)


def _iterate(pool, setups, p, slots, where, master, opt, t0) -> DecompositionResult:
    n, S = len(slots), len(p)
    ws = np.array([r["objective"] for r in setups])
    z_inc, lo, hi, scale = _consensus(setups, p, where, master, n)
    cap = np.minimum(hi, np.maximum(lo, 0.0) + CAP_FACTOR * scale)
    mp = _Master(p, ws, lo, cap)
    delta = opt.delta0
    f_inc, q_inc, el_inc = -np.inf, ws.copy(), 0.0
    ub, z, pred = float(p @ ws), z_inc.copy(), np.inf
    history: list[dict[str, float]] = []
    status = Status.TIME_LIMIT
    t_eval = t_master = 0.0
    for k in range(opt.max_iter):
        ta = time.perf_counter()
        evals = [
            r for part in pool.call(_evaluate, {i: z[master[i]] for i in range(S)}) for r in part
        ]
        t_eval += time.perf_counter() - ta
        evals.sort(key=lambda r: r["index"])
        bad = [r for r in evals if r["status"] != "Optimal"]
        if bad:
            raise RuntimeError(f"member {bad[0]['index']} at iteration {k}: {bad[0]['status']}")
        q = np.array([r["objective"] for r in evals])
        f = float(p @ q)
        for r in evals:
            i = r["index"]
            mp.add_cut(i, master[i], r["dual"], r["objective"], z)
        moved = np.max(np.abs(z - z_inc) / scale) if n else 0.0
        if f > f_inc + ACCEPT * max(pred, 0.0) or k == 0:
            if k > 0 and moved >= 0.99 * delta:
                delta *= 2.0
            z_inc, f_inc, q_inc = z.copy(), f, q
            el_inc = max((r["elastic"] for r in evals), default=0.0)
        else:
            delta = max(delta * 0.5, DELTA_MIN)
        tb = time.perf_counter()
        ub, z_ub = mp.solve(None)
        m_box, z = mp.solve((z_inc - delta * scale, z_inc + delta * scale))
        t_master += time.perf_counter() - tb
        pred = m_box - f_inc
        if pred <= 0.5 * opt.gap_tol * max(abs(ub), 1e-12):
            # nothing left to gain in the box (the incumbent is its optimum): cut where the
            # bound is attained instead, so that the bound comes down (a Kelley step)
            z, pred = z_ub, ub - f_inc
        gap = _gap(ub, f_inc)
        history.append(
            {
                "iteration": k,
                "lb": f_inc,
                "ub": ub,
                "gap": gap,
                "delta": delta,
                "seconds": time.perf_counter() - t0,
            }
        )
        if gap <= opt.gap_tol:
            status = Status.OPTIMAL
            break
        if time.perf_counter() - t0 > opt.time_limit_s:
            break
    return DecompositionResult(
        status,
        f_inc,
        ub,
        _gap(ub, f_inc),
        len(history),
        z_inc,
        slots,
        q_inc,
        ws,
        el_inc,
        n_at_cap=int(np.sum((z_inc >= cap * (1 - 1e-9)) & (cap < hi))),
        history=history,
        timings={"evaluate_s": t_eval, "master_s": t_master},
    )


__all__ = ["DecomposeOptions", "DecompositionResult", "GAP_TOL", "solve_decomposed"]
