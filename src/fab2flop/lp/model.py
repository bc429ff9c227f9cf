"""The capacity-expansion LP, built from small ``define_*`` functions in a fixed order.

Variables (all ≥ 0, in scaled units — see :class:`Scaling`):

``new[p,r,t]``     capacity coming online in period t (construction started ``lead_p`` earlier)
``cap[p,r,t]``     capacity of a buildable process (a stock: last period + new − retired)
``act[p,r,t]``     activity, a rate per year (units/year, or MW for rate carriers)
``inv[c,t]``       inventory of a storable, worldwide carrier carried to the next period
``deploy[a,r,t]``  accelerators installed in period t;  ``inst[a,r,t]`` the installed fleet
``cash[t]``        money carried to the next period

Constraints are named ``"<family>"`` (``capacity-stock``, ``activity-ramp``, ``market-cap``,
``balance``, ``balance-regional``, ``fleet-stock``, ``export-cap``, ``cash``, ...); the
bottleneck report reads their duals by family.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import linopy
import numpy as np
import xarray as xr

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
from ..supplychain import MW_IT
from .terms import expression, lagged, present, shifted, sparse_rows

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
    ``scaled=False`` keeps natural units (USD, wafers, units) inside the LP.
    """

    formulation: str = "stock"
    scaled: bool = True


@dataclass
class LP:
    """A built model with what post-processing needs."""

    model: linopy.Model
    net: Network
    scaling: Scaling
    options: LPOptions = LPOptions()
    spend_terms: dict[str, linopy.LinearExpression] | None = None
    spend_expr: linopy.LinearExpression | None = None
    compute_expr: linopy.LinearExpression | None = None


Hook = Callable[[LP], None]


def _masked(net: Network, arr: np.ndarray, dims: tuple[str, ...]) -> xr.DataArray:
    return xr.DataArray(arr, coords={d: net.ds.indexes[d] for d in dims}, dims=dims)


def define_variables(lp: LP) -> None:
    net, ds, m = lp.net, lp.net.ds, lp.model
    T = ds.sizes[PERIOD]
    t_idx = np.arange(T)
    lead = ds["lead_periods"].values
    exists = ds["exists"].values
    buildable = ds["buildable"].values & ~ds["unlimited"].values
    active = ds["active"].values
    dt = net.periods.dt
    s_p = lp.scaling.process[:, None, None]

    new_mask = (
        exists[:, :, None]
        & buildable[:, None, None]
        & (t_idx[None, None, :] >= lead[:, None, None])
    )
    max_new = ds["max_new_per_year"].values * dt / s_p
    ub = np.where(np.isfinite(max_new), max_new, np.inf)
    coords_prt = [ds.indexes[PROCESS], ds.indexes[REGION], ds.indexes[PERIOD]]
    m.add_variables(
        lower=0,
        upper=xr.DataArray(ub, coords=coords_prt),
        coords=coords_prt,
        name="new",
        mask=xr.DataArray(new_mask, coords=coords_prt),
    )
    cap_mask = exists[:, :, None] & buildable[:, None, None] & np.ones(T, bool)
    m.add_variables(
        lower=0, coords=coords_prt, name="cap", mask=xr.DataArray(cap_mask, coords=coords_prt)
    )
    act_mask = exists[:, :, None] & active[:, None, :]
    m.add_variables(
        lower=0, coords=coords_prt, name="act", mask=xr.DataArray(act_mask, coords=coords_prt)
    )

    storable = ds["carrier_storable"].values & (ds["carrier_scope"].values == "global")
    coords_ct = [ds.indexes[CARRIER], ds.indexes[PERIOD]]
    inv_mask = np.broadcast_to(storable[:, None], (len(storable), T)).copy()
    inv_mask[:, -1] = False  # nothing carried beyond the horizon
    m.add_variables(
        lower=0, coords=coords_ct, name="inv", mask=xr.DataArray(inv_mask, coords=coords_ct)
    )

    if ds.sizes[ACCELERATOR]:
        coords_art = [ds.indexes[ACCELERATOR], ds.indexes[REGION], ds.indexes[PERIOD]]
        dcr = ds["datacenter_region"].values
        fmask = np.broadcast_to(dcr[None, :, None], (ds.sizes[ACCELERATOR], len(dcr), T)).copy()
        m.add_variables(
            lower=0, coords=coords_art, name="deploy", mask=xr.DataArray(fmask, coords=coords_art)
        )
        m.add_variables(
            lower=0, coords=coords_art, name="inst", mask=xr.DataArray(fmask, coords=coords_art)
        )
    sc = net.scenario.budget
    if sc.enforce and sc.carry_over:
        m.add_variables(lower=0, coords=[ds.indexes[PERIOD]], name="cash")


