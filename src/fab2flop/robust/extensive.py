"""The extensive form of the robust plan: every member's LP side by side in one LP, tied.

Each member's LP is built by the registered families exactly as a deterministic plan's
(:func:`fab2flop.lp.model.build_lp`, policy hooks included), so everything the
deterministic model knows holds in every future. Their matrices are stacked block-diagonally
(columns of member s after those of members < s) and joined by

- non-anticipativity rows ``x[s, slot] - x[g, slot] = 0`` for every first-stage slot
  (:func:`fab2flop.robust.members.shared_slots`), g the first member sharing it;
- for ``mode: cvar | worst_alpha``, the Rockafellar-Uryasev rows
  ``u[s] - eta + Z[s] >= 0``, ``u[s] >= 0``, ``eta`` free, where ``Z[s]`` is the member's
  discounted compute (the deterministic objective without its spend tie-break).

Objective (maximised, model units):

- expected:    sum_s p_s c_s x_s
- cvar:        sum_s p_s c_s x_s + lambda (eta - 1/alpha sum_s p_s u_s)
- worst_alpha: eta - 1/alpha sum_s p_s u_s + W_EXPECTED sum_s p_s c_s x_s

``eta - 1/alpha sum p u`` at its optimum is the mean compute of the worst alpha of futures,
LTM_alpha(Z) = -CVaR_alpha(-Z); so the cvar objective is E[Z] - lambda CVaR_alpha(Zref - Z)
up to the constant lambda Zref (docs/robust.md). Budget and funding stay each member's own
rows: money committed before the information year is the same in all (it is the shared
builds' capex), money after it follows each future's funding.

The solution is handed to each member's LP (``lp.solution``, duals divided by the
member's probability: per-future shadow prices), so :meth:`Results.from_lp` reads each
future's plan as it reads a deterministic one.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
import xarray as xr

from ..constants import PERIOD, Solver, Status
from ..lp import core
from ..lp.model import LP, Hook, LPOptions, build_lp
from .config import CVAR, EXPECTED, WORST_ALPHA, RobustConfig
from .members import FIRST_STAGE, Member, first_stage_masks

W_EXPECTED = 1e-3  # worst_alpha: weight of the expected compute (breaks ties among plans)


@dataclass
class Subproblem:
    """One member's LP with its first-stage slots and compute measure identified."""

    member: Member
    lp: LP
    # var name -> bool DataArray over the variable's dims: the slot exists in this LP and
    # is decided before the member's future is known (its value is shared)
    first_stage: dict[str, xr.DataArray]
    # Z: discounted installed compute [model units: COMPUTE_SCALE H100e-years], linear
    measure: core.Expression

    @property
    def model(self) -> core.Model:
        return self.lp.model


def measure_expression(lp: LP) -> core.Expression:
    """Discounted installed compute of ``lp`` (the deterministic objective's main term)."""
    net = lp.net
    if lp.compute_expr is None:
        raise ValueError("a robust plan needs at least one accelerator")
    disc = xr.DataArray(net.ds["discount"].values, coords={PERIOD: net.ds.indexes[PERIOD]})
    return (lp.compute_expr * disc * float(net.periods.dt)).sum()


def build_subproblem(
    member: Member,
    hooks: tuple[Hook, ...] = (),
    options: LPOptions | None = None,
    operations: bool = True,
) -> Subproblem:
    """Member ``member``'s LP (the deterministic model of its future, policy hooks and
    ``hooks`` included, objective max discounted compute) with its first-stage slots
    (builds, and with ``operations`` activity and inventory; robust.shared_operations)."""
    from ..policy import policy_hooks

    lp = build_lp(member.network, (*policy_hooks(member.network.scenario), *hooks), options)
    masks = first_stage_masks(member, operations)
    fs = {}
    for name in masks:
        if name in lp.model.variables:
            lab = lp.model.variables[name].dataarray()
            fs[name] = (lab >= 0) & masks[name].reindex_like(lab, fill_value=False)
    return Subproblem(member, lp, fs, measure_expression(lp))


