"""Network arrays: funding profiles, periods, lead times in periods."""

from __future__ import annotations

import numpy as np
import pytest

from fab2flop import build_network, load_scenario
from fab2flop.timeseries import Periods, series_at


def _funders(*funders, end=2035):
    sets = [f"time.end={end}", "budget.total_usd=6e12"]
    sets.append("budget.funders=[" + ", ".join(funders) + "]")
    return build_network(load_scenario(overrides=sets))


def test_ramp_up_profile_by_hand():
    """$6T over 2025-2027 ramping up: weights 1:2:3, so $1T, $2T, $3T."""
    net = _funders("{name: a, share: 1.0, start: 2025, end: 2027, profile: ramp_up}")
    f = net.ds["funding_usd"].values
    np.testing.assert_allclose(f[:3], [1e12, 2e12, 3e12])
    assert f[3:].sum() == 0


def test_money_after_the_horizon_is_lost_and_said():
    """Flat over 2030-2039 with the horizon ending 2035: 6 of 10 years arrive (60%)."""
    net = _funders("{name: late, share: 1.0, start: 2030, end: 2039}")
    assert net.ds["funding_usd"].values.sum() == pytest.approx(0.6 * 6e12)
    assert any("late" in n and "outside the horizon" in n for n in net.notes)


def test_unfunded_share_is_said():
    net = _funders("{name: a, share: 0.5, start: 2025, end: 2035}")
    assert net.ds["funding_usd"].values.sum() == pytest.approx(3e12)
    assert any("50%" in n for n in net.notes)


def test_quarters_split_money_and_lead_times():
    sc = load_scenario(overrides=["time.end=2026", "time.step=quarter"])
    net = build_network(sc)
    assert net.periods.dt == 0.25
    # a 2-year data-center build is 8 quarters; funding totals are unchanged by the step
    i = net.process_names.index("datacenter")
    assert int(net.ds["lead_periods"].values[i]) == 8
    annual = build_network(load_scenario(overrides=["time.end=2026"]))
    assert net.ds["funding_usd"].values.sum() == pytest.approx(
        annual.ds["funding_usd"].values.sum()
    )


def test_periods_and_series():
    p = Periods.from_range(2025, 2027)
    assert p.periods_for(2.5) == 3 and p.periods_for(0) == 0
    assert p.index_of_year(2026) == 1 and p.index_of_year(2030) == 3
    np.testing.assert_allclose(series_at({2025: 0, 2027: 10}, p.years), [0, 5, 10])
    np.testing.assert_allclose(series_at(None, p.years, 7.0), [7, 7, 7])
