"""Construction and operating jobs by region and year, from sourced multipliers.

Each own line the plan builds belongs to a job class (``JOB_CLASS_OF``). A class has jobs
per unit (a fab, an HBM or packaging line: counted by capital; a GW of data center or
power: counted by capacity), build years and ranges (catalog ``jobs.*``).

* construction headcount in a year = capex spent that year / capex of one unit x build
  years x construction jobs per unit (workers on site, averaged over the build);
* operating jobs = units in operation x operating jobs per unit.

Estimates, with their sources and ranges: ``low`` and ``high`` use the catalog's ranges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from ..constants import ACCELERATOR, PERIOD, PROCESS, REGION
from .vocabulary import JobClass

# process name -> job class (own lines only; bought supply makes jobs elsewhere)
JOB_CLASS_OF: dict[str, JobClass] = {
    "fab_N3": JobClass.FAB,
    "fab_N2": JobClass.FAB,
    "fab_A16": JobClass.FAB,
    "hbm_line": JobClass.LINE,
    "cowos_line": JobClass.LINE,
    "datacenter": JobClass.DATACENTER,
    "power_gas_cc": JobClass.POWER_GAS,
    "power_gas_ct": JobClass.POWER_GAS,
    "power_solar_storage": JobClass.POWER_GAS,
    "power_nuclear_large": JobClass.POWER_NUCLEAR,
    "power_smr": JobClass.POWER_NUCLEAR,
}
BY_CAPITAL = {JobClass.FAB: "fab", JobClass.LINE: "line"}
BY_GW = {
    JobClass.DATACENTER: "datacenter",
    JobClass.POWER_GAS: "power_gas",
    JobClass.POWER_NUCLEAR: "power_nuclear",
}
BOUNDS = ("value", "low", "high")
JOB_CLASS = "job_class"


def _rec(cat: Any, rid: str, bound: str) -> float:
    r = cat.record(rid)
    v = getattr(r, bound) if bound != "value" else None
    return float(v if v is not None else r.value)


def construction_headcount(
    capex_usd: np.ndarray, unit_capex_usd: np.ndarray, build_years: float, jobs_per_unit: float
) -> np.ndarray:
    """Workers on site: capex spent per year / capex of one unit x build years x jobs.

    >>> float(construction_headcount(np.array(10e9), np.array(20e9), 2.0, 5000.0))
    5000.0
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        units = np.where(unit_capex_usd > 0, capex_usd / unit_capex_usd, 0.0)
    return units * build_years * jobs_per_unit


@dataclass(frozen=True)
class Jobs:
    """Jobs by (class, region, period) for the central value and the range [jobs]."""

    construction: dict[str, np.ndarray]  # bound -> (K, R, T)
    operating: dict[str, np.ndarray]
    classes: list[str]
    regions: list[str]
    periods: list[Any]  # period labels (years, or '2025Q1' with quarters)
    spend_by_region_usd: np.ndarray  # (R, T)

    def to_dataset(self) -> xr.Dataset:
        """``jobs_construction``/``jobs_operating`` (bound, job_class, region, period) [jobs]."""
        coords = {
            "bound": list(BOUNDS),
            JOB_CLASS: self.classes,
            REGION: self.regions,
            PERIOD: self.periods,
        }
        dims = ("bound", JOB_CLASS, REGION, PERIOD)
        out = xr.Dataset(coords=coords)
        for name, d in (
            ("jobs_construction", self.construction),
            ("jobs_operating", self.operating),
        ):
            out[name] = (dims, np.stack([d[b] for b in BOUNDS]), {"units": "jobs"})
        return out

    def summary(self) -> dict[str, Any]:
        """Per region: jobs by year (central, low, high) and by class, and spend [USD]."""
        out: dict[str, Any] = {}
        for i, r in enumerate(self.regions):
            c, o = self.construction["value"][:, i], self.operating["value"][:, i]
            if not (c.any() or o.any() or self.spend_by_region_usd[i].any()):
                continue
            out[r] = {
                "periods": self.periods,
                "construction_jobs": c.sum(0).round().tolist(),
                "operating_jobs": o.sum(0).round().tolist(),
                "construction_jobs_low": self.construction["low"][:, i].sum(0).round().tolist(),
                "construction_jobs_high": self.construction["high"][:, i].sum(0).round().tolist(),
                "operating_jobs_low": self.operating["low"][:, i].sum(0).round().tolist(),
                "operating_jobs_high": self.operating["high"][:, i].sum(0).round().tolist(),
                "peak_construction_jobs": float(c.sum(0).max()),
                "operating_jobs_at_end": float(o.sum(0)[-1]),
                "by_class": {
                    k: {
                        "construction_jobs": c[j].round().tolist(),
                        "operating_jobs": o[j].round().tolist(),
                    }
                    for j, k in enumerate(self.classes)
                    if c[j].any() or o[j].any()
                },
                "spend_usd": self.spend_by_region_usd[i].tolist(),
                "spend_total_usd": float(self.spend_by_region_usd[i].sum()),
            }
        return out


