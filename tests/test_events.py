"""Events: validation with field paths, and the network arrays they change, checked by hand.

The networks here are small and hand-made (two regions, TW and US): a fab line ``fab_N3``
(buildable, 2-year lead), third-party ``foundry_N3`` wafers made in TW, a merchant
accelerator X bought within ``x_supply`` (TW), a data center and grid power in the US.
"""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from fab2flop.catalog import Catalog
from fab2flop.constants import H100_FLOPS_BF16_DENSE, CarrierKind, Category, Scope
from fab2flop.errors import ScenarioError
from fab2flop.events import (
    GROUPS,
    delayed_open_lead,
    event_catalog,
    outage_profile,
    validate_event,
    window_share,
)
from fab2flop.network import assemble_network, build_network
from fab2flop.scenario import (
    CarrierSpec,
    ProcessSpec,
    load_scenario,
    validate_scenario,
)
from fab2flop.supplychain import FleetItem, SupplyChain

INF = np.inf


def _scenario(events=(), step="year", years=(2025, 2032), **extra):
    data = {
        "name": "events-test",
        "time": {"start": years[0], "end": years[1], "step": step},
        "objective": {"discount_rate": 0.0},
        "budget": {"total_usd": 8e9},
        "regions": {"TW": {"datacenters": False}, "US": {}},
        "events": list(events),
        **extra,
    }
    return validate_scenario(data)


def _chain(deploy_cost_usd=0.0):
    regional = {"kind": CarrierKind.RATE, "scope": Scope.REGIONAL, "scale": 1e3}
    carriers = {
        c.name: c
        for c in [
            CarrierSpec(name="wafer_N3", unit="wafers", scale=1e3),
            CarrierSpec(name="acc_X", unit="units", scale=1e6),
            CarrierSpec(name="alloc_x", unit="units", scale=1e6, storable=False),
            CarrierSpec(name="mw_it", unit="MW", **regional),
            CarrierSpec(name="mw_power", unit="MW", **regional),
        ]
    }
    wafer = {"activity_unit": "wafers/year", "outputs": {"wafer_N3": 1.0}}
    procs = [
        ProcessSpec(
            name="fab_N3",
            category=Category.FABS,
            regions=["TW", "US"],
            capex_usd_per_unit=1200.0,
            var_cost_usd_per_unit=5.0,
            lead_years=2,
            existing=100.0,
            **wafer,
        ),
        ProcessSpec(
            name="foundry_N3",
            category=Category.FABS,
            regions=["TW"],
            var_cost_usd_per_unit=20.0,
            existing=500.0,
            buildable=False,
            **wafer,
        ),
        ProcessSpec(
            name="x_supply",
            category=Category.MERCHANT,
            regions=["TW"],
            activity_unit="units/year",
            outputs={"alloc_x": 1.0},
            existing=1000.0,
            buildable=False,
        ),
        ProcessSpec(
            name="buy_X",
            category=Category.MERCHANT,
            regions=["TW"],
            activity_unit="units/year",
            outputs={"acc_X": 1.0},
            inputs={"alloc_x": 1.0},
            var_cost_usd_per_unit=10_000.0,
            buildable=False,
            unlimited=True,
        ),
        ProcessSpec(
            name="datacenter",
            category=Category.DATACENTERS,
            regions=["US"],
            activity_unit="MW",
            outputs={"mw_it": 1.0},
            inputs={"mw_power": 1.0},
        ),
        ProcessSpec(
            name="grid",
            category=Category.OPERATIONS,
            regions=["US"],
            activity_unit="MW",
            outputs={"mw_power": 1.0},
            existing=10.0,
            buildable=False,
        ),
    ]
    fleet = {
        "X": FleetItem(
            name="X",
            kind="merchant",
            vendor="test",
            carrier="acc_X",
            flops_bf16_dense=H100_FLOPS_BF16_DENSE,
            kw_it_per_unit=1.0,
            life_years=10,
            unit_cost_usd=10_000.0,
            deploy_cost_usd=deploy_cost_usd,
            available_from=2025,
            available_until=None,
        )
    }
    return SupplyChain(carriers, procs, fleet, [])


