"""Issue 7: every input refused clearly (the field named) or answered honestly.

One regression test per class of failure found by hand and by the fuzzer (tests/fuzz).
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

import fab2flop
from fab2flop.checks import check_scenario, validate_scenario_deep
from fab2flop.cli import app
from fab2flop.errors import OutputError, ScenarioError
from fab2flop.results import finite_or_none
from fab2flop.scenario import load_scenario, short_repr
from fab2flop.solution import clip_noise
from fab2flop.yamlio import MAX_BYTES

runner = CliRunner()
SHORT = ["time.end=2026"]


def _refused(sets: list[str]) -> ScenarioError:
    """The ScenarioError the front door raises for the default scenario with ``sets``."""
    with pytest.raises(ScenarioError) as err:
        validate_scenario_deep(load_scenario(None, sets))
    return err.value


def _paths(err: ScenarioError) -> list[str]:
    return [p for p, _, _ in err.problems]


# ------------------------------------------------------------------ non-finite numbers


@pytest.mark.parametrize(
    "item, path",
    [
        ("regions.US.grid_mw_available=.nan", "regions.US.grid_mw_available"),
        ("regions.US.grid_mw_available={2026: .inf}", "regions.US.grid_mw_available.2026"),
        ("budget.total_usd=.inf", "budget.total_usd"),
        ("catalog.nodes.N3.wafer_price_usd=.nan", "catalog.nodes.N3.wafer_price_usd"),
        ("catalog.nodes.N3.wafer_price_usd=nan", "catalog.nodes.N3.wafer_price_usd"),
        ("objective.discount_rate=-.inf", "objective.discount_rate"),
    ],
)
def test_non_finite_numbers_are_refused_naming_the_field(item, path):
    err = _refused([item])
    assert path in _paths(err), err.problems
    assert path in str(err)


def test_nan_text_in_an_event_is_refused():
    # the text "nan" is read by pydantic as a float NaN: refused like .nan
    err = _refused(["events=[{use: taiwan_blockade, start: 2028, duration_years: nan}]"])
    assert any(p.startswith("events.0") for p in _paths(err)), err.problems


# ------------------------------------------------------------------ booleans for numbers


@pytest.mark.parametrize(
    "item, path",
    [
        ("budget.total_usd=true", "budget.total_usd"),
        ("seed=true", "seed"),
        ("regions.US.grid_mw_available={2026: true}", "regions.US.grid_mw_available.2026"),
        ("catalog.nodes.N3.wafer_price_usd=true", "catalog.nodes.N3.wafer_price_usd"),
        (
            "accelerators.custom.custom_v1.hbm_stacks=true",
            "accelerators.custom.custom_v1.hbm_stacks",
        ),
        ("process_overrides.fab_N3.lead_years=true", "process_overrides.0.set.lead_years"),
    ],
)
def test_booleans_where_numbers_are_expected_are_refused(item, path):
    err = _refused([item])
    assert path in _paths(err), err.problems


def test_booleans_in_boolean_fields_still_work():
    sc = load_scenario(None, ["regions.TW.enabled=false", "budget.carry_over=false"])
    assert sc.regions["TW"].enabled is False and sc.budget.carry_over is False


# ------------------------------------------------------------------ unknown names


@pytest.mark.parametrize(
    "sets, path",
    [
        (["technologies.fab_nodes=[N9]"], "technologies.fab_nodes.0"),
        (["technologies.power=[gas_cc, fusion]"], "technologies.power.1"),
        (["accelerators.merchant=[ZZZ]"], "accelerators.merchant.0"),
        (["accelerators.merchant=[H100, H100]"], "accelerators.merchant.1"),
        (["accelerators.assembly_regions=[QQ]"], "accelerators.assembly_regions.0"),
        (["market.supplier_regions.foundry=QQ"], "market.supplier_regions.foundry"),
        (["regions.XX.enabled=true"], "regions.XX"),
        (["catalog.nodes.N3.no_such_field=1"], "catalog.nodes.N3.no_such_field"),
    ],
)
def test_unknown_names_are_refused_with_their_path(sets, path):
    err = _refused(sets)
    assert path in _paths(err), err.problems


# ------------------------------------------------------------------ negative values


def test_negative_catalog_override_names_the_field_the_user_wrote():
    # it used to end in a traceback from an internal process (var_cost_usd_per_unit)
    err = _refused(["catalog.nodes.N3.wafer_price_usd=-1"])
    assert _paths(err) == ["catalog.nodes.N3.wafer_price_usd"]
    assert "var_cost" not in str(err)


def test_catalog_fraction_above_one_and_wrong_type_are_refused():
    assert _paths(_refused(["catalog.datacenters.fleet.utilization=1.5"])) == [
        "catalog.datacenters.fleet.utilization"
    ]
    assert _paths(_refused(["catalog.nodes.N3.wafer_price_usd=abc"])) == [
        "catalog.nodes.N3.wafer_price_usd"
    ]


def test_yaml11_exponent_text_is_read_as_the_number_it_is():
    # PyYAML reads 1e300 (no dot) as text; the catalog and the check read it as 1e300,
    # far above any price: refused for its size, not its type
    err = _refused(["catalog.nodes.N3.wafer_price_usd=1e300"])
    assert "at most" in err.problems[0][2]


# ------------------------------------------------------------------ years and horizon


@pytest.mark.parametrize(
    "item, fragment",
    [
        ("time.end=2150", "at most 100"),  # 2025..2150 is 126 years
        ("regions.US.grid_mw_available={1000: 5}", "series key 1000"),
        ("budget.funders=[{name: a, share: 1, start: 1800, end: 2030}]", "greater than or equal"),
        ("objective.target_year=3000", "less than or equal"),
    ],
)
def test_years_outside_a_sane_range_are_refused(item, fragment):
    err = _refused([item])
    assert fragment in str(err)


# ------------------------------------------------------------------ YAML files


def test_file_that_is_not_utf8_is_refused(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(ScenarioError, match="not UTF-8"):
        load_scenario(p)


def test_file_too_large_states_the_limit(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_bytes(b"#" * (MAX_BYTES + 1))
    with pytest.raises(ScenarioError, match=f"limit of {MAX_BYTES:,} bytes"):
        load_scenario(p)


def test_deeply_nested_file_is_refused(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("description: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ScenarioError, match="nested"):
        load_scenario(p)


def test_duplicate_key_in_a_scenario_file_is_refused(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("extends: default\nbudget:\n  total_usd: 1.0e12\n  total_usd: 2.0e12\n")
    with pytest.raises(ScenarioError, match="'total_usd' appears twice"):
        load_scenario(p)


def _bomb_under(key: str) -> str:
    # 9 levels of 9 aliases: 9**9 = 387M values from ~400 bytes
    lines = [f"{key}:", "  l0: &l0 [1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    lines += [f"  l{k}: &l{k} [" + ", ".join([f"*l{k - 1}"] * 9) + "]" for k in range(1, 9)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("key", ["catalog", "name"])
def test_alias_bomb_is_refused_fast(tmp_path, key):
    p = tmp_path / "s.yaml"
    p.write_text(_bomb_under(key))
    assert p.stat().st_size < 600
    t0 = time.perf_counter()
    with pytest.raises(ScenarioError, match="expands to more than"):
        load_scenario(p)
    assert time.perf_counter() - t0 < 5.0


def test_alias_bomb_in_a_set_value_is_refused():
    # b holds 9 x 9 values, c0 9 x b, ... c5 = 9**8 = 43M values: over the 200,000 budget
    deep = (
        "{a: &a [1,1,1,1,1,1,1,1,1], b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a], "
        + ", ".join(
            f"c{i}: &c{i} [" + ", ".join([f"*{'b' if i == 0 else f'c{i - 1}'}"] * 9) + "]"
            for i in range(6)
        )
        + "}"
    )
    with pytest.raises(ScenarioError, match="expands to more than"):
        load_scenario(None, [f"catalog.nodes.N3.wafer_price_usd={deep}"])


def test_extends_cycle_and_failed_parent_name_the_files(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(ScenarioError, match="goes round in a circle"):
        load_scenario(tmp_path / "a.yaml")
    (tmp_path / "c.yaml").write_text("extends: broken.yaml\n")
    (tmp_path / "broken.yaml").write_text("budget: [1, 2\n")
    with pytest.raises(ScenarioError, match=r"extends 'broken.yaml', which failed") as err:
        load_scenario(tmp_path / "c.yaml")
    assert "broken.yaml" in str(err.value) and "not valid YAML" in str(err.value)
    (tmp_path / "d.yaml").write_text("extends: missing.yaml\n")
    with pytest.raises(ScenarioError, match="missing.yaml"):
        load_scenario(tmp_path / "d.yaml")


def test_yaml_merge_keys_may_restate_a_merged_key(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text(
        "extends: default\nx: &b {total_usd: 5.0e12, carry_over: true}\n"
        "budget: {<<: *b, total_usd: 4.0e12}\n"
    )
    with pytest.raises(ScenarioError, match="x: got"):  # unknown key x; the merge itself is fine
        load_scenario(p)


# ------------------------------------------------------------------ echoed values


def test_echoed_values_are_cut_short_whatever_their_size():
    big = "x" * 100_000
    for item in (
        f"accelerators.custom.custom_v1.node={big}",
        f"process_overrides.{big}.lead_years=1",
        f"catalog.{big}=1",
        f"regions.{big}.enabled=true",
        f"events=[{{use: {big}}}]",
    ):
        err = _refused([item])
        assert len(str(err)) < 3000, item[:40]


def test_short_repr_escapes_and_cuts():
    assert short_repr("a\x1b[31mb") == repr("a\x1b[31mb")
    assert len(short_repr("y" * 10_000)) <= 80
    assert short_repr(10**5000).startswith("<int") or len(short_repr(10**5000)) <= 80


# ------------------------------------------------------------------ CLI: markup, exits


def test_set_key_that_looks_like_markup_does_not_crash():
    r = runner.invoke(app, ["scenario", "validate", "default", "--set", "[/x]=1"])
    assert r.exit_code == 2, r.output
    assert "[/x]" in r.stderr and "Traceback" not in r.output


def test_scenario_validate_and_run_give_the_same_verdict(monkeypatch):
    # run stops right after the front door (optimize replaced): both refuse with exit 2
    import fab2flop.optimizer as opt

    def reached(*a, **k):
        raise SystemExit(0)

    monkeypatch.setattr(opt, "optimize", reached)
    for sets in (["catalog.nodes.N3.wafer_price_usd=-1"], ["technologies.fab_nodes=[N9]"]):
        args = [x for s in sets for x in ("--set", s)]
        v = runner.invoke(app, ["scenario", "validate", "default", *args])
        r = runner.invoke(app, ["run", *args])
        assert v.exit_code == r.exit_code == 2
        assert v.stderr.splitlines()[-1] == r.stderr.splitlines()[-1]
    v = runner.invoke(app, ["scenario", "validate", "default", "--set", "time.end=2026"])
    assert v.exit_code == 0 and "valid" in v.stdout


def test_scenario_validate_json_lists_problems():
    r = runner.invoke(
        app, ["scenario", "validate", "default", "--json", "--set", "budget.total_usd=.nan"]
    )
    assert r.exit_code == 2
    out = json.loads(r.stdout)
    assert out["valid"] is False and out["problems"][0]["path"] == "budget.total_usd"


# ------------------------------------------------------------------ honest answers


def test_clip_noise_zeroes_tolerance_and_negatives():
    # scale 10 natural units per model unit: tolerance 1e-6 x 10 = 1e-5
    val = xr.DataArray([-3.0, -1e-9, 5e-6, 2e-5, 7.0])
    assert clip_noise(val, 10.0).values.tolist() == [0.0, 0.0, 0.0, 2e-5, 7.0]


def test_non_finite_metrics_are_null_in_strict_json():
    got = finite_or_none({"a": float("nan"), "b": [1.0, np.inf, np.float64(-np.inf)], "c": 2})
    assert got == {"a": None, "b": [1.0, None, None], "c": 2}
    from fab2flop.results import _dumps

    text = _dumps({"x": np.nan, "y": [np.float32("inf")]})
    assert json.loads(text) == {"x": None, "y": [None]}


def test_budget_that_buys_nothing_says_so():
    # without the default's starting fleet (installed), which would be compute it already has
    res = fab2flop.optimize(load_scenario(None, ["budget.total_usd=1000", "installed={}", *SHORT]))
    s = res.summary()
    assert res.buys_nothing and "buys no usable compute" in res.message
    assert all(v >= 0 for v in s["compute_h100e"])
    assert s["cost_per_h100e_hour_usd"] is None and s["capex_per_gw_usd"] is None
    json.loads(res.to_json())


def test_unreachable_compute_path_is_explained_in_the_users_terms():
    res = fab2flop.optimize(
        load_scenario(
            None,
            [
                "objective.kind=min_cost_for_path",
                "objective.compute_path_h100e={2026: 1.0e12}",
                *SHORT,
            ],
        )
    )
    assert not res.status.ok
    assert "compute_path_h100e cannot be met" in res.message and "2026" in res.message


# ------------------------------------------------------------------ Python API


def test_python_api_checks_its_arguments():
    with pytest.raises(ScenarioError, match="a Scenario"):
        fab2flop.optimize("default")
    with pytest.raises(ScenarioError, match="a Scenario"):
        fab2flop.build_network({"name": "x"})
    with pytest.raises(ScenarioError, match=r"--solver 'fast': expected one of choose"):
        fab2flop.optimize(load_scenario(None, SHORT), method="fast")
    with pytest.raises(ScenarioError, match="list of KEY=VALUE"):
        fab2flop.load_scenario(None, "budget.total_usd=1")
    with pytest.raises(ScenarioError, match="expected a file path"):
        fab2flop.load_scenario(42)
    with pytest.raises(ScenarioError, match="a string KEY=VALUE"):
        fab2flop.load_scenario(None, [3])


def test_solver_message_is_the_same_in_api_and_cli():
    r = runner.invoke(app, ["run", "--solver", "fast", "--set", "time.end=2026"])
    with pytest.raises(ScenarioError) as err:
        fab2flop.optimize(load_scenario(None, SHORT), method="fast")
    assert r.exit_code == 2 and str(err.value) in r.stderr


def test_build_network_refuses_like_the_front_door():
    sc = load_scenario(None, ["catalog.nodes.N3.wafer_price_usd=-1"])
    with pytest.raises(ScenarioError) as err:
        fab2flop.build_network(sc)
    assert err.value.problems == check_scenario(sc)


def test_results_load_refuses_what_is_not_a_whole_run(tmp_path):
    with pytest.raises(OutputError, match="not a folder"):
        fab2flop.Results.load(tmp_path / "missing")
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "metadata.json").write_text("{}")
    with pytest.raises(OutputError, match="did not finish"):
        fab2flop.Results.load(tmp_path / "half")
    with pytest.raises(OutputError, match="expected a folder path"):
        fab2flop.Results.load(3)


def test_unknown_regions_of_a_user_process_are_refused():
    proc = (
        "processes=[{name: my_line, regions: [US, QQ], activity_unit: units/year, "
        "outputs: {acc_H100: 1}, by_region: {ZZ: {existing: 1}}}]"
    )
    err = _refused([proc])
    assert {"processes.0.regions.1", "processes.0.by_region.ZZ"} <= set(_paths(err))


def test_integers_too_large_for_a_float_are_refused_not_crashed():
    # found by the fuzzer: math.isfinite(10**400) raises OverflowError
    big = str(10**400)
    err = _refused([f"catalog.nodes.N3.wafer_price_usd={big}"])
    assert _paths(err) == ["catalog.nodes.N3.wafer_price_usd"]
    err = _refused([f"regions.US.grid_mw_available={{{big}: 1}}"])
    assert len(str(err)) < 1000


def test_no_accelerator_at_all_is_refused_before_the_solve():
    # found by the fuzzer (and in the issue): the LP builder raised a bare ValueError
    err = _refused(["accelerators.merchant=[]", "accelerators.custom={}"])
    assert _paths(err) == ["accelerators"]
    r = runner.invoke(
        app, ["run", "--set", "accelerators.merchant=[]", "--set", "accelerators.custom={}"]
    )
    assert r.exit_code == 2 and "at least one to buy" in r.stderr