# ---------------------------------------------------------------------- the stacked LP


@dataclass
class Block:
    """A member's matrix in the stacked LP."""

    col0: int  # first column
    row0: int  # first row
    vlabels: np.ndarray  # variable label of each column (labels are the member's columns)
    clabels: np.ndarray  # constraint label of each row
    pos: np.ndarray  # label -> column within the block (-1: absent)
    cost: np.ndarray  # the member's own objective coefficients (max sense)
    measure: tuple[np.ndarray, np.ndarray]  # (columns within block, coefficients) of Z


@dataclass
class ExtensiveModel:
    """The stacked LP in HiGHS form (maximised) and how to read it back."""

    subproblems: list[Subproblem]
    config: RobustConfig
    blocks: list[Block]
    A: sp.csr_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    cost: np.ndarray
    eta_col: int | None = None  # RU threshold (cvar, worst_alpha)
    u_cols: np.ndarray | None = None  # RU excess of each member
    n_ties: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def probabilities(self) -> np.ndarray:
        return np.array([s.member.probability for s in self.subproblems])

    @property
    def shape(self) -> tuple[int, int]:
        return self.A.shape


def _block(sub: Subproblem, col0: int, row0: int) -> tuple[Block, sp.csr_matrix, tuple]:
    m = sub.model
    if m.objective is None or m.objective.sense != "max":
        raise ValueError("robust members must maximise (their objective is compute)")
    M = core.matrices(m)
    vl, cl = np.arange(M.n_columns), np.arange(M.n_rows)
    mv = sub.measure.vars.ravel()
    mc = sub.measure.coeffs.ravel()
    ok = mv >= 0
    blk = Block(col0, row0, vl, cl, vl, M.cost, (mv[ok], mc[ok]))
    A = sp.csr_matrix((M.data, M.indices, M.indptr), shape=(M.n_rows, M.n_columns))
    return blk, A, (M.row_lower, M.row_upper, M.col_lower, M.col_upper)


def _ties(subs: Sequence[Subproblem], blocks: Sequence[Block]) -> list[tuple[int, int]]:
    """Pairs of global columns (x[s], x[g]) that non-anticipativity makes equal."""
    pairs: list[tuple[np.ndarray, np.ndarray]] = []
    for name in FIRST_STAGE:
        if not all(name in s.first_stage for s in subs):
            continue
        mask = np.stack([s.first_stage[name].values for s in subs])  # (S, ...)
        labels = np.stack([s.model.variables[name].labels for s in subs])
        g0 = np.argmax(mask, axis=0)
        for s in range(1, len(subs)):
            sel = mask[s] & (g0 != s)
            if not sel.any():
                continue
            cs = blocks[s].col0 + blocks[s].pos[labels[s][sel]]
            for g in np.unique(g0[sel]):
                part = g0[sel] == g
                lab_g = labels[g][sel][part]
                cg = blocks[g].col0 + blocks[g].pos[lab_g]
                pairs.append((cs[part], cg))
    if not pairs:
        return []
    a = np.concatenate([p[0] for p in pairs])
    b = np.concatenate([p[1] for p in pairs])
    return list(zip(a.tolist(), b.tolist(), strict=True))


