"""The CLI commands that run flows: `run`, and `runs list|show|resume` over the run store."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import click

from flowengine._cli.common import (
    answers_option,
    default_store,
    dump,
    fail,
    json_option,
    load_or_fail,
    open_store_at,
    parse_response,
    prompt_option,
    read_inputs,
    registry,
    store_option,
    stored_run,
    trace_option,
)
from flowengine._errors import RunError, SchemaValidationError
from flowengine._storing.run import RunStatus

__all__ = ["EXIT_INTERRUPTED", "run", "runs"]

EXIT_INTERRUPTED = 130
"""Ctrl-C while a node ran (128 + SIGINT, as shells report it)."""


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
        debug: bool = False,
    ) -> None:
        from flowengine._cli.terminal import Terminal

        if debug:
            _debug_to_stderr()
        from flowengine._running.headless import Answers

        self.registry = registry()
        self.store_url = store
        self.store = open_store_at(store)
        self.as_json = as_json
        self.answers = Answers.load(answers_file) if answers_file else None
        interactive = sys.stdin.isatty() if prompt is None else prompt
        self.terminal = Terminal(quiet=as_json, interactive=interactive and not as_json)
        self.sinks: list[Callable[[dict[str, Any]], None]] = [self.terminal.on_event]
        if trace_file:
            self.sinks.append(_trace_sink(trace_file))
        self.waiting: Any = None
        """The run last seen waiting: named when Ctrl-C stops a poll wait or a prompt."""
        self._engine: Any = None

    def load(self, flow_file: str, unreadable_hint: str = "") -> Any:
        """The flow, checked, and the answers file checked against its node ids."""
        flow = load_or_fail(flow_file, self.registry, unreadable_hint=unreadable_hint)
        if self.answers is not None:
            from flowengine._running.answers import check_answers

            answers = self.answers
            problems = check_answers(answers.responses, answers.source, flow, self.registry)
            if len(problems) == 1:
                fail(str(problems[0]))
            if problems:
                lines = "\n".join(f"  {p}" for p in problems)
                fail(
                    f"{answers.source} has {len(problems)} problems for flow {flow.id!r}:\n{lines}"
                )
        return flow

    def engine(self) -> Any:
        """An Engine over this session's registry, store and trace sinks."""
        from flowengine._running.engine import Engine

        self._engine = Engine(
            self.registry, store=self.store, environ=os.environ, trace_sinks=self.sinks
        )
        return self._engine

    async def drive(
        self, engine: Any, run: Any, flow: Any, options: dict[str, Any] | None = None
    ) -> Any:
        """Answer the run's screens until it ends or nothing can answer (headless.drive)."""
        from flowengine._running.headless import drive

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
        """Remember the waiting run (for Ctrl-C) and draw its screen."""
        from flowengine._plugins.connector import Interaction
        from flowengine._redaction import compile_secrets

        self.waiting = run
        # What the screen shows passes the run's secrets' redaction (a typed password).
        shown = compile_secrets(frozenset(run.secrets)).redact(interaction.to_dict())
        self.terminal.show(run, Interaction.from_dict(shown))

    def run_to_end(self, factory: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """Run the coroutine, print the run and exit with its code (0, 1 or 3)."""
        run = self._run_async(factory)
        if self.as_json:
            click.echo(dump(run.to_dict()))
        else:
            self.terminal.summary(run, self._store_option())
        sys.exit(run.exit_code)

    def _store_option(self) -> str:
        """` --store URL` when the store is not the one `runs resume` finds by itself."""
        return "" if self.store_url == default_store() else f" --store {self.store_url}"

    def _run_async(self, factory: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
        """Run the coroutine; Ctrl-C while waiting exits 3 (engine errors: the main group)."""
        try:
            return asyncio.run(factory())
        except (KeyboardInterrupt, click.Abort):  # click.prompt turns Ctrl-C and EOF into Abort
            stopped = getattr(self._engine, "interrupted", None)
            if stopped is not None:  # Ctrl-C while a node ran: the engine saved it failed
                error = stopped.error or {}
                click.echo(
                    f"\ninterrupted; run {stopped.id} failed at {error.get('node')!r} "
                    f"(INTERRUPTED) and is saved: `flowengine runs show {stopped.id}"
                    f"{self._store_option()}`",
                    err=True,
                )
                sys.exit(EXIT_INTERRUPTED)
            if self.waiting is None or not self.waiting.waiting:
                click.echo("\ninterrupted", err=True)
                sys.exit(EXIT_INTERRUPTED)
            # The engine saved the run as waiting before showing its screen: it can go on later.
            run = self.waiting
            click.echo(
                f"\ninterrupted; run {run.id} is saved, waiting at {run.waiting['node']!r}: "
                f"continue with `flowengine runs resume {run.id}{self._store_option()}`",
                err=True,
            )
            sys.exit(3)


def _debug_to_stderr() -> None:
    """`--debug`: the engine's DEBUG records (a failing plugin's full traceback, secrets
    redacted) go to stderr."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("debug: %(message)s"))
    log = logging.getLogger("flowengine")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)


debug_option = click.option(
    "--debug",
    is_flag=True,
    help="Print the full traceback of a capability that raises (stderr; secrets redacted).",
)


def _trace_sink(path: str) -> Callable[[dict[str, Any]], None]:
    """The JSONL trace sink for `--trace`; exit 2 when its folder cannot be made."""
    from flowengine._running.trace import JsonlTraceSink

    try:
        return JsonlTraceSink(path)
    except OSError as e:
        fail(f"--trace {path}: cannot write there ({e.strerror}); choose another path")


def _session_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options that make a _Session: --answers, --json, --trace, --store, --prompt, --debug."""
    options = (debug_option, prompt_option, store_option, trace_option, json_option)
    for option in (*options, answers_option):
        func = option(func)
    return func


@click.command()
@click.argument("flow_file", metavar="FLOW", type=click.Path(dir_okay=False))
@click.option("--input", "input_pairs", multiple=True, metavar="K=V", help="A flow input.")
@click.option(
    "--inputs",
    "inputs_file",
    type=click.Path(exists=True, dir_okay=False),
    help="YAML/JSON file with an object of flow inputs.",
)
@_session_options
def run(
    flow_file: str, input_pairs: Sequence[str], inputs_file: str | None, **options: Any
) -> None:
    """Run a flow; exit 0 completed, 1 failed, 3 waiting (2: nothing ran)."""
    session = _Session(**options)
    flow = session.load(flow_file)  # the run keeps its absolute path (Engine.start)
    inputs = read_inputs(input_pairs, inputs_file, dict(flow.inputs_schema))

    async def go() -> Any:
        async with session.engine() as engine:
            session.terminal.echo(f"run of {flow.id} ({flow_file})", bold=True)
            try:
                started = await engine.start(flow, inputs)
            except RunError as e:
                raise RunError(f"{e}{_text_hint(e, input_pairs, inputs_file)}") from e
            return await session.drive(engine, started, flow)

    session.run_to_end(go)


def _text_hint(error: RunError, pairs: Sequence[str], inputs_file: str | None) -> str:
    """How to write text when a value was read as a number (or other JSON) for a string input."""
    cause = error.__cause__
    if not isinstance(cause, SchemaValidationError):
        return ""
    given = dict(pair.partition("=")[::2] for pair in pairs)
    found = list(cause.errors)
    for err in found:
        found.extend(err.context)  # anyOf / oneOf alternatives
        expected = err.expected if err.validator == "type" else None
        wanted = expected if isinstance(expected, list) else [expected]
        name = err.path[0] if len(err.path) == 1 else None
        if "string" not in wanted or err.found == "string" or name is None:
            continue
        if name in given:
            return (
                f"; --input {name}={given[name]} was read as JSON: to pass it as text, "
                f"""quote it: --input '{name}="{given[name]}"'"""
            )
        if inputs_file:
            return f"; to give {name} as text, write it in quotes in {inputs_file}"
    return ""


@click.group()
def runs() -> None:
    """List, show and resume stored runs."""


@runs.command("list")
@click.option(
    "--status",
    type=click.Choice([status.value for status in RunStatus]),
    help="Only runs with this status.",
)
@click.option("--limit", default=50, show_default=True, help="How many runs at most.")
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON.")
@store_option
def runs_list(status: str | None, limit: int, as_json: bool, store: str) -> None:
    """The latest runs, newest first."""
    found = asyncio.run(open_store_at(store).list(status=status, limit=limit))
    if as_json:
        click.echo(dump([r.to_dict() for r in found]))
        return
    for r in found:
        where = (r.waiting or {}).get("node") or (r.path[-1] if r.path else "-")
        click.echo(f"{r.id}  {r.status:<9}  {r.flow_id:<24}  {where}")
    if not found:
        click.echo("no runs")


@runs.command("show")
@click.argument("run_id")
@json_option
@store_option
def runs_show(run_id: str, as_json: bool, store: str) -> None:
    """One run: its status, path with outcomes, and result, error or pending screen."""
    found = stored_run(store, run_id)
    if as_json:
        click.echo(dump(found.to_dict()))
        return
    from flowengine._cli.terminal import outcome_note

    click.echo(f"run {found.id}  {found.status}\nflow {found.flow_id} ({found.flow_file})")
    for event in found.trace:
        outcome = event.get("outcome")
        if outcome:
            indent = "    " if event.get("parent") else "  "
            why = outcome_note(event)
            click.echo(f"{indent}{event['node']} -> {outcome}{why}")
    if found.waiting:
        click.echo(f"waiting at {found.waiting['node']}: {dump(found.waiting['interaction'])}")
    if found.status == RunStatus.COMPLETED:
        click.echo(dump(found.result))
    if found.error:
        click.echo(dump(found.error))


@runs.command("resume")
@click.argument("run_id")
@click.option("--response", metavar="JSON", help="A JSON object: the waiting node's response.")
@click.option(
    "--flow",
    "flow_file",
    type=click.Path(dir_okay=False),
    help="The flow file (default: the one the run started from).",
)
@click.option("--allow-changed-flow", is_flag=True, help="Resume even if the flow file changed.")
@_session_options
def runs_resume(
    run_id: str,
    response: str | None,
    flow_file: str | None,
    allow_changed_flow: bool,
    **options: Any,
) -> None:
    """Continue a waiting run with a response, an answers file or the terminal."""
    first = parse_response(response) if response is not None else None
    session = _Session(**options)
    stored = stored_run(options["store"], run_id, session.store)
    if stored.status != RunStatus.WAITING:
        fail(f"run {run_id} is {stored.status}, not waiting: nothing to resume")
    hint = "" if flow_file else "; the run started from it: pass the flow with --flow FILE"
    flow = session.load(flow_file or stored.flow_file, hint)
    resume_options = {"allow_changed_flow": allow_changed_flow}

    async def go() -> Any:
        async with session.engine() as engine:
            current = stored
            if first is not None:
                current = await engine.resume(stored, first, flow=flow, **resume_options)
            return await session.drive(engine, current, flow, resume_options)

    session.run_to_end(go)
