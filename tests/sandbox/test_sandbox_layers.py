"""The sandbox package's modules import each other without a loop.

Every import statement counts: top-level, under `if TYPE_CHECKING:` and inside functions,
relative ones resolved. A loop means two modules are one idea cut apart, or a lower one
reaches up; the message prints the loop.
"""

from __future__ import annotations

import ast
from pathlib import Path

import flowengine_connectors.pingone_sandbox as sandbox
import networkx as nx

PACKAGE = sandbox.__name__
ROOT = Path(sandbox.__file__).parent


def module_names() -> dict[str, Path]:
    """Every module of the package, by dotted name (a package by its own name)."""
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join((PACKAGE, *parts))] = path
    return found


def imported(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that `name` imports, by any import statement anywhere in it."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets.update(_module_of(alias.name, modules) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                # `from . import admin` imports the module admin; `from .http import page`
                # imports http.
                full = f"{base}.{alias.name}"
                targets.add(full if full in modules else _module_of(base, modules))
    return {t for t in targets if t and t != name}


def _module_of(dotted: str, modules: dict[str, Path]) -> str:
    """The longest prefix of `dotted` that is one of the package's modules ('' for none)."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in modules:
            return ".".join(parts[:end])
    return ""


def import_graph() -> nx.DiGraph:
    modules = module_names()
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        graph.add_edges_from((name, target) for target in imported(name, path, modules))
    return graph


def test_the_graph_sees_every_kind_of_import() -> None:
    graph = import_graph()
    assert len(graph) > 20
    # A relative import, an import inside a function, and one under TYPE_CHECKING.
    assert graph.has_edge(f"{PACKAGE}.cli", f"{PACKAGE}.server")  # inside serve_command
    assert graph.has_edge(f"{PACKAGE}", f"{PACKAGE}.app")  # under TYPE_CHECKING
    assert graph.has_edge(f"{PACKAGE}.verification.decide", f"{PACKAGE}.verification._jpeg")


def test_the_modules_import_each_other_without_a_loop() -> None:
    graph = import_graph()
    short = len(PACKAGE) + 1
    loops = [[m[short:] or "__init__" for m in cycle] for cycle in nx.simple_cycles(graph)]
    assert nx.is_directed_acyclic_graph(graph), (
        f"{len(loops)} import loop(s) in {PACKAGE}, e.g. "
        + " -> ".join([*min(loops, key=len), min(loops, key=len)[0]])
    )
