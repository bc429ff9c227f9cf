"""Results without the LP: the registry, the solution Dataset in natural units, metrics over a
``sample`` dimension, and a saved run read back (``Results.load``)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from fab2flop import metrics
from fab2flop.bottlenecks import bottlenecks
from fab2flop.cli import app
from fab2flop.constants import SAMPLE, Status
from fab2flop.lp.model import DEFINE_ORDER, build_lp, define_money, define_objective
from fab2flop.lp.registry import Family, Group, Registry, registers
from fab2flop.optimizer import optimize
from fab2flop.results import Results

from .conftest import tiny_network


@pytest.fixture(scope="module")
def money_binds():
    """$5M/yr buys 500 units a year (see test_optimize_tiny.test_money_binds)."""
    res = optimize(tiny_network(budget_per_year=5e6))
    assert res.status is Status.OPTIMAL
    return res


def _cap_2025_deployments(lp):
    """A user hook: at most 200 units deployed in 2025 (an unregistered constraint)."""
    dep = lp.model.variables["deploy"].to_expr()
    lp.model.add_constraints(
        dep.sel({"period": 2025}).sum() <= 200 / lp.scaling.accelerator[0], name="test-cap"
    )


# ----------------------------------------------------------------------------- registry
def test_every_family_in_the_model_is_registered():
    lp = build_lp(tiny_network())
    reg = lp.registry
    assert set(lp.model.constraints) == {f.name for f in reg.constraints()}
    assert set(lp.model.variables) == {f.name for f in reg.variables()}
    for define in (*DEFINE_ORDER, define_money, define_objective):
        assert define.families, define.__name__  # each define_* says what it creates


def test_registry_survives_json():
    reg = build_lp(tiny_network()).registry
    back = Registry.from_json(reg.to_json())
    assert list(back) == list(reg)
    assert back["market-cap"].group is Group.LIMIT
    assert back["market-cap"].scale == ("availability", "/process")


def test_registering_an_unknown_family_is_an_error():
    with pytest.raises(KeyError, match="no-such-family"):
        registers("no-such-family")


def test_family_defaults_name_the_solution_variables():
    f = Family("x-cap", "constraint", ("period",), Group.LIMIT, "USD")
    assert f.solution_name == "dual_x-cap" and f.item_dim is None


# ----------------------------------------------------------------------------- solution
def test_duals_are_in_objective_units_per_natural_unit():
    """Market cap 1000 units/yr, money ample, no discount (test_optimize_tiny): one more
    unit a year of supply in 2025 runs 2025-2027, i.e. 3, 2, 1 H100e-years."""
    res = optimize(tiny_network())
    ds = res.dataset
    d = ds["dual_market-cap"].sel(process="x_supply", region="US")
    np.testing.assert_allclose(np.abs(d.values), [3.0, 2.0, 1.0], rtol=1e-4)
    np.testing.assert_allclose(
        ds["rhs_market-cap"].sel(process="x_supply", region="US").values, [1000.0] * 3
    )
    assert ds["dual_market-cap"].attrs["units"] == "H100e-year (discounted) per {activity_unit}"
    assert ds.attrs["objective_unit"] == "H100e-year (discounted)"


def test_money_dual_is_compute_per_dollar(money_binds):
    """One more dollar in 2025 buys 1e-4 units running 3 years: 3e-4 H100e-years per USD."""
    lam = np.abs(money_binds.dataset["dual_cash"].values)
    np.testing.assert_allclose(lam, [3e-4, 2e-4, 1e-4], rtol=1e-3)
    np.testing.assert_allclose(money_binds.dataset["rhs_cash"].values, [5e6] * 3, rtol=1e-9)


_ATTRS = ("units", "description")


def test_every_results_variable_has_units_and_a_description(money_binds):
    ds = money_binds.dataset
    missing = [k for k in ds.data_vars if not all(ds[k].attrs.get(a) for a in _ATTRS)]
    assert not missing, f"variables without units or description: {missing}"


def test_quarterly_report_says_the_value_covers_one_quarter():
    """Quarters, 1000 units/yr of supply: one more unit a year held in 2025Q1 is 0.25 units,
    each running 12 quarters x 0.25 yr = 3 years: 0.75 H100e-years, for that quarter only."""
    res = optimize(tiny_network(step="quarter"))
    caps = {b.period: b for b in res.bottlenecks if b.constraint == "market-cap"}
    b = caps["2025Q1"]
    assert b.shadow_price * 1e6 == pytest.approx(0.75, rel=1e-4)
    assert "in 2025Q1 (held for that quarter only)" in b.description


# ----------------------------------------------------------------------------- samples
def test_metrics_and_report_work_per_sample(money_binds):
    """Two solutions of one network stacked along `sample` give each one's metrics."""
    net = money_binds.network
    other = optimize(net, hooks=(_cap_2025_deployments,))
    runs = [money_binds, other]
    c0, c1 = (float(r.dataset["compute_h100e"].sel(period=2025)) for r in runs)
    assert c0 == pytest.approx(500, rel=1e-6) and c1 == pytest.approx(200, rel=1e-6)

    sol = xr.concat(
        [r.dataset.drop_vars(metrics.METRIC_VARIABLES) for r in runs], dim=SAMPLE
    ).transpose(SAMPLE, ...)
    params = metrics.MetricParams.from_attrs(money_binds.dataset.attrs)
    both = metrics.with_metrics(net.ds, sol, params)
    for name in metrics.METRIC_VARIABLES:
        for i, r in enumerate(runs):
            one = both[name]
            one = one.isel({SAMPLE: i}, drop=True) if SAMPLE in one.dims else one
            xr.testing.assert_allclose(one, r.dataset[name])
    ds = net.ds
    per_sample = {
        "residual": (metrics.residual_value_usd(ds, both), Results.residual_value_usd),
        "cost/h": (metrics.cost_per_h100e_hour(ds, both), Results.cost_per_h100e_hour),
        "capex/GW": (metrics.capex_per_gw(ds, both), Results.capex_per_gw),
        "spend": (metrics.total_spend(both["spend_usd"]), Results.total_spend),
        "hours": (metrics.h100e_hours(ds, both), Results.h100e_hours),
    }
    for key, (arr, method) in per_sample.items():
        assert arr.dims == (SAMPLE,), key
        np.testing.assert_allclose(arr.values, [method(r) for r in runs], rtol=1e-12, err_msg=key)
    costs = metrics.carrier_unit_costs(ds, both)
    for i, r in enumerate(runs):
        np.testing.assert_allclose(costs.isel({SAMPLE: i}).values, r.carrier_unit_costs().values)
    assert bottlenecks(ds, both, money_binds.registry) == [r.bottlenecks for r in runs]


