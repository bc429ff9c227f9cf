"""The ``robust:`` block of a scenario (``objective.kind: robust``); schema only, no solving.

>>> cfg = RobustConfig.model_validate({"source": "events", "futures": [
...     {"name": "calm", "probability": 0.8},
...     {"name": "blockade", "probability": 0.2,
...      "events": [{"use": "taiwan_blockade", "start": 2028}]}]})
>>> cfg.mode, cfg.alpha, [f.name for f in cfg.futures]
('expected', 0.05, ['calm', 'blockade'])
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SAMPLED = "sampled"  # futures drawn from the uncertainty set
EVENTS = "events"  # named futures with probabilities
EXPECTED = "expected"  # max expected discounted compute
CVAR = "cvar"  # ... minus lambda x CVaR_alpha of the compute shortfall
WORST_ALPHA = "worst_alpha"  # max the mean of the alpha-worst futures' compute
PROBABILITY_TOL = 1e-6  # |sum of probabilities - 1| allowed [1]


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, allow_inf_nan=False, populate_by_name=True
    )


class NamedFuture(_Model):
    """One future of ``source: events``: its events (scenario event entries) and probability."""

    name: str = Field(min_length=1, max_length=200, description="label of the future")
    probability: float = Field(ge=0.0, le=1.0, description="probability of this future [1]")
    events: list[dict[str, Any]] = Field(
        default_factory=list,
        description="scenario events of this future, e.g. [{use: taiwan_blockade, start: 2028}]",
    )


class RobustConfig(_Model):
    """How the robust (two-stage stochastic) plan is set up; docs/robust.md."""

    source: Literal["sampled", "events"] = Field(
        SAMPLED, description="sampled: S futures from the uncertainty set; events: futures"
    )
    scenarios: int = Field(
        8, ge=1, le=10_000, description="S, futures drawn when source is sampled [futures]"
    )
    futures: list[NamedFuture] = Field(
        default_factory=list, description="named futures with probabilities (source: events)"
    )
    information_year: float | None = Field(
        None,
        description="decisions taken before this year are shared by all futures; null: each "
        "future is known from its first event's start [year]",
    )
    alpha: float = Field(
        0.05, gt=0.0, lt=1.0, description="tail share of the CVaR (worst alpha of futures) [1]"
    )
    lambda_: float = Field(
        0.0,
        alias="lambda",
        ge=0.0,
        description="weight of the CVaR of the compute shortfall (mode cvar) [1]",
    )
    mode: Literal["expected", "cvar", "worst_alpha"] = Field(
        EXPECTED, description="expected | cvar | worst_alpha"
    )
    seed: int | None = Field(
        None, ge=0, description="seed of the sampled futures (null: the scenario's seed) [1]"
    )
    held_out: int = Field(
        16, ge=1, le=10_000, description="futures of the held-out evaluation sample [futures]"
    )
    held_out_parameters: bool = Field(
        False,
        description="held-out futures draw the uncertainty set's parameters too (default: its "
        "events only, so the plans' commitments stay feasible before each event)",
    )


def robust_problems(cfg: RobustConfig, start: int, end: int) -> list[tuple[str, Any, str]]:
    """Problems (path, value, expected) of ``cfg`` beyond its schema: named futures whose
    probabilities do not sum to one, an information year outside the horizon [start, end]."""
    probs: list[tuple[str, Any, str]] = []
    if cfg.source == EVENTS:
        if not cfg.futures:
            probs.append(("robust.futures", [], "named futures (source: events)"))
        total = sum(f.probability for f in cfg.futures)
        if cfg.futures and abs(total - 1.0) > PROBABILITY_TOL:
            probs.append(
                (
                    "robust.futures.probability",
                    [f.probability for f in cfg.futures],
                    f"probabilities summing to 1 (they sum to {total:g})",
                )
            )
    y = cfg.information_year
    if y is not None and not start <= y <= end:
        probs.append(("robust.information_year", y, f"a year in [{start}, {end}]"))
    return probs
