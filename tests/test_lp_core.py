"""The numpy LP layer (fab2flop.lp.core) on small LPs solved by hand."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from fab2flop.lp import core


def _two_rows_max() -> tuple[core.Model, core.Variable]:
    """max 3a + 2b  s.t.  r0: a + b <= 4,  r1: a + 3b <= 9,  r2: a <= 3,  a, b >= 0."""
    m = core.Model()
    x = m.add_variables("x", {"i": ["a", "b"]})
    e = x.to_expr()
    m.add_constraints(e.sum() <= 4, "r0")
    m.add_constraints(e.sel({"i": "a"}) + 3 * e.sel({"i": "b"}) <= 9, "r1")
    m.add_constraints(e.isel({"i": 0}) <= 3, "r2")
    m.add_objective((e * np.array([3.0, 2.0])).sum(), "max")
    return m, x


def test_max_lp_primal_duals_and_signs():
    m, x = _two_rows_max()
    sol, _ = core.solve(m)
    # vertex a = 3 (r2), b = 4 - 3 = 1 (r0); r1: 3 + 3 = 6 < 9 slack. objective 9 + 2 = 11
    assert sol.ok and sol.objective == pytest.approx(11.0)
    np.testing.assert_allclose(sol.primal(x), [3.0, 1.0], atol=1e-9)
    # duals: b's reduced cost 2 = y0 -> y0 = 2; a: 3 = y0 + y2 -> y2 = 1; r1 slack -> 0.
    # In a maximisation a binding <= row has a dual >= 0 (d objective / d rhs)
    assert sol.dual(m.constraints["r0"]) == pytest.approx(2.0)
    assert sol.dual(m.constraints["r1"]) == pytest.approx(0.0, abs=1e-9)
    assert sol.dual(m.constraints["r2"]) == pytest.approx(1.0)


def test_min_lp_with_an_equality_row():
    """min 2x + 3y  s.t.  x + y >= 4,  x - y = 1.  x = y + 1 -> min 5y + 2 with 2y + 1 >= 4:
    y = 1.5, x = 2.5, objective 9.5. d obj/d b0: y = (b0 - 1)/2 -> 5/2 = 2.5; d obj/d b1:
    y = (4 - b1)/2, obj = 5y + 2 b1 = 10 - b1/2 -> -0.5."""
    m = core.Model()
    x = m.add_variables("x", {"k": [0, 1]})
    e = x.to_expr()
    m.add_constraints(e.sum() >= 4, "cover")
    m.add_constraints(e.isel({"k": 0}) - e.isel({"k": 1}) == 1, "gap")
    m.add_objective((e * np.array([2.0, 3.0])).sum(), "min")
    sol, _ = core.solve(m)
    np.testing.assert_allclose(sol.primal(x), [2.5, 1.5], atol=1e-9)
    assert sol.objective == pytest.approx(9.5)
    # a minimisation's binding >= row: dual >= 0 (raising the floor costs)
    assert sol.dual(m.constraints["cover"]) == pytest.approx(2.5)
    assert sol.dual(m.constraints["gap"]) == pytest.approx(-0.5)


def test_masked_variables_and_rows_are_absent_and_read_as_nan():
    m = core.Model()
    # three cells, the middle one masked: labels 0, -1, 1 (compact, C order)
    x = m.add_variables("x", {"t": [1, 2, 3]}, upper=10.0, mask=np.array([True, False, True]))
    np.testing.assert_array_equal(x.labels, [0, -1, 1])
    e = x.to_expr()
    # rows x[t] <= 2 for every t, masked at t=3: row of t=2 has no variable -> absent too
    con = m.add_constraints(e <= 2.0, "cap", mask=np.array([True, True, False]))
    np.testing.assert_array_equal(con.labels, [0, -1, -1])
    m.add_objective(e.sum(), "max")
    sol, _ = core.solve(m)
    # x[1] <= 2 by its row, x[3] only by its bound 10
    np.testing.assert_allclose(sol.primal(x), [2.0, np.nan, 10.0])
    d = sol.dual(con)
    assert d[0] == pytest.approx(1.0) and np.isnan(d[1:]).all()
    assert sol.value(e.sum()) == pytest.approx(12.0)  # the absent cell counts 0


def test_a_variable_in_no_row_goes_to_its_bound():
    m = core.Model()
    x = m.add_variables("x", {"i": [0]})
    w = m.add_variables("w", {"i": [0]}, upper=5.0)  # in the objective only
    m.add_constraints(x.to_expr() <= 1.0, "r")
    m.add_objective((x.to_expr() + w.to_expr()).sum(), "max")
    sol, _ = core.solve(m)
    # x = 1 (row), w = 5 (bound): objective 6
    assert sol.primal(w)[0] == pytest.approx(5.0) and sol.objective == pytest.approx(6.0)
    assert core.matrices(m).n_columns == 2  # w is a column though it has no row


def test_infeasible_and_unbounded_statuses():
    m = core.Model()
    x = m.add_variables("x", {"i": [0]})
    m.add_constraints(x.to_expr() <= -1.0, "r")  # x >= 0 and x <= -1
    m.add_objective(x.to_expr().sum(), "max")
    assert core.solve(m)[0].termination == "infeasible"
    m = core.Model()
    x = m.add_variables("x", {"i": [0]})
    m.add_constraints(x.to_expr() >= 1.0, "r")  # max x with x >= 1 only
    m.add_objective(x.to_expr().sum(), "max")
    sol = core.solve(m)[0]
    assert sol.termination == "unbounded" and not sol.ok


def test_matrix_sums_duplicate_terms_drops_zeros_and_inert_rows():
    m = core.Model()
    x = m.add_variables("x", {"i": [0, 1, 2]})
    e = x.to_expr()
    # row: x0 + 2 x0 + x1 - x1 + 1e-12 x2  ->  3 x0 (x1 cancels, x2 negligible)
    v = np.array([[0, 0, 1, 1, 2]])
    c = np.array([[1.0, 2.0, 1.0, -1.0, 1e-12]])
    lhs = core.expression(v, c, ("r",), {"r": [0]})
    m.add_constraints(lhs <= 6.0, "sum")
    m.add_constraints(e <= np.array([np.inf, 1.0, 2.0]), "inf")  # x0 <= inf: no row
    m.add_objective(e.sum(), "max")
    M = core.matrices(m)
    assert M.n_rows == 3  # "sum", and "inf" at x1 and x2
    np.testing.assert_array_equal(M.indptr, [0, 1, 2, 3])
    np.testing.assert_array_equal(M.indices, [0, 1, 2])
    np.testing.assert_allclose(M.data, [3.0, 1.0, 1.0])
    np.testing.assert_allclose(M.row_upper, [6.0, 1.0, 2.0])
    assert np.isneginf(M.row_lower).all()


def test_dataarray_factors_broadcast_by_dimension_name():
    m = core.Model()
    x = m.add_variables("x", {"p": ["u", "v"], "t": [0, 1, 2]})
    w = xr.DataArray([10.0, 20.0, 30.0], coords={"t": [0, 1, 2]})
    e = x.to_expr() * w
    # x[p, t] * w[t]: the coefficient of x[v, 2] (label 5) is 30
    assert e.coeffs[1, 2, 0] == 30.0 and e.vars[1, 2, 0] == 5
    s = e.sum("p")  # two terms per period
    assert s.dims == ("t",) and s.vars.shape == (3, 2)
    np.testing.assert_array_equal(s.vars[2], [2, 5])
    # a new dimension from the factor is appended
    f = xr.DataArray([1.0, 2.0], coords={"r": ["a", "b"]})
    assert (x.to_expr() * f).dims == ("p", "t", "r")
    bad = xr.DataArray([1.0, 2.0, 3.0], coords={"t": [5, 6, 7]})
    with pytest.raises(ValueError, match="items of dimension 't'"):
        x.to_expr() * bad


def test_constant_moves_to_the_right_hand_side():
    m = core.Model()
    x = m.add_variables("x", {"i": [0]})
    # x + 2 <= 5  ->  x <= 3
    con = m.add_constraints(x.to_expr() + 2.0 <= 5.0, "r")
    assert con.rhs[0] == 3.0
    m.add_objective(x.to_expr().sum() + 1.0, "max")
    sol, _ = core.solve(m)
    assert sol.primal(x)[0] == pytest.approx(3.0)
    assert sol.objective == pytest.approx(4.0)  # 3 + the objective's constant 1


def test_nan_rhs_masks_the_row_and_nan_coefficient_is_refused():
    m = core.Model()
    x = m.add_variables("x", {"i": [0, 1]})
    con = m.add_constraints(x.to_expr() <= np.array([1.0, np.nan]), "r")
    np.testing.assert_array_equal(con.labels, [0, -1])
    with pytest.raises(ValueError, match="NaN"):
        x.to_expr(np.array([1.0, np.nan]))
