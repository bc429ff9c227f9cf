"""``RunStore.record`` (what ``fab2flop run`` does): the run is left whole beside the store
and moved into the DuckDB file by the next open, exactly once.

Runs are the tiny network of conftest: $5M a year buys 1500 H100e by 2027 (see
tests/test_store.py); $10M a year buys 3000.
"""

from __future__ import annotations

import os
import shutil
import time

import duckdb
import pytest

from fab2flop.store import ROW_FILE, STALE_TMP_S, RunStore


def _n_runs(path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return int(con.execute("SELECT count(*) FROM runs").fetchone()[0])
    finally:
        con.close()


def test_record_leaves_the_run_whole_and_the_next_open_moves_it_in(tmp_path, five):
    st = RunStore(tmp_path / "runs.duckdb")
    rid = st.record(five, label="base")
    assert not st.path.exists()  # DuckDB not touched by record
    (folder,) = st.pending_dir.iterdir()
    assert folder.name == rid and len(rid) == 8
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [ROW_FILE] + [f"{t}.parquet" for t in ("activity", "new_capacity", "capacity",
                                                "installed", "spend_usd")]
    )  # fmt: skip
    (listed,) = st.list()  # the open moves it in
    assert listed["id"] == rid and listed["label"] == "base"
    assert listed["headline"]["compute_h100e_final"] == pytest.approx(1500.0, rel=1e-6)
    assert list(st.pending_dir.iterdir()) == []
    assert st.table(rid, "installed")["installed"].sum() > 0
    assert st.get(rid)["summary"]["status"] == "optimal"


def test_a_run_moved_in_but_not_removed_is_not_added_twice(tmp_path, five):
    # a process killed between the commit and the removal of the folder
    st = RunStore(tmp_path / "runs.duckdb")
    rid = st.record(five)
    keep = tmp_path / "copy"
    shutil.copytree(st.pending_dir / rid, keep)
    assert [r["id"] for r in st.list()] == [rid]
    shutil.copytree(keep, st.pending_dir / rid)  # the folder is back, the run is in
    assert [r["id"] for r in st.list()] == [rid]
    assert _n_runs(st.path) == 1 and list(st.pending_dir.iterdir()) == []


def test_runs_recorded_and_added_all_land(tmp_path, five, ten):
    st = RunStore(tmp_path / "runs.duckdb")
    a = st.add(five)
    b, c = st.record(ten), st.record(five)
    d = st.add(ten)  # an add moves the pending ones in first
    assert list(st.pending_dir.iterdir()) == []
    assert {r["id"] for r in st.list()} == {a, b, c, d} and _n_runs(st.path) == 4
    got = {rid: st.get(rid)["headline"]["compute_h100e_final"] for rid in (b, c)}
    assert got[b] == pytest.approx(3000.0, rel=1e-6) and got[c] == pytest.approx(1500.0, rel=1e-6)


def test_half_written_folders_are_ignored_and_old_ones_removed(tmp_path, five):
    st = RunStore(tmp_path / "runs.duckdb")
    rid = st.record(five)
    fresh = st.pending_dir / ".0123abcd.99.tmp"  # a writer killed mid-way, or still writing
    old = st.pending_dir / ".89abcdef.98.tmp"
    for d in (fresh, old):
        shutil.copytree(st.pending_dir / rid, d)
    t = time.time() - STALE_TMP_S - 60
    os.utime(old, (t, t))
    assert [r["id"] for r in st.list()] == [rid]
    assert sorted(p.name for p in st.pending_dir.iterdir()) == [fresh.name]


def test_record_cannot_write_is_a_store_error(tmp_path, five):
    from fab2flop.store import StoreError

    blocker = tmp_path / "runs.duckdb.pending"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(StoreError, match="cannot write"):
        RunStore(tmp_path / "runs.duckdb").record(five)
