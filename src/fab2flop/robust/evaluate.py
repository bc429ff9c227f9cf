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
    """First-stage decisions in natural units, NaN where not committed: ``new`` (process,
    region, period) [activity unit of capacity opening], ``deploy`` (accelerator, region,
    period) [units]; with shared operations also ``activity`` (process, region, period)
    [activity unit/year] and ``inventory`` (carrier, period) [carrier unit], None without.
    In a future, builds and deployments are fixed; activity and inventory are upper bounds
    (it may do less of what the plan did, not stockpile more ahead of its event)."""

    name: str
    new: xr.DataArray
    deploy: xr.DataArray
    activity: xr.DataArray | None = None
    inventory: xr.DataArray | None = None

    def values(self, name: str) -> xr.DataArray | None:
        return {
            "new": self.new,
            "deploy": self.deploy,
            "act": self.activity,
            "inv": self.inventory,
        }[name]


UPPER_ONLY = ("act", "inv")  # committed as upper bounds in a future


def _scale(lp: Any, name: str) -> np.ndarray:
    """Natural units per model unit of variable ``name``, shaped to broadcast on it."""
    s = lp.scaling
    if name in ("new", "act"):
        return s.process[:, None, None]
    if name == "deploy":
        return s.accelerator[:, None, None]
    return s.carrier[:, None]


def _natural(lp: Any, name: str) -> xr.DataArray:
    var = lp.model.variables[name]
    val = np.nan_to_num(lp.solution.primal(var)) * _scale(lp, name)
    return var.dataarray(np.where(var.labels >= 0, val, 0.0))


def plan_of_results(name: str, res: Any, operations: bool = True) -> Plan:
    """A deterministic plan (a solved :class:`~fab2flop.results.Results`): every slot; its
    activity and inventory too with ``operations``."""
    ds = res.dataset

    def get(k: str) -> xr.DataArray:
        return ds[k].fillna(0.0).load()

    if not operations:
        return Plan(name, get("new_capacity"), get("deployed"))
    return Plan(name, get("new_capacity"), get("deployed"), get("activity"), get("inventory"))


def plan_of_members(name: str, ext: Any) -> Plan:
    """The nominal-path first-stage decisions of a solved extensive form: for each slot, the
    value shared by the members that could not tell their futures apart when it was
    decided (the first of them); NaN where every member already knew its future."""
    subs = ext.subproblems
    out: dict[str, xr.DataArray | None] = {}
    for var in FIRST_STAGE:
        if not all(var in s.first_stage for s in subs):
            out[var] = None
            continue
        vals = np.stack([_natural(s.lp, var).values for s in subs])
        mask = np.stack([s.first_stage[var].values for s in subs])
        g0 = np.argmax(mask, axis=0)
        pick = np.take_along_axis(vals, g0[None], 0)[0]
        like = subs[0].first_stage[var]
        out[var] = xr.DataArray(np.where(mask.any(0), pick, np.nan), coords=like.coords)
    assert out["new"] is not None and out["deploy"] is not None
    return Plan(name, out["new"], out["deploy"], out["act"], out["inv"])


def commit_hook(plan: Plan, member: Member) -> Callable[[Any], None]:
    """LP hook: the plan's slots decided before ``member.info_period`` bind the future:
    builds and deployments fixed (clipped to the future's bounds; a slot the future does not
    have is dropped), activity and inventory at most the plan's."""
    dec = decision_periods(member.network)

    def hook(lp: Any) -> None:
        for name in FIRST_STAGE:
            plan_values = plan.values(name)
            if name not in lp.model.variables or plan_values is None:
                continue
            var = lp.model.variables[name]
            labels = var.dataarray()
            val = plan_values.reindex_like(labels).transpose(*labels.dims).values
            when = dec[name].reindex_like(labels).transpose(*labels.dims).values
            fix = (when < member.info_period) & np.isfinite(val) & (var.labels >= 0)
            x = np.where(fix, np.nan_to_num(val), 0.0) / _scale(lp, name)
            lo, hi = var.lower, var.upper
            xv = np.clip(x, lo, hi)
            new_lo = lo if name in UPPER_ONLY else np.where(fix, xv, lo)
            lp.model.set_bounds(name, lower=new_lo, upper=np.where(fix, xv, hi))

    return hook


