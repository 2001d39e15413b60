"""The shipped flows' PingOne connections: URL overrides from the environment, time to scan."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowengine import Registry, load_flow, load_registry

# private: tests the template compiler directly
from flowengine._reading.templating import expand_settings

FLOWS = sorted((Path(__file__).resolve().parents[2] / "flows").glob("*.yaml"))
PINGONE = ("pingone", "pingone_verify")


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry()


@pytest.mark.parametrize("path", FLOWS, ids=lambda p: p.stem)
def test_every_pingone_connection_takes_its_urls_from_the_environment(
    path: Path, registry: Registry
) -> None:
    flow = load_flow(str(path), registry)
    pingone = [c for c in flow.connections.values() if c.connector in PINGONE]
    assert pingone, f"{path.name} has no PingOne connection"
    for connection in pingone:
        assert connection.settings["api_url"] == "${PINGONE_API_URL:-}"
        assert connection.settings["auth_url"] == "${PINGONE_AUTH_URL:-}"
        schema = registry.settings[connection.connector]
        unset, _ = expand_settings(connection.settings, {})
        assert unset["api_url"] == "" and unset["auth_url"] == ""
        assert schema.is_valid(unset), f"{connection.connector}: empty URLs must mean unset"
        served = {"PINGONE_API_URL": "http://127.0.0.1:8799/v1"}
        assert schema.is_valid(expand_settings(connection.settings, served)[0])
        wrong = {"PINGONE_AUTH_URL": "auth.example.com"}  # no scheme
        assert not schema.is_valid(expand_settings(connection.settings, wrong)[0])


def test_registration_gives_a_person_minutes_to_scan(registry: Registry) -> None:
    flow = load_flow(str(FLOWS[0].parent / "registration.yaml"), registry)
    poll = flow.all_nodes["show_qr_code"].inputs["poll_interval"]
    assert flow.settings.max_node_visits * poll >= 5 * 60
    assert flow.settings.timeout == 45 * 60
