"""Bad finance input: clear errors that name the field."""

from __future__ import annotations

import copy

import pytest

from fab2flop.catalog import load_catalog
from fab2flop.errors import ScenarioError
from fab2flop.finance.defaults import default_finance, default_finance_dict
from fab2flop.finance.schema import parse_price_usd_per_h100e_hour
from fab2flop.scenario import load_scenario, load_scenario_dict, validate_scenario


@pytest.fixture(scope="module")
def base():
    data, _ = load_scenario_dict()
    sc = validate_scenario(data)
    data["finance"] = default_finance_dict(sc, load_catalog())
    return data


def _party(data, name):
    return next(p for p in data["finance"]["parties"] if p["name"] == name)


def _fails(data, *words):
    with pytest.raises(ScenarioError) as e:
        validate_scenario(data)
    msg = str(e.value)
    for w in words:
        assert w in msg, msg
    return e.value


def test_default_parties_are_the_five_funders_and_the_companies(base):
    sc = validate_scenario(base)
    names = [p.name for p in sc.finance.parties]
    assert names[:5] == [f.name for f in sc.budget.funders]
    for n in ("fab_company", "datacenter_company", "power_company", "openai", "tsmc"):
        assert n in names
    cfg = default_finance(load_scenario(), load_catalog())
    for comp in ("fab_company", "datacenter_company", "power_company"):
        assert sum(p.owns.get(comp, 0.0) for p in cfg.parties) == pytest.approx(1.0)


def test_shares_that_do_not_sum_to_one(base):
    d = copy.deepcopy(base)
    _party(d, "softbank")["owns"]["fab_company"] = 0.1  # 0.4 + 0.4 + 0.1 = 0.9
    e = _fails(d, "finance", "ownership shares of 'fab_company' add up to 0.9")
    assert e.problems[0][0] == "finance"


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("rate", -0.01, "finance.parties.4.rate"),
        ("tenor_years", -5, "finance.parties.4.tenor_years"),
        ("tenor_years", 0, "finance.parties.4.tenor_years"),
    ],
)
def test_negative_rate_or_tenor(base, field, value, words):
    d = copy.deepcopy(base)
    assert d["finance"]["parties"][4]["kind"] == "lender"
    d["finance"]["parties"][4][field] = value
    _fails(d, words)


def test_negative_required_return(base):
    d = copy.deepcopy(base)
    d["finance"]["parties"][0]["required_return"] = -0.05
    _fails(d, "finance.parties.0.required_return", "greater than or equal to 0")


@pytest.mark.parametrize(
    ("price", "words"),
    [
        ("184 USD/kW-month", "not in USD per H100e-hour"),
        ("2.2 USD/GPU-month", "not in USD per H100e-hour"),
        (1500.0, "outside (0, 50]"),
        (-1.0, "outside (0, 50]"),
    ],
)
def test_lease_price_in_the_wrong_unit(base, price, words):
    d = copy.deepcopy(base)
    d["finance"]["lease"] = {"price_usd_per_h100e_hour": price}
    _fails(d, "finance.lease.price_usd_per_h100e_hour", words)


def test_lease_price_with_the_right_unit_is_read():
    assert parse_price_usd_per_h100e_hour("2.5 USD/H100e-hour") == 2.5
    assert parse_price_usd_per_h100e_hour({2025: "2 $/h", 2030: 1}) == {2025: 2.0, 2030: 1.0}


def test_a_party_that_owns_nothing(base):
    d = copy.deepcopy(base)
    _party(d, "microsoft")["owns"] = {}
    _fails(d, "finance.parties.2", "equity party 'microsoft' owns nothing")


def test_an_asset_company_that_pays_for_nothing(base):
    d = copy.deepcopy(base)
    _party(d, "power_company")["pays_for"] = []
    _fails(d, "asset company 'power_company' pays for nothing")


def test_unknown_party_names(base):
    d = copy.deepcopy(base)
    own = _party(d, "chipmakers")["owns"]
    own["fab_compnay"] = own.pop("fab_company")
    _fails(d, "parties[3].owns", "unknown asset company ['fab_compnay']")
    d = copy.deepcopy(base)
    d["finance"]["anchor"] = "opneai"
    _fails(d, "anchor: unknown party 'opneai'")


def test_unknown_field_and_category(base):
    d = copy.deepcopy(base)
    d["finance"]["parties"][0]["owner"] = {}
    _fails(d, "finance.parties.0.owner", "Extra inputs are not permitted")
    d = copy.deepcopy(base)
    _party(d, "power_company")["pays_for"] = ["power", "nuclear"]
    _fails(d, "unknown categories ['nuclear']")


def test_override_on_the_command_line_names_the_field():
    with pytest.raises(ScenarioError, match="finance.lease.mode"):
        load_scenario(
            overrides=[
                "finance.parties=[]",
                "finance.lease.mode=cheapest",
            ]
        )


def test_a_section_without_parties_keeps_the_default_parties():
    """--set finance.lease.* on the default scenario: the default parties, the given lease."""
    from types import SimpleNamespace

    from fab2flop.finance import finance_config

    sc = load_scenario(overrides=["finance.lease.mode=required_return"])
    res = SimpleNamespace(network=SimpleNamespace(scenario=sc, catalog=load_catalog()))
    cfg = finance_config(res)
    assert cfg.lease.mode == "required_return"
    assert "datacenter_company" in [p.name for p in cfg.parties]


def test_no_funders_gives_one_generic_owner():
    sc = load_scenario(overrides=["budget.funders=[]"])
    cfg = default_finance(sc, load_catalog())
    owners = [p for p in cfg.parties if p.owns]
    assert [p.name for p in owners] == ["investors"]
    assert owners[0].owns == {"fab_company": 1.0, "datacenter_company": 1.0, "power_company": 1.0}
