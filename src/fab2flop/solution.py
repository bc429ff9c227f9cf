"""The solution reader: a solved LP as one Dataset in natural units (the *solution Dataset*).

It holds the primal values of every registered variable family (``new_capacity``,
``capacity`` incl. existing, ``activity``, ``inventory``, ``deployed``, ``installed``,
``cash_usd``), spend by kind evaluated from the LP's own expressions, and for every
registered constraint family its dual (``dual_<family>``, in objective units per natural
unit of the right-hand side) and its right-hand side (``rhs_<family>``, natural units).
After this, nothing needs the LP: metrics (:mod:`fab2flop.metrics`) and the bottleneck
report (:mod:`fab2flop.bottlenecks`) read the network Dataset, this Dataset and the registry.

The model-to-natural scales are kept as coordinates (``scale_process``, ``scale_carrier``,
``scale_accelerator``) and attributes (``money_scale``, ``compute_scale``, ``objective_scale``)
so that a saved run can still say what a model unit was. Arrays a family defined outside
the core stored in ``lp.coords`` (its items' words, ``scale_<name>``) are kept as
coordinates too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from .constants import ACCELERATOR, CARRIER, PERIOD, PROCESS, REGION, Objective, Status
from .lp.registry import Family, Registry

if TYPE_CHECKING:
    from .lp.core import Solution
    from .lp.model import LP

SPEND_KINDS = {
    "capex": ((PROCESS, REGION, PERIOD), "capital spend, spread over construction"),
    "fixed_om": ((PROCESS, REGION, PERIOD), "fixed operation and maintenance"),
    "variable": ((PROCESS, REGION, PERIOD), "variable cost of activity (incl. purchases)"),
    "systems": ((ACCELERATOR, REGION, PERIOD), "hosts and networking bought with accelerators"),
}

_SCALE_COORD = {"process": PROCESS, "carrier": CARRIER, "accelerator": ACCELERATOR}


def objective_unit(kind: Objective) -> str:
    """The natural unit of the objective (duals are expressed in it)."""
    if kind is Objective.MIN_COST_FOR_PATH:
        return "USD (discounted)"
    if kind is Objective.MAX_COMPUTE_IN_YEAR:
        return "H100e (target-year average)"
    return "H100e-year (discounted)"


def scale_factor(name: str, net_ds: xr.Dataset, sol: xr.Dataset) -> xr.DataArray | float:
    """One factor of a family's ``scale`` (see :mod:`fab2flop.lp.registry`), resolved from
    the network and the scales recorded on the solution Dataset."""
    inv = name.startswith("/")
    key = name.lstrip("/")
    val: xr.DataArray | float
    if key in _SCALE_COORD:
        val = sol.coords[f"scale_{key}"]
        val = val.drop_vars([c for c in val.coords if c != _SCALE_COORD[key]])
    elif key == "accelerator_mean":
        val = float(sol.coords["scale_accelerator"].mean()) if sol.sizes[ACCELERATOR] else 1.0
    elif key in ("money", "compute"):
        val = float(sol.attrs[f"{key}_scale"])
    elif key == "dt":
        val = float(net_ds.attrs["dt_years"])
    elif f"scale_{key}" in sol.coords:  # a scale array the family's definer stored
        val = sol.coords[f"scale_{key}"]
        val = val.drop_vars([c for c in val.coords if c not in val.dims])
    elif key in net_ds:
        val = net_ds[key]
    else:
        raise KeyError(f"scale factor {name!r}: neither a model scale nor a network array")
    return 1.0 / val if inv else val


def family_scale(fam: Family, net_ds: xr.Dataset, sol: xr.Dataset) -> xr.DataArray | float:
    """The product of a family's scale factors."""
    out: xr.DataArray | float = 1.0
    for f in fam.scale:
        out = out * scale_factor(f, net_ds, sol)
    return out


def _coords_of(net_ds: xr.Dataset) -> dict[Any, Any]:
    return dict(net_ds.coords.items())


def _empty_scales(lp: LP) -> xr.Dataset:
    """A Dataset with the network's coordinates and the LP's scales (no values yet)."""
    ds = lp.net.ds
    sc = lp.scaling
    out = xr.Dataset(coords=_coords_of(ds))
    out.coords["scale_process"] = (PROCESS, np.asarray(sc.process, float))
    out.coords["scale_carrier"] = (CARRIER, np.asarray(sc.carrier, float))
    out.coords["scale_accelerator"] = (ACCELERATOR, np.asarray(sc.accelerator, float))
    kind = lp.net.scenario.objective.kind
    out.attrs.update(
        {
            "money_scale": float(sc.money),
            "compute_scale": float(sc.compute),
            "objective": kind.value,
            "objective_unit": objective_unit(kind),
            "objective_scale": float(
                sc.money if kind is Objective.MIN_COST_FOR_PATH else sc.compute
            ),
            "dt_years": float(lp.net.periods.dt),
        }
    )
    for name, da in lp.coords.items():  # arrays of families defined outside the core
        out.coords[name] = da
    return out


