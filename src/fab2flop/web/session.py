"""The playground's interactive re-solve: one solved LP per session, changed in place.

A *state* is the playground's levers (:class:`Levers`). The levers split in two:

* **warm** levers change only numbers of the LP that HiGHS can change in place:
  ``budget_usd`` (the right-hand sides of the ``cash`` rows: money arriving),
  ``us_power_mw_per_year`` and ``us_grid_mw`` (right-hand sides of ``market-cap`` rows of
  the US power-build slot and grid contract), ``merchant_share`` (``market-cap`` rows of the
  vendors' GPU supply) and ``discount_rate`` (objective coefficients). A move of one of
  them changes those rows or costs on the session's ``highspy.Highs`` object and re-runs
  simplex from the previous basis, racing a presolved solve of the same LP on a twin
  object for the big moves (:mod:`.bases`).
* **structural** levers change which variables and rows exist (own designs on or off, a
  Taiwan blockade's start and length change availability masks): the session builds and
  solves the model again (cold).

Nothing here hard-codes how a lever enters the LP. When a structure is built, each warm
lever is *learnt* from the network code itself: the network is built at two more values of
the lever and compared with the base network. A lever is warm for that structure only if
it changed nothing but ``funding_usd`` and ``existing`` of fixed-capacity processes (or
``discount``), the change is affine in the lever (checked on a third point), and the
learnt right-hand sides reproduce the LP's own rows; otherwise it is structural there.
"""

from __future__ import annotations

import copy
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field

from ..bottlenecks import TOL
from ..constants import PERIOD, PROCESS, REGION, Category
from ..metrics import SPEND_CATEGORIES
from ..network import Network, build_network
from ..scenario import Scenario, apply_override, default_scenario_text, validate_scenario

# The solver lock: model building and HiGHS runs are serialised process-wide (the
# thread-safety work of the optimiser is on another branch; one solve at a time on 2 cores
# loses nothing).
SOLVER_LOCK = threading.RLock()

WARM_LEVERS = ("budget_usd", "us_power_mw_per_year", "us_grid_mw", "merchant_share")
OBJECTIVE_LEVERS = ("discount_rate",)
STRUCTURAL_LEVERS = ("custom_designs", "blockade", "blockade_start", "blockade_years")
NUMERIC_EPS = 1e-9
DUAL, PRIMAL = 1, 4  # HiGHS simplex_strategy values


class Levers(BaseModel):
    """The playground's levers; ``None`` for the power and grid levers keeps the catalog's
    year-by-year path."""

    model_config = ConfigDict(extra="forbid")

    budget_usd: float = Field(7.0e12, ge=1e11, le=2e13, description="budget.total_usd [USD]")
    us_power_mw_per_year: float | None = Field(
        None,
        ge=0,
        le=100_000,
        description="regions.US.max_new_power_mw_per_year, flat [MW/year]; null: catalog path",
    )
    us_grid_mw: float | None = Field(
        None,
        ge=0,
        le=200_000,
        description="regions.US.grid_mw_available, flat [MW]; null: catalog path",
    )
    merchant_share: float = Field(0.20, ge=0, le=1, description="market.merchant_share [1]")
    custom_designs: bool = Field(True, description="own accelerator designs on or off")
    blockade: bool = Field(False, description="a Taiwan blockade (catalog taiwan_blockade)")
    blockade_start: float = Field(2028, ge=2025, le=2035, description="blockade start [year]")
    blockade_years: float = Field(0.5, ge=0.25, le=5, description="blockade length [years]")
    discount_rate: float = Field(0.08, ge=0, le=0.3, description="objective discount [1/year]")

    def structure(self) -> tuple:
        """What a warm re-solve cannot change."""
        return (
            self.custom_designs,
            self.blockade,
            self.blockade_start if self.blockade else None,
            self.blockade_years if self.blockade else None,
        )


_DEFAULT_DICT: dict[str, Any] | None = None


def default_scenario_dict() -> dict[str, Any]:
    """A fresh copy of the embedded default scenario as a dict (parsed once)."""
    global _DEFAULT_DICT
    if _DEFAULT_DICT is None:
        import yaml

        _DEFAULT_DICT = yaml.safe_load(default_scenario_text())
    return copy.deepcopy(_DEFAULT_DICT)


def lever_overrides(lv: Levers) -> list[tuple[list[str], Any]]:
    """The scenario changes of a state, as (path, value) pairs (the ``--set`` form)."""
    out: list[tuple[list[str], Any]] = [
        (["budget", "total_usd"], float(lv.budget_usd)),
        # the playground's market is the simple mode, where the merchant-share slider is the
        # plan's share of each vendor's output; the default run's residual mode (the world's
        # output less the other buyers' books) has no share to move (docs/web.md)
        (["market", "mode"], "fixed_share"),
        (["market", "merchant_share"], float(lv.merchant_share)),
        (["objective", "discount_rate"], float(lv.discount_rate)),
    ]
    if lv.us_power_mw_per_year is not None:
        out.append((["regions", "US", "max_new_power_mw_per_year"], lv.us_power_mw_per_year))
    if lv.us_grid_mw is not None:
        out.append((["regions", "US", "grid_mw_available"], lv.us_grid_mw))
    if not lv.custom_designs:
        out.append((["accelerators", "custom"], {}))
    return out


