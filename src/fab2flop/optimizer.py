"""Capacity-expansion optimisation: build the LP, solve it with HiGHS, read it back.

>>> from fab2flop import load_scenario, optimize
>>> res = optimize(load_scenario())            # doctest: +SKIP
>>> res.status, res.summary()["compute_h100e"][-1]   # doctest: +SKIP
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .constants import Objective, Solver, Status
from .errors import ScenarioError
from .network import Network, build_network
from .scenario import Scenario

if TYPE_CHECKING:
    from .lp.model import Hook, LPOptions
    from .results import Results


# ``solver.method: choose``: HiGHS's dual simplex below this many LP columns, IPX interior
# point with crossover from it (benchmarks/README.md, "HiGHS's solvers side by side": simplex
# and IPX tie on the default's 2,400 columns; IPX is 2-4x faster at 44,000 and simplex ran
# past 600 s at 122,000 where IPX took 73 s). Crossover stays on: the bottleneck report reads
# vertex duals, and it cost little against the interior point itself.
IPM_MIN_VARIABLES = 20_000


def _highs_options(
    scenario: Scenario, method: Solver | None, n_variables: int | None = None
) -> dict:
    cfg = scenario.solver
    m = method or cfg.method
    opts: dict = {"time_limit": float(cfg.time_limit_s), "output_flag": bool(cfg.log)}
    if cfg.threads:
        opts["threads"] = int(cfg.threads)
    if m is Solver.CHOOSE and n_variables is not None and n_variables >= IPM_MIN_VARIABLES:
        m = Solver.IPM
    if m is Solver.SIMPLEX:
        opts["solver"] = "simplex"
    elif m is Solver.IPM:
        opts["solver"] = "ipm"
        opts["run_crossover"] = "on"
    elif m is Solver.PDLP:
        opts["solver"] = "pdlp"
    return opts


def _status(termination: str) -> Status:
    """The run's status of a termination word of :mod:`fab2flop.lp.core`."""
    t = str(termination).lower()
    if t == "optimal":
        return Status.OPTIMAL
    if t == "infeasible":
        return Status.INFEASIBLE
    if t == "unbounded":
        return Status.UNBOUNDED
    if "infeasible_or_unbounded" in t:
        return Status.INFEASIBLE_OR_UNBOUNDED
    if "time" in t:
        return Status.TIME_LIMIT
    return Status.ERROR


def explain_failure(net: Network, status: Status) -> str:
    """The likely cause of an infeasible or unbounded scenario, in words."""
    sc = net.scenario
    hints: list[str] = []
    if status in (Status.UNBOUNDED, Status.INFEASIBLE_OR_UNBOUNDED):
        if not sc.budget.enforce and sc.objective.kind is not Objective.MIN_COST_FOR_PATH:
            hints.append(
                "budget.enforce is false while the objective maximises compute: with unlimited "
                "money, compute is limited only by capacity caps, and some supply route has "
                "none (e.g. a power technology with no build limit). Set budget.enforce=true "
                "or cap the region (max_new_power_mw_per_year, max_datacenter_mw)."
            )
    if status in (Status.INFEASIBLE, Status.INFEASIBLE_OR_UNBOUNDED):
        if sc.objective.kind is Objective.MIN_COST_FOR_PATH:
            path = sc.objective.compute_path_h100e
            first = min(path) if path else None
            ask = f"{path[first]:,.0f} H100e in {first}" if first is not None else "compute"
            hints.append(
                "objective.compute_path_h100e cannot be met: the installed compute it asks "
                f"for (from {ask}) is more than money, lead times and supply caps allow. "
                "Lower or delay the path, raise budget.total_usd, or set budget.enforce=false "
                "to see its unconstrained cost."
            )
        for p in net.processes:
            if p.max_capacity is not None and p.existing:
                hints.append(
                    f"process {p.name!r} has existing capacity and a max_capacity; check that "
                    "max_capacity is not below the existing capacity."
                )
        if not hints:
            hints.append(
                "a user-defined process or constraint cannot be satisfied; check processes "
                "and process_overrides (a carrier consumed by build_inputs needs a producer "
                "that is available when construction starts)."
            )
    if status is Status.TIME_LIMIT:
        hints.append(
            f"the solver hit solver.time_limit_s={sc.solver.time_limit_s}; raise it or try "
            "solver.method=ipm for large instances."
        )
    return " ".join(hints) or f"solver ended with status {status.value}"


def _method(method: Solver | str | None) -> Solver | None:
    """The solver method, or a ScenarioError with the command line's message."""
    if method is None or isinstance(method, Solver):
        return method
    known = ", ".join(m.value for m in Solver)
    if not isinstance(method, str) or method not in {m.value for m in Solver}:
        raise ScenarioError(
            f"--solver {str(method)[:40]!r}: expected one of {known}",
            [("solver.method", str(method)[:80], f"one of {known}")],
        )
    return Solver(method)


def optimize(
    scenario: Scenario | Network,
    hooks: tuple[Hook, ...] = (),
    method: Solver | str | None = None,
    options: LPOptions | None = None,
) -> Results:
    """Decide what to build where and when; return a :class:`~fab2flop.results.Results`."""
    from ._compat import defer_dask_import
    from .lp.core import solve
    from .lp.model import build_lp
    from .policy import policy_hooks
    from .results import Results

    meth = _method(method)
    defer_dask_import()  # before the network's first xarray array (no-op if dask is loaded)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    net = scenario if isinstance(scenario, Network) else build_network(scenario)
    timings["network_s"] = (
        net.build_seconds if isinstance(scenario, Network) else time.perf_counter() - t0
    )
    t1 = time.perf_counter()
    lp = build_lp(net, (*policy_hooks(net.scenario), *hooks), options)
    timings["build_s"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    try:
        lp.solution, _ = solve(lp.model, _highs_options(net.scenario, meth, lp.model.n_columns))
    except Exception as exc:  # the solver itself failed: a status, not a traceback
        timings["solve_s"] = time.perf_counter() - t2
        return Results.failed(net, Status.ERROR, f"solver error: {exc}", timings, lp)
    timings["solve_s"] = time.perf_counter() - t2
    status = _status(lp.solution.termination)
    if not status.ok:
        return Results.failed(net, status, explain_failure(net, status), timings, lp)
    t3 = time.perf_counter()
    res = Results.from_lp(lp, status, timings)
    timings["postprocess_s"] = time.perf_counter() - t3
    return res


__all__ = ["optimize", "explain_failure"]
