"""The accelerator model: from a chip design to its cost, performance and supply-chain needs.

One orchestrator, :func:`evaluate`, fixes the order of the steps; each step is a pure
function of :mod:`.chip`, :mod:`.memory` and :mod:`.packaging`:

1. silicon — gross dies per wafer, yield (with harvesting of spare units), good dies and
   die cost for the compute dies and any I/O dies (:func:`.chip.estimate_die`);
2. memory — HBM bandwidth and capacity from stacks × bus width × pin rate;
3. packaging — interposer area from dies and HBM sites, packages per CoWoS-class wafer,
   packaging yield;
4. cost — a bill of materials per good packaged unit (logic dies, I/O dies, HBM, packaging,
   substrate/test/assembly, packaging-yield losses, NRE amortised over the volume);
5. performance and power — peak FLOP/s from units × FLOP/clock × clock (or the published
   totals), TDP and all-in IT kW per unit;
6. supply-chain coefficients for the optimiser — wafers of each node, HBM stacks and
   packaging wafers consumed per good unit.

>>> from fab2flop.catalog import load_catalog
>>> spec = evaluate(design_from_catalog("H100", load_catalog()))
>>> round(spec.flops_bf16_dense / 1e12, 1)     # 132 SMs x 4096 FLOP/clk x 1.83 GHz
989.4
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..catalog import Catalog, load_catalog
from ..errors import CatalogError, DesignError
from .chip import DieEstimate, estimate_die
from .memory import HBMGeneration, hbm_bandwidth_bytes_per_s, load_hbm_generation
from .packaging import (
    PackagingParams,
    interposer_area_mm2,
    load_packaging,
    max_interposer_reticles,
    packages_per_wafer,
)

Kind = Literal["merchant", "custom", "comparison"]
Precision = Literal["bf16", "fp8", "fp4"]
PRECISIONS: tuple[str, ...] = ("bf16", "fp8", "fp4")
NODE_KEYS = ("wafer_price_usd", "defect_density_per_cm2", "first_volume_year")

# catalog key (accelerators.<name>.<key>) -> Design field, for design_from_catalog
_CATALOG_FIELDS = (
    "kind",
    "vendor",
    "node",
    "compute_dies",
    "die_area_mm2",
    "compute_units",
    "compute_units_enabled",
    "compute_unit_area_mm2",
    "clock_ghz",
    "flop_per_clock_per_unit_bf16",
    "flop_per_clock_per_unit_fp8",
    "flop_per_clock_per_unit_fp4",
    "flops_bf16_dense",
    "flops_fp8_dense",
    "flops_fp4_dense",
    "hbm_generation",
    "hbm_stacks",
    "hbm_stacks_mounted",
    "hbm_gb",
    "hbm_pin_rate_gbps",
    "tdp_w",
    "packaging",
    "interposer_area_mm2",
    "price_usd",
    "nre_usd",
    "volume_units",
    "available_from",
    "available_until",
    "yield_model",
)


class IODie(BaseModel):
    """Dies of a second kind on the package (I/O, cache, SerDes), not harvested.

    Accepts a ``(node, area_mm2, count)`` triple as well as a mapping.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    node: str = Field(description="logic node of the die, e.g. 'N6'")
    area_mm2: float = Field(gt=0, description="area of one die [mm²]")
    count: int = Field(ge=1, description="dies of this kind per package [dies]")

    @model_validator(mode="before")
    @classmethod
    def _from_triple(cls, v: Any) -> Any:
        if isinstance(v, list | tuple):
            if len(v) != 3:
                raise ValueError(f"expected (node, area_mm2, count), got {v!r}")
            return {"node": v[0], "area_mm2": v[1], "count": v[2]}
        return v


