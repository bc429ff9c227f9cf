"""The uncertainty section: schema errors name their field; resolution expands patterns."""

from __future__ import annotations

import pytest

from fab2flop.catalog import load_catalog, parse_catalog_texts
from fab2flop.errors import ScenarioError
from fab2flop.risk.resolve import expand, resolve_uncertainty
from fab2flop.risk.uncertainty import default_uncertainty, validate_uncertainty

NODES = """
N3:
  wafer_price_usd: {value: 20000, low: 18000, high: 27000, unit: USD/wafer, year: 2024,
                    source: test}
  defect_density_per_cm2: {value: 0.1, low: 0.05, high: 0.2, unit: 1/cm2, year: 2024,
                           source: test}
  fab_life_years: {value: 15, low: 10, high: 20, unit: years, year: 2024, source: test}
N2:
  wafer_price_usd: {value: 30000, low: 25000, high: 35000, unit: USD/wafer, year: 2024,
                    source: test}
  label: {value: tsmc, unit: "-", year: 2024, source: test}
"""
SUPPLY = """
grid_mw: {value: {2025: 100, 2030: 400}, low: 200, high: 600, unit: MW, year: 2025, source: test}
"""
CAT = parse_catalog_texts({"nodes": NODES, "supply": SUPPLY})
KNOWN_EVENTS = {"taiwan_blockade": {"kind": "outage"}, "hbm_price_spike": {"kind": "price"}}


def problems_of(data, **kw):
    with pytest.raises(ScenarioError) as err:
        unc = validate_uncertainty(data)
        resolve_uncertainty(unc, CAT, events_catalog=KNOWN_EVENTS, **kw)
    return err.value.problems, str(err.value)


def test_pattern_matches_segment_by_segment():
    keys = ["nodes.N3.wafer_price_usd", "nodes.N3.x.wafer_price_usd", "nodes.N2.wafer_price_usd"]
    assert expand("nodes.*.wafer_price_usd", keys) == [
        "nodes.N2.wafer_price_usd",
        "nodes.N3.wafer_price_usd",
    ]
    assert expand("nodes.N9.wafer_price_usd", keys) == []


def test_defaults_come_from_the_catalog_record():
    unc = validate_uncertainty({"parameters": [{"id": "nodes.*.wafer_price_usd"}]})
    res = resolve_uncertainty(unc, CAT, events_catalog=None)
    by = {p.name: p for p in res.parameters}
    assert sorted(by) == ["nodes.N2.wafer_price_usd", "nodes.N3.wafer_price_usd"]
    d = by["nodes.N3.wafer_price_usd"].dist
    assert (d.dist, d.low, d.mode, d.high) == ("triangular", 18000, 20000, 27000)
    assert by["nodes.N3.wafer_price_usd"].unit == "USD/wafer"


def test_integer_records_are_rounded_and_series_scale_by_one_factor():
    unc = validate_uncertainty({"catalog_ranges": True})
    res = resolve_uncertainty(unc, CAT, events_catalog=None)
    by = {p.name: p for p in res.parameters}
    # the label and nothing else is left out: 4 numbers + 1 series
    assert len(by) == 5
    assert by["nodes.N3.fab_life_years"].integer
    assert not by["nodes.N3.defect_density_per_cm2"].integer
    grid = by["supply.grid_mw"]
    # low/high read against the series' largest value: 200/400 = 0.5, 600/400 = 1.5
    assert grid.series == {2025: 100.0, 2030: 400.0}
    assert (grid.dist.low, grid.dist.mode, grid.dist.high, grid.unit) == (0.5, 1.0, 1.5, "1")


def test_explicit_entry_replaces_the_default_one():
    unc = validate_uncertainty(
        {
            "catalog_ranges": True,
            "parameters": [{"id": "nodes.N3.wafer_price_usd", "dist": "uniform", "low": 1}],
        }
    )
    res = resolve_uncertainty(unc, CAT, events_catalog=None)
    d = {p.name: p for p in res.parameters}["nodes.N3.wafer_price_usd"].dist
    assert (d.dist, d.low, d.high) == ("uniform", 1, 27000)


