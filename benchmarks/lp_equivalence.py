"""Throwaway check: the in-house LP layer (fab2flop.lp.core) hands HiGHS the same LP as linopy.

Usage:  python benchmarks/lp_equivalence.py [--base REV] [--case NAME ...]

For each case (the default scenario annual and ``--set time.step=quarter``, a robust extensive
form of the default scenario over two futures, the world LP) the LP is built twice: by the
current tree (``src/``, the numpy core) and by the tree at ``--base`` (``git archive`` of the
last commit on linopy, unpacked in a temporary folder and run in a subprocess). Compared:
the constraint matrix A (same rows and columns in the same order, values to 1e-12 relative),
column bounds, row bounds (rhs and sense), objective coefficients and sense, and after
solving both with the same HiGHS options, the status, objective, primal values and row
duals (to solver tolerance, 1e-7 relative to the largest magnitude). Needs linopy installed
for the base side; exits with a message if it is not.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BASE = "c538f4d"  # the last commit that built the LP with linopy
CASES = ("annual", "quarter", "robust", "world")
MATRIX_RTOL = 1e-12
SOLUTION_RTOL = 1e-7


def _scenario(case: str):  # noqa: ANN202
    from fab2flop.scenario import apply_override, load_scenario_dict, validate_scenario

    data, origin = load_scenario_dict(None)
    if case == "quarter":
        apply_override(data, ["time", "step"], "quarter")
    if case == "robust":
        data.setdefault("objective", {})["kind"] = "robust"
        data["robust"] = {
            "source": "events",
            "futures": [
                {"name": "nominal", "probability": 0.7},
                {"name": "blockade", "probability": 0.3, "events": [{"use": "taiwan_blockade"}]},
            ],
        }
    return validate_scenario(data, origin)


def _ext_arrays(ext, sol) -> dict[str, np.ndarray]:  # noqa: ANN001
    A = ext.A.tocsr()
    A.sort_indices()
    return {
        "indptr": A.indptr, "indices": A.indices, "data": A.data,
        "shape": np.array(A.shape), "lb": ext.col_lower, "ub": ext.col_upper,
        "c": ext.cost, "row_lower": ext.row_lower, "row_upper": ext.row_upper,
        "sense": np.array([-1.0]), "x": sol.x, "dual": sol.row_dual,
        "objective": np.array([sol.objective]),
    }  # fmt: skip


def _robust(case: str) -> dict[str, np.ndarray]:
    from fab2flop.robust.extensive import build_extensive_model, solve_extensive
    from fab2flop.robust.members import robust_config, scenario_set

    sc = _scenario(case)
    ext = build_extensive_model(scenario_set(sc), robust_config(sc))
    return _ext_arrays(ext, solve_extensive(ext, method="simplex"))


def old_arrays(case: str) -> dict[str, np.ndarray]:
    """The case built and solved by the linopy tree (run inside the base tree)."""
    if case == "robust":
        return _robust(case)
    if case == "world":
        from fab2flop.world import build_world, build_world_lp, load_world

        m = build_world_lp(build_world(load_world()))
        opts: dict = {"time_limit": 120.0, "output_flag": False}
    else:
        from fab2flop.lp.model import build_lp
        from fab2flop.network import build_network
        from fab2flop.optimizer import _highs_options
        from fab2flop.policy import policy_hooks

        sc = _scenario(case)
        net = build_network(sc)
        m = build_lp(net, policy_hooks(sc)).model
        opts = _highs_options(sc, None, int(m.nvars))
    m.constraints.sanitize_zeros()  # what Model.solve does before building HiGHS's model
    m.constraints.sanitize_infinities()
    M = m.matrices
    A = M.A.tocsr()
    A.sort_indices()
    sense = np.asarray(M.sense).astype(str)
    m.solve(solver_name="highs", io_api="direct", **opts)
    s = m.solver_model.getSolution()
    return {
        "indptr": A.indptr, "indices": A.indices, "data": A.data, "shape": np.array(A.shape),
        "lb": M.lb, "ub": M.ub, "c": M.c,
        "row_lower": np.where(sense == "<", -np.inf, M.b),
        "row_upper": np.where(sense == ">", np.inf, M.b),
        "sense": np.array([-1.0 if m.objective.sense == "max" else 1.0]),
        "x": np.asarray(s.col_value), "dual": np.asarray(s.row_dual),
        "objective": np.array([m.solver_model.getInfo().objective_function_value]),
    }  # fmt: skip


def new_arrays(case: str) -> dict[str, np.ndarray]:
    """The case built and solved by the numpy core of this tree."""
    if case == "robust":
        return _robust(case)
    from fab2flop.lp import core

    if case == "world":
        from fab2flop.world import build_world, build_world_lp, load_world

        m = build_world_lp(build_world(load_world()))
        opts: dict = {"time_limit": 120.0}
    else:
        from fab2flop.lp.model import build_lp
        from fab2flop.network import build_network
        from fab2flop.optimizer import _highs_options
        from fab2flop.policy import policy_hooks

        sc = _scenario(case)
        net = build_network(sc)
        m = build_lp(net, policy_hooks(sc)).model
        opts = _highs_options(sc, None, m.n_columns)
    M = core.matrices(m)
    h = core.to_highs(m, opts, M)
    h.run()
    sol = core.read_solution(h, m)
    return {
        "indptr": M.indptr, "indices": M.indices, "data": M.data,
        "shape": np.array([M.n_rows, M.n_columns]), "lb": M.col_lower, "ub": M.col_upper,
        "c": M.cost, "row_lower": M.row_lower, "row_upper": M.row_upper,
        "sense": np.array([-1.0 if m.objective.sense == "max" else 1.0]),
        "x": sol.x, "dual": sol.row_dual, "objective": np.array([sol.objective]),
    }  # fmt: skip


def _close(a: np.ndarray, b: np.ndarray, rtol: float) -> tuple[bool, float]:
    """Equal within ``rtol`` of the larger magnitude of the two arrays (infinities equal)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape:
        return False, np.inf
    same_inf = (a == b) | (np.isnan(a) & np.isnan(b))
    with np.errstate(invalid="ignore"):
        diff = np.where(same_inf, 0.0, np.abs(a - b))
    scale = max(float(np.max(np.abs(np.where(np.isfinite(a), a, 0.0)), initial=0.0)), 1e-300)
    worst = float(np.max(diff, initial=0.0)) / scale
    return worst <= rtol, worst


