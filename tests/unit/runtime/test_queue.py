"""WorkQueue and its limiters on a FakeClock: dedup, dirty-while-processing, delays (earliest wins),
per-key exponential backoff with cap and forget, the global token bucket, shutdown, cancellation,
and the jitter bounds. Nothing here sleeps for real.
"""

from __future__ import annotations

import asyncio
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gotk.runtime import clock as clocks
from gotk.runtime import queue as queues


async def settle() -> None:
    """Let every ready task run until it blocks again."""
    for _ in range(10):
        await asyncio.sleep(0)


@pytest.fixture
def clock() -> clocks.FakeClock:
    return clocks.FakeClock()


@pytest.fixture
def q(clock: clocks.FakeClock) -> queues.WorkQueue[str]:
    return queues.WorkQueue(clock=clock, qps=None)


# -- dedup and processing ---------------------------------------------------------------------------


async def test_add_deduplicates_queued_keys(q: queues.WorkQueue[str]) -> None:
    q.add("a")
    q.add("b")
    q.add("a")
    assert len(q) == 2
    assert [await q.get(), await q.get()] == ["a", "b"]
    assert len(q) == 0


async def test_add_while_processing_requeues_once_after_done(q: queues.WorkQueue[str]) -> None:
    q.add("a")
    assert await q.get() == "a"
    assert q.processing("a")
    q.add("a")
    q.add("a")
    assert len(q) == 0, "a key being processed is never handed out twice"
    q.done("a")
    assert len(q) == 1
    assert await q.get() == "a"
    q.done("a")
    assert len(q) == 0


async def test_done_without_new_add_does_not_requeue(q: queues.WorkQueue[str]) -> None:
    q.add("a")
    await q.get()
    q.done("a")
    assert len(q) == 0
    assert not q.processing("a")


async def test_get_waits_for_add(q: queues.WorkQueue[str]) -> None:
    task = asyncio.create_task(q.get())
    await settle()
    assert not task.done()
    q.add("x")
    assert await task == "x"


async def test_workers_get_distinct_keys(q: queues.WorkQueue[str]) -> None:
    workers = [asyncio.create_task(q.get()) for _ in range(3)]
    await settle()
    for key in ("a", "b", "c"):
        q.add(key)
    assert sorted(await asyncio.gather(*workers)) == ["a", "b", "c"]


async def test_cancelled_waiter_hands_its_wakeup_on(q: queues.WorkQueue[str]) -> None:
    first = asyncio.create_task(q.get())
    second = asyncio.create_task(q.get())
    await settle()
    q.add("a")  # wakes `first`
    first.cancel()  # … which is cancelled before it runs
    assert await second == "a"
    with pytest.raises(asyncio.CancelledError):
        await first


# -- delays -----------------------------------------------------------------------------------------


async def test_add_after_is_ready_only_once_the_delay_passed(q: queues.WorkQueue[str], clock: clocks.FakeClock) -> None:
    q.add_after("a", 5)
    assert len(q) == 0
    clock.advance(4.9)
    assert len(q) == 0
    clock.advance(0.1)
    assert len(q) == 1


async def test_add_after_earliest_deadline_wins(q: queues.WorkQueue[str], clock: clocks.FakeClock) -> None:
    q.add_after("a", 10)
    q.add_after("a", 3)
    q.add_after("a", 7)
    assert q.scheduled("a") == 3
    clock.advance(3)
    assert len(q) == 1
    assert await q.get() == "a"
    q.done("a")
    clock.advance(20)
    assert len(q) == 0, "the superseded later deadlines must not add the key again"


async def test_add_after_non_positive_adds_now(q: queues.WorkQueue[str]) -> None:
    q.add_after("a", 0)
    q.add_after("b", -1)
    assert len(q) == 2


async def test_waiting_get_wakes_when_a_delay_elapses(q: queues.WorkQueue[str], clock: clocks.FakeClock) -> None:
    task = asyncio.create_task(q.get())
    await settle()
    q.add_after("a", 2)
    await settle()
    assert clock.sleeping == 1 and clock.next_deadline() == 2
    clock.advance(1.5)
    await settle()
    assert not task.done()
    clock.advance(0.5)
    assert await task == "a"


async def test_earlier_add_after_shortens_a_waiting_get(q: queues.WorkQueue[str], clock: clocks.FakeClock) -> None:
    task = asyncio.create_task(q.get())
    q.add_after("late", 100)
    await settle()
    q.add_after("soon", 1)
    await settle()
    clock.advance(1)
    assert await task == "soon"


async def test_delayed_add_of_a_key_in_process_marks_it_dirty(
    q: queues.WorkQueue[str], clock: clocks.FakeClock
) -> None:
    q.add("a")
    await q.get()
    q.add_after("a", 1)
    clock.advance(1)
    assert len(q) == 0
    q.done("a")
    assert len(q) == 1


# -- rate limiting ----------------------------------------------------------------------------------

FLUX_BACKOFF = [0.75 * 2**n for n in range(11)] + [900.0, 900.0]  # 0.75 s … 768 s, then the 15 m cap


def test_exponential_backoff_doubles_from_750ms_to_15m_cap() -> None:
    backoff: queues.ExponentialBackoff[str] = queues.ExponentialBackoff()
    assert [backoff.when("a") for _ in FLUX_BACKOFF] == FLUX_BACKOFF
    assert backoff.failures("a") == len(FLUX_BACKOFF)
    assert backoff.when("b") == 0.75, "backoff is per key"


def test_exponential_backoff_survives_huge_failure_counts() -> None:
    backoff: queues.ExponentialBackoff[str] = queues.ExponentialBackoff(base=1, cap=10)
    assert [backoff.when("a") for _ in range(2000)][-1] == 10


