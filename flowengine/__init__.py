"""flowengine: a headless, DaVinci-style identity flow engine.

Connectors and applications import from here only: `load_flow` / `check_flow` read a
flow file, `Engine` runs it, `open_store` keeps its runs, `drive` answers a waiting run.
Every type these take and return is exported here too; the modules behind this door
(`_plugins/`, `_reading/`, `_running/`, `_storing/`, `_cli/`) are private.
"""

from flowengine._clock import Clock, SystemClock, VirtualClock
from flowengine._errors import (
    ConnectorError,
    FlowChangedError,
    FlowDefinitionError,
    FlowEngineError,
    NodeExecutionError,
    PluginError,
    RunConflictError,
    RunError,
    SchemaProblem,
    SchemaValidationError,
    TemplateError,
)
from flowengine._plugins.connector import CallContext, Capability, Connector, Interaction, Outcome
from flowengine._plugins.registry import (
    LoadedCapability,
    Registry,
    get_plugin_manager,
    load_registry,
)
from flowengine._plugins.schema import CompiledSchema, load_schema, schema_dir
from flowengine._reading.diagnostic import Diagnostic
from flowengine._reading.loader import check_flow, load_flow
from flowengine._reading.spec import (
    ConnectionSpec,
    FlowSettings,
    FlowSpec,
    Location,
    NodeSpec,
    RetrySpec,
)
from flowengine._reading.templating import to_text
from flowengine._running.answers import check_answers
from flowengine._running.engine import Engine
from flowengine._running.headless import MISSING, AnswerEnv, Answers, Prompt, Wait, drive
from flowengine._running.trace import JsonlTraceSink
from flowengine._storing.run import NodeResult, Run, RunStatus
from flowengine._storing.stores import MemoryStore, RunStore, SQLiteStore, open_store
from flowengine.hookspecs import hookimpl

__version__ = "0.1.0"

# Sorted by str.casefold, as httpx does and tests/test_exported_members.py checks (ruff
# would sort upper case first).
__all__ = [  # noqa: RUF022
    "AnswerEnv",
    "Answers",
    "CallContext",
    "Capability",
    "check_answers",
    "check_flow",
    "Clock",
    "CompiledSchema",
    "ConnectionSpec",
    "Connector",
    "ConnectorError",
    "Diagnostic",
    "drive",
    "Engine",
    "FlowChangedError",
    "FlowDefinitionError",
    "FlowEngineError",
    "FlowSettings",
    "FlowSpec",
    "get_plugin_manager",
    "hookimpl",
    "Interaction",
    "JsonlTraceSink",
    "load_flow",
    "load_registry",
    "load_schema",
    "LoadedCapability",
    "Location",
    "MemoryStore",
    "MISSING",
    "NodeExecutionError",
    "NodeResult",
    "NodeSpec",
    "open_store",
    "Outcome",
    "PluginError",
    "Prompt",
    "Registry",
    "RetrySpec",
    "Run",
    "RunConflictError",
    "RunError",
    "RunStatus",
    "RunStore",
    "schema_dir",
    "SchemaProblem",
    "SchemaValidationError",
    "SQLiteStore",
    "SystemClock",
    "TemplateError",
    "to_text",
    "VirtualClock",
    "Wait",
]
