"""A deterministic mutator for the files users hand flowengine, seeded from the shipped flows.

`cases(seed, count)` yields `(name, text)` pairs: the shipped flows with one or more
mutations each, from plain edits (a line dropped, doubled, swapped, a character changed) to
what people do not type by hand but a file from elsewhere may hold: YAML tags on scalars,
mappings and sequences, alias bombs, nesting thousands deep, huge numbers, long and deep
template expressions, templates that build huge values, control characters.

`check_case(text)` runs one case through `check_flow` and `flowengine validate`, and says what
happened: "ok" (diagnostics or a valid flow), or the exception that escaped. The test suite
runs a small budget of cases (tests/fuzz/test_fuzz.py); `bench/fuzz.py` runs 10,000 or more
with timings and memory.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def seeds() -> list[tuple[str, str]]:
    """The shipped flow files (name, text): the starting points of every mutation."""
    found = []
    for path in sorted((ROOT / "flows").rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        if re.search(r"^flow:", text, re.M):
            found.append((str(path.relative_to(ROOT)), text))
    return found


def answers_seeds() -> list[tuple[str, str]]:
    """The shipped answers files (name, text)."""
    found = []
    for path in sorted((ROOT / "flows").rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        if not re.search(r"^flow:", text, re.M):
            found.append((str(path.relative_to(ROOT)), text))
    return found


# ---- mutations: each takes the text and a Random, and returns the new text --------------


def _lines(text: str) -> list[str]:
    return text.split("\n")


def drop_line(text: str, r: random.Random) -> str:
    lines = _lines(text)
    del lines[r.randrange(len(lines))]
    return "\n".join(lines)


def double_line(text: str, r: random.Random) -> str:
    lines = _lines(text)
    i = r.randrange(len(lines))
    lines.insert(i, lines[i])
    return "\n".join(lines)


def swap_lines(text: str, r: random.Random) -> str:
    lines = _lines(text)
    i, j = r.randrange(len(lines)), r.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


def change_char(text: str, r: random.Random) -> str:
    i = r.randrange(len(text))
    return text[:i] + r.choice(":-{}[]#&*!|>'\"%@`,?\t\x00\x85\u2028") + text[i + 1 :]


def shift_indent(text: str, r: random.Random) -> str:
    lines = _lines(text)
    i = r.randrange(len(lines))
    lines[i] = (" " * r.choice((1, 2, 3, 8))) + lines[i] if r.random() < 0.5 else lines[i].lstrip()
    return "\n".join(lines)


_SCALARS = [
    "!!int 0xZZ",
    "!!int 1_000",
    "!!float",
    "!!float nan",
    "!!binary AAAA",
    "!!timestamp 2026-13-45",
    "!!python/object:os.system",
    "!custom value",
    "!!null x",
    "!!bool maybe",
    "1e400",
    "-1e400",
    ".inf",
    ".nan",
    "9" * 5000,
    "-" + "9" * 400,
    "0o777777777777777777777777",
    "2026-12-02",
    "2026-12-02T10:00:00Z",
    "~",
    "''",
    '"\\x00\\u2028"',
    "[]",
    "{}",
    "[[[[[[[[[[]]]]]]]]]]",
    "*undefined_alias",
    "&anchor value",
    "<<: {a: 1}",
    '"{{ ' + " + ".join(["1"] * 5000) + ' }}"',
    '"{{ ' + "(" * 400 + "1" + ")" * 400 + ' }}"',
    '"{{ ' + "-" * 3000 + '1 }}"',
    '"{{ ' + "not " * 3000 + 'true }}"',
    "\"{{ 'x' * 1000000000 }}\"",
    "\"{{ 'x'.zfill(1000000000) }}\"",
    "\"{{ ('ab' * 99999).split('a') * 9999 }}\"",
    "\"{{ join(['x' * 99999] * 99999, ',') }}\"",
    '"{{ 10 ** 10 ** 10 }}"',
    '"{{ [1] * 100000000 }}"',
    '"{{ nodes.' + "a." * 2000 + 'b }}"',
    '"{{ inputs[' * 300 + "0" + "]" * 300 + ' }}"',
    "\"{{ __import__('os') }}\"",
    '"{{ ().__class__.__bases__ }}"',
    '"{{ lambda: 1 }}"',
    '"{{ {1: 2}[1] }}"',
    '"${' + "A" * 3000 + '}"',
    '"${X:-${Y:-${Z}}}"',
    "\"{{ '%999999999d' % 1 }}\"",
    "\"{{ '%s%s%s%s' % ('x' * 99999, 'x' * 99999, 'x' * 99999, 'x' * 99999) }}\"",
    "\"{{ f'{1:>999999999}' }}\"",
    "\"{{ ('x' * 99999).replace('x', 'xx') }}\"",
    "\"{{ ('x' * 99999).replace('', 'y') }}\"",
    "\"{{ ','.join(['x' * 99999] * 99999) }}\"",
    "\"{{ str(['x' * 99999] * 99999) }}\"",
    "\"{{ [['x' * 99999] * 99999] * 99999 }}\"",
    "\"{{ ['x' * 99999 for i in ['a'] * 9999] }}\"",
    "\"{{ [s.upper() for s in ['x' * 9999] * 9999] }}\"",
    "\"{{ int('9' * 99999) }}\"",
    '"{{ 4000000 ** 1000 * 4000000 ** 1000 }}"',
    '"{{ str(4000000 ** 1000) * 99 }}"',
    '"{{ (10 ** 1000) ** 1000 }}"',
    '"{{ 1 << 10000 << 10000 }}"',
    "\"{{ {'a': 'x' * 99999} | {'b': 'y' * 99999} }}\"",
    "\"{{ ('x' * 99999).split('') }}\"",
    "\"{{ list('x' * 99999) * 2 }}\"",
    '"{{ ' + "[" * 120 + "1" + "]" * 120 + ' }}"',
    '"{{ ' + "f(" * 150 + "1" + ")" * 150 + ' }}"',
    '"{{ ' + "x" * 100_001 + ' }}"',
    '"{{ ' + " and ".join(["true"] * 5000) + ' }}"',
    '"{{ ' + " < ".join(["1"] * 5000) + ' }}"',
    '"{{ ' + "1 if true else " * 500 + '1 }}"',
    '"{{ ' + "{'a': " * 150 + "1" + "}" * 150 + ' }}"',
    '"{{ ' + "a." * 30000 + 'b }}"',
    "!!int 0b_",
    "!!int 0x_",
    "0b_",
    "0x_",
    "1:" + ":".join(["59"] * 500),
    "1.0e+999",
    "-1.5e+400",
    "0." + "0" * 5000 + "1e-400",
    "!!set {a, b}",
    "!!omap [a: 1]",
    "!!pairs [a: 1]",
    "! plain",
    "!<tag:yaml.org,2002:int> 7",
    "!!merge <<",
    "99999999999999999999999999999999999999m",
    "1e308s",
    "-5s",
    "10" * 2000 + "h",
]


def _edit_line(text: str, r: random.Random, pattern: str, edit: Callable[[str], str]) -> str:
    """One line matching `pattern`, picked at random, replaced by `edit(line)`; the text
    unchanged when no line matches."""
    lines = _lines(text)
    candidates = [i for i, line in enumerate(lines) if re.match(pattern, line)]
    if not candidates:
        return text
    i = r.choice(candidates)
    lines[i] = edit(lines[i])
    return "\n".join(lines)


def replace_value(text: str, r: random.Random) -> str:
    """A `key: value` line's value replaced by something odd."""

    def edit(line: str) -> str:
        key = line.split(":", 1)[0]
        return f"{key}: {r.choice(_SCALARS)}"

    return _edit_line(text, r, r"^\s*[\w-]+: \S", edit)


