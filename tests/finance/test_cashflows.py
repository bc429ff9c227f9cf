"""Parties' cash flows on a tiny plan whose numbers are worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from fab2flop.finance.analysis import analyse
from fab2flop.finance.metrics import npv
from fab2flop.finance.schema import FinanceConfig
from fab2flop.finance.vocabulary import Line
from fab2flop.optimizer import optimize

from ..conftest import tiny_network

LEASE = {"price": 0.5, "decline": 0.0, "cloud": 2.0}


def _cfg(mode: str = "market") -> FinanceConfig:
    return FinanceConfig.model_validate(
        {
            "parties": [
                {"name": "fund", "kind": "equity", "required_return": 0.12, "owns": {"dc": 1.0}},
                {
                    "name": "bank",
                    "kind": "lender",
                    "rate": 0.10,
                    "tenor_years": 2,
                    "lends": {"dc": 1.0},
                },
                {
                    "name": "dc",
                    "kind": "asset_company",
                    "required_return": 0.12,
                    "debt_share": 0.5,
                    "pays_for": ["*"],
                },
                {"name": "anchor", "kind": "anchor", "required_return": 0.10},
                {"name": "op", "kind": "operator"},
            ],
            "lease": {"mode": mode},
        }
    )


@pytest.fixture(scope="module")
def res():
    """$15M/yr, X at $10k within 1000/yr: 1000 bought each year, 1000/2000/3000 H100e."""
    r = optimize(tiny_network())
    np.testing.assert_allclose(r.dataset["compute_h100e"].values, [1000, 2000, 3000], rtol=1e-6)
    return r


def test_hand_computed_flows(res):
    """Lease 0.5 $/H100e-h: 8760 h x 1000/2000/3000 H100e x 0.5 = 4.38, 8.76, 13.14 M$.
    Capital 10 M$/yr (GPUs), half borrowed at 10% over 2 years: each 5 M$ tranche pays
    5 x CRF(10%, 2) = 5 x 0.5761905 = 2.8809524 M$ a year from the next year. At the end
    the 2026 tranche owes 5 x 1.1 - 2.8809524 = 2.6190476 and the 2027 one 5 M$.
    Residual: GPUs of 10 years, 10 M$ a year, 3, 2, 1 years used by 2028:
    10 x (0.7 + 0.8 + 0.9) = 24 M$."""
    fa = analyse(res, _cfg(), LEASE)
    crf = 5 * 0.1 * 1.21 / 0.21
    service = np.array([0.0, crf, 2 * crf + (5 * 1.1 - crf) + 5.0])
    lease = np.array([4.38, 8.76, 13.14])
    owners = lease - 10.0 + 5.0 - service + np.array([0, 0, 24.0])
    np.testing.assert_allclose(fa.flows("dc") / 1e6, owners, rtol=1e-6)
    np.testing.assert_allclose(fa.flows("fund") / 1e6, owners, rtol=1e-6)
    np.testing.assert_allclose(fa.lines["anchor"][Line.LEASE.value] / 1e6, -lease, rtol=1e-6)
    m = fa.party_metrics()
    assert m["dc"]["npv_usd"] / 1e6 == pytest.approx(npv(owners, 0.12), rel=1e-6)
    # the lender gets exactly its rate back
    assert m["bank"]["irr"] == pytest.approx(0.10, abs=1e-7)
    assert m["bank"]["npv_usd"] == pytest.approx(0.0, abs=1.0)
    # the anchor only pays; the operator sells nothing here (no wafers bought)
    assert m["anchor"]["irr"] is None and "only outflows" in m["anchor"]["irr_note"]
    assert m["op"]["irr"] is None
    # DSCR: (lease - opex) / debt service; none in 2025 (no service yet)
    assert m["dc"]["dscr"][0] is None
    assert m["dc"]["dscr"][1] == pytest.approx(8.76 / crf, rel=1e-6)


def test_every_dollar_is_paid_and_companies_balance(res):
    fa = analyse(res, _cfg(), LEASE)
    paid = sum(fa.spend_paid_by().values())
    np.testing.assert_allclose(paid, res.dataset["spend_usd"].sum("category").values, rtol=1e-9)
    assert paid.sum() == pytest.approx(res.total_spend(), rel=1e-9)
    for name, b in fa.books.items():
        np.testing.assert_allclose(sum(b.lines.values()), 0.0, atol=1e-3, err_msg=name)
    ds = fa.to_dataset()
    assert ds["finance_cash_flow_usd"].sizes == {"party": 5, "line": len(Line), "period": 3}


def test_required_return_lease_zeroes_the_lessor_npv(res):
    fa = analyse(res, _cfg("required_return"), LEASE)
    m = fa.party_metrics()["dc"]
    assert m["npv_usd"] == pytest.approx(0.0, abs=1e-3 * res.total_spend())
    assert m["irr"] == pytest.approx(0.12, abs=1e-6)
    # flat shape: the price is the same each year and is the anchor's levelised cost
    p = fa.lease.price
    assert p[0] > 0 and np.allclose(p, p[0])
    assert fa.anchor_cost()["lease_usd_per_h100e_hour"] == pytest.approx(p[0])
    # a higher market price than the needed one gives a positive NPV, and a lower a negative
    hi = analyse(res, _cfg(), {**LEASE, "price": p[0] * 1.2}).party_metrics()["dc"]
    lo = analyse(res, _cfg(), {**LEASE, "price": p[0] * 0.8}).party_metrics()["dc"]
    assert hi["npv_usd"] > 0 > lo["npv_usd"]


def test_anchor_cost_against_cloud(res):
    """Flat prices: the levelised lease is 0.5 and the cloud 2.0 $/H100e-hour; the saving is
    1.5 $ x PV of hours at 10%: 8.76e6 x (1 + 2/1.1 + 3/1.21) x 1.5."""
    a = analyse(res, _cfg(), LEASE).anchor_cost()
    assert a["lease_usd_per_h100e_hour"] == pytest.approx(0.5)
    assert a["cloud_usd_per_h100e_hour"] == pytest.approx(2.0)
    pv_h = 8.76e6 * (1 + 2 / 1.1 + 3 / 1.21)
    assert a["saving_vs_cloud_usd"] == pytest.approx(1.5 * pv_h, rel=1e-6)


def test_quarterly_periods():
    """With quarters the lender still earns its 10% a year, period labels are kept, and
    every dollar is still paid."""
    res = optimize(tiny_network(step="quarter", years=(2025, 2026)))
    fa = analyse(res, _cfg(), LEASE)
    m = fa.party_metrics()
    assert m["bank"]["irr"] == pytest.approx(0.10, abs=1e-7)
    assert fa.to_dataset()["period"].values.tolist()[:2] == ["2025Q1", "2025Q2"]
    paid = sum(fa.spend_paid_by().values()).sum()
    assert paid == pytest.approx(res.total_spend(), rel=1e-9)
    # hours per quarter: installed H100e x 8760 / 4
    h = res.dataset["compute_h100e"].values * 2190.0
    np.testing.assert_allclose(fa.lines["dc"][Line.LEASE.value], 0.5 * h, rtol=1e-9)


def test_interest_and_principal(res):
    """The 2025 tranche (5 M$ at 10%) pays 0.5 M$ interest in 2026; 2027 interest is on the
    2025 tranche's balance after one payment (5 x 1.1 - 2.8809524 = 2.6190476) plus the
    2026 tranche: 0.1 x (2.6190476 + 5) = 0.7619048 M$. Principal repays all 15 M$."""
    fa = analyse(res, _cfg(), LEASE)
    interest = -fa.lines["dc"][Line.DEBT_INTEREST.value] / 1e6
    principal = -fa.lines["dc"][Line.DEBT_PRINCIPAL.value] / 1e6
    crf = 5 * 0.1 * 1.21 / 0.21
    np.testing.assert_allclose(interest, [0.0, 0.5, 0.1 * (5 * 1.1 - crf + 5)], rtol=1e-6)
    assert principal.sum() == pytest.approx(15.0, rel=1e-9)
    np.testing.assert_allclose(fa.lines["bank"][Line.DEBT_INTEREST.value] / 1e6, interest)
