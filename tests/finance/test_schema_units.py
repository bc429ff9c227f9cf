"""Every numeric field of the finance schema states its unit; the module examples run."""

from __future__ import annotations

import doctest
import importlib
import typing

import pytest
from pydantic import BaseModel

from fab2flop.finance.schema import FinanceConfig, LeaseConfig, Party


def numeric(annotation) -> bool:
    args = typing.get_args(annotation)
    if not args:
        return annotation in (int, float)
    return any(numeric(a) for a in args)


@pytest.mark.parametrize("model", [Party, LeaseConfig, FinanceConfig])
def test_numeric_fields_have_a_unit_in_brackets(model: type[BaseModel]):
    missing = [
        name
        for name, f in model.model_fields.items()
        if numeric(f.annotation)
        and not (f.description and "[" in f.description and "]" in f.description)
    ]
    assert missing == [], f"{model.__name__}: fields without [unit]: {missing}"


@pytest.mark.parametrize(
    "name", ["", ".metrics", ".schema", ".cashflows", ".analysis", ".jobs", ".policy"]
)
def test_module_examples_run(name):
    mod = importlib.import_module(f"fab2flop.finance{name}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
