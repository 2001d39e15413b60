"""The PingOne sandbox: a local emulator of PingOne auth, users and Verify.

`Sandbox(clock=None, config=None, data_path=None)` is one emulator (`.app`, `.transport()`);
`default_sandbox()` is the process's embedded one (the target of region `sandbox`), and
`with use_sandbox(box):` puts another in its place (tests); `Phone` submits a persona's documents
through the web verification endpoints, as a person with a phone would.
"""

from __future__ import annotations

from .app import DATA_ENV, Sandbox, SandboxTransport, default_sandbox, use_sandbox
from .config import SandboxConfig, load_config
from .phone import Phone, PhoneError

__all__ = [
    "DATA_ENV",
    "Phone",
    "PhoneError",
    "Sandbox",
    "SandboxConfig",
    "SandboxTransport",
    "default_sandbox",
    "load_config",
    "use_sandbox",
]
