"""The run history: every run recorded in one DuckDB file (``fab2flop runs ...``).

A run is written in one transaction (its row, then its result tables as Parquet blobs), so a
process killed at any moment leaves either the whole run or none of it; DuckDB's write-ahead
log is replayed on the next open. DuckDB lets one process at a time open a file for writing:
every operation opens the file, does its work and closes it, and an open that meets another
process's lock is retried with bounded exponential backoff.

``fab2flop run`` records with :meth:`RunStore.record`, which does not open DuckDB: the run is
written whole (temporary folder, synced, renamed) into ``<store>.pending/<id>/`` and moved
into the file, in one transaction, by the next operation that opens the store.

>>> store = RunStore("runs.duckdb")            # doctest: +SKIP
>>> run_id = store.add(results)                # doctest: +SKIP
>>> store.compare(run_id, other)["metrics"]    # doctest: +SKIP
"""

from __future__ import annotations

import builtins
import contextlib
import difflib
import io
import json
import os
import secrets
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import Fab2FlopError

if TYPE_CHECKING:
    from .results import Results

__all__ = [
    "ENV_STORE",
    "HEADLINE_METRICS",
    "RunStore",
    "StoreError",
    "default_store_path",
    "headline_metrics",
]

ENV_STORE = "FAB2FLOP_STORE"
APPLICATION = "fab2flop-run-store"
SCHEMA_VERSION = "1"
# result tables recorded with each solved run (Dataset variable -> Parquet blob)
TABLES = ("activity", "new_capacity", "capacity", "installed", "spend_usd")
LOCK_TIMEOUT_S = 60.0  # give up waiting for another process's lock after this long [s]

# name -> (unit, how it is read from a Results.summary())
HEADLINE_METRICS: dict[str, str] = {
    "compute_h100e_final": "H100e",
    "compute_flops_final": "FLOP/s",
    "facility_power_gw_final": "GW",
    "energy_twh_total": "TWh",
    "largest_training_run_flop_final": "FLOP",
    "spend_total_usd": "USD",
    "funding_total_usd": "USD",
    "residual_value_usd": "USD",
    "cost_per_h100e_hour_usd": "USD/H100e-hour",
    "levelised_cost_per_h100e_hour_usd": "USD/H100e-hour",
    "capex_per_gw_usd": "USD/GW",
    "upstream_capex_usd": "USD",
    "compute_h100e_fp8_final": "H100e",
    "compute_h100e_effective_final": "H100e",
    "objective_value": "objective unit",
}


class StoreError(Fab2FlopError):
    """The run store cannot do what was asked (corrupt or foreign file, unknown id, lock)."""


def default_store_path() -> Path:
    """``runs.duckdb`` in the user's data directory (platformdirs when installed, else
    ``~/.local/share/fab2flop``)."""
    try:
        import platformdirs

        base = Path(platformdirs.user_data_dir("fab2flop", appauthor=False))
    except ImportError:
        base = Path.home() / ".local" / "share" / "fab2flop"
    return base / "runs.duckdb"


def resolve_store_path(path: str | Path | None = None) -> Path:
    """``path``, else ``$FAB2FLOP_STORE``, else :func:`default_store_path`."""
    if path is not None:
        return Path(path)
    env = os.environ.get(ENV_STORE)
    return Path(env) if env else default_store_path()


def headline_metrics(summary: dict[str, Any]) -> dict[str, float | None]:
    """The headline numbers of a run summary (units in :data:`HEADLINE_METRICS`); empty for
    a run that did not solve."""
    if "periods" not in summary:
        return {}

    def last(key: str) -> float | None:
        v = summary.get(key) or []
        return float(v[-1]) if v else None

    return {
        "compute_h100e_final": last("compute_h100e"),
        "compute_flops_final": last("compute_flops"),
        "facility_power_gw_final": last("facility_power_gw"),
        "energy_twh_total": float(sum(summary.get("energy_twh") or [])),
        "largest_training_run_flop_final": last("largest_training_run_flop"),
        "spend_total_usd": summary.get("spend_total_usd"),
        "funding_total_usd": summary.get("funding_total_usd"),
        "residual_value_usd": summary.get("residual_value_usd"),
        "cost_per_h100e_hour_usd": summary.get("cost_per_h100e_hour_usd"),
        "levelised_cost_per_h100e_hour_usd": summary.get("levelised_cost_per_h100e_hour_usd"),
        "capex_per_gw_usd": summary.get("capex_per_gw_usd"),
        "upstream_capex_usd": summary.get("upstream_capex_usd"),
        "compute_h100e_fp8_final": last("compute_h100e_fp8"),
        "compute_h100e_effective_final": last("compute_h100e_effective"),
        "objective_value": summary.get("objective_value"),
    }


