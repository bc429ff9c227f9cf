"""Evaluators: results in order, failures reported not fatal, seeds per chunk, real Dask."""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import fab2flop
from fab2flop.risk.evaluators import DaskEvaluator, SequentialEvaluator, plan_chunks


def inverse(x):
    return 1.0 / x


def seeded_draw(item, rng):
    return item + float(rng.random())


def test_sequential_keeps_order_and_reports_failures():
    got = []
    with SequentialEvaluator() as ev:
        res = ev.map(inverse, [1, 2, 0, 4, 0], chunk_size=2, progress=lambda d, n: got.append(d))
    assert res.values == [1.0, 0.5, None, 0.25, None]
    assert [f.index for f in res.failures] == [2, 4]
    assert "ZeroDivisionError" in res.failures[0].reason and not res.ok
    assert got == [2, 4, 5]  # one progress call per chunk of 2


def test_chunks_and_seeds_do_not_depend_on_workers():
    assert plan_chunks(5, 2) == [(0, 2), (2, 4), (4, 5)]
    assert len(plan_chunks(1000, None)) == 32  # ceil(1000 / 32) = 32 per chunk → 32 chunks
    with pytest.raises(ValueError, match="chunk_size"):
        plan_chunks(5, 0)
    with SequentialEvaluator() as ev:
        a = ev.map(seeded_draw, range(6), chunk_size=3, seed=9).values
        b = ev.map(seeded_draw, range(6), chunk_size=3, seed=9).values
        c = ev.map(seeded_draw, range(6), chunk_size=3, seed=10).values
    assert a == b and a != c
    # the first chunk's generator is the first child of SeedSequence(9)
    first = np.random.default_rng(np.random.SeedSequence(9).spawn(2)[0]).random()
    assert a[0] == pytest.approx(0 + first)


def test_local_cluster_map_matches_sequential():
    items = [1, 2, 0, 4, 5, 0, 7]
    with DaskEvaluator(n_workers=2) as ev:
        res = ev.map(inverse, items, chunk_size=2)
        seeded = ev.map(seeded_draw, range(6), chunk_size=3, seed=9).values
        assert len(ev.client.scheduler_info()["workers"]) == 2
    assert res.values == [1.0, 0.5, None, 0.25, 0.2, None, 1 / 7]
    assert [f.index for f in res.failures] == [2, 5]
    with SequentialEvaluator() as ev:
        assert seeded == ev.map(seeded_draw, range(6), chunk_size=3, seed=9).values


def test_map_outside_the_with_block_is_an_error():
    with pytest.raises(RuntimeError, match="outside its 'with' block"):
        DaskEvaluator().map(inverse, [1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def test_separate_scheduler_and_worker_processes_by_address():
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    src = str(Path(fab2flop.__file__).resolve().parents[1])  # this checkout's src/
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    dask = [sys.executable, "-m", "dask"]  # the `dask` command of this interpreter
    scheduler = subprocess.Popen(
        [*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
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
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    t0 = time.monotonic()
    try:
        with DaskEvaluator(address, timeout_s=30) as ev:
            ev.client.wait_for_workers(1, timeout=30)
            res = ev.map(math.sqrt, [4.0, -1.0, 9.0], chunk_size=1)
            workers = ev.client.scheduler_info()["workers"]
        assert res.values == [2.0, None, 3.0]  # sqrt(4), —, sqrt(9)
        assert res.failures[0].index == 1 and "math domain error" in res.failures[0].reason
        assert all(w.startswith("tcp://127.0.0.1:") for w in workers)
        assert scheduler.poll() is None  # a cluster given by address is left running
    finally:
        stop(worker)
        stop(scheduler)
    assert time.monotonic() - t0 < 60
