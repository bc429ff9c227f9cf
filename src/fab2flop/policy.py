"""Policy constraints on where the plan's critical inputs come from.

``policy.max_share_from: {TW: 0.3}`` caps, in every period and for every critical input
(:data:`fab2flop.dependence.CRITICAL_INPUTS`: leading-edge wafers, HBM, CoWoS, accelerators
counted in H100e — merchant supply included, since merchant parts are made where their
vendor's supply is), what is made in the region at a share of what the plan *uses* of that
input in the same period::

    Σ_p w·out[p,g]·act[p,R,t]
        ≤ s_R · ( Σ_{p,r} w·in[p,g]·act[p,r,t] + Σ_{a,r} w·deploy[a,r,t] / Δt )

Use, not production, is the base: with production as the base the plan could dilute the
share by making units elsewhere and throwing them away. Units stored for later count
against the period they are made in. The constraint family is ``policy-max-share``
(input × region × period), registered like every other family
(:mod:`fab2flop.lp.registry`): its dual is the value of one more unit of the input allowed
from the region beyond its cap, and ``rhs_policy-max-share`` is the allowed amount
``s_R · use`` at the solution.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from .constants import INPUT, PERIOD, REGION
from .dependence import CRITICAL_INPUTS, INPUT_UNITS, input_carriers
from .lp.registry import registers

if TYPE_CHECKING:
    from .lp.model import LP, Hook
    from .scenario import Scenario

FAMILY = "policy-max-share"
Share = Annotated[float, Field(ge=0.0, le=1.0)]


class PolicyConfig(BaseModel):
    """Limits the plan sets itself on where its critical inputs are made."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    max_share_from: dict[str, Share] = Field(
        default_factory=dict,
        description="region -> largest share of each critical input (leading-edge wafers, "
        "HBM, CoWoS, accelerators in H100e) made there, of what the plan uses in the same "
        "period, e.g. {TW: 0.3} [1]",
    )
    inputs: list[str] = Field(
        default_factory=lambda: list(CRITICAL_INPUTS),
        description=f"critical inputs the caps apply to: any of {list(CRITICAL_INPUTS)}",
    )

    @field_validator("max_share_from", mode="before")
    @classmethod
    def _no_boolean_regions(cls, v: Any) -> Any:
        if isinstance(v, dict):
            for k in v:
                if isinstance(k, bool):
                    raise ValueError(
                        f"region key {k!r} is a boolean: YAML reads unquoted NO/YES/ON/OFF as "
                        'true/false; quote the region code, e.g. "NO": 0.3'
                    )
        return v

    @field_validator("inputs")
    @classmethod
    def _known_inputs(cls, v: list[str]) -> list[str]:
        bad = [x for x in v if x not in CRITICAL_INPUTS]
        if bad:
            raise ValueError(f"unknown inputs {bad}; expected some of {list(CRITICAL_INPUTS)}")
        return v


def check_policy_regions(policy: PolicyConfig, info: ValidationInfo) -> PolicyConfig:
    """Scenario-level check: every capped region is a region of the scenario."""
    regions = (info.data or {}).get("regions")
    if regions is None:  # regions failed validation: reported there
        return policy
    bad = [r for r in policy.max_share_from if r not in regions]
    if bad:
        raise ValueError(
            f"policy.max_share_from.{bad[0]}: unknown region {bad[0]!r}; expected one of the "
            f"scenario's regions {sorted(regions)}"
        )
    return policy


def policy_hooks(scenario: Scenario) -> tuple[Hook, ...]:
    """The LP hooks the scenario's policy needs (none without caps)."""
    pol = getattr(scenario, "policy", None)
    return (define_policy,) if pol is not None and pol.max_share_from else ()


def _group_scale(lp: LP, carriers: dict[str, float]) -> float:
    """Natural units of an input per model unit of its rows: its first carrier's scale."""
    cpos = {str(c): i for i, c in enumerate(lp.net.ds.indexes["carrier"])}
    return float(lp.scaling.carrier[cpos[next(iter(carriers))]])


def _weights(lp: LP, carriers: dict[str, float], side: np.ndarray, s_g: float) -> np.ndarray:
    """(P,) model units of the input (natural / ``s_g``) per model unit of activity, from
    the io of one side."""
    ds = lp.net.ds
    cpos = {str(c): i for i, c in enumerate(ds.indexes["carrier"])}
    w = np.zeros(ds.sizes["process"])
    for c, wc in carriers.items():
        w += wc * side[:, cpos[c]] * lp.scaling.process / s_g
    return w


