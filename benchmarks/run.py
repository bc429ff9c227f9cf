"""Benchmark suite: model build, solve and peak memory, by instance size and solver.

Usage:  python benchmarks/run.py [--quick] [--out benchmarks/results.json]

Each case runs in its own subprocess so that its peak memory (max RSS) is its own. Ratios
are against the baseline measured in the same run (the default scenario, simplex), since
shared machines are noisy. Results go to a JSON file; benchmarks/README.md keeps a table.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

CASES_FULL = [
    # name, kind, params, solver, options
    ("default", "default", {}, "simplex", {}),
    ("default", "default", {}, "ipm", {}),
    ("default-quarterly", "default", {"quarterly": True}, "simplex", {}),
    ("syn-S 4x4x11y", "synthetic", {"chains": 4, "regions": 4, "years": 11}, "simplex", {}),
    ("syn-S 4x4x11y", "synthetic", {"chains": 4, "regions": 4, "years": 11}, "ipm", {}),
    ("syn-M 10x8x11y", "synthetic", {"chains": 10, "regions": 8, "years": 11}, "simplex", {}),
    ("syn-M 10x8x11y", "synthetic", {"chains": 10, "regions": 8, "years": 11}, "ipm", {}),
    (
        "syn-M 10x8x11y dense",
        "synthetic",
        {"chains": 10, "regions": 8, "years": 11},
        "ipm",
        {"formulation": "dense"},
    ),
    (
        "syn-M 10x8x11y unscaled",
        "synthetic",
        {"chains": 10, "regions": 8, "years": 11},
        "ipm",
        {"scaled": False},
    ),
    (
        "syn-L 10x8x11q",
        "synthetic",
        {"chains": 10, "regions": 8, "years": 11, "step": "quarter"},
        "ipm",
        {},
    ),
    (
        "syn-L 10x8x11q",
        "synthetic",
        {"chains": 10, "regions": 8, "years": 11, "step": "quarter"},
        "simplex",
        {},
    ),
    (
        "syn-L 10x8x11q dense",
        "synthetic",
        {"chains": 10, "regions": 8, "years": 11, "step": "quarter"},
        "ipm",
        {"formulation": "dense"},
    ),
    (
        "syn-XL 20x12x11q",
        "synthetic",
        {"chains": 20, "regions": 12, "years": 11, "step": "quarter"},
        "ipm",
        {},
    ),
    (
        "syn-XL 20x12x11q",
        "synthetic",
        {"chains": 20, "regions": 12, "years": 11, "step": "quarter"},
        "simplex",
        {},
    ),
    (
        "syn-XL 20x12x11q dense",
        "synthetic",
        {"chains": 20, "regions": 12, "years": 11, "step": "quarter"},
        "ipm",
        {"formulation": "dense"},
    ),
    (
        "syn-XXL 25x14x16q",
        "synthetic",
        {"chains": 25, "regions": 14, "years": 16, "step": "quarter"},
        "ipm",
        {},
    ),
    (
        "syn-XXXL 30x16x16q",
        "synthetic",
        {"chains": 30, "regions": 16, "years": 16, "step": "quarter"},
        "ipm",
        {},
    ),
]
CASES_QUICK = [c for c in CASES_FULL if c[0].startswith(("default", "syn-S"))]
CASES_ONLY: list = []


def run_case(kind: str, params: dict, solver: str, options: dict) -> dict:
    """Runs inside the child process."""
    sys.path.insert(0, str(HERE))
    t0 = time.perf_counter()
    from fab2flop.lp.model import LPOptions
    from fab2flop.optimizer import optimize

    import_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    if kind == "default":
        from fab2flop.network import build_network
        from fab2flop.scenario import load_scenario

        sets = ["time.step=quarter"] if params.get("quarterly") else []
        net = build_network(load_scenario(overrides=sets))
    else:
        from instances import synthetic

        net = synthetic(**params)
    network_s = time.perf_counter() - t1
    res = optimize(net, method=solver, options=LPOptions(**options))
    lp_vars = res.meta.get("n_variables")
    return {
        "status": res.status.value,
        "objective": res.objective_value,
        "import_s": import_s,
        "network_s": network_s,
        "build_s": res.timings["build_s"],
        "solve_s": res.timings["solve_s"],
        "postprocess_s": res.timings.get("postprocess_s", 0.0),
        "n_variables": lp_vars,
        "n_constraints": res.meta.get("n_constraints"),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=str(HERE / "results.json"))
    ap.add_argument("--child", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        spec = json.loads(a.child)
        print(json.dumps(run_case(**spec)))
        return
    cases = CASES_QUICK if a.quick else CASES_FULL
    rows = []
    for name, kind, params, solver, options in cases:
        spec = {"kind": kind, "params": params, "solver": solver, "options": options}
        t = time.perf_counter()
        p = subprocess.run(
            [sys.executable, __file__, "--child", json.dumps(spec)],
            capture_output=True,
            text=True,
            timeout=1800,
        )
        wall = time.perf_counter() - t
        if p.returncode != 0:
            print(f"{name:28s} {solver:8s} FAILED\n{p.stderr[-2000:]}", file=sys.stderr)
            rows.append(
                {"case": name, "solver": solver, "options": options, "error": p.stderr[-500:]}
            )
            continue
        r = json.loads(p.stdout.strip().splitlines()[-1])
        r.update({"case": name, "solver": solver, "options": options, "wall_s": wall})
        rows.append(r)
        print(
            f"{name:28s} {solver:8s} vars={r['n_variables']:>8} cons={r['n_constraints']:>8} "
            f"network={r['network_s']:6.2f}s build={r['build_s']:6.2f}s solve={r['solve_s']:7.2f}s "
            f"peak={r['peak_rss_mb']:7.0f}MB {r['status']}",
            flush=True,
        )
    base = next(
        (r for r in rows if r.get("case") == "default" and r.get("solver") == "simplex"), None
    )
    if base:
        b = base["build_s"] + base["solve_s"]
        for r in rows:
            if "solve_s" in r:
                r["ratio_to_default"] = (r["build_s"] + r["solve_s"]) / b
    Path(a.out).write_text(
        json.dumps(
            {
                "machine": platform.platform(),
                "python": platform.python_version(),
                "cpus": __import__("os").cpu_count(),
                "rows": rows,
            },
            indent=2,
        )
    )
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
