"""A bounded fuzz budget in CI: mutated flows, answers and inputs files end in diagnostics or
one clear error, each within 2 s (bench/fuzz.py runs 10,000 and more the same way)."""

from __future__ import annotations

import random

import pytest
from harness import Report, run_cases
from mutator import MUTATIONS, answers_seeds, cases, seeds
from targets import (
    ALLOWED,
    check_answers_text,
    check_flow_and_templates,
    check_inputs_text,
    check_validate,
)

LIMIT = 2.0
"""Seconds a case may take."""

BUDGET = [
    ("flows", check_flow_and_templates, 160, False),
    ("validate", check_validate, 40, False),
    ("answers", check_answers_text, 40, True),
    ("inputs", check_inputs_text, 40, True),
]


def _assert_clean(report: Report) -> None:
    assert report.findings == [], "\n".join(str(f) for f in report.findings)
    assert report.slowest[0] < LIMIT, report.slowest


@pytest.mark.parametrize(("name", "target", "count", "answers"), BUDGET, ids=[b[0] for b in BUDGET])
def test_fuzzed_files_end_in_diagnostics_or_a_clear_error(
    name: str, target: object, count: int, answers: bool
) -> None:
    base = answers_seeds() if answers else seeds()
    report = run_cases(cases(11, count, base), target, limit=LIMIT, allowed=ALLOWED)  # type: ignore[arg-type]
    assert report.cases == count
    _assert_clean(report)


def test_every_mutation_runs_on_every_kind_of_file() -> None:
    # Each mutation once on a flow, an answers file and an inputs file: none is left out of
    # the budget by the luck of the draw.
    flow = seeds()[0]
    answer = answers_seeds()[0]
    for mutate in MUTATIONS:
        r = random.Random(mutate.__name__)
        for (name, text), target in (
            (flow, check_flow_and_templates),
            (answer, check_answers_text),
            (answer, check_inputs_text),
        ):
            case = [(f"{name}#{mutate.__name__}", mutate(text, r))]
            _assert_clean(run_cases(case, target, limit=LIMIT, allowed=ALLOWED))


def test_the_harness_reports_what_escapes() -> None:
    # The test can fail: an exception that is not flowengine's own is a finding, and so is
    # a case over the time limit.
    def crash(name: str, text: str) -> None:
        raise KeyError(name)

    def hang(name: str, text: str) -> None:
        while True:
            pass

    assert [f.kind for f in run_cases([("a", "")], crash).findings] == ["KeyError"]
    found = run_cases([("b", "")], hang, limit=0.05).findings
    assert [f.kind for f in found] == ["hang"]