def _row_terms(lp: LP) -> tuple[dict[str, float], np.ndarray, np.ndarray, np.ndarray]:
    """Terms of every (input, region, period) row: the inputs with their scales, variable
    labels and two coefficient arrays, what the region makes and what the plan uses (model
    units of the input), each (G, R, T, K); the row is ``made - share * use <= 0``."""
    net, ds, m = lp.net, lp.net.ds, lp.model
    pol = net.scenario.policy
    io = np.asarray(ds["io"].values, float)
    out_, inp = np.clip(io, 0, None), np.clip(-io, 0, None)
    act = m.variables["act"].labels  # (P,R,T)
    R, T = act.shape[1], act.shape[2]
    dep = m.variables["deploy"].labels if "deploy" in m.variables else None  # (A,R,T)
    acc_c = [str(c) for c in ds["acc_carrier"].values]
    groups = {g: cw for g, cw in input_carriers(net).items() if g in pol.inputs}
    scales = {g: _group_scale(lp, cw) for g, cw in groups.items()}
    rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for g, cw in groups.items():
        w_out, w_in = _weights(lp, cw, out_, scales[g]), _weights(lp, cw, inp, scales[g])
        # deploy is in model units (natural / scale_accelerator), an amount in the period
        w_dep = np.array(
            [cw.get(c, 0.0) * s for c, s in zip(acc_c, lp.scaling.accelerator, strict=True)]
        ) / (net.periods.dt * scales[g])  # (A,)
        use_parts: list[tuple[np.ndarray, np.ndarray]] = []
        for r in range(R):
            use_parts.append((act[:, r, :][w_in > 0], w_in[w_in > 0]))
            if dep is not None and (w_dep > 0).any():
                use_parts.append((dep[:, r, :][w_dep > 0], w_dep[w_dep > 0]))
        for j in range(R):
            parts: list[tuple[np.ndarray, Any, Any]] = [
                (act[:, j, :][w_out > 0], w_out[w_out > 0], 0.0)
            ]
            parts += [(lab, 0.0, c) for lab, c in use_parts]
            v = np.concatenate([p[0] for p in parts])  # (K,T)
            made = np.concatenate([np.broadcast_to(p[1], len(p[0])) for p in parts])
            use = np.concatenate([np.broadcast_to(p[2], len(p[0])) for p in parts])
            ok = v >= 0
            rows.append(
                (v.T, np.where(ok, made[:, None], 0.0).T, np.where(ok, use[:, None], 0.0).T)
            )
    K = max([x[0].shape[1] for x in rows] or [1])

    def stack(i: int, fill: float) -> np.ndarray:
        arr = [np.pad(x[i], [(0, 0), (0, K - x[i].shape[1])], constant_values=fill) for x in rows]
        return np.stack(arr).reshape(len(groups), R, T, K) if arr else np.zeros(0)

    return scales, stack(0, -1), stack(1, 0.0), stack(2, 0.0)


def _expr(lp: LP, coeffs: np.ndarray, labels: np.ndarray, coords: dict) -> Any:
    from .lp.core import expression

    return expression(labels, coeffs, tuple(coords), coords)


@registers(FAMILY)
def define_policy(lp: LP) -> None:
    """Add the ``policy-max-share`` rows (see the module docstring) for every capped region
    and critical input, in the periods the region makes some of it. The row's limit,
    ``share * use``, moves with the plan: it is registered in ``lp.limits``; the inputs'
    scales, units and names go to ``lp.coords`` for the solution reader."""
    ds, pol = lp.net.ds, lp.net.scenario.policy
    scales, vv, c_made, c_use = _row_terms(lp)
    regions = [str(r) for r in ds.indexes[REGION]]
    if not scales or not any(r in pol.max_share_from for r in regions):
        return
    groups = list(scales)
    share = np.array([pol.max_share_from.get(r, 1.0) for r in regions])[None, :, None, None]
    coords = {INPUT: groups, REGION: ds.indexes[REGION], PERIOD: ds.indexes[PERIOD]}
    made = _expr(lp, c_made, vv, coords)
    limit = _expr(lp, share * c_use, vv, coords)
    rows = (c_made > 0).any(axis=3) & (share[..., 0] < 1.0)
    mask = xr.DataArray(rows, coords=coords, dims=tuple(coords))
    lp.model.add_constraints(made - limit <= 0, name=FAMILY, mask=mask)
    lp.limits[FAMILY] = limit
    lp.coords[f"scale_{INPUT}"] = xr.DataArray([scales[g] for g in groups], {INPUT: groups})
    lp.coords[f"{INPUT}_unit"] = xr.DataArray([INPUT_UNITS[g] for g in groups], {INPUT: groups})
    lp.coords[f"{INPUT}_label"] = xr.DataArray(
        [g.replace("_", " ") for g in groups], {INPUT: groups}
    )


__all__ = [
    "FAMILY",
    "PolicyConfig",
    "check_policy_regions",
    "define_policy",
    "policy_hooks",
]