def _net(events=(), step="year", years=(2025, 2032), deploy_cost_usd=0.0, **extra):
    sc = _scenario(events, step, years, **extra)
    return assemble_network(sc, Catalog({}, "test"), _chain(deploy_cost_usd))


def _at(net, var, process, region):
    return net.ds[var].sel(process=process, region=region).values


# ------------------------------------------------------------------------ validation


def test_the_issue_example_validates_as_written():
    text = """
events:
  - {name: tw_outage, kind: outage, region: TW, start: 2028, duration_years: 1, fraction: 1.0,
     recovery_years: 2}
  - {name: hbm_squeeze, kind: price, group: hbm, start: 2026, duration_years: 2, multiplier: 1.6}
"""
    sc = load_scenario(overrides=["events=" + yaml.safe_dump(yaml.safe_load(text)["events"])])
    assert [e.kind for e in sc.events] == ["outage", "price"]
    assert sc.events[0].recovery_years == 2.0 and sc.events[1].multiplier == 1.6


BAD = [
    ({"name": "a", "kind": "outage", "region": "XX", "start": 2028}, "events.0.region"),
    ({"name": "a", "kind": "outage", "group": "gpus", "start": 2028}, "events.0.group"),
    ({"name": "a", "kind": "outage", "region": "TW", "start": 2040}, "events.0.start"),
    ({"name": "a", "kind": "outage", "region": "TW", "start": 2024}, "events.0.start"),
    (
        {"name": "a", "kind": "funding", "funder": "nobody", "start": 2028, "fraction": 0.5},
        "events.0.funder",
    ),
    ({"name": "a", "kind": "quake", "region": "TW", "start": 2028}, "events.0.kind"),
    (
        {"name": "a", "kind": "outage", "region": "TW", "start": 2028, "fraction": 1.5},
        "events.0.fraction",
    ),
    (
        {"name": "a", "kind": "outage", "region": "TW", "start": 2028, "duration_years": 0},
        "events.0.duration_years",
    ),
    (
        {"name": "a", "kind": "outage", "region": "TW", "start": 2028, "colour": "red"},
        "events.0.colour",
    ),
    ({"name": "a", "kind": "delay", "region": "TW", "start": 2028}, "events.0.years"),
    (
        {"name": "a", "kind": "price", "region": "TW", "start": 2028, "multiplier": -1},
        "events.0.multiplier",
    ),
    (
        {
            "name": "a",
            "kind": "price",
            "region": "TW",
            "start": 2028,
            "multiplier": 2,
            "costs": ["rent"],
        },
        "events.0.costs.0",
    ),
    (
        {
            "name": "a",
            "kind": "export",
            "region": "MARS",
            "start": 2028,
            "deploy_cap_units_per_year": 0,
        },
        "events.0.region",
    ),
    ({"name": "a", "kind": "outage", "start": 2028}, "events.0"),
    ({"use": "no_such_event"}, "events.0.use"),
    ({"name": "a", "kind": "outage", "group": ["hbm", "dram"], "start": 2028}, "events.0.group"),
]


@pytest.mark.parametrize(("event", "path"), BAD, ids=[p + ":" + str(e)[:30] for e, p in BAD])
def test_a_bad_event_is_refused_with_its_field_path(event, path):
    with pytest.raises(ScenarioError) as exc:
        load_scenario(overrides=["events=" + yaml.safe_dump([event], default_flow_style=True)])
    assert path in [p for p, _, _ in exc.value.problems]
    assert path in str(exc.value)


def test_a_pattern_matching_no_process_is_refused_when_the_network_is_built():
    with pytest.raises(ScenarioError) as exc:
        _net([{"name": "a", "kind": "outage", "processes": ["fab_N3", "fab_Z9*"], "start": 2028}])
    assert exc.value.problems[0][:2] == ("events.0.processes", "fab_Z9*")
    # a known group with nothing of it in this network, and a region with none of the
    # processes selected, are refused too
    with pytest.raises(ScenarioError, match=r"events\.0\.group"):
        _net([{"name": "a", "kind": "outage", "group": "hbm", "start": 2028}])
    with pytest.raises(ScenarioError, match=r"events\.1"):
        _net(
            [
                {"name": "a", "kind": "outage", "region": "TW", "start": 2028},
                {
                    "name": "b",
                    "kind": "delay",
                    "region": "TW",
                    "group": "foundry",
                    "start": 2028,
                    "years": 1,
                },  # foundry supply cannot be built, so it cannot be delayed
            ]
        )


