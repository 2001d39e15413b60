"""A small SCIM filter: `attr op "value"` clauses joined by `and` / `or` (and binds tighter)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .errors import invalid_data

__all__ = ["compile_filter"]

_CLAUSE = re.compile(
    r'\s*([A-Za-z_][\w.]*)\s+(eq|ne|co|sw|ew|gt|lt|ge|le|pr)(?:\s+"((?:[^"\\]|\\.)*)")?\s*', re.I
)
_ESCAPED = re.compile(r"\\(.)")
_JOIN = re.compile(r"\s*\b(and|or)\b\s*", re.I)
Predicate = Callable[[dict[str, Any]], bool]


def _value(obj: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)  # type: ignore[assignment]
    return obj


def _clause(attr: str, op: str, literal: str | None) -> Predicate:
    op = op.lower()
    wanted = _ESCAPED.sub(r"\1", literal or "").lower()  # \" is ", \\ is \

    def test(obj: dict[str, Any]) -> bool:
        value = _value(obj, attr)
        if op == "pr":
            return value not in (None, "")
        text = str(value).lower() if value is not None else None
        if text is None:
            return op == "ne"
        return {
            "eq": text == wanted,
            "ne": text != wanted,
            "co": wanted in text,
            "sw": text.startswith(wanted),
            "ew": text.endswith(wanted),
            "gt": text > wanted,
            "lt": text < wanted,
            "ge": text >= wanted,
            "le": text <= wanted,
        }[op]

    return test


def _parse(text: str, attributes: dict[str, str], operators: set[str]) -> list[list[Predicate]]:
    """Disjunction of conjunctions of clauses."""
    groups: list[list[Predicate]] = [[]]
    pos = 0
    while True:
        match = _CLAUSE.match(text, pos)
        if not match:
            raise _bad(text, f'expected `attribute operator "value"` at character {pos + 1}')
        attr, op, literal = match.group(1), match.group(2).lower(), match.group(3)
        key = attr.lower()
        if key not in attributes:
            raise _bad(
                text, f"cannot filter on {attr!r}; filterable: {sorted(attributes.values())}"
            )
        if op not in operators:
            raise _bad(text, f"operator {op!r} is not supported; use one of {sorted(operators)}")
        if op != "pr" and literal is None:
            raise _bad(text, f"operator {op!r} needs a quoted value")
        groups[-1].append(_clause(attributes[key], op, literal))
        pos = match.end()
        if pos >= len(text):
            return groups
        join = _JOIN.match(text, pos)
        if not join:
            raise _bad(text, f"expected `and` or `or` at character {pos + 1}")
        if join.group(1).lower() == "or":
            groups.append([])
        pos = join.end()


def _bad(text: str, why: str) -> Exception:
    # The filter's text is not quoted: its values are emails and usernames.
    return invalid_data("filter", f"Invalid filter: {why}", "INVALID_FILTER")


def compile_filter(text: str, attributes: list[str], operators: set[str]) -> Predicate:
    """Compile a SCIM filter over the given attributes; a bad filter is 400 INVALID_FILTER."""
    groups = _parse(text, {a.lower(): a for a in attributes}, operators)
    return lambda obj: any(all(p(obj) for p in group) for group in groups)