def define_capacity(lp: LP) -> None:
    """cap[t] = cap[t-1] + new[t] − new[t − life] (+ change of existing capacity)."""
    net, ds, m = lp.net, lp.net.ds, lp.model
    cap, new = m.variables["cap"], m.variables["new"]
    s_p = lp.scaling.process[:, None, None]
    life = ds["life_periods"].values[:, None]
    existing = ds["existing"].values / s_p
    mask = cap.labels >= 0
    if lp.options.formulation == "dense":
        T = ds.sizes[PERIOD]
        k = np.arange(T)[None, :]
        coef = (k < life).astype(float)  # every earlier build still alive, in every row
        lhs = present(cap) - lagged(new, np.broadcast_to(k, coef.shape), coef[:, None, None, :])
        rhs = _masked(net, existing, (PROCESS, REGION, PERIOD))
        m.add_constraints(lhs == rhs, name="capacity-stock", mask=mask)
    else:
        d_exist = np.diff(existing, axis=2, prepend=0.0)
        lhs = present(cap) - shifted(cap) - present(new) + lagged(new, life)
        rhs = _masked(net, d_exist, (PROCESS, REGION, PERIOD))
        m.add_constraints(lhs == rhs, name="capacity-stock", mask=mask)
    mc = ds["max_capacity"].values / s_p
    fin = np.isfinite(mc) & mask.values
    if fin.any():
        m.add_constraints(
            present(cap) <= _masked(net, np.where(fin, mc, 0.0), (PROCESS, REGION, PERIOD)),
            name="capacity-max",
            mask=_masked(net, fin, (PROCESS, REGION, PERIOD)),
        )


