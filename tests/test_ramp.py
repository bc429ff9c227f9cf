"""The ramp of a new part (lp/ramp.py, catalog accelerators.ramp): hand-worked rows and a
tiny LP whose optimum is known by hand, the sourced profile, and bad shares refused."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from fab2flop.catalog import Catalog, Record, load_catalog
from fab2flop.constants import Status
from fab2flop.errors import ScenarioError
from fab2flop.lp.ramp import ramp_pairs
from fab2flop.network import build_network
from fab2flop.optimizer import optimize
from fab2flop.roadmap import ramp_shares
from fab2flop.scenario import load_scenario

from .conftest import tiny_network

YEARS = np.arange(2025.0, 2031.0)  # 2025 .. 2030


def _ramp_catalog(first: float, second: float = 1.0) -> Catalog:
    recs = {
        f"accelerators.ramp.{k}": Record(
            id=f"accelerators.ramp.{k}", value=v, unit="1", year=2026, source="test"
        )
        for k, v in (("first_year_share", first), ("second_year_share", second))
    }
    return Catalog(recs, "test")


def test_rows_of_a_part_launched_inside_the_horizon():
    # launched 2026, bought to 2029, first-year share 0.3: one row, 2026 <= 0.3 x 2027
    assert ramp_pairs(YEARS, 1.0, 2026, 2029, (0.3,)) == [(1, 2, 0.3)]
    # launched before the start: its ramp is over
    assert ramp_pairs(YEARS, 1.0, 2023, None, (0.3,)) == []
    # launched in the last year: no later year to compare with, no row
    assert ramp_pairs(YEARS, 1.0, 2030, None, (0.3,)) == []
    # launched in the first year of the horizon: capped too
    assert ramp_pairs(YEARS, 1.0, 2025, None, (0.3,)) == [(0, 1, 0.3)]


def test_two_year_profile_and_a_short_window():
    # shares 0.2, 0.5, mature from year 3: 2026 <= 0.2 x 2028, 2027 <= 0.5 x 2028
    assert ramp_pairs(YEARS, 1.0, 2026, None, (0.2, 0.5)) == [(1, 3, 0.2), (2, 3, 0.5)]
    # bought only 2026-2027: year 2 stands in for maturity with the profile's shape,
    # 2026 <= (0.2 / 0.5) x 2027 = 0.4 x 2027
    assert ramp_pairs(YEARS, 1.0, 2026, 2027, (0.2, 0.5)) == [(1, 2, 0.2 / 0.5)]


def test_quarters_compare_the_same_quarter_a_year_later():
    q = 2025.0 + 0.25 * np.arange(12)  # 2025Q1 .. 2027Q4
    # launched 2026: its four quarters (4..7) each within 0.3 of the quarter a year later
    assert ramp_pairs(q, 0.25, 2026, None, (0.3,)) == [(t, t + 4, 0.3) for t in range(4, 8)]


def test_tiny_plan_ramps_by_hand():
    """X (1 H100e, 1 kW) first sold in 2025, 1,000 a year of allocation (storable), 10 MW
    of grid, money ample, no discount.

    Without a ramp: 1,000 bought each year -> installed 1,000, 2,000, 3,000.
    With a first-year share of 0.3, buying x1, x2, x3: maximise 3·x1 + 2·x2 + x3 with
    x1 ≤ 0.3·x2, x1 + x2 ≤ 2,000, x1 + x2 + x3 ≤ 3,000 (allocation carried over). With the
    last two binding the objective is x1 + 5,000, so x1 = 0.3·(2,000 − x1) ->
    x1 = 600 / 1.3 = 461.54 and installed 461.54, 2,000, 3,000.
    """
    net = tiny_network()
    free = optimize(net)
    np.testing.assert_allclose(free.dataset["compute_h100e"].values, [1000, 2000, 3000], rtol=1e-6)
    ramped = optimize(dataclasses.replace(net, catalog=_ramp_catalog(0.3)))
    assert ramped.status is Status.OPTIMAL
    np.testing.assert_allclose(
        ramped.dataset["compute_h100e"].values, [600 / 1.3, 2000, 3000], rtol=1e-6
    )
    fams = {b.constraint for b in ramped.bottlenecks}
    assert fams & {"design-ramp", "fleet-ramp"}, fams


def test_share_of_one_is_no_ramp():
    net = dataclasses.replace(tiny_network(), catalog=_ramp_catalog(1.0))
    res = optimize(net)
    np.testing.assert_allclose(res.dataset["compute_h100e"].values, [1000, 2000, 3000], rtol=1e-6)


def test_profile_is_the_sourced_median():
    # Epoch AI Chip Sales, first four quarters / peak four quarters (catalog note):
    # H100 0.09, TPU v5e 0.27, Trainium2 0.29, Blackwell 0.46, TPU v6e 0.58 -> median 0.29
    firsts = sorted([246_654 / 2_678_616, 424_335 / 1_543_807, 311_286 / 1_082_892,
                     2_257_909 / 4_946_638, 1_285_090 / 2_202_444])  # fmt: skip
    cat = load_catalog()
    rec = cat.record("accelerators.ramp.first_year_share")
    assert rec.value == pytest.approx(firsts[2], abs=0.015)
    assert rec.low == pytest.approx(firsts[0], abs=0.005)
    assert rec.high == pytest.approx(firsts[-1], abs=0.005)
    assert ramp_shares(cat) == (0.3,)


@pytest.mark.parametrize("bad", [1.5, -0.1])
def test_share_outside_unit_interval_is_refused(tmp_path, bad):
    f = tmp_path / "s.yaml"
    f.write_text(f"extends: default\ncatalog:\n  accelerators.ramp.first_year_share: {bad}\n")
    with pytest.raises(ScenarioError) as e:
        build_network(load_scenario(f))
    path, value, expected = e.value.problems[0]
    assert path == "catalog.accelerators.ramp.first_year_share"
    assert value == bad and "0" in expected and "1" in expected  # a share in [0, 1]


def test_default_own_plan_ramps_custom_v2():
    """Own designs only, to 2030: custom_v2 (first year 2028) deploys at most 0.3 of its
    2029 deployments in 2028 (before: 2.7M units in its first year, a 7x jump)."""
    res = optimize(load_scenario(None, ["time.end=2030", "accelerators.merchant=[]"]))
    inst = res.dataset["installed"].sum("region").sel(accelerator="custom_v2").values
    y = list(res.dataset["period"].values)
    d28 = inst[y.index(2028)]
    d29 = inst[y.index(2029)] - d28  # nothing retires within its first five years
    assert d28 > 0
    assert d28 <= 0.3 * d29 * (1 + 1e-6) + 1.0


@pytest.mark.parametrize("bad", [1.2, -0.5, float("nan")])
def test_ramp_shares_refuses_a_share_outside_unit_interval(bad):
    with pytest.raises(ScenarioError) as e:
        ramp_shares(_ramp_catalog(bad))
    assert e.value.problems[0][0] == "catalog.accelerators.ramp.first_year_share"


def test_two_year_profile_from_the_catalog():
    # first 0.2, second 0.6: two capped years; a second share of 1 ends the ramp after one
    assert ramp_shares(_ramp_catalog(0.2, 0.6)) == (0.2, 0.6)
    assert ramp_shares(_ramp_catalog(0.2, 1.0)) == (0.2,)


def test_a_disrupted_mature_year_drops_the_row():
    """An event that stops X's supplier in 2026 (availability 0): 2026 is no reference for
    2025, so 2025 is not capped (a plan committed to 2025 stays feasible)."""
    from fab2flop.lp.model import build_lp

    net = dataclasses.replace(tiny_network(), catalog=_ramp_catalog(0.3))
    assert "design-ramp" in build_lp(net).model.constraints
    ds = net.ds.copy(deep=True)
    p = list(ds.indexes["process"]).index("buy_X")
    ds["availability"].values[p, :, 1] = 0.0  # 2026
    lp = build_lp(dataclasses.replace(net, ds=ds))
    assert "design-ramp" not in lp.model.constraints
    assert "fleet-ramp" not in lp.model.constraints
