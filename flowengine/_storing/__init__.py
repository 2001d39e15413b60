"""Storing runs: the Run (its status, its node results) and the stores that keep it.

`run` (Run, RunStatus, NodeResult, EXIT_CODES) and `stores` (the RunStore protocol,
MemoryStore, SQLiteStore, open_store). It imports only the base modules.
"""
