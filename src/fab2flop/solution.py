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

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from .constants import ACCELERATOR, CARRIER, PERIOD, PROCESS, REGION, Objective, Status
from .lp.core import aligned
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


class _Pending:
    """Arrays read back, added to the solution Dataset together.

    Adding arrays one by one (``ds[name] = da``) merges the whole Dataset each time (~5-10
    ms apiece, ~40 of them). What that merge does to an array over the Dataset's dimensions
    is done here with numpy, as ``ds[name] = da`` would: a coordinate the Dataset has is
    dropped, a dimension with a subset of the Dataset's items (a balance over some
    carriers) is filled out with NaN. Those arrays wait here and go in with one ``update``
    (same values, attributes and order). Any other array goes in at once as before, after
    those waiting; so does the first that needs filling out, since that first realignment
    also puts the Dataset's index coordinates first (xarray's order, kept)."""

    def __init__(self, out: xr.Dataset) -> None:
        self.out = out
        self.waiting: dict[str, xr.Variable] = {}
        self.realigned = False  # has a merge filled out an array yet

    def _fitted(
        self, dims: tuple, coords: Mapping[Any, Any], data: np.ndarray
    ) -> tuple[np.ndarray | None, bool]:
        """``data`` (over ``dims`` with the items ``coords``) on the Dataset's items, or
        None; and whether it had to be filled out."""
        have = self.out.indexes
        if any(d not in have or d not in coords for d in dims):
            return None, False
        take: list[Any] = []
        for d in dims:
            own, full = coords[d], have[d]
            own = own if isinstance(own, pd.Index) else pd.Index(np.asarray(own))
            if own.equals(full):
                take.append(slice(None))
                continue
            pos = full.get_indexer(own) if own.is_unique and full.is_unique else None
            if pos is None or (pos < 0).any() or data.dtype.kind != "f":
                return None, False
            take.append(pos)
        filled = any(not isinstance(t, slice) for t in take)
        if filled:  # reindexed: NaN where the array has no item
            at = [np.arange(len(have[d])) if isinstance(t, slice) else t
                  for d, t in zip(dims, take, strict=True)]  # fmt: skip
            full_data = np.full([len(have[d]) for d in dims], np.nan, dtype=data.dtype)
            full_data[np.ix_(*at)] = data
            data = full_data
        return data, filled

    def _add(
        self, name: str, dims: tuple, coords: Mapping[Any, Any], data: np.ndarray,
        make: Callable[[], xr.DataArray], units: str, description: str,
    ) -> None:  # fmt: skip
        fitted, filled = self._fitted(dims, coords, data)
        if fitted is None or (filled and not self.realigned):
            self.flush()
            _set(self.out, name, make(), units, description)
            self.realigned |= filled
            return
        attrs = {"units": units, "description": description}
        self.waiting[name] = xr.Variable(dims, fitted, attrs)

    def set(self, name: str, da: xr.DataArray, units: str, description: str) -> None:
        """Add the DataArray ``da`` as ``name``."""
        if any(c not in da.dims and c not in self.out.coords for c in da.coords):
            self.flush()  # a coordinate the Dataset lacks: merged as before
            _set(self.out, name, da, units, description)
            return
        coords = {d: da.indexes[d] for d in da.dims if d in da.indexes}
        data = np.asarray(da.values)
        self._add(name, da.dims, coords, data, lambda: da, units, description)

    def set_values(
        self, name: str, over: Any, values: np.ndarray, units: str, description: str
    ) -> None:
        """Add ``values``, shaped as the LP family ``over`` (its dims and items), as
        ``name`` (the DataArray ``over.dataarray(values)`` is made only if it must merge)."""
        coords = {d: over.coords[d] for d in over.dims}
        make = lambda: over.dataarray(values)  # noqa: E731
        self._add(name, tuple(over.dims), coords, values, make, units, description)

    def __getitem__(self, name: str) -> xr.DataArray:
        if name not in self.waiting:
            return self.out[name]
        var = self.waiting[name]
        return xr.DataArray(var, coords={d: self.out.variables[d] for d in var.dims})

    def __contains__(self, name: str) -> bool:
        return name in self.waiting or name in self.out

    def flush(self) -> None:
        if self.waiting:
            self.out.update(self.waiting)
            self.waiting = {}


def _set(out: xr.Dataset, name: str, da: xr.DataArray, units: str, description: str) -> None:
    out[name] = da
    out[name].attrs = {"units": units, "description": description}


def _on(scale: Any, dims: tuple[str, ...], coords: dict[str, Any]) -> np.ndarray | float:
    """A family's scale as a number or a numpy array over ``dims`` (ValueError when it is an
    array whose dimensions or items differ from the family's: then xarray aligns it)."""
    if isinstance(scale, int | float):
        return float(scale)
    return aligned(scale, dims, coords, "scale")


