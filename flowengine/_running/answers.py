"""Checking an answers file against a flow before the run starts: every problem at once.

An answers file is checked the way a flow is: each problem is a Diagnostic placed at the key
or value it is about (`answers.yaml:4:3: FA004 ...`), and all of them are reported before
anything runs, so a typo costs no side effect in any connected system. What is checked comes from
the capabilities, not from a list of connectors:

- FA001 an answered node id the flow does not have (did you mean ...?);
- FA002 an answered node whose capability never asks (only `interactive` capabilities do);
- FA003 an answer that is not an object (a list's items may also be `~`, "leave unanswered");
- FA004 a field the node's form does not declare, when its capability derives the node's
  output from its `with:` (`output_schema_of`: a form's fields); `action` is a button press;
- FA005 an action `{do: NAME}` no plugin registered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flowengine._errors import did_you_mean
from flowengine._plugins.registry import Registry
from flowengine._reading.diagnostic import Diagnostic
from flowengine._reading.marked_yaml import YamlDocument, load_yaml, read_file_text
from flowengine._reading.spec import FlowSpec, NodeSpec

__all__ = ["check_answers"]

BUTTON_KEY = "action"
"""The response key of a form's other buttons (FLOW_BUTTON): not a field."""


def check_answers(
    responses: Mapping[str, Any], source: str, flow: FlowSpec, registry: Registry
) -> list[Diagnostic]:
    """Every problem of an answers file (`source`: its path, for the places) for `flow`."""
    doc = _marks(source)
    found = []
    for node_id, answer in responses.items():
        found += _check_node(doc, flow, registry, str(node_id), answer)
    return sorted(found, key=lambda d: (d.location.line, d.location.col))


def _marks(source: str) -> YamlDocument:
    """The answers file's key and value places (none for answers given as data)."""
    try:
        text = read_file_text(source, "the answers file")  # as Answers.load read it
    except (OSError, ValueError):
        return YamlDocument(source)
    return load_yaml(text, source)


def _check_node(
    doc: YamlDocument, flow: FlowSpec, registry: Registry, node_id: str, answer: Any
) -> list[Diagnostic]:
    node = flow.all_nodes.get(node_id)
    if node is None:
        message = f"answers node {node_id!r}, which flow {flow.id!r} does not have"
        hint = did_you_mean(node_id, flow.all_nodes) or f" (its nodes: {', '.join(flow.all_nodes)})"
        return [doc.diagnostic("FA001", message + hint, (node_id,))]
    capability = _capability(flow, registry, node)
    if capability is not None and not capability.capability.interactive:
        return [
            doc.diagnostic(
                "FA002",
                f"answers node {node_id!r}, but {capability.qualname} never asks for an answer "
                "(only screens do: forms, QR codes, messages); remove the entry",
                (node_id,),
            )
        ]
    fields = _fields(capability, node)
    items = list(enumerate(answer)) if isinstance(answer, list) else [(None, answer)]
    problems: list[Diagnostic] = []
    for index, item in items:
        path = (node_id,) if index is None else (node_id, index)
        problems += _check_response(doc, registry, node_id, path, item, fields, index is not None)
    return problems


def _capability(flow: FlowSpec, registry: Registry, node: NodeSpec) -> Any:
    """The node's loaded capability, or None (a parallel block, or a flow checked already)."""
    if not node.use:
        return None
    connection = flow.connections.get(node.connection)
    connector = connection.connector if connection else node.connection
    return registry.capabilities.get((connector, node.capability))


def _fields(capability: Any, node: NodeSpec) -> list[str] | None:
    """The field names a node's response may hold, when its capability derives them."""
    derive = capability.capability.output_schema_of if capability is not None else None
    if derive is None:
        return None
    try:
        schema = derive(node.inputs)
    except Exception:  # a refinement only, as in the static checks
        return None
    properties = schema.get("properties") if isinstance(schema, dict) else None
    return list(properties) if isinstance(properties, dict) else None


def _check_response(
    doc: YamlDocument,
    registry: Registry,
    node_id: str,
    path: tuple[Any, ...],
    response: Any,
    fields: list[str] | None,
    in_list: bool,
) -> list[Diagnostic]:
    if response is None and in_list:
        return []  # `~`: leave this ask unanswered
    if not isinstance(response, dict):
        name = type(response).__name__
        what = "null" if response is None else f"{'an' if name[0] in 'aeiou' else 'a'} {name}"
        return [
            doc.diagnostic(
                "FA003",
                f"the answer for node {node_id!r} is {what}, not an object; write field values "
                f"({node_id}: {{email: a@b.c}}), {{}} to continue, or an action ({{do: <name>}})",
                path,
                at_value=True,
            )
        ]
    action = response.get("do")
    if isinstance(action, str):
        if action in registry.answer_actions:
            return []
        known = sorted(registry.answer_actions)
        hint = did_you_mean(action, known) or f" (registered: {', '.join(known) or 'none'})"
        message = f"the answer for node {node_id!r} uses action {action!r}, which no plugin has"
        return [doc.diagnostic("FA005", message + hint, (*path, "do"), at_value=True)]
    if fields is None:
        return []
    return [
        doc.diagnostic(
            "FA004",
            f"the answer for node {node_id!r} fills field {key!r}, which its form does not have"
            + (did_you_mean(key, fields) or f" (its fields: {', '.join(fields)})"),
            (*path, key),
        )
        for key in response
        if key not in fields and key != BUTTON_KEY
    ]
