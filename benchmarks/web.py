"""Playground latency: random slider moves against a real server, and a cold solve.

Usage:  python benchmarks/web.py [--moves 200] [--seed 0] [--out benchmarks/web.json]

Starts ``fab2flop serve`` on a free 127.0.0.1 port, loads the default view (one cold solve),
then makes ``--moves`` random moves of the playground's sliders (budget, US power-build
rate, US grid, merchant share, discount rate), each timed from sending the request to
having read the whole JSON response (what the page waits for). The baseline is a cold
build-and-solve of random states in this process: ``optimize(scenario)`` (network, LP
model, HiGHS, results) as ``fab2flop run`` does it. Goal: p95 of a move under 150 ms on 2
cores. The load average is recorded: on a shared machine the numbers move with it; the
server's CPU time per move (``server_cpu_ms``, absent for older trees) does not.

Each move is also broken down (``moves_detail``; summaries in ``parts_ms``, ``by_lever``,
``by_solver`` and ``slowest_5pct``): the slider moved, from and to, how it was solved
(``warm basis`` or ``fresh presolve``, fab2flop.web.bases), simplex iterations, solve,
readout and server ms, and the rest of the round trip (HTTP and JSON). With the race's CPU
times, ``uncontended_estimate_ms`` estimates the moves on an idle 2-core machine (labelled
as an estimate: measure there to know).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"

SLIDERS = {  # lever: (low, high, step) as on the page
    "budget_usd": (0.5e12, 20e12, 0.1e12),
    "us_power_mw_per_year": (0.0, 40_000.0, 500.0),
    "us_grid_mw": (0.0, 60_000.0, 500.0),
    "merchant_share": (0.0, 1.0, 0.01),
    "discount_rate": (0.0, 0.2, 0.005),
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _post(url: str, body: dict) -> tuple[float, dict]:
    data = json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=600) as r:
        out = json.loads(r.read())
    return (time.perf_counter() - t0) * 1e3, out


def random_moves(n: int, rng: np.random.Generator) -> list[dict]:
    """A walk: each move changes one slider to a random notch, as a user dragging would."""
    state: dict = {}
    moves = []
    names = list(SLIDERS)
    for _ in range(n):
        k = names[int(rng.integers(len(names)))]
        lo, hi, step = SLIDERS[k]
        state[k] = float(lo + step * rng.integers(0, int(round((hi - lo) / step)) + 1))
        moves.append(dict(state))
    return moves


def _move_detail(st: dict, prev: dict, ms: float, out: dict) -> dict:
    """One move broken down: the slider, from and to, how it was solved, simplex
    iterations, solve, readout and server time, and the rest (HTTP, JSON) [ms]."""
    lever = next((k for k in st if st.get(k) != prev.get(k)), None)
    return {
        "lever": lever,
        "from": prev.get(lever) if lever else None,
        "to": st.get(lever) if lever else None,
        "mode": out["mode"],
        "solved_by": out.get("solved_by"),
        "iterations": out.get("simplex_iterations", 0),
        "solve_ms": out.get("solve_ms"),
        "readout_ms": out.get("readout_ms"),
        "readout_cpu_ms": out.get("readout_cpu_ms"),
        "race_cpu_ms": out.get("race_cpu_ms"),
        "server_ms": out["elapsed_ms"],
        "http_json_ms": ms - out["elapsed_ms"],
        "move_ms": ms,
    }


def _uncontended(d: dict, delay_ms: float, http_ms: float) -> float | None:
    """What a move would take with a core per thread (an estimate from CPU times, an upper
    bound when the loser was stopped early): the winning run's CPU (the fresh one started
    ``delay_ms`` late), the readout's CPU and the HTTP/JSON time measured here."""
    race, rd = d.get("race_cpu_ms"), d.get("readout_cpu_ms")
    if rd is None:
        return None
    if not race:  # answered without a race (unchanged LP, cached or cold)
        return d["server_ms"] + http_ms if d["mode"] != "cold" else None
    win = race.get(d["solved_by"])
    if win is None:
        return None
    return win + (delay_ms if d["solved_by"] == "fresh presolve" else 0.0) + rd + http_ms


def _slowest(detail: list[dict], share: float = 0.05) -> list[dict]:
    n = max(1, int(round(len(detail) * share)))
    return sorted(detail, key=lambda d: -d["move_ms"])[:n]


def _by(detail: list[dict], key: str) -> dict:
    out: dict = {}
    for k in sorted({str(d[key]) for d in detail}):
        t = np.array([d["move_ms"] for d in detail if str(d[key]) == k])
        out[k] = {
            "n": int(len(t)),
            "p50": float(np.percentile(t, 50)),
            "p95": float(np.percentile(t, 95)),
        }
    return out