def scenario_dict(lv: Levers) -> dict[str, Any]:
    """The raw scenario dict of a state (the default with the levers applied)."""
    data = default_scenario_dict()
    for path, value in lever_overrides(lv):
        apply_override(data, path, value)
    if lv.blockade:
        ev = {"use": "taiwan_blockade", "start": lv.blockade_start}
        ev["duration_years"] = lv.blockade_years
        data["events"] = list(data.get("events") or []) + [ev]
    return data


def scenario_of(lv: Levers) -> Scenario:
    sc = validate_scenario(scenario_dict(lv), "playground scenario")
    sc.solver.log = False
    return sc


# --------------------------------------------------------------------------- the model


@dataclass
class _Affine:
    """y(v) = a + b·v on a set of positions of the warm vector."""

    idx: np.ndarray
    a: np.ndarray
    b: np.ndarray
    null: np.ndarray | None = None  # the values at None (the catalog path), if it has one


@dataclass(eq=False)  # compared by identity (Session.built.remove)
class Built:
    """A solved structure: the HiGHS object, label maps and the learnt levers."""

    net: Network
    lp: Any  # fab2flop.lp.model.LP
    highs: Any
    state: Levers
    col_of_label: np.ndarray  # variable label -> HiGHS column (-1: none)
    row_of_label: np.ndarray
    y0: np.ndarray  # warm vector of the base state: funding (T) then fixed existing cells
    fixed_cells: tuple[np.ndarray, ...]  # (p, r, t) of fixed-capacity cells in y0
    rows_y: np.ndarray  # HiGHS row of each y position (-1: no row)
    row_factor: np.ndarray  # model rhs per natural unit of each y position
    row_equal: np.ndarray  # equality row (set both bounds)
    learnt: dict[str, _Affine] = field(default_factory=dict)
    tried: set[str] = field(default_factory=set)  # levers learn_lever has looked at
    cost_by_period: Any = None  # (T, ncols) sparse: objective per unit discount factor
    readout: dict[str, Any] = field(default_factory=dict)
    dual_sign: float = 1.0
    rhs0: dict[str, np.ndarray] = field(default_factory=dict)
    bounds0: tuple[np.ndarray, np.ndarray] | None = None
    # the HiGHS model's current row bounds and discount rate (what apply_state last set)
    row_lo: np.ndarray | None = None
    row_up: np.ndarray | None = None
    rate: float | None = None
    changed: bool = True  # the last apply_state changed rows or costs
    racer: Any = None  # fab2flop.web.bases.Racer: the fresh twin the warm run races
    solved: Any = None  # the HiGHS object holding the last optimum (``highs`` or the twin)


def _label_map(labels: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, -1, dtype=np.int64)
    out[labels] = np.arange(len(labels))
    return out


def _warm_vector(ds: xr.Dataset, cells: tuple[np.ndarray, ...]) -> np.ndarray:
    return np.concatenate([ds["funding_usd"].values, ds["existing"].values[cells]])


def _fixed_cells(ds: xr.Dataset) -> tuple[np.ndarray, ...]:
    fixed = ~ds["buildable"].values & ~ds["unlimited"].values
    mask = ds["exists"].values[:, :, None] & fixed[:, None, None]
    mask = np.broadcast_to(mask, ds["existing"].shape)
    return tuple(np.nonzero(mask))


_ALLOWED_DIFF = {"funding_usd", "existing", "discount"}


def _only_warm_diff(a: xr.Dataset, b: xr.Dataset, cells: tuple[np.ndarray, ...]) -> bool:
    """``b`` differs from ``a`` at most in funding, discount and fixed-capacity existing."""
    if set(a.data_vars) != set(b.data_vars) or dict(a.sizes) != dict(b.sizes):
        return False
    for k in a.data_vars:
        if k in _ALLOWED_DIFF:
            continue
        if not a[k].equals(b[k]):
            return False
    ea, eb = a["existing"].values.copy(), b["existing"].values.copy()
    ea[cells] = 0.0
    eb[cells] = 0.0
    return bool(np.array_equal(ea, eb))


def _expr_matrix(expr: Any, ncols_by_label: np.ndarray, rows: np.ndarray, nrows: int):
    """Sparse (nrows x HiGHS columns) of an lp.core expression whose cells map to ``rows``."""
    from scipy.sparse import csr_array

    v = expr.vars
    c = expr.coeffs
    r = np.broadcast_to(rows.reshape(rows.shape + (1,) * (v.ndim - rows.ndim)), v.shape)
    ok = v >= 0
    cols = ncols_by_label[v[ok]]
    keep = cols >= 0
    return csr_array(
        (c[ok][keep], (r[ok][keep], cols[keep])),
        shape=(nrows, len(np.nonzero(ncols_by_label >= 0)[0])),
    )


