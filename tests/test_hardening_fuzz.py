"""Issue 7, proved by fuzzing: a few hundred derandomised cases from tests/fuzz in CI.

The long run (ten thousand cases) is ``python -m tests.fuzz.run --cases 10000``; its counts
are in docs/fuzzing.md.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from typer.testing import CliRunner

from fab2flop.cli import app

from .fuzz.promise import check_case, write_case
from .fuzz.strategies import Case, cases

CI = dict(
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)

_solved = [0]
MAX_SOLVES = 4  # solves are ~1 s each; most cases fail validation in milliseconds


@settings(max_examples=250, **CI)
@given(case=cases)
def test_every_case_is_refused_cleanly_or_answered_sanely(case: Case):
    solve = _solved[0] < MAX_SOLVES
    outcome, detail = check_case(case, solve=solve, save=solve and _solved[0] == 0)
    if outcome not in ("refused", "valid"):
        _solved[0] += 1
    assert not outcome.startswith("FAIL"), f"{outcome}: {detail}"


@pytest.fixture(scope="module")
def stop_after_front_door():
    """``run`` stops right after the front door (the solve is not what is compared)."""
    import fab2flop.optimizer as opt

    mp = pytest.MonkeyPatch()

    def reached(*args, **kwargs):
        raise SystemExit(0)

    mp.setattr(opt, "optimize", reached)
    yield
    mp.undo()


@settings(max_examples=40, **CI)
@given(case=cases)
def test_validate_and_run_give_one_verdict_over_the_corpus(case: Case, stop_after_front_door):
    runner = CliRunner()
    with tempfile.TemporaryDirectory() as tmp:
        path = str(write_case(case, Path(tmp)))
        sets = [x for s in case.sets for x in ("--set", s)]
        v = runner.invoke(app, ["scenario", "validate", path, *sets])
        r = runner.invoke(app, ["run", path, *sets])
    assert v.exit_code in (0, 2), v.output
    assert v.exit_code == r.exit_code, (v.output, r.output)
    if v.exit_code == 2:
        assert v.stderr.strip().splitlines()[-1] == r.stderr.strip().splitlines()[-1]
