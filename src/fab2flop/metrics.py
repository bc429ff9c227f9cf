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
    H100_FLOPS_FP8_DENSE,
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
    "compute_h100e_fp8",
    "compute_h100e_fp4",
    "compute_h100e_effective",
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
    # workload mix of the effective H100e (datacenters.fleet.*): share of compute serving
    # inference, share of training run at FP8 (rest BF16), of inference at FP4 (rest FP8) [1]
    inference_share: float = 0.0
    training_fp8_share: float = 0.0
    inference_fp4_share: float = 0.0

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
def precision_weights(params: MetricParams) -> dict[str, float]:
    """Share of the fleet's work done at each precision [1], from the workload mix:
    BF16 = training × (1 − FP8 share); FP8 = training × FP8 share + inference × (1 − FP4
    share); FP4 = inference × FP4 share. They sum to one."""
    inf, t8, i4 = params.inference_share, params.training_fp8_share, params.inference_fp4_share
    return {"bf16": (1 - inf) * (1 - t8), "fp8": (1 - inf) * t8 + inf * (1 - i4), "fp4": inf * i4}


def _flops(net_ds: xr.Dataset, precision: str) -> xr.DataArray:
    """Dense peak per accelerator at ``precision`` [FLOP/s]; a network saved before FP8/FP4
    were recorded reads its BF16 figure (FP4 falls back to FP8, FP8 to BF16)."""
    for name in {"fp4": ("fp4", "fp8", "bf16"), "fp8": ("fp8", "bf16")}.get(precision, ("bf16",)):
        if f"flops_{name}_dense" in net_ds:
            return net_ds[f"flops_{name}_dense"]
    return net_ds["flops_bf16_dense"]


def compute_by_precision(net_ds: xr.Dataset, sol: xr.Dataset, params: MetricParams) -> xr.Dataset:
    """Installed H100-equivalents at FP8 and FP4, and workload-weighted (see
    :func:`precision_weights`). FP8 H100e = Σ units × FP8 FLOP/s / the H100's 1,979 TFLOP/s;
    FP4 H100e divides FP4 FLOP/s (FP8 where a part has no FP4) by the same 1,979 (the H100
    runs FP4 work at FP8); effective = Σ_p weight_p × H100e_p with BF16 H100e as today's."""
    units = sol["installed"].sum(REGION)
    h8 = (units * _flops(net_ds, "fp8")).sum(ACCELERATOR) / H100_FLOPS_FP8_DENSE
    h4 = (units * _flops(net_ds, "fp4")).sum(ACCELERATOR) / H100_FLOPS_FP8_DENSE
    w = precision_weights(params)
    eff = w["bf16"] * sol["compute_h100e"] + w["fp8"] * h8 + w["fp4"] * h4
    mix = ", ".join(f"{k} {v:.3f}" for k, v in w.items())
    return xr.Dataset(
        {
            "compute_h100e_fp8": _u(
                h8, "H100e", "installed dense FP8 peak / H100 FP8 (1,979 TFLOP/s)"
            ),
            "compute_h100e_fp4": _u(
                h4, "H100e", "installed dense FP4 peak (FP8 where none) / H100 FP8 (1,979 TFLOP/s)"
            ),
            "compute_h100e_effective": _u(
                eff, "H100e", f"workload-weighted H100e (BF16/FP8/FP4 weights: {mix})"
            ),
        }
    )  # fmt: skip


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
                total / H100_FLOPS_BF16_DENSE,
                "H100e",
                "installed H100-equivalents (default): dense BF16 peak / the H100's 989 TFLOP/s",
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


def discount_factors(net_ds: xr.Dataset, rate: float) -> xr.DataArray:
    """(1 + rate)^−(year − first year) for each period [1]: money and hours of a period
    count from the period's start."""
    years = net_ds["year"].astype(float)
    return (1.0 + rate) ** -(years - float(years[0]))


