"""Fixtures for the flow library tests: a fresh embedded sandbox per test and a flow runner."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from flow_helpers import FLOWS, RunFlow, answers_of
from flowengine_connectors.pingone_sandbox import Sandbox, use_sandbox

from flowengine import (
    Answers,
    Engine,
    MemoryStore,
    Registry,
    Run,
    VirtualClock,
    drive,
    load_flow,
    load_registry,
)


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A fresh sandbox as the process's embedded one (the target of region `sandbox`)."""
    fresh = Sandbox()
    try:
        with use_sandbox(fresh):
            yield fresh
    finally:
        fresh.close()


@pytest.fixture
def run_flow(registry: Registry, sandbox: Sandbox) -> RunFlow:
    """Run `flows/<flow>.yaml` headlessly to its end with an answers file or Answers."""

    async def run(
        flow: str, answers: str | Answers | None = None, inputs: Mapping[str, Any] | None = None
    ) -> Run:
        spec = load_flow(FLOWS / f"{flow}.yaml", registry)
        if isinstance(answers, str):
            answers = answers_of(flow, answers)
        # Personal data kept in the trace: the tests read what the screens showed.
        engine = Engine(
            registry, store=MemoryStore(), clock=VirtualClock(), redact_personal_data=False
        )
        async with engine:
            started = await engine.start(spec, dict(inputs or {}))
            return await drive(engine, started, spec, answers=answers, registry=registry)

    return run
