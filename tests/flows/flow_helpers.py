"""Helpers of the flow library tests: where the flows are and how answers files are read."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from flowengine.headless import Answers
from flowengine.runtime import Run

FLOWS = Path(__file__).resolve().parents[2] / "flows"

RunFlow = Callable[..., Coroutine[Any, Any, Run]]


def answers_of(flow: str, name: str, **changes: Any) -> Answers:
    """The answers file `flows/<flow>/<name>.yaml`, with some node answers replaced."""
    answers = Answers.load(FLOWS / flow / f"{name}.yaml")
    answers.responses.update(changes)
    return answers
