"""Template expressions: parsed once, evaluated safely over a run's JSON data.

`Expression(source)` parses one `{{ ... }}` body. Plain paths (`nodes.x.output.user.id`,
`inputs['a-b']`) are read directly; anything else goes through simpleeval, changed so that
`a.b` on an object reads the key "b" (never a Python attribute), only a few text methods
can be called, and `default(expr, fallback)` covers missing values.
"""

from __future__ import annotations

import ast
import json
import re
import threading
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import simpleeval

from flowengine._errors import TemplateError, did_you_mean

__all__ = [
    "FUNCTIONS",
    "MAX_BUILT",
    "MAX_EXPRESSION_DEPTH",
    "MAX_EXPRESSION_LENGTH",
    "MAX_RESULT",
    "MAX_TEXT",
    "SCOPE_NAMES",
    "Expression",
    "ExpressionTooLarge",
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
MAX_EXPRESSION_LENGTH = 100_000
"""The longest `{{ ... }}` expression, in characters: FE074."""
MAX_EXPRESSION_DEPTH = 100
"""How deeply an expression's operators, brackets and calls may nest: FE074."""
MAX_TEXT = simpleeval.MAX_STRING_LENGTH
"""The largest text (characters) or list (items) one operation of a template builds."""
MAX_BUILT = 10 * MAX_TEXT
"""What all the values one evaluation builds may add up to (characters and items)."""
MAX_RESULT = 100 * MAX_TEXT
"""The largest value an expression gives, measured as JSON text (10,000,000 characters)."""
MAX_INT_DIGITS = 4000
"""The most digits an integer a template computes may have."""
_INT_LIMIT = 10**MAX_INT_DIGITS
_INT_BITS = 13_288  # 10**4000 has 13,288 bits


_SIZED = frozenset((str, list, tuple, dict, set))
_SCALARS = frozenset((str, int, float, bool, type(None)))


class ExpressionTooLarge(SyntaxError):
    """An expression past MAX_EXPRESSION_LENGTH or MAX_EXPRESSION_DEPTH (FE074)."""


def _too_large(what: str) -> TemplateError:
    """The error for a value past a limit (the value itself is never shown)."""
    return TemplateError(f"{what}; templates build values of at most {MAX_TEXT:,} characters")


def _check_int(value: Any) -> Any:
    """`value`, unless it is an integer of more than MAX_INT_DIGITS digits."""
    if type(value) is int and not -_INT_LIMIT < value < _INT_LIMIT:
        raise TemplateError(
            f"the result would be an integer of more than {MAX_INT_DIGITS:,} digits, "
            "the most a template computes"
        )
    return value


def text_size(value: Any, limit: int) -> int:
    """About how long `value` is as JSON text; stops counting once past `limit`."""
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item) + 2
        elif isinstance(item, Mapping):
            total += 2 + 4 * len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            total += 2 + 2 * len(item)
            stack.extend(item)
        elif type(item) is int:
            total += item.bit_length() // 3 + 1
        else:
            total += 8
        if total > limit:
            return total
    return total


class Missing(Exception):
    """A read of something that is not there; `default()` turns it into its fallback."""

    def __init__(self, message: str, not_run: str | None = None) -> None:
        super().__init__(message)
        self.not_run = not_run
        """The node id, when what is missing is a node that has not run."""


def _safe_power(base: Any, exponent: Any) -> Any:
    if isinstance(exponent, int | float) and abs(exponent) > MAX_EXPONENT:
        raise simpleeval.NumberTooHigh(f"exponent {exponent} is above {MAX_EXPONENT}")
    if type(base) is int and type(exponent) is int and base.bit_length() * exponent > _INT_BITS:
        _check_int(_INT_LIMIT)  # refused before it is computed
    return _check_int(simpleeval.safe_power(base, exponent))


