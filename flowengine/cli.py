"""The `flowengine` command line: validate, run, runs, graph, connectors, sandbox."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click
import yaml

from flowengine.errors import FlowDefinitionError, FlowEngineError

__all__ = ["main"]

DEFAULT_STORE = "sqlite:///.flowengine/runs.db"
EXIT_INVALID = 2  # a flow, an input or an option is wrong: nothing ran


def _registry() -> Any:
    from flowengine.plugins import load_registry

    return load_registry()


def _dump(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def _fail(message: str, code: int = EXIT_INVALID) -> None:
    click.secho(f"Error: {message}", fg="red", err=True)
    sys.exit(code)


class _MainGroup(click.Group):
    """The main group; `sandbox` is imported only when used (it pulls in Starlette)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = super().list_commands(ctx)
        return sorted([*names, "sandbox"]) if _sandbox_group() else names

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name == "sandbox":
            return _sandbox_group()
        return super().get_command(ctx, name)


def _sandbox_group() -> click.Command | None:
    try:
        sandbox_cli = importlib.import_module("connectors.pingone.sandbox.cli")
    except ImportError:  # the PingOne connector is not installed or not built yet
        return None
    for attribute in ("sandbox", "cli", "main"):
        command = getattr(sandbox_cli, attribute, None)
        if isinstance(command, click.Command):
            return command
    return None


@click.group(cls=_MainGroup)
@click.version_option(package_name="flowengine")
def main() -> None:
    """flowengine: run DaVinci-style identity flows headlessly."""


# validate --------------------------------------------------------------------------


