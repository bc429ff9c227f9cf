"""Systems bought with each accelerator, priced bottom-up per system class (``systems.*``).

A unit's system is its share of the server (host CPUs and memory), the scale-up and
scale-out networks, storage, and the rack's power distribution and cooling:

    system_cost_usd = host + scale_up + scale_out + storage
                      + rack_power_cooling_usd_per_kw_it × kW of IT per unit

None of the terms reads the accelerator's price or cost: a cheaper own chip does not get a
cheaper server. The alternative of earlier releases (``systems.method: fraction``) charges
``datacenters.fleet.system_capex_fraction`` × the accelerator's cost instead.

>>> from fab2flop.catalog import load_catalog
>>> cat = load_catalog()
>>> round(system_cost_usd("H100", "merchant", 2023, 1.281, cat).total_usd)
12469
"""

from __future__ import annotations

from dataclasses import dataclass

from ..catalog import Catalog
from ..errors import CatalogError

SYSTEMS = "systems"
CLASSES = ("hgx_8gpu", "rack_scale")
PER_UNIT_ITEMS = ("host", "scale_up", "scale_out")  # ``<class>.<item>_usd_per_accelerator``
RACK_SCALE_FROM_YEAR = 2025  # merchant parts first sold from this year sit in 72-GPU racks


@dataclass(frozen=True)
class SystemCost:
    """What the system of one accelerator costs, by item [USD per accelerator]."""

    system_class: str
    host: float
    scale_up: float
    scale_out: float
    storage: float
    rack_power_cooling: float

    @property
    def total_usd(self) -> float:
        return self.host + self.scale_up + self.scale_out + self.storage + self.rack_power_cooling

    def to_dict(self) -> dict[str, float | str]:
        return {
            "system_class": self.system_class,
            "host_usd": self.host,
            "scale_up_usd": self.scale_up,
            "scale_out_usd": self.scale_out,
            "storage_usd": self.storage,
            "rack_power_cooling_usd": self.rack_power_cooling,
            "total_usd": self.total_usd,
        }


def system_class(name: str, kind: str, available_from: int | None, cat: Catalog) -> str:
    """The class of ``name``'s system: ``systems.assign.<name>``, else own designs and
    merchant parts from 2025 on in 72-GPU racks (``rack_scale``), earlier ones ``hgx_8gpu``."""
    rid = f"{SYSTEMS}.assign.{name}"
    if rid in cat:
        cls = str(cat.value(rid))
        if cls not in CLASSES:
            raise CatalogError(f"{rid}={cls!r} is not a system class; expected one of {CLASSES}")
        return cls
    if kind != "merchant" or (available_from or RACK_SCALE_FROM_YEAR) >= RACK_SCALE_FROM_YEAR:
        return "rack_scale"
    return "hgx_8gpu"


def system_cost_usd(
    name: str, kind: str, available_from: int | None, kw_it_per_unit: float, cat: Catalog
) -> SystemCost:
    """Bottom-up system cost of one accelerator ``name`` drawing ``kw_it_per_unit`` kW of IT.

    H100 (hgx_8gpu, 1.281 kW): 4,001 + 0 + 6,613 + 1,147 + 553 × 1.281 = 12,469.
    """
    if kw_it_per_unit < 0:
        raise CatalogError(f"kw_it_per_unit={kw_it_per_unit!r} must be ≥ 0 (kW of IT per unit)")
    cls = system_class(name, kind, available_from, cat)
    per = {i: cat.number(f"{SYSTEMS}.{cls}.{i}_usd_per_accelerator") for i in PER_UNIT_ITEMS}
    return SystemCost(
        system_class=cls,
        host=per["host"],
        scale_up=per["scale_up"],
        scale_out=per["scale_out"],
        storage=cat.number(f"{SYSTEMS}.storage_usd_per_accelerator"),
        rack_power_cooling=cat.number(f"{SYSTEMS}.rack_power_cooling_usd_per_kw_it")
        * kw_it_per_unit,
    )


def deploy_cost_usd(
    name: str,
    kind: str,
    available_from: int | None,
    kw_it_per_unit: float,
    unit_cost_usd: float,
    cat: Catalog,
) -> float:
    """What the plan pays for the systems of one deployed unit [USD]: bottom-up by default;
    ``systems.method: fraction`` gives the old ``system_capex_fraction × unit cost``."""
    method = str(cat.value(f"{SYSTEMS}.method", "bottom_up"))
    if method == "fraction":
        return unit_cost_usd * cat.number("datacenters.fleet.system_capex_fraction")
    if method != "bottom_up":
        raise CatalogError(f"systems.method={method!r}; expected 'bottom_up' or 'fraction'")
    return system_cost_usd(name, kind, available_from, kw_it_per_unit, cat).total_usd