_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS fab2flop_store (key VARCHAR PRIMARY KEY, value VARCHAR)",
    """CREATE TABLE IF NOT EXISTS runs (
        id VARCHAR PRIMARY KEY, created VARCHAR NOT NULL, kind VARCHAR NOT NULL,
        label VARCHAR, scenario VARCHAR, status VARCHAR NOT NULL, scenario_digest VARCHAR,
        data_hash VARCHAR, version VARCHAR, timings VARCHAR, headline VARCHAR,
        summary VARCHAR NOT NULL, scenario_yaml VARCHAR, meta VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS run_tables (
        run_id VARCHAR NOT NULL, name VARCHAR NOT NULL, parquet BLOB NOT NULL,
        PRIMARY KEY (run_id, name))""",
)


def _json(x: Any) -> str:
    from .results import _json_default

    return json.dumps(x, default=_json_default)


def _table_blobs(results: Results) -> dict[str, bytes]:
    """The result tables of a solved run as Parquet bytes (as ``Results.save`` writes them)."""
    out: dict[str, bytes] = {}
    if not results.status.ok:
        return out
    for name in TABLES:
        if name not in results.dataset:
            continue
        da = results.dataset[name]
        da = da.drop_vars([c for c in da.coords if str(c).startswith("scale_")])
        buf = io.BytesIO()
        da.to_dataframe().reset_index().to_parquet(buf, index=False)
        out[name] = buf.getvalue()
    return out


def _hint(msg: str) -> str:
    bad = ("not a valid", "corrupt", "invalid", "checksum", "serializ")
    if any(b in msg.lower() for b in bad):
        return (
            f" (not a DuckDB file, or a damaged one; move it away or choose another with "
            f"--store or ${ENV_STORE})"
        )
    return ""


PENDING_SUFFIX = ".pending"  # runs.duckdb -> runs.duckdb.pending/<id>/ (RunStore.record)
ROW_FILE = "run.json"
STALE_TMP_S = 86_400.0  # a half-written pending folder older than this is removed [s]


def _row(results: Results, kind: str, label: str | None) -> dict[str, Any]:
    """The ``runs`` row of ``results`` (without its id)."""
    text = results.to_json(indent=None)
    summary = json.loads(text)  # JSON-clean: what the headline reads
    meta = dict(results.meta)
    return {
        "created": datetime.now(UTC).isoformat(timespec="microseconds"),
        "kind": kind,
        "label": label,
        "scenario": results.network.scenario.name,
        "status": results.status.value,
        "scenario_digest": meta.get("scenario_digest"),
        "data_hash": meta.get("data_hash"),
        "version": meta.get("version"),
        "timings": _json(results.timings),
        "headline": _json(headline_metrics(summary)),
        "summary": text,  # = _json(summary): compact JSON of what the text parses to
        # the text the run was solved with (Results.from_lp keeps it), else written now
        "scenario_yaml": results.dataset.attrs.get("scenario_yaml")
        or results.network.scenario.to_yaml(),
        "meta": _json(meta),
    }


def _new_id(con: Any) -> str:
    taken = {r[0] for r in con.execute("SELECT id FROM runs").fetchall()}
    run_id = secrets.token_hex(4)
    while run_id in taken:
        run_id = secrets.token_hex(4)
    return run_id


