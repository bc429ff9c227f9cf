"""Optimisation is safe to call from several threads (a web server runs them side by side).

Nothing process-wide is flipped per call: each model counts its own labels, and each HiGHS
object is silenced through its own options (set before it runs) rather than by redirecting
file descriptor 1.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import numpy as np
import pytest

from fab2flop import build_network, load_scenario, optimize
from fab2flop.lp.model import build_lp

SMALL = ["time.end=2029"]  # five years keeps each solve well under a second
BUDGET = [*SMALL, "budget.total_usd=3e11"]  # binds within five years


def _matrices(sets: list[str]) -> dict[str, np.ndarray]:
    from fab2flop.lp.core import matrices

    M = matrices(build_lp(build_network(load_scenario(None, sets))).model)
    return {
        "indptr": M.indptr,
        "indices": M.indices,
        "data": M.data,
        "row_lower": M.row_lower,
        "row_upper": M.row_upper,
        "cost": M.cost,
        "lb": M.col_lower,
        "ub": M.col_upper,
    }


@pytest.mark.parametrize("sets", [SMALL, [*SMALL, "budget.carry_over=false"]])
def test_models_built_in_two_threads_equal_the_sequential_build(sets):
    # labels are counted per model: two models built at once share no counter or option
    want = _matrices(sets)
    assert len(want["row_lower"]) > 100  # a real model
    got: list = [None, None]
    start = threading.Barrier(2)

    def work(i: int) -> None:
        start.wait()
        got[i] = _matrices(sets)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for g in got:
        for key in want:
            np.testing.assert_array_equal(g[key], want[key], err_msg=key)


def _fingerprint(res) -> tuple:
    ds = res.dataset
    return (
        res.status,
        res.objective_value,
        {k: ds[k].values.tobytes() for k in sorted(ds.data_vars)},
        [(b.name if hasattr(b, "name") else repr(b)) for b in res.bottlenecks],
    )


def test_two_optimisations_in_threads_equal_the_same_run_one_after_the_other():
    scenarios = [load_scenario(None, SMALL), load_scenario(None, BUDGET)]
    sequential = [_fingerprint(optimize(sc)) for sc in scenarios]
    assert sequential[0][1] != sequential[1][1]  # less money, less compute

    results: list = [None, None]
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def work(i: int) -> None:
        try:
            start.wait()  # both build and solve at the same time
            results[i] = _fingerprint(optimize(scenarios[i]))
        except BaseException as exc:  # surfaced below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert results == sequential


def _run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=180, check=False
    )


def test_run_json_prints_pure_json_on_stdout_in_a_real_process():
    # a real process, so HiGHS's C++ output reaches the real file descriptor 1
    code = "from fab2flop.cli import main; main()"
    p = subprocess.run(
        [sys.executable, "-c", code, "run", "--json", *sum((["--set", s] for s in SMALL), [])],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert p.returncode == 0, p.stderr
    payload = json.loads(p.stdout)  # fails on any banner or log line
    assert payload["status"] == "optimal"
    assert "HiGHS" not in p.stdout and "HiGHS" not in p.stderr


def test_solving_does_not_swallow_other_threads_stdout():
    # the old silencer pointed fd 1 at /dev/null during the solve: lines another thread
    # printed meanwhile were lost. A ticker prints for as long as the optimisation runs;
    # every line it printed must arrive, in order.
    code = """
import threading, time
from fab2flop import load_scenario, optimize
sc = load_scenario(None, ["time.end=2029"])
stop = threading.Event()
count = []
def ticker():
    i = 0
    while not stop.is_set():
        print(f"tick {i}", flush=True)
        i += 1
        time.sleep(0.001)
    count.append(i)
t = threading.Thread(target=ticker)
t.start()
ok = optimize(sc).status.ok
stop.set()
t.join()
print(f"done {ok} {count[0]}", flush=True)
"""
    p = _run_python(code)
    assert p.returncode == 0, p.stderr
    last = p.stdout.splitlines()[-1].split()
    assert last[:2] == ["done", "True"], p.stdout[-300:]
    n = int(last[2])
    assert n > 10  # the ticker ran through the optimisation
    ticks = [ln for ln in p.stdout.splitlines() if ln.startswith("tick")]
    assert ticks == [f"tick {i}" for i in range(n)]
    assert "HiGHS" not in p.stdout


def test_present_with_a_coefficient_broadcasts_and_checks_labels():
    import xarray as xr

    from fab2flop.constants import PROCESS
    from fab2flop.lp.terms import present

    net = build_network(load_scenario(None, SMALL))
    m = build_lp(net).model
    cap = m.variables["cap"]
    procs = net.ds.indexes[PROCESS]
    w = xr.DataArray(np.arange(1.0, len(procs) + 1.0), coords={PROCESS: procs})
    e = present(cap, w)
    lab = cap.labels
    # coefficient of process i is i + 1 wherever cap exists, 0 (an empty term) elsewhere
    want = np.where(lab >= 0, (np.arange(len(procs)) + 1.0)[:, None, None], 0.0)
    np.testing.assert_array_equal(e.coeffs[..., 0], want)
    np.testing.assert_array_equal(e.vars[..., 0], lab)
    with pytest.raises(ValueError):  # labels of a shared dim differ: refused
        present(cap, w.assign_coords({PROCESS: [f"x{i}" for i in range(len(procs))]}))
    with pytest.raises(ValueError, match="NaN"):
        present(cap, w.where(w > 1))  # NaN for the first process, which has capacity
