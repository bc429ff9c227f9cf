"""Bounded, strict YAML reading: each refusal names what is wrong and where."""

from __future__ import annotations

import pytest

from fab2flop.errors import ScenarioError
from fab2flop.yamlio import load_yaml


def _bomb(levels: int, width: int = 9) -> str:
    """A 'billion laughs' file: level k is a list of `width` aliases of level k-1, so the
    last level expands to width**levels values although the text is a few hundred bytes."""
    lines = ["l0: &l0 [" + ", ".join(["1"] * width) + "]"]
    for k in range(1, levels):
        lines.append(f"l{k}: &l{k} [" + ", ".join([f"*l{k - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_plain_yaml_and_merge_keys_read_as_usual():
    assert load_yaml("a: 1\nb: [2, 3]\n", "x") == {"a": 1, "b": [2, 3]}
    got = load_yaml("base: &b {x: 1}\nc: {<<: *b, y: 2}\n", "x")
    assert got["c"] == {"x": 1, "y": 2}


@pytest.mark.parametrize(
    "text, key",
    [("a: 1\na: 2\n", "'a'"), ("outer:\n  b: 1\n  c: 2\n  b: 3\n", "'b'")],
)
def test_duplicate_key_is_refused_with_its_name_and_line(text, key):
    with pytest.raises(ScenarioError, match=f"key {key} appears twice.*line"):
        load_yaml(text, "s.yaml")


def test_alias_bomb_is_refused_quickly():
    # 9**7 = 4.8M values from < 400 bytes of text: over the 200,000-value budget
    text = _bomb(7)
    assert len(text) < 400
    with pytest.raises(ScenarioError, match="expands to more than"):
        load_yaml(text, "bomb.yaml")
    # 9**4 = 6,561 values plus the lists themselves: inside the budget, read normally
    small = load_yaml(_bomb(4), "ok.yaml")
    assert len(small["l3"]) == 9


def test_recursive_alias_is_refused():
    with pytest.raises(ScenarioError, match="expands to more than"):
        load_yaml("&a [*a]", "loop.yaml")


def test_nesting_too_deep_is_refused():
    with pytest.raises(ScenarioError, match="nested deeper than 40"):
        load_yaml("a: " + "[" * 100 + "]" * 100, "deep.yaml")


def test_not_utf8_and_too_large_are_refused_with_the_limit():
    with pytest.raises(ScenarioError, match="not UTF-8 text"):
        load_yaml(b"name: \xff\xfe", "latin.yaml")
    with pytest.raises(ScenarioError, match="larger than the limit of 1,000 bytes"):
        load_yaml("a: " + "x" * 2000, "big.yaml", max_bytes=1000)


def test_syntax_error_is_one_line_of_text():
    with pytest.raises(ScenarioError, match="not valid YAML") as err:
        load_yaml("a: [1,\n", "broken.yaml")
    assert "\n" not in str(err.value)
