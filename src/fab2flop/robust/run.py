"""A whole robust run: the extensive form over the S futures, the deterministic plan, and
both judged on the same held-out futures (the board's numbers; docs/robust.md).

Definitions (all in discounted H100e-years, the objective's measure; ``V`` is the robust
objective's value of a plan's outcomes Z over futures with probabilities p):

- ``V = E[Z]`` (mode expected); ``E[Z] - lambda CVaR_alpha(Zref - Z)`` (cvar, Zref the
  deterministic plan's Z in the nominal future); ``LTM_alpha(Z)`` (worst_alpha), the mean of
  the worst alpha of futures;
- RP: V of the robust plan with recourse; EEV: V of the deterministic plan (the nominal
  scenario's, this model's expected-value problem) with recourse; WS: V of each future
  optimised knowing it (wait and see);
- VSS = RP - EEV; EVPI = WS - RP. In sample (the S futures) both are >= 0 by construction;
  on the held-out futures they are estimates.
- price of resilience: the deterministic plan's compute minus the robust plan's, both in the
  nominal future (the robust plan's commitments fixed, the rest re-optimised).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..catalog import Catalog
from ..constants import PERIOD, PROCESS, REGION, Solver, Status
from ..scenario import Scenario
from .config import CVAR, WORST_ALPHA, RobustConfig
from .evaluate import (
    FORESIGHT,
    Evaluation,
    Plan,
    discounted_h100e_years,
    evaluate_plans,
    expected,
    lower_tail_mean,
    plan_of_members,
    plan_of_results,
)
from .extensive import (
    ExtensiveModel,
    ExtensiveSolution,
    assign_solution,
    build_extensive_model,
    member_measures,
    solve_extensive,
)
from .members import (
    Member,
    deterministic_scenario,
    held_out_set,
    nominal_member,
    robust_config,
    scenario_set,
)

ROBUST, DETERMINISTIC = "robust", "deterministic"
BUILD_TOL = 1e-6  # relative: build differences below this share of the larger are noise


def plan_value(z: np.ndarray, p: np.ndarray, cfg: RobustConfig, z_ref: float) -> float:
    """V of outcomes ``z`` [H100e-years] with probabilities ``p`` under ``cfg``'s mode."""
    if cfg.mode == WORST_ALPHA:
        return lower_tail_mean(z, p, cfg.alpha)
    v = expected(z, p)
    if cfg.mode == CVAR:
        v -= cfg.lambda_ * (z_ref - lower_tail_mean(z, p, cfg.alpha))
    return v


@dataclass
class RobustResult:
    """Everything a robust run produced; :meth:`to_json` is the board's summary."""

    status: Status
    message: str
    config: RobustConfig
    members: list[Member]
    extensive: ExtensiveModel | None = None
    solution: ExtensiveSolution | None = None
    deterministic: Any = None  # Results of the deterministic plan (nominal future)
    robust_nominal: Any = None  # Results of the robust plan in the nominal future
    plans: dict[str, Plan] = field(default_factory=dict)
    in_sample: Evaluation | None = None
    held_out: Evaluation | None = None
    board: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def has_plan(self) -> bool:
        """A plan came back: optimal, or the best at a time limit (see ``message``)."""
        return ROBUST in self.plans

    def member_results(self, i: int) -> Any:
        """Future ``i``'s plan as a :class:`~fab2flop.results.Results` (read on demand)."""
        from ..results import Results

        assert self.extensive is not None and self.solution is not None
        if not self.solution.has_plan:
            raise ValueError("the extensive form has no solution to read (time limit)")
        return Results.from_lp(self.extensive.subproblems[i].lp, self.status, {})

    def to_json(self) -> dict[str, Any]:
        cfg = self.config
        out: dict[str, Any] = {
            "status": self.status.value,
            "message": self.message,
            "best_plan_not_proven_optimal": self.status is Status.TIME_LIMIT and self.has_plan,
            "mode": cfg.mode,
            "alpha": cfg.alpha,
            "lambda": cfg.lambda_,
            "source": cfg.source,
            "information_year": cfg.information_year,
            "scenarios": len(self.members),
            "futures": [
                {
                    "name": m.name,
                    "probability": m.probability,
                    "known_from": _period_label(m),
                    "events": list(m.events),
                }
                for m in self.members
            ],
        }
        if self.extensive is not None:
            out["lp"] = {
                "columns": int(self.extensive.shape[1]),
                "rows": int(self.extensive.shape[0]),
                "non_anticipativity_rows": int(self.extensive.n_ties),
            }
        if self.solution is not None and self.solution.objective is not None:
            out["objective_value"] = self.solution.objective
        out.update(self.board)
        out["seconds"] = self.timings
        return out


