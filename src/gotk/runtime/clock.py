"""Injectable time source: monotonic seconds, UTC wall time and async sleep.

Its one user is the work queue (`runtime/queue.py`: `WorkQueue` delays and `TokenBucket` pacing):
production runs on `RealClock`, the queue's unit tests on `FakeClock`, whose `advance()` wakes
sleepers without real waiting. Condition timestamps and controllers read the system time directly.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "FakeClock", "RealClock"]


class Clock(Protocol):
    """What the runtime needs from time."""

    def now(self) -> float:
        """Monotonic seconds; only differences are meaningful."""
        ...

    def wall(self) -> datetime:
        """Current wall-clock time, timezone-aware UTC."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Suspend the caller for `seconds` of this clock's time."""
        ...


class RealClock:
    """The process clock: `time.monotonic`, `datetime.now(UTC)` and `asyncio.sleep`."""

    def now(self) -> float:
        return time.monotonic()

    def wall(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))


_FAKE_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class FakeClock:
    """A clock that only moves when told to.

    `sleep()` parks the caller until `advance()` moves time to or past its deadline. Sleepers are woken
    in deadline order (ties in the order they started sleeping); the woken coroutines run the next time
    the event loop gets control, e.g. after `await asyncio.sleep(0)` in the test.
    """

    def __init__(self, *, start: float = 0.0, wall_start: datetime = _FAKE_EPOCH) -> None:
        if wall_start.tzinfo is None:
            raise ValueError("wall_start must be timezone-aware")
        self._start = start
        self._now = start
        self._wall_start = wall_start.astimezone(UTC)
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def wall(self) -> datetime:
        return self._wall_start + timedelta(seconds=self._now - self._start)

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._seq), future))
        await future

    @property
    def sleeping(self) -> int:
        """How many callers are parked in `sleep()` right now."""
        return sum(1 for _, _, future in self._sleepers if not future.done())

    def next_deadline(self) -> float | None:
        """The earliest deadline of a parked sleeper, or None."""
        self._drop_cancelled()
        return self._sleepers[0][0] if self._sleepers else None

    def advance(self, seconds: float) -> int:
        """Move time forward and wake every sleeper whose deadline has passed; returns how many."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        self._now += seconds
        woken = 0
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)
                woken += 1
        return woken

    def _drop_cancelled(self) -> None:
        while self._sleepers and self._sleepers[0][2].done():
            heapq.heappop(self._sleepers)
