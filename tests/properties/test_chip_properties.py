"""Invariants of the chip model, on random designs (Hypothesis).

- a larger die never yields more good dies per wafer;
- a lower defect density never raises the unit cost;
- more HBM stacks never lower the bandwidth;
- spares never lower the yield; yields stay in [0, 1].
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fab2flop.catalog import Catalog, load_catalog
from fab2flop.components.accelerator import design_from_catalog, evaluate
from fab2flop.components.chip import (
    die_yield,
    gross_dies_per_wafer,
    harvested_yield,
    sites_per_wafer,
)
from fab2flop.components.memory import hbm_bandwidth_bytes_per_s

SETTINGS = settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)

models = st.sampled_from(["poisson", "murphy", "negative_binomial"])
areas = st.floats(10.0, 858.0)
densities = st.floats(0.0, 0.5)


@lru_cache(maxsize=1)
def _cat() -> Catalog:
    return load_catalog()


@SETTINGS
@given(a1=areas, a2=areas, d0=densities, model=models, alpha=st.floats(0.5, 10.0))
def test_larger_die_never_more_good_dies(a1, a2, d0, model, alpha) -> None:
    small, large = sorted((a1, a2))
    good = [
        gross_dies_per_wafer(a, 300.0, 3.0, 0.1) * die_yield(a, d0, model, alpha)
        for a in (small, large)
    ]
    assert good[1] <= good[0] + 1e-9


@SETTINGS
@given(d1=densities, d2=densities, model=models)
def test_lower_defect_density_never_raises_cost(d1, d2, model) -> None:
    cat = _cat()
    lo, hi = sorted((d1, d2))
    costs = [
        evaluate(
            design_from_catalog("custom_v1", cat, defect_density_per_cm2=d, yield_model=model),
            cat,
        ).unit_cost_usd
        for d in (lo, hi)
    ]
    assert costs[0] <= costs[1] * (1 + 1e-12)


@SETTINGS
@given(
    s1=st.integers(1, 8),
    s2=st.integers(1, 8),
    gen=st.sampled_from(["hbm3", "hbm3e", "hbm4"]),
)
def test_more_stacks_never_lower_bandwidth(s1, s2, gen) -> None:
    cat = _cat()
    few, many = sorted((s1, s2))
    bw = [
        evaluate(
            design_from_catalog(
                "custom_v1",
                cat,
                hbm_generation=gen,
                hbm_stacks=s,
                packaging="auto",
                available_from=2026,
            ),
            cat,
        ).hbm_bandwidth_bytes_per_s
        for s in (few, many)
    ]
    assert bw[1] >= bw[0]
    # and the pure function agrees for any pin rate
    rates = np.array([1.0, 6.4, 12.0])
    assert np.all(
        hbm_bandwidth_bytes_per_s(many, 1024, rates) >= hbm_bandwidth_bytes_per_s(few, 1024, rates)
    )


@SETTINGS
@given(
    units=st.integers(1, 160),
    spares=st.integers(0, 12),
    unit_area=st.floats(0.5, 5.0),
    uncore=st.floats(0.0, 300.0),
    d0=densities,
    model=models,
)
def test_spares_never_lower_yield(units, spares, unit_area, uncore, d0, model) -> None:
    area = units * unit_area + uncore
    y0 = harvested_yield(area, d0, units, spares, unit_area, model)
    y1 = harvested_yield(area, d0, units, spares + 1, unit_area, model)
    assert 0.0 <= y0 <= y1 + 1e-12 <= 1.0 + 1e-9
    # no spares: exactly the plain die yield
    plain = die_yield(area, d0, model)
    assert abs(harvested_yield(area, d0, units, 0, unit_area, model) - plain) < 1e-9


@SETTINGS
@given(w=st.floats(5.0, 80.0), h=st.floats(5.0, 80.0))
def test_sites_fit_on_the_wafer(w, h) -> None:
    n = sites_per_wafer(w, h, 300.0, 3.0)
    # never more area than the usable disc: π x 147² = 67,886.7 mm²
    assert 0 <= n * w * h <= np.pi * 147.0**2