def _readout_matrices(b: Built) -> dict[str, Any]:
    """Matrices turning HiGHS column values into compute by period and spend by category."""
    lp, ds = b.lp, b.net.ds
    T = ds.sizes[PERIOD]
    out: dict[str, Any] = {}
    if lp.compute_expr is not None:
        out["compute"] = _expr_matrix(lp.compute_expr, b.col_of_label, np.arange(T), T)
    cats = list(SPEND_CATEGORIES)
    ci = {c: i for i, c in enumerate(cats)}
    cat = [str(c) for c in ds["category"].values]
    kind = ds["carrier_kind"].sel({"carrier": ds["main_output"]}).values
    var_cat = [
        Category.OPERATIONS.value if k == "rate" else c for c, k in zip(cat, kind, strict=True)
    ]
    t_idx = np.arange(T)
    mats = []
    for name, expr in (lp.spend_terms or {}).items():
        dims = expr.dims
        if name == "systems":
            rows = np.full(expr.vars.shape[:-1], ci[Category.SYSTEMS.value]) * T
        else:
            if name == "capex":
                per_p = np.array([ci[c] for c in cat])
            elif name == "fixed_om":
                per_p = np.full(len(cat), ci[Category.OPERATIONS.value])
            else:
                per_p = np.array([ci[c] for c in var_cat])
            shape = expr.vars.shape[:-1]
            pos = {d: i for i, d in enumerate(dims)}
            rows = np.zeros(shape, np.int64)
            rows += (per_p * T).reshape([-1 if d == PROCESS else 1 for d in dims])
        pt = [-1 if d == PERIOD else 1 for d in dims]
        rows = rows + t_idx.reshape(pt)
        assert PERIOD in dims and (name == "systems" or PROCESS in pos)
        mats.append(_expr_matrix(expr, b.col_of_label, rows, len(cats) * T))
    out["spend"] = sum(mats[1:], mats[0]) * lp.scaling.money
    out["categories"] = cats
    return out


def _states_for(lever: str, base: Levers) -> list[Levers]:
    """Three values of ``lever`` away from the base, to learn its effect from."""
    v = getattr(base, lever)
    picks = {
        "budget_usd": (2.0e12, 5.0e12, 11.0e12),
        "us_power_mw_per_year": (1000.0, 9000.0, 20000.0),
        "us_grid_mw": (2000.0, 12000.0, 30000.0),
        "merchant_share": (0.1, 0.4, 0.7),
    }[lever]
    vals = [x for x in picks if v is None or abs(x - v) > 1e-9]
    if len(vals) < 3:
        vals = [*vals, picks[0] * 0.5]
    return [base.model_copy(update={lever: x}) for x in vals[:3]]


def learn_lever(b: Built, lever: str) -> None:
    """Learn one warm lever's effect on the warm vector (see the module docstring), once
    per structure, the first time it moves: two network builds give a line, a third
    checks it, and the base (when it sets the lever) must lie on it too."""
    if lever in b.tried:
        return
    b.tried.add(lever)
    if b.rows_y.max(initial=-1) < 0:
        return  # the rows did not match the network: nothing is warm here
    ds0 = b.net.ds
    base_v = getattr(b.state, lever)
    nullable = Levers.model_fields[lever].default is None
    states = _states_for(lever, b.state)
    if nullable and base_v is not None:
        states.append(b.state.model_copy(update={lever: None}))
    pts: list[tuple[float | None, np.ndarray]] = [(base_v, b.y0)]
    for st in states:
        ds = build_network(scenario_of(st)).ds
        if not _only_warm_diff(ds0, ds, b.fixed_cells) or not np.array_equal(
            ds["discount"].values, ds0["discount"].values
        ):
            return  # it changes more than money, fixed capacities or discounting
        pts.append((getattr(st, lever), _warm_vector(ds, b.fixed_cells)))
    line = [(float(v), y) for v, y in pts if v is not None]
    (v1, y1), (v2, y2) = line[-2:]
    slope = (y2 - y1) / (v2 - v1)
    a = y1 - slope * v1
    if not all(np.allclose(a + slope * v, y, rtol=1e-9, atol=1e-6) for v, y in line):
        return  # not affine in the lever: it stays structural here
    null = next((y for v, y in pts if v is None), None)
    moved = slope != 0
    if null is not None:
        moved |= null != a
    idx = np.nonzero(moved)[0]
    if any(np.intersect1d(idx, other.idx).size for other in b.learnt.values()):
        return  # levers that move the same numbers are not added up
    b.learnt[lever] = _Affine(idx, a[idx], slope[idx], None if null is None else null[idx].copy())


