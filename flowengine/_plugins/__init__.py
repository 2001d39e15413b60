"""Plugins: the connector contract, capability schemas, and the registry that loads them.

`connector` (Connector, Capability, Outcome, Interaction, CallContext), `schema`
(CompiledSchema, load_schema, schema_dir, schema_problem) and `registry`
(get_plugin_manager, load_registry, Registry, LoadedCapability, call_hook); the hooks
themselves are the public `flowengine.hookspecs`.
"""
