"""A merchant part ships on its packaging: sampled die areas do not make it unbuildable.

The risk sweep's default uncertainty draws die areas and HBM footprints independently, and
some draws put a shipping part's modelled interposer just above the limit of the CoWoS it
ships on (1024 futures of seed 0: 7, MI300X, MI355X and B300). Such a future is inconsistent,
not informative: the part's interposer is taken at the limit, the dies keep their sampled
areas, yields and costs. Own designs keep the strict check and its DesignError.
"""

from __future__ import annotations

import pytest

from fab2flop.catalog import load_catalog
from fab2flop.components.accelerator import (
    catalog_accelerators,
    design_from_catalog,
    evaluate,
    make_design,
)
from fab2flop.errors import DesignError, ScenarioError
from fab2flop.risk.sampling import SampleInputs
from fab2flop.risk.sweep import sample_scenario
from fab2flop.scenario import load_scenario, validate_scenario
from fab2flop.supplychain.fleet import build_fleet

RETICLE_MM2 = 858.0  # nodes.common.reticle_limit_mm2
COWOS_S_LIMIT_MM2 = 3.3 * RETICLE_MM2  # packaging.cowos.max_interposer_reticles_s: 2,831.4 mm²

# Sample 32 of the default uncertainty set (seed 0), rounded: the future that failed.
# XCDs sit on the IODs, so only the IODs and the HBM sites are on the interposer:
#   (4 x 394 + 8 x 126) x 1.1 = (1,576 + 1,008) x 1.1 = 2,842.4 mm² = 3.313 reticles > 3.3
# (the compute-unit area, +17% here, only enters the harvested yield, not the interposer)
MI300X_DRAW = {
    "accelerators.MI300X.die_area_mm2": 111.0,
    "accelerators.MI300X.compute_unit_area_mm2": 2.1,
    "accelerators.MI300X.io_die_area_mm2": 394.0,
    "memory.hbm3.footprint_mm2": 126.0,
}
# Samples 269/509 alike for MI355X (2 IODs, HBM3E):
#   (2 x 780 + 8 x 128) x 1.1 = (1,560 + 1,024) x 1.1 = 2,842.4 mm² > 2,831.4
# (B200 and B300 share HBM3E: (2 x 800 + 8 x 128) x 1.1 = 2,886.4 mm² = 3.36 reticles,
# within CoWoS-L's 3.5 of 2024-2025)
MI355X_DRAW = {
    "accelerators.MI355X.io_die_area_mm2": 780.0,
    "memory.hbm3e.footprint_mm2": 128.0,
}


@pytest.fixture(scope="module")
def cat():
    return load_catalog()


def _sampled(catalog_overrides: dict, *sets: str):
    """The default scenario as the sweep makes a sample of it, and its catalog."""
    base = load_scenario(overrides=list(sets)).model_dump(mode="json")
    sc = validate_scenario(sample_scenario(base, SampleInputs(catalog_overrides, {}, [])))
    return sc, load_catalog().with_overrides(sc.catalog)


def test_sampled_mi300x_geometry_is_built_at_the_cowos_s_limit(cat) -> None:
    sc, scat = _sampled(MI300X_DRAW)
    fleet = build_fleet(sc, scat)  # raised "'MI300X' cannot be built" before
    spec = fleet["MI300X"].spec
    assert spec.packaging == "cowos_s"
    assert spec.interposer_area_mm2 == pytest.approx(COWOS_S_LIMIT_MM2)
    assert spec.interposer_reticles == pytest.approx(3.3)
    assert any("2842 mm²" in n and "taken at the limit" in n for n in spec.notes)
    # the larger dies still cost more: a 394 mm² IOD yields worse than a 370 mm² one
    nominal = evaluate(design_from_catalog("MI300X", cat), cat)
    assert spec.io_dies[0]["area_mm2"] == 394.0
    assert spec.io_dies[0]["die_yield"] < nominal.io_dies[0]["die_yield"]
    assert spec.cost_breakdown["io_dies"] > nominal.cost_breakdown["io_dies"]
    # ... and the interposer is priced as the limit's: the same packages per CoWoS wafer as
    # a design whose interposer is given at 2,831.4 mm²
    fields = design_from_catalog("MI300X", scat).model_dump()
    given = make_design(**{**fields, "interposer_area_mm2": COWOS_S_LIMIT_MM2})
    assert spec.packages_per_packaging_wafer == evaluate(given, scat).packages_per_packaging_wafer


