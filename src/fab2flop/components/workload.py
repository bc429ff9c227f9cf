"""Workloads on an accelerator: training and serving a dense transformer, roofline style.

Pure functions of an accelerator's peak FLOP/s, HBM bandwidth and capacity, power and cost
(any object with the attributes of :class:`~fab2flop.components.accelerator.AcceleratorSpec`).

Standard counts (Kaplan et al. 2020; Chinchilla):

- training: ``6·N·D`` FLOPs for ``N`` parameters and ``D`` tokens (forward 2N, backward 4N);
- inference: ``2·N`` FLOPs per token plus attention ``4·n_layers·d_model·c`` at context
  ``c`` (``QKᵀ`` and ``AV``, 2 FLOP per multiply-add); prefill averages ``c/2`` (causal);
- decode reads all weights once per step (``N × bytes per parameter``) plus every sequence's
  KV cache (``2·n_layers·d_model/gqa × bytes`` per token of context).

Shape of a dense model from its size: ``N ≈ 12·n_layers·d_model²`` with
``d_model / n_layers ≈ 128`` (GPT-3 175B: 12,288 / 96), so ``d_model = (128·N/12)^(1/3)``.

What the roofline leaves out (see docs/accelerator-model.md): kernel efficiency beyond the
single ``mfu`` factors, pipeline bubbles, tensor/pipeline-parallel traffic on the scale-up
network (assumed hidden), activation memory and recomputation, optimizer-step time, stragglers
and failures, mixture-of-experts routing, speculative decoding, prefix caching and
continuous-batching scheduling.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike

from ..constants import SECONDS_PER_YEAR
from ..errors import DesignError
from .chip import FloatOrArray, scalar_or_array

BYTES_PER_PARAM: dict[str, float] = {"bf16": 2.0, "fp8": 1.0, "fp4": 0.5}
D_MODEL_PER_LAYER = 128.0  # GPT-3 175B: 12,288 / 96


class Bound(StrEnum):
    """What limits a workload's throughput."""

    COMPUTE = "compute"
    MEMORY = "memory"
    INTERCONNECT = "interconnect"


class ChipLike(Protocol):
    """The attributes of an accelerator spec the workload functions read."""

    name: str
    hbm_bandwidth_bytes_per_s: float
    hbm_gb: float
    kw_it_per_unit: float
    unit_cost_usd: float | None
    price_usd: float | None

    def flops(self, precision: str = ...) -> float | None: ...


# ---- building blocks (scalars or arrays) -------------------------------------------------


def training_flops(n_params: ArrayLike, n_tokens: ArrayLike) -> FloatOrArray:
    """FLOPs to train a dense transformer: ``6·N·D`` [FLOP].

    >>> training_flops(70e9, 1.4e12)   # Chinchilla-70B: 5.88e23
    5.88e+23
    """
    return scalar_or_array(6.0 * np.asarray(n_params, float) * np.asarray(n_tokens, float))


def transformer_shape(n_params: ArrayLike) -> tuple[FloatOrArray, FloatOrArray]:
    """``(d_model, n_layers)`` of a dense transformer of ``n_params`` parameters.

    ``d_model = (128·N/12)^(1/3)``, ``n_layers = N / (12·d_model²)``.

    >>> d, n = transformer_shape(175e9)   # GPT-3: 12,288 and 96
    >>> round(d), round(n)
    (12313, 96)
    """
    n = np.asarray(n_params, dtype=float)
    if np.any(n <= 0):
        raise DesignError(f"n_params={n_params!r} must be > 0")
    d = np.cbrt(D_MODEL_PER_LAYER * n / 12.0)
    return scalar_or_array(d), scalar_or_array(n / (12.0 * d**2))


