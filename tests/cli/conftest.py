"""Fixtures for the CLI tests: a CliRunner in a temporary directory, the example flows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "flows" / "examples"


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """A CliRunner whose default run store lives in a fresh temporary directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FLOWENGINE_STORE", raising=False)
    yield CliRunner()


@pytest.fixture
def examples() -> Path:
    return EXAMPLES
