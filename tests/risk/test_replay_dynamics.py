"""The slice-wise dynamics replay uses for per-sample lives and re-timed builds
(dynamics.window_stock, window_unripe, capex_spread) are the kernels the LP uses."""

from __future__ import annotations

import numpy as np

from fab2flop import dynamics as dyn


def test_window_stock_by_hand():
    new = np.array([[2.0, 0.0, 1.0, 0.0], [2.0, 0.0, 1.0, 0.0]])
    # life 2: 2 stands in t=0,1; the 1 opened in t=2 stands in t=2,3 -> [2, 2, 1, 1]
    # life 3: 2 stands in t=0..2, the 1 from t=2 on -> [2, 2, 3, 1]
    out = dyn.window_stock(new, np.array([2, 3]))
    np.testing.assert_array_equal(out, [[2, 2, 1, 1], [2, 2, 3, 1]])


def test_window_unripe_by_hand():
    # ramp 2: unripe shares 1 - 1/3 = 2/3 in the opening period, 1 - 2/3 = 1/3 next;
    # a life of 1 retires the cohort before its second period
    new = np.array([3.0, 0.0, 0.0])
    np.testing.assert_allclose(dyn.window_unripe(new, 2, 5), [2.0, 1.0, 0.0])
    np.testing.assert_allclose(dyn.window_unripe(new, 2, 1), [2.0, 0.0, 0.0])


def test_capex_spread_by_hand():
    # 6 opening in t=3 with a lead of 3: 2 a period in t=0,1,2; 4 opening in t=1 with a
    # lead of 2: its first period is before the horizon, 2 in t=0; lead 0: all in t=2
    v = np.array([0.0, 4.0, 5.0, 6.0])
    lead = np.array([0, 2, 0, 3])
    np.testing.assert_allclose(dyn.capex_spread(v, lead), [2 + 2, 2, 5 + 2, 0])


def test_the_fast_forms_are_the_kernels_on_random_cohorts():
    rng = np.random.default_rng(0)
    for _ in range(30):
        S, n, T = 4, 5, 11
        new = rng.random((S, n, T)) * (rng.random((S, n, T)) < 0.4)
        life = rng.integers(1, 14, (S, n))
        ramp = rng.integers(0, 4, n)
        lead = rng.integers(-1, 6, (S, n, T))
        # the same sums in the same order: equal to the last bit
        np.testing.assert_array_equal(
            dyn.window_stock(new, life), dyn.capacity_stock(new, 0.0, life)
        )
        np.testing.assert_array_equal(
            dyn.window_unripe(new, ramp, life), dyn.ramp_unripe(new, ramp, life)
        )
        np.testing.assert_allclose(
            dyn.capex_spread(new, lead), dyn.capex_schedule(new, 1.0, lead), rtol=1e-13
        )
        # and a destruction of nothing leaves the kernel equal to the fast form
        d = np.zeros((S, n, T))
        np.testing.assert_array_equal(
            dyn.window_stock(new, life), dyn.capacity_stock(new, 0.0, life, d)
        )
        np.testing.assert_array_equal(
            dyn.window_unripe(new, ramp, life), dyn.ramp_unripe(new, ramp, life, d)
        )