def inference_flops_per_token(n_params: ArrayLike, context: ArrayLike = 0.0) -> FloatOrArray:
    """FLOPs to process one token attending to ``context`` earlier tokens [FLOP/token].

    ``2·N + 4·n_layers·d_model·context``.

    >>> inference_flops_per_token(7e9)   # 2 N
    14000000000.0
    """
    d, layers = transformer_shape(n_params)
    return scalar_or_array(
        2.0 * np.asarray(n_params, float)
        + 4.0 * np.asarray(layers) * np.asarray(d) * np.asarray(context, float)
    )


def kv_bytes_per_token(
    n_params: ArrayLike, gqa_ratio: ArrayLike = 8.0, bytes_per_value: ArrayLike = 2.0
) -> FloatOrArray:
    """KV-cache bytes one token of context occupies [B/token]: ``2·n_layers·d_model/gqa·bytes``."""
    d, layers = transformer_shape(n_params)
    return scalar_or_array(
        2.0
        * np.asarray(layers)
        * np.asarray(d)
        / np.asarray(gqa_ratio, float)
        * np.asarray(bytes_per_value, float)
    )


def ridge_point(flops: ArrayLike, bandwidth_bytes_per_s: ArrayLike) -> FloatOrArray:
    """Arithmetic intensity where a roofline turns compute-bound [FLOP/B] (ops:byte ratio).

    >>> round(ridge_point(989.4e12, 3.35e12), 1)   # H100 BF16
    295.3
    """
    return scalar_or_array(np.asarray(flops, float) / np.asarray(bandwidth_bytes_per_s, float))


def matmul_intensity(
    tokens: ArrayLike, d_model: ArrayLike, bytes_per_value: ArrayLike = 2.0
) -> FloatOrArray:
    """FLOP per byte of a ``tokens × d_model`` by ``d_model × d_model`` matmul [FLOP/B].

    FLOPs ``2·b·d²``; bytes ``bytes·(d² + 2·b·d)`` (weights, input, output):
    intensity ``2·b·d / (bytes·(d + 2·b))``.

    >>> round(matmul_intensity(4096, 12288, 2.0), 1)   # 2·4096·12288/(2·(12288+8192))
    2457.6
    """
    b = np.asarray(tokens, float)
    d = np.asarray(d_model, float)
    return scalar_or_array(2.0 * b * d / (np.asarray(bytes_per_value, float) * (d + 2.0 * b)))


def critical_batch(
    flops: ArrayLike,
    bandwidth_bytes_per_s: ArrayLike,
    n_params: ArrayLike,
    bytes_per_param: ArrayLike = 2.0,
    kv_bytes_per_sequence: ArrayLike = 0.0,
    flops_per_token: ArrayLike | None = None,
) -> FloatOrArray:
    """Decode batch at which a step turns compute-bound [sequences].

    Step time is ``max((W + b·KV)/BW, b·f/F)`` with weights ``W = N·bytes``, per-sequence KV
    bytes ``KV``, FLOPs per token ``f`` (default ``2N``) and peak ``F``; the two meet at
    ``b* = (W/BW) / (f/F − KV/BW)`` (infinite if KV traffic alone outruns compute). With no KV
    it is the ops:byte ratio × bytes/2: BF16 H100 → 989.4/3.35 = 295.

    >>> round(critical_batch(989.4e12, 3.35e12, 70e9, 2.0), 1)
    295.3
    """
    n = np.asarray(n_params, float)
    fpt = 2.0 * n if flops_per_token is None else np.asarray(flops_per_token, float)
    f = np.asarray(flops, float)
    bw = np.asarray(bandwidth_bytes_per_s, float)
    w = n * np.asarray(bytes_per_param, float)
    denom = fpt / f - np.asarray(kv_bytes_per_sequence, float) / bw
    safe = np.where(denom > 0, denom, 1.0)
    return scalar_or_array(np.where(denom > 0, (w / bw) / safe, np.inf))


