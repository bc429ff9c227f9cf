"""Sensitivity through our SALib wrapper against analytic results."""

from __future__ import annotations

import numpy as np
import pytest

from fab2flop.risk.sensitivity import (
    Factor,
    factors_from_resolved,
    morris_indices,
    sobol_indices,
    to_frame,
)


def ishigami(x, a=7.0, b=0.1):
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_analytic(a=7.0, b=0.1):
    """Ishigami & Homma (1990); e.g. Saltelli et al., Global Sensitivity Analysis: The Primer.

    V = a²/8 + b π⁴/5 + b² π⁸/18 + 1/2;  V1 = (1 + b π⁴/5)²/2;  V2 = a²/8;
    V13 = b² π⁸ (1/18 − 1/50) = 8 b² π⁸ / 225;  V3 = 0.
    For a = 7, b = 0.1: V = 6.125 + 1.9482 + 5.2714 + 0.5 = 13.845,
    S = (4.3459, 6.125, 0) / V = (0.3139, 0.4424, 0);
    ST = (4.3459 + 3.3737, 6.125, 3.3737) / V = (0.5576, 0.4424, 0.2437)
    (SALib's test_functions/Ishigami.py quotes the same first-order values).
    """
    pi = np.pi
    v = a**2 / 8 + b * pi**4 / 5 + b**2 * pi**8 / 18 + 0.5
    v1 = 0.5 * (1 + b * pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = 8 * b**2 * pi**8 / 225
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


def test_analytic_values_match_the_literature():
    s1, st = ishigami_analytic()
    assert s1 == pytest.approx([0.3139, 0.4424, 0.0], abs=5e-5)
    assert st == pytest.approx([0.5576, 0.4424, 0.2437], abs=5e-5)


FACTORS = [Factor(f"x{i + 1}", -np.pi, np.pi) for i in range(3)]


def test_ishigami_sobol_indices_through_the_wrapper():
    # 2^13 base points → 8192 · (3 + 2) = 40,960 runs; the estimator error is then ~0.01
    rows = sobol_indices(ishigami, FACTORS, 2**13, seed=1)
    by = {r["parameter"]: r for r in rows}
    s1, st = ishigami_analytic()
    for i, name in enumerate(["x1", "x2", "x3"]):
        assert by[name]["first_order"] == pytest.approx(s1[i], abs=0.02), name
        assert by[name]["total"] == pytest.approx(st[i], abs=0.02), name
        assert 0 < by[name]["confidence"] < 0.05
    # ranked by total index: x1 (0.558) > x2 (0.442) > x3 (0.244)
    assert [r["parameter"] for r in rows] == ["x1", "x2", "x3"]
    assert [r["rank"] for r in rows] == [1, 2, 3]


def test_transform_maps_the_unit_cube_and_outputs_are_ranked_apart():
    # same Ishigami through a transform u → -π + 2π u, plus a second output that only x3 drives
    def two(x):
        return np.column_stack([ishigami(x), x[:, 2] ** 2])

    rows = sobol_indices(
        two,
        [Factor(f.name) for f in FACTORS],
        2**12,
        seed=2,
        transform=lambda u: -np.pi + 2 * np.pi * u,
        outputs=["ishigami", "x3sq"],
    )
    first = {r["parameter"]: r["first_order"] for r in rows if r["output"] == "ishigami"}
    assert first["x2"] == pytest.approx(0.4424, abs=0.03)
    sq = [r for r in rows if r["output"] == "x3sq"]
    assert sq[0]["parameter"] == "x3" and sq[0]["total"] == pytest.approx(1.0, abs=0.02)
    assert to_frame(rows).shape == (6, 8)  # 2 outputs × 3 factors; 8 columns


def test_morris_of_a_linear_model_gives_its_coefficients():
    # f = 10 x1 + x2 on [0, 1]: every elementary effect is the coefficient, so mu* = 10, 1, 0
    # and sigma = 0
    rows = morris_indices(
        lambda x: 10 * x[:, 0] + x[:, 1], [Factor("a"), Factor("b"), Factor("c")], 10, seed=0
    )
    by = {r["parameter"]: r for r in rows}
    assert by["a"]["mu_star"] == pytest.approx(10.0)
    assert by["b"]["mu_star"] == pytest.approx(1.0)
    assert by["c"]["mu_star"] == pytest.approx(0.0, abs=1e-12)
    assert by["a"]["sigma"] == pytest.approx(0.0, abs=1e-9)
    assert [r["parameter"] for r in rows] == ["a", "b", "c"]


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="power of two"):
        sobol_indices(ishigami, FACTORS, 1000)
    with pytest.raises(ValueError, match="low .* must be below high"):
        sobol_indices(ishigami, [Factor("x", 1, 1)], 64)
    with pytest.raises(ValueError, match="non-finite outputs for"):
        sobol_indices(lambda x: np.where(x[:, 0] > 0.5, np.inf, x[:, 0]), [Factor("x")], 64)
    with pytest.raises(ValueError, match="expected \\(n,\\) or \\(n, m\\)"):
        sobol_indices(lambda x: x[:3, 0], [Factor("x")], 64)


def test_factors_from_resolved_use_each_inverse_cdf():
    from fab2flop.risk.resolve import ResolvedParameter
    from fab2flop.risk.uncertainty import DistSpec

    p = ResolvedParameter(
        "p", "p", "catalog", DistSpec(dist="uniform", low=10, high=20), "USD", 15.0
    )
    q = ResolvedParameter(
        "q", "q", "catalog", DistSpec(low=0, mode=0, high=1), "1", 0.0, integer=True
    )
    factors, tf = factors_from_resolved([p, q])
    assert [f.units for f in factors] == ["USD", "1"]
    # uniform: 10 + 0.5 · 10 = 15; triangular(0, 0, 1) at 0.9: 1 - sqrt(0.1) = 0.68 → rounds to 1
    assert tf(np.array([[0.5, 0.9]])).tolist() == [[15.0, 1.0]]
