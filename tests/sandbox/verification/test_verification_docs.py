"""The decision rules are documented: every persona and threshold appears in docs/sandbox.md."""

from __future__ import annotations

from pathlib import Path

# Tests of the verification rules (a private subpackage): they call its functions directly.
import flowengine_connectors.pingone_sandbox.verification as verification
from flowengine_connectors.pingone_sandbox import PERSONAS
from flowengine_connectors.pingone_sandbox.verification import decide, matching

DOC = Path(__file__).resolve().parents[3] / "docs" / "sandbox.md"


def _rules_section() -> str:
    text = DOC.read_text(encoding="utf-8")
    return text[text.index("## Decision rules") :]


def test_every_persona_is_documented_with_its_outcome():
    section = _rules_section()
    for name, persona in PERSONAS.items():
        row = next((ln for ln in section.splitlines() if ln.startswith(f"| `{name}` |")), None)
        assert row is not None, f"persona {name!r} missing from the personas table"
        assert persona.expected in row, name


def test_thresholds_in_the_docs_are_the_ones_in_the_code():
    section = _rules_section()
    face = decide.FACE_THRESHOLDS
    assert f"`LOW` {face['LOW']}, `MEDIUM` {face['MEDIUM']}, `HIGH` {face['HIGH']}" in section
    live = decide.LIVENESS_THRESHOLDS
    assert f"`LOW` {live['LOW']}, `MEDIUM` {live['MEDIUM']}, `HIGH` {live['HIGH']}" in section
    assert f"at least {decide.MIN_SELFIE_SIDE}x{decide.MIN_SELFIE_SIDE} pixels" in section
    for high, medium in matching.THRESHOLDS.values():
        assert f"≥ {high:.2f}" in section and f"≥ {medium:.2f}" in section


def test_public_surface_is_sorted_and_importable():
    names = verification.__all__
    assert names == sorted(names, key=str.casefold) or names == sorted(names)
    for name in names:
        assert hasattr(verification, name), name
