"""HBM and CoWoS-class packaging: bandwidth, wafers per stack, interposers, packages per wafer."""

from __future__ import annotations

import pytest

from fab2flop.catalog import load_catalog
from fab2flop.components.accelerator import catalog_nodes
from fab2flop.components.memory import (
    hbm_bandwidth_bytes_per_s,
    hbm_generations,
    load_hbm_generation,
    stack_bandwidth_bytes_per_s,
    stacks_per_dram_wafer,
)
from fab2flop.components.packaging import (
    interposer_area_mm2,
    interposer_dims_mm,
    load_packaging,
    max_interposer_reticles,
    packages_per_wafer,
    packaging_cost_usd,
)
from fab2flop.errors import DesignError


@pytest.fixture(scope="module")
def cat():
    return load_catalog()


class TestHBM:
    def test_hbm3_stack(self) -> None:
        # 1024 bit x 6.4 Gb/s / 8 = 819.2 GB/s (semiconductors.md 4.1)
        assert stack_bandwidth_bytes_per_s(1024, 6.4) == pytest.approx(819.2e9)

    def test_hbm4_stack(self) -> None:
        # 2048 bit x 8 Gb/s / 8 = 2.048 TB/s (JEDEC, semiconductors.md 4.3)
        assert stack_bandwidth_bytes_per_s(2048, 8.0) == pytest.approx(2.048e12)

    def test_h100_bandwidth_from_stacks(self) -> None:
        # 5 stacks x 1024 bit x 5.23 Gb/s / 8 = 3.3472e12 B/s ≈ published 3.35 TB/s
        bw = hbm_bandwidth_bytes_per_s(5, 1024, 5.23)
        assert bw == pytest.approx(3.3472e12, rel=1e-6)
        assert bw == pytest.approx(3.35e12, rel=2e-3)

    def test_negative_stacks(self) -> None:
        with pytest.raises(DesignError, match="hbm_stacks"):
            hbm_bandwidth_bytes_per_s(-1, 1024, 6.4)

    def test_stacks_per_wafer_derivation(self, cat) -> None:
        # HBM3E 12-high: 120 mm² dies; gross on 294 mm: π·147²/120 = 565.72,
        # π·294/√240 = 59.62 -> 506; x 0.6 / 13 x 0.85 = 19.85 (catalog: 20)
        assert stacks_per_dram_wafer(120.0, 13, 0.6) == pytest.approx(19.85, abs=0.01)
        assert cat.number("memory.hbm3e.stacks_per_wafer") == pytest.approx(19.85, abs=0.5)

    def test_catalog_bandwidth_is_bus_times_pin_rate(self, cat) -> None:
        for gen in hbm_generations(cat):
            g = load_hbm_generation(cat, gen)
            rec = cat.number(f"memory.{gen}.bandwidth_bytes_per_s_per_stack")
            assert g.bandwidth_bytes_per_s_per_stack == pytest.approx(rec, rel=1e-9), gen

    def test_generations(self, cat) -> None:
        assert {"hbm3", "hbm3e", "hbm4", "hbm4e"} <= set(hbm_generations(cat))
        # reference stack: $669.6 / 36 GB = $18.6/GB, the 12-high price (memory.yaml header)
        assert load_hbm_generation(cat, "hbm3e").price_usd_per_gb == pytest.approx(18.6, abs=0.01)

    def test_unknown_generation(self, cat) -> None:
        with pytest.raises(DesignError, match="hbm_generation='hbm9'.*hbm3e"):
            load_hbm_generation(cat, "hbm9")


