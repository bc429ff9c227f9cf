"""The front door: everything ``run`` checks before it solves, as one function.

:func:`check_scenario` returns the problems of a validated :class:`~fab2flop.scenario.Scenario`
as ``(field path, value, expected)``; :func:`validate_scenario_deep` raises them as one
:class:`~fab2flop.errors.ScenarioError` and otherwise returns the built network, ready for
the optimiser. ``fab2flop scenario validate``, ``fab2flop run`` and the HTTP API call the
same function, so one file gets one verdict everywhere.

Beyond the schema it checks the names a scenario uses (regions, nodes, power technologies,
accelerators, supplier regions), the catalog overrides against the records they replace (an
id that exists, a value of the record's type, finite, not negative, fractions at most 1),
booleans where custom designs and process overrides expect numbers, and then builds the
catalog overrides, supply chain and network (no LP), turning every failure into a problem
with a field path; last, every network array must be finite where it must (limits may be
infinite) and of a size the solver can represent.

>>> from fab2flop import load_scenario
>>> check_scenario(load_scenario())
[]
>>> check_scenario(load_scenario(overrides=["catalog.nodes.N3.wafer_price_usd=-1"]))[0][0]
'catalog.nodes.N3.wafer_price_usd'
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import ValidationError

from .catalog import Catalog, Record, load_catalog
from .errors import CatalogError, Fab2FlopError, ScenarioError
from .scenario import (
    YEAR_MAX,
    YEAR_MIN,
    Problem,
    ProcessSpec,
    Scenario,
    accepts_bool,
    format_problems,
    short_repr,
)

if TYPE_CHECKING:
    from .network import Network

# catalog ids whose last part names a share of something: an override must be in [0, 1]
_FRACTION = re.compile(r"(share|fraction|yield|utilization|availability|mfu)", re.IGNORECASE)


# network arrays that may be infinite (no limit); every other array must be finite
_MAY_BE_INFINITE = frozenset({"max_capacity", "max_new_per_year", "deploy_cap_units_per_year"})
# arrays that may be negative (net input-output coefficients)
_MAY_BE_NEGATIVE = frozenset({"io", "open_lead_periods"})  # -1: never opens
# larger than this, a number in the network is a typo (or an attack), not a plan: the
# solver's tolerances are relative to ~1e9 and the largest shipped number is ~1e16
MAX_MAGNITUDE = 1e21


def _number_text(x: Any) -> Any:
    """YAML 1.1 reads ``1e12`` (no dot, no exponent sign) as text; the catalog reads it as
    the number it is, so the check does too."""
    if isinstance(x, str):
        try:
            return float(x)
        except ValueError:
            return x
    return x


def _is_share(rec: Record) -> bool:
    """A record named like a share is one unless its own value or range goes above 1
    (``yield_cluster_alpha``, 1-10, is a yield-model parameter, not a yield)."""
    vals = rec.value.values() if isinstance(rec.value, Mapping) else [rec.value]
    nums = [v for v in (*vals, rec.low, rec.high) if isinstance(v, int | float)]
    return all(v <= 1 for v in nums)


def _catalog_value_problems(rid: str, val: Any, rec: Record) -> list[Problem]:
    """An override value against the record it replaces."""
    path = f"catalog.{rid}"
    old = rec.value
    if isinstance(old, str):
        if not isinstance(val, str):
            return [(path, val, f"a label like the catalog's {short_repr(old)}")]
        if len(val) > 200:
            return [(path, val, "a label of at most 200 characters")]
        return []
    points: Mapping[Any, Any] = val if isinstance(val, Mapping) else {None: val}
    if isinstance(val, Mapping) and not val:
        return [(path, val, "a number or a non-empty {year: number} series")]
    out: list[Problem] = []
    for year, x in points.items():
        here = path if year is None else f"{path}.{year}"
        x = _number_text(x)
        if year is not None and (
            not isinstance(year, int) or isinstance(year, bool) or not YEAR_MIN <= year <= YEAR_MAX
        ):
            out.append((here, year, f"a year between {YEAR_MIN} and {YEAR_MAX} as series key"))
        elif isinstance(x, bool) or not isinstance(x, int | float):
            out.append((here, x, f"a number (unit {rec.unit}), like the catalog's {old!r}"))
        elif isinstance(x, int) and abs(x) > MAX_MAGNITUDE:  # too large even for a float
            out.append((here, x, f"a value of at most {MAX_MAGNITUDE:g} [{rec.unit}]"))
        elif not math.isfinite(x):
            out.append((here, x, "a finite number (not NaN or infinity)"))
        elif x < 0:
            out.append((here, x, f"a value >= 0 [{rec.unit}]: it cannot be negative"))
        elif abs(x) > MAX_MAGNITUDE:
            out.append((here, x, f"a value of at most {MAX_MAGNITUDE:g} [{rec.unit}]"))
        elif _FRACTION.search(rid.rsplit(".", 1)[-1]) and x > 1 and _is_share(rec):
            out.append((here, x, "a share between 0 and 1"))
    return out


def catalog_override_problems(overrides: Mapping[str, Any], cat: Catalog) -> list[Problem]:
    """Problems of ``scenario.catalog``: unknown ids and values unlike the record's."""
    out: list[Problem] = []
    for rid, val in overrides.items():
        if not isinstance(rid, str) or rid not in cat:
            near = [k for k in cat.records if k.rsplit(".", 1)[0] == str(rid).rsplit(".", 1)[0]]
            hint = f" (beside it: {', '.join(sorted(near)[:6])})" if near else ""
            out.append((f"catalog.{rid}", val, f"a catalog id (fab2flop data list){hint}"))
            continue
        out += _catalog_value_problems(rid, val, cat.record(rid))
    return out


