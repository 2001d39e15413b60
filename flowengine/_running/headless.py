"""Driving a run to its end without a browser: answers files, prompts and poll waits.

An answers file (YAML or JSON) maps node ids to a response, or to a list of responses for
successive visits. A response may be an action, `{do: <name>, ...args}`, that a plugin
registered with `register_answer_actions`; its return value is the response sent.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowengine._clock import Clock, SystemClock
from flowengine._errors import RunError
from flowengine._plugins.connector import Interaction
from flowengine._reading.marked_yaml import read_file_value
from flowengine._storing.run import RunStatus

if TYPE_CHECKING:
    from flowengine._plugins.registry import Registry
    from flowengine._reading.spec import FlowSpec

__all__ = ["MISSING", "AnswerEnv", "Answers", "drive", "golden_trace"]


class _Missing:
    """The type of MISSING: no answer was given."""

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()

Prompt = Callable[[str, Interaction], Any]
"""(node id, interaction) -> a response, MISSING to stop, or an awaitable of either."""
Wait = Callable[[float, Interaction], Awaitable[None]]
"""(seconds, interaction) -> wait that long (on the engine's clock) before continuing."""


class Answers:
    """Responses to interactions, by node id; a list gives one per successive ask."""

    def __init__(self, responses: Mapping[str, Any], source: str = "<answers>") -> None:
        self.responses = dict(responses)
        self.source = source
        self._used: dict[str, int] = {}

    @classmethod
    def load(cls, path: str | Path) -> Answers:
        """Read an answers file (YAML, of which JSON is a subset, in the flow files' dialect)."""
        try:
            data = read_file_value(path, "the answers file")
        except ValueError as e:  # syntax, tags, limits, not UTF-8: file:line:col and the fix
            raise RunError(str(e)) from None
        except OSError as e:
            raise RunError(f"cannot read the answers file {path}: {e.strerror or e}") from None
        if data is None:
            data = {}
        if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
            raise RunError(
                f"answers file {path} must map node ids to responses, "
                "e.g. 'get_user: {email: a@b.c}'"
            )
        return cls(data, str(path))

    def next_for(self, node_id: str, visit: int | None = None) -> Any:
        """The next unused response for `node_id`, or MISSING.

        A list is consumed in order, one item each time the node asks (a form shown again
        with errors asks again within one visit); a null item leaves that ask unanswered
        (a QR code then waits its poll interval). A single response answers once per
        visit, so an invalid one cannot make a form ask forever.
        """
        if node_id not in self.responses:
            return MISSING
        value = self.responses[node_id]
        if not isinstance(value, list):
            key = f"{node_id}@{visit}"
            if self._used.get(key):
                return MISSING
            self._used[key] = 1
            return value
        used = self._used.get(node_id, 0)
        if used >= len(value):
            return MISSING
        self._used[node_id] = used + 1
        return MISSING if value[used] is None else value[used]


@dataclass
class AnswerEnv:
    """What an answer action may use besides the interaction and its arguments."""

    engine: Any
    run: Any
    flow: FlowSpec
    node_id: str
    registry: Registry | None
    clock: Clock


async def _maybe(value: Any) -> Any:
    """Await the value if it is awaitable."""
    return await value if inspect.isawaitable(value) else value


def _is_action(response: Any) -> bool:
    """Whether a response is an answer action `{do: name, ...}`."""
    return isinstance(response, dict) and isinstance(response.get("do"), str)


async def _run_action(response: dict[str, Any], interaction: Interaction, env: AnswerEnv) -> Any:
    """Run a registered answer action; its return value is the response."""
    name = response["do"]
    actions = env.registry.answer_actions if env.registry else {}
    if name not in actions:
        known = ", ".join(sorted(actions)) or "none"
        raise RunError(
            f"answer for node {env.node_id!r} uses unknown action {name!r} (registered: {known})",
            run_id=getattr(env.run, "id", None),
        )
    args = {k: v for k, v in response.items() if k != "do"}
    try:
        return await _maybe(actions[name](interaction, args, env))
    except RunError:
        raise  # the action said what is wrong already
    except Exception as e:  # a plugin's bug or arguments it did not expect: no raw traceback
        raise _action_failed(name, args, env, e) from e


def _action_failed(name: str, args: dict[str, Any], env: AnswerEnv, error: Exception) -> RunError:
    """The RunError for an answer action that raised something other than RunError."""
    run_id = getattr(env.run, "id", None)
    # Argument names only: their values may be personal data.
    given = ", ".join(sorted(args)) or "none"
    return RunError(
        f"answer for node {env.node_id!r}: action {name!r} failed with "
        f"{type(error).__name__}: {error}; check the action's arguments (given: {given}; "
        f"docs/cli.md, answers files) or answer the node with a plain response; run {run_id} "
        f"stays waiting at {env.node_id!r}, to be resumed once that is fixed",
        run_id=run_id,
    )


def _engine_clock(engine: Any) -> Clock:
    """The engine's clock (the system clock for engines without one)."""
    clock = getattr(engine, "clock", None)
    return clock if isinstance(clock, Clock) else SystemClock()


async def drive(
    engine: Any,
    run: Any,
    flow: FlowSpec,
    *,
    answers: Answers | None = None,
    prompt: Prompt | None = None,
    registry: Registry | None = None,
    on_interaction: Callable[[Any, Interaction], Any] | None = None,
    wait: Wait | None = None,
    max_polls: int = 1000,
    resume_options: Mapping[str, Any] | None = None,
) -> Any:
    """Answer a waiting run's interactions until it completes, fails, or nothing can answer.

    Order of preference: the answers file, then `prompt`; a screen with a poll interval
    (QR code) is continued with `{}` after waiting that long on the engine's clock; a
    message is acknowledged. A form nobody answers leaves the run waiting.
    `resume_options` go to every `engine.resume()` (e.g. allow_changed_flow=True).
    """
    clock = _engine_clock(engine)
    polls = 0
    while run.status == RunStatus.WAITING:
        node_id = run.waiting["node"]
        interaction = Interaction.from_dict(run.waiting["interaction"])
        if on_interaction is not None:
            await _maybe(on_interaction(run, interaction))
        response = answers.next_for(node_id, _visits(run, node_id)) if answers else MISSING
        if answers is not None and response is not MISSING:
            _check_answer(answers, node_id, response, run)
        if response is MISSING and prompt is not None and interaction.poll_interval is None:
            response = await _maybe(prompt(node_id, interaction))
        if response is MISSING:
            response = await _unanswered(interaction, clock, wait)
            if response is MISSING:
                return run
            polls += 1
            if polls > max_polls:
                raise RunError(
                    f"run {run.id} still waits at node {node_id!r} after {max_polls} polls",
                    run_id=run.id,
                )
        if _is_action(response):
            env = AnswerEnv(engine, run, flow, node_id, registry, clock)
            response = await _run_action(response, interaction, env)
        run = await engine.resume(run, response, flow=flow, **(resume_options or {}))
    return run


def _check_answer(answers: Answers, node_id: str, response: Any, run: Any) -> None:
    """An answer must be an object (a response or an action): say so before the run sees it."""
    if not isinstance(response, dict):
        raise RunError(
            f"{answers.source}: the answer for node {node_id!r} is a {type(response).__name__}, "
            f"not an object; write field values ({node_id}: {{email: a@b.c}}), {{}} to "
            "continue, or an action ({do: <name>})",
            run_id=getattr(run, "id", None),
        )


async def _unanswered(interaction: Interaction, clock: Clock, wait: Wait | None) -> Any:
    """The response for an interaction nobody answered, or MISSING to stop here."""
    if interaction.poll_interval is not None:
        if wait is not None:
            await wait(interaction.poll_interval, interaction)
        else:
            await clock.sleep(interaction.poll_interval)
        return {}
    if interaction.kind == "message":
        return {}
    return MISSING


def _visits(run: Any, node_id: str) -> int:
    """How many times the waiting node has been visited."""
    visit = (run.waiting or {}).get("visit") or (run.nodes.get(node_id) or {}).get("visits", 1)
    return int(visit)


def golden_trace(run: Any) -> str:
    """The run as a golden trace: "node outcome" per trace event in run order, then the status.

    Branches of a parallel block finish in whatever order their I/O allows, so each
    stretch of consecutive events from one block's branches is sorted by node id.
    """
    lines: list[str] = []
    group: list[str] = []
    parent: str | None = None
    for event in run.trace:
        if event.get("parent") != parent or event.get("parent") is None:
            lines += sorted(group)
            group = []
        parent = event.get("parent")
        line = f"{event['node']} {event.get('outcome')}"
        (group if parent else lines).append(line)
    lines += sorted(group)
    lines.append(f"= {run.status}")
    return "\n".join(lines) + "\n"
