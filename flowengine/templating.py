"""Templates: `{{ ... }}` expressions over a run's nodes, inputs, variables and id.

A value is compiled once into a Renderer (constant parts are kept as they are) and rendered
many times. A string that is exactly one template keeps the expression's type; any other
string with templates renders to text. Expressions are evaluated with simpleeval, with two
changes that make them safe and pleasant over JSON data:

* `a.b` on an object reads the key "b" (never a Python attribute), so `nodes.x.output.items`
  is the key "items" and `nodes.x.output._links` works; on text only a few methods
  (`lower`, `upper`, `strip`, ...) are allowed; nothing else can be reached.
* `default(expr, fallback)` yields `fallback` when `expr` reads a node that has not run, a
  missing key or item, or null.

Plain paths (`nodes.x.output.user.id`, `inputs['a-b']`) skip the evaluator altogether.
`expand_env()` reads `${VAR}` / `${VAR:-default}` in connection settings.
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

from flowengine.errors import TemplateError

__all__ = [
    "Expression",
    "Renderer",
    "compile_expression",
    "compile_value",
    "expand_env",
    "referenced_nodes",
    "render",
]

SCOPE_NAMES = ("nodes", "inputs", "vars", "run")
_TEMPLATE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
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


class _Missing(Exception):
    """A read of something that is not there; `default()` turns it into its fallback."""


def _safe_power(base: Any, exponent: Any) -> Any:
    if isinstance(exponent, int | float) and abs(exponent) > MAX_EXPONENT:
        raise simpleeval.NumberTooHigh(f"exponent {exponent} is above {MAX_EXPONENT}")
    return simpleeval.safe_power(base, exponent)


def _to_text(value: Any) -> str:
    """How a value reads inside a longer string: text as is, anything else as JSON."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except ValueError:
        return str(value)


def _join(items: Any, sep: str = "") -> str:
    return sep.join(_to_text(i) for i in items)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len,
    "str": _to_text,
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


def _describe_missing(base_src: str, base: Any, key: Any) -> str:
    """Say why `key` cannot be read from `base` (written `base_src` in the expression)."""
    if base_src == "nodes" and isinstance(base, Mapping):
        return f"nodes.{key} has not run"
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
                raise _Missing(
                    _describe_missing(ast.unparse(node.value), base, node.attr)
                ) from None
        if isinstance(base, str) and node.attr in _STR_METHODS:
            return getattr(base, node.attr)
        raise _Missing(_describe_missing(ast.unparse(node.value), base, node.attr))

    def _eval_subscript(self, node: ast.Subscript) -> Any:
        base = self._eval(node.value)
        key = self._eval(node.slice)
        try:
            return base[key]
        except (KeyError, IndexError, TypeError):
            raise _Missing(_describe_missing(ast.unparse(node.value), base, key)) from None

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
        except _Missing:
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