def _unknown(path: str, names: list[Any], known: list[str], what: str) -> list[Problem]:
    out: list[Problem] = []
    seen: set[Any] = set()
    for i, n in enumerate(names):
        if n in seen:
            out.append((f"{path}.{i}", n, f"each {what} once (listed twice)"))
        elif n not in known:
            out.append((f"{path}.{i}", n, f"a {what} among {', '.join(known)}"))
        seen.add(n)
    return out


def name_problems(sc: Scenario, cat: Catalog) -> list[Problem]:
    """Names of regions, nodes, power technologies, accelerators and supplier regions."""
    from .components.accelerator import catalog_accelerators, catalog_nodes

    regions = list(sc.regions)
    known_regions = cat.group("regions")
    out: list[Problem] = [
        (f"regions.{r}", r, f"a region of the catalog: {', '.join(known_regions)}")
        for r in regions
        if r not in known_regions
    ]
    t = sc.technologies
    out += _unknown("technologies.fab_nodes", t.fab_nodes, catalog_nodes(cat), "fab node")
    power = [p for p in cat.group("power") if f"power.{p}.capex_usd_per_kw" in cat]
    out += _unknown("technologies.power", t.power, power, "power technology")
    accs = catalog_accelerators(cat)
    a = sc.accelerators
    out += _unknown("accelerators.merchant", a.merchant, accs, "catalog accelerator")
    out += [
        (f"accelerators.custom.{n}", n, f"a catalog accelerator to start from: {', '.join(accs)}")
        for n in a.custom
        if n not in accs
    ]
    if not a.merchant and not a.custom:  # every objective counts or asks for compute
        out.append(
            ("accelerators", "no accelerator", "at least one to buy (merchant) or build (custom)")
        )
    out += _unknown("accelerators.assembly_regions", a.assembly_regions, regions, "region")
    for i, proc in enumerate(sc.processes):
        for j, r in enumerate(proc.regions):
            if r not in regions:
                out.append((f"processes.{i}.regions.{j}", r, f"a region among {regions}"))
        for r in proc.by_region:
            if r not in regions:
                out.append((f"processes.{i}.by_region.{r}", r, f"a region among {regions}"))
    for key, r in sc.market.supplier_regions.items():
        if r not in regions:
            out.append((f"market.supplier_regions.{key}", r, f"a region among {regions}"))
    return out


def _field_bool_problems(path: str, fields: Mapping[str, Any], model: Any) -> list[Problem]:
    """Booleans given for number fields of ``model`` in a free-form mapping."""
    out: list[Problem] = []
    for k, v in fields.items():
        f = model.model_fields.get(k)
        if f is None:
            continue
        values = list(v.values()) if isinstance(v, Mapping) else [v]
        if any(isinstance(x, bool) for x in values) and not accepts_bool(f.annotation):
            out.append((f"{path}.{k}", v, "a number, not a boolean"))
    return out


def free_form_problems(sc: Scenario) -> list[Problem]:
    """Booleans where numbers are expected in custom designs and process overrides."""
    from .components.accelerator import Design

    out: list[Problem] = []
    for name, fields in sc.accelerators.custom.items():
        if fields:
            out += _field_bool_problems(f"accelerators.custom.{name}", fields, Design)
    for i, o in enumerate(sc.process_overrides):
        out += _field_bool_problems(f"process_overrides.{i}.set", o.set, ProcessSpec)
    return out


