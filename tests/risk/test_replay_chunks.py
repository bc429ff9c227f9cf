"""Replay is deterministic: the same seed gives the same futures, and how the samples are cut
into chunks, or how many threads run the chunks, changes no sample's result (so no
percentile either): a sample's arrays and dispatch never depend on the samples beside it."""

from __future__ import annotations

import numpy as np
import pytest

from fab2flop import load_scenario
from fab2flop.risk.replay import replay, setup
from fab2flop.risk.report import summarise
from fab2flop.risk.uncertainty import validate_uncertainty

# every kind of event, each in some samples only (chunks of 5 hold some with and some
# without), a destruction, a delay (re-timed builds), a funding cut; a price, a yield,
# a life (structural curves) and a market limit among the parameters
MIXED = {
    "samples": 48,
    "seed": 3,
    "parameters": [
        {"id": "nodes.N3.wafer_price_usd"},
        {"id": "datacenters.lease.market_mw_it"},
        {"id": "nodes.N3.fab_life_years"},
        {"id": "memory.hbm3e.stacks_per_wafer"},
    ],
    "events": [
        {"name": "taiwan_earthquake", "probability": 0.3},
        {"name": "korea_hbm_disruption", "probability": 0.3},
        {"name": "uae_export_denial", "probability": 0.3},
        {"name": "turbine_shortage", "probability": 0.4},
        {"name": "hbm_price_spike", "probability": 0.4},
        {"name": "funding_pullback", "probability": 0.3},
    ],
}


@pytest.fixture(scope="module")
def su():
    sc = load_scenario().model_copy(update={"uncertainty": validate_uncertainty(MIXED)})
    return setup(sc)


def _run(su, chunk: int, workers: int):
    return replay(
        su.net, su.plan, su.samples, su.probe, su.events, chunk=chunk, workers=workers
    ).dataset


def test_chunks_and_threads_change_no_sample_and_no_percentile(su):
    serial = _run(su, chunk=48, workers=1)  # one chunk, one thread
    parallel = _run(su, chunk=5, workers=2)  # ten chunks (the last of 3) on two threads
    # the events do split the samples (else the chunks would all look alike)
    occ = np.array([e.occurs for e in su.events])
    assert occ.any(axis=1).all() and not occ.all(axis=1).any()
    for name, var in serial.data_vars.items():
        np.testing.assert_array_equal(var.values, parallel[name].values, err_msg=name)
    years = [2030, 2035]
    a = summarise(serial, seed=su.seed, target_years=years)
    b = summarise(parallel, seed=su.seed, target_years=years)
    for key in ("compute_h100e", "spend_usd", "usable_money_usd", "cvar5_compute_h100e"):
        assert a[key] == b[key], key


def test_same_seed_same_futures_same_replay(su):
    sc = load_scenario().model_copy(update={"uncertainty": validate_uncertainty(MIXED)})
    again = setup(sc)  # drawn again from the same seed
    for name, var in su.samples.data_vars.items():
        np.testing.assert_array_equal(var.values, again.samples[name].values, err_msg=name)
    a = _run(su, chunk=16, workers=2)
    b = _run(again, chunk=16, workers=2)
    np.testing.assert_array_equal(a["compute_h100e"].values, b["compute_h100e"].values)
    # and the futures do differ from each other (a constant replay would pass trivially)
    assert np.ptp(a["compute_h100e"].values[:, -1]) > 0


def test_probes_on_forked_workers_equal_the_serial_probes(su, monkeypatch):
    """The parameter probes (one network rebuild each) give the same responses and curves
    on two forked processes as one after the other, in the same order."""
    from fab2flop.risk import futures

    monkeypatch.setattr(futures, "PROBE_PROCESSES_FROM", 2)  # fork even for these four
    futures._PROBES.clear()
    serial = futures.probe_parameters(su.net, su.samples, workers=1, disk=False)
    futures._PROBES.clear()
    forked = futures.probe_parameters(su.net, su.samples, workers=2, disk=False)
    assert len(serial.responses) == 4 and len(serial.curves) > 0  # the life has a curve
    assert_same_probes(serial, forked)


def assert_same_probes(p, q) -> None:
    """Two probes hold the same responses and curves, in the same order, to the bit."""
    assert [r.name for r in q.responses] == [r.name for r in p.responses]
    for a, b in zip(p.responses, q.responses, strict=True):
        assert (a.nominal, a.held, a.error, sorted(a.changes)) == (
            b.nominal, b.held, b.error, sorted(b.changes),
        )  # fmt: skip
        for k in a.changes:
            for x, y in zip(a.changes[k], b.changes[k], strict=True):
                np.testing.assert_array_equal(x, y)
    assert [c.name for c in q.curves] == [c.name for c in p.curves]
    for a, b in zip(p.curves, q.curves, strict=True):
        assert (a.name, a.array, a.x0) == (b.name, b.array, b.x0)
        for f in ("idx", "xs", "ys", "nominal"):
            np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)
