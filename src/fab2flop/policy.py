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
(input × region × period); :func:`policy_bottlenecks` reports its duals as the value of
one more percentage point of allowed share.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import xarray as xr
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from .dependence import CRITICAL_INPUTS, INPUT, input_carriers

if TYPE_CHECKING:
    from .bottlenecks import Bottleneck
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


def _weights(lp: LP, carriers: dict[str, float], side: np.ndarray) -> np.ndarray:
    """(P,) model units of the input per model unit of activity, from io of one side."""
    ds = lp.net.ds
    cpos = {str(c): i for i, c in enumerate(ds.indexes["carrier"])}
    s_c = lp.scaling.carrier
    w = np.zeros(ds.sizes["process"])
    for c, wc in carriers.items():
        j = cpos[c]
        w += wc * side[:, j] * lp.scaling.process / s_c[j]
    return w


def _row_terms(lp: LP) -> tuple[list[str], list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Terms of every (input, capped region, period) row: variable labels and two
    coefficient arrays, what the region makes and what the plan uses (model units), each
    (G, Rc, T, K); the row is ``made - share * use <= 0``."""
    net, ds, m = lp.net, lp.net.ds, lp.model
    pol = net.scenario.policy
    io = np.asarray(ds["io"].values, float)
    out_, inp = np.clip(io, 0, None), np.clip(-io, 0, None)
    regions = [str(r) for r in ds.indexes["region"]]
    act = m.variables["act"].labels.values  # (P,R,T)
    R, T = act.shape[1], act.shape[2]
    dep = m.variables["deploy"].labels.values if "deploy" in m.variables else None  # (A,R,T)
    acc_c = [str(c) for c in ds["acc_carrier"].values]
    groups = {g: cw for g, cw in input_carriers(net).items() if g in pol.inputs}
    capped = [r for r in pol.max_share_from if r in regions]
    rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for cw in groups.values():
        w_out, w_in = _weights(lp, cw, out_), _weights(lp, cw, inp)
        w_dep = np.array([cw.get(c, 0.0) for c in acc_c]) / net.periods.dt  # (A,)
        for rc in capped:
            j = regions.index(rc)
            parts: list[tuple[np.ndarray, Any, Any]] = [
                (act[:, j, :][w_out > 0], w_out[w_out > 0], 0.0)
            ]
            for r in range(R):
                parts.append((act[:, r, :][w_in > 0], 0.0, w_in[w_in > 0]))
                if dep is not None and (w_dep > 0).any():
                    parts.append((dep[:, r, :][w_dep > 0], 0.0, w_dep[w_dep > 0]))
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
        return np.stack(arr).reshape(len(groups), len(capped), T, K) if arr else np.zeros(0)

    return list(groups), capped, stack(0, -1), stack(1, 0.0), stack(2, 0.0)


def define_policy(lp: LP) -> None:
    """Add the ``policy-max-share`` rows (see the module docstring) for every capped region
    and critical input, in the periods the region makes some of it."""
    import linopy

    ds, m, pol = lp.net.ds, lp.model, lp.net.scenario.policy
    groups, capped, vv, c_made, c_use = _row_terms(lp)
    if not groups or not capped:
        return
    share = np.array([pol.max_share_from[r] for r in capped])[None, :, None, None]
    dims = (INPUT, "region", "period")
    coords = {INPUT: groups, "region": capped, "period": ds.indexes["period"]}
    expr = linopy.LinearExpression(
        xr.Dataset(
            {"coeffs": ((*dims, "_term"), c_made - share * c_use), "vars": ((*dims, "_term"), vv)},
            coords=coords,
        ),
        m,
    )
    makes = (c_made > 0).any(axis=3) & (share[..., 0] < 1.0)
    m.add_constraints(expr <= 0, name=FAMILY, mask=xr.DataArray(makes, coords=coords, dims=dims))


def policy_bottlenecks(lp: LP, usd: Callable[[float, int], float | None]) -> list[Bottleneck]:
    """Binding ``policy-max-share`` rows as bottlenecks: what one more unit of the input
    allowed from the region beyond its cap is worth (per natural unit a year, like every
    other capacity), and in the description what one more percentage point of share is
    worth at the plan's use that period (zero when the cap shuts the input out entirely)."""
    from .bottlenecks import Bottleneck, _worth
    from .dependence import INPUT_UNITS

    m, net = lp.model, lp.net
    if FAMILY not in m.constraints:
        return []
    con = m.constraints[FAMILY]
    dual = np.nan_to_num(con.dual.values)
    pol = net.scenario.policy
    minimise = net.scenario.objective.kind.value == "min_cost_for_path"
    groups, _, vars_, _, c_use = _row_terms(lp)
    x = np.zeros(int(m._xCounter))
    for name in m.variables:
        v = m.variables[name]
        lab = v.labels.values.ravel()
        ok = lab >= 0
        x[lab[ok]] = np.nan_to_num(v.solution.values.ravel())[ok]
    use_at = np.where(vars_ >= 0, c_use * x[np.clip(vars_, 0, None)], 0.0).sum(-1)
    scale = _group_scales(lp, groups)
    regions = list(con.dual.indexes["region"])
    periods = list(con.dual.indexes["period"])
    out = []
    for g, r, t in zip(*np.nonzero(np.abs(dual) > 1e-9), strict=True):
        s = float(pol.max_share_from[regions[r]])
        y = abs(dual[g, r, t])
        per_unit = y / scale[g]
        per_pp = y * 0.01 * float(use_at[g, r, t])
        unit = INPUT_UNITS[groups[g]].split("/")[0].rstrip("s") + "/year"
        worth = _worth(usd(per_unit, int(t)), per_unit, minimise, lp.scaling.compute)
        pp = _worth(usd(per_pp, int(t)), per_pp, minimise, lp.scaling.compute)
        name = groups[g].replace("_", " ")
        out.append(
            Bottleneck(
                FAMILY,
                groups[g],
                str(regions[r]),
                periods[t],
                per_unit,
                unit,
                usd(per_unit, int(t)),
                y * (s * float(use_at[g, r, t]) + 1.0),
                f"One more {unit} of {name} from {regions[r]} beyond its {s:.0%} cap in "
                f"{periods[t]} is {worth}"
                + (
                    f"; one more percentage point of share is {pp.removeprefix('worth ')}."
                    if per_pp > 0
                    else "; nothing else supplies it then, so raising the share alone buys nothing."
                ),
            )
        )
    return out


def _group_scales(lp: LP, groups: list[str]) -> list[float]:
    """Natural units of a group per model unit (its carriers share one scale)."""
    ds = lp.net.ds
    cpos = {str(c): i for i, c in enumerate(ds.indexes["carrier"])}
    cw = input_carriers(lp.net)
    return [float(lp.scaling.carrier[cpos[next(iter(cw[g]))]]) for g in groups]


__all__ = [
    "FAMILY",
    "PolicyConfig",
    "check_policy_regions",
    "define_policy",
    "policy_bottlenecks",
    "policy_hooks",
]