class Design(BaseModel):
    """An accelerator design: what to build (or what a vendor sells), in physical terms.

    FLOP/s come from ``compute_units_enabled × flop_per_clock_per_unit_<prec> × clock_ghz``
    where those are given, else from the published ``flops_<prec>_dense``, else (BF16 only,
    for ad-hoc designs) from a per-node compute density × die area × clock.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field("design", min_length=1, description="label of the design")
    kind: Kind = Field("custom", description="merchant (bought), custom (built), comparison")
    vendor: str | None = Field(None, description="designer or seller")
    node: str | None = Field(None, description="logic node of the compute dies, e.g. 'N3'")
    compute_dies: int = Field(1, ge=1, description="compute dies per package [dies]")
    die_area_mm2: float | None = Field(None, gt=0, description="area of one compute die [mm²]")
    compute_units: int | None = Field(
        None, ge=1, description="compute units per package, physical (SMs, CUs) [units]"
    )
    compute_units_enabled: int | None = Field(
        None, ge=1, description="compute units enabled per package [units]"
    )
    compute_unit_area_mm2: float | None = Field(
        None, gt=0, description="area of one compute unit [mm²] (enables harvesting)"
    )
    clock_ghz: float | None = Field(None, gt=0, description="clock for peak FLOP/s [GHz]")
    flop_per_clock_per_unit_bf16: float | None = Field(
        None, gt=0, description="dense BF16 FLOP per clock per unit [FLOP/clock]"
    )
    flop_per_clock_per_unit_fp8: float | None = Field(
        None, gt=0, description="dense FP8 FLOP per clock per unit [FLOP/clock]"
    )
    flop_per_clock_per_unit_fp4: float | None = Field(
        None, gt=0, description="dense FP4 FLOP per clock per unit [FLOP/clock]"
    )
    flops_bf16_dense: float | None = Field(None, gt=0, description="published BF16 [FLOP/s]")
    flops_fp8_dense: float | None = Field(None, gt=0, description="published FP8 [FLOP/s]")
    flops_fp4_dense: float | None = Field(None, gt=0, description="published FP4 [FLOP/s]")
    hbm_generation: str | None = Field(None, description="e.g. 'hbm3e' (memory.<gen>)")
    hbm_stacks: int = Field(0, ge=0, description="active HBM stacks [stacks]")
    hbm_stacks_mounted: int | None = Field(
        None, ge=0, description="stacks bought and mounted, ≥ active (H100: 6) [stacks]"
    )
    hbm_gb: float | None = Field(
        None, ge=0, description="HBM capacity [GB]; default stacks × gb_per_stack"
    )
    hbm_pin_rate_gbps: float | None = Field(
        None, gt=0, description="per-pin data rate [Gb/s]; default the generation's"
    )
    tdp_w: float | None = Field(
        None,
        gt=0,
        description="thermal design power of the package [W]; default estimated from the "
        "BF16 FLOP/s and the node's W per TFLOP/s (accelerators.defaults)",
    )
    kw_it_per_unit: float | None = Field(
        None, gt=0, description="all-in IT power per unit [kW]; default TDP + host share"
    )
    packaging: Literal["cowos_s", "cowos_l", "auto"] = Field(
        "auto", description="interposer technology; auto = CoWoS-S if it fits, else CoWoS-L"
    )
    interposer_area_mm2: float | None = Field(
        None, gt=0, description="published interposer area [mm²]; default from dies + stacks"
    )
    io_dies: tuple[IODie, ...] = Field((), description="I/O dies: (node, area_mm2, count)")
    stacked_on_io: bool = Field(
        False, description="compute dies are 3D-stacked on the I/O dies (SoIC)"
    )
    packaging_published: bool = Field(
        False,
        description="the part ships on its `packaging` (a catalog merchant part as the "
        "catalog describes it): an interposer the model estimates above that package's limit "
        "is taken at the limit, with a note, instead of refused",
    )
    price_usd: float | None = Field(None, ge=0, description="merchant price per unit [USD]")
    nre_usd: float = Field(0.0, ge=0, description="design cost (NRE) [USD]")
    volume_units: float | None = Field(
        None, gt=0, description="units the NRE is amortised over [units]"
    )
    yield_model: Literal["poisson", "murphy", "negative_binomial"] = Field(
        "negative_binomial", description="die yield model"
    )
    yield_cluster_alpha: float | None = Field(
        None, gt=0, description="negative-binomial clustering α; default the catalog's"
    )
    defect_density_per_cm2: float | None = Field(
        None, ge=0, description="override of the node's defect density [defects/cm²]"
    )
    available_from: int | None = Field(
        None, ge=1990, le=2100, description="first year of volume [year]"
    )
    available_until: int | None = Field(
        None, ge=1990, le=2100, description="last year it is bought or built [year]"
    )
    extrapolated: bool = Field(
        False, description="a generation extrapolated on the roadmap trends (fab2flop.roadmap)"
    )
    trend: str | None = Field(None, description="what an extrapolated part was derived from")

    @model_validator(mode="after")
    def _consistent(self) -> Design:
        u, e = self.compute_units, self.compute_units_enabled
        if u is not None and e is not None and e > u:
            raise ValueError(
                f"compute_units_enabled={e} exceeds compute_units={u}; expected enabled ≤ physical"
            )
        if u is not None and u % self.compute_dies:
            raise ValueError(
                f"compute_units={u} does not split evenly over compute_dies={self.compute_dies}"
            )
        if self.hbm_stacks_mounted is not None and self.hbm_stacks_mounted < self.hbm_stacks:
            raise ValueError(
                f"hbm_stacks_mounted={self.hbm_stacks_mounted} is below hbm_stacks="
                f"{self.hbm_stacks}; expected mounted ≥ active"
            )
        if self.hbm_stacks > 0 and not self.hbm_generation:
            raise ValueError(f"hbm_stacks={self.hbm_stacks} needs an hbm_generation")
        if self.stacked_on_io and not self.io_dies:
            raise ValueError("stacked_on_io=True needs io_dies to stack on")
        if self.packaging_published and self.packaging == "auto":
            raise ValueError(
                "packaging_published=True needs the packaging it ships on; expected "
                "packaging 'cowos_s' or 'cowos_l', not 'auto'"
            )
        a, b = self.available_from, self.available_until
        if a is not None and b is not None and b < a:
            raise ValueError(f"available_until={b} is before available_from={a}")
        return self


@dataclass(frozen=True)
class AcceleratorSpec:
    """What a design is and what it takes, per good packaged unit, in natural units.

    Fields that cannot be known (silicon of a part whose die area is unpublished) are None.
    """

    name: str
    kind: str
    vendor: str | None
    node: str | None
    packaging: str
    available_from: int | None
    available_until: int | None
    # performance
    flops_bf16_dense: float | None  # [FLOP/s]
    flops_fp8_dense: float | None  # [FLOP/s]
    flops_fp4_dense: float | None  # [FLOP/s]
    flops_source: str  # units | published | density_estimate | none
    compute_units_enabled: int | None
    clock_ghz: float | None  # [GHz]
    # memory
    hbm_generation: str | None
    hbm_stacks: int  # active [stacks]
    hbm_stacks_mounted: int  # bought and mounted [stacks]
    hbm_gb: float  # [GB]
    hbm_pin_rate_gbps: float | None  # [Gb/s]
    hbm_bandwidth_bytes_per_s: float  # [B/s]
    # power
    tdp_w: float  # [W]
    kw_it_per_unit: float  # all-in IT power per unit in a data center [kW]
    # silicon
    compute_dies: int
    die_area_mm2: float | None  # per compute die [mm²]
    defect_density_per_cm2: float | None  # [1/cm²]
    yield_model: str
    gross_dies_per_wafer: float | None  # [dies/wafer]
    die_yield: float | None  # with harvesting [0-1]
    die_yield_without_harvesting: float | None  # [0-1]
    good_dies_per_wafer: float | None  # expected [dies/wafer]
    die_cost_usd: float | None  # per good compute die [USD]
    io_dies: tuple[dict[str, Any], ...]
    # packaging
    interposer_area_mm2: float | None  # [mm²]
    interposer_reticles: float | None  # [reticles of 858 mm²]
    packages_per_packaging_wafer: float | None  # [packages/wafer]
    packaging_yield: float  # [0-1]
    # supply chain (per good packaged unit)
    wafers_per_unit: dict[str, float]  # logic wafers by node [wafers/unit]
    hbm_stacks_per_unit: float  # reference stacks of the generation [stacks/unit]
    packaging_wafers_per_unit: float | None  # [wafers/unit]
    # cost (per good packaged unit)
    assembly_cost_usd: float | None  # substrate, test, assembly, SoIC [USD]
    nre_usd: float  # [USD]
    volume_units: float | None  # [units]
    unit_cost_usd: float | None  # full bottom-up cost incl. NRE share [USD]
    cost_breakdown: dict[str, float]  # [USD], sums to unit_cost_usd
    price_usd: float | None  # merchant price [USD]
    markup: float | None  # price / unit cost [1]
    notes: tuple[str, ...] = field(default=())
    extrapolated: bool = False  # a roadmap generation, not an announced part

    @property
    def hbm_bytes(self) -> float:
        """HBM capacity [B] (vendor GB are binary: 2^30 B)."""
        return self.hbm_gb * 2.0**30

    def flops(self, precision: str = "bf16") -> float | None:
        """Peak dense FLOP/s at ``precision`` (bf16, fp8, fp4) [FLOP/s]."""
        if precision not in PRECISIONS:
            raise DesignError(f"precision={precision!r} is unknown; expected one of {PRECISIONS}")
        return getattr(self, f"flops_{precision}_dense")  # type: ignore[no-any-return]

    @property
    def usd_per_bf16_pflops(self) -> float | None:
        """Unit cost per dense BF16 PFLOP/s [USD/(PFLOP/s)]."""
        if self.unit_cost_usd is None or not self.flops_bf16_dense:
            return None
        return self.unit_cost_usd / (self.flops_bf16_dense / 1e15)

    @property
    def bf16_flops_per_w(self) -> float | None:
        """Dense BF16 FLOP/s per watt of TDP [FLOP/s/W]."""
        return None if self.flops_bf16_dense is None else self.flops_bf16_dense / self.tdp_w

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the ``--json`` payload)."""
        d = asdict(self)
        d["io_dies"] = [dict(x) for x in self.io_dies]
        d["notes"] = list(self.notes)
        d["usd_per_bf16_pflops"] = self.usd_per_bf16_pflops
        d["bf16_flops_per_w"] = self.bf16_flops_per_w
        return d


