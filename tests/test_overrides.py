"""process_overrides merge by default, replace on request, select by pattern or category,
and refuse silent drops; extending files replace collections and merge configuration."""

from __future__ import annotations

import pytest
import yaml

from fab2flop import load_scenario
from fab2flop.catalog import load_catalog
from fab2flop.constants import Category
from fab2flop.errors import ScenarioError
from fab2flop.scenario import deep_merge
from fab2flop.supplychain import build_supply_chain


def _procs(*overrides: str) -> dict:
    sc = load_scenario(overrides=list(overrides))
    chain = build_supply_chain(sc, load_catalog().with_overrides(sc.catalog))
    return {p.name: p for p in chain.processes}


@pytest.fixture(scope="module")
def plain() -> dict:
    return _procs()


def test_build_inputs_merge_keeps_the_power_build_slot():
    """Every MW of a power plant uses 1 MW of the region's construction slot
    (power_build_mw); adding a turbine input must keep that slot."""
    p = _procs("process_overrides={power_gas_cc: {build_inputs: {turbine: 0.002}}}")
    assert p["power_gas_cc"].build_inputs == {"power_build_mw": 1.0, "turbine": 0.002}
    assert p["power_gas_ct"].build_inputs == {"power_build_mw": 1.0}  # not selected


def test_adding_an_input_to_an_assembly_keeps_wafers_hbm_and_cowos(plain):
    p = _procs("process_overrides={assemble_custom_v1: {inputs: {substrate: 1}}}")
    got = p["assemble_custom_v1"].inputs
    assert got == {**plain["assemble_custom_v1"].inputs, "substrate": 1.0}
    assert {"wafer_N3", "hbm3e_stack", "cowos_wafer", "substrate"} == set(got)


def test_an_amount_given_again_is_replaced_and_scalars_replace(plain):
    p = _procs("process_overrides={datacenter: {inputs: {mw_power: 1.1}, lead_years: 3}}")
    assert p["datacenter"].inputs == {"mw_power": 1.1}  # PUE 1.2 -> 1.1
    assert p["datacenter"].lead_years == 3
    assert p["datacenter"].capex_usd_per_unit == plain["datacenter"].capex_usd_per_unit


def test_replace_true_replaces_the_mapping_whole():
    short = _procs(
        "process_overrides={assemble_custom_v1: {inputs: {wafer_N3: 0.05}, replace: true}}"
    )
    assert short["assemble_custom_v1"].inputs == {"wafer_N3": 0.05}
    listed = _procs(
        "process_overrides=[{select: power_smr, set: {build_inputs: {}}, replace: true}]"
    )
    assert listed["power_smr"].build_inputs == {}


def test_pattern_selects_every_node_including_later_ones(plain):
    p = _procs('process_overrides={"fab_*": {lead_years: 4}}')
    fabs = [n for n in p if n.startswith("fab_")]
    assert sorted(fabs) == ["fab_A16", "fab_N2", "fab_N3"]
    assert all(p[n].lead_years == 4 for n in fabs)
    assert p["hbm_line"].lead_years == plain["hbm_line"].lead_years  # not a fab_ name


def test_category_selects_all_of_a_category(plain):
    p = _procs("process_overrides=[{select: {category: power}, set: {life_years: 20}}]")
    power = [n for n, x in plain.items() if x.category is Category.POWER]
    assert "power_build_limit" in power and "power_smr" in power
    assert all(p[n].life_years == 20 for n in power)
    assert p["grid"].life_years == plain["grid"].life_years  # operations, not power
    # name and category together: only the power plants named power_gas_*
    q = _procs(
        "process_overrides=[{select: {name: 'power_gas_*', category: power}, set: {lead_years: 1}}]"
    )
    assert [n for n in q if q[n].lead_years == 1] == ["power_gas_cc", "power_gas_ct"]


