"""What the fuzz cases are fed to: the flow reader, `flowengine validate`, answers and inputs files.

Each target takes (case name, file text). It returns when flowengine answered with
diagnostics, a valid result or one of its own clear errors (`ALLOWED`), and raises anything
else, which the harness reports as a finding.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from flowengine import Answers, FlowEngineError, Registry, check_flow, load_registry

# The fuzz cases render every template of a flow's nodes as a run would, whether or not the
# flow has other errors, so the reader's own YAML and template compiler are needed.
# private: the YAML reader, to find the templates of a flow that does not load
from flowengine._reading.marked_yaml import load_yaml

# private: the template compiler, to render them as a run would
from flowengine._reading.templating import compile_value

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = (FlowEngineError,)
"""flowengine's own errors name the file and the fix: a clear error, not a finding."""


@cache
def registry() -> Registry:
    return load_registry()


@cache
def cli() -> Any:
    """The `flowengine` command, as its console-script entry point names it."""
    (script,) = importlib.metadata.entry_points(group="console_scripts", name="flowengine")
    return script.load()


def _file(text: str, suffix: str = ".yaml") -> str:
    folder = Path(tempfile.gettempdir()) / f"flowengine-fuzz-{os.getpid()}"
    folder.mkdir(exist_ok=True)
    path = folder / f"case{suffix}"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return str(path)


def check_flow_text(name: str, text: str) -> None:
    """The reader: every problem a diagnostic, a valid flow a FlowSpec."""
    check_flow(name.split("#", 1)[0], registry(), text=text)


def render_templates(name: str, text: str) -> None:
    """Every node input of the case compiled and rendered once, no node having run yet."""
    data = load_yaml(text, name.split("#", 1)[0]).data
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), dict):
        return
    variables = data.get("variables")
    scope = {
        "nodes": {},
        "inputs": {},
        "vars": variables if isinstance(variables, dict) else {},
        "run": {"id": "fuzz"},
    }
    for node_id, node in data["nodes"].items():
        if not isinstance(node, dict):
            continue
        blocks = [node, *(node.get("parallel") or {}).values()] if "parallel" in node else [node]
        for block in blocks:
            if not isinstance(block, dict) or "with" not in block:
                continue
            # A TemplateError names the node, the field and the expression: a clear error.
            with contextlib.suppress(FlowEngineError):
                compile_value(block["with"], node_id=str(node_id)).render(scope)


def check_flow_and_templates(name: str, text: str) -> None:
    """The reader, then the templates of the case rendered."""
    check_flow_text(name, text)
    render_templates(name, text)


def check_cli(args: list[str]) -> None:
    """A CLI command ends with an exit code and a message, never a traceback."""
    result = CliRunner().invoke(cli(), args, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    if "Traceback" in result.output:
        raise AssertionError(f"a traceback in the output of flowengine {' '.join(args)}")


def check_validate(name: str, text: str) -> None:
    """`flowengine validate FILE` on the case."""
    check_cli(["validate", _file(text)])


def check_answers_text(name: str, text: str) -> None:
    """An answers file read, then used for a run of the form example."""
    path = _file(text)
    Answers.load(path)
    check_cli(["run", str(ROOT / "flows" / "examples" / "form.yaml"), "--answers", path])


def check_inputs_text(name: str, text: str) -> None:
    """An inputs file given to `flowengine run`."""
    path = _file(text)
    check_cli(["run", str(ROOT / "flows" / "examples" / "loop.yaml"), "--inputs", path])
