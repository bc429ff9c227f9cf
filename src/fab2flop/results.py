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
import pandas as pd
import xarray as xr

from . import metrics
from .bottlenecks import Bottleneck, bottlenecks, first_binding, group_bottlenecks
from .constants import ACCELERATOR, PERIOD, PROCESS, REGION, Status
from .dependence import dependence_coords, dependence_summary
from .errors import OutputError
from .lp.registry import Registry
from .metrics import SPEND_CATEGORIES, MetricParams, with_metrics
from .network import Network
from .solution import read_solution
from .timeseries import Periods

if TYPE_CHECKING:
    from .lp.model import LP

__all__ = ["Results", "SPEND_CATEGORIES", "metric_params", "process_labels"]


def _version() -> str:
    from . import __version__

    return __version__


def _f(x: Any) -> float | None:
    """A scalar metric as a float; None where it is undefined (NaN)."""
    v = float(x)
    return None if np.isnan(v) else v


def metric_params(net: Network) -> MetricParams:
    """The fleet assumptions of the metrics, from the network's catalog."""
    cat = net.catalog
    return MetricParams(
        utilization=cat.number("datacenters.fleet.utilization", 1.0),
        mfu_training=cat.number("datacenters.fleet.mfu_training", 0.4),
        max_training_run_days=cat.number("datacenters.fleet.max_training_run_days", 100.0),
        largest_cluster_share=cat.number("datacenters.fleet.largest_cluster_share", 1.0),
        inference_share=cat.number("datacenters.fleet.inference_share", 0.0),
        training_fp8_share=cat.number("datacenters.fleet.training_fp8_share", 0.0),
        inference_fp4_share=cat.number("datacenters.fleet.inference_fp4_share", 0.0),
    )


def process_labels(net: Network) -> list[str]:
    """Plain-language name of each process (its spec's ``label``, else its name)."""
    by_name = {p.name: p for p in net.processes}
    out = []
    for name in net.ds.indexes[PROCESS]:
        spec = by_name.get(name)
        label = getattr(spec, "label", "") if spec is not None else ""
        out.append(label or str(name).replace("_", " "))
    return out


