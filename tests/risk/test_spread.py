"""Dependence across futures: bands by hand, nesting like ``fab2flop dependence --json``."""

from __future__ import annotations

import numpy as np
import pytest

from fab2flop.risk.spread import bands, rows_to_arrays, spread, table_rows


def test_bands_leave_out_nan_samples_per_period():
    # period 0: 1, 2, 3 (NaN left out): P5 = 1 + 0.05 x 2 = 1.1, P50 = 2, P95 = 2.9;
    # period 1: no finite value -> None
    v = np.array([[3.0, np.nan], [np.nan, np.nan], [1.0, np.nan], [2.0, np.nan]])
    b = bands(v)
    assert b["p5"][0] == pytest.approx(1.1) and b["p50"][0] == 2.0
    assert b["p95"][0] == pytest.approx(2.9)
    assert b["p50"][1] is None


def test_spread_nests_like_the_dependence_command():
    per = rows_to_arrays(
        [
            {
                "by_vendor.own": [0.5],
                "by_region.cowos.TW": [1.0],
                "hhi.cowos": [10000.0],
                "taiwan_dependent_share": [0.9],
                "taiwan_dependent_h100e": [90.0],
            },
            None,  # a failed sample: NaN, left out
            {
                "by_vendor.own": [0.7],
                "by_region.cowos.TW": [0.6],
                "hhi.cowos": [5200.0],
                "taiwan_dependent_share": [0.5],
                "taiwan_dependent_h100e": [70.0],
            },
        ],
        1,
    )
    assert np.isnan(per["by_vendor.own"][1, 0])
    sp = spread(per)
    assert sp["by_vendor"]["own"]["p50"] == [pytest.approx(0.6)]  # median of 0.5 and 0.7
    assert sp["by_region"]["cowos"]["TW"]["p5"] == [pytest.approx(0.62)]  # 0.6 + 0.05 x 0.4
    assert sp["hhi"]["cowos"]["p95"] == [pytest.approx(9760.0)]  # 5200 + 0.95 x 4800
    assert sp["taiwan_dependent_h100e"]["p50"] == [pytest.approx(80.0)]
    rows = dict((r[0], r[1:]) for r in table_rows(sp, 0))
    assert rows["H100e share own"] == ("51%", "60%", "69%")  # 0.5 + 0.05 x 0.2 = 0.51, ...
    assert rows["Taiwan-dependent share"] == ("52%", "70%", "88%")  # 0.5 + 0.05 x 0.4 = 0.52
