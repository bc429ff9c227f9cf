"""``solver.method: choose`` picks HiGHS's method by LP size (benchmarks/README.md, HiGHS's
solvers side by side): simplex below 20,000 columns, IPX with crossover (vertex duals for the
bottleneck report) from 20,000."""

from __future__ import annotations

from fab2flop.constants import Solver
from fab2flop.optimizer import _highs_options
from fab2flop.scenario import load_scenario


def test_choose_leaves_small_lps_to_highs_simplex():
    opts = _highs_options(load_scenario(), None, 2_427)  # the default scenario's LP
    assert "solver" not in opts  # HiGHS's own choice: dual simplex for an LP
    assert "solver" not in _highs_options(load_scenario(), None, 19_999)
    assert "solver" not in _highs_options(load_scenario(), None)  # size unknown: HiGHS decides


def test_choose_takes_ipx_with_crossover_from_20000_columns():
    opts = _highs_options(load_scenario(), None, 20_000)
    assert opts["solver"] == "ipm" and opts["run_crossover"] == "on"


def test_an_explicit_method_is_kept_whatever_the_size():
    assert _highs_options(load_scenario(), Solver.SIMPLEX, 1_000_000)["solver"] == "simplex"
    assert _highs_options(load_scenario(), Solver.PDLP, 100)["solver"] == "pdlp"
