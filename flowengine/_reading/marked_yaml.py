"""YAML reading that keeps where every key and value was written.

PyYAML's constructor forgets positions and silently keeps the last of two equal keys,
so flow files are composed into nodes (libyaml when present) and turned into plain
JSON-like values here, recording 1-based line/column marks and reporting duplicate keys.

Two deliberate departures from YAML 1.1, so that flow files mean what they look like:
mapping keys are always strings (`on:` is a key, not `True`; `true:` is the outcome
"true"), and only `true` / `false` are booleans and dates stay strings (as in YAML 1.2's
core schema and JSON).
"""

from __future__ import annotations

import os
import pathlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from flowengine._reading.diagnostic import Diagnostic
from flowengine._reading.spec import Location

__all__ = [
    "Locations",
    "Mark",
    "Path",
    "YamlDocument",
    "load_yaml",
    "read_file_value",
    "read_value",
]

Path = tuple[str | int, ...]
Mark = tuple[int, int]
"""(line, column), both from 1."""

_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}


def _resolvers() -> dict[Any, list[tuple[str, re.Pattern[str]]]]:
    """PyYAML's implicit tag resolvers with YAML 1.2 booleans and no timestamps."""
    # Copy PyYAML's implicit resolvers without the YAML 1.1 booleans (yes/no/on/off) and
    # timestamps, then add the YAML 1.2 booleans back.
    table: dict[Any, list[tuple[str, re.Pattern[str]]]] = {}
    for first, entries in yaml.resolver.Resolver.yaml_implicit_resolvers.items():
        kept = [
            (tag, rx)
            for tag, rx in entries
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
        ]
        if kept:
            table[first] = kept
    bool_rx = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
    for first in "tTfF":
        table.setdefault(first, []).insert(0, ("tag:yaml.org,2002:bool", bool_rx))
    return table


_IMPLICIT = _resolvers()
_NULL = "tag:yaml.org,2002:null"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"


class _Resolver(yaml.resolver.Resolver):
    """Tag resolution for flow files: the resolvers above, no path resolvers."""

    yaml_implicit_resolvers = _IMPLICIT

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        return None  # path resolvers are not used: skip their bookkeeping per node

    def ascend_resolver(self) -> None:
        return None

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        """The tag of a node: implicit scalars by their text, else str, seq or map."""
        # PyYAML's resolve() without path resolvers (unused here): libyaml calls it once
        # per node, so it is a good part of the time spent reading a large flow.
        if kind is yaml.ScalarNode:
            if implicit[0]:
                if not value:
                    return _NULL
                for tag, rx in _IMPLICIT.get(value[0], ()):
                    if rx.match(value):
                        return tag
            return _STR
        return _SEQ if kind is yaml.SequenceNode else _MAP


