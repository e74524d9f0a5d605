"""One overall deadline bounds the whole call: config, uploads, the Phi-4 add-turn
predict, the join, the queue, the stream and downloads, not each step on its own.

Two hand-written aiohttp servers stand in for what the replica cannot do (each test says
which): a Space whose `/config` never answers, and a slow network in front of the
replica (every request forwarded after a delay). The bounds asserted are far from the
figures the old per-step budgets gave (12.7 s and 8.0 s measured): a check that the
deadline holds, not a speed measurement.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from _support import wait_until
from aiohttp import web
from hfspaces import ImagePart, Media, Message, SpaceClient, SpaceModel, TextPart, Timeouts, errors

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    runners: list[web.AppRunner] = []

    async def start(handler: Handler) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        # handler_cancellation: a hanging handler ends when its client leaves (no task
        # left in the session loop for the next tests).
        runner = web.AppRunner(app, shutdown_timeout=0.1, handler_cancellation=True)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        return f"http://127.0.0.1:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()


async def hang(request: web.Request) -> web.StreamResponse:
    """Hostile server (the replica never hangs on /config): accepts, never answers."""
    await asyncio.sleep(3600)
    raise AssertionError("unreachable")


async def test_a_hanging_config_ends_at_the_total_deadline(serve: Any) -> None:
    url = await serve(hang)
    timeouts = Timeouts(total=1.5, request=12)
    async with SpaceClient(url, timeout=timeouts, max_retries=0) as client:
        started = time.monotonic()
        with pytest.raises(errors.SpaceTimeoutError):
            await client.run("predict", ["x"])
        assert time.monotonic() - started < 6  # not the 12 s request bound


async def test_space_model_ends_at_the_total_deadline_with_a_hanging_config(serve: Any) -> None:
    url = await serve(hang)
    model = SpaceModel("phi-4-multimodal", endpoint=url, timeout=Timeouts(total=1.5, request=12))
    started = time.monotonic()
    with pytest.raises(errors.SpaceTimeoutError):
        await model.generate([Message.user("hi")])
    assert time.monotonic() - started < 6
    await model.aclose()


@pytest.fixture
async def slow_network(serve: Any, phi4_url: str) -> str:
    """Hostile server (the replica answers loopback requests at once): forwards every
    request to the replica's Phi-4 after `DELAY` seconds, streaming the answer back."""
    session = aiohttp.ClientSession()

    async def forward(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(DELAY)
        if request.transport is None or request.transport.is_closing():
            # The client gave up: forward nothing (a join would run for nobody and hold
            # the one-slot replica's GPU for the tests after this one).
            return web.Response(status=499)
        body = await request.read()
        headers = {
            k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")
        }
        async with session.request(
            request.method, phi4_url + request.path_qs, data=body or None, headers=headers
        ) as upstream:
            response = web.StreamResponse(status=upstream.status)
            for key in ("Content-Type",):
                if key in upstream.headers:
                    response.headers[key] = upstream.headers[key]
            await response.prepare(request)
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response

    try:
        yield await serve(forward)
    finally:
        await session.close()


DELAY = 0.7


async def test_phi4_with_an_image_ends_at_the_total_deadline(
    fresh_replica: Any, slow_network: str, png_bytes: bytes
) -> None:
    # config, upload, add-turn predict, join: 4 x 0.7 s before the stream even opens,
    # against a 2 s deadline. Per-step budgets let this run past 4 s.
    fresh_replica.configure(queue_delay=3.0)
    model = SpaceModel("phi-4-multimodal", endpoint=slow_network, timeout=2.0)
    message = Message("user", [ImagePart(Media.of(png_bytes)), TextPart("what is this?")])
    started = time.monotonic()
    with pytest.raises(errors.SpaceTimeoutError):
        await model.generate([message])
    elapsed = time.monotonic() - started
    await model.aclose()
    assert elapsed < 3.0, elapsed
    # Whatever reached the replica ends (cancelled, or its GPU wait over) before the next test.
    await wait_until(lambda: fresh_replica.stats()["running"] == 0, what="replica idle")
