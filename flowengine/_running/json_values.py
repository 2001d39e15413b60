"""Whether a plugin's value is JSON the run store can write: one iterative walk, no copies.

A capability's output, an Outcome's output and an Interaction's data are kept in the run
and written to the store as JSON. `json_problem(value)` says where (a JSON path) and what
(the Python type found) breaks that: anything but dict (with str keys), list (or tuple,
stored as an array), str, int, finite float, bool and None; nesting deeper than
`MAX_DEPTH`; a container that contains itself. It never builds a copy or a JSON text and
never names the value itself (it may be personal data or a secret).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["MAX_DEPTH", "json_problem", "plain_dict"]

MAX_DEPTH = 100
"""How deeply objects and arrays may nest in a plugin's value (the store and readers cope)."""

_SCALARS = frozenset({str, int, bool, type(None)})
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

# A stack entry: (value, parent entry or None, key or index in the parent, depth).
_Entry = tuple[Any, Any, Any, int]


def json_problem(value: Any, max_depth: int = MAX_DEPTH) -> tuple[str, str] | None:
    """(JSON path, what was found there) for the first part of `value` that is not JSON, or None.

    Plain data costs one type lookup per value; containers are walked with a stack, so
    depth never reaches Python's recursion limit.
    """
    kind = type(value)
    if kind in _SCALARS:
        return None
    if kind is float:
        return None if value - value == 0.0 else ("$", _float_name(value))
    if kind is dict:  # the usual output: plain data, checked by the quick walk
        if plain_dict(value, 1, max_depth):
            return None
    elif kind is list and _plain_list(value, 1, max_depth):
        return None
    stack: list[_Entry] = [(value, None, None, 0)]
    pop, push = stack.pop, stack.append
    while stack:
        entry = pop()
        container, _parent, _key, depth = entry
        kind = type(container)
        if kind is dict:
            items: Any = container.items()
        elif kind is list or kind is tuple:
            items = enumerate(container)
        else:
            found = _other(container)
            if found is None:
                continue
            return _path(entry), found
        if depth >= max_depth:
            return _too_deep(entry, max_depth)
        for key, item in items:
            if kind is dict and type(key) is not str and not isinstance(key, str):
                return _path(entry) + f"[{type(key).__name__} key]", (
                    f"a key of type {type(key).__name__} (object keys must be strings)"
                )
            item_kind = type(item)
            if item_kind in _SCALARS:
                continue
            if item_kind is float:
                if item - item != 0.0:
                    return _path((item, entry, key, depth + 1)), _float_name(item)
                continue
            push((item, entry, key, depth + 1))
    return None


def plain_dict(value: dict[Any, Any], depth: int, max_depth: int) -> bool:
    """Whether `value` is plain JSON data (exact types only); False sends it to the walk that
    says what is wrong (or accepts subclasses). Recursion is bounded by `max_depth`."""
    if depth > max_depth:
        return False
    scalars = _SCALARS
    for key, item in value.items():
        if type(key) is not str:
            return False
        kind = type(item)
        if kind in scalars:
            continue
        if kind is dict:
            if not plain_dict(item, depth + 1, max_depth):
                return False
        elif kind is list:
            if not _plain_list(item, depth + 1, max_depth):
                return False
        elif kind is not float or item - item != 0.0:
            return False
    return True


def _plain_list(value: list[Any], depth: int, max_depth: int) -> bool:
    if depth > max_depth:
        return False
    scalars = _SCALARS
    for item in value:
        kind = type(item)
        if kind in scalars:
            continue
        if kind is dict:
            if not plain_dict(item, depth + 1, max_depth):
                return False
        elif kind is list:
            if not _plain_list(item, depth + 1, max_depth):
                return False
        elif kind is not float or item - item != 0.0:
            return False
    return True


def _other(value: Any) -> str | None:
    """What a non-plain value is, or None when it is JSON anyway (a str or int subclass, a
    dict or list subclass holding JSON is not: it is checked here, and named when wrong)."""
    if isinstance(value, str | int):
        return None
    if isinstance(value, float):
        return None if value - value == 0.0 else _float_name(value)
    if isinstance(value, dict | list | tuple):
        inner = json_problem(dict(value) if isinstance(value, dict) else list(value))
        return None if inner is None else f"a {type(value).__name__} holding {inner[1]}"
    kind = type(value)
    module = kind.__module__
    name = kind.__qualname__ if module in ("builtins", None) else f"{module}.{kind.__qualname__}"
    return f"a {name}"


def _float_name(value: float) -> str:
    return "a float NaN" if value != value else "a float infinity"


def _chain(entry: _Entry) -> list[_Entry]:
    chain = []
    while entry is not None:
        chain.append(entry)
        entry = entry[1]
    chain.reverse()
    return chain


def _path(entry: _Entry) -> str:
    parts = ["$"]
    for _value, parent, key, _depth in _chain(entry)[1:]:
        if parent is not None and type(parent[0]) is not dict:
            parts.append(f"[{key}]")
        elif isinstance(key, str) and _NAME.match(key):
            parts.append(f".{key}")
        else:
            parts.append(f"[{key!r}]")
    return "".join(parts)


def _too_deep(entry: _Entry, max_depth: int) -> tuple[str, str]:
    """A container that contains itself, named where it first repeats; else the depth."""
    seen: dict[int, _Entry] = {}
    for link in _chain(entry):
        first = seen.get(id(link[0]))
        if first is not None:
            what = type(link[0]).__name__
            return _path(link), f"a cycle: the {what} at {_path(first)} contains itself"
        seen[id(link[0])] = link
    return _path(entry), f"objects or arrays nested more than {max_depth} deep"