def to_text(value: Any) -> str:
    """How a value reads inside a longer string: text as is, anything else as JSON."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except ValueError:  # NaN is fine; an integer past Python's 4,300 digits is not
        try:
            return str(value)
        except ValueError:
            return f"<an integer of {value.bit_length() * 0.30103:,.0f} digits>"


def _text(value: Any) -> str:
    """`str(value)` in a template: to_text, refused before it would build too much text."""
    if not isinstance(value, str) and text_size(value, MAX_TEXT) > MAX_TEXT:
        raise _too_large(f"str() would make a text of more than {MAX_TEXT:,} characters")
    return to_text(value)


def _join(items: Any, sep: str = "") -> str:
    items = list(items) if not isinstance(items, list | tuple) else items
    total = len(to_text(sep)) * max(len(items) - 1, 0)
    for item in items:
        total += text_size(item, MAX_TEXT)
        if total > MAX_TEXT:
            raise _too_large(f"join() would make a text of more than {MAX_TEXT:,} characters")
    return to_text(sep).join(to_text(i) for i in items)


def _int(value: Any = 0, *base: Any) -> int:
    """`int()` in a template: text of more than MAX_INT_DIGITS digits is refused first."""
    if isinstance(value, str) and len(value.strip().replace("_", "")) > MAX_INT_DIGITS + 1:
        raise TemplateError(
            f"int() of a text of {len(value):,} characters: integers have at most "
            f"{MAX_INT_DIGITS:,} digits"
        )
    return _check_int(int(value, *base))


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len,
    "str": _text,
    "int": _int,
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
        more = did_you_mean(str(key), [str(k) for k in base])
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
        operators[ast.Pow] = self._power
        operators[ast.Add] = self._add
        operators[ast.Mult] = self._mult
        operators[ast.Mod] = self._mod
        for op in (ast.BitOr, ast.BitAnd, ast.BitXor, ast.Sub):
            operators[op] = self._charged(operators[op])
        super().__init__(operators=operators, functions=dict(FUNCTIONS), names={})
        self._built = 0

    # -- the size of every value a template builds, checked before it is built ---------
    # (`_built` is reset before each evaluation by Expression._evaluate_slow)

    def _charge(self, value: Any) -> Any:
        """Count what `value` adds to this evaluation's budget (MAX_BUILT); give it back."""
        if type(value) in _SIZED:
            size = len(value)
            if size > MAX_TEXT:
                raise _too_large(f"the value would have {size:,} characters or items")
            self._built += size
            if self._built > MAX_BUILT:
                raise TemplateError(
                    f"the expression builds more than {MAX_BUILT:,} characters and items "
                    "in all; build less (a comprehension of large texts, say)"
                )
        return value

    def _charged(self, operator: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        return lambda a, b: self._charge(operator(a, b))

    def _power(self, a: Any, b: Any) -> Any:
        return _safe_power(a, b)

    def _add(self, a: Any, b: Any) -> Any:
        if type(a) is int and type(b) is int:
            total = a + b
            return total if -_INT_LIMIT < total < _INT_LIMIT else _check_int(total)
        sized = isinstance(a, str | list | tuple) and isinstance(b, str | list | tuple)
        if sized and len(a) + len(b) > MAX_TEXT:
            raise _too_large("adding these two would make too long a value")
        return self._charge(simpleeval.safe_add(a, b))

    def _mult(self, a: Any, b: Any) -> Any:
        if type(a) is int and type(b) is int:
            if a.bit_length() + b.bit_length() > _INT_BITS + 1:
                _check_int(_INT_LIMIT)  # refused before it is computed
            return _check_int(a * b)
        for seq, times in ((a, b), (b, a)):
            sized = isinstance(seq, str | list | tuple) and type(times) is int
            if sized and len(seq) * times > MAX_TEXT:
                raise _too_large(f"repeating it {times:,} times would make too long a value")
        return self._charge(simpleeval.safe_mult(a, b))

    def _mod(self, a: Any, b: Any) -> Any:
        if isinstance(a, str):
            # '%999999999d' % 1, or '%s%s...' % (big, big, ...): bound the result first.
            specs = re.findall(r"%[-#0 +]*(\d*)(?:\.(\d*))?", a)
            widths = [int(n) for pair in specs for n in pair if n]
            if "*" in a or sum(widths) > MAX_TEXT:
                raise _too_large("a % format's widths would make too long a text")
            args = b.values() if isinstance(b, Mapping) else b if isinstance(b, tuple) else (b,)
            biggest = max((text_size(x, MAX_TEXT) for x in args), default=0)
            if len(a) + sum(widths) + a.count("%") * biggest > MAX_TEXT:
                raise _too_large(f"the % format would make a text of more than {MAX_TEXT:,}")
            return self._charge(a % b)
        return a % b

    def _eval_formattedvalue(self, node: ast.FormattedValue) -> Any:
        if node.format_spec is not None:
            spec = str(self._eval(node.format_spec))
            if any(int(n) > MAX_TEXT for n in re.findall(r"\d+", spec)):
                raise _too_large("an f-string's format width would make too long a text")
        value = self._eval(node.value)
        if not isinstance(value, str) and text_size(value, MAX_TEXT) > MAX_TEXT:
            raise _too_large("an f-string would make too long a text")
        return super()._eval_formattedvalue(node)

    def _eval_joinedstr(self, node: ast.JoinedStr) -> Any:
        return self._charge(super()._eval_joinedstr(node))

    def _eval_comprehension(self, node: Any) -> Any:
        return self._charge(super()._eval_comprehension(node))

    def _call_method(self, name: str, base: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """A text method, refused before it would build more than MAX_TEXT characters."""
        if name == "zfill" and args and isinstance(args[0], int) and args[0] > MAX_TEXT:
            raise _too_large(f"zfill({args[0]:,}) would make too long a text")
        if name == "replace" and len(args) >= 2 and isinstance(args[0], str):
            old, new = args[0], args[1]
            count = base.count(old) if old else len(base) + 1
            if len(args) > 2 and isinstance(args[2], int) and args[2] >= 0:
                count = min(count, args[2])
            if isinstance(new, str) and len(base) + count * (len(new) - len(old)) > MAX_TEXT:
                raise _too_large("replace() would make too long a text")
        if name == "join" and args:
            items = list(args[0])
            if all(isinstance(i, str) for i in items):
                total = sum(map(len, items)) + len(base) * max(len(items) - 1, 0)
                if total > MAX_TEXT:
                    raise _too_large("join() would make too long a text")
            args = [items, *args[1:]]
        return getattr(base, name)(*args, **kwargs)

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
            args = [self._eval(a) for a in node.args]
            kwargs = dict(self._eval(k) for k in node.keywords)
            return self._charge(self._call_method(node.func.attr, base, args, kwargs))
        else:
            raise simpleeval.FeatureNotAvailable(
                f"unknown function {ast.unparse(node.func)!r}; "
                f"available: default, {', '.join(sorted(self.functions))}"
            )
        args = [self._eval(a) for a in node.args]
        kwargs = dict(self._eval(k) for k in node.keywords)
        return self._charge(func(*args, **kwargs))

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
    scalar (`>-` keeps a more-indented line's break): a line break counts as a space.

    One longer than MAX_EXPRESSION_LENGTH or nested deeper than MAX_EXPRESSION_DEPTH is
    ExpressionTooLarge (a SyntaxError), so that what reads the tree never recurses too deep.
    """
    text = source.strip().replace("\r", " ").replace("\n", " ")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionTooLarge(
            f"the expression is {len(text):,} characters long, longer than the "
            f"{MAX_EXPRESSION_LENGTH:,} a template may hold; compute the value in a node"
        )
    try:
        tree = ast.parse(text, mode="eval")
    except (RecursionError, MemoryError):
        raise ExpressionTooLarge(_TOO_DEEP) from None
    except ValueError:  # a NUL character, on Pythons that say so with ValueError
        raise SyntaxError("the expression holds a NUL character") from None
    if len(text) > MAX_EXPRESSION_DEPTH // 2 and _depth(tree) > MAX_EXPRESSION_DEPTH:
        raise ExpressionTooLarge(_TOO_DEEP)
    return tree


_TOO_DEEP = (
    f"the expression nests deeper than {MAX_EXPRESSION_DEPTH} levels of operators, brackets "
    "and calls; split it into simpler expressions"
)


def _depth(tree: ast.AST) -> int:
    """How deep the tree goes (without recursion); stops once past MAX_EXPRESSION_DEPTH."""
    deepest = 0
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > deepest:
            deepest = depth
            if deepest > MAX_EXPRESSION_DEPTH:
                break
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


class Expression:
    """One `{{ ... }}` expression, parsed once."""

    __slots__ = ("_keys", "_tree", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        try:
            self._tree: ast.expr = parse_expression(source).body
        except SyntaxError as e:
            shown = _shorten(source.strip())
            raise TemplateError(
                f"invalid expression {{{{ {shown} }}}}: {e.msg}", expression=shown
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
        ev._built = 0
        try:
            value = ev.eval(self.source, previously_parsed=self._tree)
            if type(value) not in _SCALARS and text_size(value, MAX_RESULT) > MAX_RESULT:
                raise TemplateError(
                    f"the value would be more than {MAX_RESULT:,} characters as JSON, "
                    "the most an expression gives"
                )
            return value
        except (Missing, TemplateError):
            raise
        except simpleeval.NameNotDefined as e:
            raise TemplateError(
                f"unknown name {e.name!r}; use nodes, inputs, vars or run"
            ) from None
        except Exception as e:  # evaluation of user expressions may raise anything
            raise TemplateError(f"{type(e).__name__}: {_without_value(e)}") from None


def _shorten(source: str, limit: int = 200) -> str:
    """An expression as error messages show it: at most `limit` characters."""
    return source if len(source) <= limit else f"{source[:limit]}... ({len(source):,} characters)"


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