# ---- catalog access ---------------------------------------------------------------------


def catalog_accelerators(catalog: Catalog | None = None) -> list[str]:
    """All accelerator names in the catalog (groups of ``accelerators`` with a ``kind``), sorted."""
    cat = catalog if catalog is not None else load_catalog()
    return sorted(n for n in cat.group("accelerators") if f"accelerators.{n}.kind" in cat)


def catalog_nodes(catalog: Catalog) -> list[str]:
    """Logic nodes of the catalog (groups of ``nodes`` with a wafer price)."""
    return [n for n in catalog.group("nodes") if f"nodes.{n}.wafer_price_usd" in catalog]


def _node(catalog: Catalog, node: str, field_name: str = "node") -> dict[str, float]:
    known = catalog_nodes(catalog)
    if node not in known:
        raise DesignError(
            f"{field_name}={node!r} is not a node of the catalog; known nodes: {', '.join(known)}"
        )
    return {k: catalog.number(f"nodes.{node}.{k}") for k in NODE_KEYS}


def _validation_message(exc: ValidationError, name: str) -> str:
    parts = []
    for e in exc.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "design"
        inp = e.get("input")
        shown = f"={inp!r}" if loc != "design" and not isinstance(inp, dict) else ""
        msg = str(e["msg"]).removeprefix("Value error, ")
        parts.append(f"{loc}{shown}: {msg}" if loc != "design" else msg)
    return f"design {name!r} is invalid: " + "; ".join(parts)


