"""The `flowengine` command line: validate, run, runs, graph, connectors, and plugins' commands.

The commands that run flows live in `runs.py`; what commands share in `common.py`.
Exit codes: 0 valid / completed, 1 invalid / failed, 3 waiting, 2 nothing ran (bad
flow, input, option or file).
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Sequence
from typing import Any

import click

from flowengine._cli.common import dump, fail, load_or_fail, registry, store_option, stored_run
from flowengine._cli.graph_export import FORMATS
from flowengine._cli.runs import run, runs
from flowengine._cli.serve import serve
from flowengine._errors import FlowEngineError

__all__ = ["main"]


class _MainGroup(click.Group):
    """The main group; plugins add their commands (`register_commands`) on first use."""

    _plugins_added = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._add_plugin_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        found = super().get_command(ctx, name)
        if found is None and not self._plugins_added:
            self._add_plugin_commands()
            found = super().get_command(ctx, name)
        return found

    def _add_plugin_commands(self) -> None:
        if self._plugins_added:
            return
        self._plugins_added = True
        try:
            add_plugin_commands(self)
        except FlowEngineError as e:
            fail(str(e))

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; errors a user can fix exit 2 with one line."""
        # What a user can fix (a broken plugin, an unreadable file, a store that is not a
        # database) is one line with exit code 2, never a traceback.
        try:
            return super().invoke(ctx)
        except FlowEngineError as e:
            fail(str(e))
        except sqlite3.DatabaseError as e:
            fail(f"the run store cannot be read ({e}); check --store / FLOWENGINE_STORE")
        except OSError as e:
            if e.filename is None:
                raise
            fail(f"cannot use {e.filename}: {e.strerror}")


def add_plugin_commands(cli: click.Group, pm: Any = None) -> None:
    """Let every plugin add its commands (`register_commands(cli)`); name a broken one."""
    from flowengine._plugins.registry import call_hook, get_plugin_manager

    call_hook(pm or get_plugin_manager(), "register_commands", cli=cli)


@click.group(cls=_MainGroup)
@click.version_option(package_name="flowengine-identity")
def main() -> None:
    """flowengine: run DaVinci-style identity flows headlessly."""


# validate --------------------------------------------------------------------------


@main.command()
@click.argument("flows", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the diagnostics as JSON.")
def validate(flows: Sequence[str], as_json: bool) -> None:
    """Check flow files; print every problem as file:line:col: CODE message."""
    from flowengine._reading.loader import check_flow

    plugins = registry()
    reports, ok = [], True
    for path in flows:
        _spec, diagnostics = check_flow(path, plugins)
        errors = [d for d in diagnostics if d.severity == "error"]
        ok = ok and not errors
        reports.append(
            {"file": path, "valid": not errors, "diagnostics": [d.to_dict() for d in diagnostics]}
        )
        if not as_json:
            for d in diagnostics:
                click.echo(str(d))
            click.echo(f"{path}: {'ok' if not errors else f'{len(errors)} error(s)'}")
    if as_json:
        click.echo(dump(reports))
    sys.exit(0 if ok else 1)


# graph and connectors --------------------------------------------------------------


@main.command()
@click.argument("flow_file", metavar="FLOW", type=click.Path(dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="mermaid",
    show_default=True,
    help="Mermaid flowchart or Graphviz DOT.",
)
@click.option("--run", "run_id", metavar="RUN_ID", help="Highlight the path of this stored run.")
@store_option
def graph(flow_file: str, fmt: str, run_id: str | None, store: str) -> None:
    """Draw a flow as Mermaid or DOT, outcomes on the edges."""
    from flowengine._cli.graph_export import export

    flow = load_or_fail(flow_file, registry())
    found = stored_run(store, run_id) if run_id else None
    if found is not None and found.flow_id != flow.id:
        fail(
            f"run {run_id} is a run of flow {found.flow_id!r} ({found.flow_file}), not of "
            f"{flow.id!r}: draw `flowengine graph {found.flow_file} --run {run_id}`"
        )
    click.echo(export(flow, fmt, found), nl=False)


@main.command()
@click.argument("name", required=False)
@click.argument("capability", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the description as JSON.")
def connectors(name: str | None, capability: str | None, as_json: bool) -> None:
    """The connectors, a connector's capabilities, or one capability's schemas."""
    from flowengine._cli.catalog import describe

    try:
        text = describe(registry(), name, capability, as_json=as_json)
    except LookupError as e:
        fail(str(e.args[0]))
    click.echo(text)


main.add_command(run)
main.add_command(runs)
main.add_command(serve)