@dataclass
class Results:
    """Outcome of one optimisation run.

    ``dataset`` is the results Dataset: the solution in natural units (see
    :mod:`fab2flop.solution`) plus per-period metrics (:mod:`fab2flop.metrics`); with the
    network Dataset and ``registry`` it is all the metrics and the bottleneck report need.
    """

    status: Status
    message: str
    objective_value: float | None
    dataset: xr.Dataset
    network: Network
    bottlenecks: list[Bottleneck] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    registry: Registry | None = None
    # the last summary and what it was computed from (see :meth:`summary`)
    _summary_memo: tuple[tuple, dict[str, Any]] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    # metrics several parts of the summary use, computed once (see :meth:`_once`)
    _metric_memo: dict[str, tuple[tuple, Any]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

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
        """Read a solved LP once; nothing after this touches it."""
        net = lp.net
        sol = read_solution(lp, status)
        sol.coords["process_label"] = (PROCESS, process_labels(net))
        sol = sol.assign_coords(dependence_coords(net))  # vendors, export control (dependence)
        out = with_metrics(net.ds, sol, metric_params(net))
        out.attrs.update(
            {
                "data_hash": net.catalog.data_hash,
                "scenario_yaml": net.scenario.to_yaml(),
                "version": _version(),
                "seed": net.scenario.seed,
            }
        )
        res = cls(
            status,
            _optimal_message(out),
            float(out.attrs["objective_value"]),
            out,
            net,
            bottlenecks(net.ds, out, lp.registry),
            dict(timings),
            cls._meta(net, timings),
            lp.registry,
        )
        res.meta["n_variables"] = int(lp.model.n_columns)
        res.meta["n_constraints"] = int(lp.model.n_rows)
        return res

    # ----------------------------------------------------------------- metrics
    @property
    def buys_nothing(self) -> bool:
        """An optimal plan that never has one whole accelerator installed: the money buys
        no usable compute, and per-unit metrics of it have no meaning."""
        return self.status.ok and _peak_units(self.dataset) < 1.0

    @property
    def periods(self) -> list:
        return [p.item() if isinstance(p, np.generic) else p for p in self.dataset.indexes[PERIOD]]

    def spend_by_category(self) -> dict[str, float]:
        s = self.dataset["spend_usd"].sum(PERIOD)
        return {str(c): float(v) for c, v in zip(s["category"].values, s.values, strict=True)}

    def total_spend(self) -> float:
        return float(metrics.total_spend(self.dataset["spend_usd"]))

    def _once(self, key: str, compute: Any) -> Any:
        """``compute()``, computed once for the current dataset and network (replacing
        either recomputes it); the summary's parts share the metrics they all need."""
        of = (self.dataset, self.network)
        hit = self._metric_memo.get(key)
        if hit is not None and all(a is b for a, b in zip(hit[0], of, strict=True)):
            return hit[1]
        value = compute()
        self._metric_memo[key] = (of, value)
        return value

    def _unit_costs(self) -> xr.DataArray:
        return self._once(
            "unit_costs", lambda: metrics.carrier_unit_costs(self.network.ds, self.dataset)
        )

    def _residual(self) -> xr.DataArray:
        return self._once(
            "residual",
            lambda: metrics.residual_value_usd(self.network.ds, self.dataset, self._unit_costs()),
        )

    def capex_added(self) -> xr.Dataset:
        """:func:`fab2flop.metrics.capex_added` of the run (computed once: read, do not
        change it)."""
        return self._once(
            "capex_added",
            lambda: metrics.capex_added(self.network.ds, self.dataset, self._unit_costs()),
        )

    def residual_value_usd(self) -> float:
        """Undepreciated value (straight line) of what the plan owns at the horizon's end."""
        return float(self._residual())

    def carrier_unit_costs(self, rounds: int | None = None) -> xr.DataArray:
        """Average cash cost of one unit of each carrier made in each period [USD/unit]
        (see :func:`fab2flop.metrics.carrier_unit_costs`)."""
        return metrics.carrier_unit_costs(self.network.ds, self.dataset, rounds)

    def h100e_hours(self) -> float:
        return float(metrics.h100e_hours(self.network.ds, self.dataset))

    def cost_per_h100e_hour(self) -> float | None:
        """(Spend − value left at the end) / H100e-hours delivered in the horizon [USD]."""
        return _f(metrics.cost_per_h100e_hour(self.network.ds, self.dataset))

    def capex_per_gw(self) -> float | None:
        """Facility plus IT capex per GW of facility power added [USD/GW]; upstream
        investment (fabs, HBM and packaging lines, power plants) is not in it."""
        # metrics.capex_per_gw, from the capex added the summary computes anyway
        return _f(metrics.capex_per_gw_added(self.capex_added())["capex_per_gw_added_usd"])

    def regional_share(self, period=None) -> dict[str, float]:
        c = metrics.regional_share(self.dataset)
        c = c.isel({PERIOD: -1}) if period is None else c.sel({PERIOD: period})
        return {str(r): float(v) for r, v in zip(c[REGION].values, c.values, strict=True)}

    # ----------------------------------------------------------------- output
    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary (the ``fab2flop run --json`` payload).

        The solved part is computed once for a given dataset, network, bottleneck list and
        registry (a `run` prints it, records it and may save it; replacing any of them
        recomputes it); each call returns a fresh deep copy, so callers may change theirs."""
        import copy

        base, solved = self._summary_parts()
        return {**base, **copy.deepcopy(solved)}

    def _summary_view(self) -> dict[str, Any]:
        """:meth:`summary` without the copy, for readers that change nothing (printing,
        JSON): the solved part is the one kept for the run."""
        base, solved = self._summary_parts()
        return {**base, **solved}

    def _summary_parts(self) -> tuple[dict[str, Any], dict[str, Any]]:
        base: dict[str, Any] = {
            "status": self.status.value,
            "message": self.message,
            "scenario": self.network.scenario.name,
            "objective": self.network.scenario.objective.kind.value,
            "objective_value": self.objective_value,
            "meta": self.meta,
            "events": self.network.events_applied,  # what each scenario event did
        }
        if not self.status.ok:
            return base, {}
        of = (self.dataset, self.network, self.bottlenecks, self.registry)
        memo = self._summary_memo
        if memo is None or any(a is not b for a, b in zip(memo[0], of, strict=True)):
            memo = self._summary_memo = (of, self._solved_summary())
        return base, memo[1]

    def _solved_summary(self) -> dict[str, Any]:
        """The part of :meth:`summary` computed from the solution (optimal runs only)."""
        base: dict[str, Any] = {}
        ds = self.dataset
        rshare_by_period = metrics.regional_share(ds)
        fb = first_binding(self.bottlenecks, self.registry)
        residual = self._residual()
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
                "residual_value_usd": float(residual),
                "cost_per_h100e_hour_usd": None
                if self.buys_nothing
                else _f(metrics.cost_per_h100e_hour(self.network.ds, ds, residual)),
                "capex_per_gw_usd": None if self.buys_nothing else self.capex_per_gw(),
                "regional_share": self.regional_share(),
                "regional_share_by_period": {
                    str(r): [float(v) for v in rshare_by_period.sel({REGION: r}).values]
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
                    g.to_dict() for g in group_bottlenecks(self.bottlenecks, self.registry)[:50]
                ],
                "bottlenecks": [b.to_dict() for b in self.bottlenecks[:200]],
                "notes": self.network.notes,
                "dependence": dependence_summary(self),
            }
        )
        from .economics import economics_summary  # unit economics (issue 8)

        base.update(economics_summary(self, residual))
        from .finance import finance_summary  # parties and jobs (issue 12)

        base.update(finance_summary(self))
        return base

    def to_json(self, indent: int | None = 2) -> str:
        """The summary as strict JSON: a metric without meaning is null, never NaN."""
        return _dumps(self._summary_view(), indent=indent)  # _dumps copies nothing it changes

    def save(self, out_dir: str | Path, force: bool = False) -> list[Path]:
        """Write what reloads the run (results.nc, network.nc, scenario.yaml, metadata.json
        with the registry) plus summary.json and Parquet tables; see :meth:`load`.

        The folder is written whole or not at all (:func:`fab2flop.outdir.write_dir`): into a
        temporary folder beside it, marker ``.complete`` last, then renamed into place. An
        existing non-empty folder is refused unless ``force`` (then replaced whole).
        """
        from .outdir import MARKER, write_dir

        written: list[str] = []

        def write(tmp: Path) -> list[str]:
            written.extend(self._write_files(tmp))
            return written

        out = write_dir(out_dir, write, force=force)
        return [out / f for f in [*written, MARKER]]

    def _dataset_with_finance(self) -> xr.Dataset:
        """The results Dataset joined with the parties' cash flows and jobs (issue 12), when
        the run has finance inputs (a ``finance`` section or the catalog's default parties)."""
        from .finance import finance_dataset

        if "finance_cash_flow_usd" in self.dataset or not {"parties", "jobs"} & set(self.summary()):
            return self.dataset
        return self.dataset.merge(finance_dataset(self))

    def _write_files(self, tmp: Path) -> list[str]:
        """The files of a saved run, written into ``tmp``; their names."""
        files = ["scenario.yaml", "metadata.json", "summary.json", "network.nc"]
        (tmp / "scenario.yaml").write_text(self.network.scenario.to_yaml(), encoding="utf-8")
        meta = {
            **self.meta,
            _SAVED: {
                "status": self.status.value,
                "message": self.message,
                "objective_value": self.objective_value,
                "notes": list(self.network.notes),
                "registry": self.registry.to_list() if self.registry else None,
            },
        }
        (tmp / "metadata.json").write_text(_dumps(meta, indent=2))
        (tmp / "summary.json").write_text(self.to_json())
        if len(self.network.catalog):  # the sourced values this run used, for audit and load
            recs = {r.id: r.to_dict() for r in self.network.catalog}
            (tmp / "catalog.json").write_text(_dumps(recs))
            files.append("catalog.json")
        _to_netcdf(self.network.ds, tmp / "network.nc")
        if self.status.ok:
            _to_netcdf(self._dataset_with_finance(), tmp / "results.nc")
            files.append("results.nc")
            for name in ("activity", "new_capacity", "capacity", "installed", "spend_usd"):
                da = self.dataset[name]
                da = da.drop_vars([c for c in da.coords if str(c).startswith("scale_")])
                df = da.to_dataframe().reset_index()
                df.to_parquet(tmp / f"{name}.parquet", index=False)
                files.append(f"{name}.parquet")
        return files

    @classmethod
    def load(cls, out_dir: str | Path) -> Results:
        """A run written by :meth:`save` (``fab2flop run --out DIR``), without an LP or a
        catalog: metrics and the bottleneck report are recomputed from the saved Datasets."""
        import yaml

        from .catalog import Catalog, Record
        from .scenario import Scenario

        d = _saved_run_dir(out_dir)
        try:
            meta = json.loads((d / "metadata.json").read_text())
            saved = meta.pop(_SAVED)
            scenario = Scenario.model_validate(yaml.safe_load((d / "scenario.yaml").read_text()))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise OutputError(
                f"{str(d)!r} is not a readable fab2flop run: {str(exc)[:300]}"
            ) from None
        net_ds = xr.load_dataset(d / "network.nc", engine="h5netcdf")
        periods = Periods(
            pd.Index(list(net_ds.indexes[PERIOD]), name=PERIOD),
            np.asarray(net_ds["year"].values, float),
            float(net_ds.attrs["dt_years"]),
        )
        records: dict = {}
        if (d / "catalog.json").is_file():  # runs saved before catalog.json load without it
            raw = json.loads((d / "catalog.json").read_text())
            records = {k: Record.model_validate(v) for k, v in raw.items()}
        net = Network(
            ds=net_ds,
            scenario=scenario,
            catalog=Catalog(records, str(meta.get("data_hash", ""))),
            periods=periods,
            processes=[],
            carriers={},
            fleet={},
            notes=list(saved["notes"]),
        )
        status = Status(saved["status"])
        registry = Registry.from_list(saved["registry"]) if saved["registry"] else None
        timings = dict(meta.get("timings_s", {}))
        if not status.ok:
            ds = xr.Dataset(attrs={"status": status.value, "message": saved["message"]})
            return cls(status, saved["message"], None, ds, net, [], timings, meta, registry)
        ds = xr.load_dataset(d / "results.nc", engine="h5netcdf")
        items = bottlenecks(net_ds, ds, registry)
        return cls(
            status, saved["message"], saved["objective_value"], ds, net, items, timings, meta,
            registry,
        )  # fmt: skip


def _peak_units(ds: xr.Dataset) -> float:
    """Most accelerators installed in any period (all kinds and regions) [units]."""
    if "installed_units" not in ds or not ds["installed_units"].size:
        return 0.0
    per_period = ds["installed_units"].sum([d for d in ds["installed_units"].dims if d != PERIOD])
    return float(per_period.max())


def _optimal_message(ds: xr.Dataset) -> str:
    """'optimal', or what an optimal plan that buys nothing usable means."""
    peak = _peak_units(ds)
    if peak >= 1.0:
        return "optimal"
    return (
        f"optimal, but the plan buys no usable compute: at most {peak:.2g} accelerators are "
        "installed in any period (less than one whole accelerator). The budget is too small "
        "for the prices, lead times and limits of the scenario; raise budget.total_usd or "
        "lengthen the horizon."
    )


_SAVED = "saved_run"  # metadata.json: what Results.load needs beyond the run's meta


def _saved_run_dir(out_dir: Any) -> Path:
    """``out_dir`` if it holds a whole saved run; else an OutputError saying what is wrong."""
    from .outdir import MARKER

    if not isinstance(out_dir, str | Path):
        raise OutputError(f"Results.load({out_dir!r:.80}): expected a folder path")
    d = Path(out_dir)
    if not d.is_dir():
        raise OutputError(f"{str(d)!r} is not a folder; expected a run saved with --out")
    if not (d / "metadata.json").is_file():
        raise OutputError(f"{str(d)!r} has no metadata.json; expected a run saved with --out")
    if not (d / MARKER).is_file():
        raise OutputError(
            f"{str(d)!r} has no {MARKER} marker: the run that wrote it did not finish"
        )
    return d


def _to_netcdf(ds: xr.Dataset, path: Path) -> None:
    """netCDF has no object dtype and only numbers and strings as attributes: labels are
    written as strings, other attributes (mappings, flags) as JSON text."""
    ds = ds.copy()
    for k in list(ds.variables):
        if ds[k].dtype == object:
            ds[k] = ds[k].astype(str)
    ds.attrs = {k: _attr(v) for k, v in ds.attrs.items()}
    for var in ds.variables.values():
        var.attrs = {k: _attr(v) for k, v in var.attrs.items()}
    ds.to_netcdf(path, engine="h5netcdf")


def _attr(v: Any) -> Any:
    if isinstance(v, bool | np.bool_) or not isinstance(v, str | int | float | np.number):
        return json.dumps(v, default=_json_default)
    return v


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return finite_or_none(o.item())
    if isinstance(o, np.ndarray):
        return finite_or_none(o.tolist())
    return str(o)


def finite_or_none(o: Any) -> Any:
    """``o`` with every NaN or infinite number (also inside mappings and lists) as None."""
    if isinstance(o, float | np.floating):
        return float(o) if np.isfinite(o) else None
    if isinstance(o, dict):
        return {k: finite_or_none(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [finite_or_none(v) for v in o]
    if isinstance(o, np.ndarray):
        return finite_or_none(o.tolist())
    return o


def _dumps(obj: Any, indent: int | None = 2) -> str:
    """Strict JSON (``allow_nan=False``): non-finite numbers become null first."""
    return json.dumps(finite_or_none(obj), indent=indent, default=_json_default, allow_nan=False)
