"""Hypothesis strategies over the scenario schema, as a careless or hostile user writes it.

A *case* is a :class:`Case`: the text of a scenario file (or raw bytes), optional files
beside it (for ``extends``), and ``--set`` strings. The strategies start from the default
scenario on a short horizon and mutate it: wrong types, non-finite and extreme numbers,
booleans for numbers, unknown names in every list and mapping, deleted and added keys,
catalog overrides of every kind of record, custom designs, process overrides and events;
YAML tricks (duplicate keys, alias bombs, deep nesting, non-UTF-8 bytes, huge files,
NO/YES booleans, ``extends`` cycles and missing parents); and ``--set`` strings, both
well-formed with odd values and arbitrary text.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import yaml
from hypothesis import strategies as st

from fab2flop.catalog import load_catalog
from fab2flop.scenario import default_scenario_text


@dataclass
class Case:
    """One fuzz input: a scenario file (text or bytes), files beside it, --set strings."""

    text: str | bytes
    sets: list[str] = field(default_factory=list)
    siblings: dict[str, str] = field(default_factory=dict)  # file name -> text
    kind: str = "mutated"


@lru_cache(maxsize=1)
def base_scenario() -> dict[str, Any]:
    """The default scenario on a two-year horizon (cheap to solve)."""
    data = yaml.safe_load(default_scenario_text())
    data["time"] = {"start": 2025, "end": 2026, "step": "year"}
    data.pop("events", None)
    return data


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into a nested structure (mappings and lists), leaves and inner nodes."""
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


@lru_cache(maxsize=1)
def base_paths() -> list[tuple]:
    return _paths(base_scenario())


@lru_cache(maxsize=1)
def catalog_ids() -> list[str]:
    return sorted(r.id for r in load_catalog())


NAMES = ["US", "TW", "XX", "NO", "N3", "N9", "H100", "ZZZ", "gas_cc", "fusion", "custom_v1",
         "fab_*", "buy_H100", "", " ", "US ", "us", "[/x]", "[bold]", "\x00", "é", "0"]  # fmt: skip

weird_numbers = st.one_of(
    st.sampled_from(
        [
            float("nan"),
            float("inf"),
            -float("inf"),
            1e308,
            -1e308,
            1e-308,
            -1.0,
            0.0,
            -0.0,
            1e12,
            7e12,
            1e30,
            10**30,
            -(10**30),
            2**63,
            10**400,
            0.5,
            1,
            2,
            3000,
            1000,
            2025,
            2200,
            2201,
            1989,
        ]  # fmt: skip
    ),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**20), max_value=10**20),
)

HUGE_TEXT = "x" * 100_000  # echoed values must be cut short whatever their size
weird_text = st.one_of(
    st.sampled_from(
        [*NAMES, "nan", ".nan", "inf", "1e400", "true", "yes", "NO", "null", "~", HUGE_TEXT]
    ),
    st.text(max_size=30),
)

leaf_values = st.one_of(
    weird_numbers,
    weird_text,
    st.booleans(),
    st.none(),
    st.lists(st.one_of(weird_numbers, weird_text, st.booleans()), max_size=4),
    st.dictionaries(
        st.one_of(st.integers(1900, 2300), weird_text, st.booleans()),
        st.one_of(weird_numbers, weird_text, st.booleans()),
        max_size=3,
    ),
)


def _set_at(data: Any, path: tuple, value: Any) -> None:
    node = data
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value


def _delete_at(data: Any, path: tuple) -> None:
    node = data
    for k in path[:-1]:
        node = node[k]
    del node[path[-1]]