def define_activity(lp: LP) -> None:
    """Activity within capacity, less the unripe share of capacity still ramping up."""
    net, ds, m = lp.net, lp.net.ds, lp.model
    act, cap, new = m.variables["act"], m.variables["cap"], m.variables["new"]
    avail = ds["availability"].values[:, None, None]
    ramp = ds["ramp_periods"].values
    K = max(int(ramp.max()), 1)
    k = np.arange(K)[None, :]
    # share of capacity NOT yet usable in the k-th period after opening (linear ramp)
    loss = np.where(k < ramp[:, None], 1.0 - (k + 1) / (ramp[:, None] + 1.0), 0.0)  # (P,K)
    lags = np.broadcast_to(k, loss.shape)
    coef = avail[..., None] * loss[:, None, None, :]  # (P,1,1,K)
    buildable = ds["buildable"].values & ~ds["unlimited"].values
    am = (act.labels >= 0).values
    bmask = am & buildable[:, None, None]
    avail_da = xr.DataArray(ds["availability"].values, coords={PROCESS: ds.indexes[PROCESS]})
    lhs = present(act) - present(cap, avail_da) + lagged(new, lags, coef)
    m.add_constraints(
        lhs <= 0, name="activity-ramp", mask=_masked(net, bmask, (PROCESS, REGION, PERIOD))
    )
    fixed_cap = am & ~ds["buildable"].values[:, None, None] & ~ds["unlimited"].values[:, None, None]
    if fixed_cap.any():
        s_p = lp.scaling.process[:, None, None]
        rhs = avail * ds["existing"].values / s_p
        m.add_constraints(
            present(act) <= _masked(net, rhs, (PROCESS, REGION, PERIOD)),
            name="market-cap",
            mask=_masked(net, fixed_cap, (PROCESS, REGION, PERIOD)),
        )


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
    act_lab = act.labels.values.reshape(P * R, T)
    lead = ds["lead_periods"].values[:, None]
    new_start = lagged(new, -lead).vars.values[..., 0].reshape(P * R, T)  # new[t + lead]

    g_idx = np.flatnonzero(is_global)
    r_idx = np.flatnonzero(~is_global)
    g_pos = {int(c): i for i, c in enumerate(g_idx)}
    r_pos = {int(c): i for i, c in enumerate(r_idx)}
    # quantity carriers count amounts per period (rate × dt); rate carriers count MW
    per_period = np.where(kind == "quantity", dt, 1.0)

    def rows_for(mat: np.ndarray, sign: float, timescale: bool):
        gp: tuple[list, list, list] = ([], [], [])
        rp: tuple[list, list, list] = ([], [], [])
        pp, cc = np.nonzero(mat)
        for p, c in zip(pp, cc, strict=True):
            coef = sign * mat[p, c] * s_p[p] / s_c[c] * (per_period[c] if timescale else 1.0)
            for r in np.flatnonzero(exists[p]):
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
    gb, rb = rows_for(bio, -1.0, False)
    g_parts = [(act_lab, *ga), (new_start, *gb)]
    r_parts = [(act_lab, *ra), (new_start, *rb)]

    # fleet: accelerators leave their carrier when deployed; the fleet draws MW of IT
    if "deploy" in m.variables:
        A = ds.sizes[ACCELERATOR]
        dep = m.variables["deploy"].labels.values.reshape(A * R, T)
        inst = m.variables["inst"].labels.values.reshape(A * R, T)
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
        if MW_IT in cidx:
            ci = cidx.index(MW_IT)
            kw = ds["kw_it_per_unit"].values
            rows, cols, coefs = [], [], []
            for a in range(A):
                for r in range(R):
                    rows.append(r_pos[ci] * R + r)
                    cols.append(a * R + r)
                    coefs.append(-kw[a] * s_a[a] / 1e3 / s_c[ci])
            r_parts.append((inst, np.array(rows), np.array(cols), np.array(coefs)))

    # inventory of storable worldwide carriers
    inv = m.variables["inv"].labels.values  # (C, T)
    inv_prev = np.concatenate([np.full((inv.shape[0], 1), -1), inv[:, :-1]], axis=1)
    gi = np.array([g_pos[int(c)] for c in g_idx])
    g_parts.append((inv, gi, g_idx, -np.ones(len(g_idx))))
    g_parts.append((inv_prev, gi, g_idx, np.ones(len(g_idx))))

    coords_t = {PERIOD: ds.indexes[PERIOD]}
    if len(g_idx):
        v, c = sparse_rows(m, g_parts, len(g_idx), T)
        gco = {CARRIER: ds.indexes[CARRIER][g_idx], **coords_t}
        expr = expression(m, v, c, (CARRIER, PERIOD), gco)
        has = xr.DataArray((v >= 0).any(axis=2), coords=gco, dims=(CARRIER, PERIOD))
        m.add_constraints(expr >= 0, name="balance", mask=has)
    if len(r_idx):
        v, c = sparse_rows(m, r_parts, len(r_idx) * R, T)
        K = v.shape[-1]
        rco = {CARRIER: ds.indexes[CARRIER][r_idx], REGION: ds.indexes[REGION], **coords_t}
        v = v.reshape(len(r_idx), R, T, K)
        c = c.reshape(len(r_idx), R, T, K)
        expr = expression(m, v, c, (CARRIER, REGION, PERIOD), rco)
        has = xr.DataArray((v >= 0).any(axis=3), coords=rco, dims=(CARRIER, REGION, PERIOD))
        m.add_constraints(expr >= 0, name="balance-regional", mask=has)


def define_fleet(lp: LP) -> None:
    """inst[t] = inst[t-1] + deploy[t] − deploy[t − life]; export caps on deployment."""
    if "deploy" not in lp.model.variables:
        return
    net, ds, m = lp.net, lp.net.ds, lp.model
    dep, inst = m.variables["deploy"], m.variables["inst"]
    life = ds["acc_life_periods"].values[:, None]
    lhs = present(inst) - shifted(inst) - present(dep) + lagged(dep, life)
    m.add_constraints(lhs == 0, name="fleet-stock", mask=inst.labels >= 0)
    capv = ds["deploy_cap_units_per_year"].values * net.periods.dt
    fin = np.isfinite(capv) & ds["datacenter_region"].values[:, None]
    if fin.any():
        s_a = lp.scaling.accelerator
        # deploy is in model units (natural / s_a): natural units counted in s_mean units
        w = xr.DataArray(s_a / s_a.mean(), coords={ACCELERATOR: ds.indexes[ACCELERATOR]})
        total = present(dep, w).sum(ACCELERATOR)
        rhs = _masked(net, np.where(fin, capv / s_a.mean(), 0.0), (REGION, PERIOD))
        m.add_constraints(total <= rhs, name="export-cap", mask=_masked(net, fin, (REGION, PERIOD)))


