"""Compare a run's summary with a golden file field by field.

Numbers match within a relative tolerance (near-zero entries of a list or mapping within a
tolerance relative to its largest entry); numbers inside text (a bottleneck's description)
within a looser one, since the text rounds them; everything else exactly. A missing or an
extra key, or a list of another length, is a mismatch.
"""

from __future__ import annotations

import math
import re
from typing import Any

RTOL = 2e-3  # solver and platform noise on the default run
TEXT_RTOL = 1e-2  # numbers printed in text are rounded to 3-4 significant figures
_NUM = re.compile(r"\d[\d,]*(?:\.\d+)?(?:e[+-]?\d+)?")


def _number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _scale(values: Any) -> float:
    nums = [abs(v) for v in values if _number(v)]
    return max(nums, default=0.0)


def mismatches(actual: Any, expected: Any, path: str = "", scale: float = 0.0) -> list[str]:
    """Every difference between ``actual`` and ``expected`` (empty when they match)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected a mapping, got {actual!r}"]
        out = [f"{path}.{k}: missing" for k in expected if k not in actual]
        out += [f"{path}.{k}: not in the golden file" for k in actual if k not in expected]
        s = _scale(expected.values())
        for k in expected:
            if k in actual:
                out += mismatches(actual[k], expected[k], f"{path}.{k}", s)
        return out
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: expected {len(expected)} items, got {actual!r:.80}"]
        s = _scale(expected)
        return [
            m
            for i, (a, e) in enumerate(zip(actual, expected, strict=True))
            for m in mismatches(a, e, f"{path}[{i}]", s)
        ]
    if _number(expected):
        ok = _number(actual) and math.isclose(
            actual, expected, rel_tol=RTOL, abs_tol=max(1e-9, 1e-9 * scale)
        )
        return [] if ok else [f"{path}: {actual!r} != {expected!r}"]
    if isinstance(expected, str) and isinstance(actual, str):
        return _text(actual, expected, path)
    return [] if actual == expected else [f"{path}: {actual!r} != {expected!r}"]


def _text(actual: str, expected: str, path: str) -> list[str]:
    na, ne = _NUM.findall(actual), _NUM.findall(expected)
    if _NUM.split(actual) != _NUM.split(expected) or len(na) != len(ne):
        return [f"{path}: {actual!r} != {expected!r}"]
    for a, e in zip(na, ne, strict=True):
        fa, fe = float(a.replace(",", "")), float(e.replace(",", ""))
        # a value near a rounding boundary may print one last-digit step away (11.5 -> 11|12)
        step = 10.0 ** -len(e.split(".")[1]) if "." in e and "e" not in e else 1.0
        if not math.isclose(fa, fe, rel_tol=TEXT_RTOL, abs_tol=step * (1 + 1e-9)):
            return [f"{path}: {actual!r} != {expected!r}"]
    return []
