"""Start-up benchmark: how long from typing ``fab2flop run`` to the printed table, and where.

Usage:  python benchmarks/startup.py [--repeats 7] [--compare OLD_SRC] [--out FILE.json]

Every measurement runs in a fresh interpreter (imports and caches start cold, as for a
user). Measured, each ``--repeats`` times, interleaved so that a busy machine slows every
case alike:

- baselines: ``python -c pass`` and ``python -c "import numpy"``;
- whole commands: ``fab2flop --help``, ``fab2flop scenario validate``, ``fab2flop run``;
- the phases of one ``run`` in one process: import, catalog, scenario, network, model
  build, solve, results (the last three are ``optimize``'s own timings), summary (what
  ``run`` prints and records) and record (into a new run store).

``fab2flop run`` records into a run store in a temporary folder (``$FAB2FLOP_STORE``), not
the user's.

Figures are minima over the repeats (the least disturbed run) and medians, in seconds and as
ratios to ``import numpy`` measured in the same run, so they compare across machines.
``--compare OLD_SRC`` measures another source tree (e.g. ``git archive`` of an older commit
unpacked somewhere) in the same interleaved loop, as "before".

Every tree is byte-compiled first (``compileall``), as an installed package is: a shell with
``PYTHONDONTWRITEBYTECODE=1`` would otherwise time the compilation of every module, each run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
CLI = "from fab2flop.cli import main; main()"

PHASES = r"""
import json, time
W, C = time.perf_counter, time.process_time
marks = [(W(), C())]
def mark():
    marks.append((W(), C()))
try:  # what `fab2flop run` does first (absent in older trees)
    from fab2flop._compat import defer_unused_imports
    defer_unused_imports()
except ImportError:
    pass
from fab2flop.catalog import load_catalog
from fab2flop.scenario import load_scenario
from fab2flop.network import build_network
from fab2flop.optimizer import optimize
try:  # what `fab2flop run` does before building the network (absent in older trees)
    from fab2flop._compat import defer_dask_import
    defer_dask_import()
except ImportError:
    pass
try:  # what `run` did in trees still on linopy (for --compare with them)
    from fab2flop._compat import import_linopy_without_unusable_cloud
    import_linopy_without_unusable_cloud()
except ImportError:
    pass
import fab2flop.lp.model, fab2flop.results  # optimize imports these lazily
mark()
cat = load_catalog(); mark()
sc = load_scenario(); mark()
net = build_network(sc); mark()
res = optimize(net); mark()
assert res.status.ok, res.message
res.summary(); mark()  # what `run` prints and records (dependence, finance, bottlenecks)
import os, tempfile
from fab2flop.store import RunStore
st = RunStore(os.path.join(tempfile.mkdtemp(), "runs.duckdb"))
getattr(st, "record", st.add)(res); mark()  # `run` records with record() when it exists
tm = res.timings
names = ["import", "catalog", "scenario", "network", "optimize", "summary", "record"]
out = {}
for k, (a, b) in zip(names, zip(marks, marks[1:])):
    out[k] = (b[0] - a[0], b[1] - a[1])
opt_w, opt_c = out.pop("optimize")
share = opt_c / opt_w if opt_w else 1.0  # CPU share of optimize, to split it by phase
for k, key in (("model build", "build_s"), ("solve", "solve_s")):
    out[k] = (tm[key], tm[key] * share)
