"""Serving the sandbox with uvicorn: in the foreground (CLI) or in a thread (tests, bench)."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn
from starlette.requests import ClientDisconnect

from .app import Sandbox
from .http import ConnectionDropped

__all__ = ["ServerThread", "free_port", "serve"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class _QuietDrops(logging.Filter):
    """Keeps the `drop` fault and a client gone away out of uvicorn's error log.

    A drop is injected, not a crash; a client that disconnects (`ClientDisconnect`, or the
    request's task cancelled) was already logged in one line by `limits.BodyLimit`.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, ConnectionDropped | ClientDisconnect | asyncio.CancelledError)


_QUIET_DROPS = _QuietDrops()


def _uvicorn_config(sandbox: Sandbox, host: str, port: int, **options: Any) -> uvicorn.Config:
    # access_log off: request lines would be noise, and the log never needs URLs with codes.
    config = uvicorn.Config(
        sandbox.app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        **options,
    )
    # After Config: it (re)configures uvicorn's loggers. Adding the same filter twice is a no-op.
    logging.getLogger("uvicorn.error").addFilter(_QUIET_DROPS)
    return config


def serve(
    host: str = "127.0.0.1",
    port: int = 8799,
    data_path: str | Path | None = None,
    config: str | Path | None = None,
) -> None:
    """Run a sandbox server until interrupted."""
    sandbox = Sandbox(config=config, data_path=data_path)
    try:
        uvicorn.Server(_uvicorn_config(sandbox, host, port)).run()
    finally:
        sandbox.close()


class ServerThread:
    """A sandbox served on 127.0.0.1 in a background thread: `with ServerThread(sb) as url:`."""

    def __init__(self, sandbox: Sandbox, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.sandbox = sandbox
        self.host = host
        self.port = port or free_port(host)
        self.server = uvicorn.Server(_uvicorn_config(sandbox, self.host, self.port))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"The sandbox server did not start on {self.url}")
            time.sleep(0.01)
        return self.url

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
