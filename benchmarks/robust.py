"""Robust plan of the default scenario over S futures: the extensive form (one LP) against
Benders decomposition (fab2flop.robust.decompose), serial and on a 2-worker local Dask cluster.

Usage:
    PYTHONPATH=src python benchmarks/robust.py                  # S = 5, 10, 20, 50
    PYTHONPATH=src python benchmarks/robust.py --sizes 5 10 --out /tmp/r.json

The S futures are S draws of the default uncertainty set's events (``held_out_set``: events
only, probability 1/S each), built once per S in this process (their build time is reported
and is the same for every engine) and pickled; each engine then runs in its own subprocess
(its max RSS is its own peak memory) and loads them. Timed per engine: building the members'
LPs, solving, in all. The extensive form is solved by HiGHS's IPX with crossover (the
method the solver comparison picks above ~40,000 variables; benchmarks/solvers.py) and by
HiGHS's choice; decomposition stops at a relative gap of 1e-4 (its objective is compared
with the extensive form's). The load average is recorded before and after every case.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ENGINES = ("extensive ipx", "extensive choose", "benders serial", "benders dask-2")


def _members(S: int, path: Path) -> float:
    from fab2flop.robust.members import held_out_set
    from fab2flop.scenario import load_scenario

    t = time.perf_counter()
    ms = held_out_set(load_scenario(overrides=["objective.kind=robust"]), n=S)
    secs = time.perf_counter() - t
    path.write_bytes(pickle.dumps(ms))
    return secs


def run_case(engine: str, members_file: str, time_limit: float) -> dict:
    """Runs inside the child process."""
    from fab2flop.robust.config import RobustConfig

    ms = pickle.loads(Path(members_file).read_bytes())
    cfg = RobustConfig()
    t0 = time.perf_counter()
    out: dict = {}
    if engine.startswith("extensive"):
        from fab2flop.robust.extensive import build_extensive_model, solve_extensive

        ext = build_extensive_model(ms, cfg)
        t1 = time.perf_counter()
        method = "ipm" if engine.endswith("ipx") else None
        sol = solve_extensive(ext, method=method, time_limit_s=time_limit)
        out.update(
            status=sol.status.value,
            objective=sol.objective,
            build_s=t1 - t0,
            solve_s=sol.seconds,
            n_columns=int(ext.shape[1]),
            n_rows=int(ext.shape[0]),
            n_ties=int(ext.n_ties),
        )
    else:
        from fab2flop.risk.evaluators import DaskEvaluator, SequentialEvaluator
        from fab2flop.robust.decompose import DecomposeOptions, solve_decomposed

        ev = DaskEvaluator(n_workers=2) if engine.endswith("dask-2") else SequentialEvaluator()
        opts = DecomposeOptions(time_limit_s=time_limit)
        with ev:
            t1 = time.perf_counter()
            res = solve_decomposed(ms, cfg, evaluator=ev, options=opts)
            t2 = time.perf_counter()
            cpu_workers = 0.0
            if getattr(ev, "client", None) is not None:
                cpu = ev.client.run(lambda: resource.getrusage(resource.RUSAGE_SELF))
                cpu_workers = sum(r.ru_utime + r.ru_stime for r in cpu.values())
                peaks = ev.client.run(
                    lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                )
                out["worker_peak_rss_mb"] = max(peaks.values())
        out.update(
            status=res.status.value,
            objective=res.objective,
            bound=res.bound,
            gap=res.gap,
            iterations=res.iterations,
            n_linked_slots=len(res.slots),
            max_elastic=res.max_elastic,
            cluster_start_s=t1 - t0,
            setup_s=res.timings["setup_s"],
            evaluate_s=res.timings["evaluate_s"],
            master_s=res.timings["master_s"],
            solve_s=t2 - t1,
            worker_cpu_s=cpu_workers,
        )
    out["total_s"] = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_SELF)
    out["cpu_s"] = ru.ru_utime + ru.ru_stime
    out["peak_rss_mb"] = ru.ru_maxrss / 1024
    return out


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[5, 10, 20, 50])
    ap.add_argument("--engines", nargs="+", default=list(ENGINES))
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--out", default=str(HERE / "robust.json"))
    ap.add_argument("--child", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(run_case(**json.loads(a.child))))
        return
    scratch = Path(tempfile.mkdtemp(prefix="f2f-robust-"))
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    rows: list[dict] = []
    for S in a.sizes:
        mf = scratch / f"members{S}.pkl"
        load0 = _load()
        members_s = _members(S, mf)
        print(f"S={S}: futures built in {members_s:.1f} s (load {load0})", flush=True)
        for engine in a.engines:
            row: dict = {"S": S, "engine": engine, "members_s": members_s, "load_before": _load()}
            spec = {"engine": engine, "members_file": str(mf), "time_limit": a.time_limit}
            t = time.perf_counter()
            p = subprocess.run(
                [sys.executable, __file__, "--child", json.dumps(spec)],
                capture_output=True,
                text=True,
                timeout=a.time_limit * 3 + 600,
            )
            row["wall_s"] = time.perf_counter() - t
            row["load_after"] = _load()
            if p.returncode != 0:
                row["error"] = p.stderr[-1500:]
                print(f"  {engine:18s} FAILED {row['error'][-400:]}", flush=True)
            else:
                row.update(json.loads(p.stdout.strip().splitlines()[-1]))
                print(
                    f"  {engine:18s} {row['status']:10s} obj={row['objective']:.6f} "
                    f"total={row['total_s']:7.1f}s solve={row['solve_s']:7.1f}s "
                    f"peak={row['peak_rss_mb']:6.0f}MB load={row['load_before']}",
                    flush=True,
                )
            rows.append(row)
            _write(a.out, started, rows)
    _write(a.out, started, rows)
    print(f"wrote {a.out}")


def _write(path: str, started: str, rows: list[dict]) -> None:
    base = {
        r["S"]: r["objective"]
        for r in rows
        if r["engine"] == "extensive ipx" and r.get("objective")
    }
    for r in rows:
        if r.get("objective") is not None and r["S"] in base:
            r["obj_rel_diff"] = abs(r["objective"] - base[r["S"]]) / abs(base[r["S"]])
    out = {
        "started": started,
        "finished": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "machine": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "rows": rows,
    }
    Path(path).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
