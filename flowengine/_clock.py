"""Clocks: where the engine and its plugins get the time, so tests never sleep."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

__all__ = ["Clock", "SystemClock", "VirtualClock"]


class Clock:
    """The interface: `now()` in epoch seconds, `await sleep(seconds)`, `utcnow()` as datetime,
    and `deadline(at)`, which cancels the work inside it when the clock reaches `at`."""

    def now(self) -> float:
        raise NotImplementedError

    async def sleep(self, seconds: float) -> None:
        raise NotImplementedError

    def utcnow(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)

    def monotonic(self) -> float:
        """Seconds for measuring durations; virtual clocks return virtual time."""
        return self.now()

    def deadline(self, at: float) -> contextlib.AbstractAsyncContextManager[object]:
        """`async with clock.deadline(at):` cancels its body when this clock reaches `at`
        (epoch seconds); the block then raises TimeoutError, as `asyncio.timeout` does."""
        loop = asyncio.get_running_loop()
        return asyncio.timeout_at(loop.time() + max(0.0, at - self.now()))


class SystemClock(Clock):
    """The real time; `offset` seconds may be added (a plugin's time travel, e.g. an emulator's)."""

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset

    def now(self) -> float:
        return time.time() + self.offset

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))

    def advance(self, seconds: float) -> None:
        """Move this clock forward without waiting (time travel in tests and emulators)."""
        self.offset += seconds

    def monotonic(self) -> float:
        return time.perf_counter() + self.offset


class VirtualClock(Clock):
    """Time that moves only when told to: `sleep` advances it at once."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._now = start
        self._deadlines: list[tuple[float, asyncio.Timeout]] = []

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        expired = self.advance(max(0.0, seconds))
        await asyncio.sleep(0)
        if expired:
            # The deadline's cancellation is delivered after this task's next step: a sleep
            # that passes a deadline must not return as if it had finished in time.
            await asyncio.sleep(0)

    def advance(self, seconds: float) -> bool:
        """Move the time on; a deadline it passes cancels its block at the loop's next turn.
        Whether it passed one."""
        self._now += seconds
        expired = False
        for at, timeout in self._deadlines:
            if at <= self._now and timeout.when() is None:
                timeout.reschedule(asyncio.get_running_loop().time())
                expired = True
        return expired

    @contextlib.asynccontextmanager
    async def deadline(self, at: float) -> AsyncIterator[object]:
        """An `asyncio.timeout` without a time of its own: `advance` and `sleep` expire it."""
        entry = (at, asyncio.timeout(None))
        self._deadlines.append(entry)
        try:
            async with entry[1]:
                if at <= self._now:
                    entry[1].reschedule(asyncio.get_running_loop().time())
                yield entry[1]
        finally:
            self._deadlines.remove(entry)
