"""A full queue (503 on join) is waited through: backoff with jitter, one `QueueFullWait`
event per refusal, `QueueFullError` only at `max_queue_wait` or the deadline; and 20
concurrent calls against the strict replica (ZeroGPU mode: one running job, one waiting
slot) all complete, reporting their waits."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hfspaces import (
    Completed,
    Message,
    QueueFullWait,
    SpaceClient,
    SpaceModel,
    Timeouts,
    errors,
)

FAST = (0.01, 0.05)
IMAGE = ["a red cube", 1, 5.0, 1.0]


def quick(url: str, **kwargs: Any) -> SpaceClient:
    client = SpaceClient(url, **kwargs)
    client.queue_backoff_range = FAST
    return client


async def test_waits_reported_then_completes(fresh_replica: Any, janus_url: str) -> None:
    fresh_replica.configure(join_status=503, join_fail_count=3, retry_after=0)
    async with quick(janus_url) as client:
        client.queue_backoff_range = (0.02, 0.2)
        job = await client.submit("generate_image", IMAGE)
        assert job.busy is not None and not job.event_id  # turned away, no place yet
        events = [e async for e in job]
    waits = [e for e in events if isinstance(e, QueueFullWait)]
    assert [w.attempt for w in waits] == [1, 2, 3]
    assert all("Queue is full" in w.reason for w in waits)
    assert waits[0].waited < waits[1].waited < waits[2].waited
    assert all(0 < w.retry_in <= 0.3 for w in waits)
    assert isinstance(events[-1], Completed)
    assert events[-1].queue_wait is not None and events[-1].queue_wait >= waits[2].waited
    stats = fresh_replica.stats()
    assert stats["joins_total"] == 4 and stats["joins_rejected"] == 3


async def test_queue_full_error_only_at_max_queue_wait(fresh_replica: Any, janus_url: str) -> None:
    fresh_replica.configure(join_status=503, retry_after=0)
    async with quick(janus_url, max_queue_wait=0.3) as client:
        job = await client.submit("generate_image", IMAGE)
        waits: list[QueueFullWait] = []
        with pytest.raises(errors.QueueFullError, match=r"max_queue_wait=0\.3 s") as info:
            async for event in job:
                assert isinstance(event, QueueFullWait)
                waits.append(event)
    assert info.value.retryable and "Queue is full" in str(info.value)
    assert waits and waits[-1].waited + waits[-1].retry_in <= 0.3 + 1e-6
    # One join per refusal: the first (at submit), then one after each wait.
    assert fresh_replica.stats()["joins_total"] == len(waits) + 1


async def test_no_waiting_with_max_queue_wait_zero(fresh_replica: Any, janus_url: str) -> None:
    fresh_replica.configure(join_status=503, retry_after=0)
    async with quick(janus_url, max_queue_wait=0) as client:
        with pytest.raises(errors.QueueFullError):
            await client.run("generate_image", IMAGE)
    assert fresh_replica.stats()["joins_total"] == 1


async def test_the_deadline_bounds_the_wait(fresh_replica: Any, janus_url: str) -> None:
    fresh_replica.configure(join_status=503, retry_after=0)
    async with quick(janus_url, timeout=Timeouts(total=0.5)) as client:
        with pytest.raises(errors.QueueFullError, match=r"0\.5 s deadline"):
            await client.run("generate_image", IMAGE)


async def test_retry_after_hint_is_used(fresh_replica: Any, janus_url: str) -> None:
    fresh_replica.configure(join_status=503, join_fail_count=1, retry_after=1)
    async with quick(janus_url) as client:
        job = await client.submit("generate_image", IMAGE)
        events = [e async for e in job]
    (wait,) = [e for e in events if isinstance(e, QueueFullWait)]
    assert wait.retry_in == 1.0


async def test_cancel_while_waiting_ends_the_wait_and_sends_nothing_more(
    fresh_replica: Any, janus_url: str
) -> None:
    fresh_replica.configure(join_status=503, retry_after=0)
    async with quick(janus_url) as client:
        client.queue_backoff_range = (5.0, 5.0)
        job = await client.submit("generate_image", IMAGE)
        reader = asyncio.ensure_future(job.result())
        await asyncio.sleep(0.1)  # the job is now sleeping between attempts
        await job.cancel()
        with pytest.raises(errors.CancelledJobError):  # at once, not after the 5 s wait
            await asyncio.wait_for(reader, 2)
    stats = fresh_replica.stats()
    assert stats["joins_total"] == 1 and stats.get("cancels", 0) == 0


def test_max_queue_wait_is_checked() -> None:
    for bad in (-1, float("inf"), float("nan"), "600"):
        with pytest.raises(errors.InvalidInputError, match="max_queue_wait"):
            SpaceClient("http://127.0.0.1:1", max_queue_wait=bad)  # type: ignore[arg-type]


def test_backoff_grows_with_jitter_to_a_ceiling() -> None:
    client = SpaceClient("http://127.0.0.1:1")
    first, ceiling = client.queue_backoff_range
    for attempt in range(1, 12):
        base = min(ceiling, first * 2 ** (attempt - 1))
        delays = {client.queue_backoff(attempt, None) for _ in range(20)}
        assert all(base * 0.5 <= d <= base * 1.5 for d in delays)
        assert len(delays) > 1  # jittered: waiting callers do not move in step
    assert client.queue_backoff(3, 7.0) == 7.0  # the Space's Retry-After wins


async def test_space_model_streams_the_waits(fresh_replica: Any, phi4_url: str) -> None:
    fresh_replica.configure(join_status=503, join_fail_count=2, retry_after=0)
    model = SpaceModel("phi-4-multimodal", endpoint=phi4_url)
    model.client.queue_backoff_range = FAST
    items = [e async for e in model.stream([Message.user("hello")])]
    await model.aclose()
    waits = [e for e in items if isinstance(e, QueueFullWait)]
    assert [w.attempt for w in waits] == [1, 2]


async def test_twenty_concurrent_calls_through_a_one_slot_space(
    fresh_replica: Any, janus_url: str
) -> None:
    """ZeroGPU mode (the replica's default): one job runs, one waits, the rest are turned
    away with 503. All 20 complete, none with QueueFullError, each with its waits."""
    fresh_replica.configure(join_status=None)
    async with SpaceClient(janus_url) as client:
        client.queue_backoff_range = (0.05, 0.5)  # the default 1..30 s, scaled for a test

        async def one(i: int) -> list[QueueFullWait]:
            job = await client.submit("generate_image", [f"cube {i}", i, 5.0, 1.0])
            waits = []
            async for event in job:
                if isinstance(event, QueueFullWait):
                    waits.append(event)
                elif isinstance(event, Completed):
                    assert len(event.outputs[0]) == 5
            return waits

        results = await asyncio.gather(*(one(i) for i in range(20)))
    stats = fresh_replica.stats()
    assert stats["jobs_completed"] == 20
    # Only the head of the client's line asks again: one join per head wait.
    asked = sum(1 for waits in results for w in waits if w.ahead == 0)
    assert stats["joins_total"] == 20 + asked and asked > 0
    assert any(w.ahead for waits in results for w in waits)  # the others waited their turn
    assert sum(1 for w in results if w) >= 10  # most callers had to wait
    for waits in results:
        assert [w.attempt for w in waits] == list(range(1, len(waits) + 1))


async def test_cancel_in_the_line_wakes_the_one_behind(fresh_replica: Any, janus_url: str) -> None:
    fresh_replica.configure(join_status=503, join_fail_count=2, retry_after=0)
    async with quick(janus_url) as client:
        client.queue_backoff_range = (5.0, 5.0)
        first = await client.submit("generate_image", IMAGE)
        second = await client.submit("generate_image", IMAGE)
        second_events: list[Any] = []

        async def read_second() -> None:
            async for event in second:
                second_events.append(event)

        readers = [asyncio.ensure_future(first.result()), asyncio.ensure_future(read_second())]
        await asyncio.sleep(0.1)  # first is the head, second waits its turn
        await first.cancel()
        client.queue_backoff_range = FAST  # the new head asks soon
        await asyncio.wait_for(readers[1], 10)
        with pytest.raises(errors.CancelledJobError):
            await readers[0]
    waits = [e for e in second_events if isinstance(e, QueueFullWait)]
    assert waits[0].ahead == 1 and waits[-1].ahead == 0
    assert isinstance(second_events[-1], Completed)