def _parts(detail: list[dict]) -> dict:
    out = {}
    for k in ("solve_ms", "readout_ms", "http_json_ms", "iterations"):
        v = np.array([d[k] for d in detail if d.get(k) is not None], float)
        if len(v):
            out[k] = {"p50": float(np.percentile(v, 50)), "p95": float(np.percentile(v, 95))}
    return out


def cold_baseline(states: list[dict]) -> list[float]:
    sys.path.insert(0, str(SRC))
    from fab2flop.optimizer import optimize
    from fab2flop.web.session import Levers, scenario_of

    optimize(scenario_of(Levers()))  # catalog and imports loaded, as in the server
    out = []
    for st in states:
        t0 = time.perf_counter()
        res = optimize(scenario_of(Levers(**st)))
        res.summary()
        out.append((time.perf_counter() - t0) * 1e3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--moves", type=int, default=200)
    ap.add_argument("--cold", type=int, default=10, help="cold solves for the baseline")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=HERE / "web.json")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    moves = random_moves(args.moves, rng)

    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    cmd = [sys.executable, "-c", "from fab2flop.cli import main; main()", "serve"]
    cmd += ["--port", str(port), "--no-store"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1/playground/solve"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/scenario/schema", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        first_ms, out = _post(url, {"levers": {}})
        assert out["mode"] == "cold", out.get("mode")
        sid = out["session"]
        load0 = os.getloadavg()
        times, modes, iters, server, cpu, detail = [], [], [], [], [], []
        prev: dict = {}
        for st in moves:
            ms, out = _post(url, {"session": sid, "levers": st})
            times.append(ms)
            modes.append(out["mode"])
            iters.append(out.get("simplex_iterations", 0))
            server.append(out["elapsed_ms"])
            cpu.append(out.get("cpu_ms", float("nan")))  # absent in older trees
            detail.append(_move_detail(st, prev, ms, out))
            prev = st
        load1 = os.getloadavg()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    cold = cold_baseline([moves[int(i)] for i in rng.integers(0, len(moves), args.cold)])

    t = np.array(times)
    result = {
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_before_after": [load0[0], load1[0]],
        "moves": len(moves),
        "first_view_cold_ms": first_ms,
        "move_ms": {
            "p50": float(np.percentile(t, 50)),
            "p95": float(np.percentile(t, 95)),
            "max": float(t.max()),
        },
        "move_ms_warm_only": {
            "p50": float(np.percentile(t[np.array(modes) == "warm"], 50)),
            "p95": float(np.percentile(t[np.array(modes) == "warm"], 95)),
        },
        "move_ms_p95_over_cold_p50": None,  # filled below: the ratio to the same run's baseline
        "server_ms_p50": float(np.percentile(server, 50)),
        "server_ms_p95": float(np.percentile(server, 95)),
        # CPU time of the solving thread: what a move costs whatever the machine's load
        "server_cpu_ms": {
            "p50": float(np.percentile(cpu, 50)),
            "p95": float(np.percentile(cpu, 95)),
        },
        "response_bytes_last": len(json.dumps(out)),
        "modes": {m: modes.count(m) for m in set(modes)},
        "simplex_iterations_p50": float(np.percentile(iters, 50)),
        "cold_build_and_solve_ms": {
            "p50": float(np.percentile(cold, 50)),
            "p95": float(np.percentile(cold, 95)),
        },
        "goal_p95_ms": 150.0,
        "parts_ms": _parts(detail),
        "by_lever": _by(detail, "lever"),
        "by_solver": _by(detail, "solved_by"),
        "slowest_5pct": _slowest(detail),
        "moves_detail": detail,
    }
    http = float(np.percentile([d["http_json_ms"] for d in detail], 50))
    est = [_uncontended(d, 10.0, http) for d in detail]
    est_ok = np.array([e for e in est if e is not None])
    if len(est_ok) == len(detail):
        result["uncontended_estimate_ms"] = {
            "p50": float(np.percentile(est_ok, 50)),
            "p95": float(np.percentile(est_ok, 95)),
            "note": "CPU of the winning run (+10 ms start of a fresh one) + readout CPU "
            "+ this run's HTTP/JSON p50: an estimate for an idle 2-core machine",
        }
    result["speedup_p50"] = result["cold_build_and_solve_ms"]["p50"] / result["move_ms"]["p50"]
    result["move_ms_p95_over_cold_p50"] = (
        result["move_ms"]["p95"] / result["cold_build_and_solve_ms"]["p50"]
    )
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "moves_detail"}, indent=2))


if __name__ == "__main__":
    main()
