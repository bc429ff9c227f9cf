"""Example scenario files run, and a user-added process really constrains the plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from fab2flop import load_scenario, optimize
from fab2flop.constants import Status

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_euv_example_consumes_tools_for_every_fab_built():
    res = optimize(load_scenario(EXAMPLES / "euv_limited.yaml"))
    assert res.status is Status.OPTIMAL
    ds, net = res.dataset, res.network
    tools_made = float(ds["activity"].sel(process="euv_supply").sum()) * net.periods.dt
    per_unit = net.ds["build_io"].sel(carrier="euv_tool")
    new = ds["new_capacity"].sum("region")
    tools_needed = float((new * per_unit).sum())
    assert tools_needed > 0, "the plan builds own fabs, so it must use EUV tools"
    # every tool used was made (what is left over stays in inventory)
    assert tools_made >= tools_needed * (1 - 1e-6)


def test_euv_supply_cut_to_zero_stops_own_fabs():
    res = optimize(
        load_scenario(
            EXAMPLES / "euv_limited.yaml",
            overrides=["processes.0.existing=0"],
        )
    )
    assert res.status is Status.OPTIMAL
    fabs = [p for p in res.network.process_names if p.startswith("fab_")]
    assert float(res.dataset["new_capacity"].sel(process=fabs).sum()) == pytest.approx(0, abs=1e-6)
