"""The world market (fab2flop/world.py): blocs, owners, export rules, capacities, ramp, stock.

Expected values are worked out by hand from the catalog records named in each comment.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from fab2flop.catalog import load_catalog
from fab2flop.world import (
    annual_capacity,
    build_world,
    by_vendor,
    load_world,
    run_world,
    solve_world,
    validate_world,
)


@pytest.fixture(scope="module")
def backtest():
    """The shipped world scenario over the backtest years 2023-2025 (solved once)."""
    return run_world(load_world("world", ["time.end=2025"]))


def test_nvidia_2023_units_are_its_buyers_money_over_the_h100_price(backtest):
    # world_demand: nvidia_buyers/NVIDIA 2023 = $31.6B, china/NVIDIA 2023 = $6.4B;
    # world_accelerators: H100 (and H800) $34,641 in 2023, the best H100e per dollar then
    # (A100: 0.315 H100e / $12,247 = 2.6e-5 per $ < H100 1.0 / $34,641 = 2.9e-5), and no
    # capacity binds: 31.6e9 / 34641 = 912,214 H100 + 6.4e9 / 34641 = 184,752 H800.
    units = backtest["units"].sel(year=2023)
    assert units.sel(part="H100") == pytest.approx(912_214, rel=1e-3)
    assert units.sel(part="H800") == pytest.approx(184_752, rel=1e-3)
    assert float(units.sel(part="A100")) == pytest.approx(0.0, abs=1.0)


def test_own_chips_go_to_their_owners_only(backtest):
    bought = backtest["bought"]
    owner_of = {"TPU_v5p": "google", "Trainium2": "amazon", "MTIA_v2": "meta"}
    for part, owner in owner_of.items():
        for line in bought["line"].values:
            total = float(bought.sel(line=line, part=part).sum())
            if not str(line).startswith(owner + "/"):
                assert total == 0.0, (line, part)
    assert float(bought.sel(line="google/Google", part="TPU_v5p").sum()) > 0


def test_export_restricted_bloc_gets_china_parts_and_huawei_only(backtest):
    china = backtest["bought"].sel(line="china/NVIDIA").sum("year")
    for part in ("H100", "H200", "B200", "B300"):
        assert float(china.sel(part=part)) == 0.0
    # 2024: $13.4B of H20 at $12,247 = 1,094,146 units (the only China part that year)
    assert float(backtest["units"].sel(part="H20", year=2024)) == pytest.approx(1_094_146, rel=1e-3)


def test_stock_adds_the_installed_base_and_keeps_it_until_its_life_ends(backtest):
    # installed_base: A100 796k and H100 39k installed in 2022 (5-year life: standing to
    # 2026). Stock of H100 at end-2023 = 39,000 + 912,214 made in 2023.
    stock = backtest["stock_units"]
    assert float(stock.sel(part="A100", year=2025)) == pytest.approx(796_000)
    assert float(stock.sel(part="H100", year=2023)) == pytest.approx(39_000 + 912_214, rel=1e-3)


def test_stock_retires_after_the_life():
    ds = run_world(load_world("world", ["time.end=2027"]))
    # the 2022 cohort stands 2022-2026 (5 years) and is gone in 2027
    assert float(ds["stock_units"].sel(part="A100", year=2026)) == pytest.approx(796_000)
    assert float(ds["stock_units"].sel(part="A100", year=2027)) == pytest.approx(0.0, abs=1)


def test_annual_capacity_is_the_mean_of_end_of_year_run_rates():
    cat = load_catalog()
    cap = annual_capacity(cat, np.array([2024, 2025]))
    # supply.memory.hbm.world_wpm: 260k (end-2024), 335k (end-2025):
    # 2025 = 12 x (260k + 335k) / 2 = 3,570,000 wafers
    assert cap["hbm"][1] == pytest.approx(3_570_000)
    # CoWoS 2024 uses the sourced annual output supply.packaging.cowos.annual_wafers = 245k
    assert cap["cowos"][0] == pytest.approx(245_000)


def test_scarce_cowos_is_shared_and_output_falls_to_it():
    # CoWoS of 2023 overridden to 12,000 wafers/year (annual_wafers 2023 -> 12,000):
    # H100 takes 0.0363 CoWoS wafers per unit (accelerator model), so CoWoS binds and the
    # LP's use of it cannot exceed 12,000.
    cfg = load_world(
        "world",
        ["time.end=2023", "catalog={'supply.packaging.cowos.annual_wafers': {2023: 12000}}"],
    )
    ds = run_world(cfg)
    used = float(ds["capacity_used"].sel(resource="cowos", year=2023))
    assert used == pytest.approx(12_000, rel=1e-6)
    assert float(ds["capacity_value"].sel(resource="cowos", year=2023)) > 0
    assert float(by_vendor(ds, "units").sel(vendor="NVIDIA", year=2023)) < 1.0e6


def test_ramp_limits_a_new_part_to_half_its_vendors_first_year():
    # 2025: B200 and B300 are new (first volume year 2025, share 0.5); the Nvidia buyers
    # would take all Blackwell (2.53 H100e / $36,742 beats H100 1.0 / $23,238), but each new
    # part may make at most as many units as the vendor's other parts that year.
    ds = run_world(load_world("world", ["time.start=2024", "time.end=2025"]))
    u = ds["units"].sel(year=2025)
    nvidia = float(
        u.sel(part=[p for p in u["part"].values if ds.vendor.sel(part=p) == "NVIDIA"]).sum()
    )
    for part in ("B200", "B300"):
        assert float(u.sel(part=part)) <= 0.5 * nvidia + 1.0


def test_world_cli_json(tmp_path):
    from typer.testing import CliRunner

    from fab2flop.cli.app import app

    r = CliRunner().invoke(app, ["run", "world", "--set", "time.end=2024", "--json"])
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout)
    assert s["years"] == [2023, 2024]
    assert set(s["units_by_vendor"]) >= {"NVIDIA", "AMD", "Google", "AWS", "Huawei"}


def test_world_cli_writes_a_folder(tmp_path):
    from typer.testing import CliRunner

    from fab2flop.cli.app import app

    out = tmp_path / "w"
    r = CliRunner().invoke(app, ["run", "world", "--set", "time.end=2023", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert (out / "world.nc").is_file() and (out / "summary.json").is_file()


def test_solve_is_deterministic():
    w = build_world(validate_world({"time": {"start": 2023, "end": 2024}}))
    a, b = solve_world(w), solve_world(w)
    np.testing.assert_allclose(a["units"].values, b["units"].values)


def test_power_limits_the_fleet_standing():
    # 2023 only. The installed base draws (kW = (TDP + 0.52 host) x 1.05, or the chip model):
    # A100 796,000 x 0.966 = 768.9 MW; H100 39,000 x 1.281 = 50.0 MW; TPU v4 86,000 x
    # 0.7476 = 64.3 MW; TPU v5e 16,000 x 0.756 = 12.1 MW: 895.3 MW. Allow 1,395 MW: the
    # year's new parts may draw at most ~500 MW more, and the power row binds.
    cfg = load_world("world", ["time.end=2023", "power_mw_it=1395"])
    w = build_world(cfg)
    ds = solve_world(w)
    kw = np.array([p.kw_it for p in w.parts.values()])
    base_mw = float((w.base[:, 0] * kw).sum() / 1e3)
    assert base_mw == pytest.approx(895.3, abs=0.1)
    total = float(ds["fleet_mw_it"].sel(year=2023).sum())
    assert total == pytest.approx(1395, rel=1e-6)
    free = run_world(load_world("world", ["time.end=2023"]))
    assert float(free["fleet_mw_it"].sel(year=2023).sum()) > 1395
