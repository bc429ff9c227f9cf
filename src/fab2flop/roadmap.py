"""The whole roadmap: every accelerator line continues past its last announced part.

A *line* is a vendor's parts in the catalog (``accelerators.<part>.vendor``; ``own`` for the
plan's designs). Its last part (latest ``available_from``) is the *anchor*; after it comes
a generation every ``cadence_years`` (``accelerators.roadmap.lines.<vendor>``), each bought
new for ``window_years`` and named ``<vendor>_x<year>`` (``NVIDIA_x2029``, ``own_x2032``).
An extrapolated generation ``dy`` years after its anchor has

- BF16 FLOP/s × ``flops_growth_per_year``^dy (FP8/FP4 keep the anchor's ratio to BF16;
  where FLOP/s come from units × FLOP/clock × clock, the FLOP per clock per unit grows);
- FLOP/s per W of TDP × ``flops_per_watt_growth_per_year``^dy;
- price per BF16 FLOP/s ÷ ``usd_per_flops_decline_per_year``^dy (parts with a price);
- HBM capacity × ``hbm_gb_growth_per_year``^dy and per-pin rate ×
  ``hbm_bandwidth_growth_per_year``^dy on the anchor's stacks;
- the anchor's silicon (node, dies, die area, units, HBM stacks, packaging, NRE): an own
  successor's wafers, stacks and CoWoS per unit are the anchor's.

Every trend is a catalog record (``accelerators.roadmap.*``) with its sources; the fits of
the announced parts that the records quote come from :func:`fit_growth`. A horizon past
``accelerators.roadmap.max_year`` is refused.

>>> from fab2flop.catalog import load_catalog
>>> [d.name for d in extend_line("NVIDIA", load_catalog(), 2030)]
['NVIDIA_x2028', 'NVIDIA_x2029', 'NVIDIA_x2030']
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .catalog import Catalog
from .errors import CatalogError, ScenarioError

if TYPE_CHECKING:
    from .components.accelerator import AcceleratorSpec, Design
    from .scenario import Scenario

ROADMAP = "accelerators.roadmap"
RAMP = "accelerators.ramp"
OWN = "own"
TREND_KEYS = (
    "flops_growth_per_year",
    "flops_per_watt_growth_per_year",
    "usd_per_flops_decline_per_year",
    "hbm_gb_growth_per_year",
    "hbm_bandwidth_growth_per_year",
)
RAMP_KEYS = ("first_year_share", "second_year_share")


@dataclass(frozen=True)
class Trends:
    """Growth factors per year of the extrapolated generations [1/year]."""

    flops_growth_per_year: float
    flops_per_watt_growth_per_year: float
    usd_per_flops_decline_per_year: float
    hbm_gb_growth_per_year: float
    hbm_bandwidth_growth_per_year: float
    max_year: int  # last year a generation may be extrapolated to [year]


@dataclass(frozen=True)
class Line:
    """How often a vendor brings out a generation and how long each is bought new."""

    vendor: str
    cadence_years: int
    window_years: int


def _problem(rid: str, value: Any, expected: str) -> ScenarioError:
    path = f"catalog.{rid}"
    return ScenarioError(f"{path}={value!r}: expected {expected}", [(path, value, expected)])


def load_trends(cat: Catalog) -> Trends:
    """The roadmap's growth factors; each must be a finite number > 0 (1 = no change)."""
    vals: dict[str, float] = {}
    for k in TREND_KEYS:
        rid = f"{ROADMAP}.{k}"
        v = cat.number(rid)
        if not (math.isfinite(v) and v > 0):
            raise _problem(rid, v, "a growth factor per year > 0 (1 = no change)")
        vals[k] = v
    rid = f"{ROADMAP}.max_year"
    return Trends(**vals, max_year=int(cat.number(rid)))


