"""Shared helpers for the reliability tests: leak checks, bounded polling, and a tiny raw
Gradio-like server (aiohttp.web on a loopback port) for faults the replica cannot make.

The raw server is a real HTTP server: requests cross a real socket, so connection resets,
redirects, malformed bodies and slow transfers behave exactly as they would on the wire.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from hfspaces import SpaceClient
from hfspaces.transport import Timeouts

# Bounds for every wait in these tests (polling loops end by count and by time).
POLL_INTERVAL = 0.02
POLL_LIMIT = 10.0

#: Fast, bounded timeouts for tests: failures surface in seconds, not minutes.
FAST = Timeouts(connect=5.0, idle=20.0, request=20.0, total=60.0)

#: Runtime settings tests may change on the shared replica; restored after each test.
RUNTIME_KEYS = ("token_delay", "answer_words", "phi4_stream", "image_size", "jwt_lifetime")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def until(predicate: Callable[[], bool], what: str, *, limit: float = POLL_LIMIT) -> None:
    """Poll `predicate` until true; fail with `what` after `limit` seconds (bounded count)."""
    for _ in range(int(limit / POLL_INTERVAL) + 1):
        if predicate():
            return
        await asyncio.sleep(POLL_INTERVAL)
    raise AssertionError(f"still waiting after {limit:g} s: {what}")


def acquired(client: SpaceClient) -> int:
    """Connections the client's pool has handed out and not got back."""
    session = client.transport._session
    if session is None or session.closed:
        return 0
    connector = session.connector
    return len(connector._acquired) if connector is not None else 0  # type: ignore[attr-defined]


class LeakGuard:
    """Snapshot of open fds and live tasks; `check` proves a client left nothing behind:
    no connection held by the pool, no new pending task, fds back to the snapshot."""

    def __init__(self) -> None:
        self.fds = open_fds()
        self.tasks = set(asyncio.all_tasks())

    def pending(self) -> list[asyncio.Task[Any]]:
        me = asyncio.current_task()
        return [
            t for t in asyncio.all_tasks() if t not in self.tasks and t is not me and not t.done()
        ]

    async def check(self, client: SpaceClient, *, close: bool = True) -> None:
        await until(lambda: acquired(client) == 0, "the connection pool to return to idle")
        if close:
            await client.aclose()
        await until(lambda: not self.pending(), f"tasks still pending: {self.pending()!r}")
        await until(lambda: open_fds() <= self.fds, "open file descriptors back to the baseline")


def fast_client(url: str, **kwargs: Any) -> SpaceClient:
    """A client with test timeouts and a short backoff (retries in milliseconds)."""
    kwargs.setdefault("timeout", FAST)
    client = SpaceClient(url, **kwargs)
    client.transport.backoff = (0.01, 0.05)
    client.queue_backoff_range = (0.01, 0.05)
    return client


def chat_text(outputs: list[Any]) -> str | None:
    """Text of the last chat message (gradio 5 string or gradio 6 list of parts)."""
    content = outputs[0][-1]["content"]
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content if isinstance(p, dict))


def history(text: str = "hello there") -> list[Any]:
    """Phi-4 chat's history input in the installed gradio's shape (the replica's Chatbot is
    strict, like a real Space's: gradio 6 wants a list of parts, gradio 5 one part)."""
    import gradio as gr

    gradio6 = int(gr.__version__.split(".")[0]) >= 6
    return [[{"role": "user", "content": [{"type": "text", "text": text}] if gradio6 else text}]]


# ---------------------------------------------------------------------------
# A raw Gradio-like server


def sse(*messages: Any) -> bytes:
    """`data:` lines for each message (dicts become JSON, bytes/str go as they are)."""
    out = b""
    for m in messages:
        raw = m if isinstance(m, bytes) else (m if isinstance(m, str) else json.dumps(m)).encode()
        out += b"data: " + raw + b"\n\n"
    return out


def fake_config(generator: bool = False) -> dict[str, Any]:
    return {
        "version": "6.31.0",
        "protocol": "sse_v3",
        "api_prefix": "/gradio_api",
        "components": [{"id": 1, "type": "textbox", "props": {}}],
        "dependencies": [
            {
                "id": 0,
                "api_name": "predict",
                "inputs": [1],
                "outputs": [1],
                "targets": [[1, "click"]],
                "queue": True,
                "types": {"generator": generator},
            }
        ],
    }


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Seen:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeSpace:
    """A minimal Gradio app on a loopback host: `/config`, join, `queue/data`, cancel.

    Override `join`, `stream` or add `routes[path]` per test. Every request is recorded
    (`seen`), headers included, so tests can check what reached which host.
    """

    host: str = "127.0.0.1"
    join: Handler | None = None
    stream: Handler | None = None
    routes: dict[str, Handler] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=fake_config)
    port: int = 0
    read_body: bool = True
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def hits(self, path: str) -> list[Seen]:
        return [s for s in self.seen if s.path == path]

    async def start(self) -> FakeSpace:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner = web.AppRunner(
            app, handle_signals=False, access_log=None, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        custom = self.routes.get(request.path)
        body = b""
        if self.read_body and custom is None and request.can_read_body:
            body = await request.read()
        self.seen.append(
            Seen(request.method, request.path, request.query_string, dict(request.headers), body)
        )
        if custom is not None:
            return await custom(request)
        if request.path == "/config":
            return web.json_response(self.config)
        if request.path == "/gradio_api/queue/join":
            if self.join is not None:
                return await self.join(request)
            return web.json_response({"event_id": "ev1"})
        if request.path == "/gradio_api/queue/data":
            if self.stream is not None:
                return await self.stream(request)
            return await send_sse(request, completed(["ok"]))
        if request.path == "/gradio_api/cancel":
            return web.json_response({"success": True})
        return web.json_response({"detail": "Not Found"}, status=404)


def completed(data: list[Any], event_id: str = "ev1") -> dict[str, Any]:
    return {
        "msg": "process_completed",
        "event_id": event_id,
        "success": True,
        "output": {"data": data},
    }


async def send_sse(request: web.Request, *parts: Any, end: bool = True) -> web.StreamResponse:
    """Answer with an event stream of `parts` (dict messages, or raw bytes sent as they are)."""
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await resp.prepare(request)
    for part in parts:
        await resp.write(part if isinstance(part, bytes) else sse(part))
    if end:
        await resp.write_eof()
    return resp


def reset_connection(request: web.Request) -> None:
    """Send a TCP RST (SO_LINGER 0 then abort): a real 'connection reset by peer'."""
    transport = request.transport
    assert transport is not None
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def free_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
