"""What each family of LP variables and constraints means, said once.

Every ``define_*`` function of :mod:`fab2flop.lp.model` registers the families it creates
(``@registers("market-cap", ...)``). The solution reader turns model values into natural
units with a family's ``scale``; the bottleneck report takes its words, grouping and
"binds first" from ``group`` and ``phrase``; a saved run carries the registry as JSON.
Nothing here names a process, a carrier or a region: per-item units and names are read
from the network arrays a family points to.

``scale`` is a product of factors, each the name of a quantity the reader resolves from the
network and the LP's scaling (``/`` in front divides):

``process``, ``carrier``, ``accelerator``  model-to-natural scale of that item (per item)
``accelerator_mean``  mean accelerator scale (export approvals count natural units in it)
``money``, ``compute``  model money (USD) and compute (H100e) units
``availability``  usable share of capacity (process, region, period)
``dt``  period length in years
any other name ``x``  an array ``scale_x`` that the code defining the family stored in
    ``lp.coords`` (kept on the solution Dataset, so a saved run resolves it too), e.g.
    ``input`` for the policy rows, whose items are critical inputs rather than carriers

For a *variable* the factors turn a model value into natural units. For a *constraint* they
are d(model right-hand side) / d(natural right-hand side): a dual times them is the
objective per natural unit of what the constraint limits.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from ..constants import ACCELERATOR, CARRIER, INPUT, PERIOD, PROCESS, REGION


class Group(StrEnum):
    """What kind of thing a family is (the report groups and orders by it)."""

    LIMIT = "limit"  # an external limit a strategist can negotiate: report first
    BALANCE = "balance"  # a carrier's supply and use
    MONEY = "money"  # money arriving: its dual prices everything else in USD
    TARGET = "target"  # a required compute path
    STOCK = "stock"  # bookkeeping (stocks, ramps): duals stored, not reported
    DECISION = "decision"  # a variable


class Basis(StrEnum):
    """How a family's natural unit relates to time (said in the report for short periods)."""

    RATE = "rate"  # a rate per year held through the period (capacity, approvals per year)
    AMOUNT = "amount"  # an amount within the period (wafers made, money arriving)
    STOCK = "stock"  # a level at the period (installed units, capacity)


@dataclass(frozen=True)
class Family:
    """One family of variables or constraints.

    ``unit`` is the natural unit of one item; ``{array}`` in it is replaced per item by the
    network array of that name (e.g. ``{activity_unit}`` over ``process``). ``what`` names
    the item in the report the same way (``{process_label}``, ``{carrier}``).
    """

    name: str  # the name in the LP
    kind: str  # "variable" | "constraint"
    dims: tuple[str, ...]  # dimensions of its items
    group: Group
    unit: str
    scale: tuple[str, ...] = ()
    basis: Basis = Basis.AMOUNT
    natural_name: str = ""  # name in the solution Dataset (default: name / dual_<name>)
    what: str = ""  # the item in words
    phrase: str = ""  # report sentence; see fab2flop.bottlenecks for its placeholders
    description: str = ""

    @property
    def solution_name(self) -> str:
        if self.natural_name:
            return self.natural_name
        return self.name if self.kind == "variable" else f"dual_{self.name}"

    @property
    def item_dim(self) -> str | None:
        """The dimension that names the item (process, carrier, accelerator), if any."""
        for d in self.dims:
            if d not in (REGION, PERIOD):
                return d
        return None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["dims"] = list(self.dims)
        d["scale"] = list(self.scale)
        d["group"] = self.group.value
        d["basis"] = self.basis.value
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Family:
        d = dict(d)
        d["dims"] = tuple(d["dims"])
        d["scale"] = tuple(d.get("scale", ()))
        d["group"] = Group(d["group"])
        d["basis"] = Basis(d.get("basis", Basis.AMOUNT))
        return cls(**d)


