"""The `functions` connector: comparisons, switches and conditions that pick an outcome,
and a wait (the pause between two polls).

Traces hide what a node got from the run (a template: a status, an email): a switch's
`value` in its input and output, a comparison's `left` / `right`, a condition's `expression`;
a literal written in the flow stays readable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flowengine import CallContext, Connector, ConnectorError, Outcome, hookimpl, to_text

__all__ = ["bool_word", "compared_values", "connector", "templated", "tested_expression"]

connector = Connector(
    name="functions",
    idempotent=True,  # pure functions of their inputs: a node may retry them
    schema_dir=Path(__file__).parent / "schemas",
    title="Functions",
    description=(
        "Compare values, switch on a value, test a condition: each picks an outcome; "
        "wait a while between polls."
    ),
)

_FALSE_WORDS = frozenset({"false", "no", "off", "0", ""})
_TRUE_WORDS = frozenset({"true", "yes", "on", "1"})


def bool_word(text: str) -> bool | None:
    """A word for a boolean (true/false, yes/no, on/off, 1/0; blank is false), or None."""
    word = text.strip().lower()
    if word in _FALSE_WORDS:
        return False
    if word in _TRUE_WORDS:
        return True
    return None


def _number(value: Any) -> float | None:
    """The value as a number, or None when it is not one (booleans are not numbers here)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _equals(left: Any, right: Any) -> bool:
    """Equality as flows mean it: "3" equals 3, true equals "true", but true is not 1."""
    if isinstance(left, bool) or isinstance(right, bool) or left is None or right is None:
        # Python's True == 1 and str(None) == "None" are not what a flow means.
        return to_text(left) == to_text(right)
    if left == right:
        return True
    # Templates render to strings when mixed with text, so "3" must equal 3.
    ln, rn = _number(left), _number(right)
    if ln is not None and rn is not None:
        return ln == rn
    scalar = str | int | float
    return isinstance(left, scalar) and isinstance(right, scalar) and str(left) == str(right)


def _ordered(left: Any, right: Any, op: str) -> bool:
    """`greater` / `less` between two numbers or two strings."""
    ln, rn = _number(left), _number(right)
    if ln is not None and rn is not None:
        return ln > rn if op == "greater" else ln < rn
    if isinstance(left, str) and isinstance(right, str):
        return left > right if op == "greater" else left < right
    raise ConnectorError(
        # Types, never values: flows compare variables that hold personal data.
        f"cannot compare a {type(left).__name__} {op} a {type(right).__name__}: "
        "use two numbers or two strings",
        code="INVALID_COMPARISON",
    )


def _contains(left: Any, right: Any) -> bool:
    """Substring, key of an object, or item of a list."""
    if isinstance(left, str):
        return to_text(right) in left
    if isinstance(left, dict):
        return right in left
    if isinstance(left, list):
        return any(_equals(item, right) for item in left)
    raise ConnectorError(
        f"'contains' needs a string, list or object on the left, not {type(left).__name__}",
        code="INVALID_COMPARISON",
    )


def _is_empty(value: Any) -> bool:
    """True for null, "", blank strings, and empty lists or objects."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | dict):
        return not value
    return False


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "equals": _equals,
    "not equals": lambda a, b: not _equals(a, b),
    "contains": _contains,
    "greater": lambda a, b: _ordered(a, b, "greater"),
    "less": lambda a, b: _ordered(a, b, "less"),
    "empty": lambda a, _b: _is_empty(a),
}


def compared_values(with_: Mapping[str, Any]) -> tuple[str, ...]:
    """The personal data paths of one `compare` node: `left` / `right` that come from the run."""
    return tuple(side for side in ("left", "right") if templated(with_.get(side)))


def tested_expression(with_: Mapping[str, Any]) -> tuple[str, ...]:
    """The personal data paths of one `condition` node: its `expression`, when a template."""
    return ("expression",) if templated(with_.get("expression")) else ()


@connector.capability(
    title="Compare two values", outcomes=("true", "false"), personal_data_of=compared_values
)
def compare(inputs: dict[str, Any], ctx: CallContext) -> Outcome:
    """Compare `left` with `right` using `operator`; outcome "true" or "false"."""
    result = _OPERATORS[inputs["operator"]](inputs.get("left"), inputs.get("right"))
    return Outcome("true" if result else "false", {"result": result})


def templated(value: Any) -> bool:
    """Whether a value as written in a flow holds a template (its run value is the run's)."""
    if isinstance(value, str):
        return "{{" in value
    if isinstance(value, Mapping):
        return any(templated(v) for v in value.values())
    if isinstance(value, list):
        return any(templated(v) for v in value)
    return False


def switched_value(with_: Mapping[str, Any]) -> tuple[str, ...]:
    """The personal data paths of one `switch` node: its `value`, when it comes from the run."""
    # Input `value` and output `value` share the path.
    return ("value",) if templated(with_.get("value")) else ()


@connector.capability(
    title="Switch on a value",
    outcomes=(),
    dynamic_outcomes=("cases", "default"),
    personal_data_of=switched_value,
)
def switch(inputs: dict[str, Any], ctx: CallContext) -> Outcome:
    """The outcome is the label that `cases` gives `value`, else the `default` label."""
    value = inputs.get("value")
    cases: dict[str, str] = inputs["cases"]
    key = _case_key(value)
    if key in cases:
        return Outcome(cases[key], {"value": value, "matched": True})
    default = inputs.get("default")
    if default is None:
        raise ConnectorError(
            f"the value ({type(value).__name__}) matches none of the cases {sorted(cases)} "
            "and there is no default: add a case or a default",
            code="NO_MATCHING_CASE",
        )
    return Outcome(default, {"value": value, "matched": False})


def _case_key(value: Any) -> str:
    """Case keys are YAML mapping keys, so strings: match 1 with "1" and true with "true"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@connector.capability(
    title="Test a condition", outcomes=("true", "false"), personal_data_of=tested_expression
)
def condition(inputs: dict[str, Any], ctx: CallContext) -> Outcome:
    """Outcome "true" when `expression` (usually a `{{ }}` template already rendered) is truthy."""
    result = _truthy(inputs.get("expression"))
    return Outcome("true" if result else "false", {"result": result})


def _truthy(value: Any) -> bool:
    """How a condition reads a value: words like "false"/"no"/"0" and empty things are false."""
    if isinstance(value, str):
        word = bool_word(value)
        if word is not None:
            return word
        raise ConnectorError(
            f"the condition's text ({len(value)} characters) is neither true nor false "
            "(true/false, yes/no, on/off, 1/0): write a template such as "
            '"{{ vars.attempts > 3 }}" that renders to a boolean',
            code="INVALID_CONDITION",
        )
    return bool(value)


@connector.capability(title="Wait", outcomes=("success",))
async def wait(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    """Wait `seconds` on the run's clock, then go on: a pause between polls of a status that
    another system updates (a transaction PingOne is still processing)."""
    seconds = float(inputs["seconds"])
    await ctx.clock.sleep(seconds)
    return {"waited": seconds}


@hookimpl
def register_connectors(register: Callable[[Connector], None]) -> None:
    """Register the functions connector."""
    register(connector)
