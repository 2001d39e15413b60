"""flowengine: a headless, DaVinci-style identity flow engine.

Connectors and applications import from here only: `load_flow` / `check_flow` read a
flow file, `Engine` runs it, `open_store` keeps its runs.
"""

from flowengine._clock import Clock, SystemClock, VirtualClock
from flowengine._errors import (
    ConnectorError,
    FlowChangedError,
    FlowDefinitionError,
    FlowEngineError,
    NodeExecutionError,
    PluginError,
    RunError,
    SchemaValidationError,
    TemplateError,
)
from flowengine._plugins.connector import CallContext, Capability, Connector, Interaction, Outcome
from flowengine._plugins.registry import Registry, get_plugin_manager, load_registry
from flowengine._plugins.schema import CompiledSchema, load_schema, schema_dir
from flowengine._reading.loader import Diagnostic, check_flow, load_flow
from flowengine._running.engine import Engine
from flowengine._storing.run import Run
from flowengine._storing.stores import MemoryStore, SQLiteStore, open_store
from flowengine.hookspecs import hookimpl

__version__ = "0.1.0"

# Sorted by str.casefold, as httpx does and tests/test_exported_members.py checks (ruff
# would sort upper case first).
__all__ = [  # noqa: RUF022
    "CallContext",
    "Capability",
    "check_flow",
    "Clock",
    "CompiledSchema",
    "Connector",
    "ConnectorError",
    "Diagnostic",
    "Engine",
    "FlowChangedError",
    "FlowDefinitionError",
    "FlowEngineError",
    "get_plugin_manager",
    "hookimpl",
    "Interaction",
    "load_flow",
    "load_registry",
    "load_schema",
    "MemoryStore",
    "NodeExecutionError",
    "open_store",
    "Outcome",
    "PluginError",
    "Registry",
    "Run",
    "RunError",
    "schema_dir",
    "SchemaValidationError",
    "SQLiteStore",
    "SystemClock",
    "TemplateError",
    "VirtualClock",
]