class TestPackaging:
    def test_interposer_area(self) -> None:
        # H100: (814 + 6 x 121) x 1.1 = 1540 x 1.1 = 1,694 mm²
        assert interposer_area_mm2(814.0, 6, 121.0, 0.10) == pytest.approx(1694.0)
        # B200: (2 x 800 + 8 x 121) x 1.1 = 2568 x 1.1 = 2,824.8 mm² ≈ 3.3 reticles
        assert interposer_area_mm2(1600.0, 8, 121.0, 0.10) == pytest.approx(2824.8)

    def test_dims(self) -> None:
        # short side √(1400/1.4) = √1000 = 31.62; long side 44.27
        short, long = interposer_dims_mm(1400.0, 1.4)
        assert short == pytest.approx(31.623, abs=1e-3)
        assert long == pytest.approx(44.272, abs=1e-3)

    def test_packages_per_wafer_match_trendforce(self) -> None:
        # TrendForce: H100 ~28-29 and B200 ~16 per CoWoS wafer (semiconductors.md 3.11);
        # the exact grid count with 3 mm exclusion and aspect 1.4 is the calibration target
        assert 28 <= packages_per_wafer(1694.0, 1.4, 300.0, 3.0) <= 30
        assert packages_per_wafer(2824.8, 1.4, 300.0, 3.0) == 16.0

    def test_packaging_cost(self) -> None:
        # $20,000 per interposer wafer / 29 sites = $689.66 (siliconanalysts: $723-750)
        assert packaging_cost_usd(20_000.0, 29.0) == pytest.approx(689.655, abs=1e-3)

    def test_wafer_price_is_derived_from_package_prices(self, cat) -> None:
        # $723 x 28 = $20,244 .. $750 x 29 = $21,750 (CoWoS-S); $1,100 x 16 = $17,600 (L)
        p = cat.record("packaging.cowos.price_usd_per_wafer")
        assert p.low == 17600 and p.high == 21750 and 17600 <= p.value <= 21750

    def test_max_interposer(self, cat) -> None:
        assert max_interposer_reticles(cat, "cowos_s", 2025) == 3.3
        assert max_interposer_reticles(cat, "cowos_l", 2025) == 3.5
        assert max_interposer_reticles(cat, "cowos_l", 2026) == 5.5
        assert max_interposer_reticles(cat, "cowos_l", 2030) == 9.5
        assert max_interposer_reticles(cat, "cowos_l", None) == 5.5
        with pytest.raises(DesignError, match="packaging='emib'"):
            max_interposer_reticles(cat, "emib", 2025)

    def test_substrate_scales_with_interposer(self, cat) -> None:
        pk = load_packaging(cat)
        # $200 x 3,400 / 1,700 = $400
        assert pk.substrate_cost_usd(3400.0) == pytest.approx(400.0)


class TestCatalogShape:
    NODE_KEYS = (
        "wafer_price_usd",
        "defect_density_per_cm2",
        "fab_capex_usd_per_wpm",
        "fab_build_years",
        "fab_ramp_years",
        "fab_life_years",
        "fab_opex_usd_per_wafer",
        "first_volume_year",
        "euv_tools_per_kwpm",
    )

    def test_every_node_has_the_optimiser_keys(self, cat) -> None:
        nodes = catalog_nodes(cat)
        assert {"N7", "N5", "N4", "N3", "N2", "A16", "N6"} <= set(nodes)
        for n in nodes:
            for k in self.NODE_KEYS:
                assert cat.record(f"nodes.{n}.{k}").is_number, f"nodes.{n}.{k}"
        assert cat.record("nodes.A16.wafer_price_usd").conf == "L"

    def test_common_geometry(self, cat) -> None:
        assert cat.number("nodes.common.wafer_diameter_mm") == 300
        # 26 x 33 mm = 858 mm²
        assert cat.number("nodes.common.reticle_limit_mm2") == 26 * 33

    def test_fab_capex_derivation(self, cat) -> None:
        # IBS: $20B / 50k wpm = $400k (N3); $28B / 50k wpm = $560k (N2)
        assert cat.number("nodes.N3.fab_capex_usd_per_wpm") == 20e9 / 50_000
        assert cat.number("nodes.N2.fab_capex_usd_per_wpm") == 28e9 / 50_000

    def test_fab_opex_derivation(self, cat) -> None:
        # cash cost = (1 − 0.58 − 0.226) x wafer price = 0.194 x $20,000 = $3,880
        assert cat.number("nodes.N3.fab_opex_usd_per_wafer") == pytest.approx(0.194 * 20_000)

    def test_hbm_line(self, cat) -> None:
        # M15X: $14.6B / 32,000 wpm = $456,250 -> $456k per wpm
        assert cat.number("memory.hbm_line.capex_usd_per_wpm") == pytest.approx(456e3, rel=1e-3)
        for k in ("build_years", "ramp_years", "life_years", "opex_usd_per_wafer"):
            assert cat.number(f"memory.hbm_line.{k}") > 0
        assert cat.number("memory.hbm_line.stacking_cost_usd_per_stack") > 0

    @pytest.mark.parametrize("stem", ["nodes", "memory", "packaging", "accelerators"])
    def test_records_are_sourced(self, cat, stem: str) -> None:
        recs = [r for r in cat if r.id.startswith(stem + ".")]
        assert recs
        for r in recs:
            assert r.unit and r.source and r.conf, r.id
