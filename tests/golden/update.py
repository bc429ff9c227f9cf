"""Regenerate tests/golden/default.json from the embedded default scenario.

Run only after reviewing why the figures moved (a catalog change, a model change), and say
so in the commit message:  python -m tests.golden.update
"""

from __future__ import annotations

import json
from pathlib import Path

from fab2flop import load_scenario, optimize

KEYS = ("compute_h100e", "spend_total_usd", "cost_per_h100e_hour_usd", "capex_per_gw_usd")


def golden() -> dict:
    s = optimize(load_scenario()).summary()
    return {k: s[k] for k in (*KEYS, "status", "periods", "spend_usd", "regional_share")}


if __name__ == "__main__":
    out = Path(__file__).with_name("default.json")
    out.write_text(json.dumps(golden(), indent=2) + "\n")
    print(f"wrote {out}")
