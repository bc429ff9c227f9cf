"""The sourced catalog: every value has a unit, a year and a source, and units match names."""

from __future__ import annotations

import pytest

from fab2flop.catalog import Catalog, load_catalog, parse_catalog_texts
from fab2flop.errors import CatalogError


@pytest.fixture(scope="module")
def cat() -> Catalog:
    return load_catalog()


def test_catalog_loads_with_many_sourced_values(cat):
    assert len(cat) > 200
    for r in cat:
        assert r.unit and r.source and 1990 <= r.year <= 2100, r.id


@pytest.mark.parametrize(
    "suffix, unit_fragment",
    [
        ("_usd", ("USD",)),
        ("_mw", ("MW",)),
        ("_years", ("year",)),
        ("_w", ("W",)),
        ("_mm2", ("mm",)),
        ("_wpm", ("wafers/month", "wpm")),
        ("_per_mwh", ("MWh",)),
        ("_per_kw", ("kW",)),
    ],
)
def test_units_in_names_match_units(cat, suffix, unit_fragment):
    bad = [
        (r.id, r.unit)
        for r in cat
        if r.id.endswith(suffix) and not any(f.lower() in r.unit.lower() for f in unit_fragment)
    ]
    assert not bad, f"records named *{suffix} without {unit_fragment!r} in their unit: {bad}"


def test_low_high_bracket_value(cat):
    bad = []
    for r in cat:
        if r.is_number and r.low is not None and r.high is not None:
            if not (r.low <= r.value <= r.high):  # type: ignore[operator]
                bad.append((r.id, r.low, r.value, r.high))
    assert not bad, bad


NEEDED = [
    "datacenters.ai_campus.capex_usd_per_mw_it",
    "datacenters.ai_campus.pue",
    "datacenters.fleet.accelerator_life_years",
    "datacenters.fleet.system_capex_fraction",
    "power.gas_cc.capex_usd_per_kw",
    "power.nuclear_large.lead_years",
    "regions.US.electricity_price_usd_per_mwh",
    "regions.TW.fab_capex_multiplier",
    "supply.packaging.cowos.world_wpm",
    "supply.wafers.N3.world_wpm",
    "supply.merchant.NVIDIA.dc_units_per_year",
    "nodes.N3.wafer_price_usd",
    "nodes.N3.defect_density_per_cm2",
    "nodes.N2.fab_capex_usd_per_wpm",
    "memory.hbm3e.stack_price_usd",
    "packaging.cowos.price_usd_per_wafer",
    "finance.headline.total_usd",
]


@pytest.mark.parametrize("rid", NEEDED)
def test_records_the_model_reads_exist(cat, rid):
    assert rid in cat


def test_series_and_lookup(cat):
    s = cat.series("supply.packaging.cowos.world_wpm")
    years = sorted(s)
    assert years[0] <= 2024 and years[-1] >= 2027
    # CoWoS capacity grew: end-2023 ~15k wpm to end-2026 90-130k wpm (semiconductors.md 3.2-3.5)
    assert s[years[-1]] > s[years[0]]


def test_unknown_id_suggests_neighbours(cat):
    with pytest.raises(CatalogError, match="records beside it"):
        cat.record("nodes.N3.wafer_price")


def test_malformed_records_are_rejected_with_their_id():
    with pytest.raises(CatalogError, match="x.a.b.*source"):
        parse_catalog_texts({"x": "a:\n  b: {value: 1, unit: USD, year: 2024}\n"})
    with pytest.raises(CatalogError, match="expected a record"):
        parse_catalog_texts({"x": "a:\n  b: 3\n"})
    with pytest.raises(CatalogError, match="boolean"):
        parse_catalog_texts({"x": "NO:\n  b: {value: 1, unit: USD, year: 2024, source: abc}\n"})


def test_overrides_replace_value_and_record_the_change(cat):
    c2 = cat.with_overrides({"nodes.N3.wafer_price_usd": 25000})
    assert c2.number("nodes.N3.wafer_price_usd") == 25000
    assert "scenario override" in c2.record("nodes.N3.wafer_price_usd").source
    assert c2.data_hash != cat.data_hash
    with pytest.raises(CatalogError):
        cat.with_overrides({"nodes.N3.no_such": 1})
