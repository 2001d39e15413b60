"""The long fuzz run: mutated flow, answers and inputs files through the reader and the CLI.

Flows go through check_flow with every node's templates rendered, and (a tenth of the cases)
through `flowengine validate`; answers files through Answers.load and `flowengine run
--answers`; inputs files through `flowengine run --inputs`.

    python bench/fuzz.py [--cases 10000] [--seed 1] [--limit 2]

The test suite runs a few hundred cases (tests/fuzz/test_fuzz.py); this runs ten thousand or
more, in a child process whose address space is capped (3 GB), and prints the findings: every
exception that escaped (not a diagnostic or flowengine's own clear error), every case over the
time limit, the slowest case and the peak memory. Run it before stopping; it exits 1 on any
finding.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "fuzz"))

MEMORY_CAP = 3 * 2**30


def child(seed: int, count: int, limit: float) -> None:
    """Run the cases in this process (under the memory cap) and print a JSON report."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
    from harness import run_cases
    from mutator import answers_seeds, cases
    from targets import (
        ALLOWED,
        check_answers_text,
        check_flow_and_templates,
        check_inputs_text,
        check_validate,
    )

    flows = max(1, count * 7 // 10)
    validate = count // 10
    rest = count - flows - validate
    reports = {
        "flows": run_cases(
            cases(seed, flows), check_flow_and_templates, limit=limit, allowed=ALLOWED
        ),
        "validate": run_cases(
            cases(seed + 3, validate), check_validate, limit=limit, allowed=ALLOWED
        ),
        "answers": run_cases(
            cases(seed + 1, rest // 2, answers_seeds()),
            check_answers_text,
            limit=limit,
            allowed=ALLOWED,
        ),
        "inputs": run_cases(
            cases(seed + 2, rest - rest // 2, answers_seeds()),
            check_inputs_text,
            limit=limit,
            allowed=ALLOWED,
        ),
    }
    out = {
        name: {
            "cases": r.cases,
            "seconds": round(r.seconds, 1),
            "slowest": [round(r.slowest[0], 3), r.slowest[1][:160]],
            "findings": [str(f)[:300] for f in r.findings],
        }
        for name, r in reports.items()
    }
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(out))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--limit", type=float, default=2.0, help="seconds a case may take")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.seed, args.cases, args.limit)
        return 0
    command = [sys.executable, __file__, "--child", f"--cases={args.cases}"]
    command += [f"--seed={args.seed}", f"--limit={args.limit}"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-3000:])
        print(f"the fuzz run itself died (exit {result.returncode})")
        return 1
    report = json.loads(result.stdout.strip().splitlines()[-1])
    findings = 0
    slowest = max(report[name]["slowest"][0] for name in ("flows", "validate", "answers", "inputs"))
    total = sum(report[name]["cases"] for name in ("flows", "validate", "answers", "inputs"))
    for name in ("flows", "validate", "answers", "inputs"):
        r = report[name]
        findings += len(r["findings"])
        print(
            f"{name:8} {r['cases']:6} cases in {r['seconds']:7.1f} s, {len(r['findings'])} "
            f"findings; slowest {r['slowest'][0]:.3f} s ({r['slowest'][1]})"
        )
        for finding in r["findings"][:20]:
            print("   ", finding)
    print(f"{total} cases, {findings} findings, slowest case {slowest:.3f} s")
    print(f"peak memory of the run: {report['peak_rss_mb']} MB (cap {MEMORY_CAP // 2**20} MB)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