def test_catalog_events_are_used_by_name_with_fields_on_top():
    ev = validate_event({"use": "taiwan_blockade", "start": 2030, "duration_years": 2})
    cat = event_catalog()["taiwan_blockade"]
    assert (ev.name, ev.start, ev.duration_years) == ("taiwan_blockade", 2030, 2)
    assert ev.fraction == cat["fraction"] and ev.region == "TW"


def test_every_catalog_event_has_a_source_and_applies_to_the_default_scenario():
    cat = event_catalog()
    assert {
        "taiwan_blockade",
        "korea_hbm_disruption",
        "uae_export_denial",
        "turbine_shortage",
        "hbm_price_spike",
    } <= set(cat)
    for name, ev in cat.items():
        assert len(ev.get("source", "")) > 40, name
    sc = load_scenario(overrides=["events=[" + ", ".join(f"{{use: {n}}}" for n in cat) + "]"])
    net = build_network(sc)
    assert [r["name"] for r in net.events_applied] == list(cat)
    assert all(r["periods"] for r in net.events_applied)


def test_groups_cover_the_supplier_groups_of_the_market():
    assert {"foundry", "cowos", "hbm", "merchant"} <= set(GROUPS)


# ------------------------------------------------------------------ windows and ramps


def test_window_share_and_outage_profile_by_hand():
    y = np.arange(2025.0, 2030.0)
    # [2026.5, 2028): half of 2026, all of 2027
    np.testing.assert_allclose(window_share(y, 1.0, 2026.5, 2028.0), [0, 0.5, 1, 0, 0])
    # 2026 fully lost, then linear recovery over 1 year: mean loss over 2027 is 1/2
    np.testing.assert_allclose(outage_profile(y, 1.0, 2026, 1.0, 1.0), [0, 1, 0.5, 0, 0])
    # no duration: to the end of the horizon
    np.testing.assert_allclose(outage_profile(y, 1.0, 2027, None, 0.0), [0, 0, 1, 1, 1])


# ------------------------------------------------------------------------- outage


def test_outage_with_recovery_annual():
    """TW 2028, one year, fraction 1, recovery 2 years (the issue's example).

    2028: lost. 2029: the ramp falls from 1 to 1/2, mean loss 3/4 -> availability 1/4.
    2030: falls from 1/2 to 0, mean 1/4 -> 3/4. US untouched."""
    net = _net(
        [
            {
                "name": "tw",
                "kind": "outage",
                "region": "TW",
                "start": 2028,
                "duration_years": 1,
                "fraction": 1.0,
                "recovery_years": 2,
            }
        ]
    )
    want = [1, 1, 1, 0, 0.25, 0.75, 1, 1]
    for p in ("fab_N3", "foundry_N3", "x_supply", "buy_X"):
        np.testing.assert_allclose(_at(net, "availability", p, "TW"), want)
    np.testing.assert_allclose(_at(net, "availability", "fab_N3", "US"), [1] * 8)
    rec = net.events_applied[0]
    assert rec["periods"] == ["2028", "2029", "2030"] and rec["regions"] == ["TW"]
    assert set(rec["processes"]) == {"fab_N3", "foundry_N3", "x_supply", "buy_X"}


def test_outage_with_recovery_quarterly():
    """Same event by quarter: 2028 lost; in 2029-2030 the ramp's value at each quarter's
    middle u years after the window is 1 - u/2, so availability is u/2:
    2029Q1 u=1/8 -> 1/16, Q2 3/8 -> 3/16, ... 2030Q4 u=15/8 -> 15/16."""
    net = _net(
        [
            {
                "name": "tw",
                "kind": "outage",
                "region": "TW",
                "start": 2028,
                "duration_years": 1,
                "fraction": 1.0,
                "recovery_years": 2,
            }
        ],
        step="quarter",
        years=(2027, 2031),
    )
    a = _at(net, "availability", "foundry_N3", "TW")
    ramp = [(2 * k + 1) / 16 for k in range(8)]
    np.testing.assert_allclose(a, [1] * 4 + [0] * 4 + ramp + [1] * 4)