def tag_collection(text: str, r: random.Random) -> str:
    """A tag on a mapping or a sequence (`key: !!map {...}`, `!!set`, `!!omap`, `!custom`)."""

    def edit(line: str) -> str:
        key, value = line.split(":", 1)
        tag = r.choice(("!!map", "!!seq", "!!set", "!!omap", "!!pairs", "!thing", "!!str"))
        return f"{key}: {tag} {value.strip()}"

    return _edit_line(text, r, r"^\s*[\w-]+: [\[{]", edit)


def alias_bomb(text: str, r: random.Random) -> str:
    """A billion-laughs block of aliases, appended as another top-level key."""
    levels = r.randint(3, 9)
    width = r.randint(3, 10)
    out = ['a0: &a0 ["lol"]']
    for n in range(1, levels):
        out.append(f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * width) + "]")
    key = r.choice(("variables", "bomb", "inputs"))
    return text + f"\n{key}:\n" + "\n".join("  " + line for line in out) + "\n"


def merge_bomb(text: str, r: random.Random) -> str:
    """A billion laughs made of merge keys (`<<: [*a, *a]`) rather than lists."""
    levels = r.randint(3, 12)
    out = ["m0: &m0 {k: v}"]
    for n in range(1, levels):
        out.append(f"m{n}: &m{n} {{<<: [*m{n - 1}], x{n}: [*m{n - 1}, *m{n - 1}, *m{n - 1}]}}")
    return text + "\nmerged:\n" + "\n".join("  " + line for line in out) + "\n"