@dataclass
class Registry:
    """The families a built LP holds, in the order they were defined."""

    families: dict[tuple[str, str], Family] = field(default_factory=dict)

    def add(self, fam: Family) -> None:
        self.families[(fam.kind, fam.name)] = fam

    def __contains__(self, name: object) -> bool:
        return ("constraint", name) in self.families

    def __getitem__(self, name: str) -> Family:
        """The constraint family ``name``."""
        return self.families[("constraint", name)]

    def __iter__(self) -> Iterator[Family]:
        return iter(self.families.values())

    def __len__(self) -> int:
        return len(self.families)

    def constraints(self, *groups: Group) -> list[Family]:
        return [
            f
            for f in self.families.values()
            if f.kind == "constraint" and (not groups or f.group in groups)
        ]

    def variables(self) -> list[Family]:
        return [f for f in self.families.values() if f.kind == "variable"]

    def money(self) -> Family | None:
        return next(iter(self.constraints(Group.MONEY)), None)

    def to_list(self) -> list[dict[str, Any]]:
        return [f.to_dict() for f in self.families.values()]

    def to_json(self) -> str:
        return json.dumps(self.to_list())

    @classmethod
    def from_list(cls, items: Iterable[dict[str, Any]]) -> Registry:
        reg = cls()
        for d in items:
            reg.add(Family.from_dict(d))
        return reg

    @classmethod
    def from_json(cls, text: str) -> Registry:
        return cls.from_list(json.loads(text))


PRT = (PROCESS, REGION, PERIOD)
ART = (ACCELERATOR, REGION, PERIOD)
_V = "variable"
_C = "constraint"
_ONE_MORE = "One more {unit} of {what} ({region}) {when} is {worth}."

