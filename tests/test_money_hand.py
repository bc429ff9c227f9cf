"""Money on tiny networks worked out on paper: the dollar value of a bottleneck when money
binds (years and quarters), carry-over, interest on carried cash, the export-cap dual.

All networks: accelerator X = 1 H100e, 1 kW, life 10 years, bought at $10k within a vendor
supply of ``units_per_year``; ample free power; no discounting. A unit bought in a period
runs to the end of the horizon, so its worth is the years left (in H100e-years).
"""

from __future__ import annotations

import numpy as np
import pytest

from fab2flop import optimize
from fab2flop.constants import Status

from .handnets import merchant_network, money_from, scenario


def _by(res, family):
    return {b.period: b for b in res.bottlenecks if b.constraint == family}


def _per_usd(b):
    """A cash bottleneck's shadow price in H100e-years per dollar."""
    return b.shadow_price * 1e6


def test_value_of_supply_when_money_binds_yearly():
    """$19M arrives in 2025 (carried over); at most 1,000 units a year.

    Plan: 1,000 in 2025 ($10M), the other $9M buys 900 in 2026, nothing is left for 2027:
    installed 1,000, 1,900, 1,900; cash carried 9M, 0, 0.
    Money: one more dollar in 2025 or 2026 buys 1e-4 units in 2026 running 2 years:
    2e-4 H100e-years per $.
    Supply: one more unit/year in 2025 is bought in 2025 (3 H100e-years) with the $10k that
    would have bought a 2026 unit (2 H100e-years): 1 H100e-year, i.e. 1 / 2e-4 = $5,000.
    2026's supply does not bind (900 < 1,000).
    """
    res = optimize(merchant_network(scenario(budget=money_from(19e6, 2025, 2025))))
    assert res.status is Status.OPTIMAL
    ds = res.dataset
    np.testing.assert_allclose(ds["compute_h100e"].values, [1000, 1900, 1900], rtol=1e-6)
    np.testing.assert_allclose(ds["cash_usd"].values, [9e6, 0, 0], rtol=1e-6, atol=1.0)
    cash = _by(res, "cash")
    np.testing.assert_allclose([_per_usd(cash[y]) for y in (2025, 2026)], [2e-4, 2e-4], rtol=1e-4)
    caps = _by(res, "market-cap")
    assert set(caps) == {2025}
    b = caps[2025]
    assert b.unit == "unit/year"
    assert b.shadow_price * 1e6 == pytest.approx(1.0, rel=1e-4)  # H100e-years
    assert b.value_usd == pytest.approx(5_000, rel=1e-4)
    assert b.description == (
        "One more unit/year of x supply (US) in 2025 is worth $5.0k of compute."
    )
    # the same worth in the summary (JSON) the CLI prints
    js = [d for d in res.summary()["bottlenecks"] if d["constraint"] == "market-cap"]
    assert js[0]["value_usd"] == pytest.approx(5_000, rel=1e-4) and js[0]["period"] == 2025


def test_value_of_supply_when_money_binds_quarterly_is_for_that_quarter():
    """Same plan in quarters: $19M arrives as $4.75M in each quarter of 2025; the supply of
    1,000 units/year is 250 a quarter. A unit bought in quarter k (0 = 2025Q1) runs
    (12 - k) quarters = (12 - k)/4 H100e-years.

    Plan: 250 a quarter for 7 quarters (1,750 units, $17.5M), 150 in quarter 7 (2026Q4).
    Money: a dollar buys 1e-4 units in 2026Q4 running 5 quarters: 1.25e-4 H100e-years/$.
    Supply: one more unit/year in 2025Q1 lasts that quarter only, so it gives 0.25 units,
    bought in 2025Q1 instead of 2026Q4: 0.25 x (3 - 1.25) = 0.4375 H100e-years, worth
    0.4375 / 1.25e-4 = $3,500 (in money arriving that quarter). In 2025Q4 (quarter 3):
    0.25 x (2.25 - 1.25) = 0.25 H100e-years = $2,000.
    A capacity is a rate (units/year) and money a sum per period, so the value is for one
    quarter of the extra capacity, not a year of it: the description says so.
    """
    res = optimize(merchant_network(scenario(budget=money_from(19e6, 2025, 2025), step="quarter")))
    assert res.status is Status.OPTIMAL
    h = res.dataset["compute_h100e"].values
    np.testing.assert_allclose(h, [250, 500, 750, 1000, 1250, 1500, 1750] + [1900] * 5, rtol=1e-6)
    cash = _by(res, "cash")
    assert _per_usd(cash["2025Q1"]) == pytest.approx(1.25e-4, rel=1e-4)
    caps = _by(res, "market-cap")
    assert caps["2025Q1"].shadow_price * 1e6 == pytest.approx(0.4375, rel=1e-4)
    assert caps["2025Q1"].value_usd == pytest.approx(3_500, rel=1e-4)
    assert caps["2025Q4"].value_usd == pytest.approx(2_000, rel=1e-4)
    assert caps["2025Q1"].description == (
        "One more unit/year of x supply (US) in 2025Q1 (held for that quarter only) "
        "is worth $3.5k of compute."
    )