def compare(old: dict[str, np.ndarray], new: dict[str, np.ndarray]) -> list[str]:
    """One line per compared item: name, ok or DIFFERENT, worst relative difference."""
    lines = []
    exact = ("shape", "indptr", "indices", "sense")
    for k in exact:
        ok = old[k].shape == new[k].shape and bool(np.array_equal(old[k], new[k]))
        lines.append(f"  {k:10s} {'ok' if ok else 'DIFFERENT'} (exact)")
        if k == "indices" and not ok:
            return lines  # the rest cannot be compared element by element
    for k in ("data", "lb", "ub", "c", "row_lower", "row_upper"):
        ok, w = _close(old[k], new[k], MATRIX_RTOL)
        lines.append(f"  {k:10s} {'ok' if ok else 'DIFFERENT'} (worst rel {w:.1e})")
    for k in ("objective", "x", "dual"):
        ok, w = _close(old[k], new[k], SOLUTION_RTOL)
        lines.append(f"  {k:10s} {'ok' if ok else 'DIFFERENT'} (worst rel {w:.1e})")
    return lines


def _run_base(rev: str, case: str, out: Path, tmp: Path) -> None:
    tree = tmp / "base"
    if not tree.exists():
        tree.mkdir()
        tar = tmp / "base.tar"
        subprocess.run(["git", "-C", str(ROOT), "archive", "-o", str(tar), rev, "src"], check=True)
        with tarfile.open(tar) as t:
            t.extractall(tree, filter="data")
    env = {"PYTHONPATH": str(tree / "src"), "PATH": "/usr/bin:/bin"}
    import os

    env = {**os.environ, **env}
    cmd = [sys.executable, __file__, "--dump-old", case, str(out)]
    subprocess.run(cmd, check=True, env=env)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default=BASE)
    ap.add_argument("--case", action="append", choices=CASES)
    ap.add_argument("--dump-old", nargs=2, metavar=("CASE", "OUT"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.dump_old:
        np.savez(a.dump_old[1], **old_arrays(a.dump_old[0]))
        return 0
    if importlib.util.find_spec("linopy") is None:
        print("linopy is not installed: nothing to compare against (pip install linopy)")
        return 2
    sys.path.insert(0, str(ROOT / "src"))
    bad = 0
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for case in a.case or CASES:
            out = tmp / f"{case}.npz"
            _run_base(a.base, case, out, tmp)
            old = dict(np.load(out))
            lines = compare(old, new_arrays(case))
            n = old["shape"]
            print(f"{case}: {n[0]} rows x {n[1]} columns, {len(old['data'])} non-zeros")
            print("\n".join(lines))
            bad += sum("DIFFERENT" in ln for ln in lines)
    print("all equal" if not bad else f"{bad} item(s) differ")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
