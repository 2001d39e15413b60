"""Fixtures for the verification domain: a strict policy, a fixed time, persona documents."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flowengine_connectors.pingone_sandbox import documents_for

# Tests of the verification rules (a private subpackage): they call its functions directly.
from flowengine_connectors.pingone_sandbox.verification import SubmittedDocument

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def policy() -> dict[str, Any]:
    """Government ID, facial comparison and liveness all REQUIRED at MEDIUM."""
    return {
        "governmentId": {"verify": "REQUIRED"},
        "facialComparison": {"verify": "REQUIRED", "threshold": "MEDIUM"},
        "liveness": {"verify": "REQUIRED", "threshold": "MEDIUM"},
    }


@pytest.fixture
def now() -> datetime:
    return NOW


def submitted(persona: str, *, source: dict[str, str] | None = None) -> list[SubmittedDocument]:
    """The persona's documents as the HTTP layer would store them."""
    return [
        SubmittedDocument(
            type=t, data=d, submitted_at=NOW + timedelta(seconds=i), id=f"doc-{i}", source=source
        )
        for i, (t, d) in enumerate(documents_for(persona))
    ]


@pytest.fixture
def docs() -> Callable[..., list[SubmittedDocument]]:
    return submitted
