"""Ctrl-C while a node runs: a real `flowengine run` gets SIGINT during `functions.wait`."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

FLOW = """
flow: interrupted
start: ask
nodes:
  ask:
    use: ui.form
    with: {fields: [{name: colour, label: Colour}]}
    next: pause
  pause:
    use: functions.wait
    with: {seconds: 60}
    next: done
  done:
    use: ui.success
    with: {result: {colour: "{{ nodes.ask.output.colour }}"}}
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process")
def test_ctrl_c_while_a_node_runs_fails_the_run_interrupted(tmp_path: Path) -> None:
    (tmp_path / "flow.yaml").write_text(FLOW, encoding="utf-8")
    (tmp_path / "answers.yaml").write_text("ask: {colour: blue}\n", encoding="utf-8")
    store = f"sqlite:///{tmp_path / 'runs.db'}"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = ["run", "flow.yaml", "--answers", "answers.yaml", "--store", store, "--no-prompt"]
    child = subprocess.Popen(
        [sys.executable, "-m", "flowengine", *command],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        seen = ""
        deadline = time.monotonic() + 30
        while "ask" not in seen or "success" not in seen.split("ask", 1)[1]:
            line = child.stdout.readline()
            assert line, f"the run ended before the wait: {seen}{child.communicate()}"
            seen += line
            assert time.monotonic() < deadline
        time.sleep(0.5)  # now inside functions.wait's 60 s sleep on the system clock
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130, (out, err)
    assert "Traceback" not in err and "Traceback" not in out
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("interrupted; run ") and "failed at 'pause' (INTERRUPTED)" in err
    run_id = lines[0].split()[2]
    with sqlite3.connect(tmp_path / "runs.db") as db:
        (body,) = db.execute("SELECT body FROM runs WHERE id = ?", (run_id,)).fetchone()
    stored = json.loads(body)
    assert stored["status"] == "failed"
    assert stored["waiting"] is None  # not left waiting at the form it answered
    assert stored["error"]["code"] == "INTERRUPTED" and stored["error"]["node"] == "pause"
    assert stored["nodes"]["ask"]["outcome"] == "success"
    assert stored["nodes"]["pause"]["outcome"] == "interrupted"
    assert stored["path"] == ["ask", "pause"]
    assert [e["outcome"] for e in stored["trace"]] == ["waiting", "success", "interrupted"]
