"""How far the sandbox clock may be moved at once (the `sandbox.advance` action, /admin/clock).

Standard library only: the plugin module imports it while staying light.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["LATEST_TIME", "MAX_ADVANCE_SECONDS", "advance_error"]

MAX_ADVANCE_SECONDS = 366 * 24 * 3600
"""One move of the clock is at most 366 days (31,622,400 s): time travel past every expiry."""

LATEST_TIME = 253_402_214_400.0
"""The clock never passes 9999-12-31T00:00:00Z (epoch seconds), or its dates stop working."""


def advance_error(seconds: Any, now: float) -> str | None:
    """Why `seconds` cannot be added to a clock that reads `now`, or None when it can."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        return f"must be a number of seconds, found {type(seconds).__name__}"
    if not math.isfinite(seconds):
        return "must be a finite number (not NaN or infinity)"
    if seconds <= 0:
        return "must be above 0 (the clock only moves forward)"
    if seconds > MAX_ADVANCE_SECONDS:
        return f"must be at most {MAX_ADVANCE_SECONDS} seconds (366 days) per move"
    if now + seconds > LATEST_TIME:
        return "would move the clock past the year 9999"
    return None