def test_dropping_a_generated_input_needs_replace():
    with pytest.raises(ScenarioError, match="hbm3e_stack.*assemble_custom_v1.*replace: true"):
        _procs("process_overrides={assemble_custom_v1: {inputs: {hbm3e_stack: 0}}}")
    with pytest.raises(ScenarioError, match="power_build_mw"):
        _procs("process_overrides={power_smr: {build_inputs: {power_build_mw: null}}}")
    with pytest.raises(ScenarioError, match="wafer_N3"):
        _procs("process_overrides={fab_N3: {outputs: {wafer_N3: 0}}}")


def test_selector_matching_nothing_is_named():
    with pytest.raises(ScenarioError, match=r"process_overrides\.fob_\*: selects no process"):
        _procs('process_overrides={"fob_*": {lead_years: 1}}')
    with pytest.raises(ScenarioError, match="category=memory"):
        # without own designs there is no HBM, so no memory process
        _procs(
            "accelerators.custom={}",
            "process_overrides=[{select: {category: memory}, set: {lead_years: 1}}]",
        )


def test_bad_override_fields_fail_at_load_naming_the_process():
    with pytest.raises(ScenarioError, match=r"process_overrides\.fab_N2.*leadyears"):
        load_scenario(overrides=["process_overrides={fab_N2: {leadyears: 4}}"])
    with pytest.raises(ScenarioError, match="cannot rename"):
        load_scenario(overrides=["process_overrides=[{select: fab_N2, set: {name: x}}]"])
    with pytest.raises(ScenarioError, match=r"process_overrides\.0\.select\.category"):
        load_scenario(overrides=["process_overrides=[{select: {category: fab}, set: {}}]"])


def test_invalid_result_of_an_override_names_it():
    with pytest.raises(ScenarioError, match=r"process_overrides\.datacenter.*lead_years"):
        _procs("process_overrides={datacenter: {lead_years: -1}}")


def test_regional_values_merge_field_by_field():
    p = _procs(
        "regions.US.max_datacenter_mw=5000",
        "process_overrides={datacenter: {by_region: {US: {capex_multiplier: 1.5}}}}",
    )
    us = p["datacenter"].by_region["US"]
    assert (us.max_capacity, us.capex_multiplier) == (5000, 1.5)


def test_extends_replaces_collections_and_merges_configuration(tmp_path):
    f = tmp_path / "merchant_only.yaml"
    f.write_text(
        yaml.safe_dump(
            {
                "extends": "default",
                "accelerators": {"custom": {}},
                "regions": {"US": {"max_datacenter_mw": {2030: 9000}}},
                "process_overrides": {"fab_N2": {"lead_years": 4}},
            }
        )
    )
    sc = load_scenario(f)
    base = load_scenario()
    assert sc.accelerators.custom == {}  # no own designs, not the default three
    assert sc.accelerators.merchant == base.accelerators.merchant  # sibling kept
    assert sc.regions["US"].fabs == base.regions["US"].fabs  # region config merged
    assert sc.regions["US"].max_datacenter_mw == {2030: 9000}
    assert len(sc.process_overrides) == 1

    child = tmp_path / "child.yaml"
    child.write_text(
        "extends: merchant_only.yaml\n"
        "accelerators: {custom: {custom_v1: {}}}\n"
        "regions: {US: {max_datacenter_mw: {2032: 12000}}}\n"
        "process_overrides: []\n"
    )
    sc2 = load_scenario(child)
    assert list(sc2.accelerators.custom) == ["custom_v1"]
    # a {year: value} series is replaced, not merged year by year
    assert sc2.regions["US"].max_datacenter_mw == {2032: 12000}
    assert sc2.process_overrides == []


def test_deep_merge_rules_on_raw_dicts():
    base = {"catalog": {"a.b": 1}, "processes": [{"name": "x"}], "time": {"end": 2035}}
    top = {"catalog": {"c.d": 2}, "processes": [], "time": {"start": 2026}}
    assert deep_merge(base, top) == {
        "catalog": {"a.b": 1, "c.d": 2},
        "processes": [],
        "time": {"end": 2035, "start": 2026},
    }
