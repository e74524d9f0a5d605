"""Fault matrix, part 1: the join (and other requests before a job is accepted).

Joins answered 503/429/502/504, refused or reset connections are retried with backoff
(honouring `Retry-After`); once retries run out the caller gets a typed error.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest
from aiohttp import web
from hfspaces import errors
from hfspaces.replica import PHI4_SPACE
from rel_support import (
    LeakGuard,
    chat_text,
    fast_client,
    free_port,
    history,
    reset_connection,
)


def joins(rep: Any) -> int:
    return int(rep.stats()["joins_total"])


async def run_chat(client: Any) -> str | None:
    job = await client.submit("chat", history(), text_of=chat_text)
    return chat_text(await job.result())


@pytest.mark.parametrize("status", [503, 502, 504])
async def test_join_transient_status_is_retried_then_succeeds(
    rep: Any, phi4_url: str, status: int
) -> None:
    rep.configure(join_status=status, join_fail_count=2, retry_after=0)
    guard = LeakGuard()
    client = fast_client(phi4_url, space_id=PHI4_SPACE, max_retries=3)
    answer = await run_chat(client)
    assert answer and "hello there" in answer
    assert joins(rep) == 3  # two refusals, then the accepted join
    assert rep.stats()["joins_rejected"] == 2
    await guard.check(client)


async def test_join_503_queue_full_after_max_queue_wait(rep: Any, phi4_url: str) -> None:
    # A full queue is waited through (backoff, one QueueFullWait per wait), not retried
    # `max_retries` times: the typed error comes at `max_queue_wait`.
    rep.configure(join_status=503, retry_after=0)
    guard = LeakGuard()
    client = fast_client(phi4_url, space_id=PHI4_SPACE, max_retries=2, max_queue_wait=0.3)
    job = await client.submit("chat", history())
    with pytest.raises(errors.QueueFullError) as info:
        await job.result()
    assert joins(rep) > 3  # not bounded by max_retries
    assert "Queue is full" in str(info.value) and "max_queue_wait" in str(info.value)
    assert info.value.retryable
    await guard.check(client)


@pytest.mark.parametrize("status", [502, 504])
async def test_join_gateway_error_after_retries(rep: Any, phi4_url: str, status: int) -> None:
    rep.configure(join_status=status, retry_after=0)
    client = fast_client(phi4_url, space_id=PHI4_SPACE, max_retries=1)
    with pytest.raises(errors.ServerError) as info:
        await client.submit("chat", history())
    assert info.value.status == status
    assert joins(rep) == 2
    await client.aclose()


async def test_join_429_honours_retry_after(
    rep: Any, phi4_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    rep.configure(join_status=429, join_fail_count=1, retry_after=1)
    client = fast_client(phi4_url, space_id=PHI4_SPACE, max_retries=2)
    caplog.set_level(logging.INFO, logger="hfspaces")
    started = time.monotonic()
    answer = await run_chat(client)
    waited = time.monotonic() - started
    assert answer
    assert joins(rep) == 2
    # Lower bound only: the client must not come back before the server's Retry-After
    # (the backoff in this client is 10-50 ms, so only the header explains the wait).
    assert waited >= 0.9
    assert any("HTTP 429" in r.getMessage() for r in caplog.records)
    await client.aclose()


async def test_join_429_rate_limit_error_after_retries(rep: Any, phi4_url: str) -> None:
    rep.configure(join_status=429, retry_after=0)
    client = fast_client(phi4_url, space_id=PHI4_SPACE, max_retries=1)
    with pytest.raises(errors.RateLimitError) as info:
        await client.submit("chat", history())
    assert info.value.retry_after == 0
    assert joins(rep) == 2
    await client.aclose()


async def test_retry_after_beyond_deadline_fails_fast(fake_space: Any) -> None:
    """A `Retry-After` longer than the job's deadline is not slept through: typed error now."""
    space = await fake_space()

    async def join(request: web.Request) -> web.StreamResponse:
        return web.json_response(
            {"detail": "Too Many Requests"}, status=429, headers={"Retry-After": "3600"}
        )

    space.join = join
    client = fast_client(space.url, max_retries=3)
    with pytest.raises(errors.RateLimitError) as info:
        # The bound is a hang guard, not a timing claim: the client should not sleep an hour.
        await asyncio.wait_for(client.submit("predict", ["x"]), 30)
    assert info.value.retry_after == 3600
    assert len(space.hits("/gradio_api/queue/join")) == 1
    await client.aclose()


async def test_connection_refused_is_retried_then_connect_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    guard = LeakGuard()
    client = fast_client(url, max_retries=2)
    caplog.set_level(logging.INFO, logger="hfspaces")
    with pytest.raises(errors.ConnectError) as info:
        await client.submit("predict", ["x"])
    assert "cannot connect" in str(info.value)
    retries = [r for r in caplog.records if "retrying after ConnectError" in r.getMessage()]
    assert len(retries) == 2
    await guard.check(client)


async def test_connection_reset_during_join_retried_then_succeeds(fake_space: Any) -> None:
    space = await fake_space()
    resets = 0

    async def join(request: web.Request) -> web.StreamResponse:
        nonlocal resets
        if resets < 2:
            resets += 1
            reset_connection(request)
            return web.Response()  # never reaches the client: the socket is gone
        return web.json_response({"event_id": "ev1"})

    space.join = join
    guard = LeakGuard()
    client = fast_client(space.url, max_retries=3)
    job = await client.submit("predict", ["x"])
    assert await job.result() == ["ok"]
    assert len(space.hits("/gradio_api/queue/join")) == 3
    await guard.check(client)


async def test_connection_reset_during_join_typed_error_after_retries(fake_space: Any) -> None:
    space = await fake_space()

    async def join(request: web.Request) -> web.StreamResponse:
        reset_connection(request)
        return web.Response()

    space.join = join
    guard = LeakGuard()
    client = fast_client(space.url, max_retries=2)
    with pytest.raises(errors.ConnectError):
        await client.submit("predict", ["x"])
    assert len(space.hits("/gradio_api/queue/join")) == 3
    await guard.check(client)
