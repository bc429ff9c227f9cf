"""A run store in memory with the interface of :class:`fab2flop.store.RunStore`.

The API uses the DuckDB store when the package has it; tests (and a server started with
``--no-store``) use this one. Same methods, same return shapes (see docs/web.md).
"""

from __future__ import annotations

import difflib
import json
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import Fab2FlopError

PathList = list[Path]


class MemoryStoreError(Fab2FlopError, KeyError):
    """An unknown run id (the in-memory store's StoreError)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def _scalar_metrics(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary's headline: its scalar fields and per-period lists of numbers."""
    out: dict[str, Any] = {}
    for k, v in summary.items():
        if isinstance(v, bool) or k in ("meta", "events", "bottlenecks", "bottleneck_groups"):
            continue
        if isinstance(v, int | float):
            out[k] = v
        elif isinstance(v, list) and v and all(isinstance(x, int | float) for x in v):
            out[k] = v
    return out


class InMemoryRunStore:
    """Runs kept in a dict, newest last; thread-safe."""

    def __init__(self) -> None:
        self._runs: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def add(self, results: Any, kind: str = "run", label: str | None = None) -> str:
        summary = json.loads(results.to_json())
        rid = uuid.uuid4().hex[:12]
        rec = {
            "id": rid,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "kind": kind,
            "label": label,
            "scenario": summary.get("scenario"),
            "status": summary.get("status"),
            "headline": _scalar_metrics(summary),
            "summary": summary,
            "scenario_yaml": results.network.scenario.to_yaml(),
            "meta": summary.get("meta", {}),
        }
        with self._lock:
            self._runs[rid] = rec
        return rid

    def list(self, limit: int = 50) -> list[dict[str, Any]]:
        with self._lock:
            recs = list(self._runs.values())[::-1][:limit]
        keys = ("id", "created", "kind", "scenario", "status", "headline", "label")
        return [{k: r[k] for k in keys} for r in recs]

    def get(self, run_id: str) -> dict[str, Any]:
        with self._lock:
            rec = self._runs.get(run_id)
        if rec is None:
            raise MemoryStoreError(f"run {run_id!r} is not in the store")
        return rec

    def compare(self, a: str, b: str) -> dict[str, Any]:
        ra, rb = self.get(a), self.get(b)
        metrics: dict[str, list[Any]] = {}
        for k, va in ra["headline"].items():
            vb = rb["headline"].get(k)
            if isinstance(va, int | float) and isinstance(vb, int | float):
                metrics[k] = [va, vb, vb - va]
        diff = difflib.unified_diff(
            ra["scenario_yaml"].splitlines(),
            rb["scenario_yaml"].splitlines(),
            f"run {a}",
            f"run {b}",
            lineterm="",
        )
        return {"metrics": metrics, "scenario_diff": list(diff)}

    def remove(self, run_id: str) -> None:
        self.get(run_id)
        with self._lock:
            self._runs.pop(run_id, None)

    def export(self, run_id: str, out_dir: str | Path) -> PathList:
        rec = self.get(run_id)
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "summary.json").write_text(json.dumps(rec["summary"], indent=2))
        (out / "scenario.yaml").write_text(rec["scenario_yaml"])
        return [out / "summary.json", out / "scenario.yaml"]
