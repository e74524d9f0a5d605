"""Helpers for the core tests: request counting through aiohttp tracing (real requests,
nothing mocked), bounded waits on the replica's counters, a closed loopback port."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest


class RequestLog:
    """Counts every request a session sends, by method and path."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []

    def trace_config(self) -> aiohttp.TraceConfig:
        trace = aiohttp.TraceConfig()

        async def on_start(
            session: aiohttp.ClientSession, ctx: Any, params: aiohttp.TraceRequestStartParams
        ) -> None:
            self.requests.append(
                (params.method, urlsplit(str(params.url)).path, dict(params.headers))
            )

        trace.on_request_start.append(on_start)
        return trace

    def count(self, method: str, path_suffix: str) -> int:
        return sum(1 for m, p, _ in self.requests if m == method and p.endswith(path_suffix))

    def paths(self) -> Counter[str]:
        return Counter(p for _, p, _ in self.requests)


@pytest.fixture
async def traced() -> AsyncIterator[tuple[aiohttp.ClientSession, RequestLog]]:
    """A caller-owned aiohttp session that logs what it sends."""
    log = RequestLog()
    session = aiohttp.ClientSession(trace_configs=[log.trace_config()])
    try:
        yield session, log
    finally:
        await session.close()


async def wait_until(
    predicate: Callable[[], bool], timeout: float = 10.0, what: str = "condition"
) -> None:
    """Poll `predicate` (bounded); fail the test with `what` if it never holds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        if loop.time() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.02)


def closed_port() -> int:
    """A loopback port with nothing listening (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def own_tasks() -> set[asyncio.Task[Any]]:
    """Tasks other than the current one (pytest-asyncio's loop runs only the test)."""
    current = asyncio.current_task()
    return {t for t in asyncio.all_tasks() if t is not current and not t.done()}


def solid_png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    """A PNG of one colour (the replica describes size and dominant colours)."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()
