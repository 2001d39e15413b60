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

import math
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from flowengine._reading.diagnostic import Diagnostic
from flowengine._reading.spec import Location

__all__ = [
    "MAX_ALIAS_CHARS",
    "MAX_ALIAS_VALUES",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_INT_DIGITS",
    "MAX_VALUES",
    "Locations",
    "Mark",
    "Path",
    "YamlDocument",
    "decode_text",
    "load_yaml",
    "read_file_bytes",
    "read_file_text",
    "read_file_value",
    "read_value",
]

Path = tuple[str | int, ...]
Mark = tuple[int, int]
"""(line, column), both from 1."""

MAX_FILE_BYTES = 5 * 1024 * 1024
"""The largest flow, answers or inputs file read (5 MiB): FE006."""
MAX_DEPTH = 64
"""How many mappings and lists may nest inside each other (the shipped flows reach 7): FE004."""
MAX_ALIAS_VALUES = 100_000
"""How many values aliases (`*name`) and merges (`<<: *name`) may build again: FE005."""
MAX_ALIAS_CHARS = 10_000_000
"""How many characters of text aliases and merges may repeat (`*long_text` 50,000 times): FE005."""
MAX_VALUES = 200_000
"""How many values (scalars, mappings, lists, aliases) a file may write: FE008. A 1,000-node
flow writes 14,007; this bounds the time and memory reading takes (about a second)."""
MAX_INT_DIGITS = 100
"""The most digits an integer may have; a float may not overflow (`1.0e+999`): FE007."""
_INT_BOUND = 10**MAX_INT_DIGITS

# The resolver below gives the tags of untagged nodes, which libyaml (and PyYAML) ask it
# for; these are spelled apart from YAML's own tags, so that a tag written in the file
# (`!!int 0xZZ`, `!!map {}`, `!Ref x`) is never mistaken for what the dialect reads.
_YAML = "tag:yaml.org,2002:"
_IMPLICIT_PREFIX = "implicit:"
_STR = _IMPLICIT_PREFIX + "str"
_MERGE = _IMPLICIT_PREFIX + "merge"
_INT = _IMPLICIT_PREFIX + "int"
_FLOAT = _IMPLICIT_PREFIX + "float"


def _resolvers() -> dict[Any, list[tuple[str, re.Pattern[str]]]]:
    """PyYAML's implicit tag resolvers with YAML 1.2 booleans and no timestamps."""
    # Copy PyYAML's implicit resolvers without the YAML 1.1 booleans (yes/no/on/off) and
    # timestamps, then add the YAML 1.2 booleans back.
    table: dict[Any, list[tuple[str, re.Pattern[str]]]] = {}
    for first, entries in yaml.resolver.Resolver.yaml_implicit_resolvers.items():
        kept = [
            (_IMPLICIT_PREFIX + tag.removeprefix(_YAML), rx)
            for tag, rx in entries
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
        ]
        if kept:
            table[first] = kept
    bool_rx = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
    for first in "tTfF":
        table.setdefault(first, []).insert(0, (_IMPLICIT_PREFIX + "bool", bool_rx))
    return table


_IMPLICIT = _resolvers()
_NULL = _IMPLICIT_PREFIX + "null"
_SEQ = _IMPLICIT_PREFIX + "seq"
_MAP = _IMPLICIT_PREFIX + "map"


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
    """Parse one YAML document; syntax errors, duplicate keys and limits become diagnostics."""
    doc = YamlDocument(file)
    if len(text) > MAX_FILE_BYTES:
        doc.diagnostics.append(_too_large(file, len(text.encode("utf-8", "surrogatepass"))))
        return doc
    try:
        loader = _Loader(text)
    except UnicodeError:  # text holding lone surrogates, which no file read as UTF-8 can
        doc.diagnostics.append(Diagnostic(Location(file), "FE000", _NOT_UTF8))
        return doc
    if _may_hold_too_many(text):
        too_many = _count_values(text, file)
        if too_many is not None:
            doc.diagnostics.append(too_many)
            loader.dispose()
            return doc
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
    doc.data = _Builder(doc, loader, aliases="*" in text).build(root, ())
    return doc


def _may_hold_too_many(text: str) -> bool:
    """Whether `text` might write more than MAX_VALUES values (cheap: no parsing).

    Every value but the first needs at least one character of its own, and one of these
    marks near it; so short texts, and long ones made mostly of text, are never counted."""
    if len(text) <= MAX_VALUES:
        return False
    marks = sum(text.count(c) for c in ",\n:-[{?*")
    return 2 * marks + 2 > MAX_VALUES


