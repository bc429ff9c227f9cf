"""Training and serving a dense transformer, roofline style. Hand arithmetic beside each check."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from fab2flop.catalog import load_catalog
from fab2flop.components.accelerator import design_from_catalog, evaluate
from fab2flop.components.workload import (
    critical_batch,
    decode_tokens_per_s,
    inference_flops_per_token,
    kv_bytes_per_token,
    matmul_intensity,
    ridge_point,
    serve_dense_transformer,
    train_dense_transformer,
    training_flops,
    transformer_shape,
)
from fab2flop.constants import SECONDS_PER_YEAR
from fab2flop.errors import DesignError


def chip(flops: float = 1e15, **kw):
    """A stand-in accelerator with round numbers."""
    base = dict(
        name="x",
        hbm_bandwidth_bytes_per_s=3.35e12,
        hbm_gb=80.0,
        kw_it_per_unit=1.0,
        unit_cost_usd=None,
        price_usd=25e3,
        flops=lambda p="bf16": flops,
    )
    base.update(kw)
    return SimpleNamespace(**base)


class TestBuildingBlocks:
    def test_training_flops(self) -> None:
        # Chinchilla 70B on 1.4T tokens: 6 x 70e9 x 1.4e12 = 5.88e23
        assert training_flops(70e9, 1.4e12) == pytest.approx(5.88e23)

    def test_shape(self) -> None:
        # d = (128 x 175e9 / 12)^(1/3) = (1.8667e12)^(1/3) = 12,313; L = 175e9/(12 x 12313²) = 96.2
        d, layers = transformer_shape(175e9)
        assert d == pytest.approx(12313, abs=1)
        assert layers == pytest.approx(96.2, abs=0.1)

    def test_inference_flops(self) -> None:
        # 2N + 4 L d c with c = 0 is 2N
        assert inference_flops_per_token(7e9) == pytest.approx(14e9)
        d, layers = transformer_shape(7e9)
        assert inference_flops_per_token(7e9, 1000) == pytest.approx(14e9 + 4 * layers * d * 1000)

    def test_kv_bytes(self) -> None:
        # 2 x L x d / 8 x 1 B
        d, layers = transformer_shape(70e9)
        assert kv_bytes_per_token(70e9, 8, 1) == pytest.approx(2 * layers * d / 8)

    def test_ridge_point(self) -> None:
        # H100 BF16: 989.4e12 / 3.35e12 = 295.3 FLOP/B
        assert ridge_point(989.4e12, 3.35e12) == pytest.approx(295.34, abs=0.01)

    def test_matmul_intensity(self) -> None:
        # 2 x 4096 x 12288 / (2 x (12288 + 8192)) = 100,663,296 / 40,960 = 2457.6
        assert matmul_intensity(4096, 12288, 2.0) == pytest.approx(2457.6)

    def test_critical_batch_is_ops_per_byte(self) -> None:
        # no KV: b* = (N·bytes/BW) / (2N/F) = bytes·F/(2·BW); BF16 H100: 2 x 989.4/(2 x 3.35)
        assert critical_batch(989.4e12, 3.35e12, 70e9, 2.0) == pytest.approx(295.34, abs=0.01)
        # FP8 (1 byte, 1978.8 TF): 1978.8 / (2 x 3.35) = 295.3 as well
        assert critical_batch(1978.8e12, 3.35e12, 70e9, 1.0) == pytest.approx(295.34, abs=0.01)

    def test_critical_batch_with_kv(self) -> None:
        # F = 1e15, BW = 1e12, N = 1e9 (2 B), KV 1e6 B/seq:
        # W/BW = 2e9/1e12 = 2e-3 s; f/F = 2e9/1e15 = 2e-6; KV/BW = 1e-6 -> b* = 2e-3/1e-6 = 2000
        assert critical_batch(1e15, 1e12, 1e9, 2.0, 1e6) == pytest.approx(2000)
        # KV traffic outrunning compute: never compute-bound
        assert math.isinf(critical_batch(1e15, 1e12, 1e9, 2.0, 3e6))

    def test_decode_memory_bound(self) -> None:
        # batch 1, 70B BF16 on H100: 3.35e12 / 140e9 = 23.93 tokens/s
        assert decode_tokens_per_s(989.4e12, 3.35e12, 70e9, 1) == pytest.approx(23.93, abs=0.01)

    def test_decode_compute_bound(self) -> None:
        # batch 10,000 ≫ 295: F / 2N = 989.4e12 / 140e9 = 7,067 tokens/s
        assert decode_tokens_per_s(989.4e12, 3.35e12, 70e9, 10_000) == pytest.approx(7067.1, 0.1)

    def test_decode_vectorised(self) -> None:
        out = decode_tokens_per_s(989.4e12, 3.35e12, 70e9, np.array([1, 64, 512, 4096]))
        assert np.all(np.diff(out) >= 0)


class TestTraining:
    def test_days_from_chips(self) -> None:
        # 6 x 1e9 x 1e12 = 6e21 FLOP / (1000 x 1e15 x 0.4) = 15,000 s = 0.1736 days
        r = train_dense_transformer(chip(), 1e9, 1e12, n_chips=1000)
        assert r.bound == "compute" and r.utilisation == pytest.approx(0.4)
        assert r.days == pytest.approx(15_000 / 86_400)
        # chip-hours 1000 x 15,000 / 3600 = 4,166.7; energy 1000 x 1 kW x 4.1667 h = 4.1667 MWh
        assert r.chip_hours == pytest.approx(4166.67, abs=0.01)
        assert r.energy_mwh == pytest.approx(4.16667, abs=1e-4)
        assert r.capital_usd == pytest.approx(25e6)

    def test_chips_from_days(self) -> None:
        # 6e21 / 86,400 s = 6.944e16 FLOP/s / (1e15 x 0.4) = 173.6 -> 174 chips
        r = train_dense_transformer(chip(), 1e9, 1e12, days=1)
        assert r.n_chips == 174
        assert r.days == pytest.approx(173.6 / 174, rel=1e-3)

    def test_memory_bound_with_tiny_microbatches(self) -> None:
        # d = (128e9/12)^(1/3) = 2201.4; I = 2·16·2201.4/(2·(2201.4 + 32)) = 15.77 FLOP/B
        # ridge = 1e15/3.35e12 = 298.5 -> ceiling 0.4 x 15.77/298.5 = 0.02113
        r = train_dense_transformer(chip(), 1e9, 1e12, n_chips=1000, microbatch_tokens=16)
        assert r.bound == "memory"
        assert r.utilisation == pytest.approx(0.4 * 15.77 / 298.51, rel=1e-3)

    def test_interconnect_bound_with_small_batches(self) -> None:
        # mp = 1 (16 GB of state fits 64 GiB); grads 2 x 1e9 x 2 B = 4e9 B x (1 − 1/1000)
        # / 50e9 B/s = 0.07992 s per step; compute 6e9 x 1e5 / (1000 x 1e15 x 0.4) = 1.5e-3 s
        # ceiling 0.4 x 1.5e-3 / 0.07992 = 7.508e-3
        r = train_dense_transformer(chip(), 1e9, 1e12, n_chips=1000, global_batch_tokens=1e5)
        assert r.model_parallel == 1
        assert r.bound == "interconnect"
        assert r.utilisation == pytest.approx(0.4 * 1.5e-3 / 0.07992, rel=1e-3)

    def test_interconnect_caps_the_speed_up(self) -> None:
        # one day needs 6e21/86,400 = 6.944e16 FLOP/s = 174 chips at 0.4e15; there a step
        # computes in 6e14/(174 x 4e14) = 8.6e-3 s but all-reduces in 4e9 x (1 − 1/174)/5e10 =
        # 0.0795 s, and more chips only add traffic: infeasible
        r = train_dense_transformer(chip(), 1e9, 1e12, days=1, global_batch_tokens=1e5)
        assert not r.feasible and r.n_chips is None
        assert "interconnect-bound" in r.notes[0]
        # 20 days: 6e21/(20 x 86,400) = 3.47e15 FLOP/s -> 8.7 -> 9 chips; step compute
        # 6e14/(9 x 4e14) = 0.167 s > all-reduce 4e9 x 8/9 / 5e10 = 0.071 s: compute-bound,
        # 6e21/(9 x 4e14)/86,400 = 19.29 days
        ok = train_dense_transformer(chip(), 1e9, 1e12, days=20, global_batch_tokens=1e5)
        assert ok.feasible and ok.n_chips == 9 and ok.bound == "compute"
        assert ok.days == pytest.approx(6e21 / (9 * 4e14) / 86_400)

    def test_model_parallel_from_memory(self) -> None:
        # 405e9 x 16 B = 6.48e12 B / (80 GiB x 0.8 = 6.872e10 B) = 94.3 -> 95 chips per replica
        r = train_dense_transformer(chip(), 405e9, 15.6e12, n_chips=16_384)
        assert r.model_parallel == 95
        with pytest.raises(DesignError, match="needs 95 chips"):
            train_dense_transformer(chip(), 405e9, 15.6e12, n_chips=64)

    def test_llama3_405b_on_h100(self) -> None:
        # 6 x 405e9 x 15.6e12 = 3.79e25 FLOP on 16,384 H100 at 40% of 989.4 TF:
        # 3.79e25 / (16384 x 989.4e12 x 0.4) = 5.846e6 s = 67.7 days (Meta reported ~30.8M
        # GPU-hours, i.e. ~35% MFU; the model gives 26.6M at 40%)
        cat = load_catalog()
        h100 = evaluate(design_from_catalog("H100", cat), cat)
        r = train_dense_transformer(h100, 405e9, 15.6e12, n_chips=16_384)
        assert r.days == pytest.approx(3.7908e25 / (16384 * 132 * 4096 * 1.83e9 * 0.4) / 86400)
        assert r.bound == "compute"

    def test_arguments(self) -> None:
        with pytest.raises(DesignError, match="exactly one"):
            train_dense_transformer(chip(), 1e9, 1e12)
        with pytest.raises(DesignError, match="exactly one"):
            train_dense_transformer(chip(), 1e9, 1e12, n_chips=10, days=1)


class TestServing:
    def test_tokens_per_dollar_and_joule(self) -> None:
        # 8B FP8, batch 1, no context: decode 3.35e12 x 0.8 / 8e9 B = 335 tokens/s
        # cost: 25,000 / (5 x 31,557,600 s) = 1.5844e-4 $/s + 1 kW x $0.08/kWh / 3600 =
        # 2.2222e-5 $/s -> 1.8066e-4 $/s ($0.6504 per chip-hour)
        r = serve_dense_transformer(chip(1979e12), 8e9, 1, 0, "fp8")
        per_s = 25e3 / (5 * SECONDS_PER_YEAR) + 0.08 / 3600
        assert r.decode_tokens_per_s == pytest.approx(335.0)
        assert r.usd_per_chip_hour == pytest.approx(per_s * 3600)
        assert r.decode_tokens_per_usd == pytest.approx(335.0 / per_s)
        # tokens per joule: 335 / 1000 W = 0.335
        assert r.decode_tokens_per_joule == pytest.approx(0.335)
        # prefill: 1979e12 x 0.5 / 16e9 = 61,843.75 tokens/s
        assert r.prefill_tokens_per_s == pytest.approx(61_843.75)
        assert r.decode_bound == "memory"

    def test_critical_batch_switches_the_bound(self) -> None:
        # no context: b* = (W/(BW·η)) / (2N/(F·u)) = (8e9/2.68e12)/(16e9/989.5e12) = 184.6
        c = chip(1979e12)
        r = serve_dense_transformer(c, 8e9, [100, 400], 0, "fp8")
        assert r.critical_batch == pytest.approx((8e9 / 2.68e12) / (16e9 / 989.5e12), rel=1e-6)
        assert list(r.decode_bound) == ["memory", "compute"]

    def test_capacity_sets_chips_per_replica(self) -> None:
        # 405B in FP8 = 405e9 B / (80 GiB x 0.9 = 7.73e10 B) = 5.24 -> 6 chips
        r = serve_dense_transformer(chip(1979e12), 405e9, 1, 0, "fp8")
        assert r.chips_per_replica == 6

    def test_missing_precision(self) -> None:
        cat = load_catalog()
        h100 = evaluate(design_from_catalog("H100", cat), cat)
        with pytest.raises(DesignError, match="no FP4"):
            serve_dense_transformer(h100, 70e9, 1, 1024, "fp4")

    def test_custom_chip_uses_unit_cost(self) -> None:
        cat = load_catalog()
        own = evaluate(design_from_catalog("custom_v1", cat), cat)
        r = serve_dense_transformer(own, 70e9, 64, 2048)
        per_s = own.unit_cost_usd / (5 * SECONDS_PER_YEAR) + own.kw_it_per_unit * 0.08 / 3600
        assert r.usd_per_chip_hour == pytest.approx(per_s * 3600)
