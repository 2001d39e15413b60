"""The `flowengine` command line (click); it may import every other part of the engine.

`app` (main: the group, validate, graph, connectors, plugins' commands), `runs` (run, runs
list|show|resume), `common` (options, errors: exit 2), `terminal` (what a run shows in a
terminal), `catalog` (`connectors` output), `graph_export` (Mermaid / DOT).
"""

from flowengine._cli.app import add_plugin_commands, main

__all__ = ["add_plugin_commands", "main"]
