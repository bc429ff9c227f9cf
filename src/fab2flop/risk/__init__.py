"""The risk engine: what is uncertain, how to draw it, how sensitive outputs are, where to run.

- :mod:`fab2flop.risk.uncertainty` — the ``uncertainty:`` section of a scenario (parameters with
  distributions, correlation groups, stochastic events) and its resolution against the catalog;
- :mod:`fab2flop.risk.sampling` — seeded quasi-random sampling, inverse CDFs, rank correlation
  (Iman–Conover) and event draws, into a Dataset with a ``sample`` dimension;
- :mod:`fab2flop.risk.sensitivity` — Sobol and Morris indices through SALib;
- :mod:`fab2flop.risk.evaluators` — where samples run (in this process, or on Dask distributed).

Nothing heavy is imported here: SALib and Dask load only when their module is imported.
"""

from __future__ import annotations

__all__: list[str] = []