def load_line(cat: Catalog, vendor: str) -> Line:
    """The cadence and window of ``vendor``'s line (``accelerators.roadmap.lines.<vendor>``)."""
    base = f"{ROADMAP}.lines.{vendor}"
    known = cat.group(f"{ROADMAP}.lines")
    if vendor not in known:
        raise CatalogError(
            f"{base}: the roadmap has no line for vendor {vendor!r}; known lines: "
            f"{', '.join(known)}"
        )
    out = {}
    for k in ("cadence_years", "window_years"):
        v = cat.number(f"{base}.{k}")
        if not (v >= 1 and float(v).is_integer()):
            raise _problem(f"{base}.{k}", v, "a whole number of years ≥ 1")
        out[k] = int(v)
    return Line(vendor, **out)


def check_horizon(end_year: int, cat: Catalog, path: str = "time.end") -> None:
    """Refuse extrapolating past ``accelerators.roadmap.max_year``."""
    limit = load_trends(cat).max_year
    if end_year > limit:
        expected = (
            f"a year ≤ {limit} (accelerators.roadmap.max_year), or accelerators.roadmap: false"
        )
        raise ScenarioError(
            f"{path}={end_year}: the accelerator roadmap's trends are not extrapolated past "
            f"{limit} (accelerators.roadmap.max_year); end earlier or set "
            "accelerators.roadmap: false",
            [(path, end_year, expected)],
        )


def fit_growth(years: Sequence[float], values: Sequence[float]) -> float:
    """Growth factor per year of a log-linear least-squares fit of ``values`` on ``years``.

    >>> round(fit_growth([2020, 2021, 2022], [1.0, 2.0, 4.0]), 6)
    2.0
    """
    x = np.asarray(years, float)
    y = np.log(np.asarray(values, float))
    if len(x) < 2 or np.ptp(x) == 0:
        raise ValueError("fit_growth needs values in at least two different years")
    slope = np.polyfit(x, y, 1)[0]
    return float(np.exp(slope))


# ---- lines ---------------------------------------------------------------------------------


def line_parts(cat: Catalog, vendor: str, kinds: Iterable[str] | None = None) -> list[str]:
    """The catalog's parts of ``vendor`` (of ``kinds``), by first year then BF16 FLOP/s."""
    from .components.accelerator import catalog_accelerators

    allowed = set(kinds) if kinds is not None else None
    out = []
    for n in catalog_accelerators(cat):
        if str(cat.value(f"accelerators.{n}.vendor", "")) != vendor:
            continue
        if allowed is not None and str(cat.value(f"accelerators.{n}.kind")) not in allowed:
            continue
        out.append(n)

    def key(n: str) -> tuple[float, float]:
        y = cat.value(f"accelerators.{n}.available_from", 0)
        f = cat.value(f"accelerators.{n}.flops_bf16_dense", 0)
        return (float(y), float(f))

    return sorted(out, key=key)


