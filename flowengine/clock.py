"""Clocks: where the engine and the sandbox get the time, so tests never sleep."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

__all__ = ["Clock", "SystemClock", "VirtualClock"]


class Clock:
    """The interface: `now()` in epoch seconds, `await sleep(seconds)`, `utcnow()` as datetime."""

    def now(self) -> float:
        raise NotImplementedError

    async def sleep(self, seconds: float) -> None:
        raise NotImplementedError

    def utcnow(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)

    def monotonic(self) -> float:
        """Seconds for measuring durations; virtual clocks return virtual time."""
        return self.now()


class SystemClock(Clock):
    """The real time; `offset` seconds may be added (the sandbox's time travel)."""

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset

    def now(self) -> float:
        return time.time() + self.offset

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def advance(self, seconds: float) -> None:
        """Move this clock forward without waiting (used by the sandbox's time travel)."""
        self.offset += seconds

    def monotonic(self) -> float:
        return time.perf_counter() + self.offset


class VirtualClock(Clock):
    """Time that moves only when told to: `sleep` advances it at once."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._now = start

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        self._now += max(0.0, seconds)
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        self._now += seconds