def build_structure(state: Levers) -> Built:
    """Build, solve (cold) and prepare a structure for warm moves."""
    from ..lp.core import solve
    from ..lp.model import build_lp
    from ..optimizer import _highs_options

    sc = scenario_of(state)
    net = build_network(sc)
    with SOLVER_LOCK:
        lp = build_lp(net)
        m = lp.model
        opts = _highs_options(sc, None)
        opts["solver"] = "simplex"  # a basis to warm-start from
        lp.solution, h = solve(m, opts, callbacks=True)  # interruptible: web/bases.py races it
    # lp.core labels are HiGHS's columns and rows
    col_of = _label_map(np.arange(m.n_columns), m.n_columns)
    row_of = _label_map(np.arange(m.n_rows), m.n_rows)
    ds = net.ds
    cells = _fixed_cells(ds)
    T = ds.sizes[PERIOD]
    y0 = _warm_vector(ds, cells)
    rows_y = np.full(len(y0), -1, np.int64)
    factor = np.zeros(len(y0))
    equal = np.zeros(len(y0), bool)
    if "cash" in m.constraints:
        con = m.constraints["cash"]
        lab = con.labels
        rows_y[:T] = np.where(lab >= 0, row_of[np.maximum(lab, 0)], -1)
        factor[:T] = 1.0 / lp.scaling.money
        equal[:T] = con.sign == "="
    if "market-cap" in m.constraints:
        mc = m.constraints["market-cap"].dataarray().transpose(PROCESS, REGION, PERIOD).values
        lab = mc[cells]
        rows_y[T:] = np.where(lab >= 0, row_of[np.maximum(lab, 0)], -1)
        s_p = lp.scaling.process[cells[0]]
        factor[T:] = ds["availability"].values[cells] / s_p
    b = Built(net, lp, h, state, col_of, row_of, y0, cells, rows_y, factor, equal)
    _check_rows(b)
    b.readout = _readout_matrices(b)
    b.cost_by_period = _objective_by_period(b)
    b.dual_sign = _dual_sign(b)
    b.rhs0 = {name: m.constraints[name].rhs.copy() for name in m.constraints if name in lp.registry}
    lp_h = h.getLp()
    b.bounds0 = (np.asarray(lp_h.row_lower_).copy(), np.asarray(lp_h.row_upper_).copy())
    b.row_lo, b.row_up = b.bounds0[0].copy(), b.bounds0[1].copy()
    b.rate = state.discount_rate
    b.solved = h
    return b


def _check_rows(b: Built) -> None:
    """The learnt map is only used if it reproduces the LP's own right-hand sides."""
    lp_h = b.highs.getLp()
    lo, up = np.asarray(lp_h.row_lower_), np.asarray(lp_h.row_upper_)
    has = b.rows_y >= 0
    want = b.y0[has] * b.row_factor[has]
    got = up[b.rows_y[has]]
    if not np.allclose(got, want, rtol=1e-9, atol=1e-9):
        b.rows_y[:] = -1  # no warm levers for this structure
        b.learnt.clear()
        return
    eq = b.row_equal[has]
    if not np.allclose(lo[b.rows_y[has]][eq], want[eq], rtol=1e-9, atol=1e-9):
        b.rows_y[:] = -1


def _objective_by_period(b: Built):
    """(T x columns) sparse matrix G with cost = discount @ G, when the objective is the
    discounted compute with the cost tie-break; None otherwise (discount is then cold)."""
    from ..constants import Objective
    from ..lp.model import COMPUTE_SCALE, EPS_COST, MONEY_SCALE

    lp, net = b.lp, b.net
    if net.scenario.objective.kind is not Objective.MAX_DISCOUNTED_COMPUTE:
        return None
    T = net.ds.sizes[PERIOD]
    t = np.arange(T)
    comp = _expr_matrix(lp.compute_expr, b.col_of_label, t, T)
    spend = _expr_matrix(lp.spend_expr, b.col_of_label, t, T)
    w = EPS_COST * (lp.scaling.money / MONEY_SCALE) * (COMPUTE_SCALE / lp.scaling.compute)
    G = comp * net.periods.dt - spend * w
    c = np.asarray(b.highs.getLp().col_cost_)
    disc = net.ds["discount"].values
    mine = disc @ G
    # HiGHS may store a maximisation as it is or negated
    for sign in (1.0, -1.0):
        if np.allclose(sign * mine, c, rtol=1e-9, atol=1e-12):
            return G * sign
    return None


def _dual_sign(b: Built) -> float:
    m = b.lp.model
    row_dual = np.asarray(b.highs.getSolution().row_dual)
    for name in m.constraints:
        con = m.constraints[name]
        lab = con.labels.ravel()
        d = b.lp.solution.dual(con).ravel()
        ok = (lab >= 0) & (np.abs(d) > 1e-9)
        if ok.any():
            mine = row_dual[b.row_of_label[lab[ok]]]
            return 1.0 if np.allclose(mine, d[ok], rtol=1e-6, atol=1e-12) else -1.0
    return 1.0


def discount_factors(net: Network, rate: float) -> np.ndarray:
    years = net.periods.years
    return (1.0 + rate) ** -(years - years[0])


# --------------------------------------------------------------------------- moves


