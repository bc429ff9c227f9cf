"""The whole roadmap (fab2flop.roadmap, catalog accelerators.roadmap): every line goes on
past its last announced part on sourced trends, own designs have lives and successors, the
own designs' TDPs follow the node power model, and bad input is refused by field."""

from __future__ import annotations

import numpy as np
import pytest

from fab2flop.catalog import load_catalog
from fab2flop.components.accelerator import design_from_catalog, evaluate
from fab2flop.errors import ScenarioError
from fab2flop.network import build_network
from fab2flop.optimizer import optimize
from fab2flop.roadmap import (
    check_horizon,
    extend_line,
    fit_growth,
    line_parts,
    load_trends,
)
from fab2flop.scenario import load_scenario

CAT = load_catalog()
LINES = ("NVIDIA", "AMD", "Google", "AWS", "own")


@pytest.mark.parametrize("vendor", LINES)
def test_every_line_reaches_2040_without_a_gap(vendor):
    parts = line_parts(CAT, vendor)
    last = evaluate(design_from_catalog(parts[-1], CAT), CAT)
    gens = [evaluate(d, CAT) for d in extend_line(vendor, CAT, 2040)]
    assert gens and all(g.extrapolated for g in gens)
    assert all(not evaluate(design_from_catalog(p, CAT), CAT).extrapolated for p in parts)
    # every year from the last announced part to 2040 has a part on sale
    windows = [(last.available_from, last.available_until or last.available_from)]
    windows += [(g.available_from, g.available_until) for g in gens]
    for y in range(last.available_from, 2041):
        assert any(a <= y <= b for a, b in windows), (vendor, y)
    assert all(g.available_until >= g.available_from for g in gens)
    assert all(g.notes and g.notes[-1].startswith("extrapolated: ") for g in gens)


def test_nvidia_2029_by_hand():
    """Rubin Ultra (2027): 8,000 TFLOP/s BF16, 3,600 W, $120,000, 1,024 GB. Two years on:
    BF16 8,000 x 1.35^2 = 14,580 TFLOP/s; per W 8,000/3,600 x 1.15^2 = 2.9389 TFLOP/s/W
    -> TDP 4,961 W; price 14,580 x ($120,000 / 8,000) / 1.3^2 = $129,408; HBM on the trend
    1,024 x 1.19^2 = 1,450.1 GB, but Rubin Ultra's 16 stacks of 64 GB are already HBM4E's
    tallest (16-high, the tallest priced height, x 4 GB dies), so it stays 1,024 GB; FP8
    keeps Rubin Ultra's ratio (35,000 / 8,000 = 4.375)."""
    g = {d.name: d for d in extend_line("NVIDIA", CAT, 2029)}
    s = evaluate(g["NVIDIA_x2029"], CAT)
    assert s.available_from == 2029 and s.available_until == 2030  # window 2 years
    assert s.flops_bf16_dense == pytest.approx(14_580e12, rel=1e-9)
    assert s.flops_fp8_dense == pytest.approx(14_580e12 * 4.375, rel=1e-9)
    assert s.tdp_w == pytest.approx(4_961.06, rel=1e-5)
    assert s.price_usd == pytest.approx(129_408.3, rel=1e-6)
    assert s.hbm_gb == pytest.approx(1_024, rel=1e-12)
    assert s.hbm_stacks == 16
    assert s.kind == "merchant" and s.vendor == "NVIDIA"


def test_hbm_grows_to_the_tallest_stack_then_stops():
    """own_x2032 from custom_v3 (2030): 12 HBM4E stacks; trend growth stops at 12 x 64 GB =
    768 GB (16-high stacks of 4 GB dies), never a stack taller than any priced height."""
    v3 = evaluate(design_from_catalog("custom_v3", CAT), CAT)
    gens = [evaluate(d, CAT) for d in extend_line("own", CAT, 2040)]
    assert gens
    for g in gens:
        assert g.hbm_stacks == v3.hbm_stacks
        grown = v3.hbm_gb * 1.19 ** (g.available_from - 2030)
        assert g.hbm_gb == pytest.approx(min(grown, max(v3.hbm_gb, 12 * 64)), rel=1e-9)
        assert g.hbm_gb / g.hbm_stacks <= 64 + 1e-9


