"""Advanced packaging: interposer area, packages per CoWoS-class wafer, yield and cost.

Interposer area is the footprint of what sits on it (logic dies not stacked on other dies,
I/O dies, HBM sites) grown by a spacing fraction for keep-out, routing and seal ring::

    A_interposer = (Σ die areas + HBM sites × stack footprint) × (1 + spacing_fraction)

The site is a rectangle of ``aspect_ratio`` (long/short side). Packages per 300 mm
interposer wafer are counted exactly on a grid (:func:`fab2flop.components.chip.sites_per_wafer`):
the textbook die-per-wafer formula undercounts multi-reticle sites (it gives ~25 for an
H100-size interposer against TrendForce's 28–29, semiconductors.md 3.11).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from ..catalog import Catalog
from ..errors import DesignError
from .chip import FloatOrArray, scalar_or_array, sites_per_wafer

PackagingName = Literal["cowos_s", "cowos_l"]
PACKAGING_TYPES: tuple[str, ...] = ("cowos_s", "cowos_l")


def interposer_area_mm2(
    die_area_mm2: ArrayLike,
    hbm_sites: ArrayLike,
    stack_footprint_mm2: ArrayLike,
    spacing_fraction: ArrayLike = 0.10,
) -> FloatOrArray:
    """Interposer area for dies of total area ``die_area_mm2`` and ``hbm_sites`` stacks [mm²].

    H100: (814 + 6 × 121) × 1.1 = 1,694 mm².

    >>> round(interposer_area_mm2(814.0, 6, 121.0, 0.10), 1)
    1694.0
    """
    d = np.asarray(die_area_mm2, dtype=float)
    n = np.asarray(hbm_sites, dtype=float)
    if np.any(d < 0) or np.any(n < 0):
        raise DesignError(f"die area {die_area_mm2!r} and HBM sites {hbm_sites!r} must be ≥ 0")
    a = (d + n * np.asarray(stack_footprint_mm2, float)) * (1.0 + np.asarray(spacing_fraction))
    return scalar_or_array(a)


def interposer_dims_mm(area_mm2: float, aspect_ratio: float = 1.4) -> tuple[float, float]:
    """Short and long side [mm] of a rectangle of ``area_mm2`` with long/short = aspect_ratio.

    >>> [round(x, 2) for x in interposer_dims_mm(1400.0, 1.4)]   # √1000, 1.4·√1000
    [31.62, 44.27]
    """
    if not area_mm2 > 0 or not aspect_ratio >= 1:
        raise DesignError(
            f"interposer area {area_mm2!r} must be > 0 and aspect ratio {aspect_ratio!r} ≥ 1"
        )
    short = math.sqrt(area_mm2 / aspect_ratio)
    return short, short * aspect_ratio


def packages_per_wafer(
    area_mm2: ArrayLike,
    aspect_ratio: float = 1.4,
    wafer_diameter_mm: float = 300.0,
    edge_exclusion_mm: float = 3.0,
) -> FloatOrArray:
    """Interposer sites per 300 mm wafer for interposers of ``area_mm2`` [packages/wafer].

    >>> packages_per_wafer(1694.0)   # TrendForce: H100 ~28-29 (semiconductors.md 3.11)
    29.0
    """
    a = np.asarray(area_mm2, dtype=float)
    if np.any(a <= 0):
        raise DesignError(f"interposer_area_mm2={area_mm2!r} must be > 0")
    short = np.sqrt(a / aspect_ratio)
    return sites_per_wafer(short, short * aspect_ratio, wafer_diameter_mm, edge_exclusion_mm)


def packaging_cost_usd(wafer_price_usd: ArrayLike, packages_per_wafer_: ArrayLike) -> FloatOrArray:
    """Interposer/CoWoS cost of one package attempt [USD] = wafer price / sites per wafer."""
    p = np.asarray(packages_per_wafer_, dtype=float)
    if np.any(p <= 0):
        raise DesignError(f"packages_per_packaging_wafer={packages_per_wafer_!r} must be > 0")
    return scalar_or_array(np.asarray(wafer_price_usd, dtype=float) / p)


def max_interposer_reticles(catalog: Catalog, packaging: str, year: int | None) -> float:
    """Largest interposer [reticles] of a packaging type for a design first built in ``year``.

    CoWoS-L follows ``packaging.cowos.max_interposer_reticles_l_roadmap`` (latest entry at
    or before the year); CoWoS-S is fixed.
    """
    if packaging == "cowos_s":
        return catalog.number("packaging.cowos.max_interposer_reticles_s")
    if packaging != "cowos_l":
        raise DesignError(
            f"packaging={packaging!r} is unknown; expected one of {', '.join(PACKAGING_TYPES)}"
        )
    base = catalog.number("packaging.cowos.max_interposer_reticles_l")
    rid = "packaging.cowos.max_interposer_reticles_l_roadmap"
    if year is None or rid not in catalog:
        return base
    series = catalog.series(rid)
    past = [v for y, v in series.items() if y <= year]
    return past[-1] if past else min(series.values())


@dataclass(frozen=True)
class PackagingParams:
    """Catalog figures of CoWoS-class packaging and final assembly (``packaging.*``)."""

    price_usd_per_wafer: float  # interposer wafer [USD/wafer]
    wafer_diameter_mm: float
    edge_exclusion_mm: float
    spacing_fraction: float
    aspect_ratio: float
    yield_s: float
    yield_l: float
    soic_usd_per_die: float
    substrate_usd: float  # per reference-size package [USD]
    substrate_reference_mm2: float
    test_usd: float
    assembly_usd: float

    def packaging_yield(self, packaging: str) -> float:
        return self.yield_l if packaging == "cowos_l" else self.yield_s

    def substrate_cost_usd(self, interposer_mm2: float) -> float:
        """ABF substrate [USD], scaled with interposer area from the reference package."""
        return self.substrate_usd * interposer_mm2 / self.substrate_reference_mm2


def load_packaging(catalog: Catalog) -> PackagingParams:
    """Packaging parameters from the catalog."""
    c = catalog.number
    return PackagingParams(
        price_usd_per_wafer=c("packaging.cowos.price_usd_per_wafer"),
        wafer_diameter_mm=c("packaging.cowos.interposer_wafer_diameter_mm"),
        edge_exclusion_mm=c("nodes.common.edge_exclusion_mm"),
        spacing_fraction=c("packaging.cowos.interposer_spacing_fraction"),
        aspect_ratio=c("packaging.cowos.interposer_aspect_ratio"),
        yield_s=c("packaging.cowos.packaging_yield"),
        yield_l=c("packaging.cowos.packaging_yield_l"),
        soic_usd_per_die=c("packaging.soic.bond_usd_per_die"),
        substrate_usd=c("packaging.test_assembly.substrate_usd"),
        substrate_reference_mm2=c("packaging.test_assembly.substrate_reference_interposer_mm2"),
        test_usd=c("packaging.test_assembly.test_usd_per_unit"),
        assembly_usd=c("packaging.test_assembly.assembly_usd_per_unit"),
    )