def levelised_cost_per_h100e_hour(
    net_ds: xr.Dataset, sol: xr.Dataset, rate: float, residual: xr.DataArray | None = None
) -> xr.DataArray:
    """Levelised cost of compute at a cost of capital ``rate`` [USD per H100e-hour]:

        (Σ_t spend_t × DF_t − residual × DF_end) / Σ_t H100e-hours_t × DF_t

    with DF_t = (1 + rate)^−(year_t − year_0) and the residual (value left at the end)
    discounted from the horizon's end, year_last + dt. At rate 0 it is
    :func:`cost_per_h100e_hour`. NaN where no compute is delivered."""
    df = discount_factors(net_ds, rate)
    dt = _dt(net_ds)
    end = float(net_ds["year"][-1]) + dt - float(net_ds["year"][0])
    res = residual_value_usd(net_ds, sol) if residual is None else residual
    pv_spend = (sol["spend_usd"].sum(CATEGORY) * df).sum(PERIOD)
    pv_hours = (sol["compute_h100e"] * df).sum(PERIOD) * dt * HOURS_PER_YEAR
    val = (pv_spend - res * (1.0 + rate) ** -end) / pv_hours.where(pv_hours > 0)
    return _u(val, "USD per H100e-hour", f"levelised cost of compute at {rate:.2%}/year")


def capex_per_gw(net_ds: xr.Dataset, sol: xr.Dataset) -> xr.DataArray:
    """Facility plus IT capex per GW of facility power added over the horizon [USD/GW]
    (upstream fabs, lines and power plants excluded; see :func:`capex_per_gw_added`)."""
    return capex_per_gw_added(capex_added(net_ds, sol))["capex_per_gw_added_usd"]


def all_spend_per_peak_gw(sol: xr.Dataset) -> xr.DataArray:
    """Capital spend (all but operations) over the horizon per GW of peak facility power
    [USD/GW]; NaN without a fleet. Scope: upstream (fabs, HBM and packaging lines, power
    plants) and IT and facilities together."""
    gw = sol["fleet_mw_facility"].sum(REGION).max(PERIOD) / 1e3
    spend = total_spend(sol["spend_usd"]) - sol["spend_usd"].sel(
        {CATEGORY: Category.OPERATIONS.value}
    ).sum(PERIOD)
    return _u(
        spend / gw.where(gw > 0), "USD per GW", "all capital spend per GW of peak facility power"
    )


def _is_datacenter_build(net_ds: xr.Dataset) -> xr.DataArray:
    """Processes that build data-center capacity (category datacenters, with capex)."""
    cap = net_ds["capex_usd_per_unit"].max(
        [d for d in net_ds["capex_usd_per_unit"].dims if d != PROCESS]
    )
    return (net_ds["category"] == Category.DATACENTERS.value) & (cap > 0)


def capex_added(
    net_ds: xr.Dataset, sol: xr.Dataset, unit_costs: xr.DataArray | None = None
) -> xr.Dataset:
    """What each period adds, in money and facility GW (IT × PUE):

    - ``facility_capex_usd``: capex of the data centers opening in the period (new capacity
      × its capex per MW, though spent over the build years before); ``facility_gw_added``:
      their facility power (MW of IT × PUE / 1,000);
    - ``it_capex_usd``: accelerators deployed at the cash paid through the chain (price, or
      wafers, stacks, packaging and assembly at cash cost: own lines' capex is upstream) plus
      their systems; ``it_gw_added``: their facility power (units × kW of IT × PUE / 1e6);
    - ``upstream_capex_usd``: capex of everything else (fabs, HBM and packaging lines, power
      plants), by category."""
    pue = net_ds["pue"]
    dc = _is_datacenter_build(net_ds)
    # capex of the capacity opening in the period (spent over its build years before)
    fac_capex = (sol["new_capacity"] * net_ds["capex_usd_per_unit"]).where(dc, 0.0)
    fac_capex = fac_capex.sum([PROCESS, REGION])
    fac_gw = (sol["new_capacity"].where(dc, 0.0) * pue).sum([PROCESS, REGION]) / 1e3
    ccost = carrier_unit_costs(net_ds, sol) if unit_costs is None else unit_costs
    unit = ccost.sel({CARRIER: net_ds["acc_carrier"]}).drop_vars(CARRIER)
    unit = unit + net_ds["acc_deploy_cost_usd"]
    it_capex = (sol["deployed"] * unit).sum([ACCELERATOR, REGION])
    it_gw = (sol["deployed"] * net_ds["kw_it_per_unit"] * pue).sum([ACCELERATOR, REGION]) / 1e6
    cats = xr.DataArray(SPEND_CATEGORIES, dims=CATEGORY, coords={CATEGORY: SPEND_CATEGORIES})
    up = sol["spend_capex_usd"].where(~dc, 0.0).sum(REGION) * (cats == net_ds["category"])
    return xr.Dataset(
        {
            "facility_capex_usd": _u(fac_capex, "USD", "capex of data centers opening"),
            "facility_gw_added": _u(fac_gw, "GW", "facility power of data centers built"),
            "it_capex_usd": _u(it_capex, "USD", "accelerators deployed (cash cost) + systems"),
            "it_gw_added": _u(it_gw, "GW", "facility power of accelerators deployed"),
            "upstream_capex_usd": _u(
                up.sum(PROCESS).transpose(..., CATEGORY, PERIOD), "USD",
                "capex of fabs, HBM and packaging lines, power plants the plan owns",
            ),
        }
    )  # fmt: skip