def _period_label(m: Member) -> str | None:
    idx = m.network.ds.indexes[PERIOD]
    return None if m.info_period >= len(idx) else str(idx[m.info_period])


def solve_robust(
    scenario: Scenario,
    catalog: Catalog | None = None,
    *,
    method: Solver | str | None = None,
    time_limit_s: float | None = None,
    evaluate: bool = True,
    held_out: int | None = None,
    evaluator: Any | None = None,
    progress: Callable[[str], None] | None = None,
) -> RobustResult:
    """Optimise the robust plan of ``scenario`` (its ``robust`` block) and, with
    ``evaluate``, judge it against the deterministic plan on held-out futures."""
    say = progress or (lambda _msg: None)
    cfg = robust_config(scenario)  # bad input fails here, before any work
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    say(f"building {cfg.scenarios if cfg.source == 'sampled' else len(cfg.futures)} futures")
    members = scenario_set(scenario, catalog)
    timings["futures_s"] = time.perf_counter() - t0
    return robust_from_members(
        members,
        cfg,
        det_scenario=deterministic_scenario(scenario),
        nominal=(lambda: nominal_member(scenario, catalog)),
        held_out=(lambda: held_out_set(scenario, catalog, held_out)) if evaluate else None,
        target_years=_target_years(scenario),
        method=method,
        time_limit_s=time_limit_s,
        evaluator=evaluator,
        say=say,
        timings=timings,
    )


def _target_years(scenario: Scenario) -> list[int]:
    from ..risk.sweep import target_years

    return target_years(scenario)


