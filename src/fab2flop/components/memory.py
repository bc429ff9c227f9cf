"""High-bandwidth memory: bandwidth, capacity, cost and DRAM wafers per stack.

Pure functions (scalars or numpy arrays) plus :class:`HBMGeneration`, the catalog's view of
one generation (``memory.<gen>.*``).

Bandwidth of a stack = interface width [bit] × per-pin rate [Gb/s] / 8 [B/s]; an HBM3 stack
at 6.4 Gb/s gives 1024 × 6.4e9 / 8 = 819.2 GB/s (semiconductors.md 4.1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ..catalog import Catalog
from ..errors import CatalogError, DesignError
from .chip import FloatOrArray, gross_dies_per_wafer, scalar_or_array

HBM_KEYS = (
    "stack_price_usd",
    "gb_per_stack",
    "dies_per_stack",
    "pin_rate_gbps",
    "bus_width_bits",
    "stacks_per_wafer",
    "footprint_mm2",
    "first_volume_year",
)


HEIGHTS = (4, 8, 12, 16)  # stack heights that may carry a price (price_usd_per_gb_<h>hi)
# the tallest stack the JEDEC HBM standards define: JESD238 (HBM3, incl. HBM3E) and JESD270-4
# (HBM4) allow 4-, 8-, 12- and 16-high stacks
MAX_HEIGHT = 16


def stack_bandwidth_bytes_per_s(
    bus_width_bits: ArrayLike, pin_rate_gbps: ArrayLike
) -> FloatOrArray:
    """Peak bandwidth of one stack [B/s] = bits × Gb/s × 1e9 / 8.

    >>> stack_bandwidth_bytes_per_s(1024, 6.4)
    819200000000.0
    """
    b = np.asarray(bus_width_bits, dtype=float)
    r = np.asarray(pin_rate_gbps, dtype=float)
    if np.any(b < 0) or np.any(r < 0):
        raise DesignError(
            f"hbm bus_width_bits={bus_width_bits!r} and pin_rate_gbps={pin_rate_gbps!r} must be ≥ 0"
        )
    return scalar_or_array(b * r * 1e9 / 8.0)


def hbm_bandwidth_bytes_per_s(
    stacks: ArrayLike, bus_width_bits: ArrayLike, pin_rate_gbps: ArrayLike
) -> FloatOrArray:
    """Peak memory bandwidth of ``stacks`` active stacks [B/s].

    H100: 5 stacks × 1024 bit × 5.23 Gb/s / 8 = 3.347e12 B/s (published 3.35 TB/s).

    >>> round(hbm_bandwidth_bytes_per_s(5, 1024, 5.23) / 1e12, 3)
    3.347
    """
    s = np.asarray(stacks, dtype=float)
    if np.any(s < 0):
        raise DesignError(f"hbm_stacks={stacks!r} must be ≥ 0")
    return scalar_or_array(
        s * np.asarray(stack_bandwidth_bytes_per_s(bus_width_bits, pin_rate_gbps))
    )


def hbm_cost_usd(stacks: ArrayLike, stack_price_usd: ArrayLike) -> FloatOrArray:
    """Cost of the stacks mounted on one package [USD] (one price per stack of a generation)."""
    return scalar_or_array(
        np.asarray(stacks, dtype=float) * np.asarray(stack_price_usd, dtype=float)
    )


def stacks_per_dram_wafer(
    core_die_area_mm2: ArrayLike,
    dram_dies_per_stack: ArrayLike,
    die_yield: ArrayLike,
    stack_yield: ArrayLike = 0.85,
    wafer_diameter_mm: float = 300.0,
    edge_exclusion_mm: float = 3.0,
) -> FloatOrArray:
    """Good HBM stacks per DRAM wafer start [stacks/wafer].

    ``gross DRAM dies × die yield (incl. TSV) / DRAM dies per stack × stack-assembly yield``.
    Count the base die in ``dram_dies_per_stack`` when it is made on the DRAM wafers
    (HBM3/HBM3E), not when it is a foundry logic die (HBM4).

    HBM3E 12-high (catalog derivation): 120 mm² dies → 506 gross on a 294 mm usable
    diameter; × 0.6 = 303.6; / 13 = 23.35; × 0.85 = 19.85.

    >>> round(stacks_per_dram_wafer(120.0, 13, 0.6), 2)
    19.85
    """
    gross = np.asarray(
        gross_dies_per_wafer(core_die_area_mm2, wafer_diameter_mm, edge_exclusion_mm)
    )
    n = np.asarray(dram_dies_per_stack, dtype=float)
    if np.any(n <= 0):
        raise DesignError(f"dram_dies_per_stack={dram_dies_per_stack!r} must be > 0")
    return scalar_or_array(
        gross * np.asarray(die_yield, float) / n * np.asarray(stack_yield, float)
    )


@dataclass(frozen=True)
class HBMGeneration:
    """One HBM generation as the catalog describes it (``memory.<name>.*``)."""

    name: str
    stack_price_usd: float  # [USD/stack]
    gb_per_stack: float  # [GB] of the generation's reference stack
    pin_rate_gbps: float  # [Gb/s] per pin, JEDEC/vendor nominal
    bus_width_bits: float  # [bit] per stack
    stacks_per_wafer: float  # good stacks per DRAM wafer start [stacks/wafer]
    footprint_mm2: float  # interposer area one stack occupies [mm²]
    first_volume_year: int
    dies_per_stack: float = 8.0  # DRAM core dies of the reference stack [dies]
    # price per GB by stack height [USD/GB] (``price_usd_per_gb_<h>hi``); empty = one price
    # per stack whatever its height (catalogs without the records)
    price_usd_per_gb_by_height: tuple[tuple[int, float], ...] = ()

    @property
    def gb_per_die(self) -> float:
        """Capacity of one DRAM core die [GB]."""
        return self.gb_per_stack / self.dies_per_stack

    def height(self, gb_per_stack: float) -> int:
        """Dies in a stack of ``gb_per_stack`` GB of this generation's dies (H200's 23.5 GB
        stacks of 3 GB dies: 8-high)."""
        return max(1, round(gb_per_stack / self.gb_per_die))

    def usd_per_gb(self, height: int) -> float:
        """Price per GB of a ``height``-high stack [USD/GB]: the record of that height, else of
        the next taller priced height (a 4-high stack pays the 8-high price); a stack taller
        than every priced height, up to the standard's tallest (``MAX_HEIGHT``), pays the
        tallest priced height's rate (a 13-high reading arises when sampled die and stack
        capacities disagree by a die)."""
        prices = dict(self.price_usd_per_gb_by_height)
        if height > MAX_HEIGHT or not prices:
            raise DesignError(
                f"hbm_gb: a {height}-high {self.name} stack has no price; priced heights: "
                f"{sorted(prices)} (memory.{self.name}.price_usd_per_gb_<h>hi), and no HBM "
                f"stack is taller than {MAX_HEIGHT}"
            )
        taller = [h for h in sorted(prices) if h >= height]
        return prices[taller[0]] if taller else prices[max(prices)]

    def stack_equivalents(self, gb_per_stack: float) -> float:
        """Reference stacks (``stack_price_usd``) one stack of ``gb_per_stack`` GB is worth.

        = GB × $/GB at its height / (reference GB × $/GB at the reference height); 1 for the
        reference stack, and 1 for any stack when the generation has no per-GB prices.
        """
        if not self.price_usd_per_gb_by_height:
            return 1.0
        ref = self.gb_per_stack * self.usd_per_gb(self.height(self.gb_per_stack))
        return gb_per_stack * self.usd_per_gb(self.height(gb_per_stack)) / ref

    @property
    def bandwidth_bytes_per_s_per_stack(self) -> float:
        """Nominal bandwidth of one stack [B/s]."""
        return float(stack_bandwidth_bytes_per_s(self.bus_width_bits, self.pin_rate_gbps))

    @property
    def price_usd_per_gb(self) -> float:
        """Price per GB of the reference stack [USD/GB] (stack price / its GB)."""
        return self.stack_price_usd / self.gb_per_stack


def hbm_generations(catalog: Catalog) -> list[str]:
    """Names of the HBM generations in the catalog (groups of ``memory`` with a stack price)."""
    return [g for g in catalog.group("memory") if f"memory.{g}.stack_price_usd" in catalog]


def load_hbm_generation(catalog: Catalog, name: str) -> HBMGeneration:
    """The catalog's HBM generation ``name``; :class:`DesignError` if it is not there."""
    known = hbm_generations(catalog)
    if name not in known:
        raise DesignError(
            f"hbm_generation={name!r} is not in the catalog; known generations: {', '.join(known)}"
        )
    try:
        v = {k: catalog.number(f"memory.{name}.{k}") for k in HBM_KEYS}
    except CatalogError as exc:
        raise CatalogError(f"HBM generation {name!r} is incomplete: {exc}") from None
    return HBMGeneration(
        name=name,
        stack_price_usd=v["stack_price_usd"],
        gb_per_stack=v["gb_per_stack"],
        pin_rate_gbps=v["pin_rate_gbps"],
        bus_width_bits=v["bus_width_bits"],
        stacks_per_wafer=v["stacks_per_wafer"],
        footprint_mm2=v["footprint_mm2"],
        first_volume_year=int(v["first_volume_year"]),
        dies_per_stack=v["dies_per_stack"],
        price_usd_per_gb_by_height=tuple(
            (h, catalog.number(f"memory.{name}.price_usd_per_gb_{h}hi"))
            for h in HEIGHTS
            if f"memory.{name}.price_usd_per_gb_{h}hi" in catalog
        ),
    )
