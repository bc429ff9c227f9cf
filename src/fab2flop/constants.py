"""The package's vocabulary: dimension names, statuses, categories and unit constants.

Every other module imports names from here instead of spelling string literals, so a
renamed dimension is one edit.
"""

from __future__ import annotations

from enum import StrEnum

# Labelled dimensions (the same names in the network, the LP and the results Dataset).
PERIOD = "period"
REGION = "region"
PROCESS = "process"
CARRIER = "carrier"
ACCELERATOR = "accelerator"
SAMPLE = "sample"
INPUT = "input"  # critical inputs of the plan (fab2flop.dependence, fab2flop.policy)

HOURS_PER_YEAR = 8760.0
SECONDS_PER_YEAR = 365.25 * 24 * 3600

# Reference accelerator for "H100-equivalents": NVIDIA H100 SXM dense BF16 peak.
# Source: NVIDIA H100 datasheet (989 TFLOP/s dense BF16), see catalog accelerators.H100.
H100_FLOPS_BF16_DENSE = 989e12
# H100 SXM dense FP8 [FLOP/s] (NVIDIA datasheet: 1,979 dense); the H100 has no FP4, so the
# FP4 H100-equivalent divides by its FP8 figure (it runs FP4 work at FP8)
H100_FLOPS_FP8_DENSE = 1979e12


class Status(StrEnum):
    """Outcome of an optimisation run."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    INFEASIBLE_OR_UNBOUNDED = "infeasible_or_unbounded"
    TIME_LIMIT = "time_limit"
    ERROR = "error"

    @property
    def ok(self) -> bool:
        return self is Status.OPTIMAL


class Objective(StrEnum):
    """What the optimiser maximises or minimises."""

    MAX_DISCOUNTED_COMPUTE = "max_discounted_compute"
    MAX_COMPUTE_IN_YEAR = "max_compute_in_year"
    MIN_COST_FOR_PATH = "min_cost_for_path"
    ROBUST = "robust"  # a two-stage stochastic plan over futures (scenario.robust)


class CarrierKind(StrEnum):
    """How a carrier is balanced.

    ``quantity``: goods counted per period (wafers, dies, stacks, accelerators); what is made
    in one period may be stored and used later.
    ``rate``: a standing rate that must be available in the period it is used (MW of IT
    capacity, MW of firm power); it cannot be stored.
    """

    QUANTITY = "quantity"
    RATE = "rate"


class Scope(StrEnum):
    """Where a carrier balances: worldwide (ships) or in each region (power, floor space)."""

    GLOBAL = "global"
    REGIONAL = "regional"


class Category(StrEnum):
    """Spending categories of the summary (every process belongs to one)."""

    FABS = "fabs"
    MEMORY = "memory"
    PACKAGING = "packaging"
    ACCELERATORS = "accelerators"  # assembly, test and NRE of own designs
    MERCHANT = "merchant_accelerators"
    SYSTEMS = "servers_networking"  # hosts, NICs and switches bought with each accelerator
    DATACENTERS = "datacenters"
    POWER = "power"
    OPERATIONS = "operations"  # electricity bought from the grid and fleet O&M
    OTHER = "other"


class Solver(StrEnum):
    """HiGHS algorithms offered for the LP."""

    CHOOSE = "choose"
    SIMPLEX = "simplex"
    IPM = "ipm"
    PDLP = "pdlp"