_VALUE_EVENTS = (yaml.ScalarEvent, yaml.AliasEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)


def _count_values(text: str, file: str) -> Diagnostic | None:
    """FE008 if the text writes more than MAX_VALUES values, counted over the parser's events
    (four times cheaper than composing them), stopping at the limit; else None."""
    loader = _Loader(text)
    count = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, _VALUE_EVENTS):
                count += 1
                if count > MAX_VALUES:
                    return Diagnostic(
                        _loc(event.start_mark, file),
                        "FE008",
                        f"the file writes more than {MAX_VALUES:,} values (scalars, mappings, "
                        "lists), the most flowengine reads; split it, or move the data out",
                    )
    except yaml.YAMLError:
        return None  # reading it again reports the syntax error at its place
    finally:
        loader.dispose()
    return None


_NOT_UTF8 = "the text is not UTF-8 (it holds lone surrogates); save the file as UTF-8"


def _too_large(file: str, size: int) -> Diagnostic:
    """FE006: a file past MAX_FILE_BYTES."""
    return Diagnostic(
        Location(file),
        "FE006",
        f"the file is {size:,} bytes, larger than the {MAX_FILE_BYTES:,} bytes (5 MiB) "
        "flowengine reads; split it, or move the large data out of it",
    )


_TOO_DEEP = (
    f"values nest deeper than {MAX_DEPTH} levels of mappings and lists, the most flowengine "
    "reads; flatten the value"
)


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
    if "maximum nesting depth" in str(e.problem):  # libyaml's own limit (1,000 levels)
        return Diagnostic(where, "FE004", _TOO_DEEP)
    problem = e.problem or "invalid YAML"
    context = f" ({e.context})" if e.context else ""
    return Diagnostic(where, "FE001", f"YAML syntax error: {problem}{context}{_hint(e, text)}")


_BUILDING = object()
_BUILT = object()


