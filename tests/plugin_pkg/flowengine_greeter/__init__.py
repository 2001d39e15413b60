"""The `greeter` connector: greets a person, or reports "nobody" for an empty name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flowengine import CallContext, Connector, Interaction, Outcome, hookimpl

connector = Connector(
    name="greeter",
    title="Greeter",
    schema_dir=Path(__file__).parent / "schemas",
)


@connector.capability(title="Greet someone", outcomes=("success", "nobody"))
async def greet(inputs: dict[str, Any], ctx: CallContext) -> dict[str, Any] | Outcome:
    """Say hello to `name` with the connection's `greeting`."""
    name = inputs["name"].strip()
    if not name:
        return Outcome("nobody", {"greeting": ""})
    return {"greeting": f"{ctx.settings.get('greeting', 'Hello')}, {name}!"}


async def pick_name(interaction: Interaction, args: dict[str, Any], env: Any) -> dict[str, Any]:
    """Answer action `greeter.name`: fill the first field of a form with args["name"]."""
    first = interaction.data["fields"][0]["name"]
    return {first: args["name"]}


@hookimpl
def register_connectors(register: Callable[[Connector], None]) -> None:
    register(connector)


@hookimpl
def register_answer_actions(register: Callable[[str, Any], None]) -> None:
    register("greeter.name", pick_name)
