"""Plans judged on futures: fix what a plan committed before each future became known,
re-optimise the rest (the recourse), and read the compute it gets.

A *plan* is its first-stage decisions in natural units: capacity opening (``new``) and
accelerators deployed (``deploy``), NaN where it commits to nothing (a robust plan has no
nominal-path value for a slot no optimised future left undecided). In future ``f`` the
slots decided before ``f.info_period`` (:func:`fab2flop.robust.members.decision_periods`)
are fixed to the plan's values, clipped to the future's bounds; everything else (later
builds, activity, inventory, money) is optimised for ``f``'s own discounted compute. The
wait-and-see ``foresight`` row optimises ``f`` with nothing fixed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from ..constants import PERIOD, Status
from .members import FIRST_STAGE, Member, decision_periods

FORESIGHT = "foresight"  # the wait-and-see "plan": each future optimised knowing it
FUTURE = "future"
PLAN = "plan"


@dataclass(frozen=True)
class Plan:
    """First-stage decisions: ``new`` (process, region, period) [activity unit of capacity
    opening] and ``deploy`` (accelerator, region, period) [units]; NaN: not committed."""

    name: str
    new: xr.DataArray
    deploy: xr.DataArray

    def values(self, name: str) -> xr.DataArray:
        return self.new if name == "new" else self.deploy


def _natural(lp: Any, name: str) -> xr.DataArray:
    var = lp.model.variables[name]
    scale = lp.scaling.process if name == "new" else lp.scaling.accelerator
    return (var.solution * scale[:, None, None]).where(var.labels >= 0, 0.0)


def plan_of_results(name: str, res: Any) -> Plan:
    """A deterministic plan (a solved :class:`~fab2flop.results.Results`): every slot."""
    ds = res.dataset
    return Plan(name, ds["new_capacity"].fillna(0.0).load(), ds["deployed"].fillna(0.0).load())


def plan_of_members(name: str, ext: Any) -> Plan:
    """The nominal-path first-stage decisions of a solved extensive form: for each slot, the
    value shared by the members that could not tell their futures apart when it was
    decided (the first of them); NaN where every member already knew its future."""
    subs = ext.subproblems
    out = {}
    for var in FIRST_STAGE:
        vals = np.stack([_natural(s.lp, var).values for s in subs])
        mask = np.stack([s.first_stage[var].values for s in subs])
        g0 = np.argmax(mask, axis=0)
        pick = np.take_along_axis(vals, g0[None], 0)[0]
        like = subs[0].first_stage[var]
        out[var] = xr.DataArray(np.where(mask.any(0), pick, np.nan), coords=like.coords)
    return Plan(name, out["new"], out["deploy"])


def commit_hook(plan: Plan, member: Member) -> Callable[[Any], None]:
    """LP hook: the plan's slots decided before ``member.info_period`` fixed (clipped to
    the future's bounds; a slot the future does not have is dropped)."""
    dec = decision_periods(member.network)

    def hook(lp: Any) -> None:
        for name in FIRST_STAGE:
            if name not in lp.model.variables:
                continue
            var = lp.model.variables[name]
            labels = var.labels
            val = plan.values(name).reindex_like(labels).transpose(*labels.dims).values
            when = dec[name].reindex_like(labels).transpose(*labels.dims).values
            fix = (when < member.info_period) & np.isfinite(val) & (labels.values >= 0)
            scale = lp.scaling.process if name == "new" else lp.scaling.accelerator
            x = np.where(fix, np.nan_to_num(val), 0.0) / scale[:, None, None]
            lo, hi = var.lower.values, var.upper.values
            xv = np.clip(x, lo, hi)
            var.update(
                lower=xr.DataArray(np.where(fix, xv, lo), coords=labels.coords, dims=labels.dims),
                upper=xr.DataArray(np.where(fix, xv, hi), coords=labels.coords, dims=labels.dims),
            )

    return hook


@dataclass(frozen=True)
class EvalTask:
    """One (plan, future) re-optimisation: plain data for an evaluator."""

    plan: Plan | None  # None: foresight
    member: Member
    keep: bool = False  # return the Results too


def discounted_h100e_years(net: Any, compute_h100e: np.ndarray) -> float:
    """Discounted installed compute [H100e-years] (the deterministic objective's measure)."""
    disc = net.ds["discount"].values
    return float((np.asarray(compute_h100e) * disc).sum() * float(net.periods.dt))


def _solve_compute(net: Any, hooks: tuple) -> tuple[str, str, np.ndarray | None]:
    """Build and solve ``net``'s LP with ``hooks``; (status, message, compute_h100e by
    period). Reads only the compute, not the whole results Dataset (evaluation is many
    solves)."""
    from ..lp.model import build_lp
    from ..optimizer import _absorb_highs_banner, _highs_options, _quiet_linopy, _status
    from ..policy import policy_hooks

    _quiet_linopy()
    lp = build_lp(net, (*policy_hooks(net.scenario), *hooks))
    if not net.scenario.solver.log:
        _absorb_highs_banner()
    try:
        st, term = lp.model.solve(
            solver_name="highs", io_api="direct", **_highs_options(net.scenario, None)
        )
    except Exception as exc:  # the solver itself failed: a status, not a traceback
        return Status.ERROR.value, f"solver error: {exc}", None
    status = _status(st, term)
    if not status.ok or lp.compute_expr is None:
        return status.value, str(term), None
    comp = lp.compute_expr.solution.values.astype(float) * lp.scaling.compute
    return status.value, "optimal", np.where(np.abs(comp) < 1e-6, 0.0, comp)


