"""Installed base and world demand: sourced records, and bad input as a ScenarioError naming
the field (negative or future-dated units, unknown units, vendors, owners, parts, blocs)."""

from __future__ import annotations

import pytest

from fab2flop.catalog import load_catalog
from fab2flop.errors import ScenarioError
from fab2flop.world import build_world, demand_kind, validate_world


def _world(**fields):
    return validate_world({"time": {"start": 2023, "end": 2024}, **fields})


def _paths(exc: pytest.ExceptionInfo) -> list[str]:
    return [p for p, _, _ in exc.value.problems]


def test_catalog_installed_base_is_dated_before_the_backtest_start():
    cat = load_catalog()
    for v in cat.group("installed_base.fleet"):
        for p in cat.group(f"installed_base.fleet.{v}"):
            years = cat.series(f"installed_base.fleet.{v}.{p}")
            assert max(years) < 2023, (v, p)
            assert min(years.values()) >= 0


def test_start_capacities_agree_with_the_supply_series():
    cat = load_catalog()
    pairs = {
        "wafers_N5_wpm": "supply.wafers.N5.world_wpm",
        "wafers_N3_wpm": "supply.wafers.N3.world_wpm",
        "cowos_wpm": "supply.packaging.cowos.world_wpm",
        "hbm_wpm": "supply.memory.hbm.world_wpm",
    }
    for rec, supply in pairs.items():
        for y, v in cat.series(f"installed_base.capacity.{rec}").items():
            assert cat.series(supply)[y] == v, (rec, y)


def test_negative_installed_units_name_the_field():
    cfg = _world(installed={"NVIDIA": {"H100": {2022: -5}}})
    with pytest.raises(ScenarioError, match="must be >= 0") as exc:
        build_world(cfg)
    assert _paths(exc) == ["installed.NVIDIA.H100.2022"]


def test_future_dated_installed_units_name_the_field():
    cfg = _world(installed={"NVIDIA": {"H100": {2023: 1000}}})
    with pytest.raises(ScenarioError, match="not installed at the start") as exc:
        build_world(cfg)
    assert _paths(exc) == ["installed.NVIDIA.H100.2023"]


def test_installed_part_of_the_wrong_vendor_or_unknown():
    with pytest.raises(ScenarioError, match="made by 'NVIDIA'") as exc:
        build_world(_world(installed={"AMD": {"H100": {2022: 1}}}))
    assert _paths(exc) == ["installed.AMD.H100"]
    with pytest.raises(ScenarioError, match="unknown part 'X999'"):
        build_world(_world(installed={"NVIDIA": {"X999": {2022: 1}}}))


def test_demand_in_an_unknown_unit_names_the_field():
    cfg = _world(demand={"google": {"Google": {"value": 1e9, "unit": "EUR/year"}}})
    with pytest.raises(ScenarioError, match="unknown unit 'EUR/year'") as exc:
        build_world(cfg)
    assert _paths(exc) == ["demand.google.Google.unit"]
    with pytest.raises(ScenarioError) as exc2:
        demand_kind("wafers/year", "world_demand.blocs.x.NVIDIA")
    assert exc2.value.problems[0][0] == "world_demand.blocs.x.NVIDIA"


def test_demand_for_an_unknown_vendor_names_the_field():
    cfg = _world(demand={"google": {"Intel": {"value": 1e9, "unit": "USD/year"}}})
    with pytest.raises(ScenarioError, match="unknown vendor 'Intel'") as exc:
        build_world(cfg)
    assert _paths(exc) == ["demand.google.Intel"]


def test_negative_demand_names_the_field():
    cfg = _world(demand={"google": {"Google": {"value": -1.0, "unit": "USD/year"}}})
    with pytest.raises(ScenarioError, match="negative demand") as exc:
        build_world(cfg)
    assert _paths(exc) == ["demand.google.Google"]


def test_a_part_owned_by_no_bloc_names_the_owner_field():
    # without the meta bloc, MTIA (owner meta) could be bought by nobody
    blocs = ["nvidia_buyers", "amd_buyers", "google", "amazon", "microsoft", "china"]
    with pytest.raises(ScenarioError, match="'MTIA_v2' is owned by 'meta'") as exc:
        build_world(_world(blocs=blocs))
    assert _paths(exc) == ["world_accelerators.MTIA_v2.owner"]


def test_unknown_bloc_and_part_name_the_field():
    with pytest.raises(ScenarioError, match="unknown bloc 'martians'") as exc:
        build_world(_world(blocs=["martians"]))
    assert _paths(exc) == ["blocs"]
    with pytest.raises(ScenarioError, match="unknown part 'TPU_v99'") as exc:
        build_world(_world(parts=["H100", "TPU_v99"]))
    assert _paths(exc) == ["parts"]


def test_bad_world_file_fields():
    with pytest.raises(ScenarioError) as exc:
        validate_world({"time": {"start": 2025, "end": 2023}})
    assert _paths(exc) == ["time.end"]
    with pytest.raises(ScenarioError) as exc:
        validate_world({"blocks": ["google"]})  # a misspelt field
    assert _paths(exc) == ["blocks"]
    with pytest.raises(ScenarioError) as exc:
        validate_world({"demand": {"google": {"Google": {"value": 1.0}}}})  # no unit
    assert _paths(exc) == ["demand.google.Google.unit"]
