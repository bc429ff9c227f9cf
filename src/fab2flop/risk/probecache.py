"""Probes kept on disk: a parameter set probed once is read back in later runs.

Probing rebuilds the network once per sampled parameter (and at several values for the
structural ones): ~330 builds for the default set, ~12 s on two cores, more than replaying
100,000 futures. The probes depend on the scenario, the catalog, each parameter's
distribution and target, and the code that builds networks, never on the seed, the number
of samples or the events; so a file keyed by all of these (the package's source included)
serves every later replay, sweep or sensitivity run of the same set.

Files are ``probe-v1-<key>.npz`` in :func:`fab2flop.catalog.catalog_cache_dir`
(``$FAB2FLOP_CACHE_DIR``, empty to switch the cache off), written whole or not at all, read
with ``allow_pickle=False``; a file that cannot be read is ignored (probed again).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = 1


@cache
def code_digest() -> str:
    """SHA-256 of the package's Python sources and data files (the probe depends on how
    networks are built; a changed package must not read an old probe)."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.suffix in (".py", ".yaml", ".yml", ".json") and "__pycache__" not in p.parts:
            h.update(str(p.relative_to(root)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def probe_key(net: Any, samples: Any, names: list[str]) -> str:
    """The key of a probe: scenario, catalog, code, and each parameter's attributes and
    whether its draws are whole numbers (integer parameters are probed at every value)."""
    params = []
    for n in names:
        v = samples[n]
        attrs = {k: str(v.attrs[k]) for k in sorted(v.attrs)}
        drawn = np.asarray(v.values, float)
        whole = bool(float(v.attrs["nominal"]).is_integer() and np.allclose(drawn, np.round(drawn)))
        params.append([n, attrs, whole])
    text = json.dumps(
        [FORMAT, net.scenario.digest(), net.catalog.data_hash, code_digest(), params],
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _file(key: str) -> Path | None:
    from ..catalog import catalog_cache_dir

    d = catalog_cache_dir()
    return None if d is None else d / f"probe-v{FORMAT}-{key}.npz"


def save(key: str, probe: Any) -> None:
    """Write ``probe`` (responses and curves) atomically; silently nothing when the cache
    folder cannot be written."""
    path = _file(key)
    if path is None:
        return
    arrays: dict[str, np.ndarray] = {}
    meta: dict[str, Any] = {"responses": [], "curves": []}
    for i, r in enumerate(probe.responses):
        meta["responses"].append([r.name, r.nominal, sorted(r.changes), list(r.held), r.error])
        for a, (idx, v0, slope) in r.changes.items():
            arrays[f"r{i}.{a}.idx"] = np.asarray(idx, np.int64)
            arrays[f"r{i}.{a}.v0"] = np.asarray(v0, float)
            arrays[f"r{i}.{a}.slope"] = np.asarray(slope, float)
    for i, c in enumerate(probe.curves):
        meta["curves"].append([c.name, c.array, c.x0])
        for f in ("idx", "xs", "ys", "nominal"):
            arrays[f"c{i}.{f}"] = np.asarray(getattr(c, f))
    arrays["meta"] = np.array(json.dumps(meta))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **arrays)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
        _prune(path.parent)
    except OSError:
        return


KEEP = 16  # probe files kept (the newest): each version of the package writes its own


def _prune(folder: Path) -> None:
    files = sorted(folder.glob(f"probe-v{FORMAT}-*.npz"), key=lambda p: p.stat().st_mtime)
    for old in files[:-KEEP]:
        old.unlink(missing_ok=True)


def load(key: str) -> Any:
    """The probe saved under ``key``, or None (none saved, or unreadable)."""
    from .futures import Curve, Probe, Response

    path = _file(key)
    if path is None or not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            responses = []
            for i, (name, nominal, changed, held, error) in enumerate(meta["responses"]):
                changes = {
                    a: (z[f"r{i}.{a}.idx"], z[f"r{i}.{a}.v0"], z[f"r{i}.{a}.slope"])
                    for a in changed
                }
                responses.append(Response(name, float(nominal), changes, tuple(held), error))
            curves = [
                Curve(
                    name,
                    array,
                    z[f"c{i}.idx"],
                    z[f"c{i}.xs"],
                    z[f"c{i}.ys"],
                    z[f"c{i}.nominal"],
                    float(x0),
                )  # fmt: skip
                for i, (name, array, x0) in enumerate(meta["curves"])
            ]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return Probe(responses, curves=curves)
