"""Output folders that cannot mislead: checked before work, written whole or not at all.

A run's folder (``fab2flop run --out DIR``, :meth:`fab2flop.results.Results.save`) is

- **checked before the solve** (:func:`check_out_dir`): not an existing file, not a
  non-empty folder unless ``force`` (which replaces it whole), a parent that can be written;
- **written into a hidden temporary folder beside it** and renamed into place whole, with the
  marker :data:`MARKER` written last (:func:`write_dir`); a folder without the marker is not
  a finished run, and :func:`fab2flop.results.Results.load` refuses it;
- **locked** while it is written (a ``.NAME.lock`` file created with ``O_EXCL`` beside it), so
  two runs aimed at one folder cannot interleave; a lock whose process is gone is stale and
  taken over;
- **tidied**: hidden temporary folders of earlier runs killed mid-write are removed under
  the lock (no live writer can own them then).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import OutputError

MARKER = ".complete"  # written last: its presence says the folder is a whole run
_TMP = ".fab2flop-tmp-"  # .NAME.fab2flop-tmp-PID-TOKEN: a folder being written
_OLD = ".fab2flop-old-"  # .NAME.fab2flop-old-PID-TOKEN: a replaced folder being removed


def _nearest_existing(path: Path) -> Path:
    p = path
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def check_out_dir(out: str | Path, force: bool = False) -> Path:
    """``out`` as a Path if a run may be written there; else an :class:`OutputError` that
    says why (before any work is done)."""
    if not isinstance(out, str | os.PathLike) or not str(out).strip():
        raise OutputError(f"--out {out!r}: expected a folder path")
    p = Path(out)
    if p.exists() and not p.is_dir():
        raise OutputError(f"--out {str(p)!r} is an existing file; expected a folder to write")
    if p.is_dir() and any(p.iterdir()) and not force:
        raise OutputError(
            f"--out {str(p)!r} is a folder that is not empty; choose a new folder, or add "
            "--force to replace it whole"
        )
    base = _nearest_existing(p.parent)
    if not base.is_dir():
        raise OutputError(f"--out {str(p)!r}: {str(base)!r} is a file, not a folder")
    if not os.access(base, os.W_OK | os.X_OK):
        raise OutputError(f"--out {str(p)!r}: folder {str(base)!r} is not writable")
    return p


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


@contextmanager
def lock_out_dir(out: Path) -> Iterator[Path]:
    """Hold ``.NAME.lock`` beside ``out`` (O_EXCL); a lock of a dead process is taken over."""
    lock = out.parent / f".{out.name}.lock"
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                pid = int(lock.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                pid = -1
            if pid > 0 and _pid_alive(pid):  # this process too: another thread writes
                raise OutputError(
                    f"--out {str(out)!r}: another run (process {pid}) is writing to this "
                    "folder; wait for it or choose another folder"
                ) from None
            lock.unlink(missing_ok=True)  # stale: its process is gone
            continue
        with os.fdopen(fd, "w") as f:
            f.write(f"{os.getpid()}\n")
        try:
            yield lock
        finally:
            lock.unlink(missing_ok=True)
        return
    raise OutputError(f"--out {str(out)!r}: could not take the lock {str(lock)!r}")


def clean_leftovers(out: Path) -> list[Path]:
    """Remove hidden temporary folders of earlier runs to ``out`` (call under the lock)."""
    removed: list[Path] = []
    if not out.parent.is_dir():
        return removed
    for prefix in (f".{out.name}{_TMP}", f".{out.name}{_OLD}"):
        for p in out.parent.glob(f"{prefix}*"):
            if p.is_dir() and not p.name.startswith(f"{prefix}{os.getpid()}-"):
                shutil.rmtree(p, ignore_errors=True)
                removed.append(p)
    return removed


def write_dir(out: str | Path, write: Callable[[Path], list[str]], force: bool = False) -> Path:
    """Write a run folder whole: ``write(tmp)`` fills a temporary folder beside ``out`` and
    returns the file names it wrote; the marker goes last; the folder is renamed into place
    (an existing one, allowed by ``force`` or empty, is replaced whole)."""
    p = check_out_dir(out, force)
    p.parent.mkdir(parents=True, exist_ok=True)
    with lock_out_dir(p):
        clean_leftovers(p)
        check_out_dir(p, force)  # again, under the lock
        token = f"{os.getpid()}-{secrets.token_hex(4)}"
        tmp = p.parent / f".{p.name}{_TMP}{token}"
        tmp.mkdir()
        try:
            files = write(tmp)
            marker = {"files": sorted(files), "written_unix": time.time(), "pid": os.getpid()}
            (tmp / MARKER).write_text(json.dumps(marker, indent=2), encoding="utf-8")
            old = p.parent / f".{p.name}{_OLD}{token}"
            if p.exists():
                p.rename(old)
            tmp.rename(p)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return p


def is_complete(folder: str | Path) -> bool:
    """Whether ``folder`` is a whole run (its marker is there)."""
    return (Path(folder) / MARKER).is_file()


__all__ = [
    "MARKER",
    "check_out_dir",
    "lock_out_dir",
    "clean_leftovers",
    "write_dir",
    "is_complete",
]
