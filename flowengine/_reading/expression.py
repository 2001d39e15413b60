"""Template expressions: parsed once, evaluated safely over a run's JSON data.

`Expression(source)` parses one `{{ ... }}` body. Plain paths (`nodes.x.output.user.id`,
`inputs['a-b']`) are read directly; anything else goes through simpleeval, changed so that
`a.b` on an object reads the key "b" (never a Python attribute), only a few text methods
can be called, and `default(expr, fallback)` covers missing values.
"""

from __future__ import annotations

import ast
import difflib
import json
import re
import threading
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import simpleeval

from flowengine._errors import TemplateError

__all__ = [
    "FUNCTIONS",
    "SCOPE_NAMES",
    "Expression",
    "Missing",
    "compile_expression",
    "parse_expression",
    "to_text",
]

SCOPE_NAMES = ("nodes", "inputs", "vars", "run", "error")
_STR_METHODS = frozenset(
    [
        "lower",
        "upper",
        "strip",
        "lstrip",
        "rstrip",
        "title",
        "capitalize",
        "startswith",
        "endswith",
        "split",
        "replace",
        "join",
        "isdigit",
        "isalpha",
        "zfill",
    ]
)
MAX_EXPONENT = 1000


class Missing(Exception):
    """A read of something that is not there; `default()` turns it into its fallback."""

    def __init__(self, message: str, not_run: str | None = None) -> None:
        super().__init__(message)
        self.not_run = not_run
        """The node id, when what is missing is a node that has not run."""


def _safe_power(base: Any, exponent: Any) -> Any:
    if isinstance(exponent, int | float) and abs(exponent) > MAX_EXPONENT:
        raise simpleeval.NumberTooHigh(f"exponent {exponent} is above {MAX_EXPONENT}")
    return simpleeval.safe_power(base, exponent)


