"""Scale in context: yardstick lookups and ratios worked out by hand, and the catalog file."""

from __future__ import annotations

import pytest

from fab2flop.catalog import load_catalog, parse_catalog_texts
from fab2flop.context import Yardstick, compare, load_yardsticks, value_at
from fab2flop.errors import CatalogError


def test_value_at_takes_the_year_else_the_nearest_earlier_else_the_first():
    s = {2023: 1.0, 2025: 3.0}
    assert value_at(s, 2025) == (3.0, 2025)
    assert value_at(s, 2030) == (3.0, 2025)  # held from the last year given
    assert value_at(s, 2024) == (1.0, 2023)
    assert value_at(s, 2020) == (1.0, 2023)  # before the series: its first year


def test_compare_by_hand():
    """Plan spends $100B (2025) and $300B (2026), budget $7T.

    Flow F = {2024: 200, 2026: 400} ($B/yr): 2025 uses 2024's 200 -> 0.5; 2026: 300/400 =
    0.75; total 400 / (200 + 400) = 0.667; budget 7000 / 200 (value at 2025) = 35.
    Stock S = $3.5T: budget 2.0, spend total 400 / 3500 = 0.114.
    """
    f = Yardstick("x.f", "flow F", "flow", {2024: 200e9, 2026: 400e9}, "test")
    s = Yardstick("x.s", "stock S", "stock", {2024: 3.5e12}, "test")
    out = compare({2025: 100e9, 2026: 300e9}, 7e12, [f, s])
    ff, ss = out["yardsticks"]
    assert [r["ratio"] for r in ff["by_year"]] == pytest.approx([0.5, 0.75])
    assert [r["value_year"] for r in ff["by_year"]] == [2024, 2026]
    assert ff["total_ratio"] == pytest.approx(400 / 600)
    assert ff["budget_ratio"] == pytest.approx(35.0)
    assert ss["budget_ratio"] == pytest.approx(2.0)
    assert ss["spend_total_ratio"] == pytest.approx(400 / 3500)
    assert "by_year" not in ss
    assert out["sentences"][0].startswith("The plan's 2026 spend ($300.00B) is 0.75x flow F")
    assert "is 2.00x stock S" in out["sentences"][1]


def test_shipped_yardsticks_are_sourced_and_in_usd():
    ys = load_yardsticks()
    ids = {y.id for y in ys}
    for need in (
        "context.world_semiconductor_capex",
        "context.tsmc_capex",
        "context.world_datacenter_capex",
        "context.hyperscaler_capex",
        "context.us_corporate_bond_issuance",
        "context.pif_assets",
        "context.mubadala_assets",
        "context.adia_assets",
        "context.qia_assets",
        "context.apple_market_cap",
        "context.microsoft_market_cap",
        "context.nvidia_market_cap",
        "context.gdp_france",
        "context.gdp_us",
    ):
        assert need in ids
    # SIFMA: 1Q24 corporate issuance $627.6B was 43.4% of 2023's total -> $1.44T
    bonds = next(y for y in ys if y.id == "context.us_corporate_bond_issuance")
    assert bonds.series[2023] == pytest.approx(627.6e9 / 0.434, rel=0.01)
    assert all(y.source and y.kind in ("flow", "stock") for y in ys)


def test_unknown_or_non_money_yardstick_is_refused_with_its_id():
    with pytest.raises(CatalogError, match="yardstick 'gdp_atlantis' is unknown"):
        load_yardsticks(ids=["gdp_atlantis"])
    with pytest.raises(CatalogError, match="nodes.N3.wafer_price_usd"):
        load_yardsticks(ids=["nodes.N3.wafer_price_usd"])  # USD/wafer: not a yardstick
    # any catalog record in USD or USD/year can be named by its full id
    (y,) = load_yardsticks(ids=["finance.headline.total_usd"])
    assert y.kind == "stock" and y.series == {2024: 7.0e12}


def test_user_yardsticks_use_the_catalog_format():
    cat = parse_catalog_texts(
        {"context": "oil: {value: {2024: 3.0e12}, unit: USD/year, year: 2024, source: test}"}
    )
    (y,) = load_yardsticks(cat)
    assert (y.id, y.label, y.kind) == ("context.oil", "oil", "flow")
    assert load_catalog().with_overrides({"context.gdp_france": {2023: 3.1e12}}).series(
        "context.gdp_france"
    ) == {2023: 3.1e12}