def test_sampled_mi355x_geometry_carries_to_its_roadmap_successors() -> None:
    sc, scat = _sampled({**MI300X_DRAW, **MI355X_DRAW})
    fleet = build_fleet(sc, scat)
    # AMD's extrapolated generations copy MI355X's geometry and packaging
    amd = [n for n, it in fleet.items() if it.spec is not None and it.spec.vendor == "AMD"]
    assert {"MI300X", "MI355X", "AMD_x2026"} <= set(amd)
    for n in amd:
        assert fleet[n].spec.interposer_area_mm2 == pytest.approx(COWOS_S_LIMIT_MM2), n


def test_every_merchant_part_fits_its_packaging_at_nominal_values(cat) -> None:
    """The cap corrects drawn values only: at the catalog's own values every merchant part
    passes the strict check (a catalog part that did not fit would be a data error)."""
    merchant = [
        n for n in catalog_accelerators(cat) if design_from_catalog(n, cat).packaging_published
    ]
    assert {"H100", "B200", "B300", "MI300X", "MI355X", "Rubin"} <= set(merchant)
    for n in merchant:
        spec = evaluate(design_from_catalog(n, cat, packaging_published=False), cat)
        assert not any("taken at the limit" in x for x in spec.notes), n


def test_only_an_unchanged_merchant_part_ships_on_its_packaging(cat) -> None:
    assert design_from_catalog("MI300X", cat).packaging_published
    assert not design_from_catalog("custom_v1", cat).packaging_published  # own design
    assert not design_from_catalog("TPU_v6e", cat).packaging_published  # comparison part
    # a field override makes a new design, checked like any other: four 410 mm² IODs and
    # 8 HBM3 sites of 121 mm² -> (1,640 + 968) x 1.1 = 2,868.8 mm² = 3.34 reticles > 3.3
    variant = design_from_catalog("MI300X", cat, io_dies=[("N6", 410, 4)])
    assert not variant.packaging_published
    with pytest.raises(DesignError, match=r"interposer_area_mm2=2869 .*cowos_s limit of 3.3"):
        evaluate(variant, cat)


def test_published_packaging_needs_a_packaging(cat) -> None:
    with pytest.raises(DesignError, match=r"packaging_published=True needs the packaging"):
        design_from_catalog("MI300X", cat, packaging="auto", packaging_published=True)


def test_custom_design_over_the_limit_is_refused_with_the_field_named() -> None:
    # custom_v1 with 810 mm² dies: (2 x 810 + 8 x 121) x 1.1 = 2,846.8 mm² = 3.32 reticles
    sc, scat = _sampled({}, "accelerators.custom.custom_v1.die_area_mm2=810")
    with pytest.raises(ScenarioError) as err:
        build_fleet(sc, scat)
    msg = str(err.value)
    assert "'custom_v1' cannot be built" in msg
    assert "interposer_area_mm2=2847 (3.32 reticles) exceeds the cowos_s limit" in msg
    assert err.value.problems[0][0] == "accelerators.custom_v1"


def test_own_design_started_from_a_merchant_part_keeps_the_strict_check() -> None:
    # the plan building MI300X itself, unchanged, under the drawn geometry: 2,842 mm² > 2,831
    sc, scat = _sampled(
        MI300X_DRAW, "accelerators.merchant=[H100]", "accelerators.custom={MI300X: {}}"
    )
    with pytest.raises(ScenarioError, match=r"'MI300X' cannot be built: interposer_area_mm2=2842"):
        build_fleet(sc, scat)
