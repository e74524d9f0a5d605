"""Fault matrix, part 4: cancellation while queued, running, uploading and downloading.

Each test proves two things: the server-side work ends (replica stats, or the raw server
seeing the connection go), and nothing is left open on our side (no pending task, the
connection pool idle, file descriptors back to where they were).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from hfspaces.conversation import Message
from hfspaces.events import Queued, Started, TextDelta
from hfspaces.media import Media
from hfspaces.replica import PHI4_SPACE
from hfspaces.space_model import SpaceModel
from rel_support import LeakGuard, chat_text, fast_client, history, until


@pytest.fixture(scope="module")
def serial_replica() -> Iterator[Any]:
    """A replica whose functions run one at a time (like a ZeroGPU Space): a second job
    really waits in gradio's queue."""
    from hfspaces.replica import Replica, ReplicaConfig

    with Replica(
        ReplicaConfig(image_size=64, concurrency=1, answer_words=60, token_delay=0.05)
    ) as server:
        yield server


async def first_text(job: Any) -> Any:
    """Iterate until the first text delta; returns the iterator (still open)."""
    events = job.__aiter__()
    async for event in events:
        if isinstance(event, TextDelta):
            return events
    raise AssertionError("the job ended before any text")


async def test_cancel_while_queued(serial_replica: Any) -> None:
    rep = serial_replica
    rep.reset()
    url = rep.url_for(PHI4_SPACE)
    guard = LeakGuard()
    client = fast_client(url, space_id=PHI4_SPACE)

    running = await client.submit("chat", history("first"), text_of=chat_text)
    running_events = await first_text(running)  # job A holds the only worker

    queued = await client.submit("chat", history("second"), text_of=chat_text)
    queued_events = queued.__aiter__()
    async for event in queued_events:
        assert not isinstance(event, (Started, TextDelta)), "B must wait behind A"
        if isinstance(event, Queued):
            break
    await queued.cancel()  # B is cancelled while it waits in the queue
    await queued_events.aclose()
    await until(lambda: rep.stats()["cancels"] == 1, "the cancel to reach the server")

    await running_events.aclose()  # leaving A's iteration early cancels it too
    await until(lambda: rep.stats()["running"] == 0, "job A to stop on the server")

    # B must be gone from the queue: a new job C runs next, and B never started.
    after = await client.submit("chat", history("third"), text_of=chat_text)
    rep.configure(token_delay=0.0)
    assert "third" in (chat_text(await after.result()) or "")
    rep.configure(token_delay=0.05)
    stats = rep.stats()
    assert stats["jobs_started"] == 2  # A and C; B never ran
    assert stats["jobs_completed"] == 1  # C
    assert stats["generator_stopped_early"] == 1  # A
    assert stats["cancels"] == 2
    await guard.check(client)


async def _cancel_by_method(job: Any, mode: str) -> None:
    if mode == "job.cancel":
        events = await first_text(job)
        await job.cancel()
        await events.aclose()
    elif mode == "break":
        async for event in job:
            if isinstance(event, TextDelta):
                break
    elif mode == "task.cancel":
        got_text = asyncio.Event()

        async def consume() -> None:
            async for event in job:
                if isinstance(event, TextDelta):
                    got_text.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(got_text.wait(), 30)  # hang guard only
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    else:  # pragma: no cover
        raise AssertionError(mode)


@pytest.mark.parametrize("mode", ["job.cancel", "break", "task.cancel"])
async def test_cancel_while_running(rep: Any, phi4_url: str, mode: str) -> None:
    rep.configure(answer_words=80, token_delay=0.05)
    guard = LeakGuard()
    client = fast_client(phi4_url, space_id=PHI4_SPACE)
    job = await client.submit("chat", history(), text_of=chat_text)
    await _cancel_by_method(job, mode)
    await until(lambda: rep.stats()["cancels"] == 1, "the cancel to reach the server")
    await until(lambda: rep.stats()["running"] == 0, "the generator to stop on the server")
    stats = rep.stats()
    assert stats["generator_stopped_early"] == 1
    assert stats["jobs_completed"] == 0
    await guard.check(client)


async def test_cancel_space_model_stream(rep: Any, phi4_url: str) -> None:
    """The layer the LangChain/LlamaIndex wrappers use: leaving its stream cancels too."""
    rep.configure(answer_words=80, token_delay=0.05)
    guard = LeakGuard()
    model = SpaceModel("phi-4-multimodal", endpoint=phi4_url)
    stream = model.stream([Message.user("tell me a long story")])
    async for event in stream:
        if isinstance(event, TextDelta):
            break
    await stream.aclose()  # type: ignore[attr-defined]
    await until(lambda: rep.stats()["running"] == 0, "the generator to stop on the server")
    assert rep.stats()["generator_stopped_early"] == 1
    assert rep.stats()["jobs_completed"] == 0
    client = model.client
    await guard.check(client)  # pool idle, then closed: no task pending, fds back
    await model.aclose()


