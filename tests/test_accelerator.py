"""The accelerator model: catalog parts, ad-hoc designs, costs and supply-chain coefficients."""

from __future__ import annotations

import json
import math

import pytest

from fab2flop.catalog import load_catalog
from fab2flop.components.accelerator import (
    AcceleratorSpec,
    Design,
    catalog_accelerators,
    design_from_catalog,
    evaluate,
    evaluate_catalog,
    make_design,
)
from fab2flop.errors import CatalogError, DesignError


@pytest.fixture(scope="module")
def cat():
    return load_catalog()


@pytest.fixture(scope="module")
def specs(cat) -> dict[str, AcceleratorSpec]:
    return evaluate_catalog(cat)


class TestCatalogParts:
    def test_names(self, cat) -> None:
        names = catalog_accelerators(cat)
        assert names == sorted(names)
        required = {"H100", "H200", "B200", "B300", "MI300X", "MI355X", "TPU_v6e", "TPU_v7"}
        required |= {"Trainium2", "Rubin", "custom_v1", "custom_v2", "custom_v3"}
        assert required <= set(names)
        assert "system" not in names and "defaults" not in names

    def test_kinds(self, specs) -> None:
        assert {specs[n].kind for n in ("TPU_v6e", "TPU_v7", "Trainium2")} == {"comparison"}
        assert {specs[n].kind for n in ("custom_v1", "custom_v2", "custom_v3")} == {"custom"}
        assert specs["H100"].kind == "merchant" and specs["H100"].price_usd == 25_000

    def test_h100_peak_from_units(self, specs) -> None:
        # 132 SMs x 4096 FLOP/clk x 1.83e9 = 989.43e12 (published 989 TF dense BF16)
        h = specs["H100"]
        assert h.flops_source == "units"
        assert h.flops_bf16_dense == pytest.approx(132 * 4096 * 1.83e9)
        assert h.flops_bf16_dense == pytest.approx(989e12, rel=1e-3)
        # FP8: 132 x 8192 x 1.83e9 = 1978.8e12 (published 1,979)
        assert h.flops_fp8_dense == pytest.approx(1979e12, rel=1e-3)
        assert h.flops_fp4_dense is None

    def test_h100_bandwidth_from_stacks(self, specs) -> None:
        # 5 x 1024 bit x 5.23 Gb/s / 8 = 3.3472e12 B/s (published 3.35 TB/s)
        h = specs["H100"]
        assert h.hbm_bandwidth_bytes_per_s == pytest.approx(3.3472e12, rel=1e-6)
        assert h.hbm_gb == 80 and h.hbm_stacks == 5 and h.hbm_stacks_mounted == 6

    def test_amd_peaks_from_units(self, specs) -> None:
        # MI300X: 304 CUs x 2048 x 2.1e9 = 1.3074432e15 (published 1,307 TF)
        assert specs["MI300X"].flops_bf16_dense == pytest.approx(1.3074432e15)
        # MI355X: 256 x 4096 x 2.4e9 = 2.51658e15 (2,517); FP8 x 2 = 5.0332e15 (5,033)
        assert specs["MI355X"].flops_bf16_dense == pytest.approx(2.51658e15, rel=1e-5)
        assert specs["MI355X"].flops_fp8_dense == pytest.approx(5.033e15, rel=1e-3)

    def test_model_reproduces_published_figures(self, cat, specs) -> None:
        for name, s in specs.items():
            for prec in ("bf16", "fp8", "fp4"):
                rid = f"accelerators.{name}.flops_{prec}_dense"
                if rid in cat and s.flops(prec) is not None:
                    assert s.flops(prec) == pytest.approx(cat.number(rid), rel=2e-3), rid
            rid = f"accelerators.{name}.hbm_bandwidth_bytes_per_s"
            if rid in cat:  # own designs have no published figure
                assert s.hbm_bandwidth_bytes_per_s == pytest.approx(cat.number(rid), rel=6e-3)
            # every catalog part publishes its TDP: none may fall back to the estimate
            assert not any("TDP not given" in n for n in s.notes), name

    def test_unknown_silicon_is_left_empty(self, specs) -> None:
        for name in ("TPU_v6e", "TPU_v7", "Trainium2"):
            s = specs[name]
            assert s.die_area_mm2 is None and s.good_dies_per_wafer is None
            assert s.unit_cost_usd is None and s.markup is None and s.wafers_per_unit == {}
            assert s.flops_bf16_dense is not None and s.flops_source == "published"
        assert specs["TPU_v6e"].flops_bf16_dense == 918e12

    def test_h100_kw_all_in(self, specs) -> None:
        # (0.7 kW TDP + 0.52 kW host share) x 1.05 network = 1.281 kW
        # (DGX H100: 10.2 kW / 8 = 1.275 kW)
        assert specs["H100"].kw_it_per_unit == pytest.approx(1.281)

    def test_markup_only_where_a_price_meets_a_cost(self, specs) -> None:
        # a markup needs both a market price and a bottom-up cost: merchant parts have one
        # (and sell above cost), own designs (no price) and comparison parts (no cost) none
        for s in specs.values():
            if s.kind == "merchant":
                assert s.markup is not None and s.markup > 1, s.name
            else:
                assert s.markup is None, s.name
        # Nvidia's H100 margin is ~85-88% (SemiAnalysis, Silicon Analysts; semiconductors.md 2.11)
        assert 0.83 < 1 - 1 / specs["H100"].markup < 0.90

    def test_bottom_up_costs_near_published_estimates(self, specs) -> None:
        # Raymond James / Silicon Analysts: H100 ~$3,320; Silicon Analysts: B200 ~$6,400,
        # MI300X ~$5,300 (docs/accelerator-model.md compares them line by line)
        assert specs["H100"].unit_cost_usd == pytest.approx(3320, rel=0.15)
        assert specs["B200"].unit_cost_usd == pytest.approx(6400, rel=0.15)
        assert specs["MI300X"].unit_cost_usd == pytest.approx(5300, rel=0.2)