def test_scenario_paths_resolve_against_the_scenario_mapping():
    scenario = {"time": {"start": 2026, "end": 2030}, "budget": {"total_usd": 7e12}}
    unc = validate_uncertainty(
        {"parameters": [{"path": "budget.total_usd", "dist": "uniform", "low": 3e12, "high": 8e12}]}
    )
    res = resolve_uncertainty(unc, CAT, scenario, events_catalog=None)
    (p,) = res.parameters
    assert (p.name, p.target, p.kind, p.nominal) == (
        "scenario.budget.total_usd",
        "budget.total_usd",
        "scenario",
        7e12,
    )
    assert res.horizon == (2026, 2030)


@pytest.mark.parametrize(
    ("data", "field", "phrase"),
    [
        ({"samples": 0}, "uncertainty.samples", "greater than 0"),
        (
            {"parameters": [{"id": "nodes.N3.wafer_price_usd", "low": 5, "high": 1}]},
            "uncertainty.parameters.0",
            "low (5) is above high (1)",
        ),
        (
            {"parameters": [{"id": "nodes.N3.wafer_price_usd", "dist": "uniform", "mode": 2}]},
            "uncertainty.parameters.0",
            "mode not read by a uniform distribution",
        ),
        (
            {"parameters": [{"id": "nodes.N3.wafer_price_usd", "colour": "red"}]},
            "uncertainty.parameters.0.colour",
            "Extra inputs are not permitted",
        ),
        (
            {"events": [{"name": "taiwan_blockade", "probability": 1.5}]},
            "uncertainty.events.0.probability",
            "less than or equal to 1",
        ),
        (
            {"events": [{"name": "taiwan_blockade", "probability_per_year": -0.1}]},
            "uncertainty.events.0.probability_per_year",
            "greater than or equal to 0",
        ),
        (
            {"events": [{"name": "taiwan_blockade", "probability": 0.1, "fraction": 1.2}]},
            "uncertainty.events.0",
            "fraction: 1.2 is outside [0, 1]",
        ),
        ({"method": "halton"}, "uncertainty.method", "'sobol', 'lhs' or 'random'"),
        (
            {"correlations": [{"parameters": ["a", "b"], "matrix": [[1, 0.5], [0.4, 1]]}]},
            "uncertainty.correlations.0",
            "not symmetric",
        ),
        (
            {"correlations": [{"parameters": ["a", "b"], "matrix": [[2, 0.5], [0.5, 1]]}]},
            "uncertainty.correlations.0",
            "diagonal must be 1",
        ),
        # det = 1 - 3(0.81) + 2(0.9)(-0.9)(0.9) = -2.888 < 0: not positive semi-definite
        (
            {
                "correlations": [
                    {
                        "parameters": ["a", "b", "c"],
                        "matrix": [[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]],
                    }
                ]
            },
            "uncertainty.correlations.0",
            "not positive semi-definite",
        ),
    ],
)
def test_schema_errors_name_the_field(data, field, phrase):
    probs, text = problems_of(data)
    assert any(loc == field and phrase in msg for loc, _, msg in probs), probs
    assert field in text