async def test_cancel_while_uploading(fake_space: Any, tmp_path: Path) -> None:
    big = tmp_path / "big.wav"
    header = b"RIFF\0\0\0\0WAVEfmt "
    with big.open("wb") as fh:  # 32 MiB, written without holding it in memory
        fh.write(header)
        for _ in range(32):
            fh.write(b"\0" * (1 << 20))
    space = await fake_space()
    received = 0
    ended = asyncio.Event()

    async def slow_upload(request: web.Request) -> web.StreamResponse:
        nonlocal received
        try:
            async for chunk in request.content.iter_chunked(1 << 16):
                received += len(chunk)
                await asyncio.sleep(0.005)  # a slow link: 32 MiB would take ~3 s
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            ended.set()
        return web.json_response(["/tmp/gradio/never"])

    space.routes["/gradio_api/upload"] = slow_upload
    client = fast_client(space.url)
    await client.config()
    guard = LeakGuard()
    media = Media.from_path(big)
    task = asyncio.create_task(client.upload(media))
    await until(lambda: received >= 1 << 20, "the upload to start")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(ended.wait(), 10)  # the server saw the upload abandoned
    assert received < big.stat().st_size
    await guard.check(client)
    assert not client._uploads  # a cancelled upload is not cached as done


async def test_cancel_while_downloading(fake_space: Any) -> None:
    space = await fake_space()
    sent = 0
    ended = asyncio.Event()

    async def slow_file(request: web.Request) -> web.StreamResponse:
        nonlocal sent
        resp = web.StreamResponse(headers={"Content-Type": "image/png"})
        resp.content_length = 64 << 20
        await resp.prepare(request)
        try:
            for _ in range(1024):  # bounded: at most 64 MiB
                await resp.write(b"\0" * (1 << 16))
                sent += 1 << 16
                await asyncio.sleep(0.005)
        except (ConnectionError, RuntimeError, asyncio.CancelledError):
            pass
        finally:
            ended.set()
        return resp

    space.routes["/gradio_api/file=out.png"] = slow_file
    client = fast_client(space.url)
    await client.config()
    guard = LeakGuard()
    task = asyncio.create_task(client.download({"path": "out.png"}))
    await until(lambda: sent >= 1 << 20, "the download to start")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(ended.wait(), 10)
    assert sent < 64 << 20
    await guard.check(client)


async def test_cancelled_uploader_does_not_fail_a_concurrent_identical_upload(
    fake_space: Any, png_bytes: bytes
) -> None:
    """Two callers upload the same bytes; the one doing the upload is cancelled. The other
    must not inherit that `CancelledError`: it uploads the file itself."""
    stalled = asyncio.Event()
    release = asyncio.Event()
    calls = 0

    async def upload(request: web.Request) -> web.StreamResponse:
        nonlocal calls
        calls += 1
        await request.read()
        if calls == 1:
            stalled.set()
            await asyncio.wait_for(release.wait(), 30)  # hang guard only
        return web.json_response(["/tmp/gradio/abc/image.png"])

    space = await fake_space(routes={"/gradio_api/upload": upload})
    guard = LeakGuard()
    client = fast_client(space.url)
    media = Media.of(png_bytes)
    first = asyncio.create_task(client.upload(media))
    await asyncio.wait_for(stalled.wait(), 10)  # hang guard only
    second = asyncio.create_task(client.upload(media))
    await asyncio.sleep(0)  # the second caller now waits on the first one's upload
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    result = await asyncio.wait_for(second, 20)  # hang guard only
    assert result["path"] == "/tmp/gradio/abc/image.png"
    assert calls == 2
    release.set()
    await guard.check(client)


async def test_failed_gallery_download_cancels_the_others(fake_space: Any) -> None:
    """One gallery file fails: the downloads of the others stop too (no orphaned task
    holding a connection after the caller already has its error)."""
    from hfspaces import errors
    from hfspaces.spaces.janus_pro import fetch_images

    slow_started = asyncio.Event()
    client_left = asyncio.Event()

    async def slow(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "image/png"})
        resp.content_length = 1 << 20
        await resp.prepare(request)
        await resp.write(b"\x89PNG\r\n\x1a\n")
        slow_started.set()
        try:
            for _ in range(200):  # bounded: at most ~20 s
                await asyncio.sleep(0.1)
                await resp.write(b"\0" * 16)
        except (ConnectionError, RuntimeError):
            client_left.set()
        return resp

    async def missing(request: web.Request) -> web.StreamResponse:
        await asyncio.wait_for(slow_started.wait(), 10)  # hang guard only
        return web.json_response({"detail": "gone"}, status=404)

    space = await fake_space(
        routes={"/gradio_api/file=slow.png": slow, "/gradio_api/file=missing.png": missing}
    )
    guard = LeakGuard()
    client = fast_client(space.url)
    await client.config()
    files = [{"path": "slow.png"}, {"path": "missing.png"}]
    with pytest.raises(errors.DownloadError):
        await fetch_images(client, files, download=True)
    downloads = [t for t in guard.pending() if "download" in t.get_coro().__qualname__]
    assert not downloads, f"downloads left running: {downloads!r}"
    await until(client_left.is_set, "the server to see the other download end")
    await guard.check(client)