def make_design(**fields: Any) -> Design:
    """Build a :class:`Design`, turning validation failures into a :class:`DesignError`
    that names the field, the value and what was expected."""
    try:
        return Design.model_validate(fields)
    except ValidationError as exc:
        raise DesignError(_validation_message(exc, str(fields.get("name", "design")))) from None


def design_from_catalog(name: str, catalog: Catalog | None = None, **overrides: Any) -> Design:
    """The catalog's accelerator ``name`` as a :class:`Design`, with field overrides.

    >>> from fab2flop.catalog import load_catalog
    >>> design_from_catalog("custom_v1", load_catalog(), hbm_stacks=6).hbm_stacks
    6
    """
    cat = catalog if catalog is not None else load_catalog()
    known = catalog_accelerators(cat)
    if name not in known:
        raise CatalogError(
            f"accelerator {name!r} is not in the catalog; known accelerators: {', '.join(known)}"
        )
    base = f"accelerators.{name}"
    data: dict[str, Any] = {"name": name}
    for key in _CATALOG_FIELDS:
        rid = f"{base}.{key}"
        if rid in cat:
            data[key] = cat.value(rid)
    if f"{base}.io_die_node" in cat:
        data["io_dies"] = [
            (
                cat.value(f"{base}.io_die_node"),
                cat.number(f"{base}.io_die_area_mm2"),
                int(cat.number(f"{base}.io_dies")),
            )
        ]
    if f"{base}.stacked_on_io" in cat:
        data["stacked_on_io"] = str(cat.value(f"{base}.stacked_on_io")).lower() == "true"
    # a merchant part as the catalog describes it ships on its packaging; one with field
    # overrides is a new design, checked against the limit like any other
    data["packaging_published"] = (
        not overrides and data.get("kind") == "merchant" and data.get("packaging") is not None
    )
    data.update(overrides)
    return make_design(**data)