def _where(exc: Exception, sc: Scenario) -> str:
    """The scenario field a failure while building the network most likely comes from."""
    text = str(exc)
    m = re.search(r"process '([^']+)'", text)
    if m and any(p.name == m.group(1) for p in sc.processes):
        return f"processes.{m.group(1)}"
    if sc.process_overrides:
        return "process_overrides"
    if sc.processes or sc.carriers:
        return "processes"
    if sc.catalog:
        return "catalog"
    return "<scenario>"


def _build(sc: Scenario, cat: Catalog) -> Network:
    """The network, with every failure a ScenarioError naming a field."""
    from .network import build_network_unchecked

    try:
        return build_network_unchecked(sc, cat)
    except ScenarioError as exc:  # raised deeper, with user text perhaps uncut
        probs: list[Problem] = [
            (short_repr(p, 200).strip("'\""), short_repr(v), short_repr(e, 400).strip("'\""))
            for p, v, e in exc.problems
        ] or [("<scenario>", "<network>", short_repr(str(exc), 400))]
        raise ScenarioError(_cut(str(exc)), probs) from None
    except (Fab2FlopError, ValidationError, ValueError, KeyError, TypeError) as exc:
        if isinstance(exc, ValidationError):
            msg = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]
            )
        else:
            msg = str(exc)
        msg = short_repr(msg, 400).strip("'\"")
        path = "catalog" if isinstance(exc, CatalogError) else _where(exc, sc)
        raise ScenarioError(
            format_problems("scenario", [(path, "<network>", msg)]),
            [(path, "<network>", msg)],
        ) from None


def _cut(text: str, limit: int = 1000) -> str:
    """A message cut short (a long one echoes user text)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def network_problems(net: Network) -> list[Problem]:
    """Arrays of the network that no scenario should produce: NaN anywhere, infinity
    where a number is needed, negative costs or amounts, magnitudes past the solver's."""
    out: list[Problem] = []
    for name, da in net.ds.data_vars.items():
        if da.dtype.kind not in "fiu":
            continue
        v = np.asarray(da.values, float)
        finite = v[np.isfinite(v)]
        where = f"<network>.{name}"
        if np.isnan(v).any():
            out.append((where, "NaN", "numbers (a scenario or catalog value is undefined)"))
        elif np.isinf(v).any() and name not in _MAY_BE_INFINITE:
            out.append((where, "inf", "finite numbers (check catalog and process values)"))
        if name not in _MAY_BE_NEGATIVE and (finite < 0).any():
            out.append((where, float(finite.min()), "values >= 0"))
        if finite.size and np.abs(finite).max() > MAX_MAGNITUDE:
            out.append((where, float(np.abs(finite).max()), f"magnitudes <= {MAX_MAGNITUDE:g}"))
    return out


def validate_scenario_deep(
    scenario: Scenario, catalog: Catalog | None = None, origin: str = "scenario"
) -> Network:
    """Everything ``run`` checks before solving; the network on success, else one
    :class:`ScenarioError` listing each problem with its field path."""
    if not isinstance(scenario, Scenario):
        probs: list[Problem] = [("scenario", scenario, "a Scenario (fab2flop.load_scenario)")]
        raise ScenarioError(format_problems(origin, probs), probs)
    cat = catalog if catalog is not None else load_catalog()
    probs = catalog_override_problems(scenario.catalog, cat)
    probs += name_problems(scenario, cat)
    probs += free_form_problems(scenario)
    if probs:
        raise ScenarioError(format_problems(origin, probs), probs)
    net = _build(scenario, cat)
    probs = network_problems(net)
    if probs:
        raise ScenarioError(format_problems(origin, probs), probs)
    return net


def check_scenario(scenario: Scenario, catalog: Catalog | None = None) -> list[Problem]:
    """The problems :func:`validate_scenario_deep` would raise (empty: ready to run)."""
    try:
        validate_scenario_deep(scenario, catalog)
    except ScenarioError as exc:
        return list(exc.problems) or [("<scenario>", None, str(exc))]
    return []


__all__ = [
    "check_scenario",
    "validate_scenario_deep",
    "catalog_override_problems",
    "name_problems",
    "network_problems",
    "MAX_MAGNITUDE",
]
