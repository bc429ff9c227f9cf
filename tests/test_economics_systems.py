"""Systems priced bottom-up per class (catalog systems.*), not as a fraction of the chip.

Arithmetic by hand from the catalog records (sources in systems.yaml):
  hgx_8gpu:   host 4,001 + scale-up 0 + scale-out 6,613 + storage 1,147 + 553 $/kW x kW
  rack_scale: host 2,458 + scale-up 3,278 + scale-out 7,375 + storage 1,147 + 553 $/kW x kW
kW of IT per unit = (TDP + 0.52 kW host) x 1.05 (accelerators.system.*).
"""

from __future__ import annotations

import pytest

from fab2flop.catalog import load_catalog
from fab2flop.components.accelerator import design_from_catalog, evaluate
from fab2flop.components.systems import deploy_cost_usd, system_class, system_cost_usd
from fab2flop.errors import CatalogError, ScenarioError
from fab2flop.scenario import load_scenario
from fab2flop.supplychain.fleet import build_fleet


@pytest.fixture(scope="module")
def cat():
    return load_catalog()


def test_h100_system_by_hand(cat) -> None:
    # kW: (0.7 + 0.52) x 1.05 = 1.281; 4,001 + 0 + 6,613 + 1,147 + 553 x 1.281 (708.393)
    # = 12,469.393
    s = system_cost_usd("H100", "merchant", 2023, 1.281, cat)
    assert s.system_class == "hgx_8gpu"
    assert s.rack_power_cooling == pytest.approx(708.393)
    assert s.total_usd == pytest.approx(12_469.393)


def test_b200_rack_system_by_hand(cat) -> None:
    # kW: (1.2 + 0.52) x 1.05 = 1.806; 2,458 + 3,278 + 7,375 + 1,147 + 553 x 1.806 (998.718)
    # = 15,256.718. Bernstein's GB200 NVL72: $3.4M rack - $2.3M of GPUs = $1.1M / 72 = $15.3k
    spec = evaluate(design_from_catalog("B200", cat), cat)
    assert spec.kw_it_per_unit == pytest.approx(1.806)
    s = system_cost_usd("B200", "merchant", spec.available_from, spec.kw_it_per_unit, cat)
    assert s.system_class == "rack_scale"
    assert s.total_usd == pytest.approx(15_256.718)
    assert s.total_usd == pytest.approx((3.4e6 - 2.3e6) / 72, rel=0.01)


def test_class_rule(cat) -> None:
    assert system_class("custom_v2", "custom", 2028, cat) == "rack_scale"  # own design
    assert system_class("NewPart", "merchant", 2024, cat) == "hgx_8gpu"  # before 2025
    assert system_class("NewPart", "merchant", 2027, cat) == "rack_scale"
    assert system_class("MI355X", "merchant", 2025, cat) == "hgx_8gpu"  # assigned


def test_cheaper_chip_does_not_get_a_cheaper_server(cat) -> None:
    """Two own designs that differ only in cost (NRE) and not in power get the same system;
    under the old fraction method the cheaper one got a cheaper server."""
    a = evaluate(design_from_catalog("custom_v1", cat), cat)
    b = evaluate(design_from_catalog("custom_v1", cat, nre_usd=0.0, volume_units=None), cat)
    assert b.unit_cost_usd < a.unit_cost_usd
    args = ("custom_v1", "custom", a.available_from, a.kw_it_per_unit)
    bottom_up = [deploy_cost_usd(*args, s.unit_cost_usd, cat) for s in (a, b)]
    assert bottom_up[0] == bottom_up[1]
    frac = cat.with_overrides({"systems.method": "fraction"})
    old = [deploy_cost_usd(*args, s.unit_cost_usd, frac) for s in (a, b)]
    # the documented alternative: 0.42 x the unit cost
    assert old[0] == pytest.approx(0.42 * a.unit_cost_usd)
    assert old[1] < old[0]


def test_hotter_part_pays_for_more_rack_power(cat) -> None:
    # one more kW of IT costs 553 more (rack_power_cooling_usd_per_kw_it)
    lo = system_cost_usd("X", "custom", 2030, 2.0, cat).total_usd
    hi = system_cost_usd("X", "custom", 2030, 3.0, cat).total_usd
    assert hi - lo == pytest.approx(553.0)


def test_fleet_deploy_cost_is_the_system_cost(cat) -> None:
    fleet = build_fleet(load_scenario(), cat)
    for name in ("B200", "Rubin", "custom_v2"):
        it = fleet[name]
        want = system_cost_usd(name, it.kind, it.available_from, it.kw_it_per_unit, cat)
        assert it.deploy_cost_usd == pytest.approx(want.total_usd), name
    # Rubin (2.436 kW): 14,258 + 553 x 2.436 = 15,605.1; it no longer scales with its $60k
    assert fleet["Rubin"].deploy_cost_usd == pytest.approx(14_258 + 553 * 2.436, rel=1e-6)


def test_bad_class_and_method_name_the_field(cat) -> None:
    bad = cat.with_overrides({"systems.assign.H100": "blade"})
    with pytest.raises(CatalogError, match=r"systems.assign.H100='blade'"):
        system_class("H100", "merchant", 2023, bad)
    bad = cat.with_overrides({"systems.method": "guess"})
    with pytest.raises(CatalogError, match="systems.method='guess'"):
        deploy_cost_usd("H100", "merchant", 2023, 1.281, 25_000.0, bad)
    with pytest.raises(CatalogError, match="kw_it_per_unit=-1"):
        system_cost_usd("H100", "merchant", 2023, -1.0, cat)
    # a scenario with a bad catalog class fails with the accelerator named
    with pytest.raises((ScenarioError, CatalogError)):
        build_fleet(load_scenario(), cat.with_overrides({"systems.assign.B200": "blade"}))