class _Builder:
    """Turns composed YAML nodes into dicts, lists and scalars, recording marks.

    It walks the composed nodes recursively, so it refuses to go deeper than MAX_DEPTH
    (FE004), and counts the values that aliases and merges make it build again, refusing
    an alias once that count would pass MAX_ALIAS_VALUES (FE005), before building it."""

    def __init__(
        self, doc: YamlDocument, constructor: yaml.constructor.SafeConstructor, aliases: bool
    ) -> None:
        self.doc = doc
        self.aliases = aliases
        """Whether the text may hold aliases (a `*`): only then are scalars tracked."""
        self.scalars: set[int] = set()
        self.constructor = constructor
        self.state: dict[int, object] = {}
        """Collection nodes being built (_BUILDING) or built once (_BUILT): building one
        again is an alias's doing."""
        self.sizes: dict[int, tuple[int, int]] = {}
        self.expanding = False
        self.again = 0
        """How many values aliases and merges have built again."""
        self.again_chars = 0
        """How many characters of text they have repeated."""
        self.reported: set[str] = set()
        self.constructors = {
            _INT: self.integer,
            _FLOAT: self.float,
            _IMPLICIT_PREFIX + "bool": constructor.construct_yaml_bool,
            _NULL: constructor.construct_yaml_null,
        }

    def build(self, node: yaml.Node, path: Path) -> Any:
        """The plain value of a node, recording marks under `path`."""
        if type(node) is yaml.ScalarNode:
            return self.scalar(node, path)
        key = id(node)
        state = self.state.get(key)
        if state is not None:
            if state is _BUILDING:  # an alias that contains itself
                self.error(node, "FE001", "YAML syntax error: recursive alias")
                return None
            if not self.expanding:  # built once already: an alias (or merge) builds it again
                return self.expand(node, path)
        if len(path) >= MAX_DEPTH:
            self.once(node, "FE004", _TOO_DEEP)
            return None
        tag = node.tag
        if tag is not _MAP and tag is not _SEQ:  # the resolver's own objects: no tag written
            self.tag_error(node)
        self.state[key] = _BUILDING
        try:
            if type(node) is yaml.SequenceNode:
                return self.sequence(node, path)
            assert isinstance(node, yaml.MappingNode)
            return self.mapping(node, path)
        finally:
            self.state[key] = _BUILT

    def expand(self, node: yaml.Node, path: Path) -> Any:
        """Build a node again (an alias, a merge), if the alias budget allows it."""
        if not self.afford(path, *self.size(node)):
            return None
        self.expanding = True
        try:
            return self.build(node, path)
        finally:
            self.expanding = False

    def afford(self, path: Path, values: int, chars: int) -> bool:
        """Count what an alias builds again; False (and FE005, once) past the budget."""
        self.again += values
        self.again_chars += chars
        if self.again <= MAX_ALIAS_VALUES and self.again_chars <= MAX_ALIAS_CHARS:
            return True
        if "FE005" not in self.reported:
            self.reported.add("FE005")
            # The alias node's own mark is its anchor's: place the problem at the key the
            # alias is written under (a list's items, at the list's key).
            while path and not isinstance(path[-1], str):
                path = path[:-1]
            where = self.doc.key_at(path)
            message = (
                f"aliases and merges would build more than {MAX_ALIAS_VALUES:,} values or "
                f"repeat more than {MAX_ALIAS_CHARS:,} characters (an alias of an alias "
                "multiplies them); write the values out, or alias less"
            )
            self.doc.diagnostics.append(Diagnostic(where, "FE005", message))
        return False

    def size(self, root: yaml.Node) -> tuple[int, int]:
        """How many values building `root` makes, and characters of text, aliases expanded
        (each node measured once)."""
        sizes = self.sizes
        visiting: set[int] = set()
        stack: list[tuple[yaml.Node, bool]] = [(root, False)]
        while stack:
            node, done = stack.pop()
            key = id(node)
            if key in sizes:
                continue
            if not isinstance(node, yaml.CollectionNode):
                sizes[key] = (1, len(node.value))
                continue
            if isinstance(node, yaml.SequenceNode):
                children = node.value
            else:
                children = [child for pair in node.value for child in pair]
            if done:
                # A node inside itself (a recursive alias, reported when built) counts 1.
                values, chars = 1, 0
                for child in children:
                    more, text = sizes.get(id(child), (1, 0))
                    values, chars = values + more, chars + text
                sizes[key] = (min(values, MAX_ALIAS_VALUES + 1), min(chars, MAX_ALIAS_CHARS + 1))
                visiting.discard(key)
            elif key not in visiting:
                visiting.add(key)
                stack.append((node, True))
                stack.extend((child, False) for child in children if id(child) not in sizes)
        return sizes[id(root)]

    def error(self, node: yaml.Node, code: str, message: str) -> None:
        """Add a diagnostic at the start of `node`."""
        self.doc.diagnostics.append(Diagnostic(_loc(node.start_mark, self.doc.file), code, message))

    def once(self, node: yaml.Node, code: str, message: str) -> None:
        """Add a diagnostic for a limit, only the first time the document passes it."""
        if code not in self.reported:
            self.reported.add(code)
            self.error(node, code, message)

    def tag_error(self, node: yaml.Node) -> None:
        """FE003: a tag written in the file, on a scalar, a mapping or a list."""
        tag = str(node.tag)
        shown = "!!" + tag.removeprefix(_YAML) if tag.startswith(_YAML) else tag
        kind = {yaml.ScalarNode: "value", yaml.SequenceNode: "list"}.get(type(node), "mapping")
        self.error(
            node,
            "FE003",
            f"unsupported YAML tag {shown!r} on a {kind}: flow files hold JSON values; "
            "remove the tag and write the plain value",
        )

    def scalar(self, node: yaml.ScalarNode, path: Path) -> Any:
        """The value of a scalar node; tags written in the file are FE003."""
        if self.aliases and not self.expanding:  # (an expansion counted its scalars)
            key = id(node)
            if key in self.scalars:  # an alias of a scalar: its text again
                if not self.afford(path, 1, len(node.value)):
                    return None
            else:
                self.scalars.add(key)
        tag = node.tag
        if tag is _STR:
            return node.value
        construct = self.constructors.get(tag)
        if construct is None:
            self.tag_error(node)
            return node.value
        return construct(node)

    def number_error(self, node: yaml.ScalarNode, why: str) -> None:
        """FE007: a number too large to read (its digits are not echoed)."""
        self.error(
            node,
            "FE007",
            f'{why}; quote it to keep it as text ("..."), or write a smaller number',
        )

    def integer(self, node: yaml.ScalarNode) -> int | None:
        """An integer (YAML 1.1 spellings: 0x1F, 0o17, 0b101, 1_000, 1:30), within bounds."""
        text = node.value
        if text.isdigit() and text[0] != "0" and len(text) <= MAX_INT_DIGITS:
            return int(text)  # the common case: a plain decimal (a leading 0 is octal)
        if len(text) > 2 * MAX_INT_DIGITS + 2:  # before Python's own 4,300-digit limit
            self.number_error(
                node, f"an integer of {len(text):,} characters: more than {MAX_INT_DIGITS} digits"
            )
            return None
        try:
            value: int = self.constructor.construct_yaml_int(node)
        except ValueError:  # `0b_`, `0x_`: an integer's spelling with no digits
            self.number_error(node, "this is not an integer (no digits after its prefix)")
            return None
        if not -_INT_BOUND < value < _INT_BOUND:
            self.number_error(node, f"an integer of more than {MAX_INT_DIGITS} digits")
            return None
        return value

    def float(self, node: yaml.ScalarNode) -> float | None:
        """A float; one that overflows (`1.0e+999`) is FE007 (`.inf` is written on purpose)."""
        try:
            value: float = self.constructor.construct_yaml_float(node)
        except (ValueError, OverflowError):
            self.number_error(node, "this number cannot be read")
            return None
        if math.isinf(value) and "inf" not in node.value.lower():
            self.number_error(node, "a number beyond the largest float (about 1.8e308)")
            return None
        return value

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
        aliases = self.aliases
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged.update(self.merge(value_node, path))
                continue
            key = key_node.value if type(key_node) is yaml.ScalarNode else self.key(key_node)
            key_tag = key_node.tag
            if (
                key_tag is not _STR
                and type(key_node) is yaml.ScalarNode
                and key_tag not in self.key_tags
            ):
                self.tag_error(key_node)
            here = (*path, key)
            if key in result:
                self.duplicate(key_node, key, keys[here][0])
            mark = key_node.start_mark
            keys[here] = (mark.line + 1, mark.column + 1)
            mark = value_node.start_mark
            values[here] = (mark.line + 1, mark.column + 1)
            if value_node.tag is _STR and not aliases:
                result[key] = value_node.value  # the common case, without a call
            else:
                result[key] = self.build(value_node, here)
        for key, value in merged.items():
            result.setdefault(key, value)
        return result

    key_tags = frozenset(
        _IMPLICIT_PREFIX + name for name in ("str", "int", "float", "bool", "null", "merge")
    )
    """The tags of keys written without one (keys are strings, whatever they look like)."""

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
            built = self.build(source, path)
            if isinstance(built, dict):
                merged.update(built)
        return merged


