"""Benchmarks of the sandbox's verification decisions (pure functions, no HTTP).

For each persona: the median wall time and CPU time of one `evaluate(...)` call on its
documents, under the sandbox's default policy (government ID, facial comparison and liveness
REQUIRED at MEDIUM). Also identity record matching and background replacement.

Run: `python bench/verification.py [--runs 15]`. Target: under 50 ms per evaluation.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

from flowengine_connectors.pingone_sandbox import PERSONAS, documents_for, requirements_for

# Benchmarks the verification rules themselves (a private subpackage).
from flowengine_connectors.pingone_sandbox.verification import (
    SubmittedDocument,
    evaluate,
    identity_record_matching,
    replace_background,
)

POLICY = {
    "governmentId": {"verify": "REQUIRED"},
    "facialComparison": {"verify": "REQUIRED", "threshold": "MEDIUM"},
    "liveness": {"verify": "REQUIRED", "threshold": "MEDIUM"},
}
NOW = datetime(2026, 1, 1, tzinfo=UTC)
IRM_BODY = {
    "probe": {"given_name": "Jon", "family_name": "Doe", "birth_date": "04/01/1985",
              "address": "123 Main Street, Springfield IL"},
    "gallery": {"given_name": {"value": "JOHN"}, "family_name": {"value": "DOE"},
                "birth_date": {"value": "1985-04-01"},
                "address": {"value": "123 MAIN ST, SPRINGFIELD, IL 62701"}},
}  # fmt: skip


def measure(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of `fn` over `runs` calls (after one warm-up)."""
    fn()
    wall, cpu = [], []
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return statistics.median(wall) * 1000, statistics.median(cpu) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    print(f"{'case':28} {'wall ms':>8} {'cpu ms':>8}")
    for name in PERSONAS:
        docs = [
            SubmittedDocument(t, d, NOW, f"d{i}") for i, (t, d) in enumerate(documents_for(name))
        ]
        reqs = requirements_for(name)
        wall, cpu = measure(
            partial(evaluate, docs, requirements=reqs, policy=POLICY, now=NOW), runs
        )
        print(f"evaluate {name:19} {wall:8.1f} {cpu:8.1f}")
    wall, cpu = measure(lambda: identity_record_matching(IRM_BODY), runs * 20)
    print(f"{'identity record matching':28} {wall:8.3f} {cpu:8.3f}")
    selfie = dict(documents_for("success"))["Selfie"]
    assert isinstance(selfie, bytes)
    wall, cpu = measure(
        lambda: replace_background(selfie, rgb=(255, 255, 255), aspect_ratio="3:4"), runs
    )
    print(f"{'replace background 480x480':28} {wall:8.1f} {cpu:8.1f}")


if __name__ == "__main__":
    main()
