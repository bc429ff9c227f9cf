"""Silicon: dies per wafer, yield models, harvesting, reticle limit, die cost.

Every expected number is worked out by hand in the comment beside it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from fab2flop.components.chip import (
    binomial_at_most,
    check_reticle,
    die_cost_usd,
    die_footprint_mm2,
    die_yield,
    estimate_die,
    gross_dies_per_wafer,
    harvested_yield,
    murphy_yield,
    negative_binomial_yield,
    poisson_yield,
    sites_per_wafer,
)
from fab2flop.errors import DesignError


class TestGrossDies:
    def test_100_mm2(self) -> None:
        # π·150²/100 = 706.858; π·300/√200 = 942.478/14.142 = 66.643; 640.2 -> 640
        assert gross_dies_per_wafer(100.0) == 640.0

    def test_h100_die_matches_reference_table(self) -> None:
        # π·22500/814 = 86.838; π·300/√1628 = 942.478/40.349 = 23.358; 63.48 -> 63
        # (semiconductors.md §1 derived table: ≈63)
        assert gross_dies_per_wafer(814.0) == 63.0

    def test_800_mm2(self) -> None:
        # π·22500/800 = 88.357; 942.478/√1600 = 23.562; 64.8 -> 64
        assert gross_dies_per_wafer(800.0) == 64.0

    def test_edge_exclusion_and_scribe(self) -> None:
        # footprint (√814 + 0.1)² = 28.6307² = 819.72 mm²; d = 300 − 2·3 = 294 mm
        # π·147²/819.72 = 67886.7/819.72 = 82.82; π·294/√1639.4 = 923.63/40.49 = 22.81
        # 82.82 − 22.81 = 60.0 -> 60
        assert round(die_footprint_mm2(814.0, 0.1), 2) == 819.72
        assert gross_dies_per_wafer(814.0, 300.0, 3.0, 0.1) == 60.0

    def test_arrays_broadcast(self) -> None:
        out = gross_dies_per_wafer(np.array([100.0, 814.0]))
        assert isinstance(out, np.ndarray)
        assert out.tolist() == [640.0, 63.0]

    def test_nonpositive_area_is_an_error(self) -> None:
        with pytest.raises(DesignError, match="die_area_mm2"):
            gross_dies_per_wafer(-5.0)


class TestSitesPerWafer:
    def test_four_squares_in_a_small_circle(self) -> None:
        # radius 15 mm: a 2x2 block of 10 mm squares has corners at √(10²+10²) = 14.14 < 15;
        # a row of 3 needs 30 mm but the widest chord of a 10 mm-high row is 2·√(15²−5²) = 28.3
        assert sites_per_wafer(10.0, 10.0, 30.0) == 4.0

    def test_long_thin_sites(self) -> None:
        # 100 mm wafer, 60 x 10 mm sites: a row fits one site where its far edge has
        # |y| ≤ √(50² − 30²) = 40, i.e. 8 rows of 10 mm between −40 and +40; two sites need
        # 120 mm > 100 mm
        assert sites_per_wafer(60.0, 10.0, 100.0) == 8.0

    def test_at_least_the_formula_for_squares(self) -> None:
        # the exact count can only beat the conservative textbook formula
        for side in (5.0, 10.0, 20.0, 29.0):
            assert sites_per_wafer(side, side) >= gross_dies_per_wafer(side * side)


class TestYieldModels:
    def test_poisson_reference_values(self) -> None:
        # semiconductors.md §1 table: H100 814 mm² at D0 0.05 / 0.10 -> 67% / 44%
        # exp(−8.14·0.05) = exp(−0.407) = 0.6656; exp(−0.814) = 0.4431
        assert poisson_yield(814.0, 0.05) == pytest.approx(0.6656, abs=1e-4)
        assert poisson_yield(814.0, 0.10) == pytest.approx(0.4431, abs=1e-4)
        # good dies: 63 x 0.6656 = 41.9 ≈ 42; 63 x 0.4431 = 27.9 ≈ 28 (reference ≈42 / ≈28)
        assert 63 * poisson_yield(814.0, 0.05) == pytest.approx(42, abs=0.5)
        assert 63 * poisson_yield(814.0, 0.10) == pytest.approx(28, abs=0.5)

    def test_murphy(self) -> None:
        # λ = 1: ((1 − e^−1)/1)² = 0.632121² = 0.399577
        assert murphy_yield(100.0, 1.0) == pytest.approx(0.399577, abs=1e-6)

    def test_negative_binomial(self) -> None:
        # λ = 1, α = 2: (1 + 1/2)^−2 = 0.444444
        assert negative_binomial_yield(100.0, 1.0, 2.0) == pytest.approx(4 / 9)
        # α -> ∞ recovers Poisson: e^−1
        assert negative_binomial_yield(100.0, 1.0, 1e9) == pytest.approx(math.exp(-1), rel=1e-6)

    def test_zero_defects_yield_one(self) -> None:
        for model in ("poisson", "murphy", "negative_binomial"):
            assert die_yield(500.0, 0.0, model) == pytest.approx(1.0)

    def test_order_clustered_above_random(self) -> None:
        # for the same mean defects, clustering leaves more dies clean: NB ≥ Murphy ≥ Poisson
        p, m, nb = (die_yield(814.0, 0.1, k) for k in ("poisson", "murphy", "negative_binomial"))
        assert nb > m > p

    def test_unknown_model(self) -> None:
        with pytest.raises(DesignError, match="yield_model='seeds'.*poisson"):
            die_yield(100.0, 0.1, "seeds")

    def test_vectorised(self) -> None:
        y = poisson_yield(np.array([100.0, 200.0]), 1.0)
        assert y == pytest.approx([math.exp(-1), math.exp(-2)])


class TestHarvesting:
    def test_binomial_at_most(self) -> None:
        # n = 3, p = 0.5: P(X ≤ 1) = (1 + 3)/8 = 0.5
        assert binomial_at_most(3, 1, 0.5) == pytest.approx(0.5)

    def test_poisson_two_units_one_spare(self) -> None:
        # y_u = e^−0.5 = 0.606531; P(≤1 of 2 bad) = 1 − (1 − y_u)² = 1 − 0.393469² = 0.845182
        assert harvested_yield(100.0, 1.0, 2, 1, 50.0, "poisson") == pytest.approx(0.845182, 1e-5)

    def test_poisson_with_uncore(self) -> None:
        # 150 mm² die: uncore 50 mm² yields e^−0.5 = 0.606531; x 0.845182 = 0.512627
        assert harvested_yield(150.0, 1.0, 2, 1, 50.0, "poisson") == pytest.approx(0.512627, 1e-5)

    def test_negative_binomial_keeps_clustering(self) -> None:
        # n = 2, s = 1: P(ok) = E[e^−D·Au (2e^−Da − e^−2Da)] = 2·Y(Au + a) − Y(Au + 2a)
        # NB α = 2, D0 = 1/cm², Au = a = 50 mm²: Y(1 cm²) = 1.5^−2 = 0.444444,
        # Y(1.5 cm²) = 1.75^−2 = 0.326531 -> 2·0.444444 − 0.326531 = 0.562358
        y = harvested_yield(150.0, 1.0, 2, 1, 50.0, "negative_binomial", alpha=2.0)
        assert y == pytest.approx(0.562358, abs=1e-5)

    def test_murphy_keeps_clustering(self) -> None:
        # as above with Murphy: Y(1) = 0.399577; Y(1.5) = ((1 − e^−1.5)/1.5)² = 0.268234
        # 2·0.399577 − 0.268234 = 0.530920
        y = harvested_yield(150.0, 1.0, 2, 1, 50.0, "murphy")
        assert y == pytest.approx(0.530920, abs=1e-5)

    @pytest.mark.parametrize("model", ["poisson", "murphy", "negative_binomial"])
    def test_no_spares_equals_plain_yield(self, model: str) -> None:
        plain = die_yield(814.0, 0.07, model)
        assert harvested_yield(814.0, 0.07, 144, 0, 3.0, model) == pytest.approx(plain, 1e-9)

    def test_h100_spares_raise_yield(self) -> None:
        # 12 spare SMs of 144 recover most dies whose only defects hit an SM
        plain = die_yield(814.0, 0.07)
        harvested = harvested_yield(814.0, 0.07, 144, 12, 3.0)
        assert harvested > plain + 0.1

    def test_units_larger_than_die(self) -> None:
        with pytest.raises(DesignError, match="more than the die area"):
            harvested_yield(100.0, 0.1, 20, 1, 10.0)


class TestReticleAndCost:
    def test_reticle_limit_message(self) -> None:
        with pytest.raises(DesignError) as err:
            check_reticle(900.0)
        msg = str(err.value)
        assert "die_area_mm2=900" in msg and "858" in msg and "compute_dies" in msg

    def test_at_the_limit_is_fine(self) -> None:
        check_reticle(858.0)

    def test_negative_area(self) -> None:
        with pytest.raises(DesignError, match="die_area_mm2=-1"):
            check_reticle(-1.0)

    def test_die_cost(self) -> None:
        # szyunze (semiconductors.md §1 note): $13,400 / 65 good dies ≈ $206
        assert die_cost_usd(13400.0, 65.0) == pytest.approx(206.15, abs=0.01)

    def test_estimate_die(self) -> None:
        # 100 mm², Poisson D0 0.1: 640 gross; yield e^−0.1 = 0.904837; good 579.1;
        # cost 10,000 / 579.1 = $17.27
        e = estimate_die(100.0, 0.1, 10_000.0, model="poisson")
        assert e.gross_dies_per_wafer == 640.0
        assert e.die_yield == pytest.approx(0.904837, abs=1e-6)
        assert e.good_dies_per_wafer == pytest.approx(579.10, abs=0.01)
        assert e.die_cost_usd == pytest.approx(17.268, abs=0.001)