def test_own_successor_keeps_custom_v3_silicon():
    """custom_v3 (2030): 136 x 32,768 x 2.0 GHz = 8,913 TFLOP/s at 3,070 W. own_x2032:
    8,913 x 1.35^2 = 16,244 TFLOP/s; TDP 16,244 / (8,913/3,070 x 1.15^2) = 4,231 W; the
    same wafers and CoWoS per unit as custom_v3; its 12 stacks grow from 48 to 64 GB (576 x
    1.19^2 = 816 GB, capped at 12 x 64 = 768), so it uses (768 x $/GB 16-high) / (576 x $/GB
    12-high) times custom_v3's reference HBM stacks."""
    v3 = evaluate(design_from_catalog("custom_v3", CAT), CAT)
    s = evaluate(extend_line("own", CAT, 2032)[0], CAT)
    assert s.name == "own_x2032" and s.kind == "custom"
    assert (s.available_from, s.available_until) == (2032, 2035)  # cadence 2, window 4
    assert s.flops_bf16_dense == pytest.approx(8_912.9e12 * 1.35**2, rel=1e-4)
    assert s.tdp_w == pytest.approx(4_231, rel=1e-3)
    assert s.wafers_per_unit == pytest.approx(v3.wafers_per_unit)
    p12 = CAT.number("memory.hbm4e.price_usd_per_gb_12hi")
    p16 = CAT.number("memory.hbm4e.price_usd_per_gb_16hi")
    ratio = (768 * p16) / (576 * p12)
    assert s.hbm_stacks_per_unit == pytest.approx(v3.hbm_stacks_per_unit * ratio)
    assert s.unit_cost_usd > v3.unit_cost_usd


def test_trend_records_quote_the_fits_of_the_announced_parts():
    """The records' fit figures are what fit_growth gives on the catalog's NVIDIA parts
    (H100 .. Rubin Ultra): if a part changes, the records must be revisited."""
    specs = [evaluate(design_from_catalog(n, CAT), CAT) for n in line_parts(CAT, "NVIDIA")]
    years = [s.available_from for s in specs]
    fl = fit_growth(years, [s.flops_bf16_dense for s in specs])
    per_w = fit_growth(years, [s.flops_bf16_dense / s.tdp_w for s in specs])
    usd = 1 / fit_growth(years, [s.price_usd / s.flops_bf16_dense for s in specs])
    rec = CAT.record
    assert rec("accelerators.roadmap.flops_growth_per_year").high == pytest.approx(fl, abs=0.01)
    assert rec("accelerators.roadmap.flops_per_watt_growth_per_year").value == pytest.approx(
        per_w, abs=0.01
    )
    assert rec("accelerators.roadmap.usd_per_flops_decline_per_year").low == pytest.approx(
        usd, abs=0.01
    )
    # Epoch's doubling times: FLOP/s 2.3 years, HBM capacity 4 years, bandwidth 4.1 years
    t = load_trends(CAT)
    assert t.flops_growth_per_year == pytest.approx(2 ** (1 / 2.3), abs=0.005)
    assert t.hbm_gb_growth_per_year == pytest.approx(2 ** (1 / 4), abs=0.005)
    assert t.hbm_bandwidth_growth_per_year == pytest.approx(2 ** (1 / 4.1), abs=0.005)


def test_fit_growth_by_hand():
    # 1, 2, 4, 8 over four years: doubling each year
    assert fit_growth([2020, 2021, 2022, 2023], [1, 2, 4, 8]) == pytest.approx(2.0)
    with pytest.raises(ValueError):
        fit_growth([2020, 2020], [1, 2])


# the node power model's W per dense BF16 TFLOP/s (accelerators.defaults): own designs'
# TDPs must lie within 10% of it (no TDP of theirs is published)
TDP_BAND = 0.10


