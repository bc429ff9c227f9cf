"""Results of a run: one xarray Dataset in natural units, derived metrics and the summary.

Front ends (CLI, reports, the web API) read a :class:`Results`; none of them touch the LP.
"""

from __future__ import annotations

import json
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from .bottlenecks import Bottleneck, bottlenecks, first_binding, group_bottlenecks
from .constants import (
    ACCELERATOR,
    CARRIER,
    H100_FLOPS_BF16_DENSE,
    HOURS_PER_YEAR,
    PERIOD,
    PROCESS,
    REGION,
    Category,
    Status,
)
from .dependence import dependence_summary
from .network import Network

if TYPE_CHECKING:
    from .lp.model import LP

SPEND_CATEGORIES = [c.value for c in Category]


def _version() -> str:
    from . import __version__

    return __version__


def _primal(m) -> np.ndarray:
    """Flat vector of primal values indexed by linopy variable label."""
    n = int(m._xCounter)
    x = np.zeros(n)
    for name in m.variables:
        v = m.variables[name]
        lab = v.labels.values.ravel()
        sol = np.nan_to_num(v.solution.values.ravel())
        ok = lab >= 0
        x[lab[ok]] = sol[ok]
    return x


def _evaluate(expr, x: np.ndarray) -> xr.DataArray:
    """Value of a linopy expression at primal ``x`` (dims of the expression, no _term)."""
    vars_ = expr.vars
    coeffs = expr.coeffs
    vals = np.where(vars_.values >= 0, coeffs.values * x[np.clip(vars_.values, 0, None)], 0.0)
    return xr.DataArray(vals.sum(axis=-1), coords=vars_.isel(_term=0).coords, dims=vars_.dims[:-1])


def _sol(m, name: str, scale) -> xr.DataArray:
    v = m.variables[name]
    s = v.solution.fillna(0.0)
    return s * scale