def warm_possible(b: Built, state: Levers) -> bool:
    """Whether ``state`` is a warm move of structure ``b`` (learning the levers it moves)."""
    if state.structure() != b.state.structure():
        return False
    for lever in WARM_LEVERS:
        v = getattr(state, lever)
        if v != getattr(b.state, lever):
            learn_lever(b, lever)
            aff = b.learnt.get(lever)
            if aff is None or (v is None and aff.null is None):
                return False
    if state.discount_rate != b.state.discount_rate and b.cost_by_period is None:
        return False
    return True


def warm_vector(b: Built, state: Levers) -> np.ndarray:
    y = b.y0.copy()
    for lever, aff in b.learnt.items():
        v = getattr(state, lever)
        if v is None and aff.null is None:
            raise ValueError(f"{lever} has no catalog path here")
        y[aff.idx] = aff.null if v is None else aff.a + aff.b * float(v)
    return y


def apply_state(b: Built, state: Levers) -> np.ndarray:
    """Change the HiGHS model's rows and costs to ``state`` (and its racing twin's, see
    :mod:`.bases`); return the warm vector. Only the rows whose bounds differ from the
    model's, and the costs when the discount rate moved, are sent to HiGHS."""
    if b.racer is not None:
        b.racer.settle()  # a stopped loser of the last race may still be winding down
    solvers = [b.highs] if b.racer is None else [b.highs, b.racer.twin]
    y = warm_vector(b, state)
    has = b.rows_y >= 0
    rows = b.rows_y[has]
    up = y[has] * b.row_factor[has]
    lo0, _ = b.bounds0  # type: ignore[misc]
    lo = np.where(b.row_equal[has], up, lo0[rows])
    cur_lo, cur_up = b.row_lo, b.row_up
    assert cur_lo is not None and cur_up is not None
    moved = (lo != cur_lo[rows]) | (up != cur_up[rows])
    if moved.any():
        r = rows[moved]
        for h in solvers:
            h.changeRowsBounds(len(r), r.astype(np.int32), lo[moved], up[moved])
        cur_lo[r], cur_up[r] = lo[moved], up[moved]
    costs = b.cost_by_period is not None and state.discount_rate != b.rate
    if costs:
        c = discount_factors(b.net, state.discount_rate) @ b.cost_by_period
        n = len(c)
        for h in solvers:
            h.changeColsCost(n, np.arange(n, dtype=np.int32), np.asarray(c, float))
        b.rate = state.discount_rate
    b.changed = bool(moved.any() or costs)
    # the previous basis stays primal feasible when only costs moved: primal simplex then
    # (a third of dual's iterations on the discount slider); dual simplex after bounds moved
    b.highs.setOptionValue("simplex_strategy", PRIMAL if costs and not moved.any() else DUAL)
    return y


def solve_moved(b: Built) -> tuple[Any, str]:
    """Re-solve ``b`` after :func:`apply_state`: the warm run races a fresh solve of the
    same LP when something changed (:func:`.bases.race`); returns the HiGHS object holding
    the optimum and how it was found."""
    from .bases import WARM, can_race, make_racer, race

    if not b.changed and b.solved is not None:
        return b.solved, "unchanged"  # the LP is the one last solved
    if not can_race(b.highs):
        b.highs.run()
        b.solved = b.highs
        return b.highs, WARM
    if b.racer is None:
        b.racer = make_racer(b.highs)
    b.solved, how = race(b.racer, b.highs)
    return b.solved, how


# --------------------------------------------------------------------------- readout


def readout(b: Built, y: np.ndarray, state: Levers, h: Any = None) -> dict[str, Any]:
    """What the page draws, from the HiGHS solution of the session's model (held by ``h``:
    the structure's own object, or its racing twin when that found the optimum first)."""
    from ..bottlenecks import first_binding, group_bottlenecks

    h = b.highs if h is None else h
    status = h.modelStatusToString(h.getModelStatus())
    ds = b.net.ds
    T = ds.sizes[PERIOD]
    years = [int(p) if float(p).is_integer() else float(p) for p in b.net.periods.years]
    out: dict[str, Any] = {"status": "optimal" if status == "Optimal" else status.lower()}
    if status != "Optimal":
        return out
    sol = h.getSolution()
    x = np.asarray(sol.col_value)
    ro = b.readout
    from ..lp.model import COMPUTE_SCALE

    compute = ro["compute"] @ x * COMPUTE_SCALE if "compute" in ro else np.zeros(T)
    spend = (ro["spend"] @ x).reshape(len(ro["categories"]), T)
    cats = ro["categories"]
    funding = y[:T]
    out.update(
        {
            "periods": [str(p) for p in ds.indexes[PERIOD]],
            "years": years,
            "compute_h100e": [float(v) for v in compute],
            "spend_by_category_usd": {
                c: [float(v) for v in spend[i]]
                for i, c in enumerate(cats)
                if np.abs(spend[i]).sum() > 0
            },
            "spend_total_usd": float(spend.sum()),
            "funding_total_usd": float(funding.sum()),
            "objective_value": float(h.getInfo().objective_function_value),
        }
    )
    words: dict[int, Any] = {}  # the sentences are written only for what is sent
    items = _fast_bottlenecks(b, np.asarray(sol.row_dual), words)

    def whole(x: Any) -> dict[str, Any]:
        d = _item_dict(x)
        d["description"] = words[id(x)]()
        return d

    groups = group_bottlenecks(items, b.lp.registry)
    fb = first_binding(items, b.lp.registry)
    out["binds"] = [_group_dict(g, whole) for g in groups[:8]]
    out["first_binding"] = whole(fb) if fb else None
    return out