def _insert(con: Any, run_id: str, row: dict[str, Any], blobs: dict[str, bytes]) -> None:
    """One run and its tables, in one transaction."""
    con.execute("BEGIN TRANSACTION")
    try:
        cols = ", ".join(["id", *row])
        marks = ", ".join("?" * (len(row) + 1))
        con.execute(f"INSERT INTO runs ({cols}) VALUES ({marks})", [run_id, *row.values()])
        for name, blob in blobs.items():
            con.execute("INSERT INTO run_tables VALUES (?, ?, ?)", [run_id, name, blob])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _age_s(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except OSError:
        return 0.0


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


_FILE_LOCKS: dict[str, threading.Lock] = {}
_FILE_LOCKS_GUARD = threading.Lock()


def _file_lock(path: Path) -> threading.Lock:
    """One lock per store file in this process: DuckDB refuses a read-only and a read-write
    connection to the same file at once in one process, so its operations take turns."""
    key = str(path.resolve())
    with _FILE_LOCKS_GUARD:
        return _FILE_LOCKS.setdefault(key, threading.Lock())


class RunStore:
    """A DuckDB file of recorded runs (see the module docstring and docs/report-and-store.md).

    ``path`` None means ``$FAB2FLOP_STORE``, else :func:`default_store_path`.
    """

    def __init__(self, path: str | Path | None = None, *, lock_timeout_s: float = LOCK_TIMEOUT_S):
        self.path = resolve_store_path(path)
        self.lock_timeout_s = lock_timeout_s
        self._lock = _file_lock(self.path)

    def __repr__(self) -> str:
        return f"RunStore({str(self.path)!r})"

    # ----------------------------------------------------------------- connection
    def _open(self, read_only: bool) -> Any:
        """A connection, waiting (bounded) while another process holds the file's lock."""
        import duckdb

        if read_only and not self.path.exists():
            raise StoreError(f"run store {self.path} does not exist yet: no run was recorded")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.lock_timeout_s
        delay = 0.02
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only)
            except duckdb.Error as exc:
                msg = str(exc)
                if "lock" not in msg.lower():
                    raise StoreError(
                        f"run store {self.path} cannot be opened: {msg}{_hint(msg)}"
                    ) from None
                if time.monotonic() >= deadline:
                    raise StoreError(
                        f"run store {self.path} stayed locked by another process for "
                        f"{self.lock_timeout_s:.0f} s: {msg}"
                    ) from None
            time.sleep(delay * (0.5 + secrets.randbelow(1000) / 1000))
            delay = min(delay * 2, 1.0)

    @contextlib.contextmanager
    def _connect(self, write: bool = False) -> Iterator[Any]:
        """A checked connection; None for a store that holds nothing yet (read only: a
        process killed after creating the file and before its first commit leaves one)."""
        with self._lock:
            write = write or self._has_pending()  # runs left by record(): move them in
            con = self._open(read_only=not write)
            try:
                ok = self._check_schema(con, create=write)
                if ok and write:
                    self._ingest(con)
                yield con if ok else None
            finally:
                con.close()

    def _check_schema(self, con: Any, create: bool) -> bool:
        """Create the tables in an empty file (``create``); refuse foreign files and other
        schema versions. False when the file is empty and ``create`` is off."""
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if "fab2flop_store" not in tables:
            if tables:
                raise StoreError(
                    f"{self.path} is a DuckDB file but not a fab2flop run store (it holds "
                    f"tables {', '.join(sorted(tables)[:5])}); choose another --store path"
                )
            if not create:
                return False
            con.execute("BEGIN TRANSACTION")
            for stmt in _SCHEMA:
                con.execute(stmt)
            con.execute(
                "INSERT INTO fab2flop_store VALUES ('application', ?), ('schema_version', ?)",
                [APPLICATION, SCHEMA_VERSION],
            )
            con.execute("COMMIT")
            return True
        found = dict(con.execute("SELECT key, value FROM fab2flop_store").fetchall())
        if found.get("application") != APPLICATION:
            raise StoreError(f"{self.path} is not a fab2flop run store")
        if found.get("schema_version") != SCHEMA_VERSION:
            raise StoreError(
                f"run store {self.path} has schema version {found.get('schema_version')!r}; "
                f"this fab2flop reads version {SCHEMA_VERSION}"
            )
        return True

    # ----------------------------------------------------------------- writing
    def add(self, results: Results, kind: str = "run", label: str | None = None) -> str:
        """Record ``results`` in one transaction; return its short id."""
        row, blobs = _row(results, kind, label), _table_blobs(results)
        with self._connect(write=True) as con:
            run_id = _new_id(con)
            _insert(con, run_id, row, blobs)
        return run_id

    @property
    def pending_dir(self) -> Path:
        """Where :meth:`record` leaves runs for the next open to move into the file."""
        return self.path.with_name(self.path.name + PENDING_SUFFIX)

    def record(self, results: Results, kind: str = "run", label: str | None = None) -> str:
        """Record ``results`` without opening DuckDB (what ``fab2flop run`` does); its id.

        The run is written whole into :attr:`pending_dir` (a temporary folder, synced, then
        renamed: a process killed at any moment leaves the whole run or none of it), and the
        next operation that opens the store (list, show, compare, add, ...) moves it into
        the DuckDB file in one transaction. Saves the DuckDB import and commit (~0.3 s) of
        every run; two runs recording at once both land."""
        row, blobs = _row(results, kind, label), _table_blobs(results)
        pend = self.pending_dir
        try:
            pend.mkdir(parents=True, exist_ok=True)
            while True:
                run_id = secrets.token_hex(4)  # checked against the file when moved in
                tmp = pend / f".{run_id}.{os.getpid()}.tmp"
                tmp.mkdir()
                files = {
                    ROW_FILE: _json(row).encode(),
                    **{f"{k}.parquet": v for k, v in blobs.items()},
                }
                for name, data in files.items():
                    with open(tmp / name, "wb") as fh:
                        fh.write(data)
                        fh.flush()
                        os.fsync(fh.fileno())
                try:
                    os.rename(tmp, pend / run_id)  # atomic; refused if the id is pending
                except OSError:
                    _rmtree(tmp)
                    continue
                _fsync_dir(pend)
                return run_id
        except OSError as exc:
            raise StoreError(f"cannot write to {pend}: {exc}") from None

    def _has_pending(self) -> bool:
        d = self.pending_dir
        return d.is_dir() and any(not p.name.startswith(".") for p in d.iterdir())

    def _ingest(self, con: Any) -> None:
        """Move the runs :meth:`record` left in :attr:`pending_dir` into the file, each in one
        transaction; a folder goes only after its run is committed (rerunning is harmless:
        a run already in the file is recognised by its id and creation time)."""
        pend = self.pending_dir
        if not pend.is_dir():
            return
        for sub in sorted(pend.iterdir()):
            if sub.name.startswith("."):  # being written, or already moved in
                if sub.name.endswith(".done") or _age_s(sub) > STALE_TMP_S:
                    _rmtree(sub)
                continue
            try:
                row = json.loads((sub / ROW_FILE).read_text(encoding="utf-8"))
                blobs = {p.stem: p.read_bytes() for p in sorted(sub.glob("*.parquet"))}
            except (OSError, ValueError):
                continue  # unreadable: left for a person to look at
            run_id = sub.name
            have = con.execute("SELECT created FROM runs WHERE id = ?", [run_id]).fetchone()
            if have is None or have[0] != row["created"]:
                if have is not None:  # another run took the id meanwhile (1 in 4e9)
                    run_id = _new_id(con)
                _insert(con, run_id, row, blobs)
            done = pend / f".{sub.name}.done"
            os.rename(sub, done)
            _rmtree(done)

    def remove(self, run_id: str) -> None:
        """Delete a run and its tables (one transaction)."""
        with self._connect(write=True) as con:
            rid = self._resolve(con, run_id)
            con.execute("BEGIN TRANSACTION")
            con.execute("DELETE FROM run_tables WHERE run_id = ?", [rid])
            con.execute("DELETE FROM runs WHERE id = ?", [rid])
            con.execute("COMMIT")

    # ----------------------------------------------------------------- reading
    def _resolve(self, con: Any, run_id: str) -> str:
        """The full id of ``run_id`` (an id or a unique prefix of one)."""
        rows = (
            []
            if con is None
            else con.execute(
                "SELECT id FROM runs WHERE starts_with(id, ?) ORDER BY id", [str(run_id)]
            ).fetchall()
        )
        if not run_id or not rows:
            raise StoreError(
                f"no run {run_id!r} in {self.path}; `fab2flop runs list` shows the ids"
            )
        if len(rows) > 1 and rows[0][0] != run_id:
            ids = ", ".join(r[0] for r in rows[:5])
            raise StoreError(f"run id {run_id!r} is ambiguous: it starts {ids}")
        return str(rows[0][0])

    def list(self, limit: int = 50) -> list[dict[str, Any]]:
        """The newest ``limit`` runs, newest first: id, created, kind, label, scenario,
        status, headline."""
        if not self.path.exists() and not self._has_pending():
            return []
        with self._connect() as con:
            if con is None:
                return []
            rows = con.execute(
                "SELECT id, created, kind, label, scenario, status, headline FROM runs "
                "ORDER BY created DESC, rowid DESC LIMIT ?",
                [int(limit)],
            ).fetchall()
        keys = ("id", "created", "kind", "label", "scenario", "status", "headline")
        out = [dict(zip(keys, r, strict=True)) for r in rows]
        for d in out:
            d["headline"] = json.loads(d["headline"] or "{}")
        return out

    def get(self, run_id: str) -> dict[str, Any]:
        """Everything recorded for a run: id, created, kind, label, scenario, status,
        scenario_digest, data_hash, version, timings, headline, summary, scenario_yaml, meta
        and ``tables`` (the names of its result tables)."""
        with self._connect() as con:
            rid = self._resolve(con, run_id)
            cur = con.execute("SELECT * FROM runs WHERE id = ?", [rid])
            names = [d[0] for d in cur.description]
            rec = dict(zip(names, cur.fetchone(), strict=True))
            tables = con.execute(
                "SELECT name FROM run_tables WHERE run_id = ? ORDER BY name", [rid]
            ).fetchall()
        for k in ("timings", "headline", "summary", "meta"):
            rec[k] = json.loads(rec[k]) if rec[k] else {}
        rec["tables"] = [t[0] for t in tables]
        return rec

    def table(self, run_id: str, name: str) -> Any:
        """One recorded result table as a pandas DataFrame."""
        import pandas as pd

        with self._connect() as con:
            rid = self._resolve(con, run_id)
            row = con.execute(
                "SELECT parquet FROM run_tables WHERE run_id = ? AND name = ?", [rid, name]
            ).fetchone()
        if row is None:
            raise StoreError(f"run {rid} has no table {name!r}; it has {', '.join(TABLES)}")
        return pd.read_parquet(io.BytesIO(row[0]))

    def compare(self, a: str, b: str) -> dict[str, Any]:
        """Headline metrics side by side ``{name: [a, b, b - a]}`` and the unified diff of the
        two resolved scenarios."""
        ra, rb = self.get(a), self.get(b)
        metrics: dict[str, list[float | None]] = {}
        for name in HEADLINE_METRICS:
            va, vb = ra["headline"].get(name), rb["headline"].get(name)
            diff = vb - va if va is not None and vb is not None else None
            metrics[name] = [va, vb, diff]
        diff_lines = list(
            difflib.unified_diff(
                (ra["scenario_yaml"] or "").splitlines(),
                (rb["scenario_yaml"] or "").splitlines(),
                fromfile=f"{ra['id']}/scenario.yaml",
                tofile=f"{rb['id']}/scenario.yaml",
                lineterm="",
            )
        )
        return {"a": ra["id"], "b": rb["id"], "metrics": metrics, "scenario_diff": diff_lines}

    def export(self, run_id: str, out_dir: str | Path) -> builtins.list[Path]:
        """Write summary.json, scenario.yaml, metadata.json and the Parquet tables of a run."""
        rec = self.get(run_id)
        with self._connect() as con:
            blobs = con.execute(
                "SELECT name, parquet FROM run_tables WHERE run_id = ? ORDER BY name", [rec["id"]]
            ).fetchall()
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        files = {
            "summary.json": json.dumps(rec["summary"], indent=2),
            "scenario.yaml": rec["scenario_yaml"] or "",
            "metadata.json": json.dumps(
                {k: rec[k] for k in rec if k not in ("summary", "scenario_yaml")},
                indent=2,
                default=str,
            ),
        }
        written = []
        for name, text in files.items():
            (out / name).write_text(text, encoding="utf-8")
            written.append(out / name)
        for name, blob in blobs:
            (out / f"{name}.parquet").write_bytes(blob)
            written.append(out / f"{name}.parquet")
        return written