def _clipped(val: np.ndarray, scale: np.ndarray | float) -> np.ndarray:
    """:func:`clip_noise` on numpy arrays (the same comparisons, the same numbers)."""
    return np.where(val > NOISE_MODEL_UNITS * np.abs(scale), val, 0.0)


def _primal(lp: LP, out: _Pending) -> None:
    """Registered variables in natural units; capacity includes what the plan did not build."""
    m, net_ds, sol = lp.model, lp.net.ds, _solved(lp)
    for fam in lp.registry.variables():
        scale = family_scale(fam, net_ds, out.out)
        var = m.variables[fam.name]
        x = np.nan_to_num(sol.primal(var))
        try:
            sv = _on(scale, var.dims, var.coords)
            with np.errstate(all="ignore"):  # as xarray's arithmetic
                val = _clipped(x * sv, sv)
        except ValueError:  # a scale over other items: let xarray align it
            out.set(fam.solution_name, clip_noise(var.dataarray(x) * scale, scale), fam.unit,
                    fam.description)  # fmt: skip
            continue
        out.set_values(fam.solution_name, var, val, fam.unit, fam.description)
    fixed = xr.where(net_ds["buildable"] & ~net_ds["unlimited"], 0.0, net_ds["existing"])
    cap = out["capacity"] + fixed * net_ds["exists"]
    out.set("capacity", cap, "{activity_unit}", "capacity standing in the period (incl. "
            "capacity the plan did not build)")  # fmt: skip
    if "deployed" not in out:  # no accelerator in the scenario
        z = xr.zeros_like(net_ds["acc_deploy_cost_usd"]) * xr.zeros_like(net_ds["pue"])
        z = z.transpose(ACCELERATOR, REGION, PERIOD)
        out.set("deployed", z, "units", "accelerators installed in the period")
        out.set("installed", z, "units", "installed accelerator fleet")


def _spend(lp: LP, out: _Pending) -> None:
    """Money spent by kind [USD per period], from the LP's own spend expressions."""
    terms, sol = lp.spend_terms or {}, _solved(lp)
    money = float(out.out.attrs["money_scale"])
    for kind, (dims, text) in SPEND_KINDS.items():
        name = f"spend_{kind}_usd"
        if kind in terms:
            e = terms[kind]
            with np.errstate(all="ignore"):  # as xarray's arithmetic
                val = e.dataarray(_clipped(sol.value(e) * money, money))
            if tuple(e.dims) == dims:
                out.set_values(name, e, val.values, "USD", f"{text}, spent in the period")
                continue
        else:
            val = xr.zeros_like(out["deployed"] if dims[0] == ACCELERATOR else out["activity"])
        out.set(name, val.transpose(*dims), "USD", f"{text}, spent in the period")


def _duals(lp: LP, out: _Pending) -> None:
    """Duals of registered constraints: objective units per natural unit of the right-hand
    side (dual x d(model rhs)/d(natural rhs) x objective scale); rhs in natural units,
    including the part of a limit that moves with the plan (``lp.limits``)."""
    m, net_ds, sol = lp.model, lp.net.ds, _solved(lp)
    obj_scale = float(out.out.attrs["objective_scale"])
    obj_unit = out.out.attrs["objective_unit"]
    for fam in lp.registry.constraints():
        con = m.constraints[fam.name]
        f = family_scale(fam, net_ds, out.out)
        ok = con.labels >= 0
        rhs = con.rhs
        if fam.name in lp.limits:  # a limit that moves with the plan, at the solution
            rhs = rhs + sol.value(lp.limits[fam.name])
        unit = fam.unit
        d_text = (f"{obj_unit} per {unit}", f"shadow price of {fam.name}: {fam.description}")
        r_text = (unit, f"right-hand side of {fam.name}")
        try:
            fv = _on(f, con.dims, con.coords)
        except ValueError:  # a scale over other items: let xarray align it
            okd = con.dataarray(ok)
            out.set(fam.solution_name, (con.dataarray(sol.dual(con)) * f * obj_scale).where(okd),
                    *d_text)  # fmt: skip
            out.set(f"rhs_{fam.name}", (con.dataarray(rhs) / f).where(okd), *r_text)
            continue
        with np.errstate(all="ignore"):  # as xarray's arithmetic: NaN where no row
            dual = np.where(ok, sol.dual(con) * fv * obj_scale, np.nan)
            rhs_v = np.where(ok, rhs / fv, np.nan)
        out.set_values(fam.solution_name, con, dual, *d_text)
        out.set_values(f"rhs_{fam.name}", con, rhs_v, *r_text)


def _solved(lp: LP) -> Solution:
    if lp.solution is None:
        raise ValueError("the LP has not been solved (lp.solution is None)")
    return lp.solution


def read_solution(lp: LP, status: Status = Status.OPTIMAL) -> xr.Dataset:
    """The solution Dataset of a solved ``lp`` (see the module docstring)."""
    out = _empty_scales(lp)
    pending = _Pending(out)
    _primal(lp, pending)
    _spend(lp, pending)
    _duals(lp, pending)
    pending.flush()
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