_ITEM_FIELDS = (
    "constraint",
    "item",
    "region",
    "period",
    "shadow_price",
    "unit",
    "value_usd",
    "importance",
    "description",
)


def _item_dict(x: Any) -> dict[str, Any]:
    """``Bottleneck.to_dict`` without ``dataclasses.asdict``'s deep copy (its fields are
    plain strings and numbers: the same dict, a tenth of the time)."""
    from ..bottlenecks import _plainval

    d = {k: getattr(x, k) for k in _ITEM_FIELDS}
    d["period"] = _plainval(d["period"])
    return d


def _group_dict(g: Any, whole: Any) -> dict[str, Any]:
    """``BottleneckGroup.to_dict`` with its two items written by ``whole``."""
    from ..bottlenecks import _plainval

    d = {k: getattr(g, k) for k in ("constraint", "item", "region", "n_periods", "importance")}
    d["first_period"] = _plainval(g.first_period)
    d["last_period"] = _plainval(g.last_period)
    d["first"] = whole(g.first)
    d["peak"] = whole(g.peak)
    return d


@dataclass
class _ReportFamily:
    """One reported constraint family on the network's full coordinates, in the registry's
    dimension order, with everything of the bottleneck report that a move cannot change."""

    fam: Any  # fab2flop.lp.registry.Family
    rows: np.ndarray  # HiGHS row of each cell (0 where masked)
    ok: np.ndarray  # the cell has a row
    factor: np.ndarray  # d(model rhs)/d(natural rhs), broadcast to the cells
    lim: np.ndarray  # |dual| [natural objective units] above which a cell binds
    rhs0: np.ndarray  # model rhs of the base state
    labels: dict[str, list[str]]  # item labels along each dimension
    units: dict[str, dict[str, str]]  # {field} texts of the unit template, by item
    whats: dict[str, dict[str, str]]  # {field} texts of the item's name, by item
    shown_units: dict[str, tuple[str, float]] = field(default_factory=dict)  # item -> unit, f


@dataclass
class _Report:
    """The bottleneck report of a structure, prepared once (see :func:`_fast_bottlenecks`)."""

    fams: list[_ReportFamily]  # in the report's order (limits, balances, money, targets)
    money: _ReportFamily | None
    minimise: bool
    obj_scale: float
    periods: list
    dt: float


def _report_family(b: Built, fam: Any, base: xr.Dataset, tol: float) -> _ReportFamily | None:
    from ..bottlenecks import _item_names
    from ..solution import family_scale

    m = b.lp.model
    if fam.name not in m.constraints:
        return None
    con = m.constraints[fam.name]
    lab = con.dataarray().transpose(*fam.dims)
    dims = fam.dims
    # onto the network's full coordinates (a family may cover a subset of carriers)
    full = tuple(base.sizes[d] for d in dims)
    pos = np.ix_(*(base.indexes[d].get_indexer(lab.indexes[d]) for d in dims))
    labels = np.full(full, -1, np.int64)
    labels[pos] = lab.values
    rhs0 = np.full(full, np.nan)
    rhs0[pos] = con.dataarray(con.rhs).transpose(*dims).values
    ok = labels >= 0
    rows = np.where(ok, b.row_of_label[np.maximum(labels, 0)], 0)
    f = family_scale(fam, b.net.ds, base)
    if isinstance(f, xr.DataArray):
        tmpl = xr.DataArray(np.zeros(full), coords={d: base.indexes[d] for d in dims}, dims=dims)
        fv = f.broadcast_like(tmpl).transpose(*dims).values
    else:
        fv = np.asarray(f, float)
    fac = np.broadcast_to(np.asarray(fv, float), full).copy()
    idim = fam.item_dim
    return _ReportFamily(
        fam,
        rows,
        ok,
        fac,
        tol * np.abs(fac),  # as bottlenecks._binds: TOL x objective scale x |scale|
        rhs0,
        {d: [str(i) for i in base.indexes[d]] for d in dims},
        _item_names(fam.unit, idim, b.net.ds, base),
        _item_names(fam.what, idim, b.net.ds, base),
    )


