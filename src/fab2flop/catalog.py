"""The sourced catalog: every default number the package uses, with its unit, year and source.

The catalog lives in YAML files under ``fab2flop/data/catalog/``. Each file is a nested
mapping; any mapping that has a ``value`` key is a *record*::

    N3:
      wafer_price_usd:
        value: 20000            # a number, a label (str) or a series {year: number}
        low: 18000              # optional: where sources disagree
        high: 27000
        unit: USD/wafer         # required; "1" for a pure number, "-" for a label
        year: 2024              # required: the year the figure refers to
        source: "DigiTimes via Tom's Hardware; TrendForce (Oct 2025)"   # required
        conf: M                 # optional: H (primary), M (reputable secondary), L (derived/rumour)
        note: "..."             # optional

A record's id is the file stem and the path joined by dots: ``nodes.N3.wafer_price_usd``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import CatalogError
from .yamlio import SafeLoader, safe_load

Number = float | int
Value = Number | str | dict[int, Number]


class Record(BaseModel):
    """One sourced value of the catalog."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    value: Value
    unit: str = Field(min_length=1)
    year: int = Field(ge=1990, le=2100)
    source: str = Field(min_length=3)
    low: Number | None = None
    high: Number | None = None
    conf: str | None = Field(default=None, pattern="^(H|M|L|H/M|M/L|H/L)$")
    note: str | None = None

    @field_validator("value", "low", "high", mode="before")
    @classmethod
    def _yaml11_floats(cls, v: Any) -> Any:
        # PyYAML (YAML 1.1) reads 14.0e6 (no sign in the exponent) as a string
        if isinstance(v, str):
            try:
                return float(v)
            except ValueError:
                return v
        return v

    @field_validator("value")
    @classmethod
    def _series_keys_are_years(cls, v: Value) -> Value:
        if isinstance(v, dict):
            for k in v:
                if not 1990 <= int(k) <= 2100:
                    raise ValueError(f"series key {k!r} is not a year between 1990 and 2100")
        return v

    @property
    def is_number(self) -> bool:
        return isinstance(self.value, int | float) and not isinstance(self.value, bool)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


@dataclass(frozen=True)
class Catalog:
    """All catalog records by id, with typed accessors.

    >>> cat = load_catalog()
    >>> cat.value("nodes.N3.wafer_price_usd") > 10_000
    True
    """

    records: Mapping[str, Record]
    data_hash: str = field(default="")

    def __contains__(self, rid: object) -> bool:
        return rid in self.records

    def __iter__(self) -> Iterator[Record]:
        return iter(self.records.values())

    def __len__(self) -> int:
        return len(self.records)

    def record(self, rid: str) -> Record:
        try:
            return self.records[rid]
        except KeyError:
            near = [k for k in self.records if k.rsplit(".", 1)[0] == rid.rsplit(".", 1)[0]]
            hint = f"; records beside it: {', '.join(sorted(near)[:8])}" if near else ""
            raise CatalogError(f"catalog has no record {rid!r}{hint}") from None

    def value(self, rid: str, default: Any = ...) -> Any:
        """The value of record ``rid`` (a float for numbers)."""
        if default is not ... and rid not in self.records:
            return default
        v = self.record(rid).value
        if isinstance(v, int | float) and not isinstance(v, bool):
            return float(v)
        return v

    def number(self, rid: str, default: float | None = None) -> float:
        if default is not None and rid not in self.records:
            return default
        v = self.value(rid)
        if not isinstance(v, float):
            raise CatalogError(f"catalog record {rid!r} is {v!r}, expected a number")
        return v

    def series(self, rid: str) -> dict[int, float]:
        """A year→value series; a plain number is returned as a one-point series."""
        rec = self.record(rid)
        if isinstance(rec.value, dict):
            return {int(k): float(v) for k, v in sorted(rec.value.items())}
        if rec.is_number:
            return {rec.year: float(rec.value)}  # type: ignore[arg-type]
        raise CatalogError(f"catalog record {rid!r} is {rec.value!r}, expected a number series")

    def group(self, prefix: str) -> list[str]:
        """Names directly under ``prefix`` (e.g. ``group("nodes")`` → ``["N2", "N3", ...]``)."""
        return list(self._children.get(prefix.rstrip("."), ()))

    @cached_property
    def _children(self) -> dict[str, list[str]]:
        """Each dotted prefix → the sorted names directly under it (built once: ``group`` is
        asked ~50 times while a network is built, a scan of every record each time)."""
        kids: dict[str, set[str]] = {}
        for rid in self.records:
            parts = rid.split(".")
            for i in range(1, len(parts)):
                kids.setdefault(".".join(parts[:i]), set()).add(parts[i])
        return {p: sorted(v) for p, v in kids.items()}

    def with_overrides(self, overrides: Mapping[str, Any]) -> Catalog:
        """A copy in which some values are replaced (source becomes ``scenario override``)."""
        if not overrides:
            return self
        recs = dict(self.records)
        for rid, val in overrides.items():
            old = self.record(rid)
            try:
                recs[rid] = old.model_copy(
                    update={
                        "value": Record.model_validate({**old.to_dict(), "value": val}).value,
                        "source": f"scenario override (catalog default: {old.value!r}, "
                        f"{old.source})",
                        "low": None,
                        "high": None,
                    }
                )
            except ValidationError as exc:
                raise CatalogError(f"catalog override {rid}={val!r} is invalid: {exc}") from None
        digest = hashlib.sha256(
            (self.data_hash + repr(sorted(overrides.items(), key=str))).encode()
        ).hexdigest()[:16]
        return Catalog(recs, digest)