class TestBillOfMaterials:
    def test_h100_poisson_by_hand(self, cat) -> None:
        # H100 without harvesting, Poisson yield:
        #   gross 60 (814 mm² + 0.1 mm scribe on 294 mm usable); yield e^(−8.14·0.07) = 0.565639
        #   good 33.938; die $16,000 / 33.938 = $471.44
        #   interposer (814 + 6·121)·1.1 = 1,694 mm² -> 29 sites; CoWoS $20,000 / 29 = $689.66
        #   HBM 6 mounted x $200 = $1,200
        #   substrate $200·1694/1700 = $199.29 + test $300 + assembly $300 = $799.29 / 0.95
        #   yield loss (1/0.95 − 1)·(471.44 + 1200 + 689.66)
        d = design_from_catalog("H100", cat, yield_model="poisson", compute_unit_area_mm2=None)
        s = evaluate(d, cat)
        y = math.exp(-8.14 * 0.07)
        die = 16_000 / (60 * y)
        pkg = 20_000 / 29
        sta = (200 * 1694 / 1700 + 300 + 300) / 0.95
        loss = (1 / 0.95 - 1) * (die + 1200 + pkg)
        b = s.cost_breakdown
        assert s.gross_dies_per_wafer == 60 and s.die_yield == pytest.approx(y)
        assert s.packages_per_packaging_wafer == 29
        assert b["logic_dies"] == pytest.approx(die)
        assert b["hbm"] == pytest.approx(1200)
        assert b["packaging"] == pytest.approx(pkg)
        assert b["substrate_test_assembly"] == pytest.approx(sta)
        assert b["yield_loss"] == pytest.approx(loss)
        assert b["nre"] == 0 and b["io_dies"] == 0
        assert s.unit_cost_usd == pytest.approx(die + 1200 + pkg + sta + loss)
        # coefficients: 1/(33.938 · 0.95) N4 wafers, 6/0.95 stacks, 1/(29 · 0.95) CoWoS wafers
        assert s.wafers_per_unit == {"N4": pytest.approx(1 / (60 * y * 0.95))}
        assert s.hbm_stacks_per_unit == pytest.approx(6 / 0.95)
        assert s.packaging_wafers_per_unit == pytest.approx(1 / (29 * 0.95))

    def test_breakdown_items_and_yield_loss(self, specs) -> None:
        # the yield loss is the share of packaged units that fail (1/y - 1) applied to
        # everything put into a package attempt: dies, HBM and the interposer
        for s in specs.values():
            if s.unit_cost_usd is not None:
                b = s.cost_breakdown
                attempt = b["logic_dies"] + b["io_dies"] + b["hbm"] + b["packaging"]
                loss = (1 / s.packaging_yield - 1) * attempt
                assert b["yield_loss"] == pytest.approx(loss), s.name
                assert all(v >= 0 for v in b.values()), s.name
                assert set(s.cost_breakdown) == {
                    "logic_dies",
                    "io_dies",
                    "hbm",
                    "packaging",
                    "substrate_test_assembly",
                    "yield_loss",
                    "nre",
                }

    def test_coefficients_price_back_to_unit_cost(self, cat, specs) -> None:
        # what the optimiser pays (wafers, stacks, packaging wafers at market price, plus
        # assembly and NRE per unit) is the bottom-up unit cost
        for s in specs.values():
            if s.unit_cost_usd is None:
                continue
            total = sum(
                w * cat.number(f"nodes.{n}.wafer_price_usd") for n, w in s.wafers_per_unit.items()
            )
            total += s.hbm_stacks_per_unit * cat.number(
                f"memory.{s.hbm_generation}.stack_price_usd"
            )
            total += s.packaging_wafers_per_unit * cat.number("packaging.cowos.price_usd_per_wafer")
            total += s.assembly_cost_usd + (s.nre_usd / s.volume_units if s.volume_units else 0)
            assert total == pytest.approx(s.unit_cost_usd), s.name

    def test_io_dies_have_their_own_wafers(self, specs) -> None:
        mi = specs["MI300X"]
        assert set(mi.wafers_per_unit) == {"N5", "N6"}
        assert mi.cost_breakdown["io_dies"] > 0
        # XCDs sit on the IODs: interposer = (4 x 370 + 8 x 121) x 1.1 = 2,692.8 mm²
        assert mi.interposer_area_mm2 == pytest.approx(2692.8)

    def test_nre_amortised(self, specs) -> None:
        # $500M / 1,000,000 units = $500 per unit
        assert specs["custom_v1"].cost_breakdown["nre"] == pytest.approx(500.0)

    def test_harvesting_lowers_cost(self, cat) -> None:
        with_spares = evaluate(design_from_catalog("H100", cat), cat)
        without = evaluate(design_from_catalog("H100", cat, compute_units_enabled=144), cat)
        assert with_spares.die_yield > without.die_yield
        assert with_spares.unit_cost_usd < without.unit_cost_usd