def _five_a_year_and_twelve_up_front(carry_over: bool):
    """$12M in 2025 plus $5M a year (funding 17M, 5M, 5M), 1,000 units a year."""
    budget = {
        "total_usd": 27e6,
        "carry_over": carry_over,
        "funders": [
            {"name": "a", "amount_usd": 12e6, "start": 2025, "end": 2025},
            {"name": "b", "amount_usd": 15e6, "start": 2025, "end": 2027},
        ],
    }
    return optimize(merchant_network(scenario(budget=budget)))


def test_carry_over_keeps_unspent_money():
    """Carried: 1,000 in 2025 ($10M, $7M carried); 2026 has 7 + 5 = $12M but only 1,000
    units exist ($10M, $2M carried); 2027: 2 + 5 = $7M buys 700.
    Installed 1,000, 2,000, 2,700; cash 7M, 2M, 0.
    A dollar anywhere ends up buying a 2027 unit: 1e-4 H100e-years per $ in every year."""
    res = _five_a_year_and_twelve_up_front(carry_over=True)
    np.testing.assert_allclose(res.dataset["compute_h100e"].values, [1000, 2000, 2700], rtol=1e-6)
    np.testing.assert_allclose(res.dataset["cash_usd"].values, [7e6, 2e6, 0], rtol=1e-6, atol=1)
    cash = _by(res, "cash")
    np.testing.assert_allclose([_per_usd(cash[y]) for y in (2025, 2026, 2027)], [1e-4] * 3, 1e-4)
    # supply binds in 2025 and 2026: one more unit then instead of one in 2027 gains 2 and
    # 1 H100e-years, worth 2 / 1e-4 = $20,000 and $10,000
    caps = _by(res, "market-cap")
    assert set(caps) == {2025, 2026}
    assert caps[2025].value_usd == pytest.approx(20_000, rel=1e-4)
    assert caps[2026].value_usd == pytest.approx(10_000, rel=1e-4)


def test_without_carry_over_unspent_money_is_lost():
    """Not carried: 2025 buys 1,000 ($10M) and $7M is lost; 2026 and 2027 buy 500 each.
    Installed 1,000, 1,500, 2,000; spend 10M, 5M, 5M.
    Money does not bind in 2025 (it is left over), so 2025's supply is valued in compute
    only: 3 H100e-years. In 2026 a dollar buys 1e-4 units for 2 years (2e-4 H100e-years),
    in 2027 for 1 year (1e-4)."""
    res = _five_a_year_and_twelve_up_front(carry_over=False)
    ds = res.dataset
    np.testing.assert_allclose(ds["compute_h100e"].values, [1000, 1500, 2000], rtol=1e-6)
    np.testing.assert_allclose(
        res.summary()["spend_by_period_usd"], [10e6, 5e6, 5e6], rtol=1e-6, atol=1.0
    )
    assert "cash_usd" not in ds  # nothing is carried
    cash = _by(res, "cash")
    assert set(cash) == {2026, 2027}
    np.testing.assert_allclose([_per_usd(cash[2026]), _per_usd(cash[2027])], [2e-4, 1e-4], 1e-4)
    cap = _by(res, "market-cap")[2025]
    assert cap.value_usd is None
    assert cap.shadow_price * 1e6 == pytest.approx(3.0, rel=1e-4)
    assert cap.description == (
        "One more unit/year of x supply (US) in 2025 is worth 3 H100e-years of compute "
        "(discounted; money does not bind)."
    )


def _interest_case(step: str, rate: float, years, lead_years: float, amount: float):
    budget = {**money_from(amount, 2025, 2025), "cash_interest_rate": rate}
    sc = scenario(budget=budget, step=step, years=years)
    return optimize(merchant_network(sc, units_per_year=1e6, dc_lead_years=lead_years))