def _walk(node: Any, path: list[str], out: dict[str, Record], fname: str) -> None:
    if isinstance(node, dict) and "value" in node:
        rid = ".".join(path)
        try:
            out[rid] = Record.model_validate({"id": rid, **node})
        except ValidationError as exc:
            errs = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            raise CatalogError(f"{fname}: record {rid!r} is invalid: {errs}") from None
        return
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(k, bool):
                raise CatalogError(
                    f"{fname}: key {k!r} under {'.'.join(path)!r} is a boolean; YAML reads "
                    "unquoted NO/YES/ON/OFF as booleans: quote it"
                )
            _walk(v, [*path, str(k)], out, fname)
        return
    raise CatalogError(
        f"{fname}: {'.'.join(path)!r} is {node!r}; expected a record with value, unit, year "
        "and source"
    )


def parse_catalog_texts(texts: Mapping[str, str], cache: bool = False) -> Catalog:
    """Build a catalog from ``{file stem: YAML text}`` (used by tests and by load_catalog).

    With ``cache=True`` the parsed YAML (not the validated records: validation runs every
    time, so a change of the record schema cannot be hidden by a stale cache) is read from,
    or written to, :func:`catalog_cache_dir`, keyed by the hash of the texts.
    """
    h = hashlib.sha256()
    for stem in sorted(texts):
        h.update(stem.encode())
        h.update(texts[stem].encode())
    digest = h.hexdigest()
    parsed = _read_cache(digest) if cache else None
    if parsed is None:
        parsed = {stem: safe_load(texts[stem]) or {} for stem in sorted(texts)}
        if cache:
            _write_cache(digest, parsed)
    out: dict[str, Record] = {}
    for stem in sorted(parsed):
        _walk(parsed[stem], [stem], out, f"{stem}.yaml")
    return Catalog(out, digest[:16])


# ---- cache of the parsed YAML -----------------------------------------------------------

CACHE_FORMAT = 2  # bump when the cached layout changes
CACHE_DIR_ENV = "FAB2FLOP_CACHE_DIR"  # a folder, or empty to switch the cache off


def catalog_cache_dir() -> Path | None:
    """``$FAB2FLOP_CACHE_DIR`` (empty: no cache), else ``$XDG_CACHE_HOME/fab2flop``, else
    ``~/.cache/fab2flop``."""
    env = os.environ.get(CACHE_DIR_ENV)
    if env is not None:
        return Path(env) if env.strip() else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fab2flop"


def _cache_file(digest: str) -> Path | None:
    d = catalog_cache_dir()
    # the loader is part of the key: the C and Python loaders agree, but say which one wrote it
    return None if d is None else d / f"catalog-v{CACHE_FORMAT}-{SafeLoader.__name__}-{digest}.json"


def _encode(x: Any) -> Any:
    """JSON-safe form that keeps mapping keys' types (YAML years are int keys)."""
    if isinstance(x, dict):
        return {"m": [[_encode(k), _encode(v)] for k, v in x.items()]}
    if isinstance(x, list):
        return [_encode(v) for v in x]
    if x is None or isinstance(x, str | int | float):  # bool is an int
        return x
    raise TypeError(f"cannot cache a {type(x).__name__}")


def _mapping(obj: dict[str, Any]) -> dict[Any, Any]:
    """``json.loads`` object hook: the inverse of :func:`_encode` for one mapping (called
    innermost first, so its values are decoded already)."""
    return {k: v for k, v in obj["m"]}


def _read_cache(digest: str) -> dict[str, Any] | None:
    path = _cache_file(digest)
    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8")
        head, files = json.loads(text[: text.index("\n")]), text[text.index("\n") + 1 :]
        if head.get("digest") != digest:
            return None
        parsed = json.loads(files, object_hook=_mapping)
        return {str(k): v for k, v in parsed.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # missing, unreadable or damaged: parse the YAML instead


def _write_cache(digest: str, parsed: Mapping[str, Any]) -> None:
    """Write atomically (temp file in the same folder, then rename): a concurrent reader sees
    the old file, no file, or the whole new one; concurrent writers write the same bytes."""
    path = _cache_file(digest)
    if path is None:
        return
    try:
        # line 1: a header; line 2: {stem: data}, every mapping written as {"m": [[k, v]...]}
        head = json.dumps({"digest": digest, "format": CACHE_FORMAT})
        body = json.dumps(_encode(dict(parsed)), separators=(",", ":"))
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(head + "\n" + body)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except (OSError, TypeError, ValueError):
        return  # a read-only home or an uncachable value: no cache, same catalog


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    """Load the catalog shipped with the package (cached in memory and, parsed, on disk)."""
    root = resources.files("fab2flop") / "data" / "catalog"
    texts = {
        p.name[: -len(".yaml")]: p.read_text(encoding="utf-8")
        for p in root.iterdir()
        if p.name.endswith(".yaml")
    }
    return parse_catalog_texts(texts, cache=True)
