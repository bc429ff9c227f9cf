"""The accelerator model feeds the optimiser: changing a design changes the plan."""

from __future__ import annotations

import numpy as np
import pytest

from fab2flop import build_network, load_scenario, optimize
from fab2flop.errors import ScenarioError

SHORT = ["time.end=2029", "accelerators.custom.custom_v2={}", "accelerators.custom.custom_v3={}"]


def _custom_only(extra=()):
    sets = [*SHORT, "accelerators.merchant=[]", "installed={}"]  # no starting H100 fleet
    sets = [s for s in sets if not s.startswith("accelerators.custom.custom_v")]
    sets.append("accelerators.custom={custom_v1: {}}")
    return load_scenario(overrides=[*sets, *extra])


def test_assembly_coefficients_come_from_the_design():
    net = build_network(_custom_only())
    spec = net.fleet["custom_v1"].spec
    p = net.process_names.index("assemble_custom_v1")
    io = net.ds["io"].isel(process=p)
    assert float(io.sel(carrier="wafer_N3")) == pytest.approx(-spec.wafers_per_unit["N3"])
    assert float(io.sel(carrier="hbm3e_stack")) == pytest.approx(-spec.hbm_stacks_per_unit)
    assert float(io.sel(carrier="cowos_wafer")) == pytest.approx(-spec.packaging_wafers_per_unit)
    # catalog design: 44 enabled units x 32,768 FLOP/clock x 1.75 GHz = 2.523136e15 FLOP/s;
    # (1,400 W TDP, the N3 node power model + 0.52 kW host share) x 1.05 network = 2.016 kW
    flops = float(net.ds["flops_bf16_dense"].sel(accelerator="custom_v1"))
    assert flops == pytest.approx(44 * 32768 * 1.75e9, rel=1e-12)
    assert float(net.ds["kw_it_per_unit"].sel(accelerator="custom_v1")) == pytest.approx(2.016)


def test_a_bigger_die_needs_more_wafers_per_unit():
    small = build_network(_custom_only()).fleet["custom_v1"].spec
    big = (
        build_network(_custom_only(["accelerators.custom.custom_v1.die_area_mm2=800"]))
        .fleet["custom_v1"]
        .spec
    )
    assert big.wafers_per_unit["N3"] > small.wafers_per_unit["N3"]


def test_changing_a_design_changes_the_plan():
    """Halving the clock halves each unit's FLOP/s; with power binding, the same units give
    about half the compute, so the plan's compute must fall."""
    base = optimize(_custom_only())
    slow = optimize(_custom_only(["accelerators.custom.custom_v1.clock_ghz=0.875"]))
    d = base.network.ds["discount"].values
    cb = (base.dataset["compute_h100e"].values * d).sum()
    cs = (slow.dataset["compute_h100e"].values * d).sum()
    # the power a unit draws (TDP) is unchanged, power binds, so the same units are
    # installed and the compute is half
    np.testing.assert_allclose(
        slow.dataset["installed_units"].values, base.dataset["installed_units"].values, rtol=1e-6
    )
    assert cs == pytest.approx(0.5 * cb, rel=1e-3)


def test_a_bad_design_override_is_a_scenario_error():
    with pytest.raises(ScenarioError, match="custom_v1"):
        build_network(_custom_only(["accelerators.custom.custom_v1.die_area_mm2=-5"]))
    with pytest.raises(ScenarioError, match="custom_v1"):
        build_network(_custom_only(["accelerators.custom.custom_v1.node=N0"]))


def test_comparison_parts_cannot_be_bought():
    with pytest.raises(ScenarioError, match="TPU_v7"):
        build_network(load_scenario(overrides=["accelerators.merchant=[TPU_v7]"]))