@dataclass
class Results:
    """Outcome of one optimisation run."""

    status: Status
    message: str
    objective_value: float | None
    dataset: xr.Dataset
    network: Network
    bottlenecks: list[Bottleneck] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        s = f"<Results {self.status.value}"
        if self.status.ok:
            h = self.dataset["compute_h100e"].values
            s += f": {h[-1] / 1e6:,.1f}M H100e in {self.dataset.indexes[PERIOD][-1]}"
        return s + ">"

    # ----------------------------------------------------------------- construction
    @staticmethod
    def _meta(net: Network, timings: dict[str, float]) -> dict[str, Any]:
        return {
            "package": "fab2flop",
            "version": _version(),
            "scenario": net.scenario.name,
            "scenario_digest": net.scenario.digest(),
            "data_hash": net.catalog.data_hash,
            "seed": net.scenario.seed,
            "created_unix": time.time(),
            "python": platform.python_version(),
            "timings_s": dict(timings),
        }

    @classmethod
    def failed(cls, net: Network, status: Status, message: str, timings, lp=None) -> Results:
        ds = xr.Dataset(attrs={"status": status.value, "message": message})
        return cls(status, message, None, ds, net, [], dict(timings), cls._meta(net, timings))

    @classmethod
    def from_lp(cls, lp: LP, status: Status, timings: dict[str, float]) -> Results:
        m, net = lp.model, lp.net
        ds_net = net.ds
        sc = lp.scaling
        dt = net.periods.dt
        pscale = xr.DataArray(sc.process, coords={PROCESS: ds_net.indexes[PROCESS]})
        ascale = xr.DataArray(sc.accelerator, coords={ACCELERATOR: ds_net.indexes[ACCELERATOR]})
        x = _primal(m)
        out = xr.Dataset(coords={k: v for k, v in ds_net.coords.items()})
        out["new_capacity"] = _sol(m, "new", pscale)
        out["capacity"] = (
            _sol(m, "cap", pscale)
            + xr.where(ds_net["buildable"] & ~ds_net["unlimited"], 0.0, ds_net["existing"])
            * ds_net["exists"]
        )
        out["activity"] = _sol(m, "act", pscale)
        out["inventory"] = _sol(
            m, "inv", xr.DataArray(sc.carrier, coords={CARRIER: ds_net.indexes[CARRIER]})
        )
        if "deploy" in m.variables:
            out["deployed"] = _sol(m, "deploy", ascale)
            out["installed"] = _sol(m, "inst", ascale)
        else:
            shape = (ds_net.sizes[ACCELERATOR], ds_net.sizes[REGION], ds_net.sizes[PERIOD])
            z = xr.DataArray(
                np.zeros(shape),
                coords=[
                    ds_net.indexes[ACCELERATOR],
                    ds_net.indexes[REGION],
                    ds_net.indexes[PERIOD],
                ],
            )
            out["deployed"] = z
            out["installed"] = z
        flops = ds_net["flops_bf16_dense"]
        out["compute_flops_regional"] = (out["installed"] * flops).sum(ACCELERATOR)
        out["compute_flops"] = out["compute_flops_regional"].sum(REGION)
        out["compute_h100e"] = out["compute_flops"] / H100_FLOPS_BF16_DENSE
        out["installed_units"] = out["installed"].sum(REGION)

        # money, by kind and category
        terms = lp.spend_terms or {}
        parts = {k: _evaluate(e, x) * sc.money for k, e in terms.items()}
        for k in ("capex", "fixed_om", "variable"):
            out[f"spend_{k}_usd"] = parts[k]
        out["spend_systems_usd"] = parts.get("systems", xr.zeros_like(out["deployed"]))
        cat = ds_net["category"].values
        rate_out = np.array(
            [
                ds_net["carrier_kind"].sel({CARRIER: c}).item() == "rate"
                for c in ds_net["main_output"].values
            ]
        )
        spend_cat = np.zeros((len(SPEND_CATEGORIES), ds_net.sizes[PERIOD]))
        ci = {c: i for i, c in enumerate(SPEND_CATEGORIES)}
        capex_p = parts["capex"].sum(REGION).values
        fixed_p = parts["fixed_om"].sum(REGION).values
        var_p = parts["variable"].sum(REGION).values
        for p in range(len(cat)):
            spend_cat[ci[cat[p]]] += capex_p[p]
            spend_cat[ci[Category.OPERATIONS.value]] += fixed_p[p]
            target = Category.OPERATIONS.value if rate_out[p] else cat[p]
            spend_cat[ci[target]] += var_p[p]
        spend_cat[ci[Category.SYSTEMS.value]] += (
            out["spend_systems_usd"].sum([ACCELERATOR, REGION]).values
        )
        out["spend_usd"] = xr.DataArray(
            spend_cat,
            coords={"category": SPEND_CATEGORIES, PERIOD: ds_net.indexes[PERIOD]},
            dims=("category", PERIOD),
        )
        out["funding_usd"] = ds_net["funding_usd"]
        if "cash" in m.variables:
            out["cash_usd"] = _sol(m, "cash", sc.money)
        # power and facilities
        if "datacenter" in ds_net.indexes[PROCESS]:
            out["datacenter_mw_it"] = out["capacity"].sel({PROCESS: "datacenter"}, drop=True)
        kw = ds_net["kw_it_per_unit"]
        out["fleet_mw_it"] = (out["installed"] * kw).sum(ACCELERATOR) / 1e3
        out["fleet_mw_facility"] = out["fleet_mw_it"] * ds_net["pue"]
        util = net.catalog.number("datacenters.fleet.utilization", 1.0)
        out["energy_twh"] = out["fleet_mw_facility"].sum(REGION) * util * HOURS_PER_YEAR * dt / 1e6
        # duals, natural layout (objective units per model unit)
        for name in m.constraints:
            d = m.constraints[name].dual
            if d is not None:
                out[f"dual_{name}"] = d
        out = _largest_run(out, net)
        out.attrs.update(
            {
                "status": status.value,
                "objective_value": float(m.objective.value or 0.0),
                "objective": net.scenario.objective.kind.value,
                "dt_years": dt,
                "data_hash": net.catalog.data_hash,
                "scenario_yaml": net.scenario.to_yaml(),
                "version": _version(),
                "seed": net.scenario.seed,
            }
        )
        res = cls(
            status,
            "optimal",
            float(m.objective.value or 0.0),
            out,
            net,
            bottlenecks(lp),
            dict(timings),
            cls._meta(net, timings),
        )
        res.meta["n_variables"] = int(m.nvars)
        res.meta["n_constraints"] = int(m.ncons)
        return res

    # ----------------------------------------------------------------- metrics
    @property
    def periods(self) -> list:
        return [p.item() if isinstance(p, np.generic) else p for p in self.dataset.indexes[PERIOD]]

    def spend_by_category(self) -> dict[str, float]:
        s = self.dataset["spend_usd"].sum(PERIOD)
        return {str(c): float(v) for c, v in zip(s["category"].values, s.values, strict=True)}

    def total_spend(self) -> float:
        return float(self.dataset["spend_usd"].sum())

    def residual_value_usd(self) -> float:
        """Undepreciated value (straight line) of what the plan owns at the horizon's end."""
        ds, net = self.dataset, self.network
        years = net.periods.years
        end = years[-1] + net.periods.dt
        life_y = net.ds["life_periods"].values * net.periods.dt
        rem = np.clip(1.0 - (end - years[None, :]) / life_y[:, None], 0.0, 1.0)  # (P,T)
        capex = (ds["new_capacity"] * net.ds["capex_usd_per_unit"]).values  # (P,R,T)
        val = float((capex * rem[:, None, :]).sum())
        alife = net.ds["acc_life_periods"].values * net.periods.dt
        arem = np.clip(1.0 - (end - years[None, :]) / alife[:, None], 0.0, 1.0)  # (A,T)
        # accelerators at what the plan paid in cash through the chain (own lines' capex
        # has its residual above), plus the systems bought with them
        ccost = self.carrier_unit_costs()
        acc_c = net.ds["acc_carrier"].values
        unit = ccost.sel({CARRIER: acc_c}).values + net.ds["acc_deploy_cost_usd"].values
        dep = ds["deployed"].values  # (A,R,T)
        val += float((dep * unit[:, None, :] * arem[:, None, :]).sum())
        return val

    def carrier_unit_costs(self, rounds: int = 6) -> xr.DataArray:
        """Average cash cost of one unit of each carrier made in each period [USD/unit].

        A process's unit cost is its variable cost plus the cost of its inputs; a carrier's
        is the production-weighted mean over the processes that make it (capex excluded:
        own lines keep their own residual value). Periods without production take the
        carrier's mean over the horizon. Inputs are resolved by repeated passes (chains
        here are at most four deep: allocation -> stack -> accelerator).
        """
        net, ds = self.network, self.dataset
        io = net.ds["io"].values  # (P,C)
        act = ds["activity"].values.sum(axis=1)  # (P,T) summed over regions
        var = (net.ds["var_cost_usd_per_unit"] * ds["activity"]).values.sum(axis=1)  # (P,T)
        out_ = np.clip(io, 0, None)
        inp = np.clip(-io, 0, None)
        made = out_.T @ act  # (C,T) units made per year
        cost = np.zeros(made.shape)
        for _ in range(rounds):
            spent = var + act * (inp @ cost)  # (P,T) USD per year incl. inputs
            share = out_ / np.maximum(out_.sum(axis=1, keepdims=True), 1e-300)
            with np.errstate(invalid="ignore", divide="ignore"):
                c = (share.T @ spent) / made
                mean = (share.T @ spent).sum(axis=1) / made.sum(axis=1)
            cost = np.where(made > 0, c, np.nan_to_num(mean)[:, None])
            cost = np.nan_to_num(cost)
        return xr.DataArray(
            cost,
            coords={CARRIER: net.ds.indexes[CARRIER], PERIOD: net.ds.indexes[PERIOD]},
            dims=(CARRIER, PERIOD),
        )

    def h100e_hours(self) -> float:
        return float(self.dataset["compute_h100e"].sum()) * self.network.periods.dt * HOURS_PER_YEAR

    def cost_per_h100e_hour(self) -> float | None:
        """(Spend − value left at the end) / H100e-hours delivered in the horizon [USD]."""
        hours = self.h100e_hours()
        if hours <= 0:
            return None
        return (self.total_spend() - self.residual_value_usd()) / hours

    def capex_per_gw(self) -> float | None:
        """Capital spend (all but electricity and O&M) per GW of peak facility power [USD/GW]."""
        gw = float(self.dataset["fleet_mw_facility"].sum(REGION).max()) / 1e3
        if gw <= 0:
            return None
        ops = self.spend_by_category().get(Category.OPERATIONS.value, 0.0)
        return (self.total_spend() - ops) / gw

    def regional_share(self, period=None) -> dict[str, float]:
        c = self.dataset["compute_flops_regional"]
        c = c.isel({PERIOD: -1}) if period is None else c.sel({PERIOD: period})
        tot = float(c.sum())
        if tot <= 0:
            return {str(r): 0.0 for r in c[REGION].values}
        return {str(r): float(v) / tot for r, v in zip(c[REGION].values, c.values, strict=True)}

    # ----------------------------------------------------------------- output
    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary (the ``fab2flop run --json`` payload)."""
        base: dict[str, Any] = {
            "status": self.status.value,
            "message": self.message,
            "scenario": self.network.scenario.name,
            "objective": self.network.scenario.objective.kind.value,
            "objective_value": self.objective_value,
            "meta": self.meta,
        }
        if not self.status.ok:
            return base
        ds = self.dataset
        rshare_by_period = ds["compute_flops_regional"] / ds["compute_flops"].where(
            ds["compute_flops"] > 0
        )
        fb = first_binding(self.bottlenecks)
        base.update(
            {
                "periods": self.periods,
                "compute_h100e": [float(v) for v in ds["compute_h100e"].values],
                "compute_flops": [float(v) for v in ds["compute_flops"].values],
                "installed_accelerators": {
                    str(a): [float(v) for v in ds["installed_units"].sel({ACCELERATOR: a}).values]
                    for a in ds.indexes[ACCELERATOR]
                },
                "spend_usd": self.spend_by_category(),
                "spend_by_period_usd": [float(v) for v in ds["spend_usd"].sum("category").values],
                "funding_usd": [float(v) for v in ds["funding_usd"].values],
                "spend_total_usd": self.total_spend(),
                "funding_total_usd": float(ds["funding_usd"].sum()),
                "residual_value_usd": self.residual_value_usd(),
                "cost_per_h100e_hour_usd": self.cost_per_h100e_hour(),
                "capex_per_gw_usd": self.capex_per_gw(),
                "regional_share": self.regional_share(),
                "regional_share_by_period": {
                    str(r): [float(v) for v in rshare_by_period.sel({REGION: r}).fillna(0).values]
                    for r in ds.indexes[REGION]
                },
                "facility_power_gw": [
                    float(v) / 1e3 for v in ds["fleet_mw_facility"].sum(REGION).values
                ],
                "energy_twh": [float(v) for v in ds["energy_twh"].values],
                "largest_training_run_flop": [
                    float(v) for v in ds["largest_training_run_flop"].values
                ],
                "first_binding": fb.to_dict() if fb else None,
                "bottleneck_groups": [
                    g.to_dict() for g in group_bottlenecks(self.bottlenecks)[:50]
                ],
                "bottlenecks": [b.to_dict() for b in self.bottlenecks[:200]],
                "notes": self.network.notes,
                "dependence": dependence_summary(self),
            }
        )
        return base

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.summary(), indent=indent, default=_json_default)

    def save(self, out_dir: str | Path) -> list[Path]:
        """Write results.nc, summary.json, scenario.yaml, metadata.json and Parquet tables.

        Files are written to a temporary folder first and moved in at the end, so a failed
        save leaves nothing half-written.
        """
        import shutil
        import tempfile

        out = Path(out_dir)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".fab2flop-", dir=out.parent))
        try:
            files = []
            (tmp / "scenario.yaml").write_text(self.network.scenario.to_yaml(), encoding="utf-8")
            (tmp / "metadata.json").write_text(
                json.dumps(self.meta, indent=2, default=_json_default)
            )
            (tmp / "summary.json").write_text(self.to_json())
            files += ["scenario.yaml", "metadata.json", "summary.json"]
            if self.status.ok:
                ds = self.dataset.copy()
                for k in list(ds.coords):
                    if ds[k].dtype == object:
                        ds[k] = ds[k].astype(str)
                for k in list(ds.data_vars):
                    if ds[k].dtype == object:
                        ds[k] = ds[k].astype(str)
                ds.to_netcdf(tmp / "results.nc", engine="h5netcdf")
                files.append("results.nc")
                for name in ("activity", "new_capacity", "capacity", "installed", "spend_usd"):
                    df = self.dataset[name].to_dataframe().reset_index()
                    df.to_parquet(tmp / f"{name}.parquet", index=False)
                    files.append(f"{name}.parquet")
            out.mkdir(parents=True, exist_ok=True)
            written = []
            for f in files:
                shutil.move(str(tmp / f), out / f)
                written.append(out / f)
            return written
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def _largest_run(out: xr.Dataset, net: Network) -> xr.Dataset:
    """Largest training run the fleet allows in each period [FLOP]: the biggest regional fleet
    × the share one cluster can use × model FLOP utilisation × run length."""
    cat = net.catalog
    mfu = cat.number("datacenters.fleet.mfu_training", 0.4)
    days = cat.number("datacenters.fleet.max_training_run_days", 100.0)
    share = cat.number("datacenters.fleet.largest_cluster_share", 1.0)
    biggest = out["compute_flops_regional"].max(REGION)
    out["largest_training_run_flop"] = biggest * share * mfu * days * 86400.0
    out["largest_training_run_flop"].attrs["note"] = (
        f"max regional FLOP/s x {share} x MFU {mfu} x {days} days"
    )
    return out
