"""The `serve` fixture: a flow API server on 127.0.0.1 (a free port), stopped by the test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from served import FORM_FLOW, Served

from flowengine import Engine, Registry, VirtualClock, load_registry, open_store

# private: the server's parts are built here the way `flowengine serve` builds them
from flowengine._serving.app import FlowServer, plugin_web_apps

# private: the development default config, as `flowengine serve` uses it without --config
from flowengine._serving.config import ServeConfig, dev_config

# private: the flows loaded and checked as `flowengine serve` does at start
from flowengine._serving.flows import load_served_flows


@pytest.fixture
def serve() -> Iterator[Any]:
    """serve(*flow_paths, config=None, store="memory:", clock=None) -> a started Served."""
    started: list[Served] = []

    def make(
        *paths: str,
        config: ServeConfig | None = None,
        store: str = "memory:",
        clock: VirtualClock | None = None,
        registry: Registry | None = None,
    ) -> Served:
        registry = registry or load_registry()
        flows = load_served_flows(list(paths) or [FORM_FLOW], registry)
        opened = open_store(store)
        engine = Engine(registry, store=opened, clock=clock)
        server = FlowServer(
            flows, config or dev_config(), opened, engine=engine, web_apps=plugin_web_apps(flows)
        )
        served = Served(server, clock).__enter__()
        started.append(served)
        return served

    yield make
    for served in reversed(started):
        served.__exit__()
