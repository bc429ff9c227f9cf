"""HiGHS's LP solvers side by side: simplex, IPX interior point (crossover on/off), PDLP at a
stated tolerance, presolve and thread options, on the default scenario and synthetic instances
up to 1,000,000 variables.

Usage:
    PYTHONPATH=src python benchmarks/solvers.py                 # full run (~40 min on 2 cores)
    PYTHONPATH=src python benchmarks/solvers.py --only syn-L    # cases whose instance starts so
    PYTHONPATH=src python benchmarks/solvers.py --out FILE.json

Every case runs in its own subprocess (its max RSS is its own peak memory: network, LP
model, HiGHS). The child builds the network and the LP model exactly as
``optimize`` does, hands the model to HiGHS (``lp.core.to_highs``, what ``optimize`` does)
and runs HiGHS with the case's options. It reports HiGHS's own measures of the answer
(status, objective, iterations, max primal / dual infeasibility, primal-dual objective
error) and writes the row duals to a scratch file so the parent can compare them with the
reference case of the same instance (the first case of each instance: a vertex solution from
simplex or IPX + crossover, what the bottleneck report reads today):

- ``obj_rel_err``: |objective - reference objective| / |reference objective|;
- ``dual_rel_err``: max |dual - reference dual| / max |reference dual| over all rows (duals
  need not be unique at a degenerate optimum, so a large value is a warning, not a proof of
  error);
- ``binding_agree``: share of rows that this case and the reference both call binding or both
  call slack (|dual| > 1e-7 in model units, the bottleneck report's noise threshold).

The machine is shared: the load average is recorded before and after every case, and each
case's time is also given as a ratio to its instance's reference, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DUAL_TOL = 1e-7  # fab2flop.bottlenecks.TOL: |dual| in model units below which a row is slack

INSTANCES: dict[str, dict] = {
    "default": {"kind": "default"},
    "syn-L 10x8x11q": {"chains": 10, "regions": 8, "years": 11, "step": "quarter"},
    "syn-XL 20x12x11q": {"chains": 20, "regions": 12, "years": 11, "step": "quarter"},
    "syn-XXL 25x14x16q": {"chains": 25, "regions": 14, "years": 16, "step": "quarter"},
    "syn-1M 50x25x18q": {"chains": 50, "regions": 25, "years": 18, "step": "quarter"},
}

IPX = {"solver": "ipx", "run_crossover": "on"}
IPX_NX = {"solver": "ipx", "run_crossover": "off"}


def pdlp(tol: float) -> dict:
    """PDLP stopping at relative primal / dual residuals and relative duality gap <= tol."""
    return {"solver": "pdlp", "kkt_tolerance": tol}


def ipx_loose(gap: float) -> dict:
    """IPX without crossover stopping at a relative objective gap of ``gap``."""
    return {**IPX_NX, "ipm_optimality_tolerance": gap}


# instance, label, HiGHS options, time limit [s]. The first case of an instance is its reference.
CASES: list[tuple[str, str, dict, float]] = [
    ("default", "simplex", {"solver": "simplex"}, 120),
    ("default", "choose", {}, 120),
    ("default", "ipx", IPX, 120),
    ("default", "ipx no-crossover", IPX_NX, 120),
    ("default", "pdlp 1e-4", pdlp(1e-4), 120),
    ("syn-L 10x8x11q", "ipx", IPX, 300),
    ("syn-L 10x8x11q", "simplex", {"solver": "simplex"}, 300),
    ("syn-L 10x8x11q", "ipx no-crossover", IPX_NX, 300),
    ("syn-L 10x8x11q", "ipx gap 1e-2", ipx_loose(1e-2), 300),
    ("syn-L 10x8x11q", "pdlp 1e-4 60s", pdlp(1e-4), 60),
    ("syn-L 10x8x11q", "pdlp 1e-2", pdlp(1e-2), 60),
    ("syn-XL 20x12x11q", "ipx", IPX, 600),
    ("syn-XL 20x12x11q", "ipx no-crossover", IPX_NX, 600),
    ("syn-XL 20x12x11q", "ipx no-crossover threads=1", {**IPX_NX, "threads": 1}, 600),
    ("syn-XL 20x12x11q", "ipx gap 1e-3", ipx_loose(1e-3), 600),
    ("syn-XL 20x12x11q", "ipx gap 1e-2", ipx_loose(1e-2), 600),
    ("syn-XXL 25x14x16q", "ipx no-crossover", IPX_NX, 900),
    ("syn-XXL 25x14x16q", "ipx gap 1e-2", ipx_loose(1e-2), 900),
    ("syn-1M 50x25x18q", "ipx gap 1e-2", ipx_loose(1e-2), 1800),
    ("syn-1M 50x25x18q", "pdlp 1e-3 60s", pdlp(1e-3), 60),
]


def _network(instance: str):
    spec = dict(INSTANCES[instance])
    if spec.pop("kind", None) == "default":
        from fab2flop.network import build_network
        from fab2flop.scenario import load_scenario

        return build_network(load_scenario())
    sys.path.insert(0, str(HERE))
    from instances import synthetic

    return synthetic(**spec)


def run_case(instance: str, options: dict, time_limit: float, dual_file: str) -> dict:
    """Runs inside the child process; returns one row."""
    import numpy as np

    from fab2flop.lp.core import to_highs
    from fab2flop.lp.model import build_lp

    t0 = time.perf_counter()
    net = _network(instance)
    t1 = time.perf_counter()
    lp = build_lp(net, ())
    t2 = time.perf_counter()
    h = to_highs(lp.model)  # output off before anything runs
    h.setOptionValue("time_limit", float(time_limit))
    for k, v in options.items():
        if str(h.setOptionValue(k, v)) != "HighsStatus.kOk":
            raise ValueError(f"HiGHS option {k}={v!r} rejected")
    t3 = time.perf_counter()
    c3 = time.process_time()
    h.run()
    t4 = time.perf_counter()
    solve_cpu_s = time.process_time() - c3
    info = h.getInfo()
    sol = h.getSolution()
    duals = np.asarray(sol.row_dual, dtype=float)
    if duals.size:
        np.save(dual_file, duals)
    return {
        "status": h.modelStatusToString(h.getModelStatus()),
        "objective": info.objective_function_value,
        "network_s": t1 - t0,
        "build_s": t2 - t1,
        "to_highs_s": t3 - t2,
        "solve_s": t4 - t3,
        "solve_cpu_s": solve_cpu_s,  # this process's CPU: what a shared machine cannot inflate
        "n_variables": int(lp.model.n_columns),
        "n_constraints": int(lp.model.n_rows),
        "ipm_iters": int(info.ipm_iteration_count),
        "crossover_iters": int(info.crossover_iteration_count),
        "pdlp_iters": int(info.pdlp_iteration_count),
        "simplex_iters": int(info.simplex_iteration_count),
        "max_primal_infeas": float(info.max_primal_infeasibility),
        "max_dual_infeas": float(info.max_dual_infeasibility),
        "pd_obj_error": float(getattr(info, "primal_dual_objective_error", float("nan"))),
        "basis": bool(info.basis_validity),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _compare(row: dict, ref: dict, duals: Path, ref_duals: Path) -> None:
    import numpy as np

    if ref.get("objective"):
        row["obj_rel_err"] = abs(row["objective"] - ref["objective"]) / abs(ref["objective"])
    row["x_ref_solve"] = row["solve_s"] / ref["solve_s"] if ref.get("solve_s") else None
    if duals.exists() and ref_duals.exists():
        d, r = np.load(duals), np.load(ref_duals)
        if d.shape == r.shape:
            scale = float(np.max(np.abs(r))) or 1.0
            row["dual_rel_err"] = float(np.max(np.abs(d - r)) / scale)
            row["binding_agree"] = float(np.mean((np.abs(d) > DUAL_TOL) == (np.abs(r) > DUAL_TOL)))


def _e(x: float | None) -> str:
    return "–" if x is None else f"{x:.1e}"


def table(rows: list[dict]) -> str:
    """Markdown table of result rows."""
    out = [
        "| instance | solver | variables | status | solve s | x ref | iters ipm/xover/pdlp/simplex "
        "| obj rel err | max primal / dual infeas | rows binding as ref | peak MB | load before |",
        "|---|---|---:|---|---:|---:|---|---:|---|---:|---:|---|",
    ]
    for r in rows:
        if "error" in r:
            out.append(f"| {r['instance']} | {r['label']} | | failed | | | | | | | | |")
            continue
        it = f"{r['ipm_iters']}/{r['crossover_iters']}/{r['pdlp_iters']}/{r['simplex_iters']}"
        xr = r.get("x_ref_solve")
        ba = r.get("binding_agree")
        out.append(
            f"| {r['instance']} | {r['label']} | {r['n_variables']:,} | {r['status']} "
            f"| {r['solve_s']:.2f} | {'ref' if xr is None else f'{xr:.2f}'} | {it} "
            f"| {_e(r.get('obj_rel_err'))} | {_e(r['max_primal_infeas'])} / "
            f"{_e(r['max_dual_infeas'])} | {'–' if ba is None else f'{ba:.0%}'} "
            f"| {r['peak_rss_mb']:,.0f} | {r['load_before'].split()[0]} |"
        )
    return "\n".join(out)


def _print(r: dict) -> None:
    if "error" in r:
        print(f"{r['instance']:20s} {r['label']:32s} FAILED {r['error'][-300:]}", flush=True)
        return
    err = r.get("obj_rel_err")
    print(
        f"{r['instance']:20s} {r['label']:32s} n={r['n_variables']:>9,} "
        f"build={r['build_s']:5.1f}s solve={r['solve_s']:7.2f}s peak={r['peak_rss_mb']:6.0f}MB "
        f"{r['status']:10s} obj_err={'-' if err is None else f'{err:.1e}'} "
        f"bind={r.get('binding_agree', '-')} load={r['load_before']}",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="", help="run only instances whose name starts so")
    ap.add_argument("--out", default=str(HERE / "solvers.json"))
    ap.add_argument("--table", nargs="+", help="print the markdown table of these JSON files")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(run_case(**json.loads(a.child))))
        return
    if a.table:
        for f in a.table:
            print(table(json.loads(Path(f).read_text())["rows"]))
        return
    scratch = Path(tempfile.mkdtemp(prefix="f2f-solvers-"))
    rows: list[dict] = []
    refs: dict[str, tuple[dict, Path]] = {}
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    for i, (instance, label, options, limit) in enumerate(CASES):
        if not instance.startswith(a.only):
            continue
        dual_file = scratch / f"{i}.npy"
        spec = {
            "instance": instance,
            "options": options,
            "time_limit": limit,
            "dual_file": str(dual_file),
        }
        row: dict = {
            "instance": instance,
            "label": label,
            "options": options,
            "load_before": _load(),
        }
        t = time.perf_counter()
        p = subprocess.run(
            [sys.executable, __file__, "--child", json.dumps(spec)],
            capture_output=True,
            text=True,
            timeout=limit + 600,
        )
        row["wall_s"] = time.perf_counter() - t
        row["load_after"] = _load()
        if p.returncode != 0:
            row["error"] = p.stderr[-1500:]
        else:
            row.update(json.loads(p.stdout.strip().splitlines()[-1]))
            if instance not in refs:
                refs[instance] = (row, dual_file)
            else:
                _compare(row, refs[instance][0], dual_file, refs[instance][1])
        rows.append(row)
        _print(row)
        _write(a.out, started, rows)
    _write(a.out, started, rows)
    print(f"wrote {a.out}")


def _write(path: str, started: str, rows: list[dict]) -> None:
    out = {
        "started": started,
        "finished": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "machine": platform.platform(),
        "python": platform.python_version(),
        "highspy": __import__("importlib.metadata").metadata.version("highspy"),
        "cpus": os.cpu_count(),
        "rows": rows,
    }
    Path(path).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