@pytest.mark.parametrize(
    ("data", "field", "phrase"),
    [
        (
            {"parameters": [{"id": "nodes.N3.wafer_prize_usd"}]},
            "uncertainty.parameters.0.id",
            "is not a catalog number",
        ),
        (
            {"parameters": [{"id": "nodes.*.yield_usd"}]},
            "uncertainty.parameters.0.id",
            "matches no catalog number",
        ),
        (
            {"parameters": [{"path": "budget.total_usd", "low": 1, "high": 2}]},
            "uncertainty.parameters.0.path",
            "need the scenario",
        ),
        # the catalog's value 20000 is the mode; a high of 19000 puts it outside
        (
            {"parameters": [{"id": "nodes.N3.wafer_price_usd", "high": 19000}]},
            "uncertainty.parameters.0 (nodes.N3.wafer_price_usd)",
            "mode (20000) is outside",
        ),
        (
            {"parameters": [{"id": "nodes.N3.wafer_price_usd", "dist": "discrete"}]},
            "uncertainty.parameters.0 (nodes.N3.wafer_price_usd)",
            "needs values",
        ),
        (
            {"catalog_ranges": True, "correlations": [{"parameters": ["nodes.N9.*"], "rho": 0.5}]},
            "uncertainty.correlations.0.parameters.0",
            "names no uncertain parameter",
        ),
        # three parameters pairwise at rho: PSD needs rho >= -1/(3-1) = -0.5
        (
            {
                "catalog_ranges": True,
                "correlations": [
                    {"parameters": ["nodes.*.wafer_price_usd", "supply.grid_mw"], "rho": -0.6}
                ],
            },
            "uncertainty.correlations.0.rho",
            "must be >= -0.5",
        ),
        (
            {
                "catalog_ranges": True,
                "correlations": [
                    {"parameters": ["nodes.N3.*"], "rho": 0.5},
                    {"parameters": ["nodes.N3.wafer_price_usd", "supply.grid_mw"], "rho": 0.5},
                ],
            },
            "uncertainty.correlations.1.parameters",
            "already in correlations.0",
        ),
        (
            {"events": [{"name": "martian_invasion", "probability": 0.1}]},
            "uncertainty.events.0.name",
            "one of the catalog's events",
        ),
        (
            {
                "events": [
                    {
                        "name": "taiwan_blockade",
                        "probability": 0.1,
                        "start": {"dist": "lognormal", "low": 2026, "high": 2030},
                    }
                ]
            },
            "uncertainty.events.0.start",
            "in the horizon 2025..2035",
        ),
    ],
)
def test_resolution_errors_name_the_field(data, field, phrase):
    probs, _ = problems_of(data)
    assert any(loc == field and phrase in msg for loc, _, msg in probs), probs


def test_every_problem_is_reported_at_once():
    probs, _ = problems_of(
        {
            "parameters": [{"id": "nodes.N3.nope"}, {"id": "nodes.N9.*"}],
            "events": [{"name": "nope", "probability": 0.5}],
        }
    )
    assert [p[0] for p in probs] == [
        "uncertainty.parameters.0.id",
        "uncertainty.parameters.1.id",
        "uncertainty.events.0.name",
    ]


def test_event_kind_comes_from_the_events_catalog():
    unc = validate_uncertainty({"events": [{"name": "hbm_price_spike", "probability": 0.2}]})
    res = resolve_uncertainty(unc, CAT, events_catalog=KNOWN_EVENTS)
    assert res.events[0].kind == "price"
    assert res.events[0].fraction.dist == "constant" and res.events[0].fraction.value == 1.0


def test_default_set_covers_every_catalog_range_and_sources_every_event():
    cat = load_catalog()
    unc = default_uncertainty()
    res = resolve_uncertainty(unc, cat, events_catalog=None)
    ranged = {
        r.id
        for r in cat
        if r.low is not None
        and r.high is not None
        and r.low < r.high
        and not isinstance(r.value, str)
        and (isinstance(r.value, dict) or r.low <= r.value <= r.high)
    }
    assert set(res.names) == ranged and len(ranged) > 200
    names = {e.name for e in unc.events}
    assert names == {
        "taiwan_blockade",
        "korea_hbm_disruption",
        "uae_export_denial",
        "turbine_shortage",
        "hbm_price_spike",
    }
    assert all(e.source and len(e.source) > 80 for e in unc.events)
    assert "nodes.A16.wafer_price_usd" in {n for g in res.groups for n in g[0]}


