"""The embedded sandbox in FLOWENGINE_SANDBOX_DATA: a run is resumed by another process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

FLOW = """\
flow: resume-across-processes
connections:
  pingone:
    connector: pingone
    settings: {environment_id: sandbox-env, client_id: sandbox-client,
               client_secret: sandbox-secret, region: sandbox}
start: create_user
nodes:
  create_user:
    use: pingone.createUser
    with: {username: ada, email: ada@example.com}
    next: confirm
  confirm:
    use: ui.form
    with: {fields: [{name: ok, type: text}]}
    next: read_user
  read_user:
    use: pingone.readUser
    with: {userId: "{{ nodes.create_user.output.user.id }}"}
"""


def _cli(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "FLOWENGINE_SANDBOX_DATA"}
    return subprocess.run(
        [sys.executable, "-m", "flowengine", *args],
        cwd=cwd,
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _start_and_resume(tmp_path: Path, **env: str) -> tuple[dict[str, object], str]:
    (tmp_path / "flow.yaml").write_text(FLOW)
    store = f"sqlite:///{tmp_path / 'runs.db'}"
    started = _cli(["run", "flow.yaml", "--no-prompt", "--store", store], tmp_path, **env)
    assert started.returncode == 3, started.stdout + started.stderr
    run_id = re.search(r"run ([0-9a-f]{32}) waiting", started.stdout)
    assert run_id, started.stdout
    resumed = _cli(
        [
            "runs",
            "resume",
            run_id.group(1),
            "--response",
            '{"ok": "yes"}',
            "--store",
            store,
            "--json",
        ],
        tmp_path,
        **env,
    )
    return json.loads(resumed.stdout), resumed.stderr


def test_a_run_resumed_in_another_process_finds_the_user_it_created(tmp_path: Path) -> None:
    data = tmp_path / "sandbox.db"
    run, _ = _start_and_resume(tmp_path, FLOWENGINE_SANDBOX_DATA=str(data))
    assert run["status"] == "completed"
    assert run["result"]["user"]["username"] == "ada"  # type: ignore[index]
    assert data.is_file()


def test_without_it_the_other_process_has_a_new_empty_sandbox(tmp_path: Path) -> None:
    run, _ = _start_and_resume(tmp_path)
    assert run["status"] == "failed"
    assert run["error"]["node"] == "read_user"  # type: ignore[index]
    assert run["error"]["status_code"] == 404  # type: ignore[index]