@dataclass(frozen=True)
class EvalTask:
    """One future and the plans to judge on it (None: foresight): plain data for an
    evaluator. The future's LP is built once and re-solved with each plan's bounds."""

    plans: tuple[tuple[str, Plan | None], ...]
    member: Member
    keep: bool = False  # return each plan's Results too (a full optimisation each)


def discounted_h100e_years(net: Any, compute_h100e: np.ndarray) -> float:
    """Discounted installed compute [H100e-years] (the deterministic objective's measure)."""
    disc = net.ds["discount"].values
    return float((np.asarray(compute_h100e) * disc).sum() * float(net.periods.dt))


def _solve(lp: Any) -> tuple[str, str, np.ndarray | None]:
    """Solve a built LP; (status, message, compute_h100e by period)."""
    from ..lp.core import solve
    from ..optimizer import _highs_options, _status

    net = lp.net
    try:
        lp.solution, _ = solve(lp.model, _highs_options(net.scenario, None))
    except Exception as exc:  # the solver itself failed: a status, not a traceback
        return Status.ERROR.value, f"solver error: {exc}", None
    term = lp.solution.termination
    status = _status(term)
    if not status.ok or lp.compute_expr is None:
        return status.value, str(term), None
    comp = lp.solution.value(lp.compute_expr).astype(float) * lp.scaling.compute
    return status.value, "optimal", np.where(np.abs(comp) < 1e-6, 0.0, comp)


def _row(net: Any, status: str, message: str, comp: np.ndarray | None, t0: float) -> dict:
    row: dict[str, Any] = {"status": status, "message": message}
    if comp is not None:
        row.update(compute_h100e=comp, discounted=discounted_h100e_years(net, comp))
    row["seconds"] = time.perf_counter() - t0
    return row


def solve_task(task: EvalTask) -> list[dict[str, Any]]:
    """Optimise one future under each plan's commitments: one row per plan (status,
    message and, when optimal, compute_h100e and discounted), never an exception."""
    from ..lp.model import build_lp
    from ..optimizer import optimize
    from ..policy import policy_hooks

    net = task.member.network
    rows = []
    if task.keep:
        for _, plan in task.plans:
            t0 = time.perf_counter()
            hooks = () if plan is None else (commit_hook(plan, task.member),)
            res = optimize(net, hooks=hooks)
            comp = res.dataset["compute_h100e"].values.astype(float) if res.status.ok else None
            rows.append({**_row(net, res.status.value, res.message, comp, t0), "results": res})
        return rows
    lp = build_lp(net, policy_hooks(net.scenario))
    saved = {
        n: (lp.model.variables[n].lower.copy(), lp.model.variables[n].upper.copy())
        for n in FIRST_STAGE
        if n in lp.model.variables
    }
    for _, plan in task.plans:
        t0 = time.perf_counter()
        for n, (lo, hi) in saved.items():
            lp.model.set_bounds(n, lower=lo, upper=hi)
        if plan is not None:
            commit_hook(plan, task.member)(lp)
        rows.append(_row(net, *_solve(lp), t0))
    return rows


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
    pairs = tuple((n, plans.get(n) if n != FORESIGHT else None) for n in names)
    tasks = [EvalTask(pairs, f, keep_results) for f in futures]
    failed = [{"status": Status.ERROR.value, "message": "the evaluation failed"}] * len(names)
    if evaluator is None:
        per_future = []
        for i, t in enumerate(tasks):
            per_future.append(solve_task(t))
            if progress:
                progress(i + 1, len(tasks))
    else:
        mapped = evaluator.map(solve_task, tasks, progress=progress)
        per_future = [r if r is not None else failed for r in mapped.values]
    rows = [per_future[j][i] for i in range(len(names)) for j in range(len(futures))]
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
