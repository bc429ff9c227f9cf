"""Silicon: dies per wafer, yield, harvesting, the reticle limit and die cost.

Pure functions over numpy that accept scalars and arrays alike (they broadcast); a scalar in
gives a Python ``float`` out. Areas are in mm², defect densities in defects per cm².

Gross dies per wafer use the standard textbook formula (e.g. de Vries 2005; every
die-per-wafer calculator)::

    N = π (d/2)² / A  −  π d / √(2 A)

with ``d`` the usable wafer diameter (wafer diameter minus twice the edge exclusion) and
``A`` the die footprint (die area grown by the scribe lane). The first term is wafer area
over die area; the second removes the partial dies lost around the edge (a ring one die
diagonal wide). The result is floored to whole dies. The formula assumes a roughly square
die and becomes pessimistic for very large sites (several reticles); for interposers use
:func:`sites_per_wafer`, an exact count of rectangular sites on a grid.

Yield models (``A`` in cm², ``D0`` in defects/cm², ``λ = A·D0`` the mean defects per die):

- Poisson: ``Y = exp(−λ)`` (random, unclustered defects; pessimistic for big dies)
- Murphy: ``Y = ((1 − exp(−λ)) / λ)²``
- negative binomial: ``Y = (1 + λ/α)^(−α)`` (clustered defects; ``α → ∞`` gives Poisson)

Harvesting: a die of ``n`` identical compute units of area ``a`` each, of which ``s`` are
spares, plus a non-harvestable "uncore" of area ``A − n·a``, works if the uncore has no
killer defect and at most ``s`` units have one. Each model above is a Poisson model whose
defect density ``D`` varies from die to die (a point mass for Poisson, triangular on
``[0, 2·D0]`` for Murphy, Gamma(α) with mean ``D0`` for the negative binomial), so::

    Y_harvest = E_D[ exp(−D·(A − n·a)) · P[Binomial(n, 1 − exp(−D·a)) ≤ s] ]

evaluated by Gauss quadrature over ``D``. With ``s = 0`` it equals the plain die yield of
every model; clustering is kept (a die from a dirty region tends to lose several units).
Defects are taken as killer defects wherever they land (no partial-failure modes, no
redundancy in caches beyond what the uncore yield absorbs).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import DesignError

YieldModelName = Literal["poisson", "murphy", "negative_binomial"]

WAFER_DIAMETER_MM = 300.0
RETICLE_LIMIT_MM2 = 858.0  # 26 x 33 mm, semiconductors.md 3.12
RETICLE_FIELD_MM = (26.0, 33.0)

FloatOrArray = float | NDArray[np.float64]


def scalar_or_array(x: NDArray[np.float64]) -> FloatOrArray:
    """A 0-d array becomes a Python float; arrays pass through."""
    return float(x) if np.ndim(x) == 0 else x


# ---- geometry -------------------------------------------------------------------------


def die_footprint_mm2(die_area_mm2: ArrayLike, scribe_mm: ArrayLike = 0.0) -> FloatOrArray:
    """Area a die takes on the wafer, with its scribe lane [mm²].

    The die is taken as a square of the same area whose side grows by ``scribe_mm``:
    ``(√A + s)²``.

    >>> round(die_footprint_mm2(100.0, 0.1), 2)
    102.01
    """
    a = np.asarray(die_area_mm2, dtype=float)
    s = np.asarray(scribe_mm, dtype=float)
    return scalar_or_array((np.sqrt(np.maximum(a, 0.0)) + s) ** 2)


def gross_dies_per_wafer(
    die_area_mm2: ArrayLike,
    wafer_diameter_mm: ArrayLike = WAFER_DIAMETER_MM,
    edge_exclusion_mm: ArrayLike = 0.0,
    scribe_mm: ArrayLike = 0.0,
) -> FloatOrArray:
    """Whole die sites per wafer, edge loss included [dies/wafer].

    ``N = floor(π (d/2)²/A − π d/√(2A))`` with ``d = wafer_diameter_mm − 2·edge_exclusion_mm``
    and ``A`` the die footprint (die area plus scribe, see :func:`die_footprint_mm2`).

    >>> gross_dies_per_wafer(100.0)   # 706.86 − 66.64 = 640.2
    640.0
    """
    a = np.asarray(die_footprint_mm2(die_area_mm2, scribe_mm), dtype=float)
    if np.any(a <= 0):
        raise DesignError(f"die_area_mm2={die_area_mm2!r} must be > 0 mm²")
    d = np.asarray(wafer_diameter_mm, dtype=float) - 2.0 * np.asarray(edge_exclusion_mm, float)
    n = np.pi * (d / 2.0) ** 2 / a - np.pi * d / np.sqrt(2.0 * a)
    return scalar_or_array(np.floor(np.maximum(n, 0.0)))


def _sites_scalar(w: float, h: float, radius: float, n_offsets: int) -> int:
    if w <= 0 or h <= 0:
        raise DesignError(f"site width/height must be > 0 mm, got {w!r} x {h!r}")
    if radius <= 0:
        return 0
    eps = 1e-9
    ox = (np.arange(n_offsets) / n_offsets * w)[:, None, None]  # (ox, 1, 1)
    oy = (np.arange(n_offsets) / n_offsets * h)[None, :, None]  # (1, oy, 1)
    j = np.arange(-math.ceil(radius / h) - 1, math.ceil(radius / h) + 1)[None, None, :]
    y0 = oy + j * h  # bottom edge of each row
    y1 = y0 + h
    # the row's narrowest chord is at its edge farthest from the centre
    ymax = np.maximum(np.abs(y0), np.abs(y1))
    half = np.sqrt(np.maximum(radius**2 - ymax**2, 0.0))
    inside = ymax < radius
    i_min = np.ceil((-half - ox) / w - eps)
    i_max = np.floor((half - w - ox) / w + eps)
    per_row = np.where(inside, np.maximum(i_max - i_min + 1.0, 0.0), 0.0)
    return int(per_row.sum(axis=2).max())


def sites_per_wafer(
    width_mm: ArrayLike,
    height_mm: ArrayLike,
    wafer_diameter_mm: float = WAFER_DIAMETER_MM,
    edge_exclusion_mm: float = 0.0,
    n_offsets: int = 12,
) -> FloatOrArray:
    """Whole rectangular sites (``width_mm`` × ``height_mm``) on a wafer, counted exactly.

    The sites sit on a regular grid (one reticle stepping pattern); the grid's offset is
    searched over ``n_offsets²`` positions and the best count is returned. Used for CoWoS
    interposers, where the textbook formula undercounts multi-reticle sites.

    >>> sites_per_wafer(10.0, 10.0, 300.0)   # the textbook formula gives 640
    657.0
    """
    w = np.asarray(width_mm, dtype=float)
    h = np.asarray(height_mm, dtype=float)
    radius = wafer_diameter_mm / 2.0 - edge_exclusion_mm
    counts = np.vectorize(
        lambda a, b: _sites_scalar(float(a), float(b), radius, n_offsets), otypes=[float]
    )(w, h)
    return scalar_or_array(np.asarray(counts, dtype=float))


# ---- yield ------------------------------------------------------------------------------


def _lambda(area_mm2: ArrayLike, d0_per_cm2: ArrayLike) -> NDArray[np.float64]:
    a = np.asarray(area_mm2, dtype=float)
    d0 = np.asarray(d0_per_cm2, dtype=float)
    if np.any(a < 0):
        raise DesignError(f"area_mm2={area_mm2!r} must be ≥ 0")
    if np.any(d0 < 0):
        raise DesignError(f"defect_density_per_cm2={d0_per_cm2!r} must be ≥ 0")
    return a / 100.0 * d0  # mm² -> cm²


def poisson_yield(area_mm2: ArrayLike, d0_per_cm2: ArrayLike) -> FloatOrArray:
    """Poisson die yield ``exp(−A·D0)`` [0-1]; ``A`` in mm², ``D0`` in defects/cm².

    >>> round(poisson_yield(814.0, 0.1), 4)   # exp(−0.814)
    0.4431
    """
    return scalar_or_array(np.exp(-_lambda(area_mm2, d0_per_cm2)))


def murphy_yield(area_mm2: ArrayLike, d0_per_cm2: ArrayLike) -> FloatOrArray:
    """Murphy die yield ``((1 − exp(−A·D0)) / (A·D0))²`` [0-1].

    >>> round(murphy_yield(100.0, 1.0), 4)   # ((1 − e^−1)/1)²
    0.3996
    """
    lam = _lambda(area_mm2, d0_per_cm2)
    safe = np.where(lam > 0, lam, 1.0)
    # expm1 keeps precision when A·D0 is tiny (1 − exp(−x) would round to 0)
    y = np.where(lam > 0, (-np.expm1(-safe) / safe) ** 2, 1.0)
    return scalar_or_array(y)


def negative_binomial_yield(
    area_mm2: ArrayLike, d0_per_cm2: ArrayLike, alpha: ArrayLike = 3.0
) -> FloatOrArray:
    """Negative-binomial (clustered) die yield ``(1 + A·D0/α)^(−α)`` [0-1].

    >>> round(negative_binomial_yield(100.0, 1.0, 2.0), 4)   # 1.5^−2
    0.4444
    """
    al = np.asarray(alpha, dtype=float)
    if np.any(al <= 0):
        raise DesignError(f"yield cluster alpha={alpha!r} must be > 0")
    return scalar_or_array((1.0 + _lambda(area_mm2, d0_per_cm2) / al) ** (-al))


YIELD_MODELS: dict[str, Callable[..., FloatOrArray]] = {
    "poisson": poisson_yield,
    "murphy": murphy_yield,
    "negative_binomial": negative_binomial_yield,
}


def die_yield(
    area_mm2: ArrayLike,
    d0_per_cm2: ArrayLike,
    model: str = "negative_binomial",
    alpha: ArrayLike = 3.0,
) -> FloatOrArray:
    """Yield of a die of ``area_mm2`` under the named model (see :data:`YIELD_MODELS`)."""
    try:
        fn = YIELD_MODELS[model]
    except KeyError:
        raise DesignError(
            f"yield_model={model!r} is unknown; expected one of {', '.join(YIELD_MODELS)}"
        ) from None
    if model == "negative_binomial":
        return fn(area_mm2, d0_per_cm2, alpha)
    return fn(area_mm2, d0_per_cm2)


def binomial_at_most(n: ArrayLike, k: ArrayLike, p_fail: ArrayLike) -> FloatOrArray:
    """P[X ≤ k] for X ~ Binomial(n, p_fail): the chance that at most ``k`` of ``n`` fail.

    >>> round(binomial_at_most(2, 1, 0.5), 4)   # 1 − 0.25
    0.75
    """
    n_ = np.asarray(n, dtype=np.int64)
    k_ = np.asarray(k, dtype=np.int64)
    p = np.asarray(p_fail, dtype=float)
    n_b, k_b, p_b = np.broadcast_arrays(n_, k_, p)
    if np.any(n_b < 0) or np.any(k_b < 0):
        raise DesignError(f"unit counts must be ≥ 0, got n={n!r}, spares={k!r}")
    total = np.zeros(p_b.shape, dtype=float)
    kmax = int(np.max(np.minimum(k_b, n_b))) if k_b.size else 0
    q = 1.0 - p_b
    for i in range(kmax + 1):
        ok = (i <= k_b) & (i <= n_b)
        comb = np.vectorize(math.comb, otypes=[float])(n_b, np.minimum(i, n_b))
        term = comb * p_b**i * q ** np.maximum(n_b - i, 0)
        total = total + np.where(ok, term, 0.0)
    return scalar_or_array(np.minimum(total, 1.0))


@lru_cache(maxsize=64)
def _gamma_nodes(alpha: float, m: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Gauss quadrature for a Gamma(α, 1/α) variable (mean 1): generalized Gauss-Laguerre
    nodes for the weight x^(α−1)·e^(−x) by Golub-Welsch, scaled by 1/α, weights summing to 1."""
    beta = alpha - 1.0
    i = np.arange(m, dtype=float)
    diag = 2.0 * i + beta + 1.0
    off = np.sqrt(np.arange(1, m, dtype=float) * (np.arange(1, m, dtype=float) + beta))
    jac = np.diag(diag) + np.diag(off, 1) + np.diag(off, -1)
    x, v = np.linalg.eigh(jac)
    w = v[0, :] ** 2
    return np.clip(x, 0.0, None) / alpha, w / w.sum()


