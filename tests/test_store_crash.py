"""Nothing recorded is lost: real processes killed with SIGKILL at random moments, two
processes writing at once, and a lock held by another process (bounded wait)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import fab2flop
from fab2flop.constants import Status
from fab2flop.optimizer import optimize
from fab2flop.results import Results
from fab2flop.store import RunStore, StoreError

from .conftest import tiny_network

SRC = str(Path(fab2flop.__file__).resolve().parents[1])
# records the saved run argv[1] in store argv[2], argv[3] times, printing each id once
# add() has returned (committed)
WRITER = """
import sys
from fab2flop.results import Results
from fab2flop.store import RunStore
res = Results.load(sys.argv[1])
st = RunStore(sys.argv[2])
print("ready", flush=True)
for i in range(int(sys.argv[3])):
    print(st.add(res, label=f"w{i}"), flush=True)
"""
CLI = "from fab2flop.cli import main; main()"


def _env(store: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["FAB2FLOP_STORE"] = str(store)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    return env


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    res = optimize(tiny_network(budget_per_year=5e6))
    assert res.status is Status.OPTIMAL
    d = tmp_path_factory.mktemp("saved") / "run"
    res.save(d)
    return d


def _writer(saved: Path, store: Path, n: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(saved), str(store), str(n)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(store),
    )  # fmt: skip


def _intact(store: Path, ids: list[str], h100e: float) -> None:
    """The store opens and lists every id; every run in it (those known to have completed
    and any the killed process committed before it printed) reads back whole."""
    st = RunStore(store)
    listed = {r["id"] for r in st.list(limit=10_000)}
    assert set(ids) <= listed
    for rid in listed:
        rec = st.get(rid)
        assert rec["headline"]["compute_h100e_final"] == pytest.approx(h100e, rel=1e-6)
        assert rec["summary"]["status"] == "optimal"
        assert len(rec["tables"]) == 5
        assert st.table(rid, "installed")["installed"].sum() > 0


def test_writer_killed_at_random_moments(saved, tmp_path):
    rng = random.Random(20261128)
    store = tmp_path / "runs.duckdb"
    committed: list[str] = []
    for _ in range(4):
        p = _writer(saved, store, 1000)
        assert p.stdout.readline().strip() == "ready", p.stderr.read()
        time.sleep(rng.uniform(0.0, 1.5))  # somewhere inside an add, between adds, ...
        p.send_signal(signal.SIGKILL)
        out, _ = p.communicate()
        assert p.returncode == -signal.SIGKILL
        committed += [line for line in out.split() if len(line) == 8]
        _intact(store, committed, 1500.0)  # tiny network, $5M a year: 1500 H100e in 2027
    assert committed, "no add completed in any attempt: the test proved nothing"
    # the store is still writable after all those kills
    rid = RunStore(store).add(Results.load(saved))
    _intact(store, [*committed, rid], 1500.0)


def test_real_run_killed_at_random_points(tmp_path):
    """`fab2flop run` (default scenario to 2026) recorded once, then killed 3 times at a
    random point of its life (imports, network, solve, recording, printing)."""
    rng = random.Random(7)
    store = tmp_path / "runs.duckdb"
    argv = [sys.executable, "-c", CLI, "run", "--set", "time.end=2026", "--json"]
    t0 = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, env=_env(store), timeout=600)
    life = time.monotonic() - t0
    assert done.returncode == 0, done.stderr
    first = done.stderr.split("recorded as run ")[1].split()[0]
    h100e = RunStore(store).get(first)["headline"]["compute_h100e_final"]
    assert h100e > 0
    completed = [first]
    for _ in range(3):
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=_env(store))  # fmt: skip
        time.sleep(rng.uniform(0.3, 1.1) * life)
        p.send_signal(signal.SIGKILL)
        _, err = p.communicate()
        if p.returncode == 0:  # finished before the kill: it must be there too
            completed.append(err.split("recorded as run ")[1].split()[0])
        _intact(store, completed, h100e)


def test_two_writers_at_once_both_land(saved, tmp_path):
    store = tmp_path / "runs.duckdb"
    procs = [_writer(saved, store, 4) for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
    ids = [line for out, _ in outs for line in out.split() if len(line) == 8]
    assert len(ids) == len(set(ids)) == 8
    _intact(store, ids, 1500.0)


HOLDER = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""


def test_lock_held_by_another_process(saved, tmp_path):

    res = Results.load(saved)
    store = tmp_path / "runs.duckdb"
    RunStore(store).add(res)  # create it
    hold = subprocess.Popen([sys.executable, "-c", HOLDER, str(store), "60"],
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert hold.stdout.readline().strip() == "locked"
        t0 = time.monotonic()
        with pytest.raises(StoreError, match="stayed locked by another process for 1 s"):
            RunStore(store, lock_timeout_s=1.0).add(res)
        assert time.monotonic() - t0 < 10  # bounded
    finally:
        hold.kill()
        hold.wait()
    # a lock released while we wait: the retry gets through
    hold = subprocess.Popen([sys.executable, "-c", HOLDER, str(store), "1.0"],
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert hold.stdout.readline().strip() == "locked"
        rid = RunStore(store, lock_timeout_s=60).add(res)
    finally:
        hold.wait()
    assert len(RunStore(store).list()) == 2 and RunStore(store).get(rid)["label"] is None
