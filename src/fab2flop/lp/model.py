"""The capacity-expansion LP, built from small ``define_*`` functions in a fixed order.

Variables (all ≥ 0, in scaled units — see :class:`Scaling`):

``new[p,r,t]``     capacity opening in period t (construction started ``open_lead[p,r,t]``
                   periods earlier; absent where nothing may open)
``cap[p,r,t]``     capacity standing of a buildable process (a stock: last period's less
                   what was destroyed, + new − retired)
``act[p,r,t]``     activity, a rate per year (or a standing rate for rate carriers)
``inv[c,t]``       inventory of a storable, worldwide carrier carried to the next period
``deploy[a,r,t]``  accelerators installed in period t;  ``inst[a,r,t]`` the installed fleet
``cash[t]``        money carried to the next period

Constraints are named ``"<family>"`` (``capacity-stock``, ``activity-ramp``, ``market-cap``,
``balance``, ``balance-regional``, ``fleet-stock``, ``export-cap``, ``cash``, ...); the
bottleneck report reads their duals by family.

The dynamics in time (stock, ramp, where capacity may open, capex schedule, when build
inputs are consumed, fleet) are written once in :mod:`fab2flop.dynamics`; every lag and
coefficient of those rows comes from its kernels, so a simulator calling the same
functions on the same decisions gets the LP's capacity, fleet and spend.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from .. import dynamics as dyn
from ..constants import (
    ACCELERATOR,
    CARRIER,
    H100_FLOPS_BF16_DENSE,
    PERIOD,
    PROCESS,
    REGION,
    Objective,
)
from ..network import Network
from . import core
from .ramp import define_ramp
from .registry import Registry, registers
from .terms import (
    constraint,
    expression,
    lag_terms,
    lagged,
    present,
    shifted,
    sparse_rows,
    stack_terms,
)

MONEY_SCALE = 1e9  # model money unit: billion USD
COMPUTE_SCALE = 1e6  # model compute unit: million H100-equivalents
EPS_COST = 1e-6  # tie-break: objective units per billion USD of discounted spend


@dataclass
class Scaling:
    """Natural units per model unit, for reading the solution back."""

    process: np.ndarray  # (P,) activity/capacity scale of each process
    carrier: np.ndarray  # (C,)
    accelerator: np.ndarray  # (A,)
    money: float = MONEY_SCALE
    compute: float = COMPUTE_SCALE


@dataclass(frozen=True)
class LPOptions:
    """Formulation switches, kept for benchmarks that show why the defaults are what they are.

    ``formulation="stock"`` carries capacity from one period to the next (one row per period
    with three terms); ``"dense"`` writes capacity in every row as the sum of all earlier
    builds still alive, the form that makes large instances many times slower.
    ``scaled=False`` keeps natural units (USD and each carrier's own unit) inside the LP.
    """

    formulation: str = "stock"
    scaled: bool = True


@dataclass
class LP:
    """A built model with what post-processing needs."""

    model: core.Model
    net: Network
    scaling: Scaling
    options: LPOptions = LPOptions()
    spend_terms: dict[str, core.Expression] | None = None
    spend_expr: core.Expression | None = None
    compute_expr: core.Expression | None = None
    registry: Registry = field(default_factory=Registry)  # families defined (lp/registry.py)
    # arrays a family defined outside the core keeps on the solution Dataset: its items'
    # words ({input_unit}, {input_label}) and its scales (scale_<name>, see lp/registry.py)
    coords: dict[str, xr.DataArray] = field(default_factory=dict)
    # family -> the part of its limit that moves with the plan (model units, the family's
    # dims), for rows written ``lhs - limit(x) <= rhs``: rhs_<family> reports rhs + limit(x)
    limits: dict[str, core.Expression] = field(default_factory=dict)
    solution: core.Solution | None = None  # set by the solve (fab2flop.optimizer)


Hook = Callable[[LP], None]


def _masked(net: Network, arr: np.ndarray, dims: tuple[str, ...]) -> xr.DataArray:
    return xr.DataArray(arr, coords={d: net.ds.indexes[d] for d in dims}, dims=dims)


def _coords(ds: xr.Dataset, *dims: str) -> dict:
    return {d: ds.indexes[d] for d in dims}


@registers("new", "cap", "act", "inv", "deploy", "inst", "cash", kind="variable")
def define_variables(lp: LP) -> None:
    net, ds, m = lp.net, lp.net.ds, lp.model
    T = ds.sizes[PERIOD]
    exists = ds["exists"].values
    buildable = ds["buildable"].values & ~ds["unlimited"].values
    active = ds["active"].values
    dt = net.periods.dt
    s_p = lp.scaling.process[:, None, None]

    # nothing opens before its construction could start, nor where an event forbids it
    new_mask = (
        exists[:, :, None]
        & buildable[:, None, None]
        & ds["region_enabled"].values[None, :, None]
        & dyn.opening_mask(ds["open_lead_periods"].values)
    )
    max_new = ds["max_new_per_year"].values * dt / s_p
    ub = np.where(np.isfinite(max_new), max_new, np.inf)
    coords_prt = _coords(ds, PROCESS, REGION, PERIOD)
    m.add_variables("new", coords_prt, lower=0.0, upper=ub, mask=new_mask)
    cap_mask = exists[:, :, None] & buildable[:, None, None] & np.ones(T, bool)
    m.add_variables("cap", coords_prt, lower=0.0, mask=cap_mask)
    # no activity where nothing is available: a disabled region, a total outage. This is what
    # stops processes without a capacity (assembly, purchases, stacking) in an outage; a
    # partial outage limits them only through their inputs.
    act_mask = exists[:, :, None] & active[:, None, :] & (ds["availability"].values > 0)
    m.add_variables("act", coords_prt, lower=0.0, mask=act_mask)

    storable = ds["carrier_storable"].values & (ds["carrier_scope"].values == "global")
    coords_ct = _coords(ds, CARRIER, PERIOD)
    inv_mask = np.broadcast_to(storable[:, None], (len(storable), T)).copy()
    inv_mask[:, -1] = False  # nothing carried beyond the horizon
    m.add_variables("inv", coords_ct, lower=0.0, mask=inv_mask)

    if ds.sizes[ACCELERATOR]:
        coords_art = _coords(ds, ACCELERATOR, REGION, PERIOD)
        dcr = ds["datacenter_region"].values
        fmask = np.broadcast_to(dcr[None, :, None], (ds.sizes[ACCELERATOR], len(dcr), T)).copy()
        m.add_variables("deploy", coords_art, lower=0.0, mask=fmask)
        m.add_variables("inst", coords_art, lower=0.0, mask=fmask)
    sc = net.scenario.budget
    if sc.enforce and sc.carry_over:
        m.add_variables("cash", _coords(ds, PERIOD), lower=0.0)


PRT = (PROCESS, REGION, PERIOD)


def _rows(
    lp: LP,
    v: np.ndarray,
    c: np.ndarray,
    sign: str,
    rhs: np.ndarray | float,
    dims: tuple[str, ...] = PRT,
) -> core.Comparison:
    """Constraint rows from raw (dims..., term) arrays of labels and coefficients."""
    return constraint(v, c, sign, rhs, dims, _coords(lp.net.ds, *dims))


def _destroyed(ds: xr.Dataset) -> np.ndarray | None:
    """destroyed_fraction (P,R,T), or None when no event destroys anything."""
    d = ds["destroyed_fraction"].values
    return d if d.any() else None


@registers("capacity-stock", "capacity-max")
def define_capacity(lp: LP) -> None:
    """cap[t] = keep[t]·(cap[t-1] − E[t-1]) + E[t] + new[t] − retire[t]·new[t − life].

    ``keep = 1 − destroyed_fraction`` and ``retire`` (the surviving share of the cohort
    that retires) come from :func:`fab2flop.dynamics.stock_recursion`; without destruction
    both are 1 and the row is cap[t] − cap[t-1] − new[t] + new[t − life] = E[t] − E[t-1].
    ``cap`` is the capacity standing (existing included).
    """
    net, ds, m = lp.net, lp.net.ds, lp.model
    cap, new = m.variables["cap"], m.variables["new"]
    T = ds.sizes[PERIOD]
    s_p = lp.scaling.process[:, None, None]
    life = ds["life_periods"].values[:, None]  # (P,1): per process, all regions
    d = _destroyed(ds)
    existing = ds["existing"].values / s_p
    cap_lab, new_lab = cap.labels, new.labels
    mask = cap.labels >= 0
    if lp.options.formulation == "dense":
        ker = dyn.stock_kernel(life, T, d)  # every earlier build still alive, in every row
        v, c = stack_terms([(cap_lab[..., None], 1.0), lag_terms(new_lab, ker.lags, -ker.weights)])
        rhs = existing
    else:
        keep, retire = dyn.stock_recursion(life, T, d)
        v, c = stack_terms(
            [
                (cap_lab[..., None], 1.0),
                lag_terms(cap_lab, np.array([1]), -keep[..., None]),
                (new_lab[..., None], -1.0),
                lag_terms(new_lab, life[..., None, None], retire[..., None]),
            ]
        )
        rhs = existing - keep * dyn.shift(existing, 1)
    m.add_constraints(_rows(lp, v, c, "=", rhs), name="capacity-stock", mask=mask)
    mc = ds["max_capacity"].values / s_p
    fin = np.isfinite(mc) & mask
    if fin.any():
        m.add_constraints(
            _rows(lp, cap_lab[..., None], np.ones((*fin.shape, 1)), "<=", np.where(fin, mc, 0.0)),
            name="capacity-max",
            mask=_masked(net, fin, PRT),
        )


@registers("activity-ramp", "market-cap")
def define_activity(lp: LP) -> None:
    """Activity within available capacity, less the unripe share of capacity still ramping
    up (:func:`fab2flop.dynamics.ramp_kernel`, which also applies destruction)."""
    net, ds, m = lp.net, lp.net.ds, lp.model
    act, cap, new = m.variables["act"], m.variables["cap"], m.variables["new"]
    T = ds.sizes[PERIOD]
    avail = ds["availability"].values  # (P,R,T)
    ker = dyn.ramp_kernel(
        ds["ramp_periods"].values[:, None], ds["life_periods"].values[:, None], T, _destroyed(ds)
    )
    buildable = ds["buildable"].values & ~ds["unlimited"].values
    act_lab = act.labels
    am = act_lab >= 0
    bmask = am & buildable[:, None, None]
    v, c = stack_terms(
        [
            (act_lab[..., None], 1.0),
            (cap.labels[..., None], -avail[..., None]),
            lag_terms(new.labels, ker.lags, avail[..., None] * ker.weights),
        ]
    )
    # rows ordered period-first, as the model laid them out before lp.core: the same
    # matrix row order keeps HiGHS on the same path (same vertex among equal optima)
    tpr = (PERIOD, PROCESS, REGION)
    v, c = v.transpose(2, 0, 1, 3), c.transpose(2, 0, 1, 3)
    m.add_constraints(
        _rows(lp, v, c, "<=", 0.0, tpr),
        name="activity-ramp",
        mask=_masked(net, bmask.transpose(2, 0, 1), tpr),
    )
    fixed_cap = am & ~ds["buildable"].values[:, None, None] & ~ds["unlimited"].values[:, None, None]
    if fixed_cap.any():
        s_p = lp.scaling.process[:, None, None]
        rhs = avail * ds["existing"].values / s_p
        m.add_constraints(
            _rows(lp, act_lab[..., None], np.ones((*act_lab.shape, 1)), "<=", rhs),
            name="market-cap",
            mask=_masked(net, fixed_cap, PRT),
        )


@registers("balance", "balance-regional")
def define_balances(lp: LP) -> None:
    """Carrier balances: made + carried in ≥ used + built into capacity + deployed + carried out."""
    net, ds, m = lp.net, lp.net.ds, lp.model
    P, R, T = ds.sizes[PROCESS], ds.sizes[REGION], ds.sizes[PERIOD]
    dt = net.periods.dt
    act, new = m.variables["act"], m.variables["new"]
    io, bio = ds["io"].values, ds["build_io"].values
    s_p, s_c = lp.scaling.process, lp.scaling.carrier
    kind = ds["carrier_kind"].values
    is_global = ds["carrier_scope"].values == "global"
    exists = ds["exists"].values
    act_lab = act.labels.reshape(P * R, T)
    # build inputs are consumed when construction starts: row t takes new[t + j] where
    # the capacity opening in t + j has a lead of j periods (dynamics.build_start_kernel)
    start = dyn.build_start_kernel(ds["open_lead_periods"].values)
    new_lab = new.labels

    g_idx = np.flatnonzero(is_global)
    r_idx = np.flatnonzero(~is_global)
    g_pos = {int(c): i for i, c in enumerate(g_idx)}
    r_pos = {int(c): i for i, c in enumerate(r_idx)}
    # quantity carriers count amounts per period (rate × dt); rate carriers the standing rate
    per_period = np.where(kind == "quantity", dt, 1.0)

    def rows_for(mat: np.ndarray, sign: float, timescale: bool, where=exists):
        gp: tuple[list, list, list] = ([], [], [])
        rp: tuple[list, list, list] = ([], [], [])
        pp, cc = np.nonzero(mat)
        for p, c in zip(pp, cc, strict=True):
            coef = sign * mat[p, c] * s_p[p] / s_c[c] * (per_period[c] if timescale else 1.0)
            for r in np.flatnonzero(where[p]):
                col = p * R + r
                if is_global[c]:
                    gp[0].append(g_pos[int(c)])
                    gp[1].append(col)
                    gp[2].append(coef)
                else:
                    rp[0].append(r_pos[int(c)] * R + r)
                    rp[1].append(col)
                    rp[2].append(coef)
        return [np.asarray(x) for x in gp], [np.asarray(x) for x in rp]

    ga, ra = rows_for(io, 1.0, True)
    g_parts = [(act_lab, *ga)]
    r_parts = [(act_lab, *ra)]
    for j, lag in enumerate(start.lags):
        w = start.weights[..., j]  # (P,R,T)
        lab = np.where(w != 0, dyn.shift(new_lab, int(lag), fill=-1), -1)
        hit = (lab >= 0).any(axis=2)  # (P,R): some capacity opens j periods after a start
        if not hit.any():
            continue
        lab, w2 = lab.reshape(P * R, T), w.reshape(P * R, T)
        gb, rb = rows_for(bio, -1.0, False, hit)
        if len(gb[1]):
            g_parts.append((lab, gb[0], gb[1], gb[2][:, None] * w2[gb[1]]))
        if len(rb[1]):
            r_parts.append((lab, rb[0], rb[1], rb[2][:, None] * w2[rb[1]]))

    # fleet: accelerators leave their carrier when deployed; the installed fleet draws
    if "deploy" in m.variables:
        A = ds.sizes[ACCELERATOR]
        dep = m.variables["deploy"].labels.reshape(A * R, T)
        inst = m.variables["inst"].labels.reshape(A * R, T)
        cidx = list(ds.indexes[CARRIER])
        s_a = lp.scaling.accelerator
        rows, cols, coefs = [], [], []
        for a, c in enumerate(ds["acc_carrier"].values):
            ci = cidx.index(c)
            for r in range(R):
                rows.append(g_pos[ci])
                cols.append(a * R + r)
                coefs.append(-s_a[a] / s_c[ci])
        g_parts.append((dep, np.array(rows), np.array(cols), np.array(coefs)))
        # the installed fleet occupies regional rate carriers as the network's fleet_draw says
        draw = ds["fleet_draw"].values  # (A, C) natural units per accelerator
        rows, cols, coefs = [], [], []
        for a, ci in zip(*np.nonzero(draw), strict=True):
            for r in range(R):
                rows.append(r_pos[int(ci)] * R + r)
                cols.append(a * R + r)
                coefs.append(-draw[a, ci] * s_a[a] / s_c[ci])
        if rows:
            r_parts.append((inst, np.array(rows), np.array(cols), np.array(coefs)))

    # inventory of storable worldwide carriers
    inv = m.variables["inv"].labels  # (C, T)
    inv_prev = np.concatenate([np.full((inv.shape[0], 1), -1), inv[:, :-1]], axis=1)
    gi = np.array([g_pos[int(c)] for c in g_idx])
    g_parts.append((inv, gi, g_idx, -np.ones(len(g_idx))))
    g_parts.append((inv_prev, gi, g_idx, np.ones(len(g_idx))))

    coords_t = {PERIOD: ds.indexes[PERIOD]}
    if len(g_idx):
        v, c = sparse_rows(g_parts, len(g_idx), T)
        gco = {CARRIER: ds.indexes[CARRIER][g_idx], **coords_t}
        expr = expression(v, c, (CARRIER, PERIOD), gco)
        has = xr.DataArray((v >= 0).any(axis=2), coords=gco, dims=(CARRIER, PERIOD))
        m.add_constraints(expr >= 0, name="balance", mask=has)
    if len(r_idx):
        v, c = sparse_rows(r_parts, len(r_idx) * R, T)
        K = v.shape[-1]
        rco = {CARRIER: ds.indexes[CARRIER][r_idx], REGION: ds.indexes[REGION], **coords_t}
        v = v.reshape(len(r_idx), R, T, K)
        c = c.reshape(len(r_idx), R, T, K)
        expr = expression(v, c, (CARRIER, REGION, PERIOD), rco)
        has = xr.DataArray((v >= 0).any(axis=3), coords=rco, dims=(CARRIER, REGION, PERIOD))
        m.add_constraints(expr >= 0, name="balance-regional", mask=has)


@registers("fleet-stock", "export-cap")
def define_fleet(lp: LP) -> None:
    """inst[t] = inst[t-1] + deploy[t] − deploy[t − life] + E[t] − E[t-1] (E the starting
    fleet, ``acc_installed_units``); export caps on deployment."""
    if "deploy" not in lp.model.variables:
        return
    net, ds, m = lp.net, lp.net.ds, lp.model
    dep, inst = m.variables["deploy"], m.variables["inst"]
    T = ds.sizes[PERIOD]
    life = ds["acc_life_periods"].values[:, None]  # (A,1): per accelerator, all regions
    keep, retire = dyn.stock_recursion(life, T)  # the fleet is not destroyed: both 1
    dep_lab, inst_lab = dep.labels, inst.labels
    v, c = stack_terms(
        [
            (inst_lab[..., None], 1.0),
            lag_terms(inst_lab, np.array([1]), -keep[..., None]),
            (dep_lab[..., None], -1.0),
            lag_terms(dep_lab, life[..., None, None], retire[..., None]),
        ]
    )
    art = (ACCELERATOR, REGION, PERIOD)
    # the starting fleet (scenario.installed) stands beside what the plan deploys
    e = ds["acc_installed_units"].values / lp.scaling.accelerator[:, None, None]
    rhs = e - dyn.shift(e, 1)
    m.add_constraints(_rows(lp, v, c, "=", rhs, art), name="fleet-stock", mask=inst.labels >= 0)
    capv = ds["deploy_cap_units_per_year"].values * net.periods.dt
    fin = np.isfinite(capv) & ds["datacenter_region"].values[:, None]
    if fin.any():
        s_a = lp.scaling.accelerator
        # deploy is in model units (natural / s_a): natural units counted in s_mean units
        w = s_a / s_a.mean()
        v = dep_lab.transpose(1, 2, 0)  # (R, T, A): one term per accelerator
        c = np.where(v >= 0, np.broadcast_to(w, v.shape), 0.0)
        rhs = np.where(fin, capv / s_a.mean(), 0.0)
        m.add_constraints(
            _rows(lp, v, c, "<=", rhs, (REGION, PERIOD)),
            name="export-cap",
            mask=_masked(net, fin, (REGION, PERIOD)),
        )


def spend_terms(lp: LP) -> dict[str, core.Expression]:
    """Money spent [billion USD] by kind, per (process, region, period) and, for the systems
    bought with each deployed accelerator, per (accelerator, region, period).

    ``capex``: spread evenly over the construction periods before opening (in the opening
    period when the lead time is zero), :func:`fab2flop.dynamics.capex_kernel`;
    ``fixed_om``: per unit of standing capacity per year; ``variable``: per unit of
    activity; ``systems``: per accelerator deployed. Each coefficient is the dynamics
    function evaluated on one model unit.
    """
    net, ds, m = lp.net, lp.net.ds, lp.model
    dt = net.periods.dt
    sc = lp.scaling
    s_p = sc.process[:, None, None]
    new, cap, act = m.variables["new"], m.variables["cap"], m.variables["act"]
    # capex per model unit of capacity, by opening period [billion USD]
    capex = dyn.capex_kernel(
        ds["capex_usd_per_unit"].values * s_p / sc.money, ds["open_lead_periods"].values
    )
    fixed = xr.DataArray(
        dyn.fixed_om_spend(sc.process, ds["fixed_om_usd_per_unit_year"].values, dt) / sc.money,
        coords={PROCESS: ds.indexes[PROCESS]},
    )
    varc = xr.DataArray(
        dyn.variable_spend(s_p, ds["var_cost_usd_per_unit"].values, dt) / sc.money,
        coords=ds["var_cost_usd_per_unit"].coords,
    )
    out = {
        "capex": lagged(new, capex.lags, capex.weights),
        "fixed_om": present(cap, fixed),
        "variable": present(act, varc),
    }
    if "deploy" in m.variables:
        dc = xr.DataArray(
            dyn.systems_spend(sc.accelerator[:, None], ds["acc_deploy_cost_usd"].values) / sc.money,
            coords={ACCELERATOR: ds.indexes[ACCELERATOR], PERIOD: ds.indexes[PERIOD]},
        )
        out["systems"] = present(m.variables["deploy"], dc)
    return out


def spend_expression(lp: LP, terms: dict[str, core.Expression]) -> core.Expression:
    """Total money spent in each period [billion USD]."""
    total = None
    for name, e in terms.items():
        dims = [ACCELERATOR, REGION] if name == "systems" else [PROCESS, REGION]
        s = e.sum(dims)
        total = s if total is None else total + s
    assert total is not None
    return total


def compute_expression(lp: LP) -> core.Expression | None:
    """Installed compute in each period [million H100-equivalents]."""
    if "inst" not in lp.model.variables:
        return None
    ds = lp.net.ds
    h = (
        ds["flops_bf16_dense"].values
        / H100_FLOPS_BF16_DENSE
        * lp.scaling.accelerator
        / lp.scaling.compute
    )
    w = xr.DataArray(h, coords={ACCELERATOR: ds.indexes[ACCELERATOR]})
    return present(lp.model.variables["inst"], w).sum([ACCELERATOR, REGION])


@registers("cash")
def define_money(lp: LP) -> None:
    """cash[t] = (1+i)^dt · cash[t-1] + funding[t] − spend[t]  (or spend ≤ funding)."""
    net, ds, m = lp.net, lp.net.ds, lp.model
    b = net.scenario.budget
    spend = lp.spend_expr
    assert spend is not None
    if not b.enforce:
        return
    fund = _masked(net, ds["funding_usd"].values / lp.scaling.money, (PERIOD,))
    if b.carry_over:
        cash = m.variables["cash"]
        growth = (1.0 + b.cash_interest_rate) ** net.periods.dt
        lhs = present(cash) - growth * shifted(cash) + spend
        m.add_constraints(lhs == fund, name="cash")
    else:
        m.add_constraints(spend <= fund, name="cash")


@registers("compute-path")
def define_objective(lp: LP) -> None:
    net, ds, m = lp.net, lp.net.ds, lp.model
    obj = net.scenario.objective
    dt = net.periods.dt
    disc = _masked(net, ds["discount"].values, (PERIOD,))
    spend, compute = lp.spend_expr, lp.compute_expr
    assert spend is not None
    years = net.periods.years
    if obj.kind is Objective.MIN_COST_FOR_PATH:
        if compute is None:
            raise ValueError("min_cost_for_path needs at least one accelerator")
        path = np.full(len(years), np.nan)
        for y, v in obj.compute_path_h100e.items():
            # reached by the end of that year: its last period (Q4 when step is quarter)
            path[net.periods.indices_of_year(y)[-1]] = v / lp.scaling.compute
        mask = np.isfinite(path)
        m.add_constraints(
            compute >= _masked(net, np.where(mask, path, 0.0), (PERIOD,)),
            name="compute-path",
            mask=_masked(net, mask, (PERIOD,)),
        )
        m.add_objective((spend * disc).sum(), sense="min")
        return
    if compute is None:
        raise ValueError("a compute objective needs at least one accelerator")
    discounted = (compute * disc * dt).sum()
    w = EPS_COST * (lp.scaling.money / MONEY_SCALE) * (COMPUTE_SCALE / lp.scaling.compute)
    tie = -w * (spend * disc).sum()
    if obj.kind is Objective.MAX_COMPUTE_IN_YEAR:
        idx = net.periods.indices_of_year(obj.target_year or int(years[-1]))
        # the year's average installed compute (its quarters weigh equally)
        target = compute.isel({PERIOD: list(idx)}).sum() * (1.0 / len(idx))
        m.add_objective(target + 1e-3 * discounted + tie, sense="max")
    else:
        m.add_objective(discounted + tie, sense="max")


DEFINE_ORDER: tuple[Callable[[LP], None], ...] = (
    define_variables,
    define_capacity,
    define_activity,
    define_balances,
    define_fleet,
    define_ramp,
)


def build_lp(net: Network, hooks: tuple[Hook, ...] = (), options: LPOptions | None = None) -> LP:
    """Create the LP model (:mod:`fab2flop.lp.core`) of ``net``; ``hooks`` may add
    constraints (or change bounds) before the objective.

    Safe to call from several threads at once: nothing here reads or sets process-wide
    state. Hooks use :func:`~fab2flop.lp.terms.present` for a masked variable in arithmetic
    (an absent cell is an empty term).
    """
    return _build_lp(net, hooks, options or LPOptions())


def _build_lp(net: Network, hooks: tuple[Hook, ...], options: LPOptions) -> LP:
    ds = net.ds
    s_c = ds["carrier_scale"].values
    cpos = {c: i for i, c in enumerate(ds.indexes[CARRIER])}
    s_p = (
        np.array([s_c[cpos[c]] for c in ds["main_output"].values])
        if ds.sizes[PROCESS]
        else np.zeros(0)
    )
    s_a = (
        np.array([s_c[cpos[c]] for c in ds["acc_carrier"].values])
        if ds.sizes[ACCELERATOR]
        else np.zeros(0)
    )
    if options.scaled:
        scaling = Scaling(s_p, s_c, s_a)
    else:
        scaling = Scaling(np.ones_like(s_p), np.ones_like(s_c), np.ones_like(s_a), 1.0, 1.0)
    lp = LP(core.Model(), net, scaling, options)
    for f in DEFINE_ORDER:
        f(lp)
    lp.spend_terms = spend_terms(lp)
    lp.spend_expr = spend_expression(lp, lp.spend_terms)
    lp.compute_expr = compute_expression(lp)
    define_money(lp)
    for h in hooks:
        h(lp)
    define_objective(lp)
    return lp
