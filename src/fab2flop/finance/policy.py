"""Export approval as a lever: the plan under each policy for the UAE and Saudi Arabia.

Policies (``POLICIES``) are scenario overrides: *denied* ships no accelerators into the
country, *capped* applies the catalog's cap (``regions.<R>.accelerator_cap_units_per_year``),
*approved* lifts the cap (and enables the region, as Saudi Arabia is off by default). The
optimiser runs once per policy; each row's cost is the compute lost against *approved*
for that country, in H100e-years and in dollars at the approved plan's cost per H100e-hour.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..constants import HOURS_PER_YEAR

NO_CAP_UNITS_PER_YEAR = 1e12  # "approved": a cap that never binds [units/year]
COUNTRIES = ("AE", "SA")
POLICIES = ("denied", "capped", "approved")


def policy_overrides(country: str, policy: str, cap_units_per_year: float) -> list[str]:
    """``--set`` items for one country's policy.

    >>> policy_overrides("SA", "denied", 5e4)
    ['regions.SA.enabled=false']
    >>> policy_overrides("AE", "capped", 5e5)
    ['regions.AE.enabled=true', 'regions.AE.accelerator_cap_units_per_year=500000.0']
    """
    key = f"regions.{country}"
    if policy == "denied":
        # the UAE keeps its data centers (other uses); Saudi Arabia has none without chips
        if country == "SA":
            return [f"{key}.enabled=false"]
        return [f"{key}.accelerator_cap_units_per_year=0"]
    cap = cap_units_per_year if policy == "capped" else NO_CAP_UNITS_PER_YEAR
    return [f"{key}.enabled=true", f"{key}.accelerator_cap_units_per_year={cap}"]


@dataclass(frozen=True)
class PolicyRow:
    country: str
    policy: str
    overrides: list[str]
    status: str
    h100e_end: float | None  # installed H100e in the last year [H100e]
    h100e_years: float | None  # compute over the horizon [H100e-year]
    spend_usd: float | None
    cost_per_h100e_hour_usd: float | None
    lost_h100e_years: float | None = None  # against "approved" [H100e-year]
    lost_value_usd: float | None = None  # lost H100e-hours x approved cost per H100e-hour

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _row(country: str, policy: str, ov: list[str], res: Any) -> PolicyRow:
    if not res.status.ok:
        return PolicyRow(country, policy, ov, res.status.value, None, None, None, None)
    s = res.summary()
    dt = float(res.dataset.attrs.get("dt_years", 1.0))
    return PolicyRow(
        country,
        policy,
        ov,
        res.status.value,
        s["compute_h100e"][-1],
        sum(s["compute_h100e"]) * dt,
        s["spend_total_usd"],
        s["cost_per_h100e_hour_usd"],
    )


def with_costs(rows: Sequence[PolicyRow]) -> list[PolicyRow]:
    """Fill each row's loss against the same country's *approved* row."""
    ref = {r.country: r for r in rows if r.policy == "approved" and r.h100e_years is not None}
    out = []
    for r in rows:
        a = ref.get(r.country)
        if a is None or r.h100e_years is None or a.h100e_years is None:
            out.append(r)
            continue
        lost = a.h100e_years - r.h100e_years
        usd = lost * HOURS_PER_YEAR * (a.cost_per_h100e_hour_usd or 0.0)
        out.append(PolicyRow(**{**r.__dict__, "lost_h100e_years": lost, "lost_value_usd": usd}))
    return out


def export_policy_table(
    run: Callable[[list[str]], Any], caps: dict[str, float], countries: Sequence[str] = COUNTRIES
) -> list[PolicyRow]:
    """One optimisation per (country, policy); ``run(overrides) -> Results``; ``caps``:
    country -> capped units per year."""
    rows = []
    for c in countries:
        for p in POLICIES:
            ov = policy_overrides(c, p, caps[c])
            rows.append(_row(c, p, ov, run(ov)))
    return with_costs(rows)
