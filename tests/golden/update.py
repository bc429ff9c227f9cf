"""Regenerate tests/golden/default.json from the embedded default scenario.

The file holds the whole ``fab2flop run --json`` summary except ``meta`` (version, timings,
timestamps: what legitimately varies between runs); tests/test_default_plan.py compares every
field. Run only after reviewing why the figures moved (a catalog change, a model change), and
say so in the commit message:  python -m tests.golden.update
"""

from __future__ import annotations

import json
from pathlib import Path

from fab2flop import load_scenario, optimize

VARYING = ("meta",)  # summary fields that change from run to run


def golden(res=None) -> dict:
    """The default run's summary as JSON values, without the fields in VARYING."""
    res = res if res is not None else optimize(load_scenario())
    s = json.loads(res.to_json())
    return {k: v for k, v in s.items() if k not in VARYING}


if __name__ == "__main__":
    out = Path(__file__).with_name("default.json")
    out.write_text(json.dumps(golden(), indent=2) + "\n")
    print(f"wrote {out}")