if yaml.__with_libyaml__:
    from yaml._yaml import CParser

    class _Loader(CParser, yaml.constructor.SafeConstructor, _Resolver):
        """libyaml's parser with the safe constructor and flow files' resolver."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            _Resolver.__init__(self)

else:  # pragma: no cover - libyaml is present in every supported wheel

    class _Loader(  # type: ignore[no-redef]
        yaml.reader.Reader,
        yaml.scanner.Scanner,
        yaml.parser.Parser,
        yaml.composer.Composer,
        yaml.constructor.SafeConstructor,
        _Resolver,
    ):
        """PyYAML's pure-Python parser with the safe constructor and flow files' resolver."""

        def __init__(self, stream: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            _Resolver.__init__(self)


@dataclass
class YamlDocument:
    """A YAML document as plain values, with the marks of its keys and values."""

    file: str
    data: Any = None
    keys: dict[Path, Mark] = field(default_factory=dict)
    """Where each key (or list item) was written: ("nodes", "a", "use") -> (line, col)."""
    values: dict[Path, Mark] = field(default_factory=dict)
    """Where each value starts."""
    diagnostics: list[Diagnostic] = field(default_factory=list)
    """The problems found reading the YAML itself (syntax, duplicate keys); the checks
    return theirs."""

    def key_at(self, path: Path) -> Location:
        """The location of the key at `path`, or of its nearest written ancestor."""
        return _nearest(self.keys, path, self.file)

    def value_at(self, path: Path) -> Location:
        """The location of the value at `path`, or of its nearest written ancestor."""
        return _nearest(self.values, path, self.file)

    def diagnostic(
        self,
        code: str,
        message: str,
        path: Path,
        *,
        at_value: bool = False,
        warning: bool = False,
        node_id: str | None = None,
        json_path: str | None = None,
    ) -> Diagnostic:
        """A diagnostic placed at the key (or value) written at `path`."""
        where = self.value_at(path) if at_value else self.key_at(path)
        severity = "warning" if warning else "error"
        return Diagnostic(where, code, message, severity, node_id, json_path)

    def locations(self) -> Locations:
        """The key marks as a read-only mapping of path -> Location."""
        return Locations(self.file, self.keys)


def _nearest(marks: dict[Path, Mark], path: Path, file: str) -> Location:
    """The mark at `path` or its nearest recorded ancestor, as a Location."""
    while path:
        if path in marks:
            return Location(file, *marks[path])
        path = path[:-1]
    return Location(file, *marks.get((), (1, 1)))


class Locations(Mapping[Path, Location]):
    """Path -> Location, made on demand (a 1,000-node flow has tens of thousands of marks)."""

    __slots__ = ("_file", "_marks")

    def __init__(self, file: str, marks: dict[Path, Mark]) -> None:
        self._file = file
        self._marks = marks

    def __getitem__(self, path: Path) -> Location:
        return Location(self._file, *self._marks[path])

    def __iter__(self) -> Iterator[Path]:
        return iter(self._marks)

    def __len__(self) -> int:
        return len(self._marks)

    def __contains__(self, path: object) -> bool:
        return path in self._marks


def load_yaml(text: str, file: str) -> YamlDocument:
    """Parse one YAML document; syntax errors and duplicate keys become diagnostics."""
    doc = YamlDocument(file)
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as e:
        doc.diagnostics.append(_syntax_error(e, file, text))
        return doc
    except yaml.YAMLError as e:
        doc.diagnostics.append(Diagnostic(Location(file), "FE001", f"YAML syntax error: {e}"))
        return doc
    finally:
        loader.dispose()
    if root is None:
        doc.data = None
        return doc
    doc.values[()] = (root.start_mark.line + 1, root.start_mark.column + 1)
    doc.data = _Builder(doc, loader).build(root, ())
    return doc


def _loc(mark: Any, file: str) -> Location:
    """A PyYAML mark (0-based) as a Location (1-based)."""
    return Location(file, mark.line + 1, mark.column + 1)


_ONE_DOCUMENT = "a flow file holds one YAML document: remove this `---` and what follows"
_NO_TABS = "YAML indents with spaces, never tabs: replace the tab with spaces"


def _hint(e: yaml.MarkedYAMLError, text: str) -> str:
    """The fix for two common mistakes PyYAML reports in its own words, else ""."""
    if "another document" in str(e):
        return f"; {_ONE_DOCUMENT}"
    mark = e.problem_mark
    if mark is not None:
        lines = text.splitlines()
        line = lines[mark.line] if mark.line < len(lines) else ""
        if line[mark.column : mark.column + 1] == "\t":
            return f"; {_NO_TABS}"
    return ""


def _syntax_error(e: yaml.MarkedYAMLError, file: str, text: str) -> Diagnostic:
    """A PyYAML syntax error as an FE001 diagnostic at its mark, with a fix when one is known."""
    mark = e.problem_mark or e.context_mark
    where = _loc(mark, file) if mark is not None else Location(file)
    problem = e.problem or "invalid YAML"
    context = f" ({e.context})" if e.context else ""
    return Diagnostic(where, "FE001", f"YAML syntax error: {problem}{context}{_hint(e, text)}")


class _Builder:
    """Turns composed YAML nodes into dicts, lists and scalars, recording marks."""

    def __init__(self, doc: YamlDocument, constructor: yaml.constructor.SafeConstructor) -> None:
        self.doc = doc
        self.constructor = constructor
        self.active: set[int] = set()
        self.constructors = {
            "tag:yaml.org,2002:int": constructor.construct_yaml_int,
            "tag:yaml.org,2002:float": constructor.construct_yaml_float,
            "tag:yaml.org,2002:bool": constructor.construct_yaml_bool,
            "tag:yaml.org,2002:null": constructor.construct_yaml_null,
        }

    def build(self, node: yaml.Node, path: Path) -> Any:
        """The plain value of a node, recording marks under `path`."""
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path)
        if id(node) in self.active:  # an alias that contains itself
            self.error(node, "FE001", "YAML syntax error: recursive alias")
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return self.sequence(node, path)
            assert isinstance(node, yaml.MappingNode)
            return self.mapping(node, path)
        finally:
            self.active.discard(id(node))

    def error(self, node: yaml.Node, code: str, message: str) -> None:
        """Add a diagnostic at the start of `node`."""
        self.doc.diagnostics.append(Diagnostic(_loc(node.start_mark, self.doc.file), code, message))

    def scalar(self, node: yaml.ScalarNode, path: Path) -> Any:
        """The value of a scalar node; tags other than JSON's are FE003."""
        if node.tag == _STR:
            return node.value
        if node.tag not in _SCALAR_TAGS:
            self.error(
                node, "FE003", f"unsupported YAML tag {node.tag!r}: flow files hold JSON values"
            )
            return node.value
        return self.constructors[node.tag](node)

    def sequence(self, node: yaml.SequenceNode, path: Path) -> list[Any]:
        """A sequence node as a list, each item's mark recorded."""
        items = []
        for i, child in enumerate(node.value):
            here = (*path, i)
            mark = child.start_mark
            self.doc.keys[here] = self.doc.values[here] = (mark.line + 1, mark.column + 1)
            items.append(self.build(child, here))
        return items

    def mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        """A mapping node as a dict with string keys; duplicates are FE002, `<<` merges."""
        result: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        keys, values = self.doc.keys, self.doc.values
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged.update(self.merge(value_node, path))
                continue
            key = key_node.value if type(key_node) is yaml.ScalarNode else self.key(key_node)
            here = (*path, key)
            if key in result:
                self.duplicate(key_node, key, keys[here][0])
            mark = key_node.start_mark
            keys[here] = (mark.line + 1, mark.column + 1)
            mark = value_node.start_mark
            values[here] = (mark.line + 1, mark.column + 1)
            if type(value_node) is yaml.ScalarNode and value_node.tag == _STR:
                result[key] = value_node.value  # the common case, without a call
            else:
                result[key] = self.build(value_node, here)
        for key, value in merged.items():
            result.setdefault(key, value)
        return result

    def duplicate(self, node: yaml.Node, key: str, first_line: int) -> None:
        """Report a key written twice in one mapping (FE002)."""
        self.error(
            node,
            "FE002",
            f"duplicate key {key!r} (first written at line {first_line}); remove one of them",
        )

    def key(self, node: yaml.Node) -> str:
        """A mapping key as a string, whatever it looks like."""
        # Keys are strings, whatever they look like: `on`, `true` and `404` included.
        if isinstance(node, yaml.ScalarNode):
            return str(node.value)
        self.error(node, "FE001", "YAML syntax error: a mapping key must be a plain value")
        return f"<complex key at line {node.start_mark.line + 1}>"

    def merge(self, node: yaml.Node, path: Path) -> dict[str, Any]:
        """The keys a `<<:` merge brings in."""
        # `<<: *anchor` (or a list of anchors): earlier anchors win, explicit keys win over all.
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        merged: dict[str, Any] = {}
        for source in reversed(sources):
            if not isinstance(source, yaml.MappingNode):
                self.error(source, "FE001", "YAML syntax error: `<<` merges mappings only")
                continue
            merged.update(self.build(source, path))
        return merged


def read_file_value(path: str | os.PathLike[str], what: str) -> Any:
    """`read_value` of a file (an editor's BOM dropped); not UTF-8 is a ValueError too."""
    raw = pathlib.Path(path).read_bytes()  # OSError: the caller says the file cannot be read
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ValueError(f"{what} {path} is not UTF-8 text: {e.reason}") from None
    return read_value(text, str(path), what)


def read_value(text: str, file: str, what: str) -> Any:
    """The value of a YAML/JSON file read in the flow files' dialect (`no` stays a string).

    Answers and inputs files are read like flows, so that `country: NO` is Norway, not
    false. The first syntax error or duplicate key raises ValueError naming file:line:col.
    """
    doc = load_yaml(text, file)
    if doc.diagnostics:
        first = min(doc.diagnostics, key=lambda d: (d.location.line, d.location.col))
        problem = first.message.removeprefix("YAML syntax error: ")
        raise ValueError(f"{first.location}: {what} is not valid YAML/JSON: {problem}")
    return doc.data
