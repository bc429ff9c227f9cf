"""Probes kept on disk (risk/probecache.py): read back equal to what was probed, keyed by
what they depend on (not by seed or sample count), and never trusted when unreadable."""

from __future__ import annotations

import pytest

from fab2flop import load_scenario
from fab2flop.network import build_network
from fab2flop.risk import futures, probecache
from fab2flop.risk.replay import resolve_for
from fab2flop.risk.sampling import sample_uncertainty

from .test_replay_chunks import MIXED, assert_same_probes


def _samples(**changes):
    from fab2flop.risk.uncertainty import validate_uncertainty

    sc = load_scenario().model_copy(
        update={"uncertainty": validate_uncertainty({**MIXED, **changes})}
    )
    return sc, sample_uncertainty(resolve_for(sc))


@pytest.fixture(scope="module")
def probed():
    sc, ds = _samples()
    net = build_network(sc)
    names = [n for n, v in ds.data_vars.items() if v.attrs.get("kind") in ("catalog", "scenario")]
    futures._PROBES.clear()
    return net, ds, names, futures.probe_parameters(net, ds, workers=1, disk=False)


def test_a_saved_probe_reads_back_equal(probed, tmp_path, monkeypatch):
    monkeypatch.setenv("FAB2FLOP_CACHE_DIR", str(tmp_path))
    net, ds, names, p = probed
    key = probecache.probe_key(net, ds, names)
    assert probecache.load(key) is None  # nothing saved yet
    probecache.save(key, p)
    q = probecache.load(key)
    assert len(p.curves) > 0 and any(r.changes for r in p.responses)  # something to compare
    assert_same_probes(p, q)
    assert q.varied == p.varied and q.held == p.held


def test_the_key_follows_the_parameters_not_the_draws(probed):
    net, ds, names, _ = probed
    key = probecache.probe_key(net, ds, names)
    # another seed and another sample count: the same probes
    _, other = _samples(seed=99, samples=7)
    assert probecache.probe_key(net, other, names) == key
    # a parameter with another range: other probe values, another key
    params = [dict(p) for p in MIXED["parameters"]]
    params[0] = {**params[0], "dist": "uniform", "low": 1000.0, "high": 30000.0}
    _, wider = _samples(parameters=params)
    assert probecache.probe_key(net, wider, names) != key


def test_an_unreadable_file_is_ignored_and_an_empty_dir_setting_switches_it_off(
    probed, tmp_path, monkeypatch
):
    net, ds, names, p = probed
    monkeypatch.setenv("FAB2FLOP_CACHE_DIR", str(tmp_path))
    key = probecache.probe_key(net, ds, names)
    probecache._file(key).write_bytes(b"not a zip file")
    assert probecache.load(key) is None
    monkeypatch.setenv("FAB2FLOP_CACHE_DIR", "")
    probecache.save(key, p)
    assert probecache.load(key) is None and probecache._file(key) is None


def test_probe_parameters_reads_the_disk_before_probing(probed, tmp_path, monkeypatch):
    net, ds, _, p = probed
    monkeypatch.setenv("FAB2FLOP_CACHE_DIR", str(tmp_path))
    futures._PROBES.clear()
    first = futures.probe_parameters(net, ds, workers=1)  # probes, and saves
    futures._PROBES.clear()

    def no_rebuild(*_a, **_k):
        raise AssertionError("probed again: the saved probe was not read")

    monkeypatch.setattr(futures, "probe_one", no_rebuild)
    again = futures.probe_parameters(net, ds, workers=1)
    assert again is not first and again.varied == first.varied == p.varied
    assert again.held == p.held and len(again.curves) == len(p.curves)


def test_only_the_newest_files_are_kept(probed, tmp_path, monkeypatch):
    import os

    net, ds, names, p = probed
    monkeypatch.setenv("FAB2FLOP_CACHE_DIR", str(tmp_path))
    for i in range(probecache.KEEP + 3):  # older files of other versions
        f = tmp_path / f"probe-v{probecache.FORMAT}-old{i:02d}.npz"
        f.write_bytes(b"x")
        os.utime(f, (1000 + i, 1000 + i))
    key = probecache.probe_key(net, ds, names)
    probecache.save(key, p)
    left = sorted(f.name for f in tmp_path.glob("probe-*.npz"))
    assert len(left) == probecache.KEEP and probecache._file(key).name in left
    # the oldest went first: old00..old03 (4 = KEEP + 3 + 1 - KEEP) are gone
    assert not any(f"old{i:02d}" in n for n in left for i in range(4))