# ---- the model ------------------------------------------------------------------------


def _peak_flops(
    d: Design, catalog: Catalog
) -> tuple[float | None, float | None, float | None, str]:
    """Peak dense FLOP/s by precision and where the BF16 figure came from."""
    out: dict[str, float | None] = {}
    src = "none"
    for p in PRECISIONS:
        rate = getattr(d, f"flop_per_clock_per_unit_{p}")
        if d.compute_units_enabled and d.clock_ghz and rate:
            out[p] = d.compute_units_enabled * rate * d.clock_ghz * 1e9
            src = "units" if p == "bf16" else src
        else:
            out[p] = getattr(d, f"flops_{p}_dense")
            if p == "bf16" and out[p] is not None:
                src = "published"
    rid = f"accelerators.defaults.bf16_flop_per_clock_per_mm2.{d.node}"
    if out["bf16"] is None and d.die_area_mm2 and d.node and rid in catalog:
        clock = d.clock_ghz or catalog.number("accelerators.defaults.clock_ghz")
        bf16 = catalog.number(rid) * d.die_area_mm2 * d.compute_dies * clock * 1e9
        out["bf16"] = bf16
        fp8 = out["fp8"]
        if fp8 is None:
            fp8 = out["fp8"] = bf16 * catalog.number("accelerators.defaults.fp8_per_bf16")
        if out["fp4"] is None:
            out["fp4"] = fp8 * catalog.number("accelerators.defaults.fp4_per_fp8")
        src = "density_estimate"
    return out["bf16"], out["fp8"], out["fp4"], src


def _silicon(d: Design, catalog: Catalog, common: dict[str, float]) -> DieEstimate | None:
    if d.die_area_mm2 is None or d.node is None:
        return None
    nd = _node(catalog, d.node)
    d0 = d.defect_density_per_cm2
    if d0 is None:
        d0 = nd["defect_density_per_cm2"]
    units = spares = None
    if d.compute_units and d.compute_unit_area_mm2:
        units = d.compute_units // d.compute_dies
        enabled = d.compute_units_enabled or d.compute_units
        spares = (d.compute_units - enabled) // d.compute_dies
    return estimate_die(
        d.die_area_mm2,
        d0,
        nd["wafer_price_usd"],
        model=d.yield_model,
        alpha=d.yield_cluster_alpha or common["alpha"],
        units=units,
        spares=spares or 0,
        unit_area_mm2=d.compute_unit_area_mm2 if units else None,
        wafer_diameter_mm=common["diameter"],
        edge_exclusion_mm=common["edge"],
        scribe_mm=common["scribe"],
        reticle_limit_mm2=common["reticle"],
        field="die_area_mm2",
    )


def _common(catalog: Catalog) -> dict[str, float]:
    c = catalog.number
    return {
        "diameter": c("nodes.common.wafer_diameter_mm"),
        "edge": c("nodes.common.edge_exclusion_mm"),
        "scribe": c("nodes.common.scribe_mm"),
        "reticle": c("nodes.common.reticle_limit_mm2"),
        "alpha": c("nodes.common.yield_cluster_alpha"),
    }