def test_carried_cash_earns_interest_yearly():
    """$10M arrives in 2025; data centers take 2 years, so nothing runs before 2027 and the
    best plan keeps the money until then: 10M x 1.1 = 11M in 2026, x 1.1 = 12.1M in 2027,
    which buys 1,210 units (1,000 without interest)."""
    res = _interest_case("year", 0.10, (2025, 2027), 2.0, 10e6)
    np.testing.assert_allclose(res.dataset["compute_h100e"].values, [0, 0, 1210], atol=1e-3)
    np.testing.assert_allclose(res.dataset["cash_usd"].values, [10e6, 11e6, 0], rtol=1e-6, atol=1)
    flat = _interest_case("year", 0.0, (2025, 2027), 2.0, 10e6)
    np.testing.assert_allclose(flat.dataset["compute_h100e"].values, [0, 0, 1000], atol=1e-3)


def test_carried_cash_earns_interest_per_quarter():
    """$4M arrives as $1M in each quarter of 2025 at 10%/year, i.e. g = 1.1^0.25 =
    1.0241137 a quarter; data centers take a year, so the fleet runs from 2026Q1, and the
    money is best spent then (a quarter later would lose a quarter of compute for 2.4%
    more units). 2025Q1's $1M grows four quarters, 2025Q4's one:
    1M x (g + g^2 + g^3 + g^4) = 1M x (1.0241137 + 1.0488088 + 1.0740995 + 1.1)
    = $4.2470220M -> 424.70 units (400 without interest)."""
    res = _interest_case("quarter", 0.10, (2025, 2026), 1.0, 4e6)
    g = 1.1**0.25
    units = 1e6 * (g + g**2 + g**3 + g**4) / 10_000
    assert units == pytest.approx(424.7022, abs=1e-3)
    h = res.dataset["compute_h100e"].values
    np.testing.assert_allclose(h, [0] * 4 + [units] * 4, rtol=1e-6, atol=1e-3)
    # cash at the end of each quarter of 2025: 1M, 1M x (g + 1), ...
    cash = res.dataset["cash_usd"].values[:4]
    grown = [1.0, g + 1, g**2 + g + 1, g**3 + g**2 + g + 1]
    np.testing.assert_allclose(cash, [1e6 * x for x in grown], rtol=1e-6)


def _export_case(step: str, amount: float):
    regions = {"US": {"accelerator_cap_units_per_year": 400.0}}
    sc = scenario(budget=money_from(amount, 2025, 2025), step=step, regions=regions)
    return optimize(merchant_network(sc))


def test_export_cap_dual_yearly():
    """At most 400 units a year may be deployed in US; $10M buys 1,000 units (bought early
    and stored): deploy 400, 400, 200 -> installed 400, 800, 1,000.
    A dollar buys 1e-4 units deployed in 2027 (1 year): 1e-4 H100e-years per $.
    One more approval a year in 2025 moves a unit from 2027 to 2025: 3 - 1 = 2 H100e-years,
    worth 2 / 1e-4 = $20,000; in 2026: 2 - 1 = 1 H100e-year = $10,000; 2027 is not full."""
    res = _export_case("year", 10e6)
    ds = res.dataset
    np.testing.assert_allclose(ds["deployed"].sum("accelerator").values[0], [400, 400, 200], 1e-6)
    ex = _by(res, "export-cap")
    assert set(ex) == {2025, 2026}
    b = ex[2025]
    assert b.unit == "accelerator/year approved" and b.region == "US"
    assert b.shadow_price * 1e6 == pytest.approx(2.0, rel=1e-4)
    assert b.value_usd == pytest.approx(20_000, rel=1e-4)
    assert ex[2026].value_usd == pytest.approx(10_000, rel=1e-4)
    assert b.description == (
        "Approval for one more accelerator a year in US in 2025 is worth $20.0k of compute."
    )


def test_export_cap_dual_quarterly():
    """400 a year is 100 a quarter; $9.5M (2.375M a quarter of 2025) buys 950 units:
    deploy 100 a quarter for 9 quarters and 50 in quarter 9 (2027Q2), which runs 3 quarters
    (0.75 H100e-years): money is worth 0.75e-4 H100e-years per $.
    One more approval a year in 2025Q1 lets 0.25 units in that quarter (3 years) instead of
    quarter 9: 0.25 x (3 - 0.75) = 0.5625 H100e-years = 0.5625 / 0.75e-4 = $7,500."""
    res = _export_case("quarter", 9.5e6)
    dep = res.dataset["deployed"].sum("accelerator").values[0]
    np.testing.assert_allclose(dep, [100] * 9 + [50, 0, 0], rtol=1e-6, atol=1e-6)
    b = _by(res, "export-cap")["2025Q1"]
    assert b.shadow_price * 1e6 == pytest.approx(0.5625, rel=1e-4)
    assert b.value_usd == pytest.approx(7_500, rel=1e-4)
    assert b.description == (
        "Approval for one more accelerator a year in US in 2025Q1 (held for that quarter only) "
        "is worth $7.5k of compute."
    )
