"""Finding plugins and checking what they register.

`get_plugin_manager()` makes a fresh pluggy manager (never at import time) that loads the
`flowengine` entry-point group; `load_registry()` asks every plugin to register its
connectors and fails loudly, naming the plugin, on anything broken.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import pluggy

from flowengine import hookspecs
from flowengine._errors import PluginError, did_you_mean
from flowengine._plugins.connector import Capability, Connector
from flowengine._plugins.schema import CompiledSchema, load_schema

__all__ = ["LoadedCapability", "Registry", "call_hook", "get_plugin_manager", "load_registry"]

ENTRY_POINT_GROUP = "flowengine"
DISTRIBUTION = "flowengine-identity"
"""flowengine's own distribution: the plugins it ships (its built-ins) load whatever
FLOWENGINE_LOAD_PLUGINS says, through their entry points like any other plugin."""
LOAD_PLUGINS_ENV = "FLOWENGINE_LOAD_PLUGINS"
"""Unset: load every installed plugin. Set: a comma-separated list of the installed
(non-built-in) plugins to load; set to "" to load none but the built-ins."""


def get_plugin_manager(*, load_entrypoints: bool = True) -> pluggy.PluginManager:
    """A new plugin manager with the built-in connectors and the installed plugins.

    `load_entrypoints=False` loads the built-ins only, whatever is installed beside them."""
    pm = pluggy.PluginManager("flowengine")
    pm.add_hookspecs(hookspecs)
    names: set[str] | None = set()
    if load_entrypoints:
        wanted = os.environ.get(LOAD_PLUGINS_ENV)
        names = None if wanted is None else {w.strip() for w in wanted.split(",") if w.strip()}
    _load_entrypoints(pm, names)
    _check_pending(pm)
    return pm


def _hook_names() -> list[str]:
    """The hooks plugins may implement (the specs in hookspecs.py)."""
    return sorted(n for n, v in vars(hookspecs).items() if hasattr(v, "flowengine_spec"))


def _check_pending(pm: pluggy.PluginManager) -> None:
    """A hookimpl whose name matches no hook is a PluginError naming the plugin and the hook."""
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as e:
        hooks = _hook_names()
        name = next(
            (n for n, c in vars(pm.hook).items() if c.spec is None and c.get_hookimpls()), "?"
        )
        raise PluginError(
            f"implements {name!r}, which is not a flowengine hook{did_you_mean(name, hooks)} "
            f"(the hooks are: {', '.join(hooks)})",
            plugin=pm.get_name(e.plugin),
        ) from e


def _register(pm: pluggy.PluginManager, plugin: Any, name: str) -> None:
    """Register one plugin; a hookimpl pluggy refuses is a PluginError naming it."""
    try:
        pm.register(plugin, name=name)
    except pluggy.PluginValidationError as e:
        raise PluginError(str(e), plugin=name) from e


def _load_entrypoints(pm: pluggy.PluginManager, names: set[str] | None) -> None:
    """Register the installed plugins (all, or those named); a broken one is a PluginError."""
    found = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    builtin = {ep.name for ep in found if _is_builtin(ep)}
    _check_wanted(names, {ep.name for ep in found} - builtin, builtin)
    for ep in found:
        if names is not None and ep.name not in names and ep.name not in builtin:
            continue
        if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
            continue  # a second distribution of the same plugin, or blocked on purpose
        try:
            plugin = ep.load()
        except Exception as e:  # whatever a plugin raises on import: name the plugin
            raise PluginError(
                f"cannot import {ep.value!r} ({type(e).__name__}: {e}); fix or uninstall it, "
                f"or set {LOAD_PLUGINS_ENV}= to start without installed plugins",
                plugin=ep.name,
            ) from e
        _register(pm, plugin, ep.name)


def _is_builtin(ep: importlib.metadata.EntryPoint) -> bool:
    """Whether a plugin ships in flowengine's own distribution."""
    dist = ep.dist
    return dist is not None and dist.name.replace("_", "-").lower() == DISTRIBUTION