def build_extensive_model(
    members: Sequence[Member] | Sequence[Subproblem],
    config: RobustConfig,
    hooks: tuple[Hook, ...] = (),
    options: LPOptions | None = None,
) -> ExtensiveModel:
    """The extensive form over ``members`` (or already built subproblems) for ``config``'s
    mode, alpha and lambda. Probabilities are the members' own (they must sum to 1)."""
    t0 = time.perf_counter()
    ops = config.shared_operations
    subs = [
        m if isinstance(m, Subproblem) else build_subproblem(m, hooks, options, ops)
        for m in members
    ]
    if not subs:
        raise ValueError("a robust plan needs at least one future")
    t1 = time.perf_counter()
    blocks, mats, bounds = [], [], []
    col0 = row0 = 0
    for s in subs:
        blk, A, bd = _block(s, col0, row0)
        blocks.append(blk)
        mats.append(A)
        bounds.append(bd)
        col0 += A.shape[1]
        row0 += A.shape[0]
    p = np.array([s.member.probability for s in subs])
    cost = np.concatenate([pi * b.cost for pi, b in zip(p, blocks, strict=True)])
    A = sp.block_diag(mats, format="csr") if len(mats) > 1 else mats[0].tocsr()
    rl = np.concatenate([b[0] for b in bounds])
    ru = np.concatenate([b[1] for b in bounds])
    cl = np.concatenate([b[2] for b in bounds])
    cu = np.concatenate([b[3] for b in bounds])
    ties = _ties(subs, blocks)
    extra_rows: list[sp.csr_matrix] = []
    if ties:
        t = np.array(ties)
        n = len(t)
        rows = np.repeat(np.arange(n), 2)
        cols = t.ravel()
        vals = np.tile([1.0, -1.0], n)
        extra_rows.append(sp.csr_matrix((vals, (rows, cols)), shape=(n, col0)))
        rl = np.concatenate([rl, np.zeros(n)])
        ru = np.concatenate([ru, np.zeros(n)])
    eta = u = None
    if config.mode in (CVAR, WORST_ALPHA):
        S = len(subs)
        eta, u = col0, col0 + 1 + np.arange(S)
        ncol = col0 + 1 + S
        # rows: Z_s - eta + u_s >= 0
        r: list[Any] = []
        c: list[Any] = []
        v: list[Any] = []
        for i, b in enumerate(blocks):
            cols, coef = b.measure
            r += [np.full(len(cols), i), [i], [i]]
            c += [b.col0 + cols, [eta], [u[i]]]
            v += [coef, [-1.0], [1.0]]
        ru_rows = sp.csr_matrix(
            (np.concatenate(v), (np.concatenate(r), np.concatenate(c))), shape=(S, ncol)
        )
        extra_rows = [sp.hstack([e, sp.csr_matrix((e.shape[0], 1 + S))]) for e in extra_rows]
        A = sp.hstack([A, sp.csr_matrix((A.shape[0], 1 + S))], format="csr")
        extra_rows.append(ru_rows)
        rl = np.concatenate([rl, np.zeros(S)])
        ru = np.concatenate([ru, np.full(S, np.inf)])
        cl = np.concatenate([cl, [-np.inf], np.zeros(S)])
        cu = np.concatenate([cu, [np.inf], np.full(S, np.inf)])
        tail = np.concatenate([[1.0], -p / config.alpha])
        if config.mode == CVAR:
            cost = np.concatenate([cost, config.lambda_ * tail])
        else:
            cost = np.concatenate([W_EXPECTED * cost, tail])
    if extra_rows:
        A = sp.vstack([A, *extra_rows], format="csr")
    timings = {"build_s": t1 - t0, "stack_s": time.perf_counter() - t1}
    return ExtensiveModel(subs, config, blocks, A, rl, ru, cl, cu, cost, eta, u, len(ties), timings)


# ---------------------------------------------------------------------- solve and read back


@dataclass
class ExtensiveSolution:
    """What the solver returned: status, whether a usable plan came with it, values."""

    status: Status
    has_plan: bool  # a primal feasible point came back (optimal, or the best at a limit)
    objective: float | None  # extensive objective [model units]
    x: np.ndarray | None
    row_dual: np.ndarray | None
    seconds: float
    message: str = ""


def _highs_lp(ext: ExtensiveModel):  # noqa: ANN202 - a highspy.HighsLp
    return core.highs_lp(
        ext.A, ext.cost, ext.col_lower, ext.col_upper, ext.row_lower, ext.row_upper, "max"
    )