@pytest.mark.parametrize("name", ["custom_v1", "custom_v2", "custom_v3"])
def test_own_design_tdp_follows_the_node_power_model(name):
    s = evaluate(design_from_catalog(name, CAT), CAT)
    node_w = (
        s.flops_bf16_dense
        / 1e12
        * CAT.number(f"accelerators.defaults.tdp_w_per_tflops_bf16.{s.node}")
    )
    assert abs(s.tdp_w - node_w) <= TDP_BAND * node_w, (name, s.tdp_w, node_w)


def test_every_part_has_an_availability_window():
    from fab2flop.components.accelerator import catalog_accelerators

    for n in catalog_accelerators(CAT):
        s = evaluate(design_from_catalog(n, CAT), CAT)
        assert s.available_from is not None and s.available_until is not None, n
        assert s.available_until >= s.available_from, n


def test_merchant_only_to_2040_never_runs_dry():
    """Before the roadmap, a merchant-only plan had zero compute by 2035 (the last parts
    were bought in 2028-29 and retire after five years)."""
    res = optimize(load_scenario(None, ["time.end=2040", "accelerators.custom={}"]))
    c = res.dataset["compute_h100e"].values
    assert len(c) == 16
    assert np.all(c[1:] > 0), c
    inst = res.dataset["installed"].sum("region").sel(period=2040)
    names = [str(a) for a in inst["accelerator"].values if float(inst.sel(accelerator=a)) > 0]
    assert any(n.startswith(("NVIDIA_x", "AMD_x")) for n in names), names


def test_default_fleet_continues_every_line_to_its_horizon():
    net = build_network(load_scenario(None, ["time.end=2040"]))
    names = list(net.fleet)
    assert {"NVIDIA_x2040", "AMD_x2040", "own_x2040"} <= set(names)
    assert net.fleet["own_x2034"].kind == "custom" and net.fleet["own_x2034"].vendor == "own"
    assert net.fleet["NVIDIA_x2030"].kind == "merchant"
    off = build_network(load_scenario(None, ["time.end=2040", "accelerators.roadmap=false"]))
    assert not [n for n in off.fleet if "_x" in n]


def test_roadmap_follows_the_scenarios_own_design():
    """An override of the own line's last design carries into its successors."""
    sc = load_scenario(None, ["time.end=2032", "accelerators.custom.custom_v3.clock_ghz=2.2"])
    net = build_network(sc)
    v3, nxt = net.fleet["custom_v3"], net.fleet["own_x2032"]
    # clock 2.2 instead of 2.0: custom_v3 at 136 x 32,768 x 2.2 GHz; successor x 1.35^2
    assert v3.flops_bf16_dense == pytest.approx(136 * 32_768 * 2.2e9)
    assert nxt.flops_bf16_dense == pytest.approx(136 * 32_768 * 2.2e9 * 1.35**2)


def test_horizon_past_the_stated_limit_is_refused():
    with pytest.raises(ScenarioError) as e:
        build_network(load_scenario(None, ["time.end=2050"]))
    path, value, expected = e.value.problems[0]
    assert path == "time.end" and str(value) == "2050"
    assert "2045" in expected and "accelerators.roadmap: false" in expected
    check_horizon(2045, CAT)  # the limit itself is fine
    with pytest.raises(ScenarioError):
        extend_line("NVIDIA", CAT, 2046)


def test_window_that_ends_before_it_starts_is_refused(tmp_path):
    with pytest.raises(ScenarioError) as e:
        build_network(load_scenario(None, ["accelerators.custom.custom_v2.available_until=2027"]))
    path, value, expected = e.value.problems[0]
    assert path == "accelerators.custom.custom_v2.available_until" and str(value) == "2027"
    assert "2028" in expected
    f = tmp_path / "s.yaml"
    f.write_text("extends: default\ncatalog:\n  accelerators.Rubin.available_until: 2025\n")
    with pytest.raises(ScenarioError) as e:
        build_network(load_scenario(f))
    assert e.value.problems[0][0] == "catalog.accelerators.Rubin.available_until"


def test_bad_line_cadence_is_refused(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text(
        "extends: default\ncatalog:\n  accelerators.roadmap.lines.NVIDIA.cadence_years: 0\n"
    )
    with pytest.raises(ScenarioError) as e:
        build_network(load_scenario(f))
    assert "cadence_years" in e.value.problems[0][0]
