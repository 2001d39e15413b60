"""Finding `nodes.<id>` references inside the `{{ ... }}` templates of node inputs.

Template expressions are Python expressions (simpleeval evaluates them), so they are read
with `ast`: `nodes.x.output`, `nodes['x'].error` and `nodes.x` inside the first argument of
`default(...)` (which may be missing on purpose, hence `guarded`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import simpleeval

from flowengine._reading.expression import (
    FUNCTIONS,
    SCOPE_NAMES,
    ExpressionTooLarge,
    parse_expression,
)
from flowengine._reading.marked_yaml import Path

__all__ = ["Reference", "find_references"]

_TEMPLATE = re.compile(r"\{\{(.*?)\}\}", re.S)
# A scope read between one `{` and `}}`: plain text that wanted to be a template (other
# `{...}}` text, say JSON in a message, is left alone).
_HALF_OPEN = re.compile(r"(?<!\{)\{(?!\{)\s*(?:nodes|inputs|vars|run)\b[^{}]*\}\}")
# The evaluator is simpleeval's EvalWithCompoundTypes over FUNCTIONS (which adds list, dict,
# ...); it also reads JSON's true / false / null as names.
KNOWN_NAMES = frozenset(
    {
        *SCOPE_NAMES,
        *simpleeval.EvalWithCompoundTypes(functions=dict(FUNCTIONS)).functions,
        "default",
        "true",
        "false",
        "null",
    }
)
"""Names an expression may use: the scopes, the template functions and JSON's constants."""


@dataclass(frozen=True)
class Reference:
    """One `nodes.<id>` read (or an unreadable expression) at `path` in the flow file."""

    path: Path
    expression: str
    node: str = ""
    """The node id read (for scopes "inputs" and "vars", the input's or variable's name; for
    "name", the name)."""
    field: str | None = None
    """"output", "error", "outcome", "visits" (or None when the node itself is read)."""
    guarded: bool = False
    syntax_error: str | None = None
    scope: str = "nodes"
    """"nodes", "inputs", "vars", or "name" for a bare name that is neither a scope nor a
    function."""
    tail: tuple[str | int, ...] = ()
    """The plain keys read after `field` (`nodes.x.output.user.id`: ("user", "id"))."""
    unclosed: bool = False
    """A template written half: `expression` is the text from an unclosed `{{` on, or a
    `{ nodes.x }}` opened with one brace."""
    too_large: bool = False
    """`syntax_error` says the expression is past a limit (length, depth): FE074."""


def find_references(value: Any, path: Path) -> Iterator[Reference]:
    """Every node reference in the templates inside `value` (walked recursively)."""
    if isinstance(value, str):
        if "{{" in value or "}}" in value:
            yield from _in_text(value, path)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from find_references(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from find_references(item, (*path, i))


def _in_text(value: str, path: Path) -> Iterator[Reference]:
    """The references in one string, and its templates written half: `{{ x }`, `{ nodes.x }}`."""
    end = 0
    for match in _TEMPLATE.finditer(value):
        yield from _half_open(value[end : match.start()], path)
        yield from _in_expression(match.group(1).strip(), path)
        end = match.end()
    yield from _half_open(value[end:], path)
    # The leftmost-first scan closes every `{{` it can, so one left open lies after the
    # last template; the runtime would use it as plain text.
    start = value.find("{{", end)
    if start >= 0:
        yield Reference(path, value[start:], unclosed=True)


def _half_open(text: str, path: Path) -> Iterator[Reference]:
    """`{ nodes.x.output }}` outside any template: one `{` short of one."""
    for match in _HALF_OPEN.finditer(text):
        yield Reference(path, match.group(0), unclosed=True)


def _in_expression(expression: str, path: Path) -> Iterator[Reference]:
    """The references in one expression (or its syntax error)."""
    found = _parse(expression)
    if isinstance(found, _TooLarge):
        yield Reference(path, expression, syntax_error=found.message, too_large=True)
        return
    if isinstance(found, str):
        yield Reference(path, expression, syntax_error=found)
        return
    for scope, node, field, guarded, tail in found:
        yield Reference(path, expression, node, field, guarded, scope=scope, tail=tail)


Keys = tuple[str | int, ...]
Found = tuple[str, str, str | None, bool, Keys]
"""(scope, name, field, guarded, the plain keys read after the field)."""


@dataclass(frozen=True)
class _TooLarge:
    message: str


@lru_cache(maxsize=4096)
def _parse(expression: str) -> tuple[Found, ...] | str | _TooLarge:
    """(scope, name, field, guarded) for each read, or the syntax error's message."""
    try:
        tree = parse_expression(expression)
    except ExpressionTooLarge as e:
        return _TooLarge(str(e.msg))
    except SyntaxError as e:
        return f"not a valid expression ({e.msg})"
    refs: list[Found] = []
    _visit(tree.body, None, False, (), refs)
    bound = _comprehension_names(tree)
    for sub in ast.walk(tree):
        if isinstance(sub, ast.Name) and sub.id not in KNOWN_NAMES and sub.id not in bound:
            refs.append(("name", sub.id, None, False, ()))
    return tuple(refs)


def _comprehension_names(tree: ast.AST) -> set[str]:
    """Names bound by comprehensions in the expression (not scope reads)."""
    names: set[str] = set()
    for sub in ast.walk(tree):
        if isinstance(sub, ast.comprehension):
            names |= {n.id for n in ast.walk(sub.target) if isinstance(n, ast.Name)}
    return names


def _key(node: ast.AST) -> str | None:
    """The name read by `x.name` or `x['name']`."""
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        index = node.slice
        if isinstance(index, ast.Constant) and isinstance(index.value, str):
            return index.value
    return None


def _plain_key(node: ast.AST, parent: ast.AST | None) -> str | int | None:
    """The key `x.name`, `x['name']` or `x[0]` reads as data (None: computed, or a method)."""
    if isinstance(parent, ast.Call) and parent.func is node:
        return None  # `text.lower()`: a method, not a key
    if isinstance(node, ast.Subscript):
        index = node.slice
        if isinstance(index, ast.Constant) and type(index.value) is int:
            return index.value
    return _key(node)


def _visit(
    node: ast.AST, parent: ast.AST | None, guarded: bool, outer: Keys, out: list[Found]
) -> None:
    """Collect `nodes.x` / `inputs.x` / `vars.x` reads below `node`; default()'s first argument
    is guarded.

    `outer` holds the plain keys the enclosing expression reads from `node`'s value, up to the
    first computed one.
    """
    if isinstance(node, ast.Attribute | ast.Subscript):
        base = node.value
        if isinstance(base, ast.Name) and base.id in ("nodes", "inputs", "vars"):
            target = _key(node)
            if target is not None:
                field = outer[0] if outer and isinstance(outer[0], str) else None
                out.append((base.id, target, field, guarded, outer[1:]))
        key = _plain_key(node, parent)
        _visit(base, node, guarded, () if key is None else (key, *outer), out)
        if isinstance(node, ast.Subscript):
            _visit(node.slice, node, guarded, (), out)
        return
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "default":
        # default(value, fallback): the value may be missing on purpose; the fallback may not.
        for i, arg in enumerate(node.args):
            _visit(arg, node, guarded or i == 0, (), out)
        return
    for child in ast.iter_child_nodes(node):
        _visit(child, node, guarded, (), out)