rest = opt_w - tm["build_s"] - tm["solve_s"]
out["results"] = (rest, rest * share)
out["network+model+solve"] = tuple(
    out["network"][i] + out["model build"][i] + out["solve"][i] for i in (0, 1)
)
out["all phases"] = (marks[-1][0] - marks[0][0], marks[-1][1] - marks[0][1])
print(json.dumps(out))
"""

# name -> argv after the interpreter; "phases" prints its own timings
CASES: dict[str, list[str]] = {
    "python -c pass": ["-c", "pass"],
    "import numpy": ["-c", "import numpy"],
    "fab2flop --help": ["-c", CLI, "--help"],
    "fab2flop scenario validate": [
        "-c",
        CLI,
        "scenario",
        "validate",
        str(HERE.parent / "examples" / "euv_limited.yaml"),
    ],
    "fab2flop run": ["-c", CLI, "run"],
    "phases": ["-c", PHASES],
}
BASELINES = ("python -c pass", "import numpy")


def run_once(argv: list[str], src: Path, env_extra: dict[str, str]) -> tuple[float, float, str]:
    """Wall and CPU seconds (user + system of the child) of one fresh interpreter."""
    env = {**os.environ, "PYTHONPATH": str(src), **env_extra}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run([sys.executable, *argv], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise RuntimeError(f"{argv[:2]} failed: {p.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, p.stdout


def summarise(xs: list[float]) -> dict[str, float]:
    return {"min_s": round(min(xs), 4), "median_s": round(statistics.median(xs), 4)}


def measure(trees: dict[str, Path], repeats: int, env_extra: dict[str, str]) -> dict:
    walls: dict = {lab: {c: [] for c in CASES} for lab in trees}
    cpus: dict = {lab: {c: [] for c in CASES} for lab in trees}
    phases: dict = {lab: {} for lab in trees}
    for src in trees.values():  # warm the OS file cache and the catalog cache once
        run_once(CASES["fab2flop run"], src, env_extra)
    for i in range(repeats):
        for case, argv in CASES.items():
            for lab, src in trees.items():
                wall, cpu, out = run_once(argv, src, env_extra)
                walls[lab][case].append(wall)
                cpus[lab][case].append(cpu)
                if case == "phases":
                    for k, v in json.loads(out.strip().splitlines()[-1]).items():
                        phases[lab].setdefault(k, []).append(v)  # (wall, cpu)
        print(f"repeat {i + 1}/{repeats} done", file=sys.stderr)
    out: dict = {}
    for lab in trees:
        numpy_s = min(walls[lab]["import numpy"])
        res = {}
        for case in CASES:
            if case == "phases":
                continue
            r = summarise(walls[lab][case])
            r["cpu_min_s"] = round(min(cpus[lab][case]), 4)
            r["x_import_numpy"] = round(r["min_s"] / numpy_s, 2)
            res[case] = r
        for k, pairs in phases[lab].items():
            r = summarise([w for w, _ in pairs])
            r["cpu_min_s"] = round(min(c for _, c in pairs), 4)
            r["x_import_numpy"] = round(r["min_s"] / numpy_s, 2)
            res[f"phase: {k}"] = r
        out[lab] = res
    return out


def table(results: dict) -> str:
    labels = list(results)
    head = "| case | " + " | ".join(
        f"{lab} min s | {lab} median s | {lab} CPU s | {lab} x numpy" for lab in labels
    )
    lines = [head + " |", "|---|" + "---:|" * (4 * len(labels))]
    for case in results[labels[0]]:
        cells = []
        for lab in labels:
            r = results[lab].get(case, {})
            cells += [
                f"{r.get('min_s', float('nan')):.2f}",
                f"{r.get('median_s', float('nan')):.2f}",
                f"{r.get('cpu_min_s', float('nan')):.2f}",
                f"{r.get('x_import_numpy', float('nan')):.1f}",
            ]
        lines.append(f"| {case} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--compare", type=Path, help="another source tree, measured as 'before'")
    ap.add_argument("--out", type=Path, default=HERE / "startup.json")
    ap.add_argument(
        "--no-cache",
        action="store_true",
        help="switch the catalog cache off (FAB2FLOP_CACHE_DIR='')",
    )
    args = ap.parse_args()
    trees = {"before": args.compare.resolve()} if args.compare else {}
    trees["after" if args.compare else "this"] = SRC
    env_extra = {"FAB2FLOP_CACHE_DIR": ""} if args.no_cache else {}
    import compileall
    import tempfile

    for src in trees.values():  # bytecode, as a user's installed package has it
        compileall.compile_dir(str(src), quiet=1)

    env_extra["FAB2FLOP_STORE"] = str(Path(tempfile.mkdtemp()) / "runs.duckdb")
    load0 = os.getloadavg()
    results = measure(trees, args.repeats, env_extra)
    payload = {
        "machine": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_at_start": load0,
        "load_average_at_end": os.getloadavg(),
        "date_unix": time.time(),
        "repeats": args.repeats,
        "catalog_cache": not args.no_cache,
        "trees": {k: str(v) for k, v in trees.items()},
        "results": results,
    }
    args.out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print(table(results))
    print(f"\nwrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