async def test_add_rate_limited_follows_the_backoff(q: queues.WorkQueue[str], clock: clocks.FakeClock) -> None:
    for requeues, delay in enumerate(FLUX_BACKOFF):
        assert q.num_requeues("a") == requeues
        q.add_rate_limited("a")
        assert q.scheduled("a") == pytest.approx(clock.now() + delay)
        clock.advance(delay)
        assert await q.get() == "a"
        q.done("a")


async def test_forget_resets_the_backoff(q: queues.WorkQueue[str], clock: clocks.FakeClock) -> None:
    for _ in range(4):
        q.add_rate_limited("a")
        clock.advance(100)
        await q.get()
        q.done("a")
    assert q.num_requeues("a") == 4
    q.forget("a")
    assert q.num_requeues("a") == 0
    q.add_rate_limited("a")
    assert q.scheduled("a") == pytest.approx(clock.now() + 0.75)


async def test_backoff_is_configurable(clock: clocks.FakeClock) -> None:
    q: queues.WorkQueue[str] = queues.WorkQueue(clock=clock, min_retry_delay=1, max_retry_delay=4, qps=None)
    delays = []
    for _ in range(5):
        q.add_rate_limited("a")
        scheduled = q.scheduled("a")
        assert scheduled is not None
        delays.append(scheduled - clock.now())
        clock.advance(delays[-1])
        await q.get()
        q.done("a")
    assert delays == [1, 2, 4, 4, 4]


def test_token_bucket_allows_burst_then_paces_at_qps(clock: clocks.FakeClock) -> None:
    bucket = queues.TokenBucket(qps=10, burst=100, clock=clock)
    assert [bucket.reserve() for _ in range(100)] == [0.0] * 100
    assert bucket.reserve() == pytest.approx(0.1)
    assert bucket.reserve() == pytest.approx(0.2)
    clock.advance(1)  # 10 tokens back: the 2 owed plus 8
    assert [bucket.reserve() for _ in range(8)] == [0.0] * 8
    assert bucket.reserve() == pytest.approx(0.1)


def test_token_bucket_never_exceeds_burst(clock: clocks.FakeClock) -> None:
    bucket = queues.TokenBucket(qps=1, burst=2, clock=clock)
    clock.advance(1000)
    assert [bucket.reserve() for _ in range(3)] == [0.0, 0.0, pytest.approx(1.0)]


async def test_global_rate_limit_is_the_max_with_per_key_backoff(clock: clocks.FakeClock) -> None:
    q: queues.WorkQueue[str] = queues.WorkQueue(clock=clock, qps=1, burst=2)
    for key in ("k0", "k1", "k2", "k3"):
        q.add_rate_limited(key)
    # k0, k1 take the burst and wait only their own 750 ms; k2, k3 wait for refilled tokens.
    assert [q.scheduled(k) for k in ("k0", "k1", "k2", "k3")] == [0.75, 0.75, 1.0, 2.0]


def test_limiter_arguments_are_validated(clock: clocks.FakeClock) -> None:
    with pytest.raises(ValueError):
        queues.TokenBucket(qps=0, burst=1, clock=clock)
    with pytest.raises(ValueError):
        queues.ExponentialBackoff(base=2, cap=1)


# -- shutdown ---------------------------------------------------------------------------------------


async def test_shutdown_wakes_waiting_getters(q: queues.WorkQueue[str]) -> None:
    waiters = [asyncio.create_task(q.get()) for _ in range(2)]
    await settle()
    q.shutdown()
    for waiter in waiters:
        with pytest.raises(queues.QueueShutDown):
            await waiter


async def test_shutdown_drains_ready_keys_then_raises(q: queues.WorkQueue[str], clock: clocks.FakeClock) -> None:
    q.add("a")
    q.add("b")
    q.add_after("later", 1)
    q.shutdown()
    assert q.shutting_down
    q.add("c")
    q.add_rate_limited("d")
    clock.advance(5)
    assert await q.get() == "a"
    assert await q.get() == "b"
    with pytest.raises(queues.QueueShutDown):
        await q.get()


async def test_shutdown_wakes_a_getter_sleeping_on_a_delay(q: queues.WorkQueue[str], clock: clocks.FakeClock) -> None:
    task = asyncio.create_task(q.get())
    q.add_after("a", 60)
    await settle()
    q.shutdown()
    with pytest.raises(queues.QueueShutDown):
        await task
    await settle()
    assert clock.sleeping == 0, "the getter's timer is cancelled"


# -- jitter -----------------------------------------------------------------------------------------


@given(
    interval=st.floats(min_value=0.001, max_value=1e6),
    percent=st.floats(min_value=0, max_value=99),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_jitter_stays_within_percent(interval: float, percent: float, seed: int) -> None:
    value = queues.jittered(interval, percent, rng=random.Random(seed))
    spread = interval * percent / 100
    assert interval - spread - 1e-9 * interval <= value <= interval + spread + 1e-9 * interval


def test_jitter_spreads_values_and_defaults_to_5_percent() -> None:
    rng = random.Random(7)
    values = [queues.jittered(60, rng=rng) for _ in range(500)]
    assert min(values) >= 57 and max(values) <= 63
    assert min(values) < 58 and max(values) > 62, "values cover the whole ±5 % band"
    assert 57 <= queues.jittered(60) <= 63


def test_jitter_rejects_bad_percent() -> None:
    with pytest.raises(ValueError):
        queues.jittered(10, 100)
    with pytest.raises(ValueError):
        queues.jittered(10, -1)
