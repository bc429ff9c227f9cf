"""The futures of a robust plan (*members*), when each becomes known, and which decisions
must be shared (non-anticipativity).

A member is one future: a network, a probability and ``info_period``, the first period
whose decisions may use what is particular to it. Every future looks like the nominal one
until its first event starts (events are the only thing that differ before then, unless
parameters are sampled too), so at a decision period ``k`` the members with
``info_period > k`` cannot be told apart: a decision taken in ``k`` is the same in all of
them. With ``robust.information_year`` nothing is known before that year either:
``info_period = min(period of information_year, period of the first event)``.

Decision periods: capacity opening in ``t`` is decided when its construction starts,
``t - open_lead_periods[p, r, t]`` (so a fab with a 3-year lead is committed 3 years before
it opens, a data center with a 1-year lead only 1 year before: per-process anticipation
from lead times); accelerators deployed in ``t`` are decided in ``t``. Activity, inventory
and money are operations, each future's own.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from ..catalog import Catalog
from ..constants import PERIOD, Objective
from ..errors import ScenarioError
from ..network import Network, build_network
from ..scenario import Scenario, validate_scenario
from .config import EVENTS, RobustConfig, robust_problems

SCENARIO = "scenario"  # the leading dimension of per-member arrays
FIRST_STAGE = ("new", "deploy")  # LP variables that can be first-stage decisions


@dataclass(frozen=True)
class Member:
    """One future of the robust plan."""

    name: str
    probability: float  # [1]
    network: Network
    info_period: int  # first period whose decisions may differ from other members' [index]
    events: tuple[str, ...] = ()  # names of its events beyond the scenario's own


def robust_config(scenario: Scenario) -> RobustConfig:
    """The scenario's robust block (defaults when absent), checked against its horizon:
    a ScenarioError naming the field, before any work."""
    cfg = scenario.robust if scenario.robust is not None else RobustConfig()
    probs = robust_problems(cfg, scenario.time.start, scenario.time.end)
    if probs:
        from ..scenario import format_problems

        raise ScenarioError(format_problems("scenario", probs), probs)
    return cfg


def deterministic_scenario(scenario: Scenario) -> Scenario:
    """The scenario as a deterministic plan: the same, maximising discounted compute."""
    data = scenario.model_dump(by_alias=True)
    data["objective"]["kind"] = Objective.MAX_DISCOUNTED_COMPUTE.value
    return validate_scenario(data, "deterministic counterpart")


def period_of_year(years: np.ndarray, year: float | None) -> int:
    """Index of the first period starting at or after ``year`` (len(years): never)."""
    if year is None:
        return len(years)
    return int(np.searchsorted(np.asarray(years, float), float(year) - 1e-9, side="left"))


def info_period(
    years: np.ndarray, event_starts: Sequence[float], information_year: float | None
) -> int:
    """When a future with events starting at ``event_starts`` becomes known [period index]."""
    first = min(event_starts) if len(event_starts) else None
    k = period_of_year(years, first)
    if information_year is not None:
        k = min(k, period_of_year(years, information_year))
    return k


def _starts(events: Sequence[Mapping[str, Any]]) -> list[float]:
    from ..events import event_catalog

    cat = event_catalog()
    out = []
    for e in events:
        start = e.get("start", cat.get(str(e.get("use", e.get("name"))), {}).get("start"))
        if start is not None:
            out.append(float(start))
    return out


def _member(
    base: dict[str, Any],
    name: str,
    prob: float,
    events: Sequence[Mapping[str, Any]],
    cfg: RobustConfig,
    catalog: Catalog | None,
    overrides: Any = None,
) -> Member:
    from ..risk.sweep import sample_scenario

    if overrides is not None:
        data = sample_scenario(base, overrides, events)
        added = data["events"][len(base.get("events") or []) :]
    else:
        data = copy.deepcopy(base)
        added = [dict(e) for e in events]
        data["events"] = [*(data.get("events") or []), *added]
    sc = validate_scenario(data, f"robust future {name!r}")
    net = build_network(sc, catalog)
    k = info_period(net.periods.years, _starts(added), cfg.information_year)
    names = tuple(str(e.get("use", e.get("name"))) for e in added)
    return Member(name, float(prob), net, k, names)


def _draws(scenario: Scenario, n: int, seed: int, events_only: bool) -> list[Any]:
    """``n`` sampled futures (SampleInputs) of the scenario's uncertainty set (default set
    when absent); ``events_only`` keeps its events and drops its parameters."""
    from ..risk.sweep import draw_samples
    from ..risk.uncertainty import default_uncertainty, validate_uncertainty

    unc = scenario.uncertainty or default_uncertainty()
    if events_only:
        data = unc.model_dump(mode="json", exclude_none=True)
        data.update(catalog_ranges=False, parameters=[], correlations=[])
        unc = validate_uncertainty(data)
    return draw_samples(scenario, unc, n, seed)


def scenario_set(scenario: Scenario, catalog: Catalog | None = None) -> list[Member]:
    """The S futures the robust plan is optimised over (``robust.source``): named futures
    with their probabilities, or S draws of the uncertainty set with probability 1/S each
    (seeded by ``robust.seed``, else the scenario's seed). Each member's scenario is the
    deterministic counterpart (:func:`deterministic_scenario`) with the future's events."""
    cfg = robust_config(scenario)
    base = deterministic_scenario(scenario).model_dump(by_alias=True)
    if cfg.source == EVENTS:
        return [_member(base, f.name, f.probability, f.events, cfg, catalog) for f in cfg.futures]
    seed = cfg.seed if cfg.seed is not None else scenario.seed
    draws = _draws(scenario, cfg.scenarios, seed, events_only=False)
    p = 1.0 / len(draws)
    return [_member(base, f"s{i}", p, (), cfg, catalog, d) for i, d in enumerate(draws)]


HELD_OUT_SEED_OFFSET = 1_000_003  # held-out draws use seed + this: other points, same law


def held_out_set(
    scenario: Scenario, catalog: Catalog | None = None, n: int | None = None
) -> list[Member]:
    """``robust.held_out`` futures (or ``n``) for evaluation, never those optimised over:
    draws of the uncertainty set with another seed, its events only unless
    ``robust.held_out_parameters``; probability 1/n each."""
    cfg = robust_config(scenario)
    base = deterministic_scenario(scenario).model_dump(by_alias=True)
    seed = (cfg.seed if cfg.seed is not None else scenario.seed) + HELD_OUT_SEED_OFFSET
    draws = _draws(scenario, n or cfg.held_out, seed, events_only=not cfg.held_out_parameters)
    p = 1.0 / len(draws)
    return [_member(base, f"h{i}", p, (), cfg, catalog, d) for i, d in enumerate(draws)]


def nominal_member(scenario: Scenario, catalog: Catalog | None = None) -> Member:
    """The nominal future (the scenario's own events only): never revealed (info = T)."""
    cfg = robust_config(scenario)
    base = deterministic_scenario(scenario).model_dump(by_alias=True)
    never = cfg.model_copy(update={"information_year": None})
    return _member(base, "nominal", 1.0, (), never, catalog)


# ---------------------------------------------------------------------- non-anticipativity


def decision_periods(net: Network) -> dict[str, xr.DataArray]:
    """The period each first-stage slot is decided in [period index]: ``new`` when its
    construction starts (opening period minus its construction periods), ``deploy`` in its
    own period."""
    ds = net.ds
    T = ds.sizes[PERIOD]
    t = np.arange(T)
    ol = ds["open_lead_periods"].values
    lead = np.where(ol >= 0, ol, ds["lead_periods"].values[:, None, None])
    new = xr.DataArray(t - lead, coords=ds["open_lead_periods"].coords)
    dep = xr.DataArray(
        np.broadcast_to(t, ds["acc_unit_cost_usd"].shape[:1] + (ds.sizes["region"], T)).copy(),
        dims=("accelerator", "region", PERIOD),
        coords={d: ds.indexes[d] for d in ("accelerator", "region", PERIOD)},
    )
    return {"new": new, "deploy": dep}


def first_stage_masks(member: Member) -> dict[str, xr.DataArray]:
    """Slots decided before the member's future is known (bool, over each variable's dims):
    ``new`` and ``deploy`` with decision period < ``info_period``. Slots the LP does not
    have (masked) may be True here; the subproblem intersects with its labels."""
    return {k: v < member.info_period for k, v in decision_periods(member.network).items()}


def shared_slots(members: Sequence[Member]) -> dict[str, xr.DataArray]:
    """Per variable, (scenario, *dims) bool: slot first-stage for that member. A slot is
    shared by exactly the members where it is True (they cannot be told apart when it is
    decided); the extensive form ties their values, a decomposition averages over them."""
    out: dict[str, xr.DataArray] = {}
    masks = [first_stage_masks(m) for m in members]
    for name in FIRST_STAGE:
        out[name] = xr.concat([mk[name] for mk in masks], dim=SCENARIO).assign_coords(
            {SCENARIO: [m.name for m in members]}
        )
    return out


__all__ = [
    "FIRST_STAGE",
    "Member",
    "SCENARIO",
    "decision_periods",
    "deterministic_scenario",
    "first_stage_masks",
    "held_out_set",
    "info_period",
    "nominal_member",
    "period_of_year",
    "robust_config",
    "scenario_set",
    "shared_slots",
]
