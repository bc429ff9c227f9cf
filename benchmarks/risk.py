"""Risk benchmarks: replay against a per-sample LP with fixed builds, replay at scale, Sobol.

Usage:  python benchmarks/risk.py [--gap 200] [--lp 5] [--big 100000] [--sobol-n 128]
        [--chunk 512] [--baseline-src DIR] [--out benchmarks/risk.json]

One run measures everything, so ratios are of the same machine state; the load average is
recorded with them (the machine may be shared).

- ``replay_per_sample_s`` vs ``lp_per_sample_s``: the same samples, replayed (one chunk)
  and solved as an LP with the plan's builds fixed (risk/fixedlp.py), ``--lp`` of them.
- ``gap``: on ``--gap`` sampled futures, discounted compute of replay / of the LP with the
  same fixed builds (1 = replay is as good as any dispatch could be).
- ``big``: ``--big`` samples of the default uncertainty set: seconds (sampling, probe and
  replay apart) and peak memory of the process.
- ``sobol``: Sobol indices of compute in 2030 and spend for 20 parameters on replay.
- ``baseline`` (with ``--baseline-src DIR``, a ``src`` folder of another version, e.g. from
  ``git archive``): the same ``--big`` samples replayed by that version and by this one, each
  in a fresh subprocess, one after the other (setup not timed): a same-run ratio on a
  shared machine, where seconds alone say little.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _child_rss_mb() -> float:
    """Peak memory of the largest child process (replay's forked workers)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0


def _cpu_s() -> float:
    """CPU seconds of this process and of its finished children (replay's workers)."""
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gap", type=int, default=200)
    ap.add_argument("--lp", type=int, default=5)
    ap.add_argument("--big", type=int, default=100_000)
    ap.add_argument("--sobol-n", type=int, default=128)
    ap.add_argument("--chunk", type=int, default=512)
    ap.add_argument("--baseline-src", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=HERE / "risk.json")
    args = ap.parse_args()

    from fab2flop import load_scenario
    from fab2flop.risk.fixedlp import discounted, solve_fixed
    from fab2flop.risk.futures import future_arrays
    from fab2flop.risk.replay import replay, replay_chunk, replay_model, setup, structure
    from fab2flop.risk.sensitivity import factors_from_resolved, sobol_indices

    out: dict = {
        "machine": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_before": os.getloadavg(),
    }
    sc = load_scenario()
    t = time.perf_counter()
    su = setup(sc, samples=max(args.gap, args.lp), seed=11)
    out["setup_s"] = time.perf_counter() - t
    net, plan = su.net, su.plan
    st = structure(net)

    # replay vs LP, same samples
    n = max(args.gap, args.lp)
    fa = future_arrays(net, su.probe, su.samples, slice(0, n), su.events)
    t = time.perf_counter()
    r = replay_chunk(net, plan, st, fa)
    out["replay_per_sample_s"] = (time.perf_counter() - t) / n
    out["replay_per_sample_note"] = f"one chunk of {n} samples, wall time"
    mine = discounted(net, r.compute_h100e)
    lp_s, ratios, failed = [], [], {}
    for i in range(n):
        lp = solve_fixed(net, plan, fa, i)
        if i < args.lp:
            lp_s.append(lp.seconds)
        if i >= args.gap:
            continue
        if not lp.status.startswith("optimal"):
            failed[lp.status] = failed.get(lp.status, 0) + 1
            continue
        ratios.append(mine[i] / discounted(net, lp.compute_h100e))
        if i % 20 == 0:
            print(f"gap: {i}/{args.gap}", file=sys.stderr, flush=True)
    out["lp_per_sample_s"] = float(np.mean(lp_s))
    out["lp_over_replay"] = out["lp_per_sample_s"] / out["replay_per_sample_s"]
    q = np.asarray(ratios) if ratios else np.ones(1)
    out["gap"] = {
        "samples": args.gap,
        "solved": int(q.size),
        "not_solved": failed,
        "replay_over_lp_mean": float(q.mean()),
        "p5": float(np.percentile(q, 5)),
        "p50": float(np.percentile(q, 50)),
        "min": float(q.min()),
        "max": float(q.max()),
    }
    print(json.dumps(out, indent=1), file=sys.stderr)

    # Sobol, 20 parameters
    names = su.probe.varied[:20]
    chosen = [p for p in _resolved(sc) if p.name in names]
    factors, transform = factors_from_resolved(chosen)
    model = replay_model(su, [p.name for p in chosen], ["compute_2030", "spend"])
    t = time.perf_counter()
    sobol_indices(model, factors, args.sobol_n, seed=1, transform=transform)
    out["sobol"] = {
        "parameters": len(chosen),
        "n_base": args.sobol_n,
        "runs": args.sobol_n * (len(chosen) + 2),
        "seconds": time.perf_counter() - t,
    }

    # scale
    t = time.perf_counter()
    big = setup(sc, samples=args.big, seed=12)
    out["big_setup_s"] = time.perf_counter() - t  # optimise + sample + probe
    load0 = os.getloadavg()[0]
    t, c = time.perf_counter(), _cpu_s()
    rb = replay(net, plan, big.samples, big.probe, big.events, chunk=args.chunk)
    out["big"] = {
        "samples": args.big,
        "replay_s": time.perf_counter() - t,
        "replay_cpu_s": _cpu_s() - c,  # this process and its 2 workers
        "load_during": [load0, os.getloadavg()[0]],
        "peak_rss_mb": _rss_mb(),
        "worker_peak_rss_mb": _child_rss_mb(),
        "chunk": args.chunk,
        "p50_compute_2035": float(np.median(rb.dataset["compute_h100e"].values[:, -1])),
        "parameters_varied": len(big.probe.varied),
        "parameters_held": len(big.probe.held),
    }
    del rb
    # the dependence figures across futures on a tenth of them (risk replay computes them)
    n_dep = max(1, args.big // 10)
    t, c = time.perf_counter(), _cpu_s()
    sub = big.samples.isel(sample=slice(0, n_dep))
    ev = [
        type(e)(e.event, e.occurs[:n_dep], e.start[:n_dep], e.duration[:n_dep], e.severity[:n_dep])
        for e in big.events
    ]
    replay(net, plan, sub, big.probe, ev, chunk=args.chunk, dependence=True)
    out["big"]["with_dependence"] = {
        "samples": n_dep,
        "seconds": time.perf_counter() - t,
        "cpu_s": _cpu_s() - c,
    }
    if args.baseline_src is not None:
        base = _replay_in_subprocess(args.baseline_src, args.big, 1024)  # its default chunk
        ours = _replay_in_subprocess(HERE.parent / "src", args.big, args.chunk)
        out["baseline"] = {
            "src": str(args.baseline_src),
            "baseline": base,
            "this": ours,
            "wall_ratio": base["replay_s"] / ours["replay_s"],
            "cpu_ratio": base["replay_cpu_s"] / ours["replay_cpu_s"],
        }
    out["load_after"] = os.getloadavg()
    args.out.write_text(json.dumps(out, indent=1))
    print(json.dumps(out, indent=1))


_TIMED = """
import json, os, resource, sys, time
sys.path.insert(0, sys.argv[1])
from fab2flop import load_scenario
from fab2flop.risk.replay import replay, setup
su = setup(load_scenario(), samples=int(sys.argv[2]), seed=12)
def cpu():
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime
load0 = os.getloadavg()[0]
t, c = time.perf_counter(), cpu()
replay(su.net, su.plan, su.samples, su.probe, su.events, chunk=int(sys.argv[3]))
print(json.dumps({"replay_s": time.perf_counter() - t, "replay_cpu_s": cpu() - c,
                  "load_during": [load0, os.getloadavg()[0]], "chunk": int(sys.argv[3]),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "worker_peak_rss_mb":
                      resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def _replay_in_subprocess(src: Path, n: int, chunk: int) -> dict:
    """Replay ``n`` samples of the default (seed 12) with the package in ``src``, timed in a
    fresh process (its setup is not timed)."""
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(src)}
    got = subprocess.run(
        [sys.executable, "-c", _TIMED, str(src), str(n), str(chunk)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return json.loads(got.stdout.strip().splitlines()[-1])


def _resolved(sc):
    from fab2flop.risk.replay import resolve_for

    return resolve_for(sc).parameters


if __name__ == "__main__":
    main()
