"""``process_overrides``: change generated (and user) processes by name, pattern or category.

Rules (docs/scenarios.md has examples):

- the mappings ``inputs``, ``outputs``, ``build_inputs`` and ``by_region`` merge key by key
  into the process's own (a region's values merge field by field); other fields replace;
- ``replace: true`` replaces the mappings given whole;
- without ``replace``, setting an amount the process has to 0 or null would silently drop
  that input (or output): it is an error naming the carrier;
- a selector that matches no process is an error naming it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase
from typing import Any

from pydantic import ValidationError

from ..errors import ScenarioError
from ..scenario import MERGED_PROCESS_FIELDS, ProcessOverride, ProcessSelector, ProcessSpec

AMOUNT_FIELDS = ("inputs", "outputs", "build_inputs")


def selector_label(sel: ProcessSelector) -> str:
    """``process_overrides.<label>`` in messages: the pattern, and the category if any."""
    if sel.category is None:
        return sel.name
    if sel.name == "*":
        return f"category={sel.category.value}"
    return f"{sel.name}&category={sel.category.value}"


def select_processes(procs: Sequence[ProcessSpec], sel: ProcessSelector) -> list[int]:
    """Positions of the processes matching ``sel`` (fnmatch on the name, and the category)."""
    return [
        i
        for i, p in enumerate(procs)
        if fnmatchcase(p.name, sel.name) and (sel.category is None or p.category is sel.category)
    ]


def apply_process_overrides(
    procs: Sequence[ProcessSpec], overrides: Sequence[ProcessOverride]
) -> list[ProcessSpec]:
    """``procs`` with every override applied in order (a new list; inputs are untouched).

    >>> p = ProcessSpec(name="fab_N3", regions=["US"], activity_unit="wafers/year",
    ...                 outputs={"wafer_N3": 1}, build_inputs={"slot": 1})
    >>> o = ProcessOverride(select="fab_*", set={"build_inputs": {"euv_tool": 4e-5}})
    >>> apply_process_overrides([p], [o])[0].build_inputs
    {'slot': 1.0, 'euv_tool': 4e-05}
    """
    out = list(procs)
    for o in overrides:
        where = f"process_overrides.{selector_label(o.select)}"
        hits = select_processes(out, o.select)
        if not hits:
            raise ScenarioError(
                f"{where}: selects no process; processes are {', '.join(p.name for p in out)}",
                [(where, o.select.model_dump(mode="json"), "a selector matching a process")],
            )
        for i in hits:
            out[i] = overridden(out[i], o, where)
    return out


def overridden(proc: ProcessSpec, o: ProcessOverride, where: str) -> ProcessSpec:
    """One process with one override applied (merged, or replaced with ``replace``)."""
    data = proc.model_dump()
    for field, value in o.set.items():
        merge = field in MERGED_PROCESS_FIELDS and isinstance(value, Mapping) and not o.replace
        if merge and field in AMOUNT_FIELDS:
            data[field] = _merged_amounts(proc, field, data[field], value, where)
        elif merge:
            data[field] = _merged_by_region(data[field], value)
        elif field in AMOUNT_FIELDS and isinstance(value, Mapping):
            data[field] = {c: x for c, x in value.items() if x is not None}
        else:
            data[field] = value
    try:
        return ProcessSpec.model_validate(data)
    except ValidationError as exc:
        msg = "; ".join(
            f"{'.'.join(str(x) for x in e['loc']) or proc.name}: {e['msg']}" for e in exc.errors()
        )
        raise ScenarioError(
            f"{where}: process {proc.name!r} would be invalid: {msg}",
            [(where, o.set, msg)],
        ) from None


def _merged_amounts(
    proc: ProcessSpec, field: str, old: dict[str, float], new: Mapping[str, Any], where: str
) -> dict[str, float]:
    dropped = [c for c, x in new.items() if not x and old.get(c, 0.0) > 0]
    if dropped:
        raise ScenarioError(
            f"{where}: would drop {field} {dropped} of process {proc.name!r} (set to 0 or "
            "null); give replace: true to replace the whole mapping on purpose",
            [(f"{where}.{field}", {c: new[c] for c in dropped}, "a positive amount")],
        )
    return {**old, **{c: x for c, x in new.items() if x is not None}}


def _merged_by_region(old: dict[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """Region by region; a region's values merge field by field; null removes a region."""
    out = dict(old)
    for r, values in new.items():
        if values is None:
            out.pop(r, None)
        elif isinstance(values, Mapping) and isinstance(out.get(r), Mapping):
            out[r] = {**out[r], **values}
        else:
            out[r] = values
    return out