@main.command()
@click.argument("flows", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the diagnostics as JSON.")
def validate(flows: Sequence[str], as_json: bool) -> None:
    """Check flow files; print every problem as file:line:col: CODE message."""
    from flowengine.loader import check_flow

    registry = _registry()
    reports, ok = [], True
    for path in flows:
        _spec, diagnostics = check_flow(path, registry)
        errors = [d for d in diagnostics if d.severity == "error"]
        ok = ok and not errors
        reports.append(
            {"file": path, "valid": not errors, "diagnostics": [d.to_dict() for d in diagnostics]}
        )
        if not as_json:
            for d in diagnostics:
                click.echo(str(d))
            click.echo(f"{path}: {'ok' if not errors else f'{len(errors)} error(s)'}")
    if as_json:
        click.echo(_dump(reports))
    sys.exit(0 if ok else 1)


# run and runs ----------------------------------------------------------------------


def _parse_value(text: str) -> Any:
    """`--input k=v` values: JSON when they parse as JSON (3, true, [1]), else the text."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _inputs(pairs: Sequence[str], inputs_file: str | None) -> dict[str, Any]:
    inputs: dict[str, Any] = {}
    if inputs_file:
        loaded = yaml.safe_load(Path(inputs_file).read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            _fail(f"--inputs {inputs_file} must hold an object of input values")
        inputs.update(loaded)
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            _fail(f"--input {pair!r} must be written name=value")
        inputs[key] = _parse_value(value)
    return inputs


def _open_store(url: str) -> Any:
    from flowengine.store import open_store

    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True, exist_ok=True)
    return open_store(url)


def _load(path: str, registry: Any) -> Any:
    from flowengine.loader import load_flow

    try:
        return load_flow(path, registry)
    except FlowDefinitionError as e:
        for d in e.diagnostics:
            click.echo(str(d), err=True)
        _fail(f"{path} is not a valid flow; nothing ran")
    except OSError as e:
        _fail(f"cannot read {path}: {e.strerror}")


store_option = click.option(
    "--store",
    default=lambda: os.environ.get("FLOWENGINE_STORE", DEFAULT_STORE),
    show_default=DEFAULT_STORE,
    help="Run store URL: sqlite:///PATH or memory:.",
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


class _Session:
    """One CLI invocation's engine, store, terminal and answers."""

    def __init__(
        self,
        *,
        store: str,
        as_json: bool,
        trace_file: str | None,
        answers_file: str | None,
        prompt: bool | None,
    ) -> None:
        from flowengine.headless import Answers

        self.registry = _registry()
        self.store = _open_store(store)
        self.as_json = as_json
        self.trace_file = trace_file
        self.answers = Answers.load(answers_file) if answers_file else None
        interactive = sys.stdin.isatty() if prompt is None else prompt
        from flowengine._terminal import Terminal

        self.terminal = Terminal(quiet=as_json, interactive=interactive and not as_json)
        self.waiting: Any = None
        """The run last seen waiting: named when Ctrl-C stops a poll wait or a prompt."""

    def engine(self) -> Any:
        from flowengine.runtime import Engine

        sinks: list[Callable[[dict[str, Any]], None]] = [self.terminal.on_event]
        if self.trace_file:
            from flowengine.trace import JsonlTraceSink

            sinks.append(JsonlTraceSink(self.trace_file))
        return Engine(self.registry, store=self.store, environ=os.environ, trace_sinks=sinks)

    async def drive(
        self, engine: Any, run: Any, flow: Any, options: dict[str, Any] | None = None
    ) -> Any:
        from flowengine.headless import drive

        return await drive(
            engine,
            run,
            flow,
            answers=self.answers,
            prompt=self.terminal.prompt,
            registry=self.registry,
            on_interaction=self._shown,
            wait=self.terminal.waiter(engine.clock),
            resume_options=options,
        )

    def _shown(self, run: Any, interaction: Any) -> None:
        self.waiting = run
        self.terminal.show(run, interaction)

    def finish(self, run: Any) -> None:
        if self.as_json:
            click.echo(_dump(run.to_dict()))
        else:
            self.terminal.summary(run)
        sys.exit(run.exit_code)


def _check_answers(session: _Session, flow: Any) -> None:
    if session.answers is not None:
        unknown = session.answers.unknown_nodes(set(flow.all_nodes))
        if unknown:
            _fail(f"{session.answers.source} answers nodes the flow does not have: {unknown}")


@main.command()
@click.argument("flow_file", metavar="FLOW", type=click.Path(dir_okay=False))
@click.option("--input", "input_pairs", multiple=True, metavar="K=V", help="A flow input.")
@click.option("--inputs", "inputs_file", type=click.Path(exists=True, dir_okay=False))
@answers_option
@json_option
@trace_option
@store_option
@prompt_option
def run(
    flow_file: str,
    input_pairs: Sequence[str],
    inputs_file: str | None,
    answers_file: str | None,
    as_json: bool,
    trace_file: str | None,
    store: str,
    prompt: bool | None,
) -> None:
    """Run a flow; exit 0 completed, 1 failed, 3 waiting (2: nothing ran)."""
    session = _Session(
        store=store,
        as_json=as_json,
        trace_file=trace_file,
        answers_file=answers_file,
        prompt=prompt,
    )
    flow = _load(flow_file, session.registry)
    _check_answers(session, flow)
    inputs = _inputs(input_pairs, inputs_file)

    async def go() -> Any:
        async with session.engine() as engine:
            session.terminal.echo(f"run of {flow.id} ({flow_file})", bold=True)
            started = await engine.start(flow, inputs)
            return await session.drive(engine, started, flow)

    session.finish(_run_async(go, session))


def _run_async(factory: Callable[[], Any], session: _Session | None = None) -> Any:
    """Run a coroutine; a FlowEngineError becomes a clear message and exit code 2."""
    try:
        return asyncio.run(factory())
    except FlowEngineError as e:
        _fail(str(e))
    except KeyboardInterrupt:
        run = session.waiting if session else None
        if run is None:
            raise
        # The engine saved the run as waiting before showing its screen: it can go on later.
        click.echo(
            f"\ninterrupted; run {run.id} is saved, waiting at {run.waiting['node']!r}: "
            f"continue with `flowengine runs resume {run.id}`",
            err=True,
        )
        sys.exit(3)


@main.group()
def runs() -> None:
    """List, show and resume stored runs."""


@runs.command("list")
@click.option("--status", type=click.Choice(["running", "waiting", "completed", "failed"]))
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@store_option
def runs_list(status: str | None, limit: int, as_json: bool, store: str) -> None:
    """The latest runs, newest first."""
    found = _open_store(store).list(status=status, limit=limit)
    if as_json:
        click.echo(_dump([r.to_dict() for r in found]))
        return
    for r in found:
        where = (r.waiting or {}).get("node") or (r.path[-1] if r.path else "-")
        click.echo(f"{r.id}  {r.status:<9}  {r.flow_id:<24}  {where}")
    if not found:
        click.echo("no runs")


def _stored(store: str, run_id: str) -> Any:
    from flowengine.errors import RunError

    try:
        return _open_store(store).load(run_id)
    except RunError as e:
        _fail(str(e))


@runs.command("show")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True)
@store_option
def runs_show(run_id: str, as_json: bool, store: str) -> None:
    """One run: its status, path with outcomes, and result, error or pending screen."""
    found = _stored(store, run_id)
    if as_json:
        click.echo(_dump(found.to_dict()))
        return
    click.echo(f"run {found.id}  {found.status}\nflow {found.flow_id} ({found.flow_file})")
    for event in found.trace:
        if event.get("outcome"):
            click.echo(f"  {event['node']} -> {event['outcome']}")
    if found.waiting:
        click.echo(f"waiting at {found.waiting['node']}: {_dump(found.waiting['interaction'])}")
    if found.status == "completed":
        click.echo(_dump(found.result))
    if found.error:
        click.echo(_dump(found.error))


