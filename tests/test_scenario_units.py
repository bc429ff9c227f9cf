"""Every numeric scenario field states its unit as ``[unit]`` in its description."""

from __future__ import annotations

import re
import types
import typing
from typing import Any, Union

from pydantic import BaseModel

from fab2flop.scenario import Scenario

UNIT = re.compile(r"\[[^\[\]]+\]\s*$")


def _leaves(tp: Any) -> list[Any]:
    """The non-container types inside an annotation (values of dicts, items of lists)."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _leaves(typing.get_args(tp)[0])
    if origin in (Union, types.UnionType, list, tuple, set):
        return [x for a in typing.get_args(tp) for x in _leaves(a)]
    if origin is dict:
        return _leaves(typing.get_args(tp)[1])  # keys are names or years
    return [tp]


def _models(root: type[BaseModel]) -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []
    todo = [root]
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.append(m)
        for f in m.model_fields.values():
            todo += [
                t for t in _leaves(f.annotation) if isinstance(t, type) and issubclass(t, BaseModel)
            ]
    return seen


def _is_numeric(tp: Any) -> bool:
    return any(t in (int, float) for t in _leaves(tp))


def test_walker_sees_nested_models_and_numeric_fields():
    names = {m.__name__ for m in _models(Scenario)}
    assert {"RegionConfig", "RegionalValues", "ProcessSpec", "Funder", "SolverConfig"} <= names
    spec = {m.__name__: m for m in _models(Scenario)}["ProcessSpec"].model_fields
    assert _is_numeric(spec["max_capacity"].annotation)  # Series | None
    assert _is_numeric(spec["inputs"].annotation)  # carrier -> amount
    assert not _is_numeric(spec["buildable"].annotation)
    assert not _is_numeric(spec["regions"].annotation)


def test_every_numeric_field_has_a_unit():
    missing = [
        f"{m.__name__}.{name}: {f.description!r}"
        for m in _models(Scenario)
        for name, f in m.model_fields.items()
        if _is_numeric(f.annotation) and not UNIT.search(f.description or "")
    ]
    assert not missing, "numeric fields without a [unit] at the end:\n" + "\n".join(missing)