def decode_tokens_per_s(
    flops: ArrayLike,
    bandwidth_bytes_per_s: ArrayLike,
    n_params: ArrayLike,
    batch: ArrayLike,
    bytes_per_param: ArrayLike = 2.0,
    kv_bytes_per_sequence: ArrayLike = 0.0,
    flops_per_token: ArrayLike | None = None,
    mfu: ArrayLike = 1.0,
    bandwidth_efficiency: ArrayLike = 1.0,
) -> FloatOrArray:
    """Decode throughput per chip [tokens/s] = ``b / max((W + b·KV)/(BW·η), b·f/(F·u))``.

    Independent of how many chips share the weights: each of ``m`` chips reads ``W/m`` and
    computes ``1/m`` of the step, and the replica emits ``b`` tokens per step.

    >>> # H100, 70B in BF16, batch 1: 3.35e12 / 140e9 = 23.9 tokens/s
    >>> round(decode_tokens_per_s(989.4e12, 3.35e12, 70e9, 1), 2)
    23.93
    """
    n = np.asarray(n_params, float)
    b = np.asarray(batch, float)
    if np.any(b <= 0):
        raise DesignError(f"batch={batch!r} must be > 0")
    fpt = 2.0 * n if flops_per_token is None else np.asarray(flops_per_token, float)
    bw = np.asarray(bandwidth_bytes_per_s, float) * np.asarray(bandwidth_efficiency, float)
    t_mem = (n * np.asarray(bytes_per_param, float) + b * np.asarray(kv_bytes_per_sequence)) / bw
    t_cmp = b * fpt / (np.asarray(flops, float) * np.asarray(mfu, float))
    return scalar_or_array(b / np.maximum(t_mem, t_cmp))


# ---- results -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingResult:
    """A dense-transformer training run on one accelerator type."""

    accelerator: str
    n_params: float
    n_tokens: float
    precision: str
    training_flops: float  # [FLOP]
    n_chips: float | None  # [chips]
    days: float | None  # wall-clock [days]
    utilisation: float  # achieved fraction of peak (MFU) [0-1]
    bound: str  # compute | memory | interconnect
    utilisation_by_bound: dict[str, float]  # each bound's ceiling on MFU [0-1]
    model_parallel: int  # chips holding one model replica [chips]
    global_batch_tokens: float  # [tokens/step]
    chip_hours: float | None  # [chip-h]
    capital_usd: float | None  # chips × price or unit cost [USD]
    energy_mwh: float | None  # IT energy of the run [MWh]
    feasible: bool = True
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["notes"] = list(self.notes)
        return d


@dataclass(frozen=True)
class ServingResult:
    """Serving a dense transformer on one accelerator type (per chip)."""

    accelerator: str
    n_params: float
    precision: str
    batch: FloatOrArray
    context: FloatOrArray
    prefill_tokens_per_s: FloatOrArray  # per chip [tokens/s]
    decode_tokens_per_s: FloatOrArray  # per chip [tokens/s]
    decode_bound: Any  # "compute" | "memory" (array of them for array inputs)
    critical_batch: FloatOrArray  # decode turns compute-bound above this [sequences]
    chips_per_replica: FloatOrArray  # chips to hold weights + KV cache [chips]
    usd_per_chip_hour: float  # capital amortised + electricity [USD/h]
    decode_tokens_per_usd: FloatOrArray  # [tokens/USD]
    prefill_tokens_per_usd: FloatOrArray  # [tokens/USD]
    decode_tokens_per_joule: FloatOrArray  # per joule of IT energy [tokens/J]
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k, v in d.items():
            if isinstance(v, np.ndarray):
                d[k] = v.tolist()
        d["notes"] = list(self.notes)
        return d


# ---- orchestrators -----------------------------------------------------------------------


def _peak(spec: ChipLike, precision: str) -> float:
    if precision not in BYTES_PER_PARAM:
        raise DesignError(
            f"precision={precision!r} is unknown; expected one of {', '.join(BYTES_PER_PARAM)}"
        )
    f = spec.flops(precision)
    if not f:
        raise DesignError(
            f"{spec.name} has no {precision.upper()} FLOP/s figure; choose another precision"
        )
    return float(f)