def _check_wanted(names: set[str] | None, installed: set[str], builtin: set[str]) -> None:
    """A name in FLOWENGINE_LOAD_PLUGINS that no installed plugin has is a typo: say so."""
    known = sorted(installed | builtin)
    missing = sorted((names or set()) - set(known))
    if not missing:
        return
    if len(missing) == 1:
        named = f"{missing[0]!r}, which no installed plugin has{did_you_mean(missing[0], known)}"
    else:
        named = ", ".join(_with_hint(name, known) for name in missing)
        named += ", which no installed plugin has"
    raise PluginError(
        f"{LOAD_PLUGINS_ENV} names {named} (installed: {', '.join(sorted(installed)) or 'none'}); "
        "fix the name or install the plugin"
    )


def _with_hint(name: str, known: list[str]) -> str:
    """`'name'`, or `'name' (did you mean 'x'?)` when a known name is close."""
    hint = did_you_mean(name, known).removeprefix("; ")
    return f"{name!r} ({hint})" if hint else repr(name)


@dataclass
class LoadedCapability:
    """A capability with its connector and its compiled schemas."""

    connector: Connector
    capability: Capability
    input: CompiledSchema
    output: CompiledSchema
    plugin: str

    @property
    def qualname(self) -> str:
        """`connector.capability`, as flows write it after a connection name."""
        return f"{self.connector.name}.{self.capability.name}"


@dataclass
class Registry:
    """Everything the plugins registered, checked: connectors, capabilities, actions."""

    connectors: dict[str, Connector] = field(default_factory=dict)
    capabilities: dict[tuple[str, str], LoadedCapability] = field(default_factory=dict)
    settings: dict[str, CompiledSchema] = field(default_factory=dict)
    answer_actions: dict[str, Callable[..., Any]] = field(default_factory=dict)

    def capability(self, connector: str, name: str) -> LoadedCapability:
        """The loaded capability `connector.name` (KeyError if unknown)."""
        return self.capabilities[(connector, name)]

    def add_connector(self, connector: Connector, plugin: str) -> None:
        """Check a registered connector and compile its schemas; PluginError on a problem."""
        if not isinstance(connector, Connector):
            raise PluginError(
                f"register() takes a flowengine.Connector, not {type(connector).__name__}",
                plugin=plugin,
            )
        if connector.name in self.connectors:
            raise PluginError(f"connector {connector.name!r} is registered twice", plugin=plugin)
        _check_names(connector, plugin)
        self.settings[connector.name] = _compile(
            connector.settings_schema, plugin, f"{connector.name} settings schema"
        )
        for cap in connector.capabilities.values():
            input = _capability_schema(connector, cap, "input", plugin)
            output = _capability_schema(connector, cap, "output", plugin)
            self.capabilities[(connector.name, cap.name)] = LoadedCapability(
                connector=connector,
                capability=_with_schema_personal_data(cap, input.schema, output.schema),
                input=input,
                output=output,
                plugin=plugin,
            )
        self.connectors[connector.name] = connector

    def add_answer_action(self, name: str, action: Callable[..., Any], plugin: str) -> None:
        """Add an answers-file action; a name registered twice is a PluginError."""
        if name in self.answer_actions:
            raise PluginError(f"answer action {name!r} is registered twice", plugin=plugin)
        self.answer_actions[name] = action


# What `use: <connection>.<capability>` can name (schemas/flow.schema.json, `use`).
_CONNECTOR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_CAPABILITY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _check_names(connector: Connector, plugin: str) -> None:
    """Names a flow cannot write in `use:` are a PluginError: nothing could ever call them."""
    if not _CONNECTOR_NAME.fullmatch(connector.name):
        raise PluginError(
            f"connector name {connector.name!r} cannot be written in `use: <name>.<capability>`; "
            "use letters, digits, _ and - (not first)",
            plugin=plugin,
        )
    for name in connector.capabilities:
        if not _CAPABILITY_NAME.fullmatch(name):
            raise PluginError(
                f"capability name {name!r} of connector {connector.name!r} cannot be written in "
                "`use:`; use letters, digits and _ (not a digit first)",
                plugin=plugin,
            )


