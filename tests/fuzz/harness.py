"""Running fuzz cases: each one through the reader, with a time limit, reporting what escaped.

A case passes when reading it ends in diagnostics or a valid flow, in under the time limit.
Anything else (an exception other than flowengine's own clear errors, a hang) is a finding,
reported with the case's name so that it can be replayed: `cases(seed, n)` is deterministic.
"""

from __future__ import annotations

import signal
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


class Hang(Exception):
    """A case ran past its time limit."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise Hang in the main thread when the block runs longer than `seconds` (Unix)."""

    def expired(*_: Any) -> None:
        raise Hang()

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Finding:
    """A case that did not end in diagnostics: what escaped, and where."""

    case: str
    kind: str
    where: str
    seconds: float

    def __str__(self) -> str:
        return f"{self.kind} at {self.where} after {self.seconds:.2f}s: {self.case}"


@dataclass
class Report:
    """What a run of cases found, with its slowest case."""

    cases: int = 0
    findings: list[Finding] = field(default_factory=list)
    slowest: tuple[float, str] = (0.0, "")
    seconds: float = 0.0


def run_cases(
    cases: Iterable[tuple[str, str]],
    check: Callable[[str, str], Any],
    *,
    limit: float = 2.0,
    allowed: tuple[type[BaseException], ...] = (),
) -> Report:
    """Run `check(name, text)` on every case; exceptions in `allowed` count as clear errors."""
    report = Report()
    start = time.perf_counter()
    for name, text in cases:
        report.cases += 1
        began = time.perf_counter()
        try:
            with time_limit(limit):
                check(name, text)
        except allowed:
            pass
        except Hang:
            report.findings.append(Finding(name, "hang", f"over {limit}s", limit))
        except (Exception, RecursionError, MemoryError) as e:
            frame = traceback.extract_tb(e.__traceback__)[-1]
            where = f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}"
            spent = time.perf_counter() - began
            report.findings.append(Finding(name, type(e).__name__, where, spent))
        spent = time.perf_counter() - began
        if spent > report.slowest[0]:
            report.slowest = (spent, name)
    report.seconds = time.perf_counter() - start
    return report