def _rows(da: xr.DataArray, names: list[str]) -> np.ndarray:
    """``da.sel({PROCESS: names}).values`` with numpy (every name is a process of ``da``)."""
    pos = {p: i for i, p in enumerate(da.indexes[PROCESS])}
    at = [pos[n] for n in names]
    return np.take(np.asarray(da.values), at, axis=da.dims.index(PROCESS))


def _class_arrays(res: Any, cls: JobClass, bound: str, cat: Any):
    """Construction and operating jobs (R, T) of one class for one bound."""
    ds, nds = res.dataset, res.network.ds
    names = [p for p, k in JOB_CLASS_OF.items() if k is cls and p in nds.indexes[PROCESS]]
    shape = (nds.sizes[REGION], nds.sizes[PERIOD])
    if not names:
        return np.zeros(shape), np.zeros(shape)
    capex = _rows(ds["spend_capex_usd"], names)  # (p, R, T)
    dt = float(ds.attrs.get("dt_years", 1.0))
    if cls in BY_CAPITAL:
        pre = f"jobs.{BY_CAPITAL[cls]}"
        unit = np.full(capex.shape, _rec(cat, f"{pre}.unit_capex_usd", "value"))
        build = _rec(cat, f"{pre}.build_years", "value")
        c_jobs = _rec(cat, f"{pre}.construction_jobs", bound)
        op = _rec(cat, f"{pre}.operating_jobs", bound)
        lag = int(round(build / dt))
        # units in operation: capital spent at least build_years earlier
        cum = np.cumsum(capex, axis=-1)
        opened = np.zeros_like(cum)
        t_n = cum.shape[-1]
        if lag < t_n:
            opened[..., lag:] = cum[..., : t_n - lag]
        operating = (opened / unit * op).sum(0)
    else:
        pre = f"jobs.{BY_GW[cls]}"
        unit = _rows(nds["capex_usd_per_unit"], names) * 1e3  # USD per GW
        build = _rec(cat, f"{pre}.build_years", "value")
        c_jobs = _rec(cat, f"{pre}.construction_jobs_per_gw", bound)
        op = _rec(cat, f"{pre}.operating_jobs_per_gw", bound)
        gw = _rows(ds["capacity"], names) / 1e3
        operating = (gw * op).sum(0)
    construction = construction_headcount(capex / dt, unit, build, c_jobs).sum(0)
    return construction, operating


def jobs_of(res: Any, cat: Any = None) -> Jobs:
    """Jobs and spending by region and year of optimised results ``res`` (multipliers from
    ``cat``, default the run's catalog)."""
    cat = res.network.catalog if cat is None else cat
    ds = res.dataset
    classes = list(JobClass)
    cons, ops = {}, {}
    for b in BOUNDS:
        pairs = [_class_arrays(res, k, b, cat) for k in classes]
        cons[b] = np.stack([p[0] for p in pairs])
        ops[b] = np.stack([p[1] for p in pairs])
    spend = sum(ds[f"spend_{k}_usd"].sum(PROCESS) for k in ("capex", "fixed_om", "variable"))
    spend = spend + ds["spend_systems_usd"].sum(ACCELERATOR)
    return Jobs(
        cons,
        ops,
        [k.value for k in classes],
        [str(r) for r in ds.indexes[REGION]],
        [p.item() if isinstance(p, np.generic) else p for p in ds.indexes[PERIOD]],
        spend.transpose(REGION, PERIOD).values,
    )
