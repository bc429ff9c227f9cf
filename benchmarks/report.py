"""Render benchmarks/results.json as the Markdown table kept in benchmarks/README.md.

Usage: python benchmarks/report.py [benchmarks/results.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def table(path: Path) -> str:
    data = json.loads(path.read_text())
    rows = data["rows"]
    head = (
        "| case | solver | formulation | variables | constraints | network s | build s "
        "| solve s | build/solve | peak MB | x default |\n"
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    )
    out = []
    for r in rows:
        if "solve_s" not in r:
            out.append(f"| {r['case']} | {r['solver']} | failed | | | | | | | | |")
            continue
        opts = r.get("options") or {}
        form = ", ".join(f"{k}={v}" for k, v in opts.items()) or "stock, scaled"
        out.append(
            f"| {r['case']} | {r['solver']} | {form} | {r['n_variables']:,} | "
            f"{r['n_constraints']:,} | {r['network_s']:.2f} | {r['build_s']:.2f} | "
            f"{r['solve_s']:.2f} | {r['build_s'] / max(r['solve_s'], 1e-9):.2f} | "
            f"{r['peak_rss_mb']:.0f} | {r.get('ratio_to_default', float('nan')):.1f} |"
        )
    meta = f"Machine: {data['machine']}, Python {data['python']}, {data['cpus']} CPUs.\n\n"
    return meta + head + "\n".join(out) + "\n"


if __name__ == "__main__":
    p = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("results.json")
    print(table(p))
