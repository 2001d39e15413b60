"""The flow API server (`flowengine serve`): apps drive flows over HTTP.

Two doors onto the same runs in the run store: DaVinci's JSON flow protocol
(`response_mode=pi.flow`, `davinci.py`), which Ping's client SDK speaks, and a plain JSON
API with an OpenAPI document (`plain.py`). `service.py` starts, continues and cancels runs
(tokens, locks, claims); `collectors.py` maps interactions to DaVinci collectors;
`ledger.py` keeps what the server needs beside the runs; `config.py` the clients.
Starlette and uvicorn are needed (an optional extra): import `app` only after checking.
"""

from __future__ import annotations

__all__ = ["missing_modules"]

SERVER_MODULES = ("starlette", "uvicorn")


def missing_modules() -> list[str]:
    """The server's modules that are not installed."""
    from importlib.util import find_spec

    return [name for name in SERVER_MODULES if find_spec(name) is None]


def install_hint() -> str:
    """`pip install 'flowengine-identity[<extra>]'`, the extra read from the package metadata."""
    import re
    from importlib import metadata

    try:
        requires = metadata.requires("flowengine-identity") or []
    except metadata.PackageNotFoundError:
        requires = []
    for line in requires:
        found = re.match(r"starlette\b.*extra\s*==\s*['\"]([\w-]+)['\"]", line)
        if found:
            return f"pip install 'flowengine-identity[{found.group(1)}]'"
    return "pip install " + " ".join(SERVER_MODULES)