def _resolve_packaging(
    d: Design, catalog: Catalog, area: float | None, reticle: float, year: int | None
) -> str:
    if d.packaging != "auto":
        return d.packaging
    if area is None or area / reticle <= max_interposer_reticles(catalog, "cowos_s", year):
        return "cowos_s"
    return "cowos_l"


def _fit_interposer(
    d: Design,
    cat: Catalog,
    area_mm2: float,
    reticle_mm2: float,
    packaging: str,
    year: int | None,
    notes: list[str],
) -> float:
    """The interposer area [mm²] within the packaging's limit for a design of ``year``.

    A design over the limit cannot be built (:class:`DesignError` naming the field). A part
    that ships on its packaging (``packaging_published``) fits by fact: the model's estimate
    over the limit comes from die areas or HBM footprints drawn too large together (a risk
    sample, a catalog override), so the interposer is taken at the limit, with a note; the
    dies keep their areas, yields and costs.
    """
    limit = max_interposer_reticles(cat, packaging, year)
    if area_mm2 / reticle_mm2 <= limit + 1e-9:
        return area_mm2
    if d.packaging_published:
        notes.append(
            f"interposer estimated at {area_mm2:.0f} mm² ({area_mm2 / reticle_mm2:.2f} "
            f"reticles) from these die areas and HBM footprints, above the {packaging} limit of "
            f"{limit:g} reticles the part ships on: taken at the limit, {limit * reticle_mm2:.0f} "
            "mm² (the dies keep their areas, yields and costs)"
        )
        return limit * reticle_mm2
    hint = (
        "use packaging='cowos_l'"
        if packaging == "cowos_s"
        else "use fewer or smaller dies or HBM stacks, or a later year"
    )
    raise DesignError(
        f"interposer_area_mm2={area_mm2:.0f} ({area_mm2 / reticle_mm2:.2f} reticles) exceeds "
        f"the {packaging} limit of {limit:g} reticles ({limit * reticle_mm2:.0f} mm²) "
        f"for a design of {year}; {hint}"
    )


def _estimate_tdp_w(d: Design, bf16: float | None, cat: Catalog) -> float:
    """Package power from peak BF16 FLOP/s and the node's energy per operation [W]."""
    rid = f"accelerators.defaults.tdp_w_per_tflops_bf16.{d.node}"
    if bf16 is None or d.node is None or rid not in cat:
        known = cat.group("accelerators.defaults.tdp_w_per_tflops_bf16")
        raise DesignError(
            f"{d.name}: tdp_w is not given and cannot be estimated (node={d.node!r}, BF16 "
            f"FLOP/s {'unknown' if bf16 is None else 'known'}); give tdp_w in W, or a node "
            f"among {', '.join(known)}"
        )
    return bf16 / 1e12 * cat.number(rid)