@st.composite
def mutation(draw: Any, data: dict[str, Any]) -> None:
    """Change ``data`` in place: one of replace, delete, add, rename, catalog, name."""
    paths = base_paths()
    kind = draw(
        st.sampled_from(
            [
                "replace",
                "replace",
                "replace",
                "delete",
                "add",
                "catalog",
                "catalog",
                "names",
                "custom",
                "override",
                "event",
                "time",
            ]  # fmt: skip
        )
    )
    try:
        if kind == "replace":
            _set_at(data, draw(st.sampled_from(paths)), draw(leaf_values))
        elif kind == "delete":
            _delete_at(data, draw(st.sampled_from(paths)))
        elif kind == "add":
            where = draw(st.sampled_from([(), *[p for p in paths if len(p) <= 2]]))
            node = data
            for k in where:
                node = node[k]
            if isinstance(node, dict):
                node[draw(st.one_of(weird_text, st.integers(), st.booleans()))] = draw(leaf_values)
            elif isinstance(node, list):
                node.append(draw(leaf_values))
        elif kind == "catalog":
            rid = draw(st.one_of(st.sampled_from(catalog_ids()), weird_text))
            data.setdefault("catalog", {})
            data["catalog"][rid] = draw(leaf_values)
        elif kind == "names":
            key = draw(
                st.sampled_from(
                    [
                        ("technologies", "fab_nodes"),
                        ("technologies", "power"),
                        ("accelerators", "merchant"),
                        ("accelerators", "assembly_regions"),
                    ]  # fmt: skip
                )
            )
            _set_at(data, key, draw(st.lists(st.sampled_from(NAMES), max_size=3)))
        elif kind == "custom":
            name = draw(st.sampled_from(["custom_v1", "custom_v2", "H100", "ZZZ"]))
            fld = draw(
                st.sampled_from(
                    [
                        "node",
                        "die_area_mm2",
                        "hbm_stacks",
                        "tdp_w",
                        "price_usd",
                        "compute_dies",
                        "nre_usd",
                        "available_from",
                        "bogus",
                    ]  # fmt: skip
                )
            )
            data["accelerators"].setdefault("custom", {})
            data["accelerators"]["custom"][name] = {fld: draw(leaf_values)}
        elif kind == "override":
            pat = draw(st.sampled_from(["fab_*", "fab_N3", "power_*", "buy_H100", "nope_*"]))
            fld = draw(
                st.sampled_from(
                    [
                        "lead_years",
                        "capex_usd_per_unit",
                        "existing",
                        "max_new_per_year",
                        "availability",
                        "inputs",
                        "outputs",
                        "regions",
                        "name",
                        "bogus",
                    ]  # fmt: skip
                )
            )
            data["process_overrides"] = {pat: {fld: draw(leaf_values)}}
        elif kind == "event":
            ev = {
                "use": draw(st.sampled_from(["taiwan_blockade", "hbm_price_spike", "nope"])),
                "start": draw(st.one_of(st.sampled_from([2025, 2026, 2025.5]), weird_numbers)),
            }
            if draw(st.booleans()):
                ev["duration_years"] = draw(weird_numbers)
            data["events"] = [ev]
        else:  # time
            data["time"] = {
                "start": draw(st.sampled_from([2025, 2026, 1900, 2100, True])),
                "end": draw(st.sampled_from([2025, 2026, 2027, 2024, 2125, 2300])),
                "step": draw(st.sampled_from(["year", "quarter", "month", 1])),
            }
    except (KeyError, IndexError, TypeError):
        pass  # the path no longer exists after an earlier mutation


def _dump(data: Any) -> str:
    try:
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError):
        return yaml.safe_dump(base_scenario(), sort_keys=False)


@st.composite
def mutated_case(draw: Any) -> Case:
    data = copy.deepcopy(base_scenario())
    for _ in range(draw(st.integers(1, 3))):
        draw(mutation(data))
    return Case(_dump(data), kind="mutated")


