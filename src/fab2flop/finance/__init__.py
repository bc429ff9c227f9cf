"""Who pays and who gains: parties' cash flows, returns, the lease, export policy and jobs.

>>> from fab2flop.finance.metrics import npv
>>> abs(npv([-100.0, 110.0], 0.10)) < 1e-9
True
"""

from __future__ import annotations

from typing import Any

from .schema import FinanceConfig, LeaseConfig, Party

# a catalog without these records (e.g. a test's empty one) gets no default parties or jobs
DEFAULTS_RECORD = "finance_parties.lease.h100e_price_usd_per_hour"
JOBS_RECORD = "jobs.fab.unit_capex_usd"

__all__ = [
    "finance_dataset",
    "risk_outputs",
    "FinanceConfig",
    "LeaseConfig",
    "Party",
    "finance_config",
    "finance_of",
    "finance_summary",
]


def finance_config(res: Any) -> FinanceConfig:
    """The scenario's ``finance`` section, or the default parties for its funders."""
    from .defaults import default_finance

    sc = res.network.scenario
    cfg = getattr(sc, "finance", None)
    if cfg is not None and cfg.parties:
        return cfg
    base = default_finance(sc, res.network.catalog)
    # a section without parties (e.g. --set finance.lease.mode=...) keeps its lease
    return base if cfg is None else base.model_copy(update={"lease": cfg.lease})


def finance_of(res: Any, mode: str | None = None):
    """:class:`~.analysis.FinanceAnalysis` of optimised results; ``mode`` overrides the lease
    mode ('market' or 'required_return')."""
    from .analysis import analyse
    from .defaults import lease_inputs

    cfg = finance_config(res)
    if mode is not None:
        cfg = cfg.model_copy(update={"lease": cfg.lease.model_copy(update={"mode": mode})})
    return analyse(res, cfg, lease_inputs(cfg, res.network.catalog))


def finance_summary(res: Any) -> dict[str, Any]:
    """``{"parties": ..., "jobs": ...}`` for ``Results.summary()`` (empty if not optimal)."""
    if not res.status.ok:
        return {}
    from .jobs import jobs_of

    cat = res.network.catalog
    out: dict[str, Any] = {}
    if getattr(res.network.scenario, "finance", None) is not None or DEFAULTS_RECORD in cat:
        out["parties"] = finance_of(res).party_metrics()
    if JOBS_RECORD in cat:
        out["jobs"] = jobs_of(res).summary()
    return out


def finance_dataset(res: Any):
    """Finance outputs to join the results Dataset: ``finance_cash_flow_usd`` (party, line,
    period) [USD] and ``jobs_construction``/``jobs_operating`` [jobs]."""
    import xarray as xr

    from .jobs import jobs_of

    return xr.merge([finance_of(res).to_dataset(), jobs_of(res).to_dataset()])


def risk_outputs(res: Any) -> dict[str, float | None]:
    """Flat per-party outputs for a risk run, one value per sample: ``irr.<party>`` [1/year]
    (None without one) and ``npv_usd.<party>`` [USD]."""
    out: dict[str, float | None] = {}
    for name, m in finance_of(res).party_metrics().items():
        out[f"irr.{name}"] = m["irr"]
        out[f"npv_usd.{name}"] = m["npv_usd"]
    return out