# values within this share of one model unit of zero are solver tolerance, not a plan
NOISE_MODEL_UNITS = 1e-6


def clip_noise(val: xr.DataArray, scale: xr.DataArray | float) -> xr.DataArray:
    """A non-negative quantity read from the solver: values below ``NOISE_MODEL_UNITS`` model
    units (``scale`` natural units each) are tolerance noise and become exactly 0, and no
    quantity is reported negative (every variable and spend of the LP is >= 0)."""
    tol = NOISE_MODEL_UNITS * abs(scale)
    return val.where(val > tol, 0.0)


def _set(out: xr.Dataset, name: str, da: xr.DataArray, units: str, description: str) -> None:
    out[name] = da
    out[name].attrs = {"units": units, "description": description}


def _primal(lp: LP, out: xr.Dataset) -> None:
    """Registered variables in natural units; capacity includes what the plan did not build."""
    m, net_ds, sol = lp.model, lp.net.ds, _solved(lp)
    for fam in lp.registry.variables():
        scale = family_scale(fam, net_ds, out)
        var = m.variables[fam.name]
        val = clip_noise(var.dataarray(np.nan_to_num(sol.primal(var))) * scale, scale)
        _set(out, fam.solution_name, val, fam.unit, fam.description)
    fixed = xr.where(net_ds["buildable"] & ~net_ds["unlimited"], 0.0, net_ds["existing"])
    cap = out["capacity"] + fixed * net_ds["exists"]
    _set(out, "capacity", cap, "{activity_unit}", "capacity standing in the period (incl. "
         "capacity the plan did not build)")  # fmt: skip
    if "deployed" not in out:  # no accelerator in the scenario
        z = xr.zeros_like(net_ds["acc_deploy_cost_usd"]) * xr.zeros_like(net_ds["pue"])
        z = z.transpose(ACCELERATOR, REGION, PERIOD)
        _set(out, "deployed", z, "units", "accelerators installed in the period")
        _set(out, "installed", z, "units", "installed accelerator fleet")


def _spend(lp: LP, out: xr.Dataset) -> None:
    """Money spent by kind [USD per period], from the LP's own spend expressions."""
    terms, sol = lp.spend_terms or {}, _solved(lp)
    money = float(out.attrs["money_scale"])
    for kind, (dims, text) in SPEND_KINDS.items():
        name = f"spend_{kind}_usd"
        if kind in terms:
            e = terms[kind]
            val = clip_noise(e.dataarray(sol.value(e)) * money, money)
        else:
            val = xr.zeros_like(out["deployed"] if dims[0] == ACCELERATOR else out["activity"])
        _set(out, name, val.transpose(*dims), "USD", f"{text}, spent in the period")


def _duals(lp: LP, out: xr.Dataset) -> None:
    """Duals of registered constraints: objective units per natural unit of the right-hand
    side (dual x d(model rhs)/d(natural rhs) x objective scale); rhs in natural units,
    including the part of a limit that moves with the plan (``lp.limits``)."""
    m, net_ds, sol = lp.model, lp.net.ds, _solved(lp)
    obj_scale = float(out.attrs["objective_scale"])
    obj_unit = out.attrs["objective_unit"]
    for fam in lp.registry.constraints():
        con = m.constraints[fam.name]
        f = family_scale(fam, net_ds, out)
        ok = con.dataarray(con.labels >= 0)
        dual = (con.dataarray(sol.dual(con)) * f * obj_scale).where(ok)
        rhs = con.rhs
        if fam.name in lp.limits:  # a limit that moves with the plan, at the solution
            rhs = rhs + sol.value(lp.limits[fam.name])
        rhs = (con.dataarray(rhs) / f).where(ok)
        unit = fam.unit
        _set(out, fam.solution_name, dual, f"{obj_unit} per {unit}",
             f"shadow price of {fam.name}: {fam.description}")  # fmt: skip
        _set(out, f"rhs_{fam.name}", rhs, unit, f"right-hand side of {fam.name}")


def _solved(lp: LP) -> Solution:
    if lp.solution is None:
        raise ValueError("the LP has not been solved (lp.solution is None)")
    return lp.solution


def read_solution(lp: LP, status: Status = Status.OPTIMAL) -> xr.Dataset:
    """The solution Dataset of a solved ``lp`` (see the module docstring)."""
    out = _empty_scales(lp)
    _primal(lp, out)
    _spend(lp, out)
    _duals(lp, out)
    out.attrs.update(
        {
            "status": status.value,
            "objective_value": float(_solved(lp).objective),
            "registry": lp.registry.to_json(),
        }
    )
    return out


def registry_of(sol: xr.Dataset) -> Registry:
    """The registry a solution Dataset was read with."""
    return Registry.from_json(sol.attrs["registry"])


__all__ = ["read_solution", "registry_of", "scale_factor", "family_scale", "objective_unit"]
