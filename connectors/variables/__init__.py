"""The `variables` connector: set and increment run variables.

Traces hide each value `set` copies from the run (a template: names, emails, ids are
personal data by default) and show the literals written in the flow (`index: 0`, flags);
`increment` works on numbers only, so its counters stay readable.
A capability cannot write run.vars itself; it returns them in the reserved output key
`set_vars`, which the runtime merges into run.vars after the node finishes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from flowengine_connectors.functions import templated

from flowengine import CallContext, Connector, ConnectorError, hookimpl

connector = Connector(
    name="variables",
    idempotent=True,  # they change the run only by their output, applied once on success
    schema_dir=Path(__file__).parent / "schemas",
    title="Variables",
    description="Set and increment the run's variables (vars.<name> in templates).",
)


def copied_values(with_: Mapping[str, Any]) -> tuple[str, ...]:
    """The personal data paths of one `set` node: every value it copies from the run."""
    values = with_.get("values")
    if not isinstance(values, Mapping):  # one template gives the whole object
        return ("values.*", "set_vars.*") if templated(values) else ()
    # A literal was written by the flow's author, not given by the person: it stays readable.
    names = [name for name, value in values.items() if templated(value)]
    return tuple(path for name in names for path in (f"values.{name}", f"set_vars.{name}"))


def _setting(names: Any) -> dict[str, Any] | None:
    """The output schema of a node that sets the variables `names` (None: not known)."""
    if not isinstance(names, list) or not all(
        isinstance(n, str) and not templated(n) for n in names
    ):
        return None
    set_vars = {
        "type": "object",
        "properties": {n: {} for n in names},
        "additionalProperties": False,
    }
    return {"type": "object", "properties": {"value": {}, "set_vars": set_vars}}


def set_names(with_: Mapping[str, Any]) -> dict[str, Any] | None:
    """One `set` node's output schema: the variables its `values` names."""
    values = with_.get("values")
    return _setting(list(values)) if isinstance(values, Mapping) else None


def incremented_name(with_: Mapping[str, Any]) -> dict[str, Any] | None:
    """One `increment` node's output schema: the variable it counts."""
    return _setting([with_.get("name")])


# Named `set` in flows; the function has another name so as not to hide the builtin.
@connector.capability(
    "set",
    title="Set variables",
    outcomes=("success",),
    personal_data_of=copied_values,
    output_schema_of=set_names,
)
def set_variables(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    """Set each variable in `values` to its (rendered) value."""
    return {"set_vars": dict(inputs["values"])}


@connector.capability(
    title="Increment a variable", outcomes=("success",), output_schema_of=incremented_name
)
def increment(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    """Add `by` (default 1) to the number variable `name`; a missing variable counts as 0."""
    name = inputs["name"]
    current = ctx.vars.get(name, 0)
    if isinstance(current, bool) or not isinstance(current, int | float):
        raise ConnectorError(
            # The type, never the value: a variable may hold an email or a name.
            f"variable {name!r} holds {type(current).__name__}, not a number: "
            "set it to a number first",
            code="NOT_A_NUMBER",
        )
    value = current + inputs.get("by", 1)
    return {"value": value, "set_vars": {name: value}}


@hookimpl
def register_connectors(register: Callable[[Connector], None]) -> None:
    """Register the variables connector."""
    register(connector)