def _nodes_in(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for sub in ast.walk(tree):
        if not (
            isinstance(sub, ast.Attribute | ast.Subscript)
            and isinstance(sub.value, ast.Name)
            and sub.value.id == "nodes"
        ):
            continue
        if isinstance(sub, ast.Attribute):
            found.add(sub.attr)
        elif isinstance(sub.slice, ast.Constant) and isinstance(sub.slice.value, str):
            found.add(sub.slice.value)
    return found


class Expression:
    """One `{{ ... }}` expression, parsed once."""

    __slots__ = ("_keys", "_tree", "nodes", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        try:
            self._tree: ast.expr = ast.parse(source.strip(), mode="eval").body
        except SyntaxError as e:
            raise TemplateError(
                f"invalid expression {{{{ {source.strip()} }}}}: {e.msg}",
                expression=source.strip(),
            ) from None
        self._keys = _plain_path(self._tree)
        self.nodes: frozenset[str] = frozenset(_nodes_in(self._tree))

    def evaluate(self, scope: Mapping[str, Any]) -> Any:
        """The value; raises _Missing or TemplateError (without the where)."""
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
                raise _Missing(_describe_missing(_path_text(keys[:i]), value, key)) from None
        return value

    def _evaluate_slow(self, scope: Mapping[str, Any]) -> Any:
        ev = _evaluator()
        ev.names = scope
        try:
            return ev.eval(self.source, previously_parsed=self._tree)
        except (_Missing, TemplateError):
            raise
        except simpleeval.NameNotDefined as e:
            raise TemplateError(
                f"unknown name {e.name!r}; use nodes, inputs, vars or run"
            ) from None
        except Exception as e:  # evaluation of user expressions may raise anything
            raise TemplateError(f"{type(e).__name__}: {e}") from None


@lru_cache(maxsize=8192)
def compile_expression(source: str) -> Expression:
    """The parsed expression for `source` (cached: each text is parsed once per process)."""
    return Expression(source)


def _field(json_path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{json_path}[{key}]"
    if isinstance(key, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        return f"{json_path}.{key}"
    return f"{json_path}[{key!r}]"


class Renderer:
    """A compiled value: `render(scope)` gives it with every template evaluated."""

    __slots__ = ("is_constant",)

    def __init__(self, is_constant: bool) -> None:
        self.is_constant = is_constant

    def render(self, scope: Mapping[str, Any]) -> Any:
        raise NotImplementedError


class _Constant(Renderer):
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        super().__init__(True)
        self.value = value

    def render(self, scope: Mapping[str, Any]) -> Any:
        return self.value


class _Context:
    """Where a template sits, for error messages: the node, the field's JSON path."""

    __slots__ = ("field", "node_id", "where")

    def __init__(self, where: str, field: str, node_id: str | None) -> None:
        self.where, self.field, self.node_id = where, field, node_id

    def fail(self, expr: Expression, message: str) -> TemplateError:
        prefix = f"{self.where} {self.field}: " if self.where else f"{self.field}: "
        return TemplateError(
            f"{prefix}{message} (expression: {expr.source.strip()})",
            expression=expr.source.strip(),
            node_id=self.node_id,
            field=self.field,
        )


def _evaluate(expr: Expression, scope: Mapping[str, Any], ctx: _Context) -> Any:
    try:
        return expr.evaluate(scope)
    except _Missing as e:
        raise ctx.fail(expr, str(e)) from None
    except TemplateError as e:
        raise ctx.fail(expr, str(e)) from None


class _Single(Renderer):
    __slots__ = ("ctx", "expr")

    def __init__(self, expr: Expression, ctx: _Context) -> None:
        super().__init__(False)
        self.expr, self.ctx = expr, ctx

    def render(self, scope: Mapping[str, Any]) -> Any:
        return _evaluate(self.expr, scope, self.ctx)


class _Text(Renderer):
    __slots__ = ("ctx", "parts")

    def __init__(self, parts: list[str | Expression], ctx: _Context) -> None:
        super().__init__(False)
        self.parts, self.ctx = parts, ctx

    def render(self, scope: Mapping[str, Any]) -> Any:
        return "".join(
            p if isinstance(p, str) else _to_text(_evaluate(p, scope, self.ctx)) for p in self.parts
        )


class _Dict(Renderer):
    __slots__ = ("constant", "dynamic")

    def __init__(self, constant: dict[Any, Any], dynamic: list[tuple[Any, Renderer]]) -> None:
        super().__init__(False)
        self.constant, self.dynamic = constant, dynamic

    def render(self, scope: Mapping[str, Any]) -> Any:
        out = dict(self.constant)
        for key, renderer in self.dynamic:
            out[key] = renderer.render(scope)
        return out


class _List(Renderer):
    __slots__ = ("items",)

    def __init__(self, items: list[Renderer]) -> None:
        super().__init__(False)
        self.items = items

    def render(self, scope: Mapping[str, Any]) -> Any:
        return [r.render(scope) for r in self.items]


def _compile(value: Any, where: str, path: str, node_id: str | None) -> Renderer:
    if isinstance(value, str):
        return _compile_text(value, _Context(where, path, node_id))
    if isinstance(value, Mapping):
        parts = {k: _compile(v, where, _field(path, k), node_id) for k, v in value.items()}
        if all(r.is_constant for r in parts.values()):
            return _Constant(value)
        constant = {k: r.render({}) for k, r in parts.items() if r.is_constant}
        return _Dict(constant, [(k, r) for k, r in parts.items() if not r.is_constant])
    if isinstance(value, list | tuple):
        items = [_compile(v, where, _field(path, i), node_id) for i, v in enumerate(value)]
        if all(r.is_constant for r in items):
            return _Constant(value)
        return _List(items)
    return _Constant(value)


def _compile_text(text: str, ctx: _Context) -> Renderer:
    if "{{" not in text:
        return _Constant(text)
    pieces = _TEMPLATE.split(text)  # text, expr, text, expr, ..., text
    try:
        exprs = [compile_expression(src) for src in pieces[1::2]]
    except TemplateError as e:
        prefix = f"{ctx.where} {ctx.field}: " if ctx.where else f"{ctx.field}: "
        raise TemplateError(
            f"{prefix}{e}", expression=e.expression, node_id=ctx.node_id, field=ctx.field
        ) from None
    if len(pieces) == 3 and pieces[0] == "" and pieces[2] == "":
        return _Single(exprs[0], ctx)
    parts: list[str | Expression] = []
    for i, piece in enumerate(pieces):
        if i % 2:
            parts.append(exprs[i // 2])
        elif piece:
            parts.append(piece)
    return _Text(parts, ctx)


def compile_value(value: Any, *, where: str = "", node_id: str | None = None) -> Renderer:
    """Compile a value (dicts and lists walked) once; render it with `.render(scope)`.

    `where` starts error messages (e.g. "Node 'x' input"); it defaults to that form when
    `node_id` is given.
    """
    if not where and node_id is not None:
        where = f"Node {node_id!r} input"
    return _compile(value, where, "$", node_id)


def render(value: Any, scope: Mapping[str, Any]) -> Any:
    """Compile and render in one go (for one-off values; hot paths keep the Renderer)."""
    return compile_value(value).render(scope)


def referenced_nodes(value: Any) -> set[str]:
    """Node ids read as `nodes.<id>` (or `nodes['<id>']`) by the templates inside `value`."""
    found: set[str] = set()
    if isinstance(value, str):
        for src in _TEMPLATE.findall(value):
            found |= compile_expression(src).nodes
    elif isinstance(value, Mapping):
        for item in value.values():
            found |= referenced_nodes(item)
    elif isinstance(value, list | tuple):
        for item in value:
            found |= referenced_nodes(item)
    return found


_ENV = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_env(settings: Mapping[str, Any], environ: Mapping[str, str]) -> tuple[dict, set[str]]:
    """Replace `${VAR}` / `${VAR:-default}` (and `$$` by `$`) in settings.

    Returns the expanded settings and the set of values read from `environ`, which are
    secrets for redaction. A variable that is unset and has no default is a TemplateError
    naming the setting.
    """
    secrets: set[str] = set()
    expanded = _expand(settings, environ, secrets, "$")
    return expanded, secrets


def _expand(value: Any, environ: Mapping[str, str], secrets: set[str], path: str) -> Any:
    if isinstance(value, str):
        return _expand_text(value, environ, secrets, path)
    if isinstance(value, Mapping):
        return {k: _expand(v, environ, secrets, _field(path, k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_expand(v, environ, secrets, _field(path, i)) for i, v in enumerate(value)]
    return value


def _expand_text(text: str, environ: Mapping[str, str], secrets: set[str], path: str) -> str:
    if "$" not in text:
        return text

    def substitute(match: re.Match[str]) -> str:
        name, fallback = match.group(1), match.group(2)
        if name is None:
            return "$"
        if name in environ:
            value = environ[name]
            if value:
                secrets.add(value)
            return value
        if fallback is not None:
            return fallback
        raise TemplateError(
            f"setting {path}: environment variable {name} is not set and has no default;"
            f" set it or write ${{{name}:-default}}",
            expression=match.group(0),
            field=path,
        )

    return _ENV.sub(substitute, text)
