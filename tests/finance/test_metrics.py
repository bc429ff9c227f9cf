"""NPV, IRR, payback and peak funding: by hand and against numpy-financial."""

from __future__ import annotations

import math

import numpy as np
import numpy_financial as npf
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fab2flop.finance.cashflows import amortise
from fab2flop.finance.metrics import (
    capital_recovery_factor,
    irr,
    npv,
    payback_year,
    peak_funding_usd,
)


def test_npv_by_hand():
    # -1000 + 500/1.1 + 700/1.21 = -1000 + 454.545454... + 578.512396... = 33.057851
    assert npv([-1000.0, 500.0, 700.0], 0.10) == pytest.approx(
        -1000 + 500 / 1.1 + 700 / 1.21, rel=1e-12
    )
    # quarters: 4 periods of 0.25 y at 10%/yr; the last flow is 0.75 y out: 100/1.1^0.75
    assert npv([0, 0, 0, 100.0], 0.10, dt_years=0.25) == pytest.approx(100 / 1.1**0.75)


def test_irr_by_hand():
    # -100 + 60/(1+r) + 60/(1+r)^2 = 0  ->  100x^2 - 60x - 60 = 0 with x = 1+r
    # x = (60 + sqrt(3600 + 24000)) / 200 = (60 + 166.132477) / 200 = 1.130662
    r = irr([-100.0, 60.0, 60.0])
    assert r.value == pytest.approx((60 + math.sqrt(27600)) / 200 - 1, abs=1e-9)
    assert r.reason == ""
    # a loan at 10%: -100 now, 110 a year later
    assert irr([-100.0, 110.0]).value == pytest.approx(0.10, abs=1e-12)


def test_irr_quarterly_periods_is_annual():
    # -100 then +110 one year (4 quarters) later: 10%/yr whatever the period length
    assert irr([-100.0, 0, 0, 0, 110.0], dt_years=0.25).value == pytest.approx(0.10, abs=1e-9)


@pytest.mark.parametrize(
    ("flows", "words"),
    [
        ([10.0, 20.0], "only inflows"),
        ([-10.0, -20.0], "only outflows"),
        ([0.0, 0.0], "all cash flows are zero"),
    ],
)
def test_irr_without_sign_change_is_none_with_reason(flows, words):
    r = irr(flows)
    assert r.value is None and words in r.reason
    assert r.to_dict() == {"irr": None, "irr_note": r.reason}


def test_irr_with_two_roots_says_so():
    # -100 + 230/x - 132/x^2 = 0 -> 100x^2 - 230x + 132 = 0 -> x = 1.1 or 1.2
    r = irr([-100.0, 230.0, -132.0])
    assert r.value == pytest.approx(0.10, abs=1e-9)
    assert "2 rates" in r.reason


@given(
    st.floats(10, 1e4),
    st.lists(st.floats(0, 5e3).map(lambda x: round(x, 2)), min_size=1, max_size=12),
)
def test_irr_and_npv_match_numpy_financial(outlay, inflows):
    flows = [-outlay, *inflows]
    for rate in (0.0, 0.05, 0.15):
        # numpy-financial's npv discounts the first value by (1+r)^0, like ours
        assert npv(flows, rate) == pytest.approx(npf.npv(rate, flows), rel=1e-9, abs=1e-6)
    ours = irr(flows)
    theirs = npf.irr(flows)
    if sum(inflows) <= 0:
        assert ours.value is None
    elif 0.02 * outlay < sum(inflows) < 50 * outlay:  # a root inside (-99%, 10000%)
        # one sign change: one root; ours zeroes the NPV, and so does numpy-financial's
        # wherever its polynomial roots are accurate
        assert ours.value is not None
        assert abs(npv(flows, ours.value)) < 1e-6 * outlay
        if np.isfinite(theirs) and abs(npf.npv(theirs, flows)) < 1e-6 * outlay:
            assert ours.value == pytest.approx(theirs, abs=1e-6)


def test_payback_and_peak_funding():
    years = [2025, 2026, 2027, 2028]
    flows = [-100.0, -50.0, 80.0, 90.0]  # cumulative -100, -150, -70, +20
    assert payback_year(flows, years) == 2028
    assert peak_funding_usd(flows) == 150.0
    assert payback_year([-100.0, 50.0], [2025, 2026]) is None  # still -50 at the end
    assert payback_year([10.0, 5.0], [2025, 2026]) is None  # nothing put in


def test_capital_recovery_and_amortisation():
    # CRF(8%, 3) = 0.08 * 1.08^3 / (1.08^3 - 1) = 0.08 * 1.259712 / 0.259712 = 0.388034
    assert capital_recovery_factor(0.08, 3) == pytest.approx(0.3880335, rel=1e-6)
    assert capital_recovery_factor(0.0, 4) == 0.25
    # 100 drawn in year 0 at 10% over 3 years, horizon of 3 periods: two payments of
    # 100 x CRF(10%, 3) = 40.21148 made; balance = 100 x 1.1^2 - 40.21148 x 2.1 = 36.5559
    service, left = amortise(np.array([100.0, 0.0, 0.0]), 0.10, 3.0, 1.0)
    np.testing.assert_allclose(service, [0.0, 40.211480, 40.211480], rtol=1e-6)
    assert left == pytest.approx(121.0 - 40.2114804 * 2.1, rel=1e-6)
    with pytest.raises(ValueError, match="life_years"):
        capital_recovery_factor(0.1, 0)
