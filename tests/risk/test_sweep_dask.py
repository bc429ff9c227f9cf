"""Real parts: a sweep through a Dask scheduler and worker started as separate processes,
by address as a user with a cluster would, equals the same samples run here one by one."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import fab2flop
from fab2flop.risk.evaluators import DaskEvaluator, SequentialEvaluator
from fab2flop.risk.sweep import draw_samples, run_sweep
from fab2flop.risk.uncertainty import validate_uncertainty
from fab2flop.scenario import load_scenario
from tests.risk.test_evaluators import free_port, stop

UNCERTAINTY = {
    "samples": 4,
    "seed": 3,
    "catalog_ranges": False,
    "parameters": [
        {"id": "nodes.*.wafer_price_usd"},
        {"path": "budget.total_usd", "dist": "uniform", "low": 2.0e12, "high": 8.0e12},
    ],
    "events": [
        {
            "name": "taiwan_blockade",
            "probability_per_year": 0.4,
            "duration_years": {"dist": "uniform", "low": 0.5, "high": 2.0},
            "fraction": 1.0,
        }
    ],
}


def _cluster(port: int) -> tuple[subprocess.Popen, subprocess.Popen]:
    address = f"tcp://127.0.0.1:{port}"
    src = str(Path(fab2flop.__file__).resolve().parents[1])  # this checkout's src/
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    dask = [sys.executable, "-m", "dask"]
    quiet = {"env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    scheduler = subprocess.Popen(
        [*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        **quiet,  # type: ignore[call-overload]
    )
    worker = subprocess.Popen(
        [
            *dask,
            "worker",
            address,
            "--nworkers",
            "1",
            "--nthreads",
            "1",
            "--host",
            "127.0.0.1",
            "--no-dashboard",
            "--no-nanny",
        ],  # fmt: skip
        **quiet,  # type: ignore[call-overload]
    )
    return scheduler, worker


def test_sweep_by_address_equals_a_sequential_run():
    sc = load_scenario(overrides=["time.end=2028"])
    inputs = draw_samples(sc, validate_uncertainty(UNCERTAINTY), 4, 3)
    port = free_port()
    scheduler, worker = _cluster(port)
    t0 = time.monotonic()
    try:
        with DaskEvaluator(f"tcp://127.0.0.1:{port}", timeout_s=60) as ev:
            ev.client.wait_for_workers(1, timeout=60)
            remote = run_sweep(sc, inputs, mode="recourse", evaluator=ev, chunk_size=2).dataset
            workers = ev.client.scheduler_info()["workers"]
        assert len(workers) == 1 and scheduler.poll() is None  # the cluster is left running
    finally:
        stop(worker)
        stop(scheduler)
    with SequentialEvaluator() as ev:
        here = run_sweep(sc, inputs, mode="recourse", evaluator=ev).dataset
    assert remote["status"].values.tolist() == here["status"].values.tolist()
    assert (here["status"].values == "optimal").sum() >= 2
    np.testing.assert_allclose(remote["compute_h100e"].values, here["compute_h100e"].values,
                               rtol=1e-9)  # fmt: skip
    np.testing.assert_allclose(remote["spend_usd"].values, here["spend_usd"].values, rtol=1e-9)
    np.testing.assert_array_equal(remote["information_year"].values,
                                  here["information_year"].values)  # fmt: skip
    # the four futures differ (budgets drawn from $2T-$8T): the comparison means something
    last = here["compute_h100e"].values[:, -1]
    assert np.nanmax(last) > np.nanmin(last) * 1.01
    assert time.monotonic() - t0 < 300