@lru_cache(maxsize=8)
def _triangular_nodes(m: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Gauss-Legendre quadrature for a triangular variable on [0, 2] with mode 1 (mean 1):
    the defect-density distribution behind Murphy's yield formula."""
    t, wt = np.polynomial.legendre.leggauss(m)
    lo = (t + 1.0) / 2.0  # nodes on [0, 1], pdf x
    hi = 1.0 + lo  # nodes on [1, 2], pdf 2 − x
    x = np.concatenate([lo, hi])
    w = np.concatenate([wt / 2.0 * lo, wt / 2.0 * (2.0 - hi)])
    return x, w / w.sum()


def _defect_density_mixture(
    model: str, alpha: float, m: int = 48
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Nodes (as multiples of D0) and weights of the die-to-die defect-density distribution
    each yield model assumes: a point (Poisson), triangular (Murphy), Gamma (neg. binomial)."""
    if model == "poisson":
        return np.ones(1), np.ones(1)
    if model == "murphy":
        return _triangular_nodes(m)
    if model == "negative_binomial":
        if not alpha > 0:
            raise DesignError(f"yield cluster alpha={alpha!r} must be > 0")
        return _gamma_nodes(float(alpha), m)
    raise DesignError(
        f"yield_model={model!r} is unknown; expected one of {', '.join(YIELD_MODELS)}"
    )


def harvested_yield(
    die_area_mm2: ArrayLike,
    d0_per_cm2: ArrayLike,
    units: ArrayLike,
    spares: ArrayLike,
    unit_area_mm2: ArrayLike,
    model: str = "negative_binomial",
    alpha: float = 3.0,
) -> FloatOrArray:
    """Yield of a die that ships with up to ``spares`` of its ``units`` defective [0-1].

    Each yield model is a Poisson model whose defect density ``D`` varies from die to die
    (fixed for Poisson, triangular on [0, 2·D0] for Murphy, Gamma(α) for the negative
    binomial). Given ``D``, defects in the uncore and in each unit are independent, so::

        Y = E_D[ exp(−D·A_uncore) · P[Binomial(units, 1 − exp(−D·a)) ≤ spares] ]

    which equals the plain die yield when ``spares = 0`` (for every model), and keeps the
    clustering correlation between units. The expectation is a Gauss quadrature over ``D``.

    >>> # Poisson, D0 = 1/cm², 2 units of 50 mm², no uncore, 1 spare:
    >>> # y_u = e^−0.5 = 0.6065; P(≤1 bad of 2) = 1 − (1 − y_u)² = 0.8452
    >>> round(harvested_yield(100.0, 1.0, 2, 1, 50.0, "poisson"), 4)
    0.8452
    """
    a = np.asarray(die_area_mm2, dtype=float)
    n = np.asarray(units, dtype=float)
    ua = np.asarray(unit_area_mm2, dtype=float)
    d0 = np.asarray(d0_per_cm2, dtype=float)
    uncore = a - n * ua
    if np.any(uncore < -1e-9):
        raise DesignError(
            f"compute units take {n * ua!r} mm², more than the die area {a!r} mm²; "
            "reduce compute_units or compute_unit_area_mm2"
        )
    if np.any(d0 < 0) or np.any(ua < 0):
        raise DesignError(
            f"defect_density_per_cm2={d0_per_cm2!r} and unit area {unit_area_mm2!r} must be ≥ 0"
        )
    x, w = _defect_density_mixture(model, float(np.asarray(alpha)))
    a_u, n_b, s_b, ua_b, d0_b = np.broadcast_arrays(
        np.maximum(uncore, 0.0), n, np.asarray(spares, dtype=float), ua, d0
    )
    dens = d0_b[..., None] * x  # defects/cm² at each node
    y_core = np.exp(-dens * a_u[..., None] / 100.0)
    p_fail = 1.0 - np.exp(-dens * ua_b[..., None] / 100.0)
    p_ok = np.asarray(binomial_at_most(n_b[..., None], s_b[..., None], p_fail))
    return scalar_or_array(np.asarray((y_core * p_ok) @ w, dtype=float))


# ---- reticle and cost ------------------------------------------------------------------


def check_reticle(
    die_area_mm2: float,
    reticle_limit_mm2: float = RETICLE_LIMIT_MM2,
    field: str = "die_area_mm2",
) -> None:
    """Raise :class:`DesignError` if a die cannot be exposed in one reticle field."""
    if not die_area_mm2 > 0:
        raise DesignError(f"{field}={die_area_mm2!r} must be > 0 mm²")
    if die_area_mm2 > reticle_limit_mm2:
        raise DesignError(
            f"{field}={die_area_mm2:g} exceeds the reticle limit of {reticle_limit_mm2:g} mm² "
            f"(26×33 mm); split the design into more dies (compute_dies)"
        )


def die_cost_usd(wafer_price_usd: ArrayLike, good_dies_per_wafer: ArrayLike) -> FloatOrArray:
    """Cost of one good die: wafer price / good dies per wafer [USD/die].

    >>> die_cost_usd(13400.0, 65.0)   # szyunze: ~$200 per H100 die
    206.15384615384616
    """
    g = np.asarray(good_dies_per_wafer, dtype=float)
    if np.any(g <= 0):
        raise DesignError(f"good_dies_per_wafer={good_dies_per_wafer!r} must be > 0")
    return scalar_or_array(np.asarray(wafer_price_usd, dtype=float) / g)


@dataclass(frozen=True)
class DieEstimate:
    """Silicon figures of one die design on one node."""

    die_area_mm2: float
    gross_dies_per_wafer: float  # [dies/wafer]
    die_yield: float  # with harvesting where the die has spare units [0-1]
    die_yield_without_harvesting: float  # the whole die must be defect-free [0-1]
    good_dies_per_wafer: float  # expected [dies/wafer]
    die_cost_usd: float  # wafer price / good dies [USD]


def estimate_die(
    die_area_mm2: float,
    d0_per_cm2: float,
    wafer_price_usd: float,
    *,
    model: str = "negative_binomial",
    alpha: float = 3.0,
    units: int | None = None,
    spares: int = 0,
    unit_area_mm2: float | None = None,
    wafer_diameter_mm: float = WAFER_DIAMETER_MM,
    edge_exclusion_mm: float = 0.0,
    scribe_mm: float = 0.0,
    reticle_limit_mm2: float = RETICLE_LIMIT_MM2,
    field: str = "die_area_mm2",
) -> DieEstimate:
    """Gross dies, yield (with harvesting if units and their area are given), good dies, cost.

    >>> e = estimate_die(100.0, 0.1, 10000.0, model="poisson")
    >>> e.gross_dies_per_wafer, round(e.die_yield, 4)   # 640 sites; exp(−0.1)
    (640.0, 0.9048)
    """
    check_reticle(die_area_mm2, reticle_limit_mm2, field)
    gross = float(
        gross_dies_per_wafer(die_area_mm2, wafer_diameter_mm, edge_exclusion_mm, scribe_mm)
    )
    if gross < 1:
        raise DesignError(f"{field}={die_area_mm2:g} leaves no whole die on the wafer")
    plain = float(die_yield(die_area_mm2, d0_per_cm2, model, alpha))
    if units and unit_area_mm2:
        y = float(
            harvested_yield(die_area_mm2, d0_per_cm2, units, spares, unit_area_mm2, model, alpha)
        )
    else:
        y = plain
    good = gross * y
    cost = float(die_cost_usd(wafer_price_usd, good)) if good > 0 else math.inf
    return DieEstimate(die_area_mm2, gross, y, plain, good, cost)
