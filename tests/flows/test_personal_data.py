"""No shipped flow's trace shows a person's data: every flow, with each of its answers files,
runs against a fresh embedded sandbox, and every trace event (the run's trace and the JSONL
file `--trace` writes, through the same sink) is scanned for what the persona typed and what
their documents say: names, birth date, address, document number, email, username, phone."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from flow_helpers import FLOWS
from flowengine_connectors.pingone_sandbox import PERSONAS, Sandbox, use_sandbox

from flowengine import (
    Answers,
    Engine,
    JsonlTraceSink,
    MemoryStore,
    Registry,
    VirtualClock,
    drive,
    load_flow,
)

CASES = sorted(
    (flow, answers)
    for flow in FLOWS.glob("*.yaml")
    for answers in sorted((FLOWS / flow.stem).glob("*.yaml"))
)
NOT_TYPED = {"do", "persona", "action", "document"}
"""Answer keys that steer the headless driver (actions, buttons, document types), not data."""


def typed_values(value: Any, key: str = "") -> set[str]:
    """Every string a person typed in an answers file (form fields), however nested."""
    if isinstance(value, dict):
        return {v for k, item in value.items() if k not in NOT_TYPED for v in typed_values(item, k)}
    if isinstance(value, list):
        return {v for item in value for v in typed_values(item, key)}
    if isinstance(value, str | int) and not isinstance(value, bool):
        return {str(value)}
    return set()


def personas_in(value: Any) -> set[str]:
    if isinstance(value, dict):
        found = {value["persona"]} if isinstance(value.get("persona"), str) else set()
        return found | {p for item in value.values() for p in personas_in(item)}
    if isinstance(value, list):
        return {p for item in value for p in personas_in(item)}
    return set()


def _dates(day: date) -> set[str]:
    return {
        day.isoformat(),
        day.strftime("%m%d%Y"),
        day.strftime("%Y%m%d"),
        day.strftime("%m/%d/%Y"),
    }


def document_values(name: str) -> set[str]:
    """What a persona's documents say about them, as the sandbox reads it back."""
    persona = PERSONAS[name]
    holder = persona.holder
    found = {
        holder.given,
        holder.family,
        f"{holder.given} {holder.family}",
        holder.number,
        holder.street,
        holder.city,
        holder.zip,
        f"{holder.street}, {holder.city}, {holder.state} {holder.zip}",
        *_dates(holder.birth),
        *persona.biographic().values(),
    }
    return found


def personal_values(answers_file: Path) -> set[str]:
    data = yaml.safe_load(answers_file.read_text(encoding="utf-8")) or {}
    values = typed_values(data)
    for name in personas_in(data):
        values |= document_values(name)
    # Shorter strings (a state code, a middle initial) would match by chance (inside ids).
    return {v for v in values if len(v) >= 3}


def leaks(text: str, values: set[str]) -> list[str]:
    """The values that occur in `text` as whole words, in any letter case."""
    return sorted(
        v
        for v in values
        if re.search(rf"(?<![A-Za-z0-9]){re.escape(v)}(?![A-Za-z0-9])", text, re.IGNORECASE)
    )


def test_there_are_cases_with_personal_data() -> None:
    assert len(CASES) >= 25
    values = personal_values(FLOWS / "registration" / "success.yaml")
    assert {"John", "Doe", "john.doe@example.com", "1985-04-01", "D1234567", "62701"} <= values
    assert {"123 MAIN ST", "SPRINGFIELD", "04011985"} <= values


def test_the_scan_finds_a_leak() -> None:
    values = {"John", "1985-04-01"}
    assert leaks('{"given": "JOHN"}', values) == ["John"]
    assert leaks('{"id": "a-1985-04-01x", "name": "Johnson"}', values) == []


@pytest.mark.parametrize(
    ("flow", "answers"),
    CASES,
    ids=[f"{f.stem}/{a.stem}" for f, a in CASES],
)
async def test_no_trace_event_shows_personal_data(
    flow: Path, answers: Path, registry: Registry, tmp_path: Path
) -> None:
    values = personal_values(answers)
    assert values, f"{answers} types no personal data"
    jsonl = tmp_path / "trace.jsonl"
    spec = load_flow(flow, registry)
    sandbox = Sandbox()
    try:
        with use_sandbox(sandbox):
            engine = Engine(
                registry,
                store=MemoryStore(),
                clock=VirtualClock(),
                trace_sinks=[JsonlTraceSink(jsonl)],
            )
            async with engine:
                run = await engine.start(spec, {})
                run = await drive(
                    engine, run, spec, answers=Answers.load(answers), registry=registry
                )
    finally:
        sandbox.close()
    assert run.status in {"completed", "failed"}, (run.status, run.error)
    assert run.trace, "no trace events"
    for event in run.trace:
        shown = json.dumps(event, ensure_ascii=False, default=str)
        assert leaks(shown, values) == [], f"{event['node']} {event.get('outcome')}: {shown[:400]}"
    lines = jsonl.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(run.trace)
    assert leaks("\n".join(lines), values) == []
