"""The flows written in the docs are valid flows (doc examples are executable, STYLE.md §15)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flowengine import check_flow, load_registry

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _flow_blocks() -> list[tuple[str, str]]:
    """(page#n, text) for each ```yaml block that is a whole flow (has a top-level `flow:`)."""
    found = []
    for page in PAGES:
        blocks = re.findall(r"```yaml\n(.*?)```", page.read_text(encoding="utf-8"), re.S)
        for n, block in enumerate(blocks):
            if re.search(r"^flow:", block, re.M):
                found.append((f"{page.relative_to(ROOT)}#{n}", block))
    return found


BLOCKS = _flow_blocks()


def test_the_docs_hold_flow_examples() -> None:
    assert "docs/flows.md#0" in dict(BLOCKS)


@pytest.mark.parametrize(("where", "text"), BLOCKS, ids=[w for w, _ in BLOCKS])
def test_doc_flow_is_valid(where: str, text: str) -> None:
    spec, diagnostics = check_flow(where, load_registry(), text=text)
    assert spec is not None, "\n".join(str(d) for d in diagnostics)
    assert not diagnostics, "\n".join(str(d) for d in diagnostics)
