"""Fault matrix, part 2: the event stream (`queue/data`) after the job was accepted.

A cut, a stall, a deadline, a lost session or a malformed message ends the job with a typed
error; a truncated answer is never returned as if it were complete. Unknown messages are
ignored. Where the client gives up, the job is cancelled on the server too.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from hfspaces import errors
from hfspaces.events import Completed, Partial, TextDelta
from hfspaces.replica import PHI4_SPACE
from hfspaces.transport import Timeouts
from rel_support import (
    LeakGuard,
    chat_text,
    completed,
    fast_client,
    history,
    reset_connection,
    send_sse,
    sse,
    until,
)


async def collect(job: Any) -> list[Any]:
    """Iterate a job's events; return them (the error propagates)."""
    seen: list[Any] = []
    async for event in job:
        seen.append(event)
    return seen


async def test_stream_cut_before_any_output(rep: Any, phi4_url: str) -> None:
    rep.configure(cut_stream_after=0)
    guard = LeakGuard()
    client = fast_client(phi4_url, space_id=PHI4_SPACE)
    job = await client.submit("chat", history(), text_of=chat_text)
    with pytest.raises(errors.SessionLostError) as info:
        await job.result()
    assert "before any output" in str(info.value)
    assert rep.stats()["streams_cut"] == 1
    await until(lambda: rep.stats()["running"] == 0, "the server-side job to end")
    await guard.check(client)


async def test_stream_cut_after_partial_output_is_not_returned_as_complete(
    rep: Any, phi4_url: str
) -> None:
    rep.configure(answer_words=40, token_delay=0.02, cut_stream_after=5)
    guard = LeakGuard()
    client = fast_client(phi4_url, space_id=PHI4_SPACE)
    job = await client.submit("chat", history(), text_of=chat_text)
    seen: list[Any] = []
    with pytest.raises(errors.SessionLostError) as info:
        async for event in job:
            seen.append(event)
    assert "after partial output" in str(info.value)
    assert "incomplete" in str(info.value)
    assert any(isinstance(e, Partial) for e in seen)  # some text did arrive...
    assert any(isinstance(e, TextDelta) for e in seen)
    assert not any(isinstance(e, Completed) for e in seen)  # ...but was never passed off
    with pytest.raises(errors.SessionLostError):
        await job.result()  # the outcome stays the error
    await until(lambda: rep.stats()["running"] == 0, "the server-side job to end")
    await guard.check(client)


async def test_stream_stall_hits_idle_timeout_and_cancels(rep: Any, phi4_url: str) -> None:
    rep.configure(answer_words=40, token_delay=0.1, stall_after=3, stall_timeout=10)
    guard = LeakGuard()
    timeouts = Timeouts(connect=5, idle=0.5, request=10, total=60)
    client = fast_client(phi4_url, space_id=PHI4_SPACE, timeout=timeouts)
    job = await client.submit("chat", history(), text_of=chat_text)
    with pytest.raises(errors.SpaceTimeoutError) as info:
        await job.result()
    assert "stalled" in str(info.value)
    assert rep.stats()["streams_stalled"] == 1
    await until(lambda: rep.stats()["cancels"] >= 1, "the client to cancel on the server")
    await until(lambda: rep.stats()["running"] == 0, "the server-side job to end")
    assert rep.stats()["jobs_completed"] == 0
    await guard.check(client)


async def test_overall_deadline(rep: Any, phi4_url: str) -> None:
    rep.configure(answer_words=60, token_delay=0.1)
    guard = LeakGuard()
    timeouts = Timeouts(connect=5, idle=20, request=10, total=1.0)
    client = fast_client(phi4_url, space_id=PHI4_SPACE, timeout=timeouts)
    job = await client.submit("chat", history(), text_of=chat_text)
    with pytest.raises(errors.SpaceTimeoutError) as info:
        await job.result()
    assert "deadline" in str(info.value)
    await until(lambda: rep.stats()["running"] == 0, "the server-side job to end")
    assert rep.stats()["jobs_completed"] == 0
    assert rep.stats()["generator_stopped_early"] == 1
    await guard.check(client)


async def test_unexpected_error_session_lost(rep: Any, phi4_url: str) -> None:
    rep.configure(answer_words=20, token_delay=0.05, unexpected_error=2)
    guard = LeakGuard()
    client = fast_client(phi4_url, space_id=PHI4_SPACE)
    job = await client.submit("chat", history(), text_of=chat_text)
    with pytest.raises(errors.SessionLostError) as info:
        await job.result()
    assert "session not found" in str(info.value)
    assert rep.stats()["unexpected_errors_sent"] == 1
    await until(lambda: rep.stats()["running"] == 0, "the server-side job to end")
    await guard.check(client)


async def test_malformed_message_from_replica(rep: Any, phi4_url: str) -> None:
    rep.configure(answer_words=20, token_delay=0.05, malformed_after=2)
    guard = LeakGuard()
    client = fast_client(phi4_url, space_id=PHI4_SPACE)
    job = await client.submit("chat", history(), text_of=chat_text)
    with pytest.raises(errors.ProtocolError) as info:
        await job.result()
    assert "malformed" in str(info.value)
    assert rep.stats()["malformed_sent"] == 1
    await until(lambda: rep.stats()["running"] == 0, "the server-side job to end")
    await guard.check(client)