def test_partial_outages_multiply_and_a_group_hits_only_its_processes():
    """Two half outages of merchant supply in 2027: 0.5 x 0.5 = 0.25 left."""
    half = {
        "kind": "outage",
        "group": "merchant",
        "start": 2027,
        "duration_years": 1,
        "fraction": 0.5,
    }
    net = _net([{"name": "a", **half}, {"name": "b", **half}])
    np.testing.assert_allclose(_at(net, "availability", "x_supply", "TW"), [1, 1, 0.25] + [1] * 5)
    np.testing.assert_allclose(_at(net, "availability", "foundry_N3", "TW"), [1] * 8)
    assert net.events_applied[0]["processes"] == ["x_supply", "buy_X"]


def test_destruction_plan_built_is_an_impulse_third_party_is_rebuilt_along_the_ramp():
    """fab_N3 in TW hit in 2027: 30% destroyed, no output lost beyond that, one year of
    rebuilding after a one-year window. destroyed_fraction = 0.3 in 2027 only; the 100
    wafers/year of existing capacity: 70 in 2027, 100 x (1 - 0.3 x 1/2) = 85 in 2028."""
    net = _net(
        [
            {
                "name": "hit",
                "kind": "outage",
                "region": "TW",
                "processes": ["fab_N3"],
                "start": 2027,
                "duration_years": 1,
                "fraction": 0.0,
                "recovery_years": 1,
                "destroy_fraction": 0.3,
            }
        ]
    )
    np.testing.assert_allclose(
        _at(net, "destroyed_fraction", "fab_N3", "TW"), [0, 0, 0.3, 0, 0, 0, 0, 0]
    )
    np.testing.assert_allclose(
        _at(net, "existing", "fab_N3", "TW"), [100, 100, 70, 85, 100, 100, 100, 100]
    )
    np.testing.assert_allclose(_at(net, "availability", "fab_N3", "TW"), [1] * 8)
    np.testing.assert_allclose(_at(net, "destroyed_fraction", "fab_N3", "US"), [0] * 8)
    # third-party capacity that cannot be built has no plan-built share to destroy
    net = _net(
        [
            {
                "name": "hit",
                "kind": "outage",
                "processes": ["foundry_N3"],
                "start": 2027,
                "fraction": 0.0,
                "destroy_fraction": 0.5,
            }
        ]
    )
    np.testing.assert_allclose(_at(net, "destroyed_fraction", "foundry_N3", "TW"), [0] * 8)
    np.testing.assert_allclose(_at(net, "existing", "foundry_N3", "TW"), [500] * 2 + [250] * 6)


def test_two_destructions_in_one_period_compound():
    """30% then 50% of what is left: 1 - 0.7 x 0.5 = 0.65 destroyed in 2028Q3."""
    ev = {
        "kind": "outage",
        "processes": ["fab_N3"],
        "region": "US",
        "start": 2028.5,
        "duration_years": 0.25,
        "fraction": 0.0,
    }
    net = _net(
        [
            {"name": "a", "destroy_fraction": 0.3, **ev},
            {"name": "b", "destroy_fraction": 0.5, **ev},
        ],
        step="quarter",
        years=(2028, 2028),
    )
    np.testing.assert_allclose(_at(net, "destroyed_fraction", "fab_N3", "US"), [0, 0, 0.65, 0])


# -------------------------------------------------------------------------- delay


