"""Unit economics of a run beside the plan's own metrics (issue 8): the cost of capital the
levelised cost per H100e-hour uses, and the economics block of the run summary.

The rate reuses the finance parties (``fab2flop.finance``): each spending category is paid
by an asset company (``pays_for``), whose cost of capital is its debt share × its lenders'
rate + its equity share × its owners' required return (the sourced debt and equity rates of
``finance_parties.*``: A+ project bonds 6.58%, developer hurdle 15%, ...). The plan's rate is
the spend-weighted mean of those rates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import metrics
from .constants import PERIOD

if TYPE_CHECKING:
    from .finance.schema import FinanceConfig
    from .results import Results


def category_rates(cfg: FinanceConfig) -> dict[str, float]:
    """Cost of capital of the company paying each spending category [1/year]."""
    from .finance.cashflows import _wacc
    from .finance.vocabulary import PartyKind

    companies = cfg.of_kind(PartyKind.ASSET_COMPANY)
    star = next((c for c in companies if "*" in c.pays_for), None)
    out: dict[str, float] = {}
    for cat in metrics.SPEND_CATEGORIES:
        payer = next((c for c in companies if cat in c.pays_for), star)
        if payer is not None:
            out[cat] = _wacc(payer, cfg)
    return out


def blended_rate(spend_by_category: dict[str, float], rates: dict[str, float]) -> float:
    """Spend-weighted cost of capital [1/year]: Σ spend_c × rate_c / Σ spend_c over the
    categories that have a rate (0 when nothing is spent)."""
    num = sum(v * rates[c] for c, v in spend_by_category.items() if c in rates)
    den = sum(v for c, v in spend_by_category.items() if c in rates)
    return num / den if den > 0 else 0.0


def cost_of_capital(res: Results) -> tuple[float, dict[str, float]]:
    """The plan's blended cost of capital and the rate of each category's payer."""
    from .finance import DEFAULTS_RECORD, finance_config

    if (
        DEFAULTS_RECORD not in res.network.catalog
        and getattr(res.network.scenario, "finance", None) is None
    ):
        rate = float(res.network.scenario.objective.discount_rate)
        return rate, {}
    rates = category_rates(finance_config(res))
    return blended_rate(res.spend_by_category(), rates), rates


def _f(x: Any) -> float | None:
    v = float(x)
    return None if np.isnan(v) else v


def economics_summary(res: Results, residual: Any | None = None) -> dict[str, Any]:
    """The summary keys of issue 8: levelised cost beside the undiscounted one, capex per GW
    added with its scope, upstream capex, compute at FP8/FP4 and workload-weighted, and the
    system cost of each accelerator. Empty for a plan that buys nothing."""
    ds, net = res.dataset, res.network.ds
    out: dict[str, Any] = {
        "compute_h100e_fp8": [float(v) for v in ds["compute_h100e_fp8"].values],
        "compute_h100e_fp4": [float(v) for v in ds["compute_h100e_fp4"].values],
        "compute_h100e_effective": [float(v) for v in ds["compute_h100e_effective"].values],
        "system_cost_usd_per_accelerator": {
            str(a): float(v)
            for a, v in zip(
                net.indexes["accelerator"],
                net["acc_deploy_cost_usd"].isel({PERIOD: 0}).values,
                strict=True,
            )
        },
    }
    if res.buys_nothing:
        return out
    rate, rates = cost_of_capital(res)
    residual = metrics.residual_value_usd(net, ds) if residual is None else residual
    added = res.capex_added()  # computed once per run (Results.capex_added)
    per_gw = metrics.capex_per_gw_added(added)
    up = added["upstream_capex_usd"].sum(PERIOD)
    out.update(
        {
            "cost_of_capital": rate,
            "cost_of_capital_by_category": rates,
            "levelised_cost_per_h100e_hour_usd": _f(
                metrics.levelised_cost_per_h100e_hour(net, ds, rate, residual)
            ),
            "capex_per_gw_added_usd": _f(per_gw["capex_per_gw_added_usd"]),
            "facility_capex_per_gw_usd": _f(per_gw["facility_capex_per_gw_usd"]),
            "it_capex_per_gw_usd": _f(per_gw["it_capex_per_gw_usd"]),
            "capex_per_gw_added_by_period_usd": [
                _f(v) for v in per_gw["capex_per_gw_added_by_period_usd"].values
            ],
            "gw_added_by_period": [float(v) for v in added["it_gw_added"].values],
            "upstream_capex_usd": float(up.sum()),
            "upstream_capex_by_category_usd": {
                str(c): float(v)
                for c, v in zip(up["category"].values, up.values, strict=True)
                if float(v) != 0.0
            },
            "all_spend_per_peak_gw_usd": _f(metrics.all_spend_per_peak_gw(ds)),
        }
    )
    return out