def robust_from_members(
    members: list[Member],
    cfg: RobustConfig,
    *,
    det_scenario: Any,
    nominal: Callable[[], Member],
    held_out: Callable[[], list[Member]] | None,
    target_years: list[int],
    method: Solver | str | None = None,
    time_limit_s: float | None = None,
    evaluator: Any | None = None,
    say: Callable[[str], None] = lambda _m: None,
    timings: dict[str, float] | None = None,
) -> RobustResult:
    """:func:`solve_robust` on given futures. ``det_scenario`` is the deterministic
    scenario or its network; ``nominal`` and ``held_out`` build the nominal future and the
    held-out futures (called only when needed); ``held_out`` None: no evaluation."""
    from ..optimizer import optimize

    tm = timings if timings is not None else {}
    t0 = time.perf_counter()
    say(f"building the extensive form over {len(members)} futures")
    ext = build_extensive_model(members, cfg)
    tm["extensive_build_s"] = time.perf_counter() - t0
    say(f"solving the extensive form ({ext.shape[1]:,} columns x {ext.shape[0]:,} rows)")
    sol = solve_extensive(ext, time_limit_s=time_limit_s, method=method)
    tm["extensive_solve_s"] = sol.seconds
    msg = sol.message or sol.status.value
    res = RobustResult(sol.status, msg, cfg, members, ext, sol, timings=tm)
    # a time limit without any feasible point: the deterministic plan's commitments with
    # each future's recourse are a feasible robust plan (not optimised for robustness)
    fallback = not sol.has_plan and sol.status is Status.TIME_LIMIT
    if not sol.has_plan and not fallback:
        res.message = f"no robust plan: the extensive form ended {sol.status.value} ({msg})"
        return res
    if sol.has_plan:
        assign_solution(ext, sol)
    t1 = time.perf_counter()
    say("optimising the deterministic plan")
    det = optimize(det_scenario, method=method)
    res.deterministic = det
    if not det.status.ok:
        res.message += f"; the deterministic plan is {det.status.value}: {det.message}"
        return res
    det_plan = plan_of_results(DETERMINISTIC, det)
    rob_plan = (
        plan_of_members(ROBUST, ext) if sol.has_plan else dataclasses.replace(det_plan, name=ROBUST)
    )
    res.plans = {ROBUST: rob_plan, DETERMINISTIC: det_plan}
    nom = nominal()
    say("the robust plan in the nominal future")
    ev_nom = evaluate_plans({ROBUST: rob_plan}, [nom], foresight=False, keep_results=True)
    res.robust_nominal = ev_nom.results.get((ROBUST, nom.name))
    tm["deterministic_s"] = time.perf_counter() - t1
    board = _nominal_numbers(res, det, target_years)
    z_ref = discounted_h100e_years(det.network, det.dataset["compute_h100e"].values)
    if held_out is not None:
        t2 = time.perf_counter()
        say(f"judging both plans on the {len(members)} optimised futures (in sample)")
        plans_in = {DETERMINISTIC: det_plan} if sol.has_plan else dict(res.plans)
        res.in_sample = evaluate_plans(plans_in, members, evaluator=evaluator)
        if sol.has_plan:
            z_in = member_measures(ext, sol) * ext.subproblems[0].lp.scaling.compute
        else:
            z_in = res.in_sample.dataset["discounted_h100e_years"].sel(plan=ROBUST).values
        tm["in_sample_s"] = time.perf_counter() - t2
        t3 = time.perf_counter()
        futures = held_out()
        say(f"judging both plans on {len(futures)} held-out futures")
        res.held_out = evaluate_plans(res.plans, futures, evaluator=evaluator)
        tm["held_out_s"] = time.perf_counter() - t3
        board.update(_value_numbers(res, cfg, z_in, z_ref, target_years))
    res.board = board
    if fallback:
        res.message = (
            "time limit reached before the extensive form had a feasible point: the plan "
            "returned is the deterministic plan's commitments with each future's recourse, "
            "not optimised for robustness"
        )
    elif sol.status is Status.TIME_LIMIT:
        res.message = "time limit reached: the best robust plan found, not proven optimal"
    return res


def _at_years(comp: np.ndarray, periods: Any, years: list[int]) -> dict[str, int]:
    out = {}
    for y in years:
        idx = [i for i, p in enumerate(periods) if str(p).startswith(str(y))]
        if idx:
            out[str(y)] = idx[-1]
    return out


def _nominal_numbers(res: RobustResult, det: Any, years: list[int]) -> dict[str, Any]:
    """Price of resilience and build differences, in the nominal future."""
    rob = res.robust_nominal
    periods = list(det.dataset.indexes[PERIOD])
    idx = _at_years(det.dataset["compute_h100e"].values, periods, years)
    dc = det.dataset["compute_h100e"].values.astype(float)
    out: dict[str, Any] = {"target_years": [int(y) for y in idx]}
    if rob is None or not rob.status.ok:
        out["price_of_resilience_h100e"] = None
        out["notes"] = ["the robust plan's commitments cannot be kept in the nominal future"]
        return out
    rc = rob.dataset["compute_h100e"].values.astype(float)
    last = list(idx.values())[-1]
    zd = discounted_h100e_years(det.network, dc)
    zr = discounted_h100e_years(rob.network, rc)
    out.update(
        {
            "price_of_resilience_h100e": float(dc[last] - rc[last]),
            "price_of_resilience_h100e_by_year": {y: float(dc[i] - rc[i]) for y, i in idx.items()},
            "price_of_resilience_h100e_years": zd - zr,
            "nominal_h100e": {
                ROBUST: {y: float(rc[i]) for y, i in idx.items()},
                DETERMINISTIC: {y: float(dc[i]) for y, i in idx.items()},
            },
            "nominal_discounted_h100e_years": {ROBUST: zr, DETERMINISTIC: zd},
            "build_difference": build_difference(rob, det),
        }
    )
    return out


