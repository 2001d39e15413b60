"""The sandbox's extra (`flowengine-identity[sandbox]`) and the one error when it is missing.

This module imports nothing heavy: the plugin and the package's `__init__` check the extra here
before they load the app, the server or the verification rules.
"""

from __future__ import annotations

from importlib.util import find_spec

from flowengine import FlowEngineError

__all__ = ["EXTRA_MODULES", "SandboxExtraMissing", "require_extra"]

EXTRA_MODULES = ("starlette", "uvicorn", "PIL", "rapidfuzz")
"""The top-level modules of the `sandbox` extra's distributions (pillow installs PIL)."""


class SandboxExtraMissing(FlowEngineError):
    """The sandbox was used but its extra is not installed."""

    def __init__(self, missing: list[str]) -> None:
        self.missing = missing
        super().__init__(
            f"the embedded PingOne sandbox needs its extra: pip install "
            f"'flowengine-identity[sandbox]' (missing: {', '.join(missing)})"
        )


_installed = False


def require_extra() -> None:
    """Raise SandboxExtraMissing unless every module of the extra can be imported."""
    global _installed
    if _installed:
        return
    # find_spec looks the modules up without importing them: the check stays cheap.
    missing = [name for name in EXTRA_MODULES if find_spec(name) is None]
    if missing:
        raise SandboxExtraMissing(missing)
    _installed = True