def _prepare_report(b: Built) -> _Report:
    """What the bottleneck report of every move of ``b`` shares, computed once."""
    from ..bottlenecks import _REPORTED, _plainval
    from ..constants import Objective
    from ..lp.registry import Group
    from ..results import process_labels
    from ..solution import _empty_scales

    lp = b.lp
    base = _empty_scales(lp)
    base.coords["process_label"] = (PROCESS, process_labels(b.net))  # as Results.from_lp
    obj_scale = float(base.attrs["objective_scale"])
    minimise = base.attrs["objective"] == Objective.MIN_COST_FOR_PATH.value
    reported = sorted(lp.registry.constraints(*_REPORTED), key=lambda f: _REPORTED.index(f.group))
    fams = []
    for fam in reported:
        if fam.group is Group.MONEY and minimise:
            continue  # in a cost objective money is what the duals are measured in
        rf = _report_family(b, fam, base, TOL * obj_scale)
        if rf is not None:
            fams.append(rf)
    money = None
    mfam = lp.registry.money()
    if mfam is not None and not minimise:
        money = next((rf for rf in fams if rf.fam.name == mfam.name), None)
        if money is None:
            money = _report_family(b, mfam, base, TOL * obj_scale)
    ds = b.net.ds
    periods = [_plainval(p) for p in ds.indexes[PERIOD]]
    return _Report(fams, money, minimise, obj_scale, periods, float(ds.attrs["dt_years"]))


def _fast_bottlenecks(b: Built, row_dual: np.ndarray, words: dict | None = None) -> list:
    """``bottlenecks.bottlenecks`` of the session's current solution, from HiGHS's row duals
    and bounds with numpy (same items, numbers and words; tests/web/test_session.py).

    With ``words``, the items' descriptions are left empty and ``words[id(item)]()`` writes
    one (most items are never shown)."""
    if "report" not in b.readout:
        b.readout["report"] = _prepare_report(b)
    rep: _Report = b.readout["report"]
    lo0, up0 = b.bounds0  # type: ignore[misc]
    up, lo = b.row_up, b.row_lo  # the model's current bounds (apply_state keeps them)
    assert up is not None and lo is not None
    lam = lam_binds = None
    if rep.money is not None:
        d = _natural_dual(rep.money, row_dual, b.dual_sign, rep.obj_scale)
        lam = np.abs(np.nan_to_num(d))
        lam_binds = lam > rep.money.lim
    out: list = []
    for rf in rep.fams:
        r = rf.rows
        if not (np.abs(row_dual[r[rf.ok]]) > 0.5 * TOL).any():
            continue  # nothing above the report's noise level (TOL, in model units)
        dual = _natural_dual(rf, row_dual, b.dual_sign, rep.obj_scale)
        hit = np.abs(np.nan_to_num(dual)) > rf.lim
        if not hit.any():
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            shift = np.where(np.isfinite(up0[r]), up[r] - up0[r], lo[r] - lo0[r])
            rhs = np.where(rf.ok, (rf.rhs0 + np.nan_to_num(shift)) / rf.factor, np.nan)
        rvals = np.nan_to_num(rhs, posinf=0.0, neginf=0.0)
        out += _items_of(rf, dual, rvals, hit, rep, lam, lam_binds, words)
    out.sort(key=lambda x: (-x.importance, str(x.period)))
    return out


def _natural_dual(rf: _ReportFamily, row_dual: np.ndarray, sign: float, obj_scale: float):
    """Duals in objective units per natural unit, NaN where a cell has no row."""
    return np.where(rf.ok, row_dual[rf.rows] * sign * rf.factor * obj_scale, np.nan)


_FLOAT_MAX = float(np.finfo(float).max)


def _nan_to_num(x: float) -> float:
    """``float(np.nan_to_num(x))`` of one float, without numpy's per-call overhead."""
    if x != x:
        return 0.0
    if x in (float("inf"), float("-inf")):
        return _FLOAT_MAX if x > 0 else -_FLOAT_MAX
    return x