def extrapolate(
    anchor: Design,
    spec: AcceleratorSpec,
    year: int,
    trends: Trends,
    line: Line,
    max_gb_per_stack: float | None = None,
) -> Design:
    """The generation of ``anchor``'s line first available in ``year``, on the trends.

    HBM capacity grows on the trend until the anchor's stacks are as tall as the generation's
    tallest (``max_gb_per_stack`` [GB], the tallest priced height x the GB of one die): the
    extrapolation assumes no DRAM die denser, no stack taller and no more stacks than the
    catalog's parts have (Rubin Ultra's 16 x 64 GB is already at HBM4E's ceiling).
    """
    from .components.accelerator import PRECISIONS, make_design

    y0 = spec.available_from
    if y0 is None or spec.flops_bf16_dense is None:
        raise ScenarioError(
            f"roadmap: {anchor.name!r} has no first year or BF16 FLOP/s to extrapolate from",
            [(f"accelerators.{anchor.name}", anchor.name, "a part with available_from and FLOP/s")],
        )
    dy = year - y0
    g = trends.flops_growth_per_year**dy
    f = anchor.model_dump()
    f.update(name=f"{line.vendor}_x{year}", available_from=year, extrapolated=True)
    f["trend"] = (
        f"{anchor.name} ({y0}) + {dy} years on accelerators.roadmap: BF16 FLOP/s x "
        f"{trends.flops_growth_per_year:g}^{dy}, FLOP/s per W x "
        f"{trends.flops_per_watt_growth_per_year:g}^{dy}, price per FLOP/s / "
        f"{trends.usd_per_flops_decline_per_year:g}^{dy}, HBM GB x "
        f"{trends.hbm_gb_growth_per_year:g}^{dy} (to the tallest stack), pin rate x "
        f"{trends.hbm_bandwidth_growth_per_year:g}^{dy}"
    )
    if line.vendor == OWN:  # the plan's own line is built, whoever the anchor named
        f.update(vendor=OWN, kind="custom")
    f["available_until"] = year + line.window_years - 1
    for p in PRECISIONS:
        for key in (f"flop_per_clock_per_unit_{p}", f"flops_{p}_dense"):
            if f.get(key) is not None:
                f[key] = f[key] * g
    bf16 = spec.flops_bf16_dense * g
    per_w = spec.flops_bf16_dense / spec.tdp_w * trends.flops_per_watt_growth_per_year**dy
    f["tdp_w"] = bf16 / per_w
    f["kw_it_per_unit"] = None
    if spec.price_usd is not None:
        per_flops = spec.price_usd / spec.flops_bf16_dense
        f["price_usd"] = bf16 * per_flops / trends.usd_per_flops_decline_per_year**dy
    if spec.hbm_stacks:
        f["hbm_gb"] = spec.hbm_gb * trends.hbm_gb_growth_per_year**dy
        if max_gb_per_stack:
            f["hbm_gb"] = min(f["hbm_gb"], max(spec.hbm_gb, spec.hbm_stacks * max_gb_per_stack))
        if spec.hbm_pin_rate_gbps is not None:
            pin = spec.hbm_pin_rate_gbps * trends.hbm_bandwidth_growth_per_year**dy
            f["hbm_pin_rate_gbps"] = pin
    return make_design(**f)


def successors(
    anchor: Design, spec: AcceleratorSpec, until_year: int, cat: Catalog, vendor: str
) -> list[Design]:
    """Extrapolated generations after ``anchor`` through ``until_year`` (none if earlier)."""
    trends = load_trends(cat)
    line = load_line(cat, vendor)
    y0 = spec.available_from
    if y0 is None:
        return []
    years = range(y0 + line.cadence_years, until_year + 1, line.cadence_years)
    if years and years[-1] > trends.max_year:
        check_horizon(until_year, cat)
    max_gb = _max_gb_per_stack(anchor, cat)
    return [extrapolate(anchor, spec, y, trends, line, max_gb) for y in years]


def _max_gb_per_stack(anchor: Design, cat: Catalog) -> float | None:
    """GB of the tallest stack ``anchor``'s HBM generation has a price for (None: no HBM)."""
    from .components.memory import load_hbm_generation

    if not anchor.hbm_generation:
        return None
    gen = load_hbm_generation(cat, anchor.hbm_generation)
    heights = [h for h, _ in gen.price_usd_per_gb_by_height] or [int(gen.dies_per_stack)]
    return max(heights) * gen.gb_per_die


def extend_line(vendor: str, cat: Catalog, until_year: int) -> list[Design]:
    """``vendor``'s extrapolated generations after its last catalog part, to ``until_year``."""
    from .components.accelerator import design_from_catalog, evaluate

    parts = line_parts(cat, vendor)
    if not parts:
        raise CatalogError(f"roadmap: the catalog has no accelerator of vendor {vendor!r}")
    anchor = design_from_catalog(parts[-1], cat)
    return successors(anchor, evaluate(anchor, cat), until_year, cat, vendor)


