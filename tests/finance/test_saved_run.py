"""A saved run carries the parties' cash flows and jobs in results.nc (issue 12: finance
outputs join the results Dataset)."""

from __future__ import annotations

import numpy as np

from fab2flop import load_scenario, optimize
from fab2flop.finance import finance_dataset
from fab2flop.results import Results


def test_cash_flows_and_jobs_are_saved_and_load_back(tmp_path):
    res = optimize(load_scenario(overrides=["time.end=2027"]))
    res.save(tmp_path / "run")
    back = Results.load(tmp_path / "run")
    flows = back.dataset["finance_cash_flow_usd"]
    assert flows.attrs["units"] == "USD per period"
    np.testing.assert_allclose(flows.values, finance_dataset(res)["finance_cash_flow_usd"].values)
    # an asset company passes every dollar through: its lines (owners' equity included)
    # add up to zero in every period, so nothing is created or lost on the way to disk
    for company in ("fab_company", "datacenter_company", "power_company"):
        per_period = flows.sel(party=company).sum("line").values
        scale = np.abs(flows.sel(party=company).values).max()
        np.testing.assert_allclose(per_period, 0.0, atol=1e-9 * max(scale, 1.0))
    assert {"jobs_construction", "jobs_operating"} <= set(back.dataset.data_vars)
