"""Periods and year-indexed series: the only place that turns scenario years into periods."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .constants import PERIOD

SeriesLike = float | int | Mapping[int, float] | None


@dataclass(frozen=True)
class Periods:
    """The planning periods: labels, start years (float) and the period length.

    >>> p = Periods.from_range(2025, 2026, "quarter")
    >>> list(p.labels)[:2], p.dt
    (['2025Q1', '2025Q2'], 0.25)
    """

    labels: pd.Index
    years: np.ndarray  # start of each period in fractional years
    dt: float

    @classmethod
    def from_range(cls, start: int, end: int, step: str = "year") -> Periods:
        if step == "year":
            years = np.arange(start, end + 1, dtype=float)
            labels = pd.Index(np.arange(start, end + 1), name=PERIOD)
            return cls(labels, years, 1.0)
        n = (end - start + 1) * 4
        years = start + 0.25 * np.arange(n)
        labels = pd.Index([f"{int(y)}Q{int(round((y % 1) * 4)) + 1}" for y in years], name=PERIOD)
        return cls(labels, years, 0.25)

    def __len__(self) -> int:
        return len(self.years)

    def periods_for(self, years: float) -> int:
        """Whole periods needed to cover ``years`` (construction lead, life), rounded up."""
        return int(np.ceil(round(years / self.dt, 6)))

    def indices_of_year(self, year: int) -> np.ndarray:
        """Indices of the periods that lie in calendar ``year`` (one, or four quarters)."""
        return np.flatnonzero(np.floor(self.years + 1e-9) == year)

    def index_of_year(self, year: float) -> int:
        """Index of the first period starting at or after ``year`` (len if beyond)."""
        return int(np.searchsorted(self.years, year - 1e-9))


def series_at(value: SeriesLike, years: np.ndarray, default: float = 0.0) -> np.ndarray:
    """Evaluate a scalar or a ``{year: value}`` series at fractional ``years``.

    Between points the series is linear; before the first and after the last point it is
    flat. ``None`` gives ``default`` everywhere.

    >>> series_at({2024: 10.0, 2026: 30.0}, np.array([2023.0, 2025.0, 2030.0])).tolist()
    [10.0, 20.0, 30.0]
    """
    years = np.asarray(years, dtype=float)
    if value is None:
        return np.full(years.shape, float(default))
    if isinstance(value, Mapping):
        if not value:
            return np.full(years.shape, float(default))
        xs = np.array(sorted(float(k) for k in value))
        ys = np.array([float(value[k]) for k in sorted(value, key=float)])
        return np.interp(years, xs, ys)
    return np.full(years.shape, float(value))
