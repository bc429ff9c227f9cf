"""Scenario files: validation with field paths, overrides, extends, and the default."""

from __future__ import annotations

import pytest
import yaml

from fab2flop.errors import ScenarioError
from fab2flop.scenario import Scenario, load_scenario, parse_override


def test_default_scenario_is_the_feb_2024_plan():
    sc = load_scenario()
    assert sc.budget.total_usd == 7.0e12
    assert (sc.time.start, sc.time.end) == (2025, 2035)
    assert {"TW", "US", "JP", "KR", "AE"} <= set(sc.enabled_regions)
    assert {"H100", "H200", "B200", "B300", "MI300X", "MI355X"} <= set(sc.accelerators.merchant)
    assert "custom_v1" in sc.accelerators.custom
    # funders' shares add up to the whole budget
    assert sum(f.share or 0 for f in sc.budget.funders) == pytest.approx(1.0)


def test_overrides_change_values():
    sc = load_scenario(
        overrides=["budget.total_usd=3.5e12", "regions.TW.enabled=false", "time.end=2040"]
    )
    assert sc.budget.total_usd == 3.5e12
    assert sc.regions["TW"].enabled is False
    assert sc.time.end == 2040


def test_override_of_catalog_value_keeps_the_dotted_id():
    sc = load_scenario(overrides=["catalog.nodes.N3.wafer_price_usd=25000"])
    assert sc.catalog == {"nodes.N3.wafer_price_usd": 25000}


def test_override_of_list_item():
    sc = load_scenario(overrides=["budget.funders.0.share=0.2"])
    assert sc.budget.funders[0].share == 0.2


@pytest.mark.parametrize(
    "override, path, fragment",
    [
        ("budget.total_usd=-1", "budget.total_usd", "greater than 0"),
        ("budget.total_usd=lots", "budget.total_usd", "valid number"),
        ("regions.TW.enabled=maybe", "regions.TW.enabled", "valid boolean"),
        ("time.step=month", "time.step", "'year' or 'quarter'"),
        ("budget.totl_usd=1", "budget.totl_usd", "Extra inputs"),
        ("market.merchant_share=1.5", "market.merchant_share", "less than or equal to 1"),
    ],
)
def test_bad_override_names_field_value_and_expectation(override, path, fragment):
    with pytest.raises(ScenarioError) as err:
        load_scenario(overrides=[override])
    msg = str(err.value)
    assert path in msg
    assert fragment in msg
    assert any(p[0] == path for p in err.value.problems)


def test_override_without_equals_sign_is_explained():
    with pytest.raises(ScenarioError, match="KEY=VALUE"):
        parse_override("budget.total_usd")


def test_horizon_order_and_target_year_checked():
    with pytest.raises(ScenarioError, match="must not be before start"):
        load_scenario(overrides=["time.end=2020"])
    with pytest.raises(ScenarioError, match="target_year"):
        load_scenario(
            overrides=["objective.kind=max_compute_in_year", "objective.target_year=2050"]
        )


def test_all_regions_disabled_is_an_error():
    sets = [f"regions.{r}.enabled=false" for r in load_scenario().regions]
    with pytest.raises(ScenarioError, match="no region is enabled"):
        load_scenario(overrides=sets)


def test_file_that_extends_default(tmp_path):
    f = tmp_path / "mine.yaml"
    f.write_text(
        yaml.safe_dump({"extends": "default", "name": "mine", "budget": {"total_usd": 5e12}})
    )
    sc = load_scenario(f)
    assert sc.name == "mine"
    assert sc.budget.total_usd == 5e12
    assert sc.budget.funders  # kept from the default
    assert sc.time.end == 2035


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ScenarioError, match="does not exist"):
        load_scenario(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("budget: [1, 2\n")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(bad)
    lst = tmp_path / "list.yaml"
    lst.write_text("- 1\n- 2\n")
    with pytest.raises(ScenarioError, match="expected a mapping"):
        load_scenario(lst)


def test_funder_needs_exactly_one_amount():
    with pytest.raises(ScenarioError, match="exactly one of share or amount_usd"):
        load_scenario(overrides=["budget.funders.0.amount_usd=1e9"])


def test_schema_is_json_schema():
    s = Scenario.model_json_schema()
    assert s["type"] == "object"
    assert "budget" in s["properties"]


def test_digest_changes_with_content():
    a = load_scenario()
    b = load_scenario(overrides=["budget.total_usd=6e12"])
    assert a.digest() != b.digest()
    assert a.digest() == load_scenario().digest()


def test_review_regressions_in_input_checking(tmp_path):
    # a path year outside the horizon is an error, not a silent shift
    with pytest.raises(ScenarioError, match="outside the horizon"):
        load_scenario(
            overrides=[
                "objective.kind=min_cost_for_path",
                "objective.compute_path_h100e={2020: 1.0e6}",
            ]
        )
    # --set into a value is an error, not a traceback
    with pytest.raises(ScenarioError, match="not a mapping"):
        load_scenario(overrides=["budget.total_usd.x=1"])
    # a series of approvals is accepted; a negative one is not
    sc = load_scenario(overrides=["regions.US.accelerator_cap_units_per_year={2025: 5.0e5}"])
    assert sc.regions["US"].accelerator_cap_units_per_year == {2025: 5.0e5}
    with pytest.raises(ScenarioError, match="must be >= 0"):
        load_scenario(overrides=["regions.US.max_datacenter_mw=-5"])
    # unquoted NO in a list of regions
    with pytest.raises(ScenarioError, match="quote it"):
        load_scenario(overrides=["accelerators.assembly_regions=[US, NO]"])
    # a non-buildable process with capex would silently ignore it
    with pytest.raises(ScenarioError, match="not buildable"):
        load_scenario(
            overrides=[
                "processes=[{name: p, regions: [US], activity_unit: x, outputs: {a: 1}, "
                "buildable: false, fixed_om_usd_per_unit_year: 5}]"
            ]
        )
    # circular extends
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("extends: b.yaml\n")
    b.write_text("extends: a.yaml\n")
    with pytest.raises(ScenarioError, match="circle"):
        load_scenario(a)
