"""Time ``future_arrays`` as ``replay()`` calls it (cells, shifts, ``unused=UNUSED``, chunks of
512 of the default uncertainty set with its sampled events), serially, and check that the
arrays equal those of a baseline ``futures.py`` (a git revision, loaded beside the current
one) bit for bit. Figures are per 100,000 samples (seconds of one process).

    PYTHONPATH=src python benchmarks/futures_speed.py [--samples 4096] [--base 37d1470]
        [--repeats 3] [--check 8192] [--cache setup.pkl] [--profile] [--replay 2]

``--replay N`` also times ``replay()`` (whichever is on the path) on N workers with each
version of ``future_arrays``. Output of the runs that closed the speed pass (29 Nov, 2-core
machine shared with other sessions; before = 37d1470, after = this branch):

    $ PYTHONPATH=src python benchmarks/futures_speed.py --repeats 5 --cache /tmp/su.pkl
    setup 0.2 s, 4096 samples                      (seed 12, default set, 5 sampled events)
    bit-identical to 37d1470 on 4096 samples: yes
    before: per 100k samples, CPU best 7.33 s (median 7.54), wall best 7.33 s (median 7.55); 5 runs
    after : per 100k samples, CPU best 2.77 s (median 2.81), wall best 2.77 s (median 2.81); 5 runs
    speed-up, CPU best / best: 2.64x
    speed-up, wall best / best: 2.64x

(other runs that day, under more load: 2.44x-2.72x). Replay itself, main at e293b03
(numba period loop) with this ``futures.py``, 100,000 samples, 2 forked workers:

    $ PYTHONPATH=<main src + this futures.py> python benchmarks/futures_speed.py \
          --samples 100000 --repeats 2 --check 4096 --cache /tmp/su100k.pkl --replay 2
    bit-identical to 37d1470 on 4096 samples: yes
    before: per 100k samples, CPU best 8.11 s (median 8.63), wall best 8.11 s (median 8.64); 2 runs
    after : per 100k samples, CPU best 3.11 s (median 3.14), wall best 3.11 s (median 3.14); 2 runs
    replay before: 100000 samples on 2 workers, wall best 10.63 s
    replay after : 100000 samples on 2 workers, wall best 7.41 s
    replay outputs identical: yes

(that run had the commit before "factor columns computed in place"; with the final file,
the load rising to 2.8 during the run: futures 8.90 -> 3.24 s per 100k, 2.75x; replay
16.86 -> 9.95 s, outputs identical.)

Where the time went, and what was done: a chunk's sampled arrays are ~30 MB; writing fresh
memory costs a page fault per page (most of the old cost: the copy of the broadcast
nominal, the (S, n) temporaries of the gather and scatter). Now each array is one gather
from a small per-sample factor table (or, when few elements move, the nominal copied and
the moved elements written over it) into a buffer of ``SlabPool`` (reused once the last
chunk's arrays are dropped); events multiply runs of hit cells in place; event index, hit
cells, nominal floats and curve plans are memoised; all curves of an array are
interpolated at once.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

PROFILED = (
    "future_arrays",
    "_apply_responses",
    "_gathered",
    "_curve_values",
    "_interp",
    "_times_on",
    "apply_outage_s",
    "apply_price_s",
    "apply_export_s",
    "apply_delay_s",
)
HERE = Path(__file__).resolve().parent.parent


def load_baseline(rev: str) -> Any:
    """``fab2flop.risk.futures`` as it was at ``rev`` (a module beside the current one)."""
    src = subprocess.run(
        ["git", "show", f"{rev}:src/fab2flop/risk/futures.py"],
        cwd=HERE,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "futures_base.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("fab2flop.risk._futures_base", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def fresh_probe(probe: Any) -> Any:
    """The same probe with its memos empty (each version builds its own)."""
    p = copy.copy(probe)
    p.design = None
    p.design_cells = {}
    return p


def run_all(
    mod: Any,
    su: Any,
    probe: Any,
    cells: Any,
    shifts: Any,
    unused: Any,
    keep: bool = True,
    upto: int | None = None,
) -> list[Any]:
    """Every chunk's FutureArrays (``keep=False``: each dropped before the next, as replay
    does, so that the allocator can hand its memory to the next chunk); the samples up to
    ``upto`` only when given."""
    N = min(su.samples.sizes["sample"], upto or su.samples.sizes["sample"])
    out = []
    for lo in range(0, N, 512):
        sl = slice(lo, min(N, lo + 512))
        fa = mod.future_arrays(
            su.net,
            probe,
            su.samples,
            sl,
            su.events,
            n=sl.stop - sl.start,
            cells=cells,
            shifts=shifts,
            unused=unused,
        )
        if keep:
            out.append(fa)
        del fa
    return out


def same(a: Any, b: Any) -> list[str]:
    """Names of what differs between two FutureArrays (empty: bit-identical)."""
    bad = []
    if a.arrays.keys() != b.arrays.keys():
        bad.append("arrays keys")
    for k in a.arrays:
        if k in b.arrays and not np.array_equal(a.arrays[k], b.arrays[k], equal_nan=True):
            bad.append(k)
    if a.structural.keys() != b.structural.keys():
        bad.append("structural keys")
    for k in a.structural:
        (i1, v1), (i2, v2) = a.structural[k], b.structural.get(k, (None, None))
        if not (np.array_equal(i1, i2) and np.array_equal(v1, v2, equal_nan=True)):
            bad.append("structural " + k)
    for k in ("extra_start", "delayed", "funding_by_funder"):
        x, y = getattr(a, k), getattr(b, k)
        if (x is None) != (y is None) or (x is not None and not np.array_equal(x, y)):
            bad.append(k)
    if a.notes != b.notes:
        bad.append("notes")
    return bad


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=4096)
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--base", default="37d1470")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--replay", type=int, default=0, help="also time replay() on this many workers")
    ap.add_argument("--check", type=int, default=8192, help="samples checked bit for bit")
    ap.add_argument("--cache", help="pickle of the setup (written if absent), for reruns")
    args = ap.parse_args()

    from fab2flop import load_scenario
    from fab2flop.risk import futures as new
    from fab2flop.risk.replay import UNUSED, compact, setup, structure

    base = load_baseline(args.base)
    t = time.perf_counter()
    if args.cache and Path(args.cache).exists():
        su = pickle.loads(Path(args.cache).read_bytes())
    else:
        su = setup(load_scenario(), samples=args.samples, seed=args.seed)
        if args.cache:
            Path(args.cache).write_bytes(pickle.dumps(su))
    print(f"setup {time.perf_counter() - t:.1f} s, {su.samples.sizes['sample']} samples")
    st = structure(su.net)
    cp = compact(su.net, st)
    cells = (cp.pk, cp.rk)
    shifts = new.parameter_shifts(su.probe, su.samples)
    pb, pn = fresh_probe(su.probe), fresh_probe(su.probe)
    # first calls build the designs (replay does it once before the chunks)
    upto = args.check
    ref = run_all(base, su, pb, cells, shifts, UNUSED, upto=upto)
    got = run_all(new, su, pn, cells, shifts, UNUSED, upto=upto)  # every chunk kept alive
    diffs = [(i, same(a, b)) for i, (a, b) in enumerate(zip(ref, got, strict=True))]
    del got
    for _ in range(2):  # each chunk dropped before the next (buffers handed out again)
        for i, lo in enumerate(range(0, min(upto, su.samples.sizes["sample"]), 512)):
            n = min(512, su.samples.sizes["sample"] - lo)
            fa = new.future_arrays(
                su.net,
                pn,
                su.samples,
                slice(lo, lo + n),
                su.events,
                n=n,
                cells=cells,
                shifts=shifts,
                unused=UNUSED,
            )
            diffs.append((i, same(ref[i], fa)))
            del fa
    diffs = [d for d in diffs if d[1]]
    checked = min(upto, su.samples.sizes["sample"])
    print(
        f"bit-identical to {args.base} on {checked} samples:",
        "NO " + str(diffs[:3]) if diffs else "yes",
    )
    if args.profile:
        from line_profiler import LineProfiler

        lp = LineProfiler()
        for name in PROFILED:
            f = getattr(new, name, None)
            if f is not None:
                lp.add_function(f)
        if hasattr(new, "SlabPool"):
            lp.add_function(new.SlabPool.empty)
        lp.runcall(run_all, new, su, pn, cells, shifts, UNUSED, False)
        lp.print_stats()
    scale = 100_000 / su.samples.sizes["sample"]
    # wall and CPU (user + system: page faults count) seconds; CPU is the steadier figure
    # on a shared machine
    wall: dict[str, list[float]] = {"before": [], "after": []}
    cpu: dict[str, list[float]] = {"before": [], "after": []}
    for _ in range(args.repeats):  # alternated, so that a busy moment hits both
        for name, mod, p in (("before", base, pb), ("after", new, pn)):
            t, c = time.perf_counter(), time.process_time()
            run_all(mod, su, p, cells, shifts, UNUSED, keep=False)
            wall[name].append(time.perf_counter() - t)
            cpu[name].append(time.process_time() - c)
    for name in wall:
        w, c = wall[name], cpu[name]
        print(
            f"{name:6s}: per 100k samples, CPU best {min(c) * scale:.2f} s "
            f"(median {float(np.median(c)) * scale:.2f}), wall best {min(w) * scale:.2f} s "
            f"(median {float(np.median(w)) * scale:.2f}); {args.repeats} runs"
        )
    for what, t in (("CPU", cpu), ("wall", wall)):
        print(f"speed-up, {what} best / best: {min(t['before']) / min(t['after']):.2f}x")
    if args.replay:
        time_replay(su, base, new, args.repeats, args.replay)


def time_replay(su: Any, base: Any, new: Any, repeats: int, workers: int) -> None:
    """Wall seconds of ``replay()`` (the one on the path) with each version of
    ``future_arrays``, alternated; their outputs must be equal (NaN where NaN)."""
    from fab2flop.risk import replay as R

    outs, wall = {}, {"before": [], "after": []}
    for _ in range(repeats):
        for name, mod in (("before", base), ("after", new)):
            R.future_arrays = mod.future_arrays  # type: ignore[attr-defined]
            t = time.perf_counter()
            got = R.replay(su.net, su.plan, su.samples, su.probe, su.events, workers=workers)
            wall[name].append(time.perf_counter() - t)
            outs[name] = got.dataset
    R.future_arrays = new.future_arrays  # type: ignore[attr-defined]
    a, b = outs["before"], outs["after"]
    ok = all(np.array_equal(a[k].values, b[k].values, equal_nan=True) for k in a.data_vars)
    n = su.samples.sizes["sample"]
    for name, w in wall.items():
        print(f"replay {name:6s}: {n} samples on {workers} workers, wall best {min(w):.2f} s")
    print("replay outputs identical:", "yes" if ok else "NO")


if __name__ == "__main__":
    main()
