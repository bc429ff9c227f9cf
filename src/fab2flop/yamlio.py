"""Reading YAML a user gave us: bounded, strict about keys, and honest in its errors.

PyYAML's ``safe_load`` is safe from code execution but not from every input a careless or
hostile user can write: a mapping that states a key twice silently keeps the last value; a
few hundred bytes of nested aliases expand to billions of nodes when anything walks the
result (the "billion laughs"); a file may not be UTF-8 or may be huge. :func:`load_yaml`
refuses each of those with a :class:`~fab2flop.errors.ScenarioError` that says where.

>>> load_yaml("a: 1\\nb: [2, 3]\\n", "example")
{'a': 1, 'b': [2, 3]}
"""

from __future__ import annotations

from typing import Any

import yaml

from .errors import ScenarioError

MAX_BYTES = 2_000_000  # a scenario is a few kB; the shipped catalog files are < 200 kB each
MAX_DEPTH = 40  # nesting levels (the schema needs fewer than ten)
MAX_NODES = 200_000  # values after expanding aliases


# libyaml's C parser when PyYAML was built with it: the same objects as the pure-Python
# loader (same resolver and constructors, YAML 1.1) in a sixth of the time
SafeLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Base: Any = SafeLoader


def safe_load(text: str) -> Any:
    """``yaml.safe_load`` through the C loader, for the package's own data files (the
    shipped catalog); whatever a user writes goes through :func:`load_yaml`."""
    return yaml.load(text, Loader=SafeLoader)  # noqa: S506 - a safe loader


class _StrictLoader(_Base):  # type: ignore[misc,valid-type]
    """Safe loader that refuses a key stated twice in one mapping."""


def _construct_mapping(loader: Any, node: yaml.MappingNode, deep: bool = False) -> dict:
    # keys written in this mapping; keys brought in by a merge (<<: *base) may be restated
    explicit = {id(k) for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"}
    loader.flatten_mapping(node)
    out: dict = {}
    stated: set = set()
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, f"unhashable key {key!r}", key_node.start_mark
            ) from None
        if id(key_node) in explicit:
            if key in stated:
                line = key_node.start_mark.line + 1
                shown = repr(key)[:80]
                raise _DuplicateKey(f"key {shown} appears twice in one mapping (line {line})", key)
            stated.add(key)
        out[key] = loader.construct_object(value_node, deep=deep)
    return out


class _DuplicateKey(ValueError):
    def __init__(self, msg: str, key: Any) -> None:
        super().__init__(msg)
        self.key = key


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _measure(obj: Any, max_depth: int, max_nodes: int) -> None:
    """Raise ValueError when ``obj`` is nested deeper than ``max_depth`` or would expand to
    more than ``max_nodes`` values (aliases make shared sub-trees; each use counts)."""
    sizes: dict[int, int] = {}

    def size(o: Any, depth: int) -> int:
        if depth > max_depth:
            raise ValueError(f"nested deeper than {max_depth} levels")
        if not isinstance(o, dict | list):
            return 1
        key = id(o)
        if key in sizes:
            return sizes[key]
        sizes[key] = max_nodes + 1  # a cycle (a recursive alias) counts as too large
        items = list(o.items()) if isinstance(o, dict) else [(None, v) for v in o]
        n = 1
        for k, v in items:
            n += size(k, depth + 1) if isinstance(k, tuple) else 1
            n += size(v, depth + 1)
            if n > max_nodes:
                raise ValueError(f"expands to more than {max_nodes:,} values (nested aliases?)")
        sizes[key] = n
        return n

    size(obj, 0)


def load_yaml(
    source: str | bytes,
    origin: str,
    *,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
    max_nodes: int = MAX_NODES,
    syntax_errors_as_text: bool = False,
) -> Any:
    """Parse YAML text or bytes from ``origin`` (a file name or 'scenario'), within limits.

    ``syntax_errors_as_text``: text that is not YAML at all is returned as the string it is
    (a ``--set`` value such as ``a: b: c``); the limits and duplicate keys still apply.
    """
    raw = source.encode("utf-8") if isinstance(source, str) else source
    if len(raw) > max_bytes:
        raise ScenarioError(
            f"{origin}: {len(raw):,} bytes is larger than the limit of {max_bytes:,} bytes",
            [("<file>", f"{len(raw)} bytes", f"at most {max_bytes} bytes")],
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            f"{origin}: not UTF-8 text (byte {exc.start}: {raw[exc.start : exc.start + 1]!r})",
            [("<file>", f"byte {exc.start}", "UTF-8 text")],
        ) from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a safe loader subclass
    except _DuplicateKey as exc:
        raise ScenarioError(
            f"{origin}: {exc}", [(str(exc.key)[:80], exc.key, "each key once per mapping")]
        ) from None
    except yaml.YAMLError as exc:
        if syntax_errors_as_text:
            return text
        msg = " ".join(str(exc).split())[:300]
        raise ScenarioError(
            f"{origin}: not valid YAML: {msg}", [("<file>", origin, "valid YAML")]
        ) from None
    except (RecursionError, MemoryError):
        raise ScenarioError(
            f"{origin}: nested too deeply to read",
            [("<file>", origin, f"at most {max_depth} levels")],
        ) from None
    try:
        _measure(data, max_depth, max_nodes)
    except ValueError as exc:
        raise ScenarioError(
            f"{origin}: {exc}", [("<file>", origin, f"at most {max_nodes} values")]
        ) from None
    return data


__all__ = ["load_yaml", "safe_load", "SafeLoader", "MAX_BYTES", "MAX_DEPTH", "MAX_NODES"]