class TestDesigns:
    def test_overrides_change_the_plan(self, cat) -> None:
        base = evaluate(design_from_catalog("custom_v1", cat), cat)
        more = evaluate(
            design_from_catalog(
                "custom_v1",
                cat,
                compute_dies=3,
                compute_units=72,
                compute_units_enabled=66,
                packaging="auto",
            ),
            cat,
        )
        assert more.packaging == "cowos_l"
        assert more.wafers_per_unit["N3"] > base.wafers_per_unit["N3"]
        assert more.flops_bf16_dense > base.flops_bf16_dense

    def test_full_dict_roundtrip(self, cat) -> None:
        d = design_from_catalog("MI300X", cat)
        again = Design.model_validate(d.model_dump())
        assert again == d
        assert evaluate(again, cat).unit_cost_usd == pytest.approx(evaluate(d, cat).unit_cost_usd)

    def test_io_dies_as_triples(self) -> None:
        d = make_design(
            node="N5",
            die_area_mm2=115,
            compute_dies=8,
            tdp_w=750,
            io_dies=[("N6", 370, 4)],
            stacked_on_io=True,
        )
        assert d.io_dies[0].node == "N6" and d.io_dies[0].count == 4

    def test_density_estimate_for_bare_designs(self, cat) -> None:
        # N3: 1,192 FLOP/clk/mm² x 800 mm² x 2 dies x 1.8 GHz = 3.43296e15
        d = make_design(
            node="N3",
            die_area_mm2=800,
            compute_dies=2,
            hbm_generation="hbm3e",
            hbm_stacks=8,
            tdp_w=1000,
        )
        s = evaluate(d, cat)
        assert s.flops_source == "density_estimate"
        assert s.flops_bf16_dense == pytest.approx(3.43296e15)
        assert s.flops_fp8_dense == pytest.approx(2 * 3.43296e15)
        # 8 x 1024 bit x 9.2 Gb/s / 8 = 9.4208e12; 8 x 36 GB = 288 GB
        assert s.hbm_bandwidth_bytes_per_s == pytest.approx(9.4208e12)
        assert s.hbm_gb == 288
        # first volume: max(N3 2023, HBM3E 2024) = 2024
        assert s.available_from == 2024

    def test_auto_packaging(self, cat) -> None:
        # 2 x 800 + 8 x 121 -> 2,824.8 mm² ≤ 3.3 x 858 = 2,831.4: CoWoS-S; 10 stacks:
        # (1600 + 1210) x 1.1 = 3,091 mm² = 3.6 reticles: CoWoS-L (5.5 reticles from 2026)
        kw = dict(
            node="N3",
            die_area_mm2=800,
            compute_dies=2,
            hbm_generation="hbm3e",
            tdp_w=1e3,
            available_from=2026,
        )
        assert evaluate(make_design(hbm_stacks=8, **kw), cat).packaging == "cowos_s"
        assert evaluate(make_design(hbm_stacks=10, **kw), cat).packaging == "cowos_l"

    def test_to_dict_is_json(self, specs) -> None:
        d = json.loads(json.dumps(specs["B200"].to_dict()))
        for key in (
            "die_area_mm2",
            "node",
            "good_dies_per_wafer",
            "unit_cost_usd",
            "cost_breakdown",
            "flops_bf16_dense",
            "hbm_bandwidth_bytes_per_s",
            "tdp_w",
            "packages_per_packaging_wafer",
            "wafers_per_unit",
            "kw_it_per_unit",
        ):
            assert key in d
        # 8 stacks x 24 GB (8-high HBM3E) x $15.4/GB (memory.hbm3e.price_usd_per_gb_8hi)
        assert d["cost_breakdown"]["hbm"] == pytest.approx(8 * 24 * 15.4)