def _capital_usd(spec: ChipLike, capital_usd: float | None) -> float | None:
    if capital_usd is not None:
        return capital_usd
    return spec.price_usd if spec.price_usd is not None else spec.unit_cost_usd


def train_dense_transformer(
    spec: ChipLike,
    n_params: float,
    n_tokens: float,
    n_chips: float | None = None,
    days: float | None = None,
    *,
    mfu_cap: float = 0.4,
    precision: str = "bf16",
    global_batch_tokens: float = 2.0**24,
    microbatch_tokens: float = 4096.0,
    network_bytes_per_s: float = 50e9,
    model_parallel: int | None = None,
    train_bytes_per_param: float = 16.0,
    hbm_usable_fraction: float = 0.8,
    capital_usd: float | None = None,
) -> TrainingResult:
    """Time (given chips) or chips (given days) to train ``n_params`` on ``n_tokens``.

    Utilisation is ``mfu_cap × min(1, memory ceiling, interconnect ceiling)``:

    - compute: ``mfu_cap`` (kernel efficiency, default 0.4; Llama-3-405B reached 0.38-0.43);
    - memory: a matmul of ``microbatch_tokens`` rows on ``d_model``-wide weights has
      intensity ``I`` (:func:`matmul_intensity`); the ceiling is ``I / ridge``;
    - interconnect: data-parallel gradient all-reduce of ``2·(N/mp)·2 B·(dp−1)/dp`` per chip
      and step over ``network_bytes_per_s`` (400 Gb/s per chip by default), overlapped with
      the step's compute ``6·N·B/(n·F·mfu)``; the ceiling is compute time / comm time.

    ``mp`` (chips per replica) is the smallest that holds weights, gradients and Adam state
    (``train_bytes_per_param`` = 16 B) in ``hbm_usable_fraction`` of HBM.

    >>> from types import SimpleNamespace as NS
    >>> chip = NS(name="x", hbm_bandwidth_bytes_per_s=3.35e12, hbm_gb=80.0, kw_it_per_unit=1.0,
    ...           unit_cost_usd=None, price_usd=25e3, flops=lambda p="bf16": 1e15)
    >>> r = train_dense_transformer(chip, 1e9, 1e12, n_chips=1000)
    >>> r.bound, round(r.days, 3)   # 6e21 / (1000 × 1e15 × 0.4) s = 0.174 days
    ('compute', 0.174)
    """
    if (n_chips is None) == (days is None):
        raise DesignError("give exactly one of n_chips (to get days) or days (to get n_chips)")
    if n_params <= 0 or n_tokens <= 0:
        raise DesignError(f"n_params={n_params!r} and n_tokens={n_tokens!r} must be > 0")
    if not 0 < mfu_cap <= 1:
        raise DesignError(f"mfu_cap={mfu_cap!r} must be in (0, 1]")
    peak = _peak(spec, precision)
    total = float(training_flops(n_params, n_tokens))
    d_model, _ = transformer_shape(n_params)
    hbm_bytes = spec.hbm_gb * 2.0**30 * hbm_usable_fraction
    if hbm_bytes <= 0:
        raise DesignError(f"{spec.name} has no HBM to hold a model")
    mp_min = max(1, math.ceil(n_params * train_bytes_per_param / hbm_bytes))
    mp = max(mp_min, model_parallel or 1)
    notes: list[str] = []
    if model_parallel is not None and model_parallel < mp_min:
        notes.append(f"model_parallel={model_parallel} cannot hold the model; used {mp_min}")

    ridge = float(ridge_point(peak, spec.hbm_bandwidth_bytes_per_s))
    intensity = float(matmul_intensity(microbatch_tokens, d_model, BYTES_PER_PARAM[precision]))
    r_mem = min(1.0, intensity / ridge)
    step_flops = 6.0 * n_params * global_batch_tokens
    grad_bytes = 2.0 * (n_params / mp) * 2.0  # ring all-reduce of BF16 gradients

    def t_comm(n: float) -> float:
        dp = n / mp
        return grad_bytes * max(0.0, 1.0 - 1.0 / dp) / network_bytes_per_s if dp > 1 else 0.0

    def ceiling_ic(n: float) -> float:
        tc = t_comm(n)
        t_cmp = step_flops / (n * peak * mfu_cap * r_mem)
        return 1.0 if tc <= t_cmp else t_cmp / tc

    feasible = True
    if days is not None:
        if days <= 0:
            raise DesignError(f"days={days!r} must be > 0")
        need = total / (days * 86400.0)  # FLOP/s the run must sustain
        n = float(math.ceil(max(float(mp), need / (peak * mfu_cap * r_mem))))
        # Throughput min(n·F·m, 6NB / t_comm(n)) rises with n only while compute binds: past
        # that point more chips add all-reduce traffic without shortening the step. So if the
        # interconnect already binds at the chip count compute alone would need, no count works.
        if t_comm(n) > 0 and step_flops / t_comm(n) < need * (1 - 1e-12):
            feasible = False
            notes.append(
                "interconnect-bound: with this global batch and network, adding chips "
                "no longer shortens the run; raise global_batch_tokens or "
                "network_bytes_per_s, or allow more days"
            )
        n_chips = n if feasible else None
    if n_chips is not None and n_chips < mp:
        raise DesignError(
            f"n_chips={n_chips:g} cannot hold the model: it needs {mp} chips of "
            f"{spec.hbm_gb:g} GB for {n_params:.3g} parameters"
        )
    ceilings = {
        Bound.COMPUTE.value: mfu_cap,
        Bound.MEMORY.value: mfu_cap * r_mem,
        Bound.INTERCONNECT.value: mfu_cap * (ceiling_ic(n_chips) if n_chips else 0.0),
    }
    util = min(ceilings.values())
    bound = min(ceilings, key=lambda k: (ceilings[k], k != Bound.COMPUTE.value))
    if not feasible or n_chips is None:
        return TrainingResult(
            spec.name,
            n_params,
            n_tokens,
            precision,
            total,
            None,
            days,
            util,
            bound,
            ceilings,
            mp,
            global_batch_tokens,
            None,
            None,
            None,
            False,
            tuple(notes),
        )
    seconds = total / (n_chips * peak * util)
    cap = _capital_usd(spec, capital_usd)
    return TrainingResult(
        accelerator=spec.name,
        n_params=n_params,
        n_tokens=n_tokens,
        precision=precision,
        training_flops=total,
        n_chips=n_chips,
        days=seconds / 86400.0,
        utilisation=util,
        bound=bound,
        utilisation_by_bound=ceilings,
        model_parallel=mp,
        global_batch_tokens=global_batch_tokens,
        chip_hours=n_chips * seconds / 3600.0,
        capital_usd=None if cap is None else n_chips * cap,
        energy_mwh=n_chips * spec.kw_it_per_unit * seconds / 3600.0 / 1000.0,
        feasible=True,
        notes=tuple(notes),
    )


