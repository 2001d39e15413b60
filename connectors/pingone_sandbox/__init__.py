"""The PingOne sandbox: a local emulator of PingOne auth, users and Verify.

`Sandbox(clock=None, config=None, data_path=None)` is one emulator (`.app`, `.transport()`);
`default_sandbox()` is the process's embedded one (the target of region `sandbox`), and
`with use_sandbox(box):` puts another in its place (tests); `Phone` submits a persona's documents
through the web verification endpoints, as a person with a phone would.

Importing this package is light: the names below load their modules (Starlette, Pillow,
rapidfuzz, httpx) on first use, after checking the `sandbox` extra is installed
(`SandboxExtraMissing` otherwise). The plugin itself is `plugin.py`.
"""

from __future__ import annotations

import importlib as _importlib
import typing as _typing

from .extra import SandboxExtraMissing
from .extra import require_extra as _require_extra

if _typing.TYPE_CHECKING:
    from .app import DATA_ENV, Sandbox, SandboxTransport, default_sandbox, use_sandbox
    from .config import SandboxConfig, load_config
    from .phone import Phone, PhoneError
    from .server import ServerThread, free_port
    from .verification.personas import PERSONAS, documents_for, requirements_for

__all__ = [
    "DATA_ENV",
    "PERSONAS",
    "Phone",
    "PhoneError",
    "Sandbox",
    "SandboxConfig",
    "SandboxExtraMissing",
    "SandboxTransport",
    "ServerThread",
    "default_sandbox",
    "documents_for",
    "free_port",
    "load_config",
    "requirements_for",
    "use_sandbox",
]

_LAZY = {
    "DATA_ENV": "app",
    "Sandbox": "app",
    "SandboxTransport": "app",
    "default_sandbox": "app",
    "use_sandbox": "app",
    "SandboxConfig": "config",
    "load_config": "config",
    "Phone": "phone",
    "PhoneError": "phone",
    "ServerThread": "server",
    "free_port": "server",
    "PERSONAS": "verification.personas",
    "documents_for": "verification.personas",
    "requirements_for": "verification.personas",
}
"""Public name -> the module that defines it, imported on first access."""


def __getattr__(name: str) -> _typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    _require_extra()
    value = getattr(_importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value