class TestErrors:
    def test_die_above_reticle(self, cat) -> None:
        with pytest.raises(DesignError, match=r"die_area_mm2=900 exceeds the reticle limit"):
            evaluate(design_from_catalog("custom_v1", cat, die_area_mm2=900), cat)

    def test_negative_area(self, cat) -> None:
        with pytest.raises(DesignError, match=r"die_area_mm2=-5.*greater than 0"):
            design_from_catalog("custom_v1", cat, die_area_mm2=-5)

    def test_unknown_node_lists_known(self, cat) -> None:
        with pytest.raises(DesignError, match=r"node='N1'.*known nodes: .*N3"):
            evaluate(design_from_catalog("custom_v1", cat, node="N1"), cat)

    def test_unknown_io_node(self, cat) -> None:
        with pytest.raises(DesignError, match=r"io_dies.node='N9'"):
            evaluate(design_from_catalog("MI300X", cat, io_dies=[("N9", 370, 4)]), cat)

    def test_unknown_field(self, cat) -> None:
        with pytest.raises(DesignError, match="colour"):
            design_from_catalog("custom_v1", cat, colour="blue")

    def test_unknown_accelerator(self, cat) -> None:
        with pytest.raises(CatalogError, match=r"'X100'.*H100"):
            design_from_catalog("X100", cat)

    def test_interposer_too_large_for_the_year(self, cat) -> None:
        # 3,091 mm² = 3.6 reticles > CoWoS-L's 3.5 in 2024 (5.5 from 2026)
        kw = dict(
            node="N3",
            die_area_mm2=800,
            compute_dies=2,
            hbm_generation="hbm3e",
            tdp_w=1e3,
            hbm_stacks=10,
            packaging="cowos_l",
        )
        with pytest.raises(DesignError, match="cowos_l limit of 3.5 reticles.*2024"):
            evaluate(make_design(available_from=2024, **kw), cat)
        assert evaluate(make_design(available_from=2026, **kw), cat).packaging == "cowos_l"

    def test_interposer_too_large(self, cat) -> None:
        # 4 x 800 + 8 x 121 -> 4,585 mm² = 5.3 reticles > CoWoS-S 3.3
        with pytest.raises(DesignError, match="cowos_s limit.*cowos_l"):
            evaluate(
                design_from_catalog(
                    "custom_v1",
                    cat,
                    compute_dies=4,
                    compute_units=96,
                    compute_units_enabled=88,
                    packaging="cowos_s",
                ),
                cat,
            )

    def test_nre_needs_volume(self, cat) -> None:
        with pytest.raises(DesignError, match="volume_units"):
            evaluate(make_design(node="N3", die_area_mm2=500, tdp_w=500, nre_usd=1e8), cat)

    def test_inconsistent_units(self) -> None:
        with pytest.raises(DesignError, match="compute_units_enabled=150 exceeds"):
            make_design(
                node="N4", die_area_mm2=800, tdp_w=700, compute_units=144, compute_units_enabled=150
            )


def test_tdp_is_estimated_from_flops_when_not_given():
    """N3 at 0.556 W per dense BF16 TFLOP/s (MI355X: 1,400 W / 2,517 TF): a design with
    3,000 TFLOP/s published and no TDP gets 3,000 x 0.556 = 1,668 W."""
    from fab2flop.catalog import load_catalog
    from fab2flop.components.accelerator import evaluate, make_design

    d = make_design(
        name="x",
        node="N3",
        die_area_mm2=600,
        compute_dies=1,
        hbm_generation="hbm3e",
        hbm_stacks=4,
        flops_bf16_dense=3.0e15,
    )
    spec = evaluate(d, load_catalog())
    assert spec.tdp_w == pytest.approx(1668.0, rel=1e-3)
    assert any("TDP not given" in n for n in spec.notes)
