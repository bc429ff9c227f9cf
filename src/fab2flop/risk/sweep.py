"""Risk sweep: every sampled future re-optimised, with perfect foresight or with recourse.

A sampled future (:func:`fab2flop.risk.sampling.sample_inputs`: catalog overrides, scenario
overrides, events) becomes a whole scenario (:func:`sample_scenario`) and is optimised from
scratch: a new network and a new LP per sample, so every parameter counts, including those that
change the supply chain.

- *foresight*: each future is optimised knowing everything from the first period;
- *recourse*: the nominal plan (optimised without the sampled future) is followed until the
  future becomes known — the first event's start, or ``information_year`` — and is free after
  it. What was committed before is fixed to the nominal plan's values (:class:`Commitments`):
  builds whose construction started before that time (by default; ``commit="opened"`` fixes
  only those that opened before it) and accelerators deployed before it.

Samples run through an evaluator (:mod:`fab2flop.risk.evaluators`): each task carries the
scenario as a plain dict and builds its own models, so no LP model is pickled. A sample
that fails — infeasible, or an error — is a row with its status and reason, not an exception.

>>> entry = event_entry({"name": "taiwan_blockade", "start": 2028,
...                      "duration_years": 1.0, "fraction": 0.8})
>>> entry["use"], entry["fraction"], entry["duration_years"]
('taiwan_blockade', 0.8, 1.0)
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import xarray as xr

from ..constants import PERIOD, SAMPLE, Status
from ..events import event_catalog
from ..scenario import Scenario, apply_override, validate_scenario
from .sampling import SampleInputs

FORESIGHT = "foresight"
RECOURSE = "recourse"
MODES = (FORESIGHT, RECOURSE)
COMMIT_STARTED = "started"  # builds whose construction started before the information time
COMMIT_OPENED = "opened"  # only builds that opened before it
COMMITS = (COMMIT_STARTED, COMMIT_OPENED)
PARTY = "party"  # finance party dimension of the sweep's IRR and NPV
TAIWAN = "TW"  # the region of ``taiwan_dependent_h100e``
ACCELERATOR_DIM = "accelerator"
FIX_TOL = 1e-6  # relative slack when checking a commitment against a sample's bound [1]


class CommitmentError(ValueError):
    """The nominal plan's commitments cannot be kept in a sampled future."""


# ---------------------------------------------------------------------- per-sample scenario


def event_entry(ev: Mapping[str, Any]) -> dict[str, Any] | None:
    """A sampled event ``{name, start, duration_years, fraction}`` as a scenario event.

    The catalog event (``use: name``) keeps its fields; the sampled severity goes to the
    field of its kind: outage and funding ``fraction``; price ``multiplier = 1 + fraction``;
    delay ``years = catalog years x fraction``; export keeps the catalog's approval cap.
    None when the draw leaves nothing (zero duration or zero delay).
    """
    name = str(ev["name"])
    cat = event_catalog().get(name, {})
    kind = ev.get("kind") or cat.get("kind")
    out: dict[str, Any] = {"use": name, "start": float(ev["start"])}
    dur = ev.get("duration_years")
    if dur is not None and np.isfinite(dur):
        if dur <= 0:
            return None
        out["duration_years"] = float(dur)
    frac = ev.get("fraction")
    if frac is None or not np.isfinite(frac):
        return out
    frac = float(frac)
    if kind in ("outage", "funding"):
        out["fraction"] = frac
    elif kind == "price":
        out["multiplier"] = 1.0 + frac
    elif kind == "delay":
        years = float(cat.get("years", 1.0)) * frac
        if years <= 0:
            return None
        out["years"] = years
    return out


