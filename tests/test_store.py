"""The run history (fab2flop.store): what is recorded, compare/export/remove, clear errors.

Runs are the tiny network of conftest: $5M a year buys 500 accelerators X (1 H100e each) a
year, so 1500 H100e by 2027 for $15M; $10M a year buys the market's 1000 a year, 3000 H100e.
Killed and concurrent writers: tests/test_store_crash.py.
"""

from __future__ import annotations

import json
import os

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from fab2flop.cli import app
from fab2flop.constants import Status
from fab2flop.errors import Fab2FlopError
from fab2flop.results import Results
from fab2flop.store import (
    ENV_STORE,
    HEADLINE_METRICS,
    RunStore,
    StoreError,
    default_store_path,
    resolve_store_path,
)


@pytest.fixture
def store(tmp_path):
    return RunStore(tmp_path / "runs.duckdb")


def test_suite_never_writes_the_real_store():
    # conftest points $FAB2FLOP_STORE at a temporary folder for the whole session
    assert os.environ[ENV_STORE] != str(default_store_path())
    assert "fab2flop-test-store-" in os.environ[ENV_STORE]
    assert RunStore().path == resolve_store_path(None) == resolve_store_path(os.environ[ENV_STORE])


def test_default_path_is_in_the_user_data_dir(monkeypatch):
    monkeypatch.delenv(ENV_STORE)
    p = default_store_path()
    assert p.name == "runs.duckdb" and "fab2flop" in str(p.parent)
    assert RunStore().path == p


def test_add_get_records_everything(store, five):
    rid = store.add(five, label="base")
    rec = store.get(rid)
    assert rec["id"] == rid and len(rid) == 8
    assert rec["kind"] == "run" and rec["label"] == "base" and rec["status"] == "optimal"
    assert rec["scenario"] == "tiny"
    assert rec["scenario_digest"] == five.network.scenario.digest()
    assert rec["data_hash"] == "test" and rec["version"] == five.meta["version"]
    assert rec["scenario_yaml"] == five.network.scenario.to_yaml()
    assert rec["timings"] == pytest.approx(five.timings)
    assert rec["summary"] == json.loads(five.to_json())
    assert rec["headline"]["compute_h100e_final"] == pytest.approx(1500, rel=1e-6)
    assert rec["headline"]["spend_total_usd"] == pytest.approx(15e6, rel=1e-6)
    assert set(rec["headline"]) == set(HEADLINE_METRICS)
    assert rec["tables"] == sorted(
        ["activity", "new_capacity", "capacity", "installed", "spend_usd"]
    )
    inst = store.table(rid, "installed")
    assert inst[inst["period"] == 2027]["installed"].sum() == pytest.approx(1500, rel=1e-6)
    assert store.get(rid[:5])["id"] == rid  # a unique prefix is enough


def test_list_newest_first(store, five, ten):
    a = store.add(five)
    b = store.add(ten, kind="risk")
    rows = store.list()
    assert [r["id"] for r in rows] == [b, a]
    assert rows[0]["kind"] == "risk"
    assert rows[0]["headline"]["compute_h100e_final"] == pytest.approx(3000, rel=1e-6)
    assert [r["id"] for r in store.list(limit=1)] == [b]


def test_compare(store, five, ten):
    a, b = store.add(five), store.add(ten)
    cmp = store.compare(a, b)
    va, vb, d = cmp["metrics"]["compute_h100e_final"]
    assert (va, vb, d) == pytest.approx((1500, 3000, 1500), rel=1e-6)
    va, vb, d = cmp["metrics"]["spend_total_usd"]
    assert (va, vb, d) == pytest.approx((15e6, 30e6, 15e6), rel=1e-6)
    diff = "\n".join(cmp["scenario_diff"])
    assert "-  total_usd: 15000000.0" in diff and "+  total_usd: 30000000.0" in diff
    assert store.compare(a, a)["scenario_diff"] == []


def test_remove_and_unknown_ids(store, five):
    a, b = store.add(five), store.add(five)
    store.remove(a)
    assert [r["id"] for r in store.list()] == [b]
    for bad in (a, "zzzz", ""):
        with pytest.raises(StoreError, match="no run .* `fab2flop runs list`"):
            store.get(bad)
    with pytest.raises(StoreError, match="no run"):
        store.remove(a)
    assert issubclass(StoreError, Fab2FlopError)


