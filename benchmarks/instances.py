"""Synthetic build-out networks of any size, for benchmarks.

An instance has ``chains`` accelerator supply chains (own fab line + reserved foundry
capacity -> wafers; HBM line + market -> stacks; CoWoS line + market -> packaging;
assembly -> accelerator) plus, in every region, a data center, three power technologies and
grid supply. Processes = 6 per chain + 5 per region-type; variables grow as
processes x regions x periods.
"""

from __future__ import annotations

import numpy as np

from fab2flop.catalog import Catalog
from fab2flop.constants import H100_FLOPS_BF16_DENSE, CarrierKind, Category, Scope
from fab2flop.network import Network, assemble_network
from fab2flop.scenario import CarrierSpec, ProcessSpec, Scenario
from fab2flop.supplychain import FleetItem, SupplyChain


def synthetic(chains: int, regions: int, years: int, step: str = "year", seed: int = 0) -> Network:
    rng = np.random.default_rng(seed)
    regs = [f"R{i:02d}" for i in range(regions)]
    start = 2025
    sc = Scenario.model_validate(
        {
            "name": f"synthetic-{chains}x{regions}x{years}{step[0]}",
            "time": {"start": start, "end": start + years - 1, "step": step},
            "budget": {"total_usd": 2e12 * chains * regions / 10},
            "regions": {r: {} for r in regs},
        }
    )
    C = {}

    def carrier(name, unit, scale, kind=CarrierKind.QUANTITY, scope=Scope.GLOBAL):
        C[name] = CarrierSpec(name=name, unit=unit, scale=scale, kind=kind, scope=scope)

    carrier("mw_it", "MW", 1e3, CarrierKind.RATE, Scope.REGIONAL)
    carrier("mw_power", "MW", 1e3, CarrierKind.RATE, Scope.REGIONAL)
    P: list[ProcessSpec] = []
    fleet = {}
    for i in range(chains):
        w, h, k, a = f"wafer_{i}", f"stack_{i}", f"cowos_{i}", f"acc_{i}"
        carrier(w, "wafers", 1e3)
        carrier(h, "stacks", 1e6)
        carrier(k, "wafers", 1e3)
        carrier(a, "units", 1e6)
        f = rng.uniform(0.8, 1.2)
        P += [
            ProcessSpec(
                name=f"fab_{i}",
                category=Category.FABS,
                regions=regs,
                activity_unit="wafers/year",
                outputs={w: 1},
                capex_usd_per_unit=3.3e4 * f,
                var_cost_usd_per_unit=4e3,
                lead_years=3,
                ramp_years=2,
                life_years=20,
            ),
            ProcessSpec(
                name=f"foundry_{i}",
                category=Category.FABS,
                regions=regs[:1],
                activity_unit="wafers/year",
                outputs={w: 1},
                var_cost_usd_per_unit=2e4 * f,
                buildable=False,
                existing={2025: 1e5, 2030: 3e5},
            ),
            ProcessSpec(
                name=f"hbm_{i}",
                category=Category.MEMORY,
                regions=regs,
                activity_unit="stacks/year",
                outputs={h: 1},
                capex_usd_per_unit=400 * f,
                var_cost_usd_per_unit=150,
                lead_years=2,
                ramp_years=1,
                life_years=15,
            ),
            ProcessSpec(
                name=f"hbm_market_{i}",
                category=Category.MEMORY,
                regions=regs[:1],
                activity_unit="stacks/year",
                outputs={h: 1},
                var_cost_usd_per_unit=370,
                buildable=False,
                existing=2e6,
            ),
            ProcessSpec(
                name=f"cowos_{i}",
                category=Category.PACKAGING,
                regions=regs,
                activity_unit="wafers/year",
                outputs={k: 1},
                capex_usd_per_unit=2e4 * f,
                var_cost_usd_per_unit=5e3,
                lead_years=2,
                life_years=15,
            ),
            ProcessSpec(
                name=f"assemble_{i}",
                category=Category.ACCELERATORS,
                regions=regs[:1],
                activity_unit="units/year",
                outputs={a: 1},
                inputs={w: 2 / 30, h: 8, k: 1 / 15},
                var_cost_usd_per_unit=1500,
                unlimited=True,
                buildable=False,
            ),
        ]
        fleet[f"a{i}"] = FleetItem(
            name=f"a{i}",
            kind="custom",
            vendor="own",
            carrier=a,
            flops_bf16_dense=H100_FLOPS_BF16_DENSE * rng.uniform(1.5, 3.0),
            kw_it_per_unit=1.8,
            life_years=5,
            unit_cost_usd=8000,
            deploy_cost_usd=3000,
            available_from=start,
            available_until=None,
        )
    P += [
        ProcessSpec(
            name="datacenter",
            category=Category.DATACENTERS,
            regions=regs,
            activity_unit="MW",
            outputs={"mw_it": 1},
            inputs={"mw_power": 1.2},
            capex_usd_per_unit=1.3e7,
            fixed_om_usd_per_unit_year=3e5,
            lead_years=2,
            ramp_years=1,
            life_years=20,
        ),
        ProcessSpec(
            name="power_gas",
            category=Category.POWER,
            regions=regs,
            activity_unit="MW",
            outputs={"mw_power": 1},
            capex_usd_per_unit=2e6,
            var_cost_usd_per_unit=3e5,
            lead_years=4,
            life_years=30,
            availability=0.9,
            max_new_per_year=2000,
        ),
        ProcessSpec(
            name="power_solar",
            category=Category.POWER,
            regions=regs,
            activity_unit="MW",
            outputs={"mw_power": 1},
            capex_usd_per_unit=1.9e6,
            lead_years=2,
            life_years=25,
            availability=0.35,
            max_new_per_year=3000,
        ),
        ProcessSpec(
            name="power_nuclear",
            category=Category.POWER,
            regions=regs,
            activity_unit="MW",
            outputs={"mw_power": 1},
            capex_usd_per_unit=1e7,
            var_cost_usd_per_unit=1e5,
            lead_years=8,
            life_years=60,
            availability=0.9,
        ),
        ProcessSpec(
            name="grid",
            category=Category.OPERATIONS,
            regions=regs,
            activity_unit="MW",
            outputs={"mw_power": 1},
            var_cost_usd_per_unit=4.5e5,
            buildable=False,
            existing={2025: 500, 2030: 2000},
        ),
    ]
    return assemble_network(sc, Catalog({}, "synthetic"), SupplyChain(C, P, fleet, []))
