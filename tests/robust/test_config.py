"""Bad robust input is a ScenarioError naming the field, raised before any work."""

from __future__ import annotations

import pytest

from fab2flop.errors import ScenarioError
from fab2flop.robust.config import RobustConfig
from fab2flop.robust.members import info_period, period_of_year, robust_config
from fab2flop.scenario import load_scenario

TWO = (
    "robust.futures=[{name: calm, probability: 0.8}, {name: blockade, probability: 0.2, "
    "events: [{use: taiwan_blockade, start: 2028}]}]"
)


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ("robust.scenarios=0", "robust.scenarios"),
        ("robust.alpha=0", "robust.alpha"),
        ("robust.alpha=1", "robust.alpha"),
        ("robust.alpha=1.5", "robust.alpha"),
        ("robust.lambda=-0.5", "robust.lambda"),
        ("robust.information_year=2040", "robust.information_year"),
        ("robust.information_year=2024", "robust.information_year"),
        ("robust.mode=median", "robust.mode"),
        ("robust.held_out=0", "robust.held_out"),
    ],
)
def test_bad_robust_field_is_named(override, field):
    with pytest.raises(ScenarioError) as exc:
        load_scenario(None, ["objective.kind=robust", override])
    assert field in [p[0] for p in exc.value.problems]


def test_probabilities_not_summing_to_one():
    bad = TWO.replace("0.2", "0.3")  # 0.8 + 0.3 = 1.1
    with pytest.raises(ScenarioError) as exc:
        load_scenario(None, ["objective.kind=robust", "robust.source=events", bad])
    (path, value, expected), *_ = exc.value.problems
    assert path == "robust.futures.probability"
    assert value == [0.8, 0.3] and "1.1" in expected


def test_named_source_without_futures():
    with pytest.raises(ScenarioError) as exc:
        load_scenario(None, ["objective.kind=robust", "robust.source=events"])
    assert exc.value.problems[0][0] == "robust.futures"


def test_a_good_block_loads_with_lambda_by_its_yaml_name():
    sc = load_scenario(
        None, ["objective.kind=robust", "robust.source=events", TWO, "robust.lambda=0.5"]
    )
    cfg = robust_config(sc)
    assert cfg.lambda_ == 0.5 and [f.probability for f in cfg.futures] == [0.8, 0.2]


def test_robust_config_checks_a_block_set_in_code():
    # a block assigned after validation is checked again at the robust entry point
    sc = load_scenario(None, ["objective.kind=robust"])
    sc.robust = RobustConfig(information_year=2050)
    with pytest.raises(ScenarioError) as exc:
        robust_config(sc)
    assert exc.value.problems[0][0] == "robust.information_year"


def test_information_periods():
    years = [2025.0, 2026.0, 2027.0, 2028.0]
    # an event at 2027 is known from the 2027 period (index 2); mid-2027 from 2028 (3)
    assert period_of_year(years, 2027) == 2 and period_of_year(years, 2027.5) == 3
    assert period_of_year(years, None) == 4  # never
    # the information year caps it; no event and no information year: never (4)
    assert info_period(years, [2027.0], 2026) == 1
    assert info_period(years, [2026.0, 2028.0], None) == 1
    assert info_period(years, [], None) == 4
