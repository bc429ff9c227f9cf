"""Sampling: inverse CDFs worked by hand, rank correlation, event draws, same seed → same data."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from fab2flop.constants import SAMPLE
from fab2flop.risk.resolve import ResolvedEvent, resolve_uncertainty
from fab2flop.risk.sampling import (
    draw_event,
    iman_conover,
    ppf,
    sample_inputs,
    sample_uncertainty,
    unit_points,
)
from fab2flop.risk.uncertainty import DistSpec, validate_uncertainty

from .test_uncertainty import CAT, KNOWN_EVENTS


def D(**kw):
    return DistSpec(**kw)


@pytest.mark.parametrize(
    ("dist", "u", "expected"),
    [
        # triangular(0, 2, 10): F(mode) = 2/10 = 0.2; below it x = sqrt(u (b-a)(c-a))
        (D(low=0, mode=2, high=10), 0.05, 1.0),  # sqrt(0.05 * 10 * 2) = 1
        (D(low=0, mode=2, high=10), 0.2, 2.0),  # the mode
        (D(low=0, mode=2, high=10), 0.6, 10 - np.sqrt(32)),  # 10 - sqrt(0.4 * 10 * 8)
        (D(low=0, mode=0, high=1), 0.75, 0.5),  # 1 - sqrt(1 - 0.75)
        (D(dist="uniform", low=2, high=6), 0.25, 3.0),  # 2 + 0.25 * 4
        # PERT(0, 0, 1): beta(1, 5), CDF 1 - (1 - x)^5, so x = 0.5 at u = 1 - 0.5^5
        (D(dist="pert", low=0, mode=0, high=1), 1 - 0.5**5, 0.5),
        (D(dist="pert", low=10, mode=15, high=20), 0.5, 15.0),  # symmetric: median = mode
        # lognormal with 90% interval [1, 100]: median sqrt(1 * 100) = 10, 95th pct 100
        (D(dist="lognormal", low=1, high=100), 0.5, 10.0),
        (D(dist="lognormal", low=1, high=100), 0.95, 100.0),
        (D(dist="lognormal", low=1, high=100), 0.05, 1.0),
        (D(dist="lognormal", mu=np.log(3), sigma=0.5), 0.5, 3.0),  # median exp(mu)
        # discrete 4, 5, 6 with weights 1, 2, 1: cumulative 0.25, 0.75, 1
        (D(dist="discrete", values=[4, 5, 6], weights=[1, 2, 1]), 0.2, 4.0),
        (D(dist="discrete", values=[4, 5, 6], weights=[1, 2, 1]), 0.5, 5.0),
        (D(dist="discrete", values=[4, 5, 6], weights=[1, 2, 1]), 0.8, 6.0),
        (D(dist="constant", value=7), 0.3, 7.0),
    ],
)
def test_inverse_cdfs_by_hand(dist, u, expected):
    assert ppf(dist, np.array([u]))[0] == pytest.approx(expected, rel=1e-9)


def test_sobol_sample_mean_of_triangular():
    # mean of triangular(a, c, b) = (a + b + c) / 3 = (0 + 2 + 10) / 3 = 4
    u = unit_points(4096, 1, "sobol", seed=3)[:, 0]
    assert ppf(D(low=0, mode=2, high=10), u).mean() == pytest.approx(4.0, abs=0.01)


@pytest.mark.parametrize("method", ["sobol", "lhs", "random"])
def test_unit_points_are_seeded_and_inside_the_cube(method):
    a = unit_points(100, 5, method, seed=42)
    b = unit_points(100, 5, method, seed=42)
    c = unit_points(100, 5, method, seed=43)
    assert a.shape == (100, 5) and np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.min() > 0 and a.max() < 1


def test_lhs_puts_one_point_in_each_stratum():
    u = unit_points(50, 3, "lhs", seed=1)
    for j in range(3):
        assert sorted(np.floor(u[:, j] * 50).astype(int)) == list(range(50))


def test_iman_conover_induces_rank_correlation_and_keeps_marginals():
    rng = np.random.default_rng(0)
    u = rng.random((2000, 3))
    target = np.array([[1.0, 0.8, -0.4], [0.8, 1.0, -0.3], [-0.4, -0.3, 1.0]])
    out = iman_conover(u, target, np.random.default_rng(1))
    for j in range(3):  # each column keeps its values: only the pairing changes
        assert np.array_equal(np.sort(out[:, j]), np.sort(u[:, j]))
    rho = stats.spearmanr(out).statistic
    assert np.abs(rho - target).max() < 0.04


def test_correlation_group_in_a_sample():
    unc = validate_uncertainty(
        {
            "samples": 1024,
            "seed": 5,
            "catalog_ranges": True,
            "correlations": [{"parameters": ["nodes.*.wafer_price_usd"], "rho": 0.9}],
        }
    )
    ds = sample_uncertainty(resolve_uncertainty(unc, CAT, events_catalog=None))
    a, b = ds["nodes.N2.wafer_price_usd"].values, ds["nodes.N3.wafer_price_usd"].values
    assert stats.spearmanr(a, b).statistic == pytest.approx(0.9, abs=0.03)
    other = ds["nodes.N3.defect_density_per_cm2"].values
    assert abs(stats.spearmanr(a, other).statistic) < 0.1  # untouched by the group


def ev(**kw):
    base = dict(
        name="x",
        kind=None,
        probability=None,
        probability_per_year=None,
        start=None,
        duration_years=D(dist="constant", value=1.0),
        fraction=D(dist="constant", value=1.0),
    )
    return ResolvedEvent(**{**base, **kw})


def test_event_per_year_starts_in_its_first_year_of_success():
    # p = 0.5 a year over 2025..2027: start k = floor(ln(1-u) / ln(0.5)), occurs if u < 1 - 0.5^3
    u = np.array([[0.3, 0.5, 0.5], [0.6, 0.5, 0.5], [0.8, 0.5, 0.5], [0.9, 0.5, 0.5]])
    out = draw_event(ev(probability_per_year=0.5), u, (2025, 2027))
    # ln(0.7)/ln(0.5) = 0.51 → 2025; ln(0.4)/ln(0.5) = 1.32 → 2026; ln(0.2)/ln(0.5) = 2.32 → 2027
    assert out["occurs"].tolist() == [True, True, True, False]  # 0.9 >= 0.875
    assert out["start"][:3].tolist() == [2025, 2026, 2027] and np.isnan(out["start"][3])


def test_event_over_the_horizon_draws_start_from_u_over_p():
    # p = 0.4 over 2025..2034 (10 years): occurs if u < 0.4; start = 2025 + floor(10 u / 0.4)
    u = np.array([[0.02, 0.5, 0.5], [0.39, 0.5, 0.5], [0.41, 0.5, 0.5]])
    dur = D(dist="uniform", low=1, high=3)
    out = draw_event(ev(probability=0.4, duration_years=dur), u, (2025, 2034))
    assert out["occurs"].tolist() == [True, True, False]
    assert out["start"][:2].tolist() == [2025, 2034]  # 10·0.05 = 0.5 → 0; 10·0.975 → 9
    assert out["duration_years"][:2].tolist() == [2.0, 2.0]  # 1 + 0.5 · 2


def test_event_frequencies_match_their_probabilities():
    unc = validate_uncertainty(
        {
            "samples": 8192,
            "seed": 11,
            "events": [
                {"name": "taiwan_blockade", "probability_per_year": 0.1},
                {
                    "name": "hbm_price_spike",
                    "probability": 0.3,
                    "start": {"dist": "uniform", "low": 2027, "high": 2030},
                    "fraction": {"dist": "uniform", "low": 0.2, "high": 0.6},
                },
            ],
        }
    )
    res = resolve_uncertainty(unc, CAT, horizon=(2025, 2034), events_catalog=KNOWN_EVENTS)
    ds = sample_uncertainty(res)
    tw = ds["event.taiwan_blockade.occurs"].values
    assert tw.mean() == pytest.approx(1 - 0.9**10, abs=0.01)  # 0.6513
    first = ds["event.taiwan_blockade.start"].values == 2025
    assert first.mean() == pytest.approx(0.1, abs=0.01)  # P(start in year 1) = p
    hbm = ds["event.hbm_price_spike.occurs"].values
    assert hbm.mean() == pytest.approx(0.3, abs=0.01)
    starts = ds["event.hbm_price_spike.start"].values[hbm]
    assert set(starts.tolist()) == {2027, 2028, 2029}  # floor of uniform [2027, 2030)
    frac = ds["event.hbm_price_spike.fraction"].values[hbm]
    assert frac.min() >= 0.2 and frac.max() <= 0.6 and frac.mean() == pytest.approx(0.4, abs=0.01)
    assert np.isnan(ds["event.hbm_price_spike.fraction"].values[~hbm]).all()


def sampled(seed=7, samples=64):
    unc = validate_uncertainty(
        {
            "samples": samples,
            "seed": seed,
            "catalog_ranges": True,
            "correlations": [{"parameters": ["nodes.*.wafer_price_usd"], "rho": 0.5}],
            "events": [{"name": "taiwan_blockade", "probability": 0.5, "kind": "outage"}],
        }
    )
    return sample_uncertainty(resolve_uncertainty(unc, CAT, events_catalog=KNOWN_EVENTS))


def test_same_seed_gives_identical_samples():
    a, b, c = sampled(7), sampled(7), sampled(8)
    assert a.identical(b)
    assert not a["nodes.N3.wafer_price_usd"].equals(c["nodes.N3.wafer_price_usd"])


def test_dataset_carries_units_and_bounds():
    ds = sampled()
    assert ds.sizes[SAMPLE] == 64
    price = ds["nodes.N3.wafer_price_usd"]
    assert price.attrs["units"] == "USD/wafer" and price.attrs["kind"] == "catalog"
    assert price.min() >= 18000 and price.max() <= 27000
    life = ds["nodes.N3.fab_life_years"].values
    assert np.array_equal(life, np.round(life)) and life.min() >= 10 and life.max() <= 20
    assert ds["supply.grid_mw"].attrs["units"] == "1"
    assert ds["event.taiwan_blockade.start"].attrs["units"] == "year"


def test_sample_inputs_turn_a_row_into_overrides_and_events():
    ds = sampled()
    occurs = ds["event.taiwan_blockade.occurs"].values
    i, j = int(np.argmax(occurs)), int(np.argmin(occurs))
    inp = sample_inputs(ds, i)
    f = float(ds["supply.grid_mw"][i])
    assert inp.catalog_overrides["supply.grid_mw"] == {2025: 100 * f, 2030: 400 * f}
    assert inp.catalog_overrides["nodes.N3.wafer_price_usd"] == float(
        ds["nodes.N3.wafer_price_usd"][i]
    )
    assert inp.scenario_overrides == {}
    (event,) = inp.events
    assert event["name"] == "taiwan_blockade" and event["kind"] == "outage"
    assert event["start"] == int(ds["event.taiwan_blockade.start"][i])
    assert isinstance(event["start"], int) and event["fraction"] == 1.0
    assert sample_inputs(ds, j).events == []
    CAT.with_overrides(inp.catalog_overrides)  # the catalog takes them as they are


def test_scenario_overrides_for_path_parameters():
    unc = validate_uncertainty(
        {
            "samples": 4,
            "parameters": [
                {"path": "budget.total_usd", "dist": "uniform", "low": 1e12, "high": 2e12}
            ],
        }
    )
    res = resolve_uncertainty(unc, CAT, {"budget": {"total_usd": 1.5e12}}, events_catalog=None)
    inp = sample_inputs(sample_uncertainty(res), 0)
    assert list(inp.scenario_overrides) == ["budget.total_usd"]
    assert 1e12 <= inp.scenario_overrides["budget.total_usd"] <= 2e12


def test_a_start_drawn_after_the_horizon_is_no_event_in_it():
    # p = 0.5, start uniform 2026..2031 (years 2026..2030 equally likely), horizon 2025..2027:
    # u = 0.1 → u/p = 0.2 → 2026 + floor(0.2·5) = 2027 (in); u = 0.3 → 0.6 → 2029 (out)
    u = np.array([[0.1, 0.5, 0.5], [0.3, 0.5, 0.5], [0.7, 0.5, 0.5]])
    start = D(dist="uniform", low=2026, high=2031)
    out = draw_event(ev(probability=0.5, start=start), u, (2025, 2027))
    assert out["occurs"].tolist() == [True, False, False]
    assert out["start"][0] == 2027 and np.isnan(out["start"][1])


def test_clipped_event_frequency_is_the_share_of_starts_inside_the_horizon():
    # 0.5 x P(start in 2026 or 2027 of 2026..2030) = 0.5 x 2/5 = 0.2
    unc = validate_uncertainty(
        {
            "samples": 4096,
            "seed": 3,
            "events": [
                {
                    "name": "hbm_price_spike",
                    "probability": 0.5,
                    "start": {"dist": "uniform", "low": 2026, "high": 2031},
                }
            ],
        }
    )
    res = resolve_uncertainty(unc, CAT, horizon=(2025, 2027), events_catalog=KNOWN_EVENTS)
    ds = sample_uncertainty(res)
    occ = ds["event.hbm_price_spike.occurs"].values
    assert occ.mean() == pytest.approx(0.2, abs=0.015)
    assert set(ds["event.hbm_price_spike.start"].values[occ]) == {2026.0, 2027.0}
