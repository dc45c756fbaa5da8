"""Per-controller work queue: keys deduplicated, delayed, and retried with rate limits.

Semantics follow client-go's rate-limiting work queue. Watch handlers call `add`; reconciler workers
loop on `get()`/`done()` and turn the `results.decide()` verdict into `forget`, `add_after` or
`add_rate_limited`. All timing goes through an injected `clock.Clock`.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
from collections import deque
from collections.abc import Hashable
from typing import Generic, TypeVar

from gotk.runtime import clock as clocks

__all__ = ["ExponentialBackoff", "QueueShutDown", "TokenBucket", "WorkQueue", "jittered"]

K = TypeVar("K", bound=Hashable)

DEFAULT_MIN_RETRY_DELAY = 0.75
DEFAULT_MAX_RETRY_DELAY = 15 * 60.0
DEFAULT_QPS = 10.0
DEFAULT_BURST = 100


class QueueShutDown(Exception):
    """Raised by `WorkQueue.get()` once the queue is shut down and holds nothing ready."""


def jittered(interval: float, percent: float = 5.0, *, rng: random.Random | None = None) -> float:
    """Return `interval` moved by a uniformly random amount within ±`percent` %.

    Spreads periodic reconciles of many objects (Flux `--interval-jitter-percentage`).
    """
    if not 0.0 <= percent < 100.0:
        raise ValueError(f"jitter percent must be in [0, 100), got {percent}")
    sample = rng.random() if rng is not None else random.random()
    return interval * (1.0 + percent / 100.0 * (2.0 * sample - 1.0))


class ExponentialBackoff(Generic[K]):
    """Per-key failure backoff: base, 2·base, 4·base, … capped at `cap` (client-go item limiter)."""

    def __init__(self, *, base: float = DEFAULT_MIN_RETRY_DELAY, cap: float = DEFAULT_MAX_RETRY_DELAY) -> None:
        if base <= 0 or cap < base:
            raise ValueError(f"need 0 < base <= cap, got base={base} cap={cap}")
        self._base = base
        self._cap = cap
        self._failures: dict[K, int] = {}

    def when(self, key: K) -> float:
        """Count one more failure of `key` and return how long to wait before retrying it."""
        exponent = self._failures.get(key, 0)
        self._failures[key] = exponent + 1
        if exponent >= 64:  # 2**64 · base is beyond any cap; avoid float overflow
            return self._cap
        return min(self._base * 2.0**exponent, self._cap)

    def failures(self, key: K) -> int:
        return self._failures.get(key, 0)

    def forget(self, key: K) -> None:
        self._failures.pop(key, None)


class TokenBucket:
    """Global token bucket (client-go BucketRateLimiter): `burst` tokens refilled at `qps` per second."""

    def __init__(self, *, qps: float, burst: int, clock: clocks.Clock) -> None:
        if qps <= 0 or burst < 1:
            raise ValueError(f"need qps > 0 and burst >= 1, got qps={qps} burst={burst}")
        self._qps = qps
        self._burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock.now()

    def reserve(self) -> float:
        """Take one token and return how long the caller must wait until it is really available."""
        now = self._clock.now()
        elapsed = max(now - self._last, 0.0)
        self._last = now
        self._tokens = min(self._burst, self._tokens + elapsed * self._qps)
        self._tokens -= 1.0
        if self._tokens >= 0:
            return 0.0
        return -self._tokens / self._qps


class WorkQueue(Generic[K]):
    """An asyncio work queue that never holds a key twice.

    A key added while queued is dropped; a key added while a worker is processing it is marked dirty
    and queued once more when the worker calls `done(key)`. Delayed adds keep the earliest deadline.
    """

    def __init__(
        self,
        *,
        clock: clocks.Clock | None = None,
        min_retry_delay: float = DEFAULT_MIN_RETRY_DELAY,
        max_retry_delay: float = DEFAULT_MAX_RETRY_DELAY,
        qps: float | None = DEFAULT_QPS,
        burst: int = DEFAULT_BURST,
    ) -> None:
        """`clock` None means the real clock; `qps` None disables the global token bucket."""
        self._clock: clocks.Clock = clock if clock is not None else clocks.RealClock()
        self._backoff: ExponentialBackoff[K] = ExponentialBackoff(base=min_retry_delay, cap=max_retry_delay)
        self._bucket = TokenBucket(qps=qps, burst=burst, clock=self._clock) if qps is not None else None
        self._queue: deque[K] = deque()
        self._dirty: set[K] = set()
        self._processing: set[K] = set()
        self._delayed: dict[K, tuple[float, int]] = {}
        self._heap: list[tuple[float, int, K]] = []
        self._seq = itertools.count()
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._shutting_down = False

    # -- adding -------------------------------------------------------------------------------------

    def add(self, key: K) -> None:
        """Queue `key` now (no-op if already queued; re-queued after `done` if being processed)."""
        self._promote_due()
        self._enqueue(key)

    def add_after(self, key: K, delay: float) -> None:
        """Queue `key` once `delay` seconds have passed; an earlier pending deadline wins."""
        if self._shutting_down:
            return
        if delay <= 0:
            self.add(key)
            return
        ready_at = self._clock.now() + delay
        pending = self._delayed.get(key)
        if pending is not None and pending[0] <= ready_at:
            return
        seq = next(self._seq)
        self._delayed[key] = (ready_at, seq)
        heapq.heappush(self._heap, (ready_at, seq, key))
        self._wake_all()  # waiters recompute how long to sleep

    def add_rate_limited(self, key: K) -> None:
        """Queue `key` after the larger of its exponential backoff and the global token-bucket delay."""
        if self._shutting_down:
            return
        delay = self._backoff.when(key)
        if self._bucket is not None:
            delay = max(delay, self._bucket.reserve())
        self.add_after(key, delay)

    def forget(self, key: K) -> None:
        """Reset the backoff of `key` (after a success or a deliberate requeue)."""
        self._backoff.forget(key)

    def num_requeues(self, key: K) -> int:
        """How many rate-limited requeues `key` has had since it was last forgotten."""
        return self._backoff.failures(key)

    # -- consuming ----------------------------------------------------------------------------------

    async def get(self) -> K:
        """Wait for the next ready key and mark it as being processed.

        Raises `QueueShutDown` after `shutdown()` once no ready key is left.
        """
        while True:
            self._promote_due()
            if self._queue:
                key = self._queue.popleft()
                self._processing.add(key)
                self._dirty.discard(key)
                return key
            if self._shutting_down:
                raise QueueShutDown
            await self._wait(self._next_delay())

    def done(self, key: K) -> None:
        """Finish processing `key`; if it was added meanwhile, queue it again."""
        self._processing.discard(key)
        if key in self._dirty:
            self._queue.append(key)
            self._wake_one()

    def shutdown(self) -> None:
        """Stop accepting keys, drop delayed ones, and wake every waiting `get()`."""
        self._shutting_down = True
        self._delayed.clear()
        self._heap.clear()
        self._wake_all()

    # -- introspection ------------------------------------------------------------------------------

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    def scheduled(self, key: K) -> float | None:
        """The clock time at which a delayed `key` becomes ready, or None if none is pending."""
        pending = self._delayed.get(key)
        return pending[0] if pending is not None else None

    def processing(self, key: K) -> bool:
        return key in self._processing

    def __len__(self) -> int:
        """Number of keys ready to be handed out (delayed keys are not counted)."""
        self._promote_due()
        return len(self._queue)

    # -- internals ----------------------------------------------------------------------------------

    def _enqueue(self, key: K) -> None:
        if self._shutting_down or key in self._dirty:
            return
        self._dirty.add(key)
        if key in self._processing:
            return
        self._queue.append(key)
        self._wake_one()

    def _promote_due(self) -> None:
        now = self._clock.now()
        while self._heap and self._heap[0][0] <= now:
            _, seq, key = heapq.heappop(self._heap)
            pending = self._delayed.get(key)
            if pending is None or pending[1] != seq:
                continue  # superseded by an earlier deadline
            del self._delayed[key]
            self._enqueue(key)

    def _next_delay(self) -> float | None:
        while self._heap:
            _, seq, key = self._heap[0]
            pending = self._delayed.get(key)
            if pending is not None and pending[1] == seq:
                return max(self._heap[0][0] - self._clock.now(), 0.0)
            heapq.heappop(self._heap)
        return None

    async def _wait(self, timeout: float | None) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        timer: asyncio.Future[None] | None = None
        try:
            if timeout is None:
                await waiter
            else:
                timer = asyncio.ensure_future(self._clock.sleep(timeout))
                await asyncio.wait({waiter, timer}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._wake_one()  # hand the wake-up we received to another worker
            raise
        finally:
            if timer is not None and not timer.done():
                timer.cancel()
            if not waiter.done():
                waiter.cancel()
            try:
                self._waiters.remove(waiter)
            except ValueError:
                pass

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _wake_all(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