def build_difference(rob: Any, det: Any) -> list[dict[str, Any]]:
    """Capacity standing, robust minus deterministic, by stage (process category), process,
    region and period [the process's activity unit], in the nominal future; zeros left out."""
    a = rob.dataset["capacity"].fillna(0.0)
    b = det.dataset["capacity"].fillna(0.0)
    diff = (a - b).values
    scale = np.maximum(np.abs(a.values), np.abs(b.values))
    ds = det.network.ds
    cat = ds["category"].values
    unit = ds["activity_unit"].values
    procs, regs, pers = (list(det.dataset.indexes[d]) for d in (PROCESS, REGION, PERIOD))
    out = []
    for i, j, k in zip(*np.nonzero(np.abs(diff) > BUILD_TOL * np.maximum(scale, 1.0)), strict=True):
        out.append(
            {
                "stage": str(cat[i]),
                "process": str(procs[i]),
                "region": str(regs[j]),
                "period": str(pers[k]),
                "value": float(diff[i, j, k]),
                "unit": str(unit[i]),
            }
        )
    return out


def _by_year(ev: Evaluation, plan: str, years: list[str], idx: dict[str, int], f) -> dict:
    comp = ev.dataset["compute_h100e"].sel(plan=plan).values
    p = ev.dataset["probability"].values
    return {y: f(comp[:, idx[y]], p) for y in years}


def _value_numbers(
    res: RobustResult, cfg: RobustConfig, z_in: np.ndarray, z_ref: float, years: list[int]
) -> dict[str, Any]:
    ho, ins = res.held_out, res.in_sample
    assert ho is not None and ins is not None
    periods = list(ho.dataset.indexes[PERIOD])
    idx = _at_years(ho.dataset["compute_h100e"].values, periods, years)
    ys = list(idx)
    p = ho.dataset["probability"].values
    plans = [ROBUST, DETERMINISTIC, FORESIGHT]

    def stat(f) -> dict:
        return {pl: _by_year(ho, pl, ys, idx, f) for pl in plans}

    def value(ev: Evaluation, plan: str) -> float:
        z = ev.dataset["discounted_h100e_years"].sel(plan=plan).values
        return plan_value(z, ev.dataset["probability"].values, cfg, z_ref)

    pin = ins.dataset["probability"].values
    rp_in = plan_value(z_in, pin, cfg, z_ref)
    rp, eev, ws = (value(ho, pl) for pl in plans)
    eev_in, ws_in = value(ins, DETERMINISTIC), value(ins, FORESIGHT)
    failures = [
        {"plan": str(pl), "future": str(f), "status": str(s)}
        for ev in (ins, ho)
        for pl in ev.dataset.indexes["plan"]
        for f, s in zip(
            ev.dataset.indexes["future"], ev.dataset["status"].sel(plan=pl).values, strict=True
        )
        if s != Status.OPTIMAL.value
    ]
    a = cfg.alpha
    return {
        "held_out": int(ho.dataset.sizes["future"]),
        "expected_h100e": stat(expected),
        "cvar_h100e": stat(lambda v, q: lower_tail_mean(v, q, a)),
        "worst_h100e": stat(lambda v, q: float(np.nanmin(v)) if np.isfinite(v).any() else None),
        "expected_discounted_h100e_years": {
            pl: expected(ho.dataset["discounted_h100e_years"].sel(plan=pl).values, p)
            for pl in plans
        },
        "value_units": "discounted H100e-years",
        "rp": rp,
        "eev": eev,
        "ws": ws,
        "vss": rp - eev,
        "evpi": ws - rp,
        "rp_in_sample": rp_in,
        "eev_in_sample": eev_in,
        "ws_in_sample": ws_in,
        "vss_in_sample": rp_in - eev_in,
        "evpi_in_sample": ws_in - rp_in,
        "evaluation_failures": failures,
    }


__all__ = ["RobustResult", "build_difference", "plan_value", "robust_from_members", "solve_robust"]
