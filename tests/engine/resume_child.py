"""Child process of the subprocess resume test: resume a waiting run from a SQLite store.

Usage: python resume_child.py DB_PATH RUN_ID RESPONSE_JSON
Prints the resumed run's status, path and result as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from runtime_support import make_registry

from flowengine import Engine, SQLiteStore


async def main(db_path: str, run_id: str, response: str) -> None:
    # No flow passed: the engine reads the run's flow file and checks its pinned digest.
    async with Engine(make_registry(), store=SQLiteStore(db_path), environ={}) as engine:
        run = await engine.resume(run_id, json.loads(response))
    print(json.dumps({"status": run.status, "path": run.path, "result": run.result}))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