_ALL: tuple[Family, ...] = (
    # ---- variables: model value x scale = natural units
    Family("new", _V, PRT, Group.DECISION, "{activity_unit}", ("process",), Basis.RATE,
           "new_capacity", description="capacity opening in the period"),
    Family("cap", _V, PRT, Group.DECISION, "{activity_unit}", ("process",), Basis.STOCK,
           "capacity", description="capacity built by the plan standing in the period"),
    Family("act", _V, PRT, Group.DECISION, "{activity_unit}", ("process",), Basis.RATE,
           "activity", description="activity, a rate per year through the period"),
    Family("inv", _V, (CARRIER, PERIOD), Group.DECISION, "{carrier_unit}", ("carrier",),
           Basis.STOCK, "inventory", description="carried to the next period"),
    Family("deploy", _V, ART, Group.DECISION, "units", ("accelerator",), Basis.AMOUNT,
           "deployed", description="accelerators installed in the period"),
    Family("inst", _V, ART, Group.DECISION, "units", ("accelerator",), Basis.STOCK,
           "installed", description="installed accelerator fleet"),
    Family("cash", _V, (PERIOD,), Group.DECISION, "USD", ("money",), Basis.STOCK,
           "cash_usd", description="money carried to the next period"),
    # ---- constraints: dual x scale = objective per natural unit of the right-hand side
    Family("capacity-stock", _C, PRT, Group.STOCK, "{activity_unit}", ("/process",),
           Basis.STOCK, description="capacity = last period's + new - retired"),
    Family("capacity-max", _C, PRT, Group.LIMIT, "{activity_unit}", ("/process",),
           Basis.RATE, what="the cap on {process_label}", phrase=_ONE_MORE,
           description="capacity of a process within its maximum"),
    Family("activity-ramp", _C, PRT, Group.STOCK, "{activity_unit}", ("/process",),
           Basis.RATE, description="activity within ripe, available capacity"),
    Family("market-cap", _C, PRT, Group.LIMIT, "{activity_unit}",
           ("availability", "/process"), Basis.RATE, what="{process_label}",
           phrase=_ONE_MORE,
           description="activity within a supply the plan does not build (markets, grid)"),
    Family("balance", _C, (CARRIER, PERIOD), Group.BALANCE, "{carrier_unit}",
           ("/carrier",), Basis.AMOUNT, what="{carrier}",
           phrase="One more {unit} of {what}{in_region} {when} is {worth}.",
           description="a worldwide carrier: made + carried in >= used + carried out"),
    Family("balance-regional", _C, (CARRIER, REGION, PERIOD), Group.BALANCE,
           "{carrier_unit}", ("/carrier",), Basis.AMOUNT, what="{carrier}",
           phrase="One more {unit} of {what}{in_region} {when} is {worth}.",
           description="a regional carrier: made >= used in each region"),
    Family("fleet-stock", _C, ART, Group.STOCK, "units", ("/accelerator",), Basis.STOCK,
           description="installed = last period's + deployed - retired"),
    Family("export-cap", _C, (REGION, PERIOD), Group.LIMIT, "accelerator/year approved",
           ("dt", "/accelerator_mean"), Basis.RATE, what="export approval",
           phrase="Approval for one more accelerator a year in {region} {when} is {worth}.",
           description="accelerators deployed within export approvals per year"),
    Family("cash", _C, (PERIOD,), Group.MONEY, "USD", ("/money",), Basis.AMOUNT,
           what="money",
           phrase="Money binds {when}: one more $1B arriving then buys "
           "{thousand_per_billion} thousand discounted H100e-years.",
           description="spend within money arriving (and cash carried)"),
    Family("compute-path", _C, (PERIOD,), Group.TARGET, "H100e", ("/compute",),
           Basis.STOCK, what="compute target",
           phrase="Each H100-equivalent required {when} costs {cost} at the margin "
           "(discounted).",
           description="installed compute at least the required path"),
    Family("design-ramp", _C, (ACCELERATOR, PERIOD), Group.LIMIT, "unit/year",
           ("/accelerator",), Basis.RATE, what="{accelerator}",
           phrase="One more {unit} of {what} made in its ramp-up year {when} is {worth}.",
           description="a new part's output in its first years within a share of its "
           "mature output (accelerators.ramp; lp/ramp.py)"),
    Family("fleet-ramp", _C, (ACCELERATOR, PERIOD), Group.LIMIT, "unit",
           ("/accelerator",), Basis.AMOUNT, what="{accelerator}",
           phrase="One more {unit} of {what} deployed in its ramp-up year {when} is {worth}.",
           description="a new part's deployments in its first years within a share of its "
           "deployments in its mature year (accelerators.ramp; lp/ramp.py)"),
    Family("policy-max-share", _C, (INPUT, REGION, PERIOD), Group.LIMIT, "{input_unit}",
           ("/input",), Basis.RATE, what="{input_label}",
           phrase="One more {unit} of {what} from {region} beyond its cap {when} is {worth}.",
           description="a critical input made in a region within a share of what the plan "
           "uses (policy.max_share_from); its limit moves with the plan"),
)  # fmt: skip

VARIABLES: dict[str, Family] = {f.name: f for f in _ALL if f.kind == _V}
CONSTRAINTS: dict[str, Family] = {f.name: f for f in _ALL if f.kind == _C}


def registers(*names: str, kind: str = _C) -> Callable:
    """Decorator of a ``define_*`` function: after it ran, the families ``names`` (of
    ``kind`` "constraint" or "variable") that it created in the model are added to
    ``lp.registry``; a family the function did not create this time is skipped."""
    table = CONSTRAINTS if kind == _C else VARIABLES
    unknown = [n for n in names if n not in table]
    if unknown:
        raise KeyError(f"registers: unknown {kind} families {unknown}; add them to _ALL")

    def deco(f: Callable) -> Callable:
        @functools.wraps(f)
        def wrapper(lp: Any, *args: Any, **kwargs: Any) -> Any:
            out = f(lp, *args, **kwargs)
            m = lp.model
            made = m.variables if kind == _V else m.constraints
            for n in names:
                if n in made:
                    lp.registry.add(table[n])
            return out

        wrapper.families = names  # type: ignore[attr-defined]
        return wrapper

    return deco


__all__ = ["Basis", "CONSTRAINTS", "VARIABLES", "Family", "Group", "Registry", "registers"]
