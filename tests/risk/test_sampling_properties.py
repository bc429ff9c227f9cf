"""Properties of the inverse CDFs: inside their bounds and non-decreasing in u."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from fab2flop.risk.sampling import ppf
from fab2flop.risk.uncertainty import DistSpec

finite = st.floats(-1e6, 1e6, allow_nan=False)


@st.composite
def bounded(draw):
    a, b, c = sorted(draw(st.lists(finite, min_size=3, max_size=3)))
    kind = draw(st.sampled_from(["triangular", "pert", "uniform"]))
    if kind == "uniform":
        return DistSpec(dist="uniform", low=a, high=c)
    return DistSpec(dist=kind, low=a, mode=b, high=c)


@given(bounded(), st.lists(st.floats(1e-9, 1 - 1e-9), min_size=2, max_size=50))
def test_bounded_inverse_cdfs_stay_in_range_and_increase(d, us):
    u = np.sort(np.asarray(us))
    x = ppf(d, u)
    span = d.high - d.low
    assert np.all(x >= d.low - 1e-9 * (1 + abs(d.low))) and np.all(
        x <= d.high + 1e-9 * (1 + abs(d.high))
    )
    assert np.all(np.diff(x) >= -1e-9 * (1 + span))


@given(st.floats(0.01, 100), st.floats(1.01, 100), st.lists(st.floats(1e-9, 1 - 1e-9), min_size=2))
def test_lognormal_interval_holds_its_quantiles(low, ratio, us):
    d = DistSpec(dist="lognormal", low=low, high=low * ratio)
    assert np.allclose(ppf(d, np.array([0.05, 0.95])), [low, low * ratio], rtol=1e-9)
    x = ppf(d, np.sort(np.asarray(us)))
    assert np.all(x > 0) and np.all(np.diff(x) >= 0)
