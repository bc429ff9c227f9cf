"""The compiled period loop (risk/kernel.py) follows the numpy loop of replay.py step for
step: on sampled futures with every kind of event, and under a plan that asks for more than
the chain, the MW of IT and the money can give (so re-dispatch, rationing, spill-over of
deployments and the money scaling all act), both engines give the same results."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from fab2flop import load_scenario
from fab2flop.risk import kernel
from fab2flop.risk.futures import future_arrays
from fab2flop.risk.replay import compact, engine_of, replay_chunk, setup, structure, warm
from fab2flop.risk.uncertainty import validate_uncertainty

from .test_replay_chunks import MIXED

N = 100  # a block of 64 samples and a partial one of 36
FIELDS = (
    "compute_h100e",
    "stage_activity",
    "accelerator_h100e",
    "spend_usd",
    "usable_money_usd",
    "cash_usd",
    "act_tks",
    "cum_on",
    "inv_tcs",
)


@pytest.fixture(scope="module")
def case():
    unc = validate_uncertainty({**MIXED, "samples": N})
    su = setup(load_scenario().model_copy(update={"uncertainty": unc}))
    st = structure(su.net)
    cp = compact(su.net, st)
    fa = future_arrays(su.net, su.probe, su.samples, slice(0, N), su.events)
    return su, st, cp, fa


def _both(su, st, cp, fa, plan=None):
    plan = plan if plan is not None else su.plan
    got = replay_chunk(su.net, plan, st, fa, cp, engine="numba")
    ref = replay_chunk(su.net, plan, st, fa, cp, engine="numpy")
    for f in FIELDS:
        np.testing.assert_allclose(
            getattr(got, f), getattr(ref, f), rtol=1e-12, atol=1e-9, err_msg=f
        )
    return got, ref


def test_numba_is_the_default_engine_here():
    # numba is a dependency: where it imports, replay runs the compiled loop
    assert kernel.available()
    assert engine_of("auto") == "numba"
    with pytest.raises(ValueError, match="engine='gpu'"):
        engine_of("gpu")


def test_kernel_equals_numpy_on_sampled_futures(case):
    su, st, cp, fa = case
    got, _ = _both(su, st, cp, fa)
    # the futures do differ (else one sample checked N times)
    c = got.compute_h100e[:, -1]
    assert np.ptp(c) > 0.01 * c.mean()


def test_kernel_equals_numpy_when_asks_exceed_what_can_be_given(case):
    """A plan asking 2.5x its activity and deployments, and 40% of the money: the chain
    rations, deployments spill over regions and MW run short, operations are scaled to the
    money; both engines still agree, and the stress does bite."""
    su, st, cp, fa = case
    p = su.plan
    big = dataclasses.replace(p, activity=p.activity * 2.5, deployed=p.deployed * 2.5)
    cut = {**fa.arrays, "funding_usd": fa.arrays["funding_usd"] * 0.4}
    poor = dataclasses.replace(fa, arrays=cut)
    base, _ = _both(su, st, cp, fa)
    got, _ = _both(su, st, cp, poor, big)
    # the money binds: a period whose operations are scaled to the money spends all of it
    # and carries no cash out (the unstressed plan always carries some)
    assert (np.abs(base.cash_usd) < 1.0).sum() == 0
    assert (np.abs(got.cash_usd) < 1.0).mean() > 0.02
    # deployments the plan's regions cannot take go to regions the plan does not use
    unused = big.deployed.sum(axis=2) == 0  # (A,R)
    assert (got.deployed.sum(axis=3)[:, unused] > 1e-6).any()
    # and the chain gives less than asked: less compute at the end in most samples
    assert (got.compute_h100e[:, -1] < 2.5 * base.compute_h100e[:, -1]).mean() > 0.5


def test_one_compiled_loop_serves_every_chunk(case):
    """Warming (as setup does before chunks fork) compiles the loop for the argument types
    every chunk passes: a sampled chunk with events and io changes adds no second
    specialisation (each would cost a compilation of ~20 s)."""
    su, st, cp, fa = case
    warm(su.net, su.plan)
    n = len(kernel.periods.signatures)
    replay_chunk(su.net, su.plan, st, fa, cp, engine="numba")
    assert n == 1 and len(kernel.periods.signatures) == 1


def test_without_numba_replay_runs_the_numpy_loop(case, monkeypatch):
    """Where numba cannot be imported (a Python it has no wheel for), ``auto`` is the
    numpy loop, ``numba`` is refused with the reason, and replay still answers the same."""
    from fab2flop.risk.replay import replay

    su, *_ = case
    want = replay(su.net, su.plan, su.samples, su.probe, su.events, workers=1).dataset
    monkeypatch.setattr(kernel, "HAVE_NUMBA", False)
    assert engine_of("auto") == "numpy"
    with pytest.raises(ValueError, match="numba cannot be imported"):
        engine_of("numba")
    got = replay(su.net, su.plan, su.samples, su.probe, su.events, workers=1).dataset
    for k in ("compute_h100e", "spend_usd", "cash_usd", "accelerator_h100e"):
        np.testing.assert_allclose(got[k].values, want[k].values, rtol=1e-12, err_msg=k)