def capex_per_gw_added(added: xr.Dataset) -> xr.Dataset:
    """Facility plus IT capex per GW added [USD/GW], over the horizon and by period:
    facility capex / facility GW built (0 when the plan builds none: leased capacity) + IT
    capex / GW of accelerators deployed (NaN where none is deployed). Upstream investment
    (fabs, lines, power plants) is not in it."""
    fac, it = added["facility_capex_usd"], added["it_capex_usd"]
    fgw, igw = added["facility_gw_added"], added["it_gw_added"]
    f_all = fac.sum(PERIOD) / fgw.sum(PERIOD).where(fgw.sum(PERIOD) > 0)
    i_all = it.sum(PERIOD) / igw.sum(PERIOD).where(igw.sum(PERIOD) > 0)
    f_t = fac / fgw.where(fgw > 0)
    i_t = it / igw.where(igw > 0)
    scope = "facility + IT capex per GW of facility power added (upstream excluded)"
    return xr.Dataset(
        {
            "capex_per_gw_added_usd": _u(f_all.fillna(0.0) + i_all, "USD per GW", scope),
            "facility_capex_per_gw_usd": _u(f_all, "USD per GW", "facility capex per GW built"),
            "it_capex_per_gw_usd": _u(i_all, "USD per GW", "IT capex per GW deployed"),
            "capex_per_gw_added_by_period_usd": _u(f_t.fillna(0.0) + i_t, "USD per GW", scope),
        }
    )


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
class _Chain:
    """``sol[name]``: the metric computed so far, else the solution's array."""

    def __init__(self, new: dict[str, xr.DataArray], sol: xr.Dataset) -> None:
        self.new, self.sol = new, sol

    def __getitem__(self, name: str) -> xr.DataArray:
        return self.new[name] if name in self.new else self.sol[name]


def with_metrics(net_ds: xr.Dataset, sol: xr.Dataset, params: MetricParams) -> xr.Dataset:
    """The solution Dataset plus every per-period metric (the results Dataset). The metrics
    go in with one update (merging the whole Dataset once, not once per group)."""
    out = sol.copy()
    new: dict[str, xr.DataArray] = {}
    view: xr.Dataset = _Chain(new, out)  # type: ignore[assignment]  # read by name only
    new.update(compute(net_ds, view).data_vars)
    new.update(compute_by_precision(net_ds, view, params).data_vars)
    new["spend_usd"] = spend_by_category(net_ds, view)
    new["funding_usd"] = _u(net_ds["funding_usd"].copy(), "USD", "money arriving in the period")
    new.update(fleet_power(net_ds, view, params).data_vars)
    new["largest_training_run_flop"] = largest_training_run(view, params)
    out.update(new)
    out.attrs.update(params.to_attrs())
    return out


__all__ = [
    "METRIC_VARIABLES",
    "MetricParams",
    "SPEND_CATEGORIES",
    "all_spend_per_peak_gw",
    "capex_added",
    "capex_per_gw",
    "capex_per_gw_added",
    "carrier_unit_costs",
    "compute",
    "compute_by_precision",
    "discount_factors",
    "levelised_cost_per_h100e_hour",
    "precision_weights",
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