def solve_extensive(
    ext: ExtensiveModel,
    *,
    time_limit_s: float | None = None,
    method: Solver | str | None = None,
    threads: int | None = None,
    log: bool = False,
    highs_options: dict | None = None,
) -> ExtensiveSolution:
    """Solve the stacked LP with HiGHS. A time limit returns the best primal feasible point
    HiGHS has (``has_plan``) with status ``time_limit``, or no plan when it has none."""
    import highspy

    from ..optimizer import IPM_MIN_VARIABLES

    sc = ext.subproblems[0].member.network.scenario
    h = core.new_highs(bool(log))
    opts: dict[str, Any] = {"time_limit": float(time_limit_s or sc.solver.time_limit_s)}
    meth = Solver(method) if method else sc.solver.method
    lp = _highs_lp(ext)
    if meth is Solver.CHOOSE and lp.num_col_ >= IPM_MIN_VARIABLES:
        meth = Solver.IPM  # as optimize() does (benchmarks/README.md, HiGHS's solvers)
    if meth is Solver.SIMPLEX:
        opts["solver"] = "simplex"
    elif meth is Solver.IPM:
        opts.update(solver="ipm", run_crossover="on")
    elif meth is Solver.PDLP:
        opts["solver"] = "pdlp"
    th = threads or sc.solver.threads
    if th:
        opts["threads"] = int(th)
    opts.update(highs_options or {})
    for k, v in opts.items():
        h.setOptionValue(k, v)
    t0 = time.perf_counter()
    h.passModel(lp)
    h.run()
    secs = time.perf_counter() - t0
    ms = h.getModelStatus()
    info = h.getInfo()
    feasible = int(info.primal_solution_status) == 2  # kSolutionStatusFeasible
    S = highspy.HighsModelStatus
    if ms == S.kOptimal:
        status = Status.OPTIMAL
    elif ms == S.kTimeLimit:
        status = Status.TIME_LIMIT
    elif ms == S.kInfeasible:
        status = Status.INFEASIBLE
    elif ms == S.kUnbounded:
        status = Status.UNBOUNDED
    elif ms == S.kUnboundedOrInfeasible:
        status = Status.INFEASIBLE_OR_UNBOUNDED
    else:
        status = Status.ERROR
    has = status is Status.OPTIMAL or (status is Status.TIME_LIMIT and feasible)
    if not has:
        return ExtensiveSolution(status, False, None, None, None, secs, h.modelStatusToString(ms))
    sol = h.getSolution()
    x = np.asarray(sol.col_value, float)
    dual = np.asarray(sol.row_dual, float) if sol.dual_valid else None
    msg = "optimal" if status.ok else "time limit reached: the best plan found, not proven optimal"
    return ExtensiveSolution(status, True, float(info.objective_function_value), x, dual, secs, msg)


def assign_solution(ext: ExtensiveModel, sol: ExtensiveSolution) -> None:
    """Give each member's LP its part of ``sol`` (``lp.solution``; duals / probability)."""
    if not sol.has_plan or sol.x is None:
        raise ValueError("no plan to assign")
    term = "optimal" if sol.status.ok else "time_limit"
    for sub, blk in zip(ext.subproblems, ext.blocks, strict=True):
        n, nr = len(blk.vlabels), len(blk.clabels)
        xs = sol.x[blk.col0 : blk.col0 + n]
        dual = np.full(nr, np.nan)
        if sol.row_dual is not None:
            p = max(sub.member.probability, 1e-300)
            dual = sol.row_dual[blk.row0 : blk.row0 + nr] / p
        sub.lp.solution = core.Solution(term, float(blk.cost @ xs), xs.copy(), dual)


def member_measures(ext: ExtensiveModel, sol: ExtensiveSolution) -> np.ndarray:
    """Each member's discounted compute Z_s at ``sol`` [model units]."""
    assert sol.x is not None
    out = []
    for blk in ext.blocks:
        cols, coef = blk.measure
        out.append(float(coef @ sol.x[blk.col0 + cols]))
    return np.array(out)


__all__ = [
    "EXPECTED",
    "ExtensiveModel",
    "ExtensiveSolution",
    "Subproblem",
    "W_EXPECTED",
    "assign_solution",
    "build_extensive_model",
    "build_subproblem",
    "measure_expression",
    "member_measures",
    "solve_extensive",
]