def _items_of(rf: _ReportFamily, dual, rvals, hit, rep: _Report, lam, lam_binds, words) -> list:
    """The binding items of one family, as ``bottlenecks._family_items`` words them (the
    wording deferred into ``words`` when it is given)."""
    from ..bottlenecks import (
        MIN_H100E_YEARS,
        REPORT_COMPUTE_UNIT,
        Bottleneck,
        _fill,
        _fmt_usd,
        _when,
        _worth,
        display_unit,
    )
    from ..lp.registry import Group

    fam = rf.fam
    idim = fam.item_dim
    scale = 1.0 if rep.minimise else REPORT_COMPUTE_UNIT
    nz = np.nonzero(hit)  # numbers as Python floats and ints: no numpy scalar per item
    dvals = np.abs(np.nan_to_num(dual))[nz].tolist()
    duals, rhs = dual[nz].tolist(), rvals[nz].tolist()
    at = {d: a.tolist() for d, a in zip(fam.dims, nz, strict=True)}
    lam_t = None if lam is None else lam.tolist()
    binds_t = None if lam_binds is None else lam_binds.tolist()
    money_or_target = fam.group in (Group.MONEY, Group.TARGET)
    out = []
    for i in range(len(dvals)):
        t = at[PERIOD][i]
        item = rf.labels[idim][at[idim][i]] if idim else fam.what
        region = rf.labels[REGION][at[REGION][i]] if REGION in at else None
        unit, f = fam.unit, 1.0
        if "{" in unit:  # the same for every move: worked out once per item
            shown = rf.shown_units.get(item)
            if shown is None:
                shown = rf.shown_units[item] = display_unit(_fill(unit, rf.units, item))
            unit, f = shown
        d = dvals[i] * f  # natural objective units per displayed unit
        if not (money_or_target or rep.minimise):
            if d < MIN_H100E_YEARS:  # only the cost tie-break priced it
                continue
        if rep.minimise:
            v: float | None = d
        elif lam_t is not None and binds_t[t]:
            v = d / lam_t[t]
        else:
            v = None
        imp = abs(duals[i] * rhs[i])

        def text(unit=unit, item=item, region=region, t=t, v=v, d=d) -> str:
            return fam.phrase.format(
                unit=unit,
                what=_fill(fam.what, rf.whats, item),
                region=region or "",
                in_region=f" in {region}" if region else "",
                when=_when(rep.periods[t], rep.dt, fam.basis),
                worth=_worth(v, d, rep.minimise),
                cost=_fmt_usd(d),
                thousand_per_billion=f"{d * 1e6:.3g}",
            )

        x = Bottleneck(
            fam.name,
            item,
            region,
            rep.periods[t],
            d / scale,
            unit,
            v,
            _nan_to_num(imp / scale),
            "" if words is not None else text(),
        )
        if words is not None:
            words[id(x)] = text
        out.append(x)
    return out


# --------------------------------------------------------------------------- sessions


@dataclass
class Session:
    """One browser's model: the structures it has built (a few, most recent last)."""

    built: list[Built] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    last_used: float = field(default_factory=time.monotonic)
    max_structures: int = 3
    # answers by state (levers -> readout), least recently used dropped: a slider moved back
    # to a notch it was on is answered without a solve
    answers: OrderedDict = field(default_factory=OrderedDict)
    max_answers: int = 512
    # after a cold build, learn every warm lever in a background thread (the server does:
    # the page is read before a slider moves); else each lever is learnt on its first move
    learn_ahead: bool = False
    learner: threading.Thread | None = None  # the last learning thread started

    def _learn(self, b: Built) -> None:
        with self.lock:
            for lever in WARM_LEVERS:
                learn_lever(b, lever)

    def solve(self, state: Levers, force_cold: bool = False) -> dict[str, Any]:
        """Solve ``state``: a state answered before from memory, else warm from a structure
        already built when possible, else cold. ``cpu_ms`` is this thread's CPU time for
        it (wall time on a busy machine is longer)."""
        t0, c0 = time.perf_counter(), time.thread_time()
        self.last_used = time.monotonic()
        key = tuple(state.model_dump().items())
        with self.lock:
            hit = None if force_cold else self.answers.get(key)
            if hit is not None:
                self.answers.move_to_end(key)
                out = copy.deepcopy(hit)
                out["mode"] = "cached"
                out["elapsed_ms"] = (time.perf_counter() - t0) * 1e3
                out["cpu_ms"] = (time.thread_time() - c0) * 1e3
                return out
            b = (
                None
                if force_cold
                else next((x for x in reversed(self.built) if warm_possible(x, state)), None)
            )
            mode = "warm"
            if b is None:
                b = build_structure(state)
                self.built.append(b)
                mode = "cold"
            self.built.remove(b)  # the most recently used last
            self.built = (self.built + [b])[-self.max_structures :]
            with SOLVER_LOCK:
                y = apply_state(b, state)
                t1 = time.perf_counter()
                h, how = solve_moved(b)
                t2, c2 = time.perf_counter(), time.thread_time()
                out = readout(b, y, state, h)
                out["simplex_iterations"] = int(h.getInfo().simplex_iteration_count)
                out["solved_by"] = how
                out["solve_ms"] = (t2 - t1) * 1e3
                out["readout_ms"] = (time.perf_counter() - t2) * 1e3
                out["readout_cpu_ms"] = (time.thread_time() - c2) * 1e3
                if b.racer is not None and how != "unchanged":
                    out["race_cpu_ms"] = dict(b.racer.cpu_ms)
            if out.get("status") == "optimal":
                self.answers[key] = copy.deepcopy(out)
                while len(self.answers) > self.max_answers:
                    self.answers.popitem(last=False)
        out["mode"] = mode
        out["elapsed_ms"] = (time.perf_counter() - t0) * 1e3
        out["cpu_ms"] = (time.thread_time() - c0) * 1e3
        if mode == "cold" and self.learn_ahead:
            self.learner = threading.Thread(target=self._learn, args=(b,), daemon=True)
            self.learner.start()
        return out


__all__ = [
    "Levers",
    "Session",
    "SOLVER_LOCK",
    "build_structure",
    "scenario_of",
    "scenario_dict",
    "lever_overrides",
]