def spend_terms(lp: LP) -> dict[str, linopy.LinearExpression]:
    """Money spent [billion USD] by kind, per (process, region, period) and, for the systems
    bought with each deployed accelerator, per (accelerator, region, period).

    ``capex``: spread evenly over the construction periods before opening (in the opening
    period when the lead time is zero); ``fixed_om``: per unit of capacity per year;
    ``variable``: per unit of activity; ``systems``: per accelerator deployed.
    """
    net, ds, m = lp.net, lp.net.ds, lp.model
    dt = net.periods.dt
    s_p = lp.scaling.process[:, None, None]
    new, cap, act = m.variables["new"], m.variables["cap"], m.variables["act"]
    lead = ds["lead_periods"].values
    P, R, T = new.labels.shape
    K = max(int(lead.max()), 1)
    j = np.arange(K)[None, :]
    L = lead[:, None]
    # capex of capacity opening at u is paid evenly over the L periods before u
    # (in the opening period itself when L = 0): row t takes new[t + j + 1], j < L
    lags = np.where(L == 0, 0, -(j + 1))
    share = np.where(L == 0, (j == 0) * 1.0, (j < L) / np.maximum(L, 1))
    capex_sc = ds["capex_usd_per_unit"].values * s_p / lp.scaling.money  # (P,R,T) by opening period
    src = np.clip(np.arange(T)[None, :, None] - lags[:, None, :], 0, T - 1)  # (P,T,K)
    coef = (
        capex_sc[np.arange(P)[:, None, None, None], np.arange(R)[None, :, None, None], src[:, None]]
        * share[:, None, None, :]
    )
    fixed = xr.DataArray(
        ds["fixed_om_usd_per_unit_year"].values * lp.scaling.process * dt / lp.scaling.money,
        coords={PROCESS: ds.indexes[PROCESS]},
    )
    varc = xr.DataArray(
        ds["var_cost_usd_per_unit"].values * s_p * dt / lp.scaling.money,
        coords=ds["var_cost_usd_per_unit"].coords,
    )
    out = {
        "capex": lagged(new, lags, coef),
        "fixed_om": present(cap, fixed),
        "variable": present(act, varc),
    }
    if "deploy" in m.variables:
        dc = xr.DataArray(
            ds["acc_deploy_cost_usd"].values * lp.scaling.accelerator / lp.scaling.money,
            coords={ACCELERATOR: ds.indexes[ACCELERATOR]},
        )
        out["systems"] = present(m.variables["deploy"], dc)
    return out


def spend_expression(lp: LP, terms: dict[str, linopy.LinearExpression]) -> linopy.LinearExpression:
    """Total money spent in each period [billion USD]."""
    total = None
    for name, e in terms.items():
        dims = [ACCELERATOR, REGION] if name == "systems" else [PROCESS, REGION]
        s = e.sum(dims)
        total = s if total is None else total + s
    assert total is not None
    return total


def compute_expression(lp: LP) -> linopy.LinearExpression | None:
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
)


def build_lp(net: Network, hooks: tuple[Hook, ...] = (), options: LPOptions | None = None) -> LP:
    """Create the linopy model of ``net``; ``hooks`` may add constraints before the objective.

    Safe to call from several threads at once: nothing here reads or sets process-wide state.
    The expressions do not depend on ``linopy.options["semantics"]`` (absent slots are
    written as empty terms, see :mod:`fab2flop.lp.terms`), so the model is the same under
    "legacy" and "v1" and no semantics warning is raised. Hooks must keep to the same rule:
    :func:`~fab2flop.lp.terms.present` for a masked variable in arithmetic.
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
    lp = LP(linopy.Model(force_dim_names=True), net, scaling, options)
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