def serve_dense_transformer(
    spec: ChipLike,
    n_params: float,
    batch: ArrayLike,
    context: ArrayLike,
    precision: str = "fp8",
    *,
    mfu_prefill: float = 0.5,
    mfu_decode: float = 0.5,
    bandwidth_efficiency: float = 0.8,
    gqa_ratio: float = 8.0,
    kv_bytes_per_value: float = 1.0,
    hbm_usable_fraction: float = 0.9,
    life_years: float = 5.0,
    electricity_usd_per_kwh: float = 0.08,
    pue: float = 1.0,
    capital_usd: float | None = None,
) -> ServingResult:
    """Prefill and decode throughput per chip, the critical batch, tokens per $ and per joule.

    - prefill: compute-bound, ``F·mfu_prefill / (2N + 4·L·d·context/2)`` tokens/s;
    - decode: :func:`decode_tokens_per_s` with KV bytes ``batch × context × per-token KV``;
    - cost per chip-second: ``capital / (life × year) + kW_IT × PUE × $/kWh / 3600``;
      capital is the price for merchant parts, the bottom-up unit cost for own designs;
    - tokens per joule use the all-in IT power (``kw_it_per_unit``) × PUE.

    Defaults (assumptions): 50% of peak in prefill and decode kernels, 80% of HBM bandwidth,
    GQA with 8 query heads per KV head, FP8 KV cache, 5-year life, $0.08/kWh, PUE 1.

    >>> from types import SimpleNamespace as NS
    >>> chip = NS(name="x", hbm_bandwidth_bytes_per_s=3.35e12, hbm_gb=80.0, kw_it_per_unit=1.0,
    ...           unit_cost_usd=None, price_usd=25e3, flops=lambda p="bf16": 1979e12)
    >>> r = serve_dense_transformer(chip, 8e9, 1, 0)
    >>> round(r.decode_tokens_per_s)   # 3.35e12 × 0.8 / 8e9 B
    335
    """
    peak = _peak(spec, precision)
    bpp = BYTES_PER_PARAM[precision]
    b = np.asarray(batch, dtype=float)
    c = np.asarray(context, dtype=float)
    if np.any(b <= 0) or np.any(c < 0):
        raise DesignError(f"batch={batch!r} must be > 0 and context={context!r} ≥ 0")
    bw = spec.hbm_bandwidth_bytes_per_s
    if not bw > 0:
        raise DesignError(f"{spec.name} has no memory bandwidth")
    kv_seq = np.asarray(kv_bytes_per_token(n_params, gqa_ratio, kv_bytes_per_value)) * c
    fpt_decode = np.asarray(inference_flops_per_token(n_params, c))
    fpt_prefill = np.asarray(inference_flops_per_token(n_params, c / 2.0))
    prefill = peak * mfu_prefill / fpt_prefill
    decode = np.asarray(
        decode_tokens_per_s(
            peak, bw, n_params, b, bpp, kv_seq, fpt_decode, mfu_decode, bandwidth_efficiency
        )
    )
    t_mem = (n_params * bpp + b * kv_seq) / (bw * bandwidth_efficiency)
    t_cmp = b * fpt_decode / (peak * mfu_decode)
    bound = np.where(t_cmp >= t_mem, Bound.COMPUTE.value, Bound.MEMORY.value)
    crit = critical_batch(
        peak * mfu_decode, bw * bandwidth_efficiency, n_params, bpp, kv_seq, fpt_decode
    )
    hbm = spec.hbm_gb * 2.0**30 * hbm_usable_fraction
    if hbm <= 0:
        raise DesignError(f"{spec.name} has no HBM to hold a model")
    chips = np.ceil((n_params * bpp + b * kv_seq) / hbm)
    cap = _capital_usd(spec, capital_usd)
    notes: list[str] = []
    if cap is None:
        notes.append("no price or unit cost: tokens per USD count electricity only")
    kw = spec.kw_it_per_unit * pue
    usd_per_s = (cap or 0.0) / (life_years * SECONDS_PER_YEAR) + kw * electricity_usd_per_kwh / 3600
    return ServingResult(
        accelerator=spec.name,
        n_params=n_params,
        precision=precision,
        batch=scalar_or_array(b),
        context=scalar_or_array(c),
        prefill_tokens_per_s=scalar_or_array(prefill),
        decode_tokens_per_s=scalar_or_array(decode),
        decode_bound=str(bound) if bound.ndim == 0 else bound,
        critical_batch=crit,
        chips_per_replica=scalar_or_array(chips),
        usd_per_chip_hour=usd_per_s * 3600.0,
        decode_tokens_per_usd=scalar_or_array(decode / usd_per_s),
        prefill_tokens_per_usd=scalar_or_array(prefill / usd_per_s),
        decode_tokens_per_joule=scalar_or_array(decode / (kw * 1000.0)),
        notes=tuple(notes),
    )
