"""Metrics of a plan: pure functions of the network Dataset and a solution Dataset.

No LP and no catalog: what a metric needs beyond the two Datasets is a parameter (with its
default recorded on the results Dataset's attributes). Every function broadcasts over any
extra leading dimension of the solution (e.g. ``sample``: N replays at once) and returns
one value per sample.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import xarray as xr

from .constants import (
    ACCELERATOR,
    CARRIER,
    H100_FLOPS_BF16_DENSE,
    HOURS_PER_YEAR,
    PERIOD,
    PROCESS,
    REGION,
    Category,
)

SPEND_CATEGORIES = [c.value for c in Category]
CATEGORY = "category"
# what with_metrics adds to a solution Dataset
METRIC_VARIABLES = (
    "compute_flops_regional",
    "compute_flops",
    "compute_h100e",
    "installed_units",
    "spend_usd",
    "funding_usd",
    "fleet_draw",
    "fleet_mw_it",
    "fleet_mw_facility",
    "energy_twh",
    "largest_training_run_flop",
)


@dataclass(frozen=True)
class MetricParams:
    """Fleet assumptions the metrics use (read from the catalog when the run was made)."""

    utilization: float = 1.0  # share of the year the fleet draws power [1]
    mfu_training: float = 0.4  # model FLOP utilisation of a training run [1]
    max_training_run_days: float = 100.0  # [days]
    largest_cluster_share: float = 1.0  # share of a region's fleet one cluster can use [1]

    def to_attrs(self) -> dict[str, float]:
        return {f"metric_{k}": float(v) for k, v in asdict(self).items()}

    @classmethod
    def from_attrs(cls, attrs: dict) -> MetricParams:
        names = cls.__dataclass_fields__
        return cls(**{k: float(attrs[f"metric_{k}"]) for k in names if f"metric_{k}" in attrs})


def _u(da: xr.DataArray, units: str, description: str) -> xr.DataArray:
    da.attrs = {"units": units, "description": description}
    return da


def _dt(net_ds: xr.Dataset) -> float:
    return float(net_ds.attrs["dt_years"])


# ------------------------------------------------------------------------ compute
def compute(net_ds: xr.Dataset, sol: xr.Dataset) -> xr.Dataset:
    """Installed compute: FLOP/s by region and in total, H100-equivalents, units."""
    flops = net_ds["flops_bf16_dense"]
    regional = (sol["installed"] * flops).sum(ACCELERATOR)
    total = regional.sum(REGION)
    return xr.Dataset(
        {
            "compute_flops_regional": _u(regional, "FLOP/s", "installed dense BF16 peak"),
            "compute_flops": _u(total, "FLOP/s", "installed dense BF16 peak, all regions"),
            "compute_h100e": _u(
                total / H100_FLOPS_BF16_DENSE, "H100e", "installed H100-equivalents"
            ),
            "installed_units": _u(
                sol["installed"].sum(REGION), "units", "installed accelerators, all regions"
            ),
        }
    )


def h100e_hours(net_ds: xr.Dataset, sol: xr.Dataset) -> xr.DataArray:
    """H100e-hours delivered over the horizon [H100e-hour]."""
    return sol["compute_h100e"].sum(PERIOD) * _dt(net_ds) * HOURS_PER_YEAR


# ------------------------------------------------------------------------ money
def spend_by_category(net_ds: xr.Dataset, sol: xr.Dataset) -> xr.DataArray:
    """Spend by category and period [USD per period].

    Capex goes to the process's category, fixed O&M to operations, variable cost to the
    category (to operations when the process makes a rate carrier: electricity, leases),
    systems to servers and networking."""
    cat = net_ds["category"]
    rate = net_ds["carrier_kind"].sel({CARRIER: net_ds["main_output"]}).drop_vars(CARRIER)
    var_cat = xr.where(rate == "rate", Category.OPERATIONS.value, cat)
    cats = xr.DataArray(SPEND_CATEGORIES, dims=CATEGORY, coords={CATEGORY: SPEND_CATEGORIES})
    ops = (cats == Category.OPERATIONS.value).astype(float)
    by_proc = (
        sol["spend_capex_usd"].sum(REGION) * (cats == cat)
        + sol["spend_fixed_om_usd"].sum(REGION) * ops
        + sol["spend_variable_usd"].sum(REGION) * (cats == var_cat)
    ).sum(PROCESS)
    systems = sol["spend_systems_usd"].sum([ACCELERATOR, REGION]) * (cats == Category.SYSTEMS.value)
    out = (by_proc + systems).transpose(..., CATEGORY, PERIOD)
    # C order, as a saved run reads it back: sums then agree to the last bit after Results.load
    if isinstance(out.data, np.ndarray):
        out = out.copy(data=np.ascontiguousarray(out.data))
    return _u(out, "USD", "spend by category, in the period")


def total_spend(spend_usd: xr.DataArray) -> xr.DataArray:
    """Spend over the horizon [USD]."""
    return spend_usd.sum([CATEGORY, PERIOD])


def carrier_unit_costs(
    net_ds: xr.Dataset, sol: xr.Dataset, rounds: int | None = None
) -> xr.DataArray:
    """Average cash cost of one unit of each carrier made in each period [USD/unit].

    A process's unit cost is its variable cost plus the cost of its inputs; a carrier's is
    the production-weighted mean over the processes that make it (capex excluded: own lines
    keep their own residual value). Periods without production take the carrier's mean over
    the horizon. Inputs are resolved by repeated passes until the costs stop changing (a
    chain without loops is exact after as many passes as it has stages, never more than the
    number of carriers); ``rounds`` forces a fixed number of passes.
    """
    act_x = sol["activity"].sum(REGION)
    lead = [d for d in act_x.dims if d not in (PROCESS, PERIOD)]  # e.g. sample
    act = act_x.transpose(*lead, PROCESS, PERIOD).values  # (..., P, T)
    var_x = (net_ds["var_cost_usd_per_unit"] * sol["activity"]).sum(REGION)
    var = var_x.transpose(*lead, PROCESS, PERIOD).values
    io = net_ds["io"].transpose(PROCESS, CARRIER).values
    out_ = np.clip(io, 0, None)
    inp = np.clip(-io, 0, None)
    share = out_ / np.maximum(out_.sum(axis=1, keepdims=True), 1e-300)
    made = np.einsum("pc,...pt->...ct", out_, act)  # units made per year
    cost = np.zeros(made.shape)
    limit = rounds if rounds is not None else 10 * (io.shape[1] + 1)
    for _ in range(limit):
        prev = cost
        spent = var + act * np.einsum("pc,...ct->...pt", inp, cost)  # USD/yr incl. inputs
        num = np.einsum("pc,...pt->...ct", share, spent)
        with np.errstate(invalid="ignore", divide="ignore"):
            c = num / made
            mean = num.sum(axis=-1) / made.sum(axis=-1)
        cost = np.where(made > 0, c, np.nan_to_num(mean)[..., None])
        cost = np.nan_to_num(cost)
        if rounds is None and np.allclose(cost, prev, rtol=1e-12, atol=0.0):
            break
    coords = {d: act_x.coords[d] for d in lead if d in act_x.coords}
    coords.update({CARRIER: net_ds.indexes[CARRIER], PERIOD: net_ds.indexes[PERIOD]})
    out = xr.DataArray(cost, dims=(*lead, CARRIER, PERIOD), coords=coords)
    return _u(out, "USD per {carrier_unit}", "cash cost of a unit made in the period")


def residual_value_usd(
    net_ds: xr.Dataset, sol: xr.Dataset, unit_costs: xr.DataArray | None = None
) -> xr.DataArray:
    """Undepreciated value (straight line) of what the plan owns at the horizon's end [USD]:
    its own capacity at capex, and accelerators at what the plan paid in cash through the
    chain plus the systems bought with them."""
    dt = _dt(net_ds)
    years = net_ds["year"]
    end = float(years[-1]) + dt
    life_y = net_ds["life_periods"] * dt
    rem = ((1.0 - (end - years) / life_y).clip(0.0, 1.0)).drop_vars("year", errors="ignore")
    val = (sol["new_capacity"] * net_ds["capex_usd_per_unit"] * rem).sum([PROCESS, REGION, PERIOD])
    alife = net_ds["acc_life_periods"] * dt
    arem = ((1.0 - (end - years) / alife).clip(0.0, 1.0)).drop_vars("year", errors="ignore")
    ccost = carrier_unit_costs(net_ds, sol) if unit_costs is None else unit_costs
    unit = ccost.sel({CARRIER: net_ds["acc_carrier"]}).drop_vars(CARRIER)
    unit = unit + net_ds["acc_deploy_cost_usd"]
    val = val + (sol["deployed"] * unit * arem).sum([ACCELERATOR, REGION, PERIOD])
    return _u(val, "USD", "value left at the end of the horizon")


def cost_per_h100e_hour(
    net_ds: xr.Dataset, sol: xr.Dataset, residual: xr.DataArray | None = None
) -> xr.DataArray:
    """(Spend − value left at the end) / H100e-hours delivered [USD per H100e-hour];
    NaN where no compute is delivered."""
    hours = h100e_hours(net_ds, sol)
    res = residual_value_usd(net_ds, sol) if residual is None else residual
    val = (total_spend(sol["spend_usd"]) - res) / hours.where(hours > 0)
    return _u(val, "USD per H100e-hour", "all-in cost of compute delivered")


def capex_per_gw(sol: xr.Dataset) -> xr.DataArray:
    """Capital spend (all but operations) per GW of peak facility power [USD/GW]; NaN
    without a fleet."""
    gw = sol["fleet_mw_facility"].sum(REGION).max(PERIOD) / 1e3
    spend = total_spend(sol["spend_usd"]) - sol["spend_usd"].sel(
        {CATEGORY: Category.OPERATIONS.value}
    ).sum(PERIOD)
    return _u(spend / gw.where(gw > 0), "USD per GW", "capital spend per GW of facility power")


def regional_share(sol: xr.Dataset) -> xr.DataArray:
    """Share of installed FLOP/s in each region and period [1] (0 where there is none)."""
    c = sol["compute_flops_regional"]
    tot = c.sum(REGION)
    return _u((c / tot.where(tot > 0)).fillna(0.0), "1", "share of installed compute")


# ------------------------------------------------------------------------ power
def fleet_power(net_ds: xr.Dataset, sol: xr.Dataset, params: MetricParams) -> xr.Dataset:
    """What the installed fleet occupies (each carrier of ``fleet_draw``, natural units), its
    IT and facility power [MW] and the energy it uses [TWh per period]."""
    draw = (sol["installed"] * net_ds["fleet_draw"]).sum(ACCELERATOR)
    it = (sol["installed"] * net_ds["kw_it_per_unit"]).sum(ACCELERATOR) / 1e3
    fac = it * net_ds["pue"]
    twh = fac.sum(REGION) * params.utilization * HOURS_PER_YEAR * _dt(net_ds) / 1e6
    return xr.Dataset(
        {
            "fleet_draw": _u(draw.transpose(..., CARRIER, REGION, PERIOD), "{carrier_unit}",
                             "what the installed fleet occupies of each carrier"),
            "fleet_mw_it": _u(it, "MW", "IT power of the installed fleet"),
            "fleet_mw_facility": _u(fac, "MW", "facility power of the installed fleet (IT x PUE)"),
            "energy_twh": _u(twh, "TWh", "energy the fleet uses in the period"),
        }
    )  # fmt: skip


def largest_training_run(sol: xr.Dataset, params: MetricParams) -> xr.DataArray:
    """Largest training run the fleet allows in each period [FLOP]: the biggest regional
    fleet × the share one cluster can use × model FLOP utilisation × run length."""
    p = params
    biggest = sol["compute_flops_regional"].max(REGION)
    run = biggest * p.largest_cluster_share * p.mfu_training * p.max_training_run_days * 86400.0
    return _u(
        run,
        "FLOP",
        f"max regional FLOP/s x {p.largest_cluster_share} x MFU {p.mfu_training} x "
        f"{p.max_training_run_days} days",
    )


# ------------------------------------------------------------------------ all at once
def with_metrics(net_ds: xr.Dataset, sol: xr.Dataset, params: MetricParams) -> xr.Dataset:
    """The solution Dataset plus every per-period metric (the results Dataset)."""
    out = sol.copy()
    out.update(compute(net_ds, out))
    out["spend_usd"] = spend_by_category(net_ds, out)
    out["funding_usd"] = _u(net_ds["funding_usd"].copy(), "USD", "money arriving in the period")
    out.update(fleet_power(net_ds, out, params))
    out["largest_training_run_flop"] = largest_training_run(out, params)
    out.attrs.update(params.to_attrs())
    return out


__all__ = [
    "METRIC_VARIABLES",
    "MetricParams",
    "SPEND_CATEGORIES",
    "capex_per_gw",
    "carrier_unit_costs",
    "compute",
    "cost_per_h100e_hour",
    "fleet_power",
    "h100e_hours",
    "largest_training_run",
    "regional_share",
    "residual_value_usd",
    "spend_by_category",
    "total_spend",
    "with_metrics",
]