def read_file_bytes(path: str | os.PathLike[str], what: str) -> bytes:
    """A file's bytes, never more than MAX_FILE_BYTES: a larger file is a ValueError.

    OSError (a missing file, a folder) is left to the caller, who knows how to say it."""
    with open(path, "rb") as f:
        raw = f.read(MAX_FILE_BYTES + 1)
    if len(raw) > MAX_FILE_BYTES:
        raise ValueError(
            f"{path}: {what} is larger than {MAX_FILE_BYTES:,} bytes (5 MiB), the most "
            "flowengine reads; make it smaller"
        )
    return raw


def decode_text(raw: bytes, path: str | os.PathLike[str], what: str) -> str:
    """A file's bytes as text (an editor's BOM dropped); not UTF-8 is a ValueError."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ValueError(
            f"{path}: {what} is not UTF-8 text ({e.reason} at byte {e.start}); save it as UTF-8"
        ) from None


def read_file_text(path: str | os.PathLike[str], what: str) -> str:
    """A file's text (an editor's BOM dropped); too large or not UTF-8 is a ValueError."""
    return decode_text(read_file_bytes(path, what), path, what)


def read_file_value(path: str | os.PathLike[str], what: str) -> Any:
    """`read_value` of a file (an editor's BOM dropped); too large or not UTF-8 is a ValueError
    too."""
    return read_value(read_file_text(path, what), str(path), what)


_SYNTAX_CODES = ("FE001", "FE002", "FE003")


def read_value(text: str, file: str, what: str) -> Any:
    """The value of a YAML/JSON file read in the flow files' dialect (`no` stays a string).

    Answers and inputs files are read like flows, so that `country: NO` is Norway, not
    false. The first syntax error, duplicate key, tag or limit passed raises ValueError
    naming file:line:col and the fix.
    """
    doc = load_yaml(text, file)
    if doc.diagnostics:
        first = min(doc.diagnostics, key=lambda d: (d.location.line, d.location.col))
        problem = first.message.removeprefix("YAML syntax error: ")
        if first.code in _SYNTAX_CODES:
            raise ValueError(f"{first.location}: {what} is not valid YAML/JSON: {problem}")
        raise ValueError(f"{first.location}: {what} cannot be read ({first.code}): {problem}")
    return doc.data
