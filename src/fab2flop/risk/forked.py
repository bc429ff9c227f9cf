"""Map a function over items on forked worker processes (Linux), in order.

The function is never pickled: it is registered here under a key before the pool forks, and
each worker finds it in the memory it inherited. Only the items' indices go to the workers
and only the results come back. Where the platform does not fork, or there is one worker or
too few items, the map runs in threads (``threads=True``) or in this process.

>>> list(map_forked(lambda x: x * x, [1, 2, 3], workers=1))
[1, 4, 9]
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

# functions of the maps running now, by key: a forked worker finds its map's here
_JOBS: dict[int, Callable[[Any], Any]] = {}


def _job(key: int, item: Any) -> Any:
    return _JOBS[key](item)


def can_fork() -> bool:
    return sys.platform == "linux"


def map_forked(
    fn: Callable[[Any], Any],
    items: Sequence[Any],
    workers: int,
    *,
    min_items: int = 2,
    threads: bool = False,
    chunksize: int = 1,
) -> Iterator[Any]:
    """``fn(item)`` of every item, in order, on ``workers`` forked processes when there are
    at least ``min_items`` items and the platform forks; else in a pool of threads
    (``threads=True``) or one after the other here."""
    if workers <= 1 or len(items) <= 1:
        yield from map(fn, items)
        return
    if len(items) >= min_items and can_fork():
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor
        from functools import partial

        key = id(fn)
        _JOBS[key] = fn
        try:
            ctx = mp.get_context("fork")
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
                yield from pool.map(partial(_job, key), items, chunksize=chunksize)
        finally:
            _JOBS.pop(key, None)
        return
    if threads:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers) as pool:
            yield from pool.map(fn, items)
        return
    yield from map(fn, items)