def to_text(value: Any) -> str:
    """How a value reads inside a longer string: text as is, anything else as JSON."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except ValueError:
        return str(value)


def _join(items: Any, sep: str = "") -> str:
    return sep.join(to_text(i) for i in items)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len,
    "str": to_text,
    "int": int,
    "float": float,
    "bool": bool,
    "round": round,
    "abs": abs,
    "min": min,
    "max": max,
    "lower": lambda s: str(s).lower(),
    "upper": lambda s: str(s).upper(),
    "join": _join,
}
"""Functions an expression may call; `default(expr, fallback)` is handled by the evaluator."""


def _missing(base_src: str, base: Any, key: Any) -> Missing:
    """The Missing error for `key` not readable from `base` (written `base_src`)."""
    if base_src == "nodes" and isinstance(base, Mapping):
        return Missing(f"nodes.{key} has not run", not_run=str(key))
    return Missing(_describe_missing(base_src, base, key))


def _describe_missing(base_src: str, base: Any, key: Any) -> str:
    """Say why `key` cannot be read from `base` (written `base_src` in the expression)."""
    if base is None:
        return f"{base_src} is null (cannot read {key!r})"
    if isinstance(base, Mapping):
        hint = difflib.get_close_matches(str(key), [str(k) for k in base], n=1)
        more = f"; did you mean {hint[0]!r}?" if hint else ""
        return f"{base_src} has no key {key!r}{more}"
    if isinstance(base, list | tuple | str) and isinstance(key, int):
        return f"{base_src} has no item {key} (it has {len(base)})"
    return f"{base_src} is {type(base).__name__}, not an object (cannot read {key!r})"


def _path_text(keys: tuple[Any, ...]) -> str:
    out = str(keys[0])
    for key in keys[1:]:
        if isinstance(key, str) and key.isidentifier():
            out += f".{key}"
        else:
            out += f"[{key!r}]"
    return out


class _Evaluator(simpleeval.EvalWithCompoundTypes):
    """simpleeval over JSON data: `.key` reads keys, calls only to known functions."""

    def __init__(self) -> None:
        operators = dict(simpleeval.DEFAULT_OPERATORS)
        operators[ast.Pow] = _safe_power
        super().__init__(operators=operators, functions=dict(FUNCTIONS), names={})

    def _check_disallowed_items(self, item: Any) -> None:
        # Values here are JSON data, our own functions or whitelisted str methods: the
        # deep scan simpleeval does would cost O(size of the run) on every name lookup.
        return None

    def _eval_name(self, node: ast.Name) -> Any:
        try:
            return self.names[node.id]
        except KeyError:
            if node.id in self.functions:
                return self.functions[node.id]
            if node.id in ("True", "False", "None", "true", "false", "null"):
                return {"True": True, "true": True, "False": False, "false": False}.get(node.id)
            raise simpleeval.NameNotDefined(node.id, self.expr) from None

    def _eval_attribute(self, node: ast.Attribute) -> Any:
        base = self._eval(node.value)
        if isinstance(base, Mapping):
            try:
                return base[node.attr]
            except KeyError:
                raise _missing(ast.unparse(node.value), base, node.attr) from None
        if isinstance(base, str) and node.attr in _STR_METHODS:
            return getattr(base, node.attr)
        raise _missing(ast.unparse(node.value), base, node.attr)

    def _eval_subscript(self, node: ast.Subscript) -> Any:
        base = self._eval(node.value)
        key = self._eval(node.slice)
        try:
            return base[key]
        except (KeyError, IndexError, TypeError):
            base_src = ast.unparse(node.value)
            if isinstance(node.slice, ast.Constant) or base_src == "nodes":
                raise _missing(base_src, base, key) from None
            # A computed key (vars.scores[inputs.email]) may be personal data: name its
            # expression, not its value.
            raise Missing(
                f"{base_src} has no item [{ast.unparse(node.slice)}] "
                f"(a key of type {type(key).__name__})"
            ) from None

    def _eval_call(self, node: ast.Call) -> Any:
        if isinstance(node.func, ast.Name) and node.func.id == "default":
            return self._eval_default(node)
        if isinstance(node.func, ast.Name) and node.func.id in self.functions:
            func = self.functions[node.func.id]
        elif isinstance(node.func, ast.Attribute) and node.func.attr in _STR_METHODS:
            base = self._eval(node.func.value)
            if not isinstance(base, str):
                raise simpleeval.FeatureNotAvailable(
                    f"{node.func.attr}() works on text, not on {type(base).__name__}"
                )
            func = getattr(base, node.func.attr)
        else:
            raise simpleeval.FeatureNotAvailable(
                f"unknown function {ast.unparse(node.func)!r}; "
                f"available: default, {', '.join(sorted(self.functions))}"
            )
        args = [self._eval(a) for a in node.args]
        kwargs = dict(self._eval(k) for k in node.keywords)
        return func(*args, **kwargs)

    def _eval_default(self, node: ast.Call) -> Any:
        if not 1 <= len(node.args) <= 2 or node.keywords:
            raise simpleeval.FeatureNotAvailable("default() takes (expression, fallback)")
        try:
            value = self._eval(node.args[0])
        except Missing:
            value = None
        if value is None:
            return self._eval(node.args[1]) if len(node.args) == 2 else None
        return value


_local = threading.local()


def _evaluator() -> _Evaluator:
    ev: _Evaluator | None = getattr(_local, "evaluator", None)
    if ev is None:
        ev = _local.evaluator = _Evaluator()
    return ev


def _plain_path(tree: ast.expr) -> tuple[Any, ...] | None:
    """`nodes.x.output['a-b'][0]` as ("nodes", "x", "output", "a-b", 0); None if not a path."""
    keys: list[Any] = []
    while True:
        if isinstance(tree, ast.Attribute):
            keys.append(tree.attr)
            tree = tree.value
        elif isinstance(tree, ast.Subscript) and isinstance(tree.slice, ast.Constant):
            if type(tree.slice.value) not in (str, int):
                return None
            keys.append(tree.slice.value)
            tree = tree.value
        elif isinstance(tree, ast.Name) and tree.id in SCOPE_NAMES:
            keys.append(tree.id)
            return tuple(reversed(keys))
        else:
            return None


def parse_expression(source: str) -> ast.Expression:
    """Parse one template expression. It may span lines, as YAML keeps them in a block
    scalar (`>-` keeps a more-indented line's break): a line break counts as a space."""
    return ast.parse(source.strip().replace("\r", " ").replace("\n", " "), mode="eval")


class Expression:
    """One `{{ ... }}` expression, parsed once."""

    __slots__ = ("_keys", "_tree", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        try:
            self._tree: ast.expr = parse_expression(source).body
        except SyntaxError as e:
            raise TemplateError(
                f"invalid expression {{{{ {source.strip()} }}}}: {e.msg}",
                expression=source.strip(),
            ) from None
        self._keys = _plain_path(self._tree)

    def evaluate(self, scope: Mapping[str, Any]) -> Any:
        """The value; raises Missing or TemplateError (without the where)."""
        keys = self._keys
        if keys is None:
            return self._evaluate_slow(scope)
        try:
            value: Any = scope[keys[0]]
        except KeyError:
            raise TemplateError(f"{keys[0]} is not available here") from None
        for i, key in enumerate(keys[1:], 1):
            try:
                value = value[key]
            except (KeyError, IndexError, TypeError):
                raise _missing(_path_text(keys[:i]), value, key) from None
        return value

    def _evaluate_slow(self, scope: Mapping[str, Any]) -> Any:
        ev = _evaluator()
        ev.names = scope
        try:
            return ev.eval(self.source, previously_parsed=self._tree)
        except (Missing, TemplateError):
            raise
        except simpleeval.NameNotDefined as e:
            raise TemplateError(
                f"unknown name {e.name!r}; use nodes, inputs, vars or run"
            ) from None
        except Exception as e:  # evaluation of user expressions may raise anything
            raise TemplateError(f"{type(e).__name__}: {_without_value(e)}") from None


_QUOTED_TAIL = re.compile(r""":\s*(['"]).*\1\s*$""", re.DOTALL)


def _without_value(error: Exception) -> str:
    """The exception's message without the value it quotes at its end (personal data)."""
    # int('Ada') says "invalid literal for int() with base 10: 'Ada'": the value goes,
    # what went wrong stays.
    text = str(error)
    cut = _QUOTED_TAIL.sub("", text)
    return f"{cut} (the value is not shown)" if cut != text else text


@lru_cache(maxsize=8192)
def compile_expression(source: str) -> Expression:
    """The parsed expression for `source` (cached: each text is parsed once per process)."""
    return Expression(source)