def evaluate(design: Design, catalog: Catalog | None = None) -> AcceleratorSpec:
    """Evaluate a design: silicon, memory, packaging, cost, performance, power, coefficients.

    Raises :class:`DesignError` for designs that cannot be built (a die above the reticle,
    an unknown node or HBM generation, an interposer too large for its packaging — unless
    the part ships on that packaging, ``packaging_published``: then it is taken at the limit).
    """
    cat = catalog if catalog is not None else load_catalog()
    d = design
    common = _common(cat)
    notes: list[str] = []
    pk: PackagingParams = load_packaging(cat)

    # memory
    gen: HBMGeneration | None = (
        load_hbm_generation(cat, d.hbm_generation) if d.hbm_generation else None
    )
    mounted = d.hbm_stacks if d.hbm_stacks_mounted is None else d.hbm_stacks_mounted
    pin: float | None = None
    bw = 0.0
    if gen is not None:
        pin = d.hbm_pin_rate_gbps or gen.pin_rate_gbps
        bw = float(hbm_bandwidth_bytes_per_s(d.hbm_stacks, gen.bus_width_bits, pin))
    hbm_gb = d.hbm_gb if d.hbm_gb is not None else d.hbm_stacks * (gen.gb_per_stack if gen else 0)
    # HBM priced per GB by height: each mounted stack is worth this many reference stacks
    stack_eq = 1.0
    if gen is not None and d.hbm_stacks > 0 and hbm_gb > 0:
        stack_eq = gen.stack_equivalents(hbm_gb / d.hbm_stacks)

    # years
    first_years = []
    if d.node is not None:
        first_years.append(int(_node(cat, d.node)["first_volume_year"]))
    if gen is not None:
        first_years.append(gen.first_volume_year)
    available_from = d.available_from or (max(first_years) if first_years else None)

    # silicon
    die = _silicon(d, cat, common)
    io_specs: list[dict[str, Any]] = []
    io_by_node: dict[str, float] = {}
    io_attempt_usd = 0.0
    for io in d.io_dies:
        nd = _node(cat, io.node, "io_dies.node")
        est = estimate_die(
            io.area_mm2,
            nd["defect_density_per_cm2"],
            nd["wafer_price_usd"],
            model=d.yield_model,
            alpha=d.yield_cluster_alpha or common["alpha"],
            wafer_diameter_mm=common["diameter"],
            edge_exclusion_mm=common["edge"],
            scribe_mm=common["scribe"],
            reticle_limit_mm2=common["reticle"],
            field="io_dies.area_mm2",
        )
        io_specs.append(
            {
                "node": io.node,
                "area_mm2": io.area_mm2,
                "count": io.count,
                "gross_dies_per_wafer": est.gross_dies_per_wafer,
                "die_yield": est.die_yield,
                "good_dies_per_wafer": est.good_dies_per_wafer,
                "die_cost_usd": est.die_cost_usd,
            }
        )
        io_by_node[io.node] = io_by_node.get(io.node, 0.0) + io.count / est.good_dies_per_wafer
        io_attempt_usd += io.count * est.die_cost_usd

    # packaging
    reticle = common["reticle"]
    area: float | None = d.interposer_area_mm2
    if area is None and die is not None:
        on_interposer = 0.0 if d.stacked_on_io else d.compute_dies * die.die_area_mm2
        on_interposer += sum(io.area_mm2 * io.count for io in d.io_dies)
        sites = max(mounted, d.hbm_stacks)
        footprint = gen.footprint_mm2 if gen else 0.0
        area = float(interposer_area_mm2(on_interposer, sites, footprint, pk.spacing_fraction))
    packaging = _resolve_packaging(d, cat, area, reticle, available_from)
    py = pk.packaging_yield(packaging)
    ppw: float | None = None
    if area is not None:
        area = _fit_interposer(d, cat, area, reticle, packaging, available_from, notes)
        ppw = float(
            packages_per_wafer(area, pk.aspect_ratio, pk.wafer_diameter_mm, pk.edge_exclusion_mm)
        )
        if ppw < 1:
            raise DesignError(
                f"interposer_area_mm2={area:.0f} leaves no whole interposer on a "
                f"{pk.wafer_diameter_mm:g} mm wafer"
            )

    # cost per good packaged unit
    if d.nre_usd > 0 and d.volume_units is None:
        raise DesignError(
            f"nre_usd={d.nre_usd:g} needs volume_units (the units it is amortised over)"
        )
    nre_per_unit = d.nre_usd / d.volume_units if d.volume_units else 0.0
    breakdown: dict[str, float] = {}
    unit_cost = assembly = pkg_wafers = None
    wafers: dict[str, float] = {}
    if die is not None and ppw is not None:
        logic = d.compute_dies * die.die_cost_usd
        hbm = mounted * stack_eq * (gen.stack_price_usd if gen else 0.0)
        soic = pk.soic_usd_per_die * d.compute_dies if d.stacked_on_io else 0.0
        cowos = pk.price_usd_per_wafer / ppw
        sta = pk.substrate_cost_usd(area or 0.0) + pk.test_usd + pk.assembly_usd
        breakdown = {
            "logic_dies": logic,
            "io_dies": io_attempt_usd,
            "hbm": hbm,
            "packaging": cowos + soic,
            "substrate_test_assembly": sta / py,
            "yield_loss": (1.0 / py - 1.0) * (logic + io_attempt_usd + hbm + cowos + soic),
            "nre": nre_per_unit,
        }
        unit_cost = sum(breakdown.values())
        assembly = (sta + soic) / py
        pkg_wafers = 1.0 / (ppw * py)
        wafers[str(d.node)] = d.compute_dies / (die.good_dies_per_wafer * py)
        for n, w in io_by_node.items():
            wafers[n] = wafers.get(n, 0.0) + w / py
    else:
        notes.append(
            "die area or node not published: silicon, packaging and unit cost are left empty"
        )

    # performance and power
    bf16, fp8, fp4, src = _peak_flops(d, cat)
    if src == "density_estimate":
        notes.append(
            "FLOP/s estimated from the node's compute density (accelerators.defaults); "
            "give compute units or published FLOP/s for a real figure"
        )
    tdp_w = d.tdp_w
    if tdp_w is None:
        tdp_w = _estimate_tdp_w(d, bf16, cat)
        notes.append(
            f"TDP not given: estimated {tdp_w:,.0f} W from BF16 FLOP/s x the node's W per "
            "TFLOP/s (accelerators.defaults.tdp_w_per_tflops_bf16)"
        )
    if d.kw_it_per_unit is not None:
        kw_it = d.kw_it_per_unit
    else:
        host = cat.number("accelerators.system.host_overhead_kw_per_accelerator")
        net = cat.number("accelerators.system.network_overhead_fraction")
        kw_it = (tdp_w / 1000.0 + host) * (1.0 + net)

    if d.extrapolated:
        notes.append(f"extrapolated: {d.trend or 'on the roadmap trends'}")
    price = d.price_usd
    markup = price / unit_cost if (price is not None and unit_cost) else None
    return AcceleratorSpec(
        name=d.name,
        kind=d.kind,
        vendor=d.vendor,
        node=d.node,
        packaging=packaging,
        available_from=available_from,
        available_until=d.available_until,
        flops_bf16_dense=bf16,
        flops_fp8_dense=fp8,
        flops_fp4_dense=fp4,
        flops_source=src,
        compute_units_enabled=d.compute_units_enabled,
        clock_ghz=d.clock_ghz,
        hbm_generation=d.hbm_generation,
        hbm_stacks=d.hbm_stacks,
        hbm_stacks_mounted=mounted,
        hbm_gb=float(hbm_gb),
        hbm_pin_rate_gbps=pin,
        hbm_bandwidth_bytes_per_s=bw,
        tdp_w=tdp_w,
        kw_it_per_unit=kw_it,
        compute_dies=d.compute_dies,
        die_area_mm2=d.die_area_mm2,
        defect_density_per_cm2=(
            None
            if d.node is None
            else d.defect_density_per_cm2
            if d.defect_density_per_cm2 is not None
            else _node(cat, d.node)["defect_density_per_cm2"]
        ),
        yield_model=d.yield_model,
        gross_dies_per_wafer=die.gross_dies_per_wafer if die else None,
        die_yield=die.die_yield if die else None,
        die_yield_without_harvesting=die.die_yield_without_harvesting if die else None,
        good_dies_per_wafer=die.good_dies_per_wafer if die else None,
        die_cost_usd=die.die_cost_usd if die else None,
        io_dies=tuple(io_specs),
        interposer_area_mm2=area,
        interposer_reticles=None if area is None else area / reticle,
        packages_per_packaging_wafer=ppw,
        packaging_yield=py,
        wafers_per_unit=wafers,
        hbm_stacks_per_unit=mounted * stack_eq / py,
        packaging_wafers_per_unit=pkg_wafers,
        assembly_cost_usd=assembly,
        nre_usd=d.nre_usd,
        volume_units=d.volume_units,
        unit_cost_usd=unit_cost,
        cost_breakdown=breakdown,
        price_usd=price,
        markup=markup,
        notes=tuple(notes),
        extrapolated=d.extrapolated,
    )


def evaluate_catalog(catalog: Catalog | None = None) -> dict[str, AcceleratorSpec]:
    """Every accelerator of the catalog, evaluated (name → spec)."""
    cat = catalog if catalog is not None else load_catalog()
    return {n: evaluate(design_from_catalog(n, cat), cat) for n in catalog_accelerators(cat)}
