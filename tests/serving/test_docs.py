"""docs/flow-api.md keeps up with the server: its collector table and its endpoints."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

# private: the collectors the server emits, to find each in the documented table
from flowengine._serving.collectors import fields_of

DOC = (Path(__file__).resolve().parents[2] / "docs" / "flow-api.md").read_text(encoding="utf-8")

INTERACTIONS: list[dict[str, Any]] = [
    {
        "kind": "form",
        "data": {
            "fields": [
                {"name": n, "label": n, "type": t, "options": [{"label": "a", "value": "a"}]}
                for n, t in [
                    ("a", "text"),
                    ("b", "password"),
                    ("c", "select"),
                    ("d", "multiselect"),
                    ("e", "checkbox"),
                    ("f", "email"),
                ]
            ],
            "buttons": [
                {"outcome": "success", "label": "Go"},
                {"outcome": "cancel", "label": "Cancel"},
            ],
        },
    },
    {"kind": "qr", "data": {"url": "https://x.example/v", "title": "t"}, "poll_interval": 2},
    {"kind": "message", "data": {"title": "t", "message": "m"}},
]


def test_every_wire_type_the_server_emits_is_in_the_collector_table() -> None:
    table = DOC[DOC.index("## Interactions as collectors") :]
    emitted = {f["type"] for i in INTERACTIONS for f in fields_of(i)}
    assert emitted == {
        "TEXT",
        "PASSWORD",
        "DROPDOWN",
        "CHECKBOX",
        "SINGLE_CHECKBOX",
        "SUBMIT_BUTTON",
        "FLOW_BUTTON",
        "LABEL",
        "QR_CODE",
        "POLLING",
    }
    for wire in emitted:
        assert f"`{wire}`" in table, wire


def test_every_plain_route_is_in_the_endpoint_table(serve: Any) -> None:
    served = serve()
    paths = served.client.get("/api/openapi.json").json()["paths"]
    documented = set(re.findall(r"`(?:GET|POST) (/api/[^`]*)`", DOC))
    assert {p.replace("{run_id}", "{id}") for p in paths} <= documented
    assert "/api/openapi.json" in documented