def test_delay_rule_annual():
    """fab_N3 lead 2 years; builds started 2026-2027 take 1 more (US only).

    opening 2025-2027: started before 2026 (or before the horizon) -> 2
    opening 2028: started 2026 (in the window) would take 3; a 3-year build opening 2028
    started 2025, outside it -> nothing can open (-1)
    opening 2029: started 2027, in the window; 2026 also in it -> 3
    opening 2030: started 2028, outside -> 2 (2027 + 3 also opens 2030: the later start wins)
    """
    net = _net(
        [
            {
                "name": "late",
                "kind": "delay",
                "region": "US",
                "processes": ["fab_*"],
                "start": 2026,
                "duration_years": 2,
                "years": 1,
            }
        ]
    )
    np.testing.assert_array_equal(
        _at(net, "open_lead_periods", "fab_N3", "US"), [2, 2, 2, -1, 3, 2, 2, 2]
    )
    np.testing.assert_array_equal(_at(net, "open_lead_periods", "fab_N3", "TW"), [2] * 8)
    np.testing.assert_array_equal(net.ds["lead_periods"].sel(process="fab_N3").values, 2)
    rec = net.events_applied[0]
    assert rec["periods"] == ["2026", "2027"] and rec["extra_periods"] == 1


def test_delay_rule_quarterly():
    """Lead 8 quarters; builds started in 2026 (quarters 4-7 from 2025Q1) take 2 more
    (half a year). Opening t with t-8 in 4..7 (t = 12..15) needs a start t-10 in 4..7:
    t = 12, 13 -> -1; t = 14, 15 -> 10; otherwise 8."""
    net = _net(
        [
            {
                "name": "late",
                "kind": "delay",
                "group": "fabs",
                "start": 2026,
                "duration_years": 1,
                "years": 0.5,
            }
        ],
        step="quarter",
        years=(2025, 2029),
    )
    want = [8] * 12 + [-1, -1, 10, 10] + [8] * 4
    np.testing.assert_array_equal(_at(net, "open_lead_periods", "fab_N3", "TW"), want)


def test_overlapping_delays_add_up():
    """Builds started 2026-2028 (periods 1-3) take 1 more year per event.

    One event: a start s in 1..3 takes 3 years. 2028 (t=3) would need a 3-year start in 0:
    -1; t=4, 5 come from starts 1, 2 (lead 3); t=6: start 3 (3 years) or start 4 (2 years,
    later: wins) -> 2.
    Two events: starts 1..3 take 4 years, opening 5..7. t=3, 4: no start fits -> -1;
    t=5: start 1 -> 4; t=6, 7: the 2-year starts 4, 5 are later -> 2."""
    d = {
        "kind": "delay",
        "region": "TW",
        "processes": ["fab_N3"],
        "start": 2026,
        "duration_years": 3,
        "years": 1,
    }
    one = _net([{"name": "a", **d}])
    np.testing.assert_array_equal(
        _at(one, "open_lead_periods", "fab_N3", "TW"), [2, 2, 2, -1, 3, 3, 2, 2]
    )
    two = _net([{"name": "a", **d}, {"name": "b", **d}])
    np.testing.assert_array_equal(
        _at(two, "open_lead_periods", "fab_N3", "TW"), [2, 2, 2, -1, -1, 4, 2, 2]
    )


def test_delayed_open_lead_is_a_pure_function_of_arrays():
    lead = np.array([0, 1])
    hit = np.array([[True], [False]])
    started = np.array([False, True, False, False])
    # lead 0 delayed 1 for starts in period 1: nothing opens in 1; in 2 the start in 1
    # (1 period) and the start in 2 (0 periods) both open: the later wins (0)
    out = delayed_open_lead(lead, 1, 4, [(hit, 1, started)])
    np.testing.assert_array_equal(out[:, 0, :], [[0, -1, 0, 0], [1, 1, 1, 1]])
    both = np.array([False, True, True, False])
    out = delayed_open_lead(lead, 1, 4, [(hit, 1, both)])
    np.testing.assert_array_equal(out[0, 0], [0, -1, 1, 0])


# -------------------------------------------------------------------------- price


