"""The backtest (docs/validation.md): the world scenario from a 2023 start against published
accelerator output and installed stock for 2023-2025, within the stated tolerances.

Published figures: Epoch AI, AI Chip Sales (github epoch-research/ai-chip-counts,
csv_export/{nvidia_calendar_quarter,amd,tpu_calendar_quarter,trainium}_chip_timelines.csv,
generated Mar-Apr 2026): median units and H100e by calendar quarter, summed per year. Stock =
Epoch's sales since 2022 summed (no retirements within the 5-year life). CoWoS: Commercial
Times via TrendForce / smbom: Nvidia took 144-150k of 2024's CoWoS wafers (semiconductors.md
3.8). Tolerances (docs/validation.md, "Tolerance"): ±35% where the inputs are filings and
Epoch price ranges (Nvidia, AMD, total stock, CoWoS); a factor of 2.5 where the demand
inputs are conf-L estimates (Google TPU, AWS Trainium).
"""

from __future__ import annotations

import math

import pytest

from fab2flop.world import build_world, by_vendor, load_world, solve_world

# (vendor, year): (units, H100e) published (Epoch medians)
PUBLISHED_OUTPUT = {
    ("NVIDIA", 2023): (1_294_000, 1_098_000),
    ("NVIDIA", 2024): (3_838_000, 3_329_000),
    ("NVIDIA", 2025): (4_458_000, 8_920_000),
    ("AMD", 2024): (481_000, 548_000),
    ("AMD", 2025): (441_000, 686_000),
    ("Google", 2023): (1_020_000, 193_000),
    ("Google", 2024): (2_202_000, 733_000),
    ("Google", 2025): (2_767_000, 2_850_000),
    ("AWS", 2024): (755_000, 300_000),
    ("AWS", 2025): (1_085_000, 712_000),
}
# end-of-year H100e stock of Nvidia + AMD + Google + AWS (Epoch sales since 2022, summed):
# 2023: 0.290 + 1.098 (Nvidia) + 0.014 + 0.193 (TPU) = 1.595M
# 2024: 1.595 + 3.329 + 0.733 + 0.548 + 0.300 = 6.505M
# 2025: 6.505 + 8.920 + 2.850 + 0.686 + 0.712 = 19.673M
PUBLISHED_STOCK_H100E = {2023: 1_595_000, 2024: 6_505_000, 2025: 19_673_000}
NVIDIA_COWOS_2024 = 147_000  # middle of 144-150k wafers
FILINGS_TOLERANCE = 0.35  # relative
ESTIMATE_FACTOR = 2.5  # model / published within [1/2.5, 2.5]
TOLERANCE = {"NVIDIA": "filings", "AMD": "filings", "Google": "estimate", "AWS": "estimate"}


def within(model: float, published: float, kind: str) -> bool:
    if kind == "filings":
        return abs(model / published - 1.0) <= FILINGS_TOLERANCE
    return abs(math.log(model / published)) <= math.log(ESTIMATE_FACTOR)


@pytest.fixture(scope="module")
def world():
    w = build_world(load_world("world", ["time.end=2025"]))
    return w, solve_world(w)


@pytest.mark.parametrize("key", sorted(PUBLISHED_OUTPUT))
def test_output_by_vendor_within_tolerance(world, key):
    _, ds = world
    vendor, year = key
    units, h100e = PUBLISHED_OUTPUT[key]
    m_units = float(by_vendor(ds, "units").sel(vendor=vendor, year=year))
    m_h100e = float(by_vendor(ds, "h100e").sel(vendor=vendor, year=year))
    kind = TOLERANCE[vendor]
    assert within(m_units, units, kind), (key, m_units, units)
    assert within(m_h100e, h100e, kind), (key, m_h100e, h100e)


@pytest.mark.parametrize("year", sorted(PUBLISHED_STOCK_H100E))
def test_installed_stock_within_tolerance(world, year):
    _, ds = world
    stock = by_vendor(ds, "stock_h100e").sel(vendor=list(TOLERANCE), year=year).sum()
    assert within(float(stock), PUBLISHED_STOCK_H100E[year], "filings")


def test_nvidia_cowos_use_2024_within_tolerance(world):
    w, ds = world
    used = sum(
        float(ds["units"].sel(part=p, year=2024)) * part.use["cowos"]
        for p, part in w.parts.items()
        if part.vendor == "NVIDIA"
    )
    assert within(used, NVIDIA_COWOS_2024, "filings")


def test_tolerance_is_not_vacuous():
    # a model that made nothing, or ten times too much, fails every row
    for kind in ("filings", "estimate"):
        assert not within(1.0, 1_000_000, kind)
        assert not within(10_000_000, 1_000_000, kind)
