"""Start-up work-arounds for third-party libraries, each exact in behaviour.

``defer_dask_import``: xarray asks "is this a dask array?" on the first array it wraps
(``array_type("dask")`` in ``as_compatible_data``) and, when dask is installed, answers it by
importing ``dask.array`` (with scipy.fft): ~0.5 s of a 1.5 s command that never uses dask.
No object can be a dask array before ``dask.array`` is imported, so the check is replaced by
one that looks at ``sys.modules``: False until dask.array is loaded, then dask's own answer.
Likewise ``is_dask_collection`` (asked by ``fillna`` and other ``apply_ufunc`` calls) imports
``dask.base`` (~0.15 s) and looks dask up on the file system on every call; dask's own test
starts with "has it a ``__dask_graph__``?", which is asked first here, without importing.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import sys
import threading
from typing import Any

_LOCK = threading.Lock()


class _LazyDaskArrayMeta(type):
    @staticmethod
    def _array_type() -> type | None:
        mod = sys.modules.get("dask.array")
        return getattr(mod, "Array", None) if mod is not None else None

    def __instancecheck__(cls, obj: Any) -> bool:
        t = cls._array_type()
        return t is not None and isinstance(obj, t)

    def __subclasscheck__(cls, sub: type) -> bool:
        t = cls._array_type()
        return t is not None and issubclass(sub, t)


class LazyDaskArray(metaclass=_LazyDaskArrayMeta):
    """Stands for ``dask.array.Array`` in isinstance checks without importing it."""


def defer_dask_import() -> bool:
    """Make xarray's dask-array check lazy; True if installed (idempotent, thread-safe)."""
    if "dask.array" in sys.modules or importlib.util.find_spec("dask") is None:
        return False  # already paid for, or nothing to defer
    try:
        from packaging.version import Version
        from xarray.namedarray import pycompat
    except ImportError:  # pragma: no cover - xarray without the namedarray layout
        return False
    cache = getattr(pycompat, "_cached_duck_array_modules", None)
    base = getattr(pycompat, "DuckArrayModule", None)
    if not isinstance(cache, dict) or base is None:  # pragma: no cover - other xarray
        return False

    class _LazyDask(base):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            self.type = (LazyDaskArray,)

        @property
        def module(self) -> Any:
            return importlib.import_module("dask")

        @property
        def version(self) -> Any:
            return Version(importlib.metadata.version("dask"))

        @property
        def available(self) -> bool:
            return True

    with _LOCK:
        _defer_dask_collection_check()
        if "dask" in cache:  # xarray already looked (or we did)
            return bool(getattr(cache["dask"], "type", None) == (LazyDaskArray,))
        cache["dask"] = _LazyDask()
    return True


def _defer_dask_collection_check() -> None:
    try:
        from xarray.namedarray import utils
    except ImportError:  # pragma: no cover
        return
    original = getattr(utils, "is_dask_collection", None)
    if original is None or getattr(original, "_fab2flop_lazy", False):
        return

    def is_dask_collection(x: object) -> bool:
        # dask.base.is_dask_collection returns False at once for an object without
        # __dask_graph__; only an object that has one needs dask to answer
        return hasattr(x, "__dask_graph__") and bool(original(x))

    is_dask_collection._fab2flop_lazy = True  # type: ignore[attr-defined]
    utils.is_dask_collection = is_dask_collection