# ----------------------------------------------------------------------------- save / load
@pytest.mark.parametrize(
    "kwargs",
    [
        {"budget_per_year": 5e6},  # money binds: values in USD
        {"step": "quarter", "grid_mw": 1.5},  # period labels are text ("2025Q1")
        {"objective": {"kind": "min_cost_for_path", "compute_path_h100e": {2027: 1000}}},
    ],
    ids=["money", "quarters", "min-cost"],
)
def test_save_then_load_gives_the_same_summary_and_report(kwargs, tmp_path):
    res = optimize(tiny_network(**kwargs))
    assert res.status is Status.OPTIMAL and res.bottlenecks
    res.save(tmp_path / "run")
    back = Results.load(tmp_path / "run")
    assert back.status is Status.OPTIMAL
    assert back.periods == res.periods
    assert back.bottlenecks == res.bottlenecks
    assert json.loads(back.to_json()) == json.loads(res.to_json())
    for k in res.dataset.data_vars:
        assert back.dataset[k].attrs["units"] == res.dataset[k].attrs["units"], k


def _close(a, b, rel=1e-12) -> bool:
    """JSON values equal, floats within ``rel`` (summation order)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k], rel) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y, rel) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b, rel=rel, abs=1e-300)
    return a == b


def test_cli_out_then_load_reproduces_the_summary(tmp_path):
    out = tmp_path / "run"
    r = CliRunner().invoke(app, ["run", "--set", "time.end=2027", "--out", str(out), "--json"])
    assert r.exit_code == 0, r.output
    back = Results.load(out)
    saved = json.loads((out / "summary.json").read_text())
    # equal to the last bits but for sums re-added in another order after loading
    assert _close(json.loads(back.to_json()), saved)
    assert back.bottlenecks, "the default plan binds somewhere"
    assert (
        json.loads(json.dumps([b.to_dict() for b in back.bottlenecks[:200]]))
        == (saved["bottlenecks"])
    )


def test_a_failed_run_saves_and_loads_its_status(tmp_path):
    net = tiny_network(objective={"kind": "min_cost_for_path", "compute_path_h100e": {2025: 1e9}})
    res = optimize(net)
    assert not res.status.ok
    res.save(tmp_path / "bad")
    back = Results.load(tmp_path / "bad")
    assert back.status is res.status and back.message == res.message
