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
`expand_settings()` reads `${VAR}` / `${VAR:-default}` in connection settings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flowengine._errors import TemplateError
from flowengine._reading.expression import (
    MAX_RESULT,
    Expression,
    Missing,
    compile_expression,
    to_text,
)

__all__ = [
    "ENV_REFERENCE",
    "Expression",
    "Renderer",
    "compile_expression",
    "compile_value",
    "env_names",
    "expand_settings",
    "render",
    "to_text",
]

_TEMPLATE = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


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
    except Missing as e:
        message = str(e) if e.not_run is None else _not_run(e.not_run, expr, ctx.node_id)
        raise ctx.fail(expr, message) from None
    except TemplateError as e:
        raise ctx.fail(expr, str(e)) from None


_SHORT_EXPRESSION = 60
"""Up to this long, the fix for a read of a node that has not run quotes the expression."""


def _not_run(node: str, expr: Expression, reader: str | None) -> str:
    """Why a read of node `node` failed, and the two ways to fix it."""
    source = expr.source.strip()
    if len(source) <= _SHORT_EXPRESSION:
        fix = f"write default({source}, fallback)"
    else:
        fix = f"wrap the read of nodes.{node} in default(..., fallback)"
    before = f"before {reader!r}" if reader else "first"
    return (
        f"nodes.{node} has not run; route the flow so that {node!r} runs {before}, "
        f"or {fix} if it may not have run"
    )


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
        texts = [
            p if isinstance(p, str) else to_text(_evaluate(p, scope, self.ctx)) for p in self.parts
        ]
        if sum(map(len, texts)) > MAX_RESULT:
            first = next(p for p in self.parts if not isinstance(p, str))
            raise self.ctx.fail(
                first, f"the text would be more than {MAX_RESULT:,} characters long; build less"
            )
        return "".join(texts)


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


ENV_REFERENCE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
"""`${VAR}`, `${VAR:-default}` and `$$` in connection settings (the loader checks with it too)."""


def expand_settings(
    settings: Mapping[str, Any], environ: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, set[str]]]:
    """Replace `${VAR}` / `${VAR:-default}` (and `$$` by `$`) in settings.

    Returns the expanded settings and the non-empty values read from `environ`, per
    top-level setting name (whether each is a secret is the engine's rule:
    `setting_secrets` in the connection pool). A variable that is unset and has no default is a
    TemplateError naming the setting.
    """
    reads: dict[str, set[str]] = {}
    expanded: dict[str, Any] = {}
    for key, value in settings.items():
        found: set[str] = set()
        expanded[key] = _expand(value, environ, found, _field("$", key))
        if found:
            reads[key] = found
    return expanded, reads


def env_names(value: Any) -> tuple[str, ...]:
    """The environment variables `${VAR}` inside `value` reads, in order, each once."""
    names: dict[str, None] = {}
    if isinstance(value, str):
        names.update((m.group(1), None) for m in ENV_REFERENCE.finditer(value) if m.group(1))
    elif isinstance(value, Mapping):
        for item in value.values():
            names.update(dict.fromkeys(env_names(item)))
    elif isinstance(value, list | tuple):
        for item in value:
            names.update(dict.fromkeys(env_names(item)))
    return tuple(names)


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

    return ENV_REFERENCE.sub(substitute, text)