def solve_task(task: EvalTask) -> dict[str, Any]:
    """Optimise one future with one plan's commitments fixed; a row, never an exception."""
    from ..optimizer import optimize

    t0 = time.perf_counter()
    hooks = () if task.plan is None else (commit_hook(task.plan, task.member),)
    net = task.member.network
    row: dict[str, Any] = {}
    if task.keep:
        res = optimize(net, hooks=hooks)
        row.update(status=res.status.value, message=res.message, results=res)
        comp = res.dataset["compute_h100e"].values.astype(float) if res.status.ok else None
    else:
        status, message, comp = _solve_compute(net, hooks)
        row.update(status=status, message=message)
    if comp is not None:
        row.update(compute_h100e=comp, discounted=discounted_h100e_years(net, comp))
    row["seconds"] = time.perf_counter() - t0
    return row


@dataclass
class Evaluation:
    """Plans x futures: ``dataset`` with compute_h100e (plan, future, period),
    discounted_h100e_years (plan, future), status (plan, future), probability (future);
    ``results[(plan, future)]`` when kept."""

    dataset: xr.Dataset
    results: dict[tuple[str, str], Any] = field(default_factory=dict)
    seconds: float = 0.0

    def ok(self, plan: str) -> np.ndarray:
        return self.dataset["status"].sel({PLAN: plan}).values == Status.OPTIMAL.value


def evaluate_plans(
    plans: Mapping[str, Plan],
    futures: Sequence[Member],
    *,
    foresight: bool = True,
    evaluator: Any | None = None,
    keep_results: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Evaluation:
    """Each plan (and, with ``foresight``, the wait-and-see optimum) on each future.

    ``evaluator``: an entered evaluator of :mod:`fab2flop.risk.evaluators` (its ``map``);
    sequential when None."""
    t0 = time.perf_counter()
    names = [*plans, *([FORESIGHT] if foresight else [])]
    tasks = [
        EvalTask(plans.get(n) if n != FORESIGHT else None, f, keep_results)
        for n in names
        for f in futures
    ]
    if evaluator is None:
        rows = []
        for i, t in enumerate(tasks):
            rows.append(solve_task(t))
            if progress:
                progress(i + 1, len(tasks))
    else:
        mapped = evaluator.map(solve_task, tasks, progress=progress)
        rows = [
            r if r is not None else {"status": Status.ERROR.value, "message": "failed"}
            for r in mapped.values
        ]
    T = futures[0].network.ds.sizes[PERIOD]
    P, F = len(names), len(futures)
    comp = np.full((P, F, T), np.nan)
    disc = np.full((P, F), np.nan)
    status = np.empty((P, F), dtype=object)
    kept: dict[tuple[str, str], Any] = {}
    for k, row in enumerate(rows):
        i, j = divmod(k, F)
        status[i, j] = row["status"]
        if "compute_h100e" in row:
            comp[i, j], disc[i, j] = row["compute_h100e"], row["discounted"]
        if "results" in row:
            kept[(names[i], futures[j].name)] = row["results"]
    ds = xr.Dataset(
        {
            "compute_h100e": ((PLAN, FUTURE, PERIOD), comp, {"units": "H100e"}),
            "discounted_h100e_years": ((PLAN, FUTURE), disc, {"units": "H100e-years"}),
            "status": ((PLAN, FUTURE), status.astype(str)),
            "probability": (FUTURE, np.array([f.probability for f in futures]), {"units": "1"}),
            "info_period": (FUTURE, np.array([f.info_period for f in futures])),
            "events": (FUTURE, np.array([",".join(f.events) for f in futures], dtype=str)),
        },
        coords={
            PLAN: names,
            FUTURE: [f.name for f in futures],
            PERIOD: futures[0].network.ds.indexes[PERIOD],
        },
    )
    return Evaluation(ds, kept, time.perf_counter() - t0)


# ---------------------------------------------------------------------- risk measures


def lower_tail_mean(values: np.ndarray, probs: np.ndarray, alpha: float) -> float:
    """LTM_alpha: the probability-weighted mean of the worst ``alpha`` of outcomes (the last
    one counted in part), = -CVaR_alpha(-values), the value of the Rockafellar-Uryasev LP.
    Of 1..4 with probability 1/4 each at alpha = 0.5: (1 + 2) / 2 = 1.5."""
    v = np.asarray(values, float)
    p = np.asarray(probs, float)
    ok = np.isfinite(v)
    v, p = v[ok], p[ok]
    if len(v) == 0:
        return float("nan")
    p = p / p.sum()
    order = np.argsort(v, kind="stable")
    v, p = v[order], p[order]
    before = np.concatenate([[0.0], np.cumsum(p)[:-1]])
    w = np.clip(np.minimum(p, alpha - before), 0.0, None)
    return float((w * v).sum() / alpha)


def expected(values: np.ndarray, probs: np.ndarray) -> float:
    v = np.asarray(values, float)
    p = np.asarray(probs, float)
    ok = np.isfinite(v)
    return float((v[ok] * p[ok]).sum() / p[ok].sum()) if ok.any() else float("nan")


__all__ = [
    "FORESIGHT",
    "EvalTask",
    "Evaluation",
    "Plan",
    "commit_hook",
    "discounted_h100e_years",
    "evaluate_plans",
    "expected",
    "lower_tail_mean",
    "plan_of_members",
    "plan_of_results",
    "solve_task",
]