def _compile(schema: Any, plugin: str, what: str) -> CompiledSchema:
    """A schema compiled, or a PluginError naming the plugin and the schema."""
    if not isinstance(schema, dict):
        raise PluginError(f"{what} must be a JSON Schema object", plugin=plugin)
    try:
        return CompiledSchema(schema, name=what)
    except jsonschema.SchemaError as e:
        raise PluginError(f"{what} is not a valid JSON Schema: {e.message}", plugin=plugin) from e
    except ValueError as e:  # jsonschema-rs refused it
        raise PluginError(f"{what} is not a valid JSON Schema: {e}", plugin=plugin) from e


def _capability_schema(
    connector: Connector, cap: Capability, direction: str, plugin: str
) -> CompiledSchema:
    """A capability's input or output schema, inline or from its file."""
    schema = cap.input_schema if direction == "input" else cap.output_schema
    what = f"{connector.name}.{cap.name} {direction} schema"
    if schema is None:
        base = connector.schema_dir
        relative = f"{connector.name}/{cap.name}.{direction}.json"
        if base is None:
            raise PluginError(
                f"{what} is missing: set schema_dir= on Connector({connector.name!r}) to the "
                f"plugin's schemas folder (holding {relative}), or pass input_schema= / "
                "output_schema= on the capability",
                plugin=plugin,
            )
        try:
            schema = load_schema(relative, base)
        except FileNotFoundError as e:
            raise PluginError(
                f"{what} is missing: add {base / relative} or pass input_schema= / "
                "output_schema= on the capability",
                plugin=plugin,
            ) from e
        except ValueError as e:
            raise PluginError(f"{what} in {base / relative} is not JSON: {e}", plugin=plugin) from e
    return _compile(schema, plugin, what)


PERSONAL_DATA_KEY = "x-personal-data"
"""A schema's list of personal data paths, added to its capability's `personal_data`."""


def _with_schema_personal_data(cap: Capability, *schemas: dict[str, Any]) -> Capability:
    """The capability with the `x-personal-data` paths its schemas declare (each once)."""
    paths = list(cap.personal_data)
    for schema in schemas:
        paths += [p for p in schema.get(PERSONAL_DATA_KEY, ()) if p not in paths]
    if len(paths) == len(cap.personal_data):
        return cap
    return dataclasses.replace(cap, personal_data=tuple(paths))


def load_registry(pm: pluggy.PluginManager | None = None) -> Registry:
    """Ask every plugin to register; return the checked Registry."""
    if pm is None:
        pm = get_plugin_manager()
    else:
        _check_pending(pm)  # plugins registered on the manager after it was made
    registry = Registry()
    for impl in pm.hook.register_connectors.get_hookimpls():
        plugin = impl.plugin_name
        _call(impl, register=lambda c, p=plugin: registry.add_connector(c, p))
    for impl in pm.hook.register_answer_actions.get_hookimpls():
        plugin = impl.plugin_name
        _call(impl, register=lambda n, a, p=plugin: registry.add_answer_action(n, a, p))
    return registry


def call_hook(pm: pluggy.PluginManager, hook: str, **kwargs: Any) -> None:
    """Call every plugin's `hook` in turn; whatever one raises is a PluginError naming it."""
    for impl in getattr(pm.hook, hook).get_hookimpls():
        _call(impl, **kwargs)


def _call(impl: Any, **kwargs: Any) -> None:
    """Call one hookimpl; anything it raises becomes a PluginError naming its plugin."""
    try:
        impl.function(**_only_wanted(impl, **kwargs))
    except PluginError:
        raise
    except Exception as e:  # a plugin's own bug: say whose
        raise PluginError(
            f"{impl.function.__name__}() raised {type(e).__name__}: {e}", plugin=impl.plugin_name
        ) from e


def _only_wanted(impl: Any, **kwargs: Any) -> dict[str, Any]:
    """The keyword arguments the impl declares."""
    # Calling impls one by one (not through pm.hook) lets us name the plugin that
    # registered each thing; impls may take fewer arguments than the spec (opt-in).
    return {k: v for k, v in kwargs.items() if k in impl.argnames}
