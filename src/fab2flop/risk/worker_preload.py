"""Dask worker preload: import the optimiser stack and load the catalog as a worker starts,
so a local cluster's workers do it while the client optimises the nominal plan rather than
inside their first sample."""

from __future__ import annotations


def dask_setup(worker: object) -> None:  # noqa: ARG001 - Dask's preload hook signature
    from ..catalog import load_catalog
    from ..optimizer import optimize  # noqa: F401 - the import is the point
    from .sweep import solve_sample  # noqa: F401

    load_catalog()