def test_price_variable_capex_by_start_and_merchant_unit_cost():
    """x1.6 on foundry wafers in 2026-2027: 20 -> 32. x2 on fab capex for builds started
    in 2026: with a 2-year lead that is capacity opening in 2028 (capex is by opening
    period). x1.5 on merchant supply in 2027: X's unit cost 10,000 -> 15,000."""
    net = _net(
        [
            {
                "name": "w",
                "kind": "price",
                "group": "foundry",
                "start": 2026,
                "duration_years": 2,
                "multiplier": 1.6,
                "costs": ["variable"],
            },
            {
                "name": "c",
                "kind": "price",
                "processes": ["fab_N3"],
                "start": 2026,
                "duration_years": 1,
                "multiplier": 2.0,
                "costs": ["capex"],
            },
            {
                "name": "m",
                "kind": "price",
                "group": "merchant",
                "start": 2027,
                "duration_years": 1,
                "multiplier": 1.5,
            },
        ]
    )
    np.testing.assert_allclose(
        _at(net, "var_cost_usd_per_unit", "foundry_N3", "TW"), [20, 32, 32, 20, 20, 20, 20, 20]
    )
    for r in ("TW", "US"):
        np.testing.assert_allclose(
            _at(net, "capex_usd_per_unit", "fab_N3", r), [1200] * 3 + [2400] + [1200] * 4
        )
        np.testing.assert_allclose(_at(net, "var_cost_usd_per_unit", "fab_N3", r), [5] * 8)
    np.testing.assert_allclose(
        _at(net, "var_cost_usd_per_unit", "buy_X", "TW"), [1e4, 1e4, 1.5e4] + [1e4] * 5
    )
    np.testing.assert_allclose(
        net.ds["acc_unit_cost_usd"].sel(accelerator="X").values, [1e4, 1e4, 1.5e4] + [1e4] * 5
    )


def test_price_capex_follows_a_delayed_start():
    """Delay 1 year for 2026-2027 starts (US) and capex x2 for 2026 starts: the 2026 start
    now opens in 2029 (lead 3, see test_delay_rule_annual), so capacity opening in 2029
    pays double; 2028 has no opening; 2030 opens from a 2028 start at the normal price."""
    net = _net(
        [
            {
                "name": "p",
                "kind": "price",
                "region": "US",
                "processes": ["fab_N3"],
                "start": 2026,
                "duration_years": 1,
                "multiplier": 2.0,
                "costs": ["capex"],
            },
            {
                "name": "d",
                "kind": "delay",
                "region": "US",
                "processes": ["fab_N3"],
                "start": 2026,
                "duration_years": 2,
                "years": 1,
            },
        ]
    )
    np.testing.assert_array_equal(
        _at(net, "open_lead_periods", "fab_N3", "US"), [2, 2, 2, -1, 3, 2, 2, 2]
    )
    np.testing.assert_allclose(
        _at(net, "capex_usd_per_unit", "fab_N3", "US"), [1200] * 4 + [2400] + [1200] * 3
    )
    assert [r["name"] for r in net.events_applied] == ["p", "d"]  # in the order given


def test_price_quarterly_and_part_periods_and_systems():
    """Mid-2026 for half a year: quarters 2026Q3, Q4 at x1.6 (20 -> 32); by year, 2026 is
    half in the window: 20 x (1 + 0.6 x 0.5) = 26. Systems x2 for every accelerator."""
    ev = {
        "name": "w",
        "kind": "price",
        "group": "foundry",
        "start": 2026.5,
        "duration_years": 0.5,
        "multiplier": 1.6,
        "costs": ["variable"],
    }
    q = _net([ev], step="quarter", years=(2026, 2027))
    np.testing.assert_allclose(
        _at(q, "var_cost_usd_per_unit", "foundry_N3", "TW"), [20, 20, 32, 32, 20, 20, 20, 20]
    )
    a = _net(
        [
            ev,
            {"name": "s", "kind": "price", "start": 2027, "multiplier": 2.0, "costs": ["systems"]},
        ],
        deploy_cost_usd=1000.0,
        years=(2025, 2028),
    )
    np.testing.assert_allclose(
        _at(a, "var_cost_usd_per_unit", "foundry_N3", "TW"), [20, 26, 20, 20]
    )
    np.testing.assert_allclose(
        a.ds["acc_deploy_cost_usd"].sel(accelerator="X").values, [1000, 1000, 2000, 2000]
    )


# ------------------------------------------------------------------- export, funding


