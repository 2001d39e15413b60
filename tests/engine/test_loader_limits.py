"""The limits every file a user hands over is read within (docs/flows.md, "Limits"): each an
exact diagnostic, found quickly, never a traceback."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from flowengine import Registry, RunError, check_flow, load_registry

# private: the command line, to see that each file's error exits 2 without a traceback
from flowengine._cli import main

# private: the reader's limits and its file readers, tested directly
from flowengine._reading.marked_yaml import (
    MAX_ALIAS_VALUES,
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_VALUES,
    load_yaml,
    read_file_value,
    read_value,
)

# private: the answers file's reader
from flowengine._running.headless import Answers

FLOW = "flow: f\nstart: a\nnodes:\n  a: {use: ui.message, with: {message: hi}}\n"
ROOT = Path(__file__).resolve().parents[2]


def problems(text: str) -> list[str]:
    """The diagnostics of reading `text` as YAML, as `file:line:col: CODE message`."""
    return [str(d) for d in load_yaml(text, "f.yaml").diagnostics]


REGISTRY: list[Registry] = []


def registry() -> Registry:
    if not REGISTRY:
        REGISTRY.append(load_registry())
    return REGISTRY[0]


def flow_problems(text: str) -> list[str]:
    return [str(d) for d in check_flow("f.yaml", registry(), text=text)[1] if d.is_error]


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# -- tags (FE003) --------------------------------------------------------------------------

TAG = (
    "FE003 unsupported YAML tag {tag!r} on a {kind}: flow files hold JSON values; remove the "
    "tag and write the plain value"
)


@pytest.mark.parametrize(
    ("text", "tag", "kind", "col"),
    [
        ("a: !!int 0xZZ\n", "!!int", "value", 4),
        ("a: !!float\n", "!!float", "value", 4),
        ("a: !!bool maybe\n", "!!bool", "value", 4),
        ("a: !!timestamp 2026-13-45\n", "!!timestamp", "value", 4),
        ("a: !!str x\n", "!!str", "value", 4),
        ("a: !Ref x\n", "!Ref", "value", 4),
        ("a: !!map {b: 1}\n", "!!map", "mapping", 4),
        ("a: !!set {b, c}\n", "!!set", "mapping", 4),
        ("a: !!omap [b: 1]\n", "!!omap", "list", 4),
        ("a: !!seq [1]\n", "!!seq", "list", 4),
        ("a: !custom\n  b: 1\n", "!custom", "mapping", 4),
        ("!!str a: 1\n", "!!str", "value", 1),
    ],
)
def test_every_tag_is_fe003(text: str, tag: str, kind: str, col: int) -> None:
    assert problems(text) == [f"f.yaml:1:{col}: " + TAG.format(tag=tag, kind=kind)]


def test_the_dialects_yaml_1_1_spellings_are_read_without_a_tag() -> None:
    doc = load_yaml(
        "a: 0x1F\nb: 017\nc: 0b101\nd: 1_000\ne: 1:30\nf: .inf\ng: ~\nh: on\ni: 1990-01-01\n"
        "j: TRUE\nk: 1.5e+3\n",
        "f.yaml",
    )
    assert doc.diagnostics == []
    assert doc.data == {
        "a": 31,
        "b": 15,
        "c": 5,
        "d": 1000,
        "e": 90,
        "f": float("inf"),
        "g": None,
        "h": "on",
        "i": "1990-01-01",
        "j": True,
        "k": 1500.0,
    }


# -- nesting (FE004) -------------------------------------------------------------------------

DEEP = (
    "FE004 values nest deeper than 64 levels of mappings and lists, the most flowengine reads; "
    "flatten the value"
)


def test_values_nest_at_most_64_levels() -> None:
    assert MAX_DEPTH == 64
    assert problems("a: " + nested(63)) == []  # with the top mapping: 64 levels
    assert problems("a: " + nested(64)) == [f"f.yaml:1:67: {DEEP}"]
    assert problems(nested(64)) == []
    assert problems(nested(65)) == [f"f.yaml:1:65: {DEEP}"]


@pytest.mark.parametrize("depth", [1001, 30_000])
def test_libyamls_own_nesting_limit_is_fe004_too(depth: int) -> None:
    (only,) = problems("a: " + nested(depth))
    assert only.endswith(DEEP) and only.startswith("f.yaml:1:")


def test_block_nesting_is_fe004() -> None:
    text = "a:\n" + "".join("  " * (n + 1) + "k:\n" for n in range(70))
    assert problems(text) == [f"f.yaml:65:129: {DEEP}"]


def test_a_deep_flow_stops_at_fe004() -> None:
    text = FLOW + "variables: {deep: " + nested(80) + "}\n"
    assert flow_problems(text) == [f"f.yaml:5:81: {DEEP}"]


# -- aliases (FE005) -----------------------------------------------------------------------

ALIASES = (
    "FE005 aliases and merges would build more than 100,000 values or repeat more than "
    "10,000,000 characters (an alias of an alias multiplies them); write the values out, or "
    "alias less"
)


def bomb(levels: int, width: int = 10) -> str:
    out = ["a0: &a0 [lol]"]
    for n in range(1, levels):
        out.append(f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * width) + "]")
    return "\n".join(out) + "\n"


def test_an_alias_bomb_is_refused_before_it_is_built() -> None:
    began = time.perf_counter()
    assert problems(bomb(9)) == [f"f.yaml:6:1: {ALIASES}"]  # 10**8 values, refused at 10**5
    assert time.perf_counter() - began < 1.0


def test_a_merge_bomb_is_refused() -> None:
    out = ["m0: &m0 {k: v}"]
    for n in range(1, 14):
        out.append(f"m{n}: &m{n} {{<<: [*m{n - 1}], x: [*m{n - 1}, *m{n - 1}]}}")
    (only,) = problems("\n".join(out) + "\n")
    assert only.endswith(ALIASES)


def test_a_long_text_aliased_many_times_is_refused() -> None:
    text = f"t: &t {'y' * 10_000}\nfan: [" + ", ".join(["*t"] * 1001) + "]\n"
    assert problems(text) == ["f.yaml:2:1: " + ALIASES]
    assert problems(f"t: &t {'y' * 10_000}\nfan: [" + ", ".join(["*t"] * 999) + "]\n") == []


def test_aliases_within_the_budget_work() -> None:
    assert MAX_ALIAS_VALUES == 100_000
    doc = load_yaml(bomb(5), "f.yaml")  # 10**4 values again
    assert doc.diagnostics == []
    assert doc.data["a4"][9][9][9][0] == ["lol"]
    doc = load_yaml("d: &d {x: 1, y: 2}\ne: {<<: *d, y: 3}\nf: *d\n", "f.yaml")
    assert doc.data == {"d": {"x": 1, "y": 2}, "e": {"x": 1, "y": 3}, "f": {"x": 1, "y": 2}}


def test_a_recursive_alias_is_still_fe001() -> None:
    assert problems("a: &a [*a]\n") == ["f.yaml:1:4: FE001 YAML syntax error: recursive alias"]


# -- file size (FE006) and values per file (FE008) ------------------------------------------


def test_a_flow_file_past_5_mib_is_fe006_and_not_read(tmp_path: Path) -> None:
    assert MAX_FILE_BYTES == 5 * 1024 * 1024
    path = tmp_path / "big.yaml"
    path.write_text(FLOW + "# " + "x" * MAX_FILE_BYTES + "\n")
    spec, diagnostics = check_flow(path, registry())
    assert spec is None
    assert [str(d) for d in diagnostics] == [
        f"{path}:1:1: FE006 the flow file is larger than 5,242,880 bytes (5 MiB), the most "
        "flowengine reads; make it smaller"
    ]
    size = len(FLOW) + 2 + MAX_FILE_BYTES + 1
    assert flow_problems(path.read_text()) == [
        f"f.yaml:1:1: FE006 the file is {size:,} bytes, larger than the 5,242,880 bytes (5 MiB) "
        "flowengine reads; split it, or move the large data out of it"
    ]


def test_a_flow_file_not_utf8_is_fe000_whatever_its_name(tmp_path: Path) -> None:
    # The code comes from which read failed, not from the words of its message.
    path = tmp_path / "larger than.yaml"
    path.write_bytes(FLOW.encode() + b"# caf\xe9\n")
    spec, diagnostics = check_flow(path, registry())
    assert spec is None
    assert [d.code for d in diagnostics] == ["FE000"]
    assert str(diagnostics[0]).startswith(f"{path}:1:1: FE000 the flow file is not UTF-8 text")


def test_a_file_just_under_5_mib_is_read(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(FLOW + "# " + "x" * (MAX_FILE_BYTES - 200) + "\n")
    _, diagnostics = check_flow(path, registry())
    assert [d.code for d in diagnostics if d.is_error] == []


def test_a_file_of_more_than_200000_values_is_fe008_quickly() -> None:
    assert MAX_VALUES == 200_000
    began = time.perf_counter()
    assert problems("a: [" + "1," * 300_000 + "1]\n") == [
        "f.yaml:1:399999: FE008 the file writes more than 200,000 values (scalars, mappings, "
        "lists), the most flowengine reads; split it, or move the data out"
    ]
    assert time.perf_counter() - began < 1.0
    assert problems("a: [" + "1," * 199_000 + "1]\n") == []


# -- numbers (FE007) -------------------------------------------------------------------------

FIX = 'quote it to keep it as text ("..."), or write a smaller number'


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("9" * 101, "an integer of more than 100 digits"),
        ("-" + "9" * 101, "an integer of more than 100 digits"),
        ("9" * 30_000, "an integer of 30,000 characters: more than 100 digits"),
        ("1:" + ":".join(["59"] * 60), "an integer of more than 100 digits"),
        ("1:" + ":".join(["59"] * 100), "an integer of 301 characters: more than 100 digits"),
        ("0b_", "this is not an integer (no digits after its prefix)"),
        ("0x_", "this is not an integer (no digits after its prefix)"),
        ("1.0e+999", "a number beyond the largest float (about 1.8e308)"),
        ("-1.5e+400", "a number beyond the largest float (about 1.8e308)"),
    ],
)
def test_numbers_past_the_bounds_are_fe007(value: str, why: str) -> None:
    assert problems(f"a: {value}\n") == [f"f.yaml:1:4: FE007 {why}; {FIX}"]


def test_numbers_within_the_bounds_are_read() -> None:
    doc = load_yaml(f"a: {'9' * 100}\nb: 1.7e+308\nc: '{'9' * 5000}'\n", "f.yaml")
    assert doc.diagnostics == []
    assert doc.data["a"] == 10**100 - 1 and doc.data["b"] == 1.7e308
    assert doc.data["c"] == "9" * 5000


# -- settings.timeout (FE012) ----------------------------------------------------------------

TIMEOUT = (
    "FE012 settings.timeout is longer than 365 days (31,536,000 s), the longest a run may "
    "take; write a shorter duration such as `30d`"
)


@pytest.mark.parametrize(
    "timeout", ["366d", "99999999999999999999999999999999m", "31536001", "1.0e+300"]
)
def test_a_timeout_past_365_days_is_fe012(timeout: str) -> None:
    text = FLOW + f"settings: {{timeout: {timeout}}}\n"
    assert flow_problems(text) == [f"f.yaml:5:21: {TIMEOUT}"]


def test_a_timeout_of_365_days_is_fine() -> None:
    spec, _ = check_flow("f.yaml", Registry(), text=FLOW + "settings: {timeout: 365d}\n")
    assert spec is None or spec.settings.timeout == 365 * 86400.0


# -- expressions (FE074) ---------------------------------------------------------------------

DEEP_EXPRESSION = (
    "the expression nests deeper than 100 levels of operators, brackets and calls; split it "
    "into simpler expressions"
)


def with_message(template: str) -> str:
    return FLOW.replace("message: hi", f'message: "{template}"')


@pytest.mark.parametrize(
    "expression",
    [
        " + ".join(["1"] * 5000),
        " + ".join(["1"] * 101),
        "-" * 3000 + "1",
        "not " * 3000 + "true",
        "nodes." + "a." * 2000 + "b",
        "[" * 150 + "1" + "]" * 150,
    ],
)
def test_a_deep_expression_is_fe074(expression: str) -> None:
    shown = f"{{{{ {expression} }}}}"[:60] + "..."
    # the diagnostic quotes the start of the template's expression, never all of it
    (only,) = flow_problems(with_message(f"{{{{ {expression} }}}}"))
    assert only == f"f.yaml:4:40: FE074 template {expression[:60] + '...'!r}: {DEEP_EXPRESSION}"
    assert len(only) < 400 and shown


def test_an_expression_past_100000_characters_is_fe074() -> None:
    expression = "x" * 100_001
    (only,) = flow_problems(with_message(f"{{{{ {expression} }}}}"))
    assert only == (
        f"f.yaml:4:40: FE074 template {'x' * 60 + '...'!r}: the expression is 100,001 "
        "characters long, longer than the 100,000 a template may hold; compute the value in "
        "a node"
    )


def test_an_expression_within_the_limits_is_checked_as_usual() -> None:
    assert flow_problems(with_message("{{ " + " + ".join(["1"] * 90) + " }}")) == []
    # `and` / `or` chains and comparisons are flat: long ones are not deep
    assert flow_problems(with_message("{{ " + " and ".join(["true"] * 2000) + " }}")) == []


# -- answers and inputs files ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"a": ' + nested(80) + "}",
            f"f.json:1:70: the inputs file cannot be read (FE004): {DEEP[6:]}",
        ),
        (bomb(9), f"f.json:6:1: the inputs file cannot be read (FE005): {ALIASES[6:]}"),
        (
            "limit: " + "9" * 30_000_0 + "\n",
            f"f.json:1:8: the inputs file cannot be read (FE007): an integer of 300,000 "
            f"characters: more than 100 digits; {FIX}",
        ),
        (
            "limit: !!int 0xZZ\n",
            "f.json:1:8: the inputs file is not valid YAML/JSON: "
            + TAG.format(tag="!!int", kind="value")[6:],
        ),
    ],
)
def test_read_value_names_the_file_the_place_and_the_fix(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        read_value(text, "f.json", "the inputs file")
    assert str(caught.value) == message


def test_files_too_large_or_not_utf8_are_one_valueerror(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: " + b"x" * MAX_FILE_BYTES)
    with pytest.raises(ValueError) as caught:
        read_file_value(big, "the inputs file")
    assert str(caught.value) == (
        f"{big}: the inputs file is larger than 5,242,880 bytes (5 MiB), the most flowengine "
        "reads; make it smaller"
    )
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"name: Jos\xe9\n")
    with pytest.raises(ValueError) as caught:
        read_file_value(latin, "the inputs file")
    assert str(caught.value) == (
        f"{latin}: the inputs file is not UTF-8 text (invalid continuation byte at byte 9); "
        "save it as UTF-8"
    )


def test_answers_load_gives_runerror_for_every_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "answers.yaml"
    path.write_text("ask: " + nested(100) + "\n")
    with pytest.raises(
        RunError, match=r"answers.yaml:1:69: the answers file cannot be read \(FE004\)"
    ):
        Answers.load(path)
    with pytest.raises(RunError, match=r"cannot read the answers file .*missing\.yaml"):
        Answers.load(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    ("option", "text", "expected"),
    [
        ("--inputs", '{"limit": ' + nested(2000) + "}", "the --inputs file cannot be read (FE004)"),
        ("--inputs", bomb(9), "the --inputs file cannot be read (FE005)"),
        ("--inputs", "limit: " + "9" * 500 + "\n", "the --inputs file cannot be read (FE007)"),
        ("--inputs", "limit: !!int 0xZZ\n", "the --inputs file is not valid YAML/JSON"),
        ("--answers", bomb(9), "the answers file cannot be read (FE005)"),
        ("--answers", "a: !!binary AAAA\n", "the answers file is not valid YAML/JSON"),
    ],
)
def test_the_cli_exits_2_with_one_clear_line(
    tmp_path: Path, option: str, text: str, expected: str
) -> None:
    path = tmp_path / "file.yaml"
    path.write_text(text)
    flow = ROOT / "flows" / "examples" / "loop.yaml"
    result = CliRunner().invoke(main, ["run", str(flow), "--store", "memory:", option, str(path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert f"{path}:" in result.output and expected in result.output


def test_a_deep_input_value_exits_2() -> None:
    flow = ROOT / "flows" / "examples" / "loop.yaml"
    args = ["run", str(flow), "--store", "memory:", "--input", "limit=" + nested(5000)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "an --input value nests deeper than 64 levels of lists and objects" in result.output
