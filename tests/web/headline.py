"""What "the same answer" means for the playground's tests: a warm (or raced) answer and a
cold build-and-solve of the same slider state agree on the headline numbers within solver
tolerance (feasibility and optimality 1e-7)."""

from __future__ import annotations

import pytest


def same_headline(warm: dict, cold: dict) -> None:
    assert warm["status"] == cold["status"] == "optimal"
    # the optimum is unique in its objective; compute and spend follow from it here
    assert warm["objective_value"] == pytest.approx(cold["objective_value"], rel=1e-7)
    assert warm["compute_h100e"] == pytest.approx(cold["compute_h100e"], rel=1e-6, abs=1e-3)
    assert warm["spend_total_usd"] == pytest.approx(cold["spend_total_usd"], rel=1e-6)
    assert warm["funding_total_usd"] == pytest.approx(cold["funding_total_usd"], rel=1e-12)