async def test_unknown_messages_are_ignored(fake_space: Any) -> None:
    space = await fake_space()

    async def stream(request: web.Request) -> web.StreamResponse:
        return await send_sse(
            request,
            {"msg": "estimation", "event_id": "ev1", "rank": 0, "queue_size": 1},
            {"msg": "brand_new_message", "event_id": "ev1", "payload": [1, 2, 3]},
            {"msg": "heartbeat", "event_id": None},
            b": a comment line\n\n",
            {"msg": "another_future_thing", "event_id": None},
            completed(["fine"]),
        )

    space.stream = stream
    guard = LeakGuard()
    client = fast_client(space.url)
    job = await client.submit("predict", ["x"])
    assert await job.result() == ["fine"]
    await guard.check(client)


GEN = {"msg": "process_generating", "event_id": "ev1", "success": True}

MALFORMED: dict[str, list[Any]] = {
    "not-json": [sse(b"{not json")],
    "json-array": [sse(b"[1, 2, 3]")],
    "invalid-utf8": [sse(b"\xff\xfe\xfa")],
    "generating-without-data": [{**GEN, "output": {"data": "nope"}}],
    "diff-wrong-arity": [
        {**GEN, "output": {"data": ["a"]}},
        {**GEN, "output": {"data": [[], []]}},
    ],
    "diff-not-fitting": [
        {**GEN, "output": {"data": ["a"]}},
        {**GEN, "output": {"data": [[["append", [0, "x"], "b"]]]}},
    ],
    "diff-unknown-op": [
        {**GEN, "output": {"data": [["a"]]}},
        {**GEN, "output": {"data": [[["explode", [0], 1]]]}},
    ],
    "completion-data-not-list": [
        {"msg": "process_completed", "event_id": "ev1", "success": True, "output": {"data": 5}}
    ],
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
async def test_malformed_stream_is_a_protocol_error(fake_space: Any, case: str) -> None:
    space = await fake_space()

    async def stream(request: web.Request) -> web.StreamResponse:
        return await send_sse(request, *MALFORMED[case], completed(["never"]))

    space.stream = stream
    guard = LeakGuard()
    client = fast_client(space.url)
    job = await client.submit("predict", ["x"])
    with pytest.raises(errors.ProtocolError):
        await job.result()
    await until(lambda: bool(space.hits("/gradio_api/cancel")), "the cancel to reach the server")
    await guard.check(client)


async def test_stream_body_ends_without_completion(fake_space: Any) -> None:
    space = await fake_space()

    async def stream(request: web.Request) -> web.StreamResponse:
        return await send_sse(
            request,
            {"msg": "process_starts", "event_id": "ev1"},
            {**GEN, "output": {"data": ["partial"]}},
        )

    space.stream = stream
    client = fast_client(space.url)
    job = await client.submit("predict", ["x"])
    with pytest.raises(errors.SessionLostError) as info:
        await job.result()
    assert "after partial output" in str(info.value)
    await client.aclose()


async def test_close_stream_before_completion(fake_space: Any) -> None:
    space = await fake_space()

    async def stream(request: web.Request) -> web.StreamResponse:
        return await send_sse(
            request,
            {"msg": "process_starts", "event_id": "ev1"},
            {"msg": "close_stream", "event_id": None},
            end=False,  # the server keeps the body open: the client must not wait on it
        )

    space.stream = stream
    guard = LeakGuard()
    client = fast_client(space.url)
    job = await client.submit("predict", ["x"])
    with pytest.raises(errors.SessionLostError):
        await job.result()
    await guard.check(client)


async def test_connection_reset_when_opening_the_stream(fake_space: Any) -> None:
    space = await fake_space()

    async def stream(request: web.Request) -> web.StreamResponse:
        reset_connection(request)
        return web.Response()

    space.stream = stream
    guard = LeakGuard()
    client = fast_client(space.url)
    job = await client.submit("predict", ["x"])
    with pytest.raises(errors.SpaceError):
        await job.result()
    await guard.check(client)


async def test_stream_answered_with_server_error(fake_space: Any) -> None:
    space = await fake_space()

    async def stream(request: web.Request) -> web.StreamResponse:
        return web.Response(status=500, text="Internal Server Error")

    space.stream = stream
    client = fast_client(space.url)
    job = await client.submit("predict", ["x"])
    with pytest.raises(errors.ServerError) as info:
        await job.result()
    assert info.value.status == 500
    await client.aclose()


async def test_estimation_after_start_is_not_reported_as_queued(fake_space: Any) -> None:
    """A late `estimation` (the queue moved while our job was being picked up) must not
    put a started job back in the queue for the caller."""

    async def stream(request: web.Request) -> web.StreamResponse:
        return await send_sse(
            request,
            {"msg": "estimation", "event_id": "ev1", "rank": 1, "queue_size": 2, "rank_eta": 3},
            {"msg": "process_starts", "event_id": "ev1", "eta": 1.0},
            {"msg": "estimation", "event_id": "ev1", "rank": 0, "queue_size": 1, "rank_eta": 1},
            {"msg": "heartbeat", "event_id": None},
            completed(["ok"]),
        )

    space = await fake_space(stream=stream)
    client = fast_client(space.url)
    try:
        events = await collect(await client.submit("predict", ["x"]))
    finally:
        await client.aclose()
    kinds = [type(e).__name__ for e in events if not isinstance(e, TextDelta)]
    assert kinds == ["Queued", "Started", "Completed"]
    assert events[-1].queue_wait is not None
