"""The long fuzz run: ``python -m tests.fuzz.run --cases 10000`` (docs/fuzzing.md).

Draws ``--cases`` derandomised cases from :data:`tests.fuzz.strategies.cases`, checks each
against the promise (:mod:`tests.fuzz.promise`), solves at most ``--max-solves`` of those
that pass the front door (the rest are counted ``valid``), and prints the count of each
outcome class, the time taken and every broken promise. Exit code 1 if any promise broke.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

from hypothesis import HealthCheck, Phase, given, settings

from .promise import check_case
from .strategies import Case, cases


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--max-solves", type=int, default=200)
    ap.add_argument("--save-every", type=int, default=10, help="save every Nth solved run")
    args = ap.parse_args(argv)
    counts: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    failures: list[str] = []
    solves = [0]
    t0 = time.perf_counter()

    @settings(
        max_examples=args.cases,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases)
    def one(case: Case) -> None:
        solve = solves[0] < args.max_solves
        save = solve and solves[0] % args.save_every == 0
        outcome, detail = check_case(case, solve=solve, save=save)
        if outcome not in ("refused", "valid"):
            solves[0] += 1
        counts[outcome] += 1
        kinds[case.kind] += 1
        if outcome.startswith("FAIL"):
            failures.append(f"{outcome}: {detail}")
        n = sum(counts.values())
        if n % 500 == 0:
            tally = ", ".join(f"{k} {v}" for k, v in counts.most_common())
            print(f"  {n} cases, {time.perf_counter() - t0:.0f} s: {tally}", flush=True)

    one()
    elapsed = time.perf_counter() - t0
    print(f"cases: {sum(counts.values())} in {elapsed:.0f} s")
    for k, v in counts.most_common():
        print(f"  {k:14s} {v}")
    print("case kinds: " + ", ".join(f"{k} {v}" for k, v in kinds.most_common()))
    for f in failures[:50]:
        print(f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