def test_export(store, five, tmp_path):
    rid = store.add(five)
    files = store.export(rid, tmp_path / "out")
    names = sorted(p.name for p in files)
    assert names == sorted(
        ["summary.json", "scenario.yaml", "metadata.json", "activity.parquet",
         "new_capacity.parquet", "capacity.parquet", "installed.parquet", "spend_usd.parquet"]
    )  # fmt: skip
    assert json.loads((tmp_path / "out" / "summary.json").read_text()) == json.loads(five.to_json())
    spend = pd.read_parquet(tmp_path / "out" / "spend_usd.parquet")
    assert spend["spend_usd"].sum() == pytest.approx(15e6, rel=1e-6)


def test_failed_run_is_recorded(store, five):
    failed = Results.failed(five.network, Status.INFEASIBLE, "no plan", {"solve_s": 0.1})
    rid = store.add(failed)
    rec = store.get(rid)
    assert rec["status"] == "infeasible" and rec["headline"] == {} and rec["tables"] == []


def test_corrupt_file(tmp_path, five):
    p = tmp_path / "runs.duckdb"
    p.write_bytes(b"this is not a database" * 100)
    for op in (lambda s: s.list(), lambda s: s.get("abc"), lambda s: s.add(five)):
        with pytest.raises(StoreError, match="cannot be opened: .*not a DuckDB file"):
            op(RunStore(p))


def test_foreign_duckdb_file(tmp_path, five):
    p = tmp_path / "other.duckdb"
    con = duckdb.connect(str(p))
    con.execute("CREATE TABLE sales (id INTEGER)")
    con.close()
    with pytest.raises(StoreError, match="not a fab2flop run store .*sales"):
        RunStore(p).add(five)
    with pytest.raises(StoreError, match="not a fab2flop run store"):
        RunStore(p).list()


def test_missing_store(tmp_path):
    s = RunStore(tmp_path / "none.duckdb")
    assert s.list() == []
    with pytest.raises(StoreError, match="does not exist yet"):
        s.get("abc")


def test_cli_runs(tmp_path, five, ten):
    st = RunStore(tmp_path / "cli.duckdb")
    a, b = st.add(five, label="five"), st.add(ten)
    run = CliRunner().invoke
    opt = ["--store", str(st.path)]
    r = run(app, ["runs", "list", *opt])
    assert r.exit_code == 0 and a in r.output and b in r.output and "five" in r.output
    r = run(app, ["runs", "list", "--json", *opt])
    assert [x["id"] for x in json.loads(r.stdout)] == [b, a]
    r = run(app, ["runs", "show", a, *opt])
    assert r.exit_code == 0 and "compute_h100e_final" in r.output and "1.50k" in r.output
    r = run(app, ["runs", "compare", a, b, "--json", *opt])
    assert json.loads(r.stdout)["metrics"]["compute_h100e_final"][2] == pytest.approx(1500)
    r = run(app, ["runs", "compare", a, b, *opt])
    assert r.exit_code == 0 and "+  total_usd: 30000000.0" in r.output
    r = run(app, ["runs", "export", a, str(tmp_path / "exp"), *opt])
    assert r.exit_code == 0 and (tmp_path / "exp" / "installed.parquet").is_file()
    r = run(app, ["runs", "rm", a, *opt])
    assert r.exit_code == 0 and [x["id"] for x in st.list()] == [b]
    r = run(app, ["runs", "show", a, *opt])
    assert r.exit_code == 2 and "no run" in r.output


def test_cli_runs_corrupt_store(tmp_path):
    p = tmp_path / "bad.duckdb"
    p.write_bytes(b"\0garbage" * 64)
    r = CliRunner().invoke(app, ["runs", "list", "--store", str(p)])
    assert r.exit_code == 2 and "not a DuckDB file" in r.output


def test_empty_duckdb_file_is_an_empty_store(tmp_path, five):
    # what a process killed between creating the file and its first commit leaves
    p = tmp_path / "runs.duckdb"
    duckdb.connect(str(p)).close()
    assert RunStore(p).list() == []
    with pytest.raises(StoreError, match="no run"):
        RunStore(p).get("abcd")
    rid = RunStore(p).add(five)
    assert [r["id"] for r in RunStore(p).list()] == [rid]


def test_threads_in_one_process(tmp_path, five):
    # reads and writes from several threads and several RunStore objects on one file: DuckDB
    # refuses mixed read-only/read-write connections in one process, so they take turns
    from concurrent.futures import ThreadPoolExecutor

    p = tmp_path / "runs.duckdb"
    RunStore(p).add(five)

    def work(i: int) -> str:
        st = RunStore(p)
        if i % 2:
            return st.add(five, label=f"t{i}")
        return str(len(st.list()))

    with ThreadPoolExecutor(4) as ex:
        out = list(ex.map(work, range(8)))
    ids = [x for x in out if len(x) == 8]
    assert len(ids) == 4  # 1, 3, 5, 7 added
    assert len(RunStore(p).list()) == 5
