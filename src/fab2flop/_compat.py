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


# Imported by libraries on the `run` path but never used by it: numpy.f2py and numpy.testing
# (scipy's array-API layer touches every numpy submodule listed by ``dir(numpy)``).
UNUSED_ON_RUN = ("numpy.f2py", "numpy.testing")


def is_deferred(name: str) -> bool:
    """True while ``name`` is a module made lazy here and not yet used."""
    mod = sys.modules.get(name)
    return mod is not None and type(mod).__name__ == "_LazyModule"


def defer_unused_imports(names: tuple[str, ...] = UNUSED_ON_RUN) -> list[str]:
    """Make the modules ``names`` load on their first use instead of when imported.

    Each module not yet imported is put in ``sys.modules`` (and on its parent package)
    through ``importlib.util.LazyLoader``: finding it as an attribute of its package costs
    nothing, and the first attribute looked up on it (or an ``import`` statement naming it)
    runs it, so code that uses it sees the whole module. The names made lazy are returned
    (idempotent, thread-safe)."""
    done = []
    with _LOCK:
        for name in names:
            if name in sys.modules:
                continue
            try:
                spec = importlib.util.find_spec(name)
            except (ImportError, ValueError):
                continue
            if spec is None or not hasattr(spec.loader, "exec_module"):
                continue
            spec.loader = importlib.util.LazyLoader(spec.loader)  # type: ignore[arg-type]
            mod = importlib.util.module_from_spec(spec)
            sys.modules[name] = mod
            spec.loader.exec_module(mod)
            parent, _, child = name.rpartition(".")
            if parent:  # `from numpy import *` and numpy.__getattr__ find it there
                setattr(sys.modules[parent], child, mod)
            done.append(name)
    return done