def block_nesting(text: str, r: random.Random) -> str:
    """A value nested by indentation (block style) rather than brackets."""
    depth = r.choice((40, 70, 300, 1200))
    lines = ["deep_block:"]
    for n in range(depth):
        lines.append("  " * (n + 1) + ("k:" if r.random() < 0.7 else "- "))
    lines[-1] += " end"
    return text + "\n" + "\n".join(lines) + "\n"


def json_nesting(text: str, r: random.Random) -> str:
    """The whole file replaced by JSON nested deep (an inputs or answers file from a tool)."""
    depth = r.choice((60, 70, 999, 1001, 5000))
    return '{"a": ' + "[" * depth + "1" + "]" * depth + "}"


def tagged_key(text: str, r: random.Random) -> str:
    """A tag on a mapping key (`!!str key:`, `!k key:`)."""

    def edit(line: str) -> str:
        indent = len(line) - len(line.lstrip())
        return " " * indent + r.choice(("!!str ", "!k ", "!!int ", "!!null ")) + line.lstrip()

    return _edit_line(text, r, r"^\s*[\w-]+:", edit)


def not_utf8(text: str, r: random.Random) -> str:
    """Bytes that are not UTF-8 (written through a lone surrogate), or a UTF-16 file."""
    i = r.randrange(len(text))
    return text[:i] + r.choice(("\udcff", "\udc80\udc80", "\ud800")) + text[i:]


def huge_file(text: str, r: random.Random) -> str:
    """A file past the 5 MiB read limit, or just under it."""
    size = r.choice((5 * 1024 * 1024 - 200, 6 * 1024 * 1024))
    return text + "\n# " + "x" * size + "\n"


def scalar_alias_fanout(text: str, r: random.Random) -> str:
    """One anchored long text aliased thousands of times (cheap to hold, costly to copy)."""
    count = r.choice((1000, 50_000))
    return text + f"\nfan_anchor: &big {'y' * 10_000}\nfan: [" + ", ".join(["*big"] * count) + "]\n"


def deep_nesting(text: str, r: random.Random) -> str:
    """A value nested hundreds to tens of thousands deep, flow style or block style."""
    depth = r.choice((50, 200, 1000, 5000, 30000))
    flow_style = r.random() < 0.5
    value = "[" * depth + "]" * depth if flow_style else "{a: " * depth + "1" + "}" * depth
    key = r.choice(("variables", "deep", "settings"))
    return text + f"\n{key}: {value}\n"


def long_line(text: str, r: random.Random) -> str:
    """A value of megabytes."""
    size = r.choice((10_000, 200_000, 2_000_000))
    return text + f"\nbig: {'x' * size}\n"


def duplicate_keys(text: str, r: random.Random) -> str:
    return text + "\nstart: a\nstart: b\n"


def strip_tail(text: str, r: random.Random) -> str:
    return text[: r.randrange(len(text))]


def binary_noise(text: str, r: random.Random) -> str:
    i = r.randrange(len(text))
    noise = "".join(chr(r.randrange(0, 0x3000)) for _ in range(r.randint(1, 20)))
    return text[:i] + noise + text[i:]


MUTATIONS: list[Callable[[str, random.Random], str]] = [
    drop_line,
    double_line,
    swap_lines,
    change_char,
    shift_indent,
    replace_value,
    replace_value,
    replace_value,
    tag_collection,
    alias_bomb,
    merge_bomb,
    deep_nesting,
    block_nesting,
    json_nesting,
    tagged_key,
    not_utf8,
    scalar_alias_fanout,
    long_line,
    duplicate_keys,
    huge_file,
    strip_tail,
    binary_noise,
]


def cases(
    seed: int, count: int, base: list[tuple[str, str]] | None = None
) -> Iterator[tuple[str, str]]:
    """`count` mutated files: (a name that says seed, index and mutations, the text)."""
    r = random.Random(seed)
    base = base or seeds()
    for n in range(count):
        name, text = base[r.randrange(len(base))]
        applied = []
        for _ in range(r.choice((1, 1, 1, 2, 3))):
            mutate = r.choice(MUTATIONS)
            if text:
                text = mutate(text, r)
            applied.append(mutate.__name__)
        yield f"{name}#{seed}.{n}({'+'.join(applied)})", text