def _bomb(levels: int, width: int = 9) -> str:
    lines = ["  l0: &l0 [" + ", ".join(["1"] * width) + "]"]
    for k in range(1, levels):
        lines.append(f"  l{k}: &l{k} [" + ", ".join([f"*l{k - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


@st.composite
def yaml_trick_case(draw: Any) -> Case:
    base = _dump(base_scenario())
    trick = draw(
        st.sampled_from(
            [
                "duplicate",
                "bomb",
                "bomb_string",
                "deep",
                "not_utf8",
                "huge",
                "norway",
                "tab",
                "extends_cycle",
                "extends_missing",
                "extends_bad_parent",
                "merge_key",
                "empty",
                "list_top",
                "scalar_top",
                "bom",
                "recursive_alias",
            ]  # fmt: skip
        )
    )
    if trick == "duplicate":
        key = draw(st.sampled_from(["name", "budget", "time"]))
        return Case(base + f"{key}: again\n", kind=trick)
    if trick == "bomb":
        return Case(base + "catalog:\n" + _bomb(draw(st.integers(6, 9))), kind=trick)
    if trick == "bomb_string":
        return Case("bomb:\n" + _bomb(8) + base.replace("name: ", "name: *l7 #", 1), kind=trick)
    if trick == "deep":
        n = draw(st.integers(30, 3000))
        return Case(base + "description: " + "[" * n + "]" * n + "\n", kind=trick)
    if trick == "not_utf8":
        return Case(base.encode() + b"note: \xff\xfe\x80\n", kind=trick)
    if trick == "huge":
        return Case(base + "description: '" + "x" * 2_100_000 + "'\n", kind=trick)
    if trick == "norway":
        return Case(base + "regions:\n  NO: {enabled: true}\n", kind=trick)
    if trick == "tab":
        return Case(base + "budget:\n\ttotal_usd: 1\n", kind=trick)
    if trick == "extends_cycle":
        return Case(
            "extends: b.yaml\n", siblings={"b.yaml": "extends: scenario.yaml\n"}, kind=trick
        )
    if trick == "extends_missing":
        return Case("extends: missing.yaml\nname: x\n", kind=trick)
    if trick == "extends_bad_parent":
        parent = draw(st.sampled_from(["budget: [1, 2\n", "a: 1\na: 2\n", "- 1\n", "x: .nan\n"]))
        return Case("extends: p.yaml\n", siblings={"p.yaml": parent}, kind=trick)
    if trick == "merge_key":
        return Case(base + "x_anchor: &b {total_usd: 5.0e12}\nbudget2: {<<: *b}\n", kind=trick)
    if trick == "empty":
        return Case("", kind=trick)
    if trick == "list_top":
        return Case("- 1\n- 2\n", kind=trick)
    if trick == "scalar_top":
        return Case(draw(st.sampled_from(["42\n", "'[/x]'\n", ".nan\n", "null\n"])), kind=trick)
    if trick == "bom":
        return Case(b"\xef\xbb\xbf" + base.encode(), kind=trick)
    return Case(base + "loop: &a [*a]\n", kind=trick)


SET_KEYS = [
    "budget.total_usd", "regions.US.grid_mw_available", "regions.TW.enabled", "time.end",
    "catalog.nodes.N3.wafer_price_usd", "catalog.datacenters.fleet.utilization",
    "accelerators.merchant", "accelerators.custom", "accelerators.custom.custom_v1.hbm_stacks",
    "objective.discount_rate", "objective.kind", "market.merchant_share", "seed",
    "technologies.fab_nodes", "regions.XX.enabled", "budget.funders", "events", "[/x]",
    "regions.US.max_datacenter_mw.2026", "accelerators.merchant.0", "catalog",
]  # fmt: skip

SET_VALUES = [
    ".nan", ".inf", "-.inf", "nan", "-1", "0", "1e400", "1e300", "true", "false", "[]", "{}",
    "null", "[N9]", "{a: 1, a: 2}", "&a [*a, *a]", "[/x]", "x: [", "'", "1000", "2026",
    "[{use: taiwan_blockade}]", "[{name: f, share: 1.5, start: 2025, end: 2026}]",
    "{2025: .nan}", "{1000: 5}", "min_cost_for_path", "'\x1b[31m'", "0x10", "1_000",
]  # fmt: skip

set_strings = st.one_of(
    st.builds(
        lambda k, v: f"{k}={v}",
        st.sampled_from(SET_KEYS),
        st.one_of(st.sampled_from(SET_VALUES), st.text(max_size=20)),
    ),
    st.text(max_size=40),
    st.text(alphabet=".=[]{}:/,-_ab0", max_size=20),
)


@st.composite
def set_case(draw: Any) -> Case:
    return Case(
        _dump(base_scenario()), draw(st.lists(set_strings, min_size=1, max_size=3)), kind="set"
    )


cases = st.one_of(mutated_case(), mutated_case(), yaml_trick_case(), set_case())
