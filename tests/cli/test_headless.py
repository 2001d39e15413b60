"""The headless driver (flowengine.drive): answers files, answer actions, poll waits, prompts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from flowengine import (
    MISSING,
    AnswerEnv,
    Answers,
    Engine,
    Interaction,
    MemoryStore,
    RunError,
    VirtualClock,
    drive,
    load_flow,
    load_registry,
)

# private: tests the CLI through its click group
from flowengine._cli import main

QR_LOOP = """\
flow: qr-loop
variables: {scans: 0}
start: show
nodes:
  show:
    use: ui.qr
    with: {url: "https://verify.example/t/1", poll_interval: 5}
    on: {success: count}
  count:
    use: variables.increment
    with: {name: scans}
    on: {success: enough}
  enough:
    use: functions.compare
    with: {left: "{{ vars.scans }}", operator: less, right: 3}
    on: {"true": show, "false": ask}
  ask:
    use: ui.form
    with: {fields: [name]}
    on: {success: done}
  done:
    use: ui.success
    with: {result: "{{ nodes.ask.output.name }}"}
"""


@pytest.fixture(scope="module")
def registry() -> Any:
    return load_registry()


@pytest.fixture
def flow(tmp_path: Path, registry: Any) -> Any:
    path = tmp_path / "qr-loop.yaml"
    path.write_text(QR_LOOP)
    return load_flow(path, registry)


def test_answers_lists_are_consumed_in_order(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text('{"form": [{"x": 1}, {"x": 2}], "msg": {}}')
    answers = Answers.load(path)
    assert answers.next_for("form", 1) == {"x": 1}
    assert answers.next_for("form", 1) == {"x": 2}
    assert answers.next_for("form", 2) is MISSING
    assert answers.next_for("msg", 1) == {} and answers.next_for("msg", 2) == {}
    assert answers.next_for("msg", 2) is MISSING  # once per visit
    assert answers.next_for("other") is MISSING


def test_answers_file_errors(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(RunError, match="must map node ids to responses"):
        Answers.load(path)
    path.write_text("a: [unclosed\n")
    with pytest.raises(RunError, match="not valid YAML"):
        Answers.load(path)
    path.write_text("")
    assert Answers.load(path).responses == {}


async def test_qr_polls_wait_on_the_engine_clock(flow: Any, registry: Any) -> None:
    clock = VirtualClock()
    began = clock.now()
    shown: list[str] = []
    async with Engine(registry, store=MemoryStore(), clock=clock) as engine:
        run = await engine.start(flow)
        run = await drive(
            engine,
            run,
            flow,
            answers=Answers({"ask": {"name": "Ada"}}),
            registry=registry,
            on_interaction=lambda r, i: shown.append(i.kind),
        )
    assert run.status == "completed" and run.result == {"result": "Ada"}
    assert shown == ["qr", "qr", "qr", "form"]
    assert clock.now() - began == 15  # three polls of 5 s, no real sleeping


async def test_unanswered_form_leaves_the_run_waiting(flow: Any, registry: Any) -> None:
    async with Engine(registry, store=MemoryStore(), clock=VirtualClock()) as engine:
        run = await drive(engine, await engine.start(flow), flow, registry=registry)
    assert run.status == "waiting" and run.waiting["node"] == "ask"


async def test_prompt_answers_forms_but_not_qr(flow: Any, registry: Any) -> None:
    asked: list[tuple[str, str]] = []

    async def prompt(node_id: str, interaction: Interaction) -> Any:
        asked.append((node_id, interaction.kind))
        return {"name": "Grace"}

    async with Engine(registry, store=MemoryStore(), clock=VirtualClock()) as engine:
        run = await drive(engine, await engine.start(flow), flow, prompt=prompt, registry=registry)
    assert asked == [("ask", "form")]
    assert run.result == {"result": "Grace"}


async def test_answer_actions(flow: Any, registry: Any) -> None:
    seen: list[tuple[str, dict[str, Any], str]] = []

    async def fill(interaction: Interaction, args: dict[str, Any], env: AnswerEnv) -> Any:
        seen.append((interaction.kind, args, env.node_id))
        return {"name": args["who"].upper()}

    registry.answer_actions["test.fill"] = fill
    try:
        answers = Answers({"ask": {"do": "test.fill", "who": "ada"}})
        async with Engine(registry, store=MemoryStore(), clock=VirtualClock()) as engine:
            run = await drive(
                engine, await engine.start(flow), flow, answers=answers, registry=registry
            )
    finally:
        del registry.answer_actions["test.fill"]
    assert seen == [("form", {"who": "ada"}, "ask")]
    assert run.result == {"result": "ADA"}


async def test_unknown_answer_action(flow: Any, registry: Any) -> None:
    answers = Answers({"ask": {"do": "nope"}})
    async with Engine(registry, store=MemoryStore(), clock=VirtualClock()) as engine:
        with pytest.raises(RunError, match="unknown action 'nope'"):
            await drive(engine, await engine.start(flow), flow, answers=answers, registry=registry)


async def test_max_polls(flow: Any, registry: Any) -> None:
    async with Engine(registry, store=MemoryStore(), clock=VirtualClock()) as engine:
        with pytest.raises(RunError, match="after 2 polls"):
            await drive(engine, await engine.start(flow), flow, registry=registry, max_polls=2)


async def test_answer_action_failing_is_a_run_error_naming_node_and_action(
    flow: Any, registry: Any
) -> None:
    async def broken(interaction: Interaction, args: dict[str, Any], env: AnswerEnv) -> Any:
        return {"name": args["who"]}  # KeyError: the answers file has `person:` instead

    registry.answer_actions["test.broken"] = broken
    try:
        answers = Answers({"ask": {"do": "test.broken", "person": "grace"}})
        store = MemoryStore()
        async with Engine(registry, store=store, clock=VirtualClock()) as engine:
            started = await engine.start(flow)
            with pytest.raises(RunError) as info:
                await drive(engine, started, flow, answers=answers, registry=registry)
    finally:
        del registry.answer_actions["test.broken"]
    message = str(info.value)
    assert "answer for node 'ask': action 'test.broken' failed with KeyError: 'who'" in message
    assert "check the action's arguments (given: person;" in message
    assert f"run {started.id} stays waiting at 'ask'" in message
    assert "grace" not in message  # argument values stay out (not hex: run ids are)
    assert info.value.run_id == started.id
    assert isinstance(info.value.__cause__, KeyError)
    assert (await store.load(started.id)).status == "waiting"


async def test_answer_action_run_error_passes_unchanged(flow: Any, registry: Any) -> None:
    def refuses(interaction: Interaction, args: dict[str, Any], env: AnswerEnv) -> Any:
        raise RunError("answer action 'test.refuses' needs `who:`")

    registry.answer_actions["test.refuses"] = refuses
    try:
        answers = Answers({"ask": {"do": "test.refuses"}})
        async with Engine(registry, store=MemoryStore(), clock=VirtualClock()) as engine:
            with pytest.raises(RunError) as info:
                await drive(
                    engine, await engine.start(flow), flow, answers=answers, registry=registry
                )
    finally:
        del registry.answer_actions["test.refuses"]
    assert str(info.value) == "answer action 'test.refuses' needs `who:`"


def test_cli_answer_action_failing_exits_2_and_the_run_waits(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Exit 2 as for every other wrong answer (an unknown action, an answer that is no
    # object): the answers file needs fixing; the run itself is saved, waiting.
    def broken(interaction: Interaction, args: dict[str, Any], env: AnswerEnv) -> Any:
        raise ValueError("persona 'zed' has no documents")

    plugins = load_registry()
    plugins.answer_actions["test.broken"] = broken
    monkeypatch.setattr("flowengine._cli.runs.registry", lambda: plugins)
    (tmp_path / "flow.yaml").write_text(QR_LOOP)
    (tmp_path / "answers.yaml").write_text("show: {}\nask: {do: test.broken}\n")
    store = f"sqlite:///{tmp_path / 'runs.db'}"
    args = ["run", "flow.yaml", "--answers", "answers.yaml", "--store", store, "--no-prompt"]
    result = runner.invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.output
    assert errors[0].startswith(
        "Error: answer for node 'ask': action 'test.broken' failed with ValueError: "
        "persona 'zed' has no documents; check the action's arguments"
    )
    listed = runner.invoke(main, ["runs", "list", "--store", store, "--json"])
    assert [r["status"] for r in json.loads(listed.output)] == ["waiting"]


def test_cli_shows_the_message_that_the_trace_redacts(runner: CliRunner, tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parents[2] / "flows" / "examples"
    args = ["run", str(examples / "form.yaml"), "--answers", str(examples / "form" / "valid.yaml")]
    result = runner.invoke(main, [*args, "--trace", "trace.jsonl", "--no-prompt"])
    assert result.exit_code == 0, result.output
    assert "== Welcome, Ada ==" in result.output  # the screen, as the person sees it
    assert "Your pro account is ready." in result.output
    trace = (tmp_path / "trace.jsonl").read_text()
    assert '"node": "welcome"' in trace  # the node is there ...
    for personal in ("Ada", "ada@example.com", "Your pro account"):
        assert personal not in trace  # ... its text is not
