"""What the CLI's commands share: failing with exit code 2, shared options, reading files."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from flowengine._errors import FlowDefinitionError
from flowengine._storing.stores import DEFAULT_STORE_URL

__all__ = [
    "EXIT_INVALID",
    "answers_option",
    "default_store",
    "dump",
    "fail",
    "json_option",
    "load_or_fail",
    "open_store_at",
    "parse_response",
    "prompt_option",
    "read_inputs",
    "registry",
    "store_option",
    "stored_run",
    "trace_option",
]

EXIT_INVALID = 2  # a flow, an input or an option is wrong: nothing ran


def fail(message: str, code: int = EXIT_INVALID) -> NoReturn:
    """Print `Error: message` on stderr and exit (2 unless told)."""
    click.secho(f"Error: {message}", fg="red", err=True)
    sys.exit(code)


def dump(value: Any) -> str:
    """Indented JSON for people and for `--json`."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def registry() -> Any:
    """The checked registry of every installed connector (a broken plugin exits 2)."""
    from flowengine._plugins.registry import load_registry

    return load_registry()


def default_store() -> str:
    """The store URL used without --store: $FLOWENGINE_STORE, else the project's SQLite file."""
    return os.environ.get("FLOWENGINE_STORE", DEFAULT_STORE_URL)


def open_store_at(url: str) -> Any:
    """The run store at `url` (a SQLite file's folder is made); exit 2 when it cannot be."""
    from flowengine._storing.stores import open_store

    try:
        return open_store(url)
    except OSError as e:
        if e.filename is None:
            raise
        why = f"cannot make the folder {e.filename} ({e.strerror})"
        fail(f"--store {url}: {why}; choose another path")


def stored_run(store: str, run_id: str, opened: Any = None) -> Any:
    """A run from the store at URL `store` (`opened`, if already open), or exit 2 naming both."""
    from flowengine._errors import RunError

    try:
        return asyncio.run((opened or open_store_at(store)).load(run_id))
    except RunError as e:
        fail(f"{e}; `flowengine runs list --store {store}` shows the stored runs")


def load_or_fail(path: str, registry: Any, *, unreadable_hint: str = "") -> Any:
    """The checked FlowSpec of `path`; on errors print every diagnostic and exit 2."""
    from flowengine._reading.loader import load_flow

    try:
        return load_flow(path, registry)
    except FlowDefinitionError as e:
        if [d.code for d in e.diagnostics] == ["FE000"]:  # missing or unreadable: one line
            fail(f"{path}: {e.diagnostics[0].message}{unreadable_hint}")
        for d in e.diagnostics:
            click.echo(str(d), err=True)
        fail(f"{path} is not a valid flow; nothing ran (`flowengine validate {path}` lists why)")


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "null": (type(None),),
}


def _parse_value(text: str, declared: Any = None) -> Any:
    """`--input k=v` values: JSON when they parse as JSON (3, true, [1]), else the text.

    When the flow declares the input a string, text that parses as another JSON type
    (`policy_id=123`) stays text: what the flow asks for is what the user meant.
    """
    try:
        value, depth = _loads(text)
    except ValueError:  # not JSON (also: an integer past Python's 4,300 digits): the text
        return text
    if depth > MAX_DEPTH:
        fail(
            f"an --input value nests deeper than {MAX_DEPTH} levels of lists and objects, "
            "the most flowengine reads; flatten it"
        )
    types = declared if isinstance(declared, list) else [declared]
    if "string" in types and not isinstance(value, str):
        allowed = tuple(t for name in types for t in _JSON_TYPES.get(str(name), ()))
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            return text
    return value


MAX_DEPTH = 64
"""As deep as a value given on the command line may nest (the flow files' limit, FE004)."""


def _depth(value: Any) -> int:
    """How deep lists and objects nest in a JSON value (without recursion); stops past
    MAX_DEPTH."""
    deepest = 0
    stack = [(value, 0)]
    while stack and deepest <= MAX_DEPTH:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth + 1)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _loads(text: str) -> tuple[Any, int]:
    """(the JSON value of `text`, how deep it nests); ValueError when it is not JSON.

    Nested past Python's own limit, it is (None, past MAX_DEPTH): refused like any deep value.
    """
    try:
        value = json.loads(text)
    except RecursionError:
        return None, MAX_DEPTH + 1
    return value, _depth(value)


def parse_response(text: str) -> dict[str, Any]:
    """A `--response` value: a JSON object, or exit 2 saying how to write one."""
    try:
        value, depth = _loads(text)
    except ValueError as e:
        fail(
            f"--response {text[:200]!r} is not JSON ({e}); "
            """write an object such as '{"email": "a@b.c"}'"""
        )
    if depth > MAX_DEPTH:
        fail(f"--response nests deeper than {MAX_DEPTH} levels of lists and objects; flatten it")
    if not isinstance(value, dict):
        fail(f"--response {text!r} must be a JSON object (field values, or {{}} to continue)")
    return value


def _yaml_file(path: str, what: str) -> Any:
    """A YAML (or JSON) file's value in the flow files' dialect; errors exit 2 at file:line:col."""
    from flowengine._reading.marked_yaml import read_file_value

    try:
        return read_file_value(path, what)
    except ValueError as e:
        fail(str(e))
    except OSError as e:
        fail(f"cannot read {what} {path}: {e.strerror or e}")


def read_inputs(
    pairs: Sequence[str], inputs_file: str | None, schema: Any = None
) -> dict[str, Any]:
    """The flow inputs from `--inputs FILE` then `--input k=v` (later ones win).

    `schema` is the flow's `inputs` schema: an input it declares a string keeps its text.
    """
    props = schema.get("properties") if isinstance(schema, dict) else None
    props = props if isinstance(props, dict) else {}
    inputs: dict[str, Any] = {}
    if inputs_file:
        loaded = _yaml_file(inputs_file, "the --inputs file")
        if loaded is not None and not isinstance(loaded, dict):
            fail(f"--inputs {inputs_file} must hold an object of input values, e.g. 'limit: 4'")
        inputs.update(loaded or {})
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            fail(f"--input {pair!r} must be written name=value")
        prop = props.get(key)
        inputs[key] = _parse_value(value, prop.get("type") if isinstance(prop, dict) else None)
    return inputs


store_option = click.option(
    "--store",
    metavar="URL",
    default=default_store,
    show_default=DEFAULT_STORE_URL,
    help="Run store URL: sqlite:///PATH or memory: (env FLOWENGINE_STORE).",
)
answers_option = click.option(
    "--answers",
    "answers_file",
    type=click.Path(exists=True, dir_okay=False),
    help="YAML/JSON file: node id -> response (or a list, one per visit).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print the run as JSON.")
trace_option = click.option(
    "--trace", "trace_file", type=click.Path(dir_okay=False), help="Write trace events (JSONL)."
)
prompt_option = click.option(
    "--prompt/--no-prompt",
    default=None,
    help="Ask for unanswered form fields (default: when stdin is a terminal).",
)
