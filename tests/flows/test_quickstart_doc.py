"""The README's quick start stays true: its graph is the flow's, the files it names exist."""

from __future__ import annotations

import re

from flow_helpers import FLOWS

from flowengine import Registry, load_flow

# private: the graph export belongs to the CLI
from flowengine._cli.graph_export import to_mermaid

DOC = FLOWS.parent / "README.md"


def test_the_graph_in_the_quickstart_is_the_registration_flows(registry: Registry) -> None:
    text = DOC.read_text()
    shown = text.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert shown == to_mermaid(load_flow(FLOWS / "registration.yaml", registry))


def test_every_flow_and_answers_file_the_quickstart_names_exists() -> None:
    named = set(re.findall(r"`(flows/[\w./-]+\.yaml)`", DOC.read_text()))
    assert "flows/registration/success.yaml" in named
    missing = [n for n in named if not (FLOWS.parent / n).exists()]
    assert missing == []
