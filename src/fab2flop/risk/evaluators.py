"""Where samples run: in this process, or on Dask distributed (a local cluster or an address).

Evaluators are context managers with one method, ``map(fn, items)``: items are cut into
chunks, each chunk runs as one task, and results come back in the order of ``items``. An item
that raises is reported (index and reason) in ``MapResult.failures``; the others still run.

>>> with SequentialEvaluator() as ev:
...     res = ev.map(lambda x: 1 / x, [1, 0, 4])
>>> res.values, [f.index for f in res.failures]
([1.0, None, 0.25], [1])

With ``seed=...``, ``fn`` is called as ``fn(item, rng)``: each chunk gets a
``numpy.random.Generator`` from its own child of ``SeedSequence(seed).spawn(n_chunks)``. The
chunking depends only on ``chunk_size``, so the same seed gives the same results on any
evaluator and any number of workers.
"""

from __future__ import annotations

import logging
import math
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Progress = Callable[[int, int], None]  # (items done, items in all)


@dataclass(frozen=True)
class Failure:
    """An item that raised: its index in ``items`` and the reason."""

    index: int
    reason: str


@dataclass
class MapResult:
    """Results in item order (None where an item failed) and the failures."""

    values: list[Any]
    failures: list[Failure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def _reason(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


def run_chunk(
    fn: Callable[..., Any], start: int, chunk: Sequence[Any], seed: Any | None
) -> list[tuple[int, bool, Any]]:
    """Run one chunk; each entry is (index, ok, value or reason). Never raises for an item."""
    rng = np.random.default_rng(seed) if seed is not None else None
    out = []
    for i, item in enumerate(chunk):
        try:
            value = fn(item) if rng is None else fn(item, rng)
            out.append((start + i, True, value))
        except Exception as exc:  # a failed item is reported, not fatal
            out.append((start + i, False, _reason(exc)))
    return out


DEFAULT_CHUNKS = 32  # enough to balance a few workers; independent of their number


def plan_chunks(n: int, chunk_size: int | None) -> list[tuple[int, int]]:
    """(start, stop) of each chunk; by default at most DEFAULT_CHUNKS chunks."""
    if chunk_size is None:
        chunk_size = max(1, math.ceil(n / DEFAULT_CHUNKS))
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1; got {chunk_size}")
    return [(s, min(s + chunk_size, n)) for s in range(0, n, chunk_size)]


def chunk_seeds(seed: int | None, n_chunks: int) -> list[Any]:
    """One child SeedSequence per chunk (None when unseeded)."""
    if seed is None:
        return [None] * n_chunks
    return list(np.random.SeedSequence(seed).spawn(n_chunks))


def collect(n: int, entries: list[tuple[int, bool, Any]]) -> MapResult:
    values: list[Any] = [None] * n
    failures = []
    for idx, ok, val in entries:
        if ok:
            values[idx] = val
        else:
            failures.append(Failure(idx, str(val)))
    return MapResult(values, sorted(failures, key=lambda f: f.index))


class SequentialEvaluator:
    """Runs every chunk here, one after the other (the reference for the others)."""

    n_workers = 1

    def __enter__(self) -> SequentialEvaluator:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def map(
        self,
        fn: Callable[..., Any],
        items: Sequence[Any],
        *,
        chunk_size: int | None = None,
        seed: int | None = None,
        progress: Progress | None = None,
    ) -> MapResult:
        items = list(items)
        chunks = plan_chunks(len(items), chunk_size)
        entries: list[tuple[int, bool, Any]] = []
        for (a, b), s in zip(chunks, chunk_seeds(seed, len(chunks)), strict=True):
            entries += run_chunk(fn, a, items[a:b], s)
            if progress is not None:
                progress(b, len(items))
        return collect(len(items), entries)


# Dask settings for a local cluster of CPU-bound single-thread workers (see __enter__)
LEAN_DASK_CONFIG: dict[str, Any] = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "500ms",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.admin.system-monitor.gil.enabled": False,
    "distributed.worker.memory.monitor-interval": "1s",
    # workers forked from this process inherit its imported modules and parsed catalog: on
    # 2 idle cores a 200-sample sweep took 35.8 s instead of 44.1 s with spawned workers
    # (0.54x the serial time instead of 0.65x; benchmarks/README.md). The cluster is started
    # synchronously (DaskEvaluator.__enter__), so no thread of ours is mid-import at a fork.
    "distributed.worker.multiprocessing-method": "fork",
}
WORKER_PRELOAD = "fab2flop.risk.worker_preload"  # imports the solver stack at start-up


class DaskEvaluator:
    """Runs chunks on Dask distributed.

    ``scheduler=None`` starts a LocalCluster (processes, ``n_workers`` of one thread each,
    quiet logs, no dashboard) and closes it on exit; ``scheduler="tcp://HOST:PORT"`` connects
    to an existing cluster and leaves it running.
    """

    def __init__(
        self,
        scheduler: str | None = None,
        *,
        n_workers: int = 2,
        threads_per_worker: int = 1,
        processes: bool = True,
        timeout_s: float = 30.0,
    ) -> None:
        self.scheduler = scheduler
        self.n_workers = n_workers
        self.threads_per_worker = threads_per_worker
        self.processes = processes
        self.timeout_s = timeout_s
        self._client: Any = None
        self._cluster: Any = None
        self._start_error: BaseException | None = None

    def __enter__(self) -> DaskEvaluator:
        from distributed import Client

        if self.scheduler is None:
            # Started here, before the caller does anything else: its workers are forked
            # from this process (LEAN_DASK_CONFIG), and a fork while another thread of this
            # process holds a lock (an import, a log handler) could leave that lock held in
            # the worker.
            self._start_local()
            if self._start_error is not None:
                err, self._start_error = self._start_error, None
                self.__exit__(None, None, None)  # close what did start
                raise err
        else:
            self._client = Client(self.scheduler, timeout=self.timeout_s)
            workers = self._client.scheduler_info().get("workers", {})
            self.n_workers = max(1, len(workers))
        return self

    def _start_local(self) -> None:
        """A LocalCluster of ``n_workers`` processes and its client. Workers spend their
        time in Python (model building) and HiGHS: Dask's own monitoring (a 10 ms stack
        profiler, 20 ms event-loop ticks, 500 ms system monitor) costs CPU a 2-core machine
        does not have (:data:`LEAN_DASK_CONFIG`). Workers are forked from this process and
        inherit what it has imported and loaded; :data:`WORKER_PRELOAD` imports the solver
        stack and loads the catalog in each, which costs nothing where the parent has them."""
        import dask
        from distributed import Client, LocalCluster

        try:
            with dask.config.set(LEAN_DASK_CONFIG):
                self._cluster = LocalCluster(
                    n_workers=self.n_workers,
                    threads_per_worker=self.threads_per_worker,
                    processes=self.processes,
                    silence_logs=logging.ERROR,
                    dashboard_address=None,
                    preload=[WORKER_PRELOAD] if self.processes else [],
                    **({"config": LEAN_DASK_CONFIG} if self.processes else {}),
                )
                self._client = Client(self._cluster, timeout=self.timeout_s)
        except BaseException as exc:  # re-raised by __enter__ after closing what started
            self._start_error = exc

    @property
    def client(self) -> Any:
        """The Dask client (None outside the ``with`` block)."""
        return self._client

    def __exit__(self, *exc: object) -> None:
        client = self._client
        if client is not None:
            client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None

    def map(
        self,
        fn: Callable[..., Any],
        items: Sequence[Any],
        *,
        chunk_size: int | None = None,
        seed: int | None = None,
        progress: Progress | None = None,
    ) -> MapResult:
        if self.client is None:
            raise RuntimeError("DaskEvaluator.map outside its 'with' block")
        from distributed import as_completed

        items = list(items)
        chunks = plan_chunks(len(items), chunk_size)
        seeds = chunk_seeds(seed, len(chunks))
        futures = {
            self.client.submit(run_chunk, fn, a, items[a:b], s, pure=False): (a, b)
            for (a, b), s in zip(chunks, seeds, strict=True)
        }
        entries: list[tuple[int, bool, Any]] = []
        done = 0
        for fut in as_completed(futures):
            a, b = futures[fut]
            try:
                entries += fut.result()
            except Exception as exc:  # the whole chunk was lost (a worker died, unpicklable fn)
                entries += [(i, False, f"chunk failed: {_reason(exc)}") for i in range(a, b)]
            done += b - a
            if progress is not None:
                progress(done, len(items))
        return collect(len(items), entries)


def make_evaluator(scheduler: str | None = None, n_workers: int | None = None) -> Any:
    """Sequential when ``n_workers == 1`` and no scheduler; Dask otherwise."""
    if scheduler is None and n_workers == 1:
        return SequentialEvaluator()
    return DaskEvaluator(scheduler, n_workers=n_workers or 2)
