"""Running a flow: the Engine, its connection pool, one run's Execution, and what it needs.

`engine` (Engine: start / resume; owns the plans cache and the pool), `pool`
(ConnectionPool: settings expansion, secret detection, one connection per distinct
settings), `execution` (the walk of one run), `plan` (NodePlan, build_plan), `node_errors`
(the `nodes.<id>.error` shape), `trace` (trace events, the JSONL sink), `headless` (drive a
run to its end: answers files, prompts, poll waits).
"""