def roadmap_designs(scenario: Scenario, cat: Catalog, custom: Sequence[Design]) -> list[Design]:
    """Generations the scenario's fleet gains from the roadmap (``accelerators.roadmap``).

    Each vendor of a listed merchant part continues after its last merchant part in the
    catalog; the own line continues after ``custom``'s latest design (with the scenario's
    overrides). Merchant generations are sold by their vendor (its supply caps them). A
    vendor without a line in ``accelerators.roadmap.lines`` is not extended.
    """
    from .components.accelerator import design_from_catalog, evaluate

    acc = scenario.accelerators
    end = scenario.time.end
    if not getattr(acc, "roadmap", True):
        return []
    check_horizon(end, cat)
    out: list[Design] = []
    vendors: list[str] = []
    for n in acc.merchant:
        v = str(cat.value(f"accelerators.{n}.vendor", ""))
        if v and v not in vendors:
            vendors.append(v)
    lines = cat.group(f"{ROADMAP}.lines")
    for v in vendors:
        parts = line_parts(cat, v, kinds=("merchant",))
        if not parts or v not in lines:  # a vendor without a roadmap line: its parts end
            continue
        anchor = design_from_catalog(parts[-1], cat)
        out += successors(anchor, evaluate(anchor, cat), end, cat, v)
    if custom:
        specs = [(d, evaluate(d, cat)) for d in custom]
        d, s = max(specs, key=lambda x: (x[1].available_from or 0, x[1].flops_bf16_dense or 0))
        out += successors(d, s, end, cat, OWN)
    return out


# ---- availability windows and the ramp ----------------------------------------------------


def window_problems(scenario: Scenario, cat: Catalog) -> list[tuple[str, Any, str]]:
    """Parts whose availability window ends before it starts, named by where it was set."""
    from .components.accelerator import catalog_accelerators

    out: list[tuple[str, Any, str]] = []
    names = list(scenario.accelerators.merchant) + list(scenario.accelerators.custom)
    known = set(catalog_accelerators(cat))
    for n in names:
        over = scenario.accelerators.custom.get(n) or {}
        a = over.get("available_from", cat.value(f"accelerators.{n}.available_from", None))
        b = over.get("available_until", cat.value(f"accelerators.{n}.available_until", None))
        if n not in known or a is None or b is None:
            continue
        if isinstance(a, int | float) and isinstance(b, int | float) and b < a:
            if "available_until" in over:
                path = f"accelerators.custom.{n}.available_until"
            elif f"accelerators.{n}.available_until" in scenario.catalog:
                path = f"catalog.accelerators.{n}.available_until"
            else:
                path = f"accelerators.{n}.available_until"
            out.append((path, b, f"a year ≥ available_from ({a})"))
    return out


def check_windows(scenario: Scenario, cat: Catalog) -> None:
    """Raise a :class:`ScenarioError` naming every window that ends before it starts."""
    probs = window_problems(scenario, cat)
    if probs:
        lines = "; ".join(f"{p}={v!r}: expected {e}" for p, v, e in probs)
        raise ScenarioError(f"accelerators: a window ends before it starts: {lines}", probs)


def ramp_shares(cat: Catalog) -> tuple[float, ...]:
    """Output caps of a new part's first years as shares of its mature output, up to the
    first year that is mature (share 1); each share must lie in [0, 1]. A catalog without
    ``accelerators.ramp`` records has no ramp.

    >>> from fab2flop.catalog import load_catalog
    >>> ramp_shares(load_catalog())
    (0.3,)
    """
    out: list[float] = []
    for k in RAMP_KEYS:
        rid = f"{RAMP}.{k}"
        if rid not in cat:  # a catalog without a ramp (hand-made test networks): none
            break
        v = cat.number(rid)
        if not (math.isfinite(v) and 0.0 <= v <= 1.0):
            raise _problem(rid, v, "a share of the mature output in [0, 1]")
        out.append(v)
    shares: list[float] = []
    for v in out:
        if v >= 1.0:
            break
        shares.append(v)
    return tuple(shares)


__all__ = [
    "Line",
    "Trends",
    "check_horizon",
    "check_windows",
    "extend_line",
    "extrapolate",
    "fit_growth",
    "line_parts",
    "load_line",
    "load_trends",
    "ramp_shares",
    "roadmap_designs",
    "successors",
    "window_problems",
]
