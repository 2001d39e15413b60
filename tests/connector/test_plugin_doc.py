"""docs/plugins.md's step-by-step connector package works as written: loads, validates, runs."""

from __future__ import annotations

import re
import tomllib
import types
from pathlib import Path
from typing import Any

import pytest

from flowengine import (
    Answers,
    Engine,
    MemoryStore,
    VirtualClock,
    check_flow,
    drive,
    get_plugin_manager,
    load_registry,
)

PAGE = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
BLOCKS = re.findall(r"```(\w*)\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S)


def _block(language: str, needle: str) -> str:
    """The page's first code block in `language` that contains `needle`."""
    found = [text for lang, text in BLOCKS if lang == language and needle in text]
    assert found, f"docs/plugins.md has no ```{language} block with {needle!r}"
    return found[0]


def _module(name: str, source: str) -> types.ModuleType:
    """Run a code block from the page as a module, as Python would import the package."""
    module = types.ModuleType(name)
    exec(compile(source, f"docs/plugins.md ({name})", "exec"), module.__dict__)
    return module


def test_pyproject_declares_the_entry_point() -> None:
    project = tomllib.loads(_block("toml", "[project.entry-points.flowengine]"))
    assert project["project"]["entry-points"]["flowengine"] == {"greeter": "flowengine_greeter"}
    assert project["build-system"]["build-backend"] == "hatchling.build"


@pytest.mark.parametrize(("answer", "greeting"), [({"name": "Ada"}, "Hello, Ada!"), (None, None)])
async def test_the_documented_package_runs_the_documented_flow(
    answer: dict[str, Any] | None, greeting: str | None
) -> None:
    package = _module("flowengine_greeter", _block("python", "def register_connectors"))
    actions = _module(
        "greeter_actions",
        "from flowengine import hookimpl\n\n" + _block("python", "def register_answer_actions"),
    )
    pm = get_plugin_manager()
    pm.register(package, name="doc-greeter")
    pm.register(actions, name="doc-greeter-actions")
    try:
        registry = load_registry(pm)
    finally:
        pm.unregister(name="doc-greeter")
        pm.unregister(name="doc-greeter-actions")
    assert registry.connectors["greeter"].capabilities["greet"].outcomes == ("success", "nobody")
    spec, diagnostics = check_flow("hello.yaml", registry, text=_block("yml", "flow: hello"))
    assert spec is not None, "\n".join(map(str, diagnostics))
    assert [d for d in diagnostics if d.severity == "error"] == []
    # The doc's answers: a plain answer, and the answer action it registers ({do: shout}).
    response = answer or {"do": "shout", "text": "ada"}
    engine = Engine(registry, store=MemoryStore(), clock=VirtualClock())
    async with engine:
        run = await drive(
            engine,
            await engine.start(spec, {}),
            spec,
            answers=Answers({"ask": response}),
            registry=registry,
        )
    assert run.status == "completed"
    assert run.result == {"result": greeting or "Hello, ADA!"}


def test_the_documented_capability_reports_nobody_for_a_blank_name() -> None:
    package = _module("flowengine_greeter", _block("python", "def register_connectors"))
    outcome = package.greet({"name": "  "}, None)
    assert (outcome.name, outcome.output) == ("nobody", {"greeting": ""})