@runs.command("resume")
@click.argument("run_id")
@click.option("--response", help="A JSON response for the waiting node.")
@click.option("--flow", "flow_file", type=click.Path(dir_okay=False), help="Default: as stored.")
@click.option("--allow-changed-flow", is_flag=True, help="Resume even if the flow file changed.")
@answers_option
@json_option
@trace_option
@store_option
@prompt_option
def runs_resume(
    run_id: str,
    response: str | None,
    flow_file: str | None,
    allow_changed_flow: bool,
    answers_file: str | None,
    as_json: bool,
    trace_file: str | None,
    store: str,
    prompt: bool | None,
) -> None:
    """Continue a waiting run with a response, an answers file or the terminal."""
    session = _Session(
        store=store,
        as_json=as_json,
        trace_file=trace_file,
        answers_file=answers_file,
        prompt=prompt,
    )
    stored = _stored(store, run_id)
    if stored.status != "waiting":
        _fail(f"run {run_id} is {stored.status}, not waiting: nothing to resume")
    flow = _load(flow_file or stored.flow_file, session.registry)
    _check_answers(session, flow)
    first = _parse_value(response) if response is not None else None

    async def go() -> Any:
        async with session.engine() as engine:
            options = {"allow_changed_flow": allow_changed_flow}
            current = stored
            if first is not None:
                current = await engine.resume(stored, first, flow=flow, **options)
            return await session.drive(engine, current, flow, options)

    session.finish(_run_async(go, session))


# graph and connectors --------------------------------------------------------------


@main.command()
@click.argument("flow_file", metavar="FLOW", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid")
@click.option("--run", "run_id", help="Highlight the path of this stored run.")
@store_option
def graph(flow_file: str, fmt: str, run_id: str | None, store: str) -> None:
    """Draw a flow as Mermaid or DOT, outcomes on the edges."""
    from flowengine.graph import export

    flow = _load(flow_file, _registry())
    found = _stored(store, run_id) if run_id else None
    click.echo(export(flow, fmt, found), nl=False)


@main.command()
@click.argument("name", required=False)
@click.argument("capability", required=False)
@click.option("--json", "as_json", is_flag=True)
def connectors(name: str | None, capability: str | None, as_json: bool) -> None:
    """The connectors, a connector's capabilities, or one capability's schemas."""
    from flowengine._catalog import describe

    try:
        text = describe(_registry(), name, capability, as_json=as_json)
    except LookupError as e:
        _fail(str(e.args[0]))
    click.echo(text)