def test_the_docs_example_validates_and_resolves():
    import re
    from pathlib import Path

    import yaml

    from fab2flop.scenario import load_scenario

    text = (Path(__file__).resolve().parents[2] / "docs" / "risk.md").read_text("utf-8")
    block = re.search(r"```yaml\n(uncertainty:.*?)```", text, re.S).group(1)
    unc = validate_uncertainty(yaml.safe_load(block)["uncertainty"])
    scenario = load_scenario().model_dump()
    res = resolve_uncertainty(unc, load_catalog(), scenario, events_catalog=None)
    assert res.horizon == (scenario["time"]["start"], scenario["time"]["end"])
    by = {p.name: p for p in res.parameters}
    assert by["scenario.budget.total_usd"].dist.dist == "lognormal"
    assert by["datacenters.lease.market_mw_it"].series is not None
    assert [g[0] for g in res.groups][1] == [
        "memory.hbm3e.stack_price_usd",
        "scenario.budget.total_usd",
    ]


def test_a_pattern_takes_only_records_with_a_range():
    text = """
N3: {d: {value: 0.1, low: 0.05, high: 0.2, unit: 1/cm2, year: 2024, source: test}}
N7: {d: {value: 0.1, unit: 1/cm2, year: 2024, source: test}}
"""
    cat = parse_catalog_texts({"nodes": text})
    unc = validate_uncertainty({"parameters": [{"id": "nodes.*.d"}]})
    assert resolve_uncertainty(unc, cat, events_catalog=None).names == ["nodes.N3.d"]
    # named alone, N7 has no range to fill the triangular from: an error naming it
    with pytest.raises(ScenarioError, match=r"parameters.0 \(nodes.N7.d\).*needs low/mode/high"):
        resolve_uncertainty(validate_uncertainty({"parameters": [{"id": "nodes.N7.d"}]}), cat)
    # a pattern over records without any range
    with pytest.raises(ScenarioError, match="no matching record has a range"):
        resolve_uncertainty(validate_uncertainty({"parameters": [{"id": "nodes.N7.*"}]}), cat)


def test_an_event_starting_after_the_horizon_is_dropped_with_a_note():
    unc = validate_uncertainty(
        {"events": [{"name": "taiwan_blockade", "probability": 0.1, "start": 2040}]}
    )
    res = resolve_uncertainty(unc, CAT, horizon=(2025, 2035), events_catalog=KNOWN_EVENTS)
    assert res.events == []
    assert any("events.0.start" in n and "dropped" in n for n in res.notes), res.notes


def test_the_default_set_resolves_on_a_horizon_ending_before_2030():
    # uae_export_denial starts 2026-2031 and turbine_shortage 2025-2029: both reach past 2027
    scenario = {"time": {"start": 2025, "end": 2027}}
    res = resolve_uncertainty(default_uncertainty(), load_catalog(), scenario)
    assert res.horizon == (2025, 2027)
    names = [e.name for e in res.events]
    assert "uae_export_denial" in names and "turbine_shortage" in names
    clipped = [n for n in res.notes if "reaches outside the horizon 2025..2027" in n]
    assert len(clipped) == 2, res.notes


def test_the_default_set_holds_the_reference_hbm_stack_and_its_futures_build():
    """gb_per_stack and dies_per_stack define a generation's reference stack (their low/high
    list its other products): drawn independently they made 2 GB HBM3E dies and 17-21-high
    stacks, and about a third of the default futures failed to build. Held at the catalog's
    values, every HBM part's stack height is the nominal one in every future."""
    from fab2flop.network import build_network
    from fab2flop.risk.sweep import draw_samples, plan_tasks
    from fab2flop.scenario import load_scenario, validate_scenario

    cat = load_catalog()
    res = resolve_uncertainty(default_uncertainty(), cat, events_catalog=None)
    held = [p for p in res.parameters if p.name.endswith(("gb_per_stack", "dies_per_stack"))]
    gens = {p.name.split(".")[1] for p in held}
    assert {"hbm3", "hbm3e", "hbm4", "hbm4e"} <= gens
    for p in held:
        assert p.dist.dist == "constant" and p.dist.value == cat.records[p.name].value
    sc = load_scenario()
    tasks = plan_tasks(sc, draw_samples(sc, default_uncertainty(), 12, 0))
    failed = []
    for t in tasks:
        try:
            build_network(validate_scenario(t.scenario, f"sample {t.index}"))
        except ScenarioError as exc:
            failed.append(str(exc))
    assert not [f for f in failed if "-high" in f], failed