def sample_scenario(
    base: Mapping[str, Any],
    inputs: SampleInputs,
    forced: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The raw scenario dict of one sampled future (validate it with ``validate_scenario``).

    Catalog overrides go into ``catalog``, scenario paths through the ``--set`` machinery,
    sampled events are appended, and ``forced`` events (``use:`` entries) are appended too,
    replacing a sampled event of the same name.
    """
    data = copy.deepcopy(dict(base))
    data["catalog"] = {**(data.get("catalog") or {}), **inputs.catalog_overrides}
    for path, value in inputs.scenario_overrides.items():
        apply_override(data, path.split("."), value)
    forced_names = {f.get("use", f.get("name")) for f in forced}
    added = [event_entry(e) for e in inputs.events if e["name"] not in forced_names]
    data["events"] = [
        *(data.get("events") or []),
        *(e for e in added if e is not None),
        *(dict(f) for f in forced),
    ]
    return data


def info_year_of(
    scenario: Mapping[str, Any], n_base_events: int, fixed: float | None
) -> float | None:
    """When a sample's future becomes known [year]: ``fixed`` if given, else the start of its
    first event beyond the ``n_base_events`` the nominal plan already knew; None: never."""
    if fixed is not None:
        return float(fixed)
    starts = [float(e["start"]) for e in (scenario.get("events") or [])[n_base_events:]]
    return min(starts) if starts else None


# ---------------------------------------------------------------------- recourse commitments


@dataclass(frozen=True)
class Commitments:
    """The nominal plan's decisions in natural units, with what is needed to date them.

    ``new`` (process, region, period) [activity unit of capacity opening], ``deploy``
    (accelerator, region, period) [units], ``activity`` (process, region, period) [activity
    unit/year], ``inventory`` (carrier, period) [carrier unit]; ``open_lead`` (process,
    region, period) [periods] of the nominal network; ``years`` (period) [year] the periods
    start.
    """

    new: xr.DataArray
    deploy: xr.DataArray
    activity: xr.DataArray
    inventory: xr.DataArray
    open_lead: xr.DataArray
    years: np.ndarray
    commit: str = COMMIT_STARTED

    @classmethod
    def from_results(cls, res: Any, commit: str = COMMIT_STARTED) -> Commitments:
        """From a solved nominal :class:`~fab2flop.results.Results`."""
        if not res.status.ok:
            raise CommitmentError(f"the nominal plan is {res.status.value}: {res.message}")
        ds = res.dataset
        return cls(
            new=ds["new_capacity"].fillna(0.0).load(),
            deploy=ds["deployed"].fillna(0.0).load(),
            activity=ds["activity"].fillna(0.0).load(),
            inventory=ds["inventory"].fillna(0.0).load(),
            open_lead=res.network.ds["open_lead_periods"].load(),
            years=np.asarray(res.network.periods.years, float),
            commit=commit,
        )

    def before(self, info_year: float) -> xr.DataArray:
        """Periods that start before ``info_year`` (bool along period)."""
        k_info = int(np.searchsorted(self.years, info_year, side="left"))
        t = np.arange(len(self.years))
        return xr.DataArray(t < k_info, dims=PERIOD, coords={PERIOD: self.new[PERIOD]})

    def new_mask(self, info_year: float) -> xr.DataArray:
        """``new`` slots fixed: for ``started``, builds whose construction began before
        ``info_year`` (opening period minus construction periods); for ``opened``, builds
        opening before it."""
        if self.commit == COMMIT_OPENED:
            return self.before(info_year).broadcast_like(self.new)
        k_info = int(np.searchsorted(self.years, info_year, side="left"))
        t = xr.DataArray(np.arange(len(self.years)), dims=PERIOD, coords={PERIOD: self.new[PERIOD]})
        return (t - self.open_lead.where(self.open_lead >= 0, 0)) < k_info


def _first(mask: np.ndarray, like: xr.DataArray) -> dict[str, Any]:
    idx = np.argwhere(mask)[0]
    return {str(d): like[d].values[i].item() for d, i in zip(like.dims, idx, strict=True)}


def fix_variable(
    lp: Any,
    name: str,
    value: xr.DataArray,
    mask: xr.DataArray,
    scale: np.ndarray,
    *,
    upper_only: bool = False,
) -> None:
    """Bound LP variable ``name`` to ``value`` (natural units; model unit = natural / scale
    along the first dim) where ``mask``: fixed, or with ``upper_only`` at most ``value``.
    A fixed commitment the sample cannot hold (its slot does not exist, or it is above the
    slot's upper bound) raises :class:`CommitmentError`."""
    var = lp.model.variables[name]
    labels = var.dataarray()
    dims = labels.dims
    val = value.reindex_like(labels, fill_value=0.0).transpose(*dims).values
    fix = mask.reindex_like(labels, fill_value=False).transpose(*dims).values.astype(bool)
    x = val / np.asarray(scale, float).reshape(-1, *([1] * (len(dims) - 1)))
    present = labels.values >= 0
    lo, hi = var.lower, var.upper
    on = fix & present
    if not upper_only:
        lost = fix & ~present & (x > FIX_TOL)
        if lost.any():
            raise CommitmentError(
                f"the nominal plan's {name} at {_first(lost, labels)} cannot exist in this future"
            )
        over = on & (x > hi * (1 + FIX_TOL) + FIX_TOL)
        if over.any():
            raise CommitmentError(
                f"the nominal plan's {name} at {_first(over, labels)} is above this future's limit"
            )
    xv = np.minimum(x, hi)
    new_lo = lo if upper_only else np.where(on, xv, lo)
    lp.model.set_bounds(name, lower=new_lo, upper=np.where(on, xv, hi))


def commitment_hook(lp: Any, commitments: Commitments, info_year: float) -> None:
    """LP hook: what the nominal plan did before ``info_year`` binds the sample. Builds
    (``new``) and deployments are fixed to the plan's; activity and inventory are at most
    the plan's, so the sample cannot stockpile ahead of an event it could not know of."""
    c, m, s = commitments, lp.model.variables, lp.scaling
    before = c.before(info_year)
    if "new" in m:
        fix_variable(lp, "new", c.new, c.new_mask(info_year), s.process)
    if "deploy" in m:
        fix_variable(lp, "deploy", c.deploy, before.broadcast_like(c.deploy), s.accelerator)
    if "act" in m:
        mask = before.broadcast_like(c.activity)
        fix_variable(lp, "act", c.activity, mask, s.process, upper_only=True)
    if "inv" in m:
        mask = before.broadcast_like(c.inventory)
        fix_variable(lp, "inv", c.inventory, mask, s.carrier, upper_only=True)


# ---------------------------------------------------------------------- per-sample outputs


def taiwan_dependent_h100e(res: Any) -> list[float]:
    """Installed H100e with a critical step made in Taiwan, by period (the figure of
    ``fab2flop dependence``); zeros when the network has no Taiwan or no accelerators."""
    from ..constants import ACCELERATOR, PROCESS, REGION
    from ..dependence import dependent_h100e

    ds, net = res.dataset, res.network
    t = ds.sizes[PERIOD]
    regions = [str(r) for r in net.ds.indexes[REGION]]
    if TAIWAN not in regions or ACCELERATOR not in ds.dims or PROCESS not in ds.dims:
        return [0.0] * t
    return np.asarray(dependent_h100e(res, TAIWAN), float).tolist()


def sample_outputs(res: Any) -> dict[str, Any]:
    """Post-processing of one optimal sample: ``finance`` (``irr.<party>`` [1/year],
    ``npv_usd.<party>`` [USD], from :func:`fab2flop.finance.risk_outputs`) and
    ``taiwan_dependent_h100e`` by period [H100e]."""
    from ..finance import risk_outputs
    from .spread import from_results

    out = {"finance": risk_outputs(res), "taiwan_dependent_h100e": taiwan_dependent_h100e(res)}
    if ACCELERATOR_DIM in res.dataset.dims and "process" in res.dataset.dims:
        out["dependence"] = from_results(res)
    return out


# ---------------------------------------------------------------------- one sample


@dataclass(frozen=True)
class SampleTask:
    """What a worker needs for one sample: plain data, no models."""

    index: int
    scenario: dict[str, Any]  # raw scenario dict (validated on the worker)
    information_year: float | None = None  # recourse: when the future becomes known [year]
    events: tuple[str, ...] = ()  # names of the sample's events (sampled and forced)


def _row(task: SampleTask, status: str, message: str, **values: Any) -> dict[str, Any]:
    return {
        "index": task.index,
        "status": status,
        "message": message,
        "information_year": task.information_year,
        "events": list(task.events),
        **values,
    }


def solve_sample(task: SampleTask, commitments: Commitments | None = None) -> dict[str, Any]:
    """Optimise one sampled future (a full network and LP rebuild). With ``commitments``
    and an information year, decisions before it are the nominal plan's (recourse).

    Returns a row: status, message and, when optimal, ``compute_h100e`` and ``spend_usd``
    by period. An infeasible future is a row, not an exception."""
    from ..optimizer import optimize

    t0 = time.perf_counter()
    sc = validate_scenario(task.scenario, f"sample {task.index}")
    hooks: tuple[Callable[[Any], None], ...] = ()
    recourse = commitments is not None and task.information_year is not None
    if recourse:
        hooks = (
            partial(commitment_hook, commitments=commitments, info_year=task.information_year),
        )
    try:
        res = optimize(sc, hooks=hooks)
    except CommitmentError as exc:
        return _row(task, Status.INFEASIBLE.value, f"recourse: {exc}")
    seconds = time.perf_counter() - t0
    if not res.status.ok:
        msg = res.message
        if recourse and res.status is not Status.TIME_LIMIT:
            msg = (
                f"recourse: the nominal plan's commitments before {task.information_year:g} "
                f"cannot be kept in this future ({res.status.value}); {msg}"
            )
        return _row(task, res.status.value, msg, seconds=seconds)
    ds = res.dataset
    spend = ds["spend_usd"].sum([d for d in ds["spend_usd"].dims if d != PERIOD])
    return _row(
        task,
        res.status.value,
        res.message,
        compute_h100e=ds["compute_h100e"].values.astype(float).tolist(),
        spend_usd=spend.values.astype(float).tolist(),
        objective_value=res.objective_value,
        seconds=seconds,
        **sample_outputs(res),
    )


# ---------------------------------------------------------------------- the sweep


def draw_samples(
    scenario: Scenario, uncertainty: Any | None, samples: int, seed: int
) -> list[SampleInputs]:
    """``samples`` sampled futures of ``uncertainty`` (seeded); ``None``: nominal values only
    (every sample unchanged, so only forced events differ from the plan)."""
    if samples < 1:
        from ..errors import ScenarioError

        raise ScenarioError(f"samples must be >= 1; got {samples}", [("samples", samples, ">= 1")])
    if uncertainty is None:
        return [SampleInputs({}, {}, []) for _ in range(samples)]
    from ..catalog import load_catalog
    from .resolve import resolve_uncertainty
    from .sampling import sample_inputs, sample_uncertainty

    unc = uncertainty.model_copy(update={"samples": samples, "seed": seed})
    res = resolve_uncertainty(unc, load_catalog(), scenario.model_dump(mode="json"))
    ds = sample_uncertainty(res)
    return SampleList([sample_inputs(ds, i) for i in range(samples)], res.notes)


class SampleList(list):  # type: ignore[type-arg]
    """Sampled futures (a list of ``SampleInputs``) with the resolver's ``notes`` (events
    dropped or clipped to the horizon, names not checked)."""

    def __init__(self, items: Sequence[SampleInputs] = (), notes: Sequence[str] = ()) -> None:
        super().__init__(items)
        self.notes = list(notes)


def plan_tasks(
    scenario: Scenario,
    inputs: Sequence[SampleInputs],
    forced: Sequence[Mapping[str, Any]] = (),
    *,
    mode: str = FORESIGHT,
    information_year: float | None = None,
) -> list[SampleTask]:
    """One task per sample: its scenario dict and (recourse) when its future becomes known."""
    if mode not in MODES:
        raise ValueError(f"mode {mode!r}; expected one of {MODES}")
    base = scenario.model_dump()
    n_base = len(base.get("events") or [])
    tasks = []
    for i, inp in enumerate(inputs):
        data = sample_scenario(base, inp, forced)
        names = tuple(str(e.get("use") or e.get("name")) for e in data["events"][n_base:])
        info = info_year_of(data, n_base, information_year) if mode == RECOURSE else None
        tasks.append(SampleTask(i, data, info, names))
    return tasks


@dataclass
class SweepResult:
    """The sweep's Dataset along ``sample`` and the nominal plan's compute by period."""

    dataset: xr.Dataset
    nominal_compute_h100e: np.ndarray
    seconds: float
    failures: list[tuple[int, str, str]] = field(default_factory=list)  # (index, status, reason)
    nominal: Any = None  # the nominal plan's Results (recorded in the run store)


def assemble(
    rows: Sequence[dict[str, Any] | None], reasons: Mapping[int, str], periods: Any
) -> xr.Dataset:
    """Rows of :func:`solve_sample` (None where the task itself raised, with its reason in
    ``reasons``) as a Dataset along ``sample`` (and ``period``)."""
    n, t = len(rows), len(periods)
    comp = np.full((n, t), np.nan)
    spend = np.full((n, t), np.nan)
    status = np.full(n, Status.ERROR.value, dtype=object)
    message = np.full(n, "", dtype=object)
    info = np.full(n, np.nan)
    events = np.full(n, "", dtype=object)
    for i, row in enumerate(rows):
        if row is None:
            message[i] = reasons.get(i, "the sample did not return")
            continue
        status[i], message[i] = row["status"], row["message"]
        info[i] = np.nan if row["information_year"] is None else row["information_year"]
        events[i] = ",".join(row["events"])
        if "compute_h100e" in row:
            comp[i], spend[i] = row["compute_h100e"], row["spend_usd"]
    s, p = np.arange(n), np.asarray(periods)
    ds = xr.Dataset(
        {
            "compute_h100e": (
                (SAMPLE, PERIOD),
                comp,
                {"units": "H100e", "description": "installed H100-equivalents (NaN: not optimal)"},
            ),
            "spend_usd": (
                (SAMPLE, PERIOD),
                spend,
                {"units": "USD", "description": "spend in the period"},
            ),
            "status": (SAMPLE, status.astype(str), {"description": "solver status of the sample"}),
            "message": (
                SAMPLE,
                message.astype(str),
                {"description": "why a sample is not optimal"},
            ),
            "information_year": (
                SAMPLE,
                info,
                {
                    "units": "year",
                    "description": "recourse: decisions before it are fixed (NaN: none)",
                },
            ),
            "events": (
                SAMPLE,
                events.astype(str),
                {"description": "events of the sample, comma separated"},
            ),
        },
        coords={SAMPLE: s, PERIOD: p},
    )
    return ds.merge(_sample_outputs_dataset(rows, n, t))


def _sample_outputs_dataset(rows: Sequence[dict[str, Any] | None], n: int, t: int) -> xr.Dataset:
    """``irr`` and ``npv_usd`` (sample, party) and ``taiwan_dependent_h100e`` (sample,
    period) of the rows; NaN where a sample is not optimal or a party has no IRR."""
    fin = [(i, r["finance"]) for i, r in enumerate(rows) if r is not None and "finance" in r]
    parties = sorted({k.split(".", 1)[1] for _, f in fin for k in f if k.startswith("irr.")})
    irr = np.full((n, len(parties)), np.nan)
    npv = np.full((n, len(parties)), np.nan)
    tw = np.full((n, t), np.nan)
    for i, f in fin:
        for j, name in enumerate(parties):
            irr[i, j] = _float(f.get(f"irr.{name}"))
            npv[i, j] = _float(f.get(f"npv_usd.{name}"))
        tw[i] = rows[i]["taiwan_dependent_h100e"]  # type: ignore[index]
    from .spread import PREFIX, rows_to_arrays

    deps = rows_to_arrays([r.get("dependence") if r else None for r in rows], t)
    dep_vars = {
        f"{PREFIX}{k}": ((SAMPLE, PERIOD), v, {"description": "see risk/spread.py"})
        for k, v in deps.items()
    }
    return xr.Dataset(
        {
            **dep_vars,
            "irr": ((SAMPLE, PARTY), irr, {"units": "1/year", "description": "party IRR"}),
            "npv_usd": ((SAMPLE, PARTY), npv, {"units": "USD", "description": "party NPV"}),
            "taiwan_dependent_h100e": (
                (SAMPLE, PERIOD),
                tw,
                {"units": "H100e", "description": "installed H100e with a step made in Taiwan"},
            ),
        },
        coords={PARTY: parties},
    )


def _float(x: Any) -> float:
    return np.nan if x is None else float(x)


def run_sweep(
    scenario: Scenario,
    inputs: Sequence[SampleInputs],
    forced: Sequence[Mapping[str, Any]] = (),
    *,
    mode: str = FORESIGHT,
    information_year: float | None = None,
    commit: str = COMMIT_STARTED,
    evaluator: Any | None = None,
    chunk_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Optimise the nominal plan, then every sample (through ``evaluator``, an entered
    evaluator of :mod:`fab2flop.risk.evaluators`; sequential when None)."""
    from ..optimizer import optimize
    from .evaluators import SequentialEvaluator

    if commit not in COMMITS:
        raise ValueError(f"commit {commit!r}; expected one of {COMMITS}")
    t0 = time.perf_counter()
    nominal = optimize(scenario)
    if not nominal.status.ok:
        raise CommitmentError(f"the nominal plan is {nominal.status.value}: {nominal.message}")
    tasks = plan_tasks(scenario, inputs, forced, mode=mode, information_year=information_year)
    commitments = Commitments.from_results(nominal, commit) if mode == RECOURSE else None
    ev = evaluator if evaluator is not None else SequentialEvaluator()
    fn = partial(solve_sample, commitments=commitments)
    mapped = ev.map(fn, tasks, chunk_size=chunk_size, progress=progress)
    reasons = {f.index: f.reason for f in mapped.failures}
    ds = assemble(mapped.values, reasons, nominal.dataset.indexes[PERIOD])
    ds.coords["period_start_year"] = (PERIOD, np.asarray(nominal.network.periods.years, float))
    nom = nominal.dataset["compute_h100e"].values.astype(float)
    ds["nominal_compute_h100e"] = (PERIOD, nom, {"units": "H100e", "description": "the plan"})
    ds.attrs.update({"mode": mode, "commit": commit, "samples": len(tasks)})
    ds.attrs["forced_events"] = ",".join(str(f.get("use", f.get("name"))) for f in forced)
    ds.attrs["information_year"] = np.nan if information_year is None else information_year
    bad = [
        (i, str(ds["status"].values[i]), str(ds["message"].values[i]))
        for i in range(len(tasks))
        if ds["status"].values[i] != Status.OPTIMAL.value
    ]
    return SweepResult(ds, nom, time.perf_counter() - t0, bad, nominal)


# ---------------------------------------------------------------------- statistics
# (local until risk/report.py offers shared ones: percentiles and CVaR over ``sample``)

QUANTILES = (5, 50, 95)
CVAR_ALPHA = 0.05


def percentile_bands(values: np.ndarray, qs: Sequence[float] = QUANTILES) -> dict[str, list]:
    """P-q of ``values`` (sample, period) over samples, NaN (failed) samples left out."""
    ok = values[~np.isnan(values).any(axis=1)]
    if len(ok) == 0:
        return {f"p{q:g}": [None] * values.shape[1] for q in qs}
    return {f"p{q:g}": np.percentile(ok, q, axis=0).tolist() for q in qs}


def scalar_bands(values: np.ndarray, qs: Sequence[float] = QUANTILES) -> dict[str, float | None]:
    """P-q of ``values`` (sample,) with NaN left out; None when no value is finite."""
    v = values[~np.isnan(values)]
    return {f"p{q:g}": (float(np.percentile(v, q)) if len(v) else None) for q in qs}


def cvar_lower(values: np.ndarray, alpha: float = CVAR_ALPHA) -> float:
    """Expected shortfall: the mean of the worst ``ceil(alpha n)`` values (at least one),
    NaN values left out. Of 1..100 at 5%: mean(1..5) = 3."""
    v = np.sort(values[~np.isnan(values)])
    if len(v) == 0:
        return float("nan")
    k = max(1, int(np.ceil(alpha * len(v) - 1e-9)))
    return float(v[:k].mean())


def year_index(period_years: np.ndarray, year: int) -> int:
    """Index of the last period of ``year`` (Q4 when the step is a quarter)."""
    idx = np.nonzero(np.floor(period_years) == year)[0]
    if len(idx) == 0:
        raise ValueError(f"year {year} is outside the horizon")
    return int(idx[-1])


def target_years(scenario: Scenario) -> list[int]:
    """Years whose compute CVaR is reported: the objective's target year or path years
    inside the horizon, and the horizon's last year."""
    obj = scenario.objective
    years = set(obj.compute_path_h100e) | ({obj.target_year} if obj.target_year else set())
    t = scenario.time
    return sorted({int(y) for y in years if t.start <= y <= t.end} | {int(t.end)})


def _none_if_nan(x: float) -> float | None:
    return None if np.isnan(x) else x


def summarize(result: SweepResult, years: Sequence[int], seed: int | None) -> dict[str, Any]:
    """The JSON payload: bands by period, CVaR 5% in ``years``, dependence spread, failures
    with reasons."""
    from .spread import per_sample_from_dataset, spread

    ds = result.dataset
    comp = ds["compute_h100e"].values
    py = ds["period_start_year"].values
    periods = [p.item() if isinstance(p, np.generic) else p for p in ds[PERIOD].values]
    n_ok = int((ds["status"].values == Status.OPTIMAL.value).sum())
    return {
        "samples": int(ds.sizes[SAMPLE]),
        "seed": seed,
        "mode": ds.attrs["mode"],
        "forced_events": [e for e in ds.attrs["forced_events"].split(",") if e],
        "optimal": n_ok,
        "periods": periods,
        "nominal_compute_h100e": result.nominal_compute_h100e.tolist(),
        "compute_h100e": percentile_bands(comp),
        "spend_usd": percentile_bands(ds["spend_usd"].values),
        "mean_compute_h100e": (
            np.nanmean(comp, axis=0).tolist() if n_ok else [None] * len(periods)
        ),
        "cvar5_compute_h100e": {
            str(y): _none_if_nan(cvar_lower(comp[:, year_index(py, y)])) for y in years
        },
        "parties_irr": {
            str(p): scalar_bands(ds["irr"].sel({PARTY: p}).values) for p in ds[PARTY].values
        },
        "parties_npv_usd": {
            str(p): scalar_bands(ds["npv_usd"].sel({PARTY: p}).values) for p in ds[PARTY].values
        },
        "taiwan_dependent_h100e": percentile_bands(ds["taiwan_dependent_h100e"].values),
        "dependence_spread": spread(per_sample_from_dataset(ds)),
        "failures": [{"sample": i, "status": s, "reason": r} for i, s, r in result.failures],
        "seconds": result.seconds,
    }
