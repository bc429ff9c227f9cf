"""``fab2flop chip``: list, show, compare, design — through Typer's CliRunner."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from fab2flop.cli.chip import app

runner = CliRunner()

JSON_KEYS = {
    "die_area_mm2",
    "node",
    "good_dies_per_wafer",
    "unit_cost_usd",
    "cost_breakdown",
    "flops_bf16_dense",
    "hbm_bandwidth_bytes_per_s",
    "tdp_w",
    "packages_per_packaging_wafer",
}


def test_list() -> None:
    r = runner.invoke(app, ["list"])
    assert r.exit_code == 0, r.output
    for name in ("H100", "B200", "MI355X", "TPU_v7", "Trainium2", "custom_v1"):
        assert name in r.stdout


def test_list_json_filtered() -> None:
    r = runner.invoke(app, ["list", "--kind", "custom", "--json"])
    assert r.exit_code == 0, r.output
    names = {d["name"] for d in json.loads(r.stdout)}
    assert names == {"custom_v1", "custom_v2", "custom_v3"}


def test_show_json() -> None:
    r = runner.invoke(app, ["show", "H100", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert JSON_KEYS <= set(d)
    # 132 x 4096 = 540,672 x 1.83e9 = 989.43e12; 5 x 1024 x 5.23e9 / 8 = 3.3472e12
    assert d["flops_bf16_dense"] == pytest.approx(989.43e12, rel=1e-5)
    assert d["hbm_bandwidth_bytes_per_s"] == pytest.approx(3.3472e12, rel=1e-5)
    assert d["node"] == "N4" and d["die_area_mm2"] == 814 and d["tdp_w"] == 700
    # 6 HBM3 stacks mounted x $200 = $1,200; a merchant part carries no NRE
    assert d["cost_breakdown"]["hbm"] == pytest.approx(1200.0)
    assert d["cost_breakdown"]["nre"] == 0


def test_show_tables() -> None:
    r = runner.invoke(app, ["show", "MI300X"])
    assert r.exit_code == 0, r.output
    assert "bill of materials" in r.stdout and "N6 wafers" in r.stdout


def test_show_with_override() -> None:
    r = runner.invoke(app, ["show", "custom_v1", "--set", "hbm_stacks=6", "--json"])
    assert r.exit_code == 0, r.output
    # 6 x 36 GB = 216 GB
    assert json.loads(r.stdout)["hbm_gb"] == 216


def test_compare() -> None:
    r = runner.invoke(app, ["compare", "H100", "B200", "custom_v1"])
    assert r.exit_code == 0, r.output
    assert "H100" in r.stdout and "custom_v1" in r.stdout and "unit cost" in r.stdout


def test_design_json() -> None:
    args = ["design", "--node", "N3", "--die-area-mm2", "800", "--dies", "2", "--hbm", "hbm3e"]
    args += ["--hbm-stacks", "8", "--tdp-w", "1000", "--units", "64", "--units-enabled", "60"]
    args += ["--unit-area-mm2", "9", "--clock-ghz", "1.8", "--flop-per-clock-bf16", "16384"]
    r = runner.invoke(app, [*args, "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert JSON_KEYS <= set(d)
    # 60 units x 16,384 FLOP/clk x 1.8e9 = 1.769e15
    assert d["flops_bf16_dense"] == pytest.approx(60 * 16384 * 1.8e9)
    # 8 x 1024 bit x 9.2 Gb/s / 8 = 9.4208e12 B/s
    assert d["hbm_bandwidth_bytes_per_s"] == pytest.approx(9.4208e12)


def test_design_from_catalog_part() -> None:
    r = runner.invoke(app, ["design", "--from", "custom_v1", "--node", "N2", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["node"] == "N2" and set(d["wafers_per_unit"]) == {"N2"}


def test_design_with_io_dies() -> None:
    args = ["design", "--node", "N5", "--die-area-mm2", "115", "--dies", "8", "--tdp-w", "750"]
    args += ["--io-die", "N6:370:4", "--stacked-on-io", "--hbm", "hbm3", "--hbm-stacks", "8"]
    r = runner.invoke(app, [*args, "--json"])
    assert r.exit_code == 0, r.output
    assert set(json.loads(r.stdout)["wafers_per_unit"]) == {"N5", "N6"}


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["design", "--node", "N3", "--die-area-mm2", "900", "--tdp-w", "1000"],
            "die_area_mm2=900",
        ),
        (["design", "--node", "N3", "--die-area-mm2", "-5", "--tdp-w", "1000"], "die_area_mm2=-5"),
        (["design", "--node", "N1", "--die-area-mm2", "500", "--tdp-w", "1000"], "node='N1'"),
        (["design", "--node", "N3", "--die-area-mm2", "500", "--tdp-w", "0"], "tdp_w"),
        (
            ["design", "--node", "N3", "--die-area-mm2", "500", "--tdp-w", "9", "--io-die", "x"],
            "io-die",
        ),
        (["show", "X100"], "X100"),
        (["show", "H100", "--set", "hbm_stacks"], "FIELD=VALUE"),
        (["compare", "H100", "nope"], "nope"),
    ],
)
def test_errors_exit_2_and_name_the_field(args: list[str], message: str) -> None:
    r = runner.invoke(app, args)
    assert r.exit_code == 2
    assert message in r.stderr
    assert "Traceback" not in r.output
