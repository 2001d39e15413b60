"""The `flowengine` command line: validate, run, runs, graph, connectors, sandbox.

The commands that run flows live in `_cli_runs.py`; what commands share in `_cli_common.py`.
Exit codes: 0 valid / completed, 1 invalid / failed, 3 waiting, 2 nothing ran (bad
flow, input, option or file).
"""

from __future__ import annotations

import importlib
import sqlite3
import sys
from collections.abc import Sequence
from typing import Any

import click

from flowengine._cli_common import dump, fail, load_or_fail, registry, store_option, stored_run
from flowengine._cli_runs import run, runs
from flowengine.errors import FlowEngineError
from flowengine.graph import FORMATS

__all__ = ["main"]


class _MainGroup(click.Group):
    """The main group; `sandbox` is imported only when used (it pulls in Starlette)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = super().list_commands(ctx)
        return sorted([*names, "sandbox"]) if _sandbox_group() else names

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name == "sandbox":
            return _sandbox_group()
        return super().get_command(ctx, name)

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


def _sandbox_group() -> click.Command | None:
    """The `sandbox` command group, if the PingOne connector is installed."""
    try:
        sandbox_cli = importlib.import_module("connectors.pingone.sandbox.cli")
    except ImportError:  # the PingOne connector is not installed or not built yet
        return None
    command = getattr(sandbox_cli, "sandbox", None)
    return command if isinstance(command, click.Command) else None


@click.group(cls=_MainGroup)
@click.version_option(package_name="flowengine")
def main() -> None:
    """flowengine: run DaVinci-style identity flows headlessly."""


# validate --------------------------------------------------------------------------


@main.command()
@click.argument("flows", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the diagnostics as JSON.")
def validate(flows: Sequence[str], as_json: bool) -> None:
    """Check flow files; print every problem as file:line:col: CODE message."""
    from flowengine.loader import check_flow

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
    from flowengine.graph import export

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
    from flowengine._catalog import describe

    try:
        text = describe(registry(), name, capability, as_json=as_json)
    except LookupError as e:
        fail(str(e.args[0]))
    click.echo(text)


main.add_command(run)
main.add_command(runs)
