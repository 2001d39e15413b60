"""The `variables` connector: set and increment run variables.

Traces hide every value `set` writes (personal data by default); `increment` works on
numbers only, so its counters stay readable.
A capability cannot write run.vars itself; it returns them in the reserved output key
`set_vars`, which the runtime merges into run.vars after the node finishes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flowengine import CallContext, Connector, ConnectorError, hookimpl

connector = Connector(
    name="variables",
    title="Variables",
    description="Set and increment the run's variables (vars.<name> in templates).",
)


# Named `set` in flows; the function has another name so as not to hide the builtin.
# Its values are personal data: flows copy names, emails and ids into variables, and a
# capability cannot tell those from flags. Counters stay readable through `increment`.
@connector.capability(
    "set",
    title="Set variables",
    outcomes=("success",),
    personal_data=("values.*", "set_vars.*"),
)
def set_variables(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any]:
    """Set each variable in `values` to its (rendered) value."""
    return {"set_vars": dict(inputs["values"])}


@connector.capability(title="Increment a variable", outcomes=("success",))
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
