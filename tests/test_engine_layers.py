"""The engine's layers: no import loops, and each folder imports only what its rule allows.

Every import statement counts: top level, under `if TYPE_CHECKING:` and inside functions
(a loop hidden in a function is still a loop a reader has to untangle). The rule, as
docs/architecture.md states it:

    base (_errors, _clock, _redaction) <- _plugins <- _reading <- _running -> _storing
    _storing imports only base; _cli may import all; the door (flowengine/__init__.py)
    imports everything but _cli, and nothing inside the engine imports the door.

Outside the engine, connectors use only `from flowengine import ...`, and a test that
imports a private module says why on the line above (`# private: ...`).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "flowengine"

BASE = {"flowengine._errors", "flowengine._clock", "flowengine._redaction"}
"""The base modules: every layer may use them."""

ALLOWED = {
    "base": {"base"},
    "_plugins": {"base", "_plugins"},
    "_reading": {"base", "_plugins", "_reading"},
    "_storing": {"base", "_storing"},
    "_running": {"base", "_plugins", "_reading", "_storing", "_running"},
    "_serving": {"base", "_plugins", "_reading", "_storing", "_running", "_serving"},
    "_cli": {"base", "_plugins", "_reading", "_storing", "_running", "_serving", "_cli"},
    "door": {"base", "_plugins", "_reading", "_storing", "_running"},
}
"""Layer -> the layers its modules may import."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def layer(module: str) -> str:
    """The layer a module of flowengine belongs to."""
    if module in BASE:
        return "base"
    if module == "flowengine":
        return "door"
    if module == "flowengine.hookspecs":
        return "_plugins"  # the hooks' contract, public as flowengine.hookspecs
    if module == "flowengine.__main__":
        return "_cli"
    top = module.split(".")[1]
    assert top in ALLOWED, f"{module} is in no layer: add its folder to ALLOWED"
    return top


def _resolve(module: str, node: ast.ImportFrom) -> str:
    """The absolute module a `from ... import` names (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    package = module.split(".")
    if MODULES[module].name != "__init__.py":
        package = package[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(module: str) -> set[str]:
    """Every flowengine module that `module` imports, in any statement anywhere."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(module, node)
            # `from flowengine import hookspecs` imports the module flowengine.hookspecs.
            names = [
                f"{source}.{a.name}" if f"{source}.{a.name}" in MODULES else source
                for a in node.names
            ]
        else:
            continue
        found.update(n for n in names if n == "flowengine" or n.startswith("flowengine."))
    return found - {module}


def import_graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(MODULES)
    for module in MODULES:
        for target in imports_of(module):
            assert target in MODULES, f"{module} imports {target}, which does not exist"
            graph.add_edge(module, target)
    return graph


def test_the_engine_has_no_import_loop() -> None:
    graph = import_graph()
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return
    pytest.fail("import loop: " + " -> ".join([a for a, _ in cycle] + [cycle[0][0]]))


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_imports_only_what_its_layer_allows(module: str) -> None:
    allowed = ALLOWED[layer(module)]
    wrong = sorted(t for t in imports_of(module) if layer(t) not in allowed)
    assert not wrong, (
        f"{module} ({layer(module)}) imports {', '.join(wrong)}; "
        f"{layer(module)} may import only {', '.join(sorted(allowed))}"
    )


def test_nothing_inside_imports_the_door() -> None:
    users = sorted(m for m in MODULES if "flowengine" in imports_of(m))
    assert not users, f"{', '.join(users)} import flowengine's __init__; import the module itself"


ROOT = PACKAGE.parent


def _engine_imports(path: Path) -> list[tuple[int, str, bool]]:
    """(line, module, whether it is `from flowengine import ...`) for each engine import."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names = [node.module]
            door = node.module == "flowengine"
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
            door = names == ["flowengine"]
        else:
            continue
        for name in names:
            if name == "flowengine" or name.startswith("flowengine."):
                found.append((node.lineno, name, door))
    return found


def test_connectors_use_only_the_door() -> None:
    wrong = [
        f"{path.relative_to(ROOT)}:{line}: {name}"
        for path in sorted((ROOT / "connectors").rglob("*.py"))
        for line, name, door in _engine_imports(path)
        if not door and name != "flowengine.hookspecs"
    ]
    assert not wrong, "connectors import only `from flowengine import ...`:\n" + "\n".join(wrong)


def test_tests_say_why_they_import_a_private_module() -> None:
    wrong = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for line, name, door in _engine_imports(path):
            if door or name == "flowengine.hookspecs":
                continue
            if not lines[line - 2].strip().startswith("# private:"):
                wrong.append(f"{path.relative_to(ROOT)}:{line}: {name}")
    assert not wrong, "a private import needs a `# private: <why>` line above it:\n" + "\n".join(
        wrong
    )


def test_the_engine_names_no_vendor() -> None:
    # The engine knows connectors only through plugins: no vendor, no emulator by name.
    engine = Path(__file__).resolve().parent.parent / "flowengine"
    named = [
        f"{path.relative_to(engine.parent)}:{n}"
        for path in sorted(engine.rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"ping ?one|sandbox", line, re.I)
    ]
    assert named == []
