"""Golden traces: every `flows/**/*.trace` is run headlessly and must match line for line.

A trace file starts with optional header comments, then one "node outcome" line per trace
event in run order (branches of a parallel block sorted by id) and "= <status>" last:

    # flow: ../registration.yaml      default: the .yaml beside the trace with the same stem
    # answers: success.yaml           optional; paths are relative to the trace file
    # inputs: {"limit": 4}            optional; JSON (or YAML flow style)
    bump success
    ...
    = completed

The run uses a VirtualClock (poll waits cost nothing) and a memory store. To rewrite the
expected lines after a deliberate change: FLOWENGINE_UPDATE_GOLDEN=1 pytest tests/cli/test_golden.py
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from flowengine import Answers, Engine, MemoryStore, VirtualClock, drive, load_flow, load_registry

# private: the golden trace format is a test helper, not API
from flowengine._running.headless import golden_trace

FLOWS = Path(__file__).resolve().parents[2] / "flows"
TRACES = sorted(FLOWS.rglob("*.trace"))


def read_trace(path: Path) -> tuple[dict[str, str], str]:
    """The header (key -> value) and the expected body of a trace file."""
    header: dict[str, str] = {}
    body: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") and not body:
            key, _, value = line.lstrip("# ").partition(":")
            if value.strip():
                header[key.strip()] = value.strip()
        elif line.strip():
            body.append(line.rstrip())
    return header, "\n".join(body) + "\n"


def case(path: Path) -> tuple[Path, Answers | None, dict[str, Any]]:
    header, _ = read_trace(path)
    flow = path.parent / header["flow"] if "flow" in header else path.with_suffix(".yaml")
    answers = Answers.load(path.parent / header["answers"]) if "answers" in header else None
    inputs = yaml.safe_load(header["inputs"]) if "inputs" in header else {}
    return flow, answers, inputs


@pytest.fixture(scope="module")
def registry() -> Any:
    return load_registry()


def test_there_are_golden_traces() -> None:
    assert len(TRACES) >= 3, TRACES


@pytest.mark.parametrize("trace", TRACES, ids=[str(t.relative_to(FLOWS)) for t in TRACES])
async def test_golden_trace(trace: Path, registry: Any) -> None:
    flow_file, answers, inputs = case(trace)
    flow = load_flow(flow_file, registry)
    async with Engine(registry, store=MemoryStore(), clock=VirtualClock()) as engine:
        run = await engine.start(flow, inputs)
        run = await drive(engine, run, flow, answers=answers, registry=registry)
    actual = golden_trace(run)
    header, expected = read_trace(trace)
    if os.environ.get("FLOWENGINE_UPDATE_GOLDEN"):
        lines = [f"# {k}: {v}" for k, v in header.items()]
        trace.write_text("\n".join([*lines, actual]) if lines else actual, encoding="utf-8")
        return
    assert actual == expected, f"{trace} differs; run error: {run.error}"
