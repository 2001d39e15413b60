"""flowengine: a headless, DaVinci-style identity flow engine.

Connectors and applications import from here only.
"""

from flowengine._connector import CallContext, Capability, Connector, Interaction, Outcome
from flowengine._schema import CompiledSchema, load_schema, schema_dir
from flowengine.clock import Clock, SystemClock, VirtualClock
from flowengine.errors import (
    ConnectorError,
    FlowChangedError,
    FlowDefinitionError,
    FlowEngineError,
    NodeExecutionError,
    PingOneError,
    PluginError,
    RunError,
    SchemaValidationError,
    TemplateError,
)
from flowengine.hookspecs import hookimpl
from flowengine.plugins import Registry, get_plugin_manager, load_registry

__version__ = "0.1.0"

__all__ = [
    "CallContext",
    "Capability",
    "Clock",
    "CompiledSchema",
    "Connector",
    "ConnectorError",
    "FlowChangedError",
    "FlowDefinitionError",
    "FlowEngineError",
    "get_plugin_manager",
    "hookimpl",
    "Interaction",
    "load_registry",
    "load_schema",
    "NodeExecutionError",
    "Outcome",
    "PingOneError",
    "PluginError",
    "Registry",
    "RunError",
    "schema_dir",
    "SchemaValidationError",
    "SystemClock",
    "TemplateError",
    "VirtualClock",
]
