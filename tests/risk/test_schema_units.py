"""Every numeric field of the uncertainty schema states its unit; the module examples run."""

from __future__ import annotations

import doctest
import importlib
import typing

import pytest
from pydantic import BaseModel

from fab2flop.risk.uncertainty import (
    CorrelationGroup,
    DistSpec,
    EventSpec,
    ParameterSpec,
    Uncertainty,
)


def numeric(annotation) -> bool:
    args = typing.get_args(annotation)
    if not args:
        return annotation in (int, float)
    return any(numeric(a) for a in args)


@pytest.mark.parametrize(
    "model", [DistSpec, ParameterSpec, CorrelationGroup, EventSpec, Uncertainty]
)
def test_numeric_fields_have_a_unit_in_brackets(model: type[BaseModel]):
    missing = [
        name
        for name, f in model.model_fields.items()
        if numeric(f.annotation)
        and not (f.description and "[" in f.description and "]" in f.description)
    ]
    assert missing == [], f"{model.__name__}: fields without [unit]: {missing}"


def test_numeric_detection_is_not_vacuous():
    assert numeric(float | None) and numeric(list[float] | None) and not numeric(str | None)


@pytest.mark.parametrize(
    "name", ["uncertainty", "resolve", "sampling", "sensitivity", "evaluators"]
)
def test_module_examples_run(name):
    mod = importlib.import_module(f"fab2flop.risk.{name}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