def test_export_cut_annual_and_quarterly():
    """US approvals 0 from 2027 (to the end); a cut to 900 never raises the 500 set in the
    scenario. By quarter, a cut from 2026 for half a year hits 2026Q1-Q2 only."""
    ev = {
        "name": "deny",
        "kind": "export",
        "region": "US",
        "start": 2027,
        "deploy_cap_units_per_year": 0,
    }
    net = _net([ev])
    np.testing.assert_allclose(
        net.ds["deploy_cap_units_per_year"].sel(region="US").values, [INF, INF] + [0] * 6
    )
    capped = _net(
        [{**ev, "deploy_cap_units_per_year": 900}],
        regions={"TW": {"datacenters": False}, "US": {"accelerator_cap_units_per_year": 500}},
    )
    np.testing.assert_allclose(
        capped.ds["deploy_cap_units_per_year"].sel(region="US").values, [500] * 8
    )
    q = _net([{**ev, "start": 2026, "duration_years": 0.5}], step="quarter", years=(2026, 2026))
    np.testing.assert_allclose(
        q.ds["deploy_cap_units_per_year"].sel(region="US").values, [0, 0, INF, INF]
    )


def test_funding_cut_of_one_funder_annual_and_quarterly():
    """$8B over 2025-2032 from two funders, half each, flat: $0.5B/year each. Funder a loses
    half from 2027: 1.0, 1.0, then 0.75 a year ($0.1875B a quarter)."""
    budget = {
        "total_usd": 8e9,
        "funders": [
            {"name": "a", "share": 0.5, "start": 2025, "end": 2032},
            {"name": "b", "share": 0.5, "start": 2025, "end": 2032},
        ],
    }
    ev = [{"name": "pull", "kind": "funding", "funder": "a", "start": 2027, "fraction": 0.5}]
    net = _net(ev, budget=budget)
    np.testing.assert_allclose(net.ds["funding_usd"].values / 1e9, [1, 1] + [0.75] * 6)
    assert net.events_applied[0]["funding_lost_usd"] == pytest.approx(1.5e9)  # 6 x 0.25
    q = _net(ev, step="quarter", budget=budget)
    np.testing.assert_allclose(q.ds["funding_usd"].values[6:10] / 1e9, [0.25, 0.25, 0.1875, 0.1875])


# ------------------------------------------------------- end to end through the optimiser


def _installed(events):
    from fab2flop.optimizer import optimize

    res = optimize(_net(events, years=(2025, 2027), budget={"total_usd": 30e6}))
    assert res.status.ok, res.message
    return res.summary()["installed_accelerators"]["X"]


def test_the_plain_tiny_plan_by_hand():
    np.testing.assert_allclose(_installed([]), [1000, 2000, 3000], rtol=1e-6)


@pytest.mark.parametrize(
    ("event", "installed"),
    [
        # merchant supply (TW) lost in 2026: nothing bought that year (allocations are not
        # storable; the unspent money cannot buy more in 2027 above the 1000/year cap)
        (
            {"kind": "outage", "region": "TW", "start": 2026, "duration_years": 1},
            [1000, 1000, 2000],
        ),
        # X at twice the price in 2026: $10M buys 500
        (
            {
                "kind": "price",
                "group": "merchant",
                "start": 2026,
                "duration_years": 1,
                "multiplier": 2.0,
            },
            [1000, 1500, 2500],
        ),
        # US approvals cut to 300/year from 2026
        (
            {"kind": "export", "region": "US", "start": 2026, "deploy_cap_units_per_year": 300},
            [1000, 1300, 1600],
        ),
        # half the 2026 money never arrives: $5M buys 500
        (
            {"kind": "funding", "start": 2026, "duration_years": 1, "fraction": 0.5},
            [1000, 1500, 2500],
        ),
    ],
    ids=["outage", "price", "export", "funding"],
)
def test_events_change_the_optimal_plan_by_hand(event, installed):
    """$10M a year buys exactly the 1000 units/year the market sells at $10,000 each
    (1000, 2000, 3000 installed without events); the data center (free, no lead time) and
    10 MW of grid never bind (10,000 units at 1 kW)."""
    np.testing.assert_allclose(_installed([{"name": "e", **event}]), installed, rtol=1e-6)
