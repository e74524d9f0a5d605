"""ASGI middleware in front of the Spaces: the Hub-proxy stand-in, counters, wire-level faults.

Every request to a Space first goes through ``proxy.HubProxy`` (credentials stripped,
X-IP-Token added). Joins, predicts, uploads and cancels are counted here (before gradio
sees them). Stream faults act on ``queue/data`` bodies message by message; heartbeats are
forwarded but not counted, so "after N messages" is deterministic. A cut closes the
connection without the final chunk (the client sees a truncated body, aiohttp's
ClientPayloadError). For a Space
served with ``gradio_errors="5.1"`` the stream's messages are rewritten to gradio 5.1.0's
models (``gradio51_message``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .faults import QUEUE_FULL_DETAIL
from .proxy import HubProxy
from .runtime import ReplicaState, legacy_errors

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CUT_LOG_MARK = "hfspaces-replica: stream cut"


class StreamCut(Exception):
    """Raised inside ``send`` to abort a response mid-body (deliberately)."""


class QuietCutFilter(logging.Filter):
    """Drops uvicorn's error logs for the cuts we make on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, StreamCut):
            return False
        msg = record.getMessage()
        return "returned without completing response" not in msg and CUT_LOG_MARK not in msg


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        msg = await receive()
        if msg["type"] != "http.request":
            break
        chunks.append(msg.get("body", b""))
        if not msg.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _respond(send: Send, status: int, body: bytes, content_type: str,
                   extra: list[tuple[bytes, bytes]] | None = None) -> None:
    headers = [(b"content-type", content_type.encode()),
               (b"content-length", str(len(body)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _json(detail: str) -> bytes:
    return json.dumps({"detail": detail}).encode()


_STATUS_BODIES: dict[int, tuple[bytes, str]] = {
    503: (_json(QUEUE_FULL_DETAIL), "application/json"),
    429: (_json("Too Many Requests"), "application/json"),
    413: (_json("File size exceeds the maximum allowed size."), "application/json"),
    502: (b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
    504: (b"<html><body><h1>504 Gateway Time-out</h1></body></html>", "text/html"),
}


def status_body(status: int) -> tuple[bytes, str]:
    return _STATUS_BODIES.get(status, (_json(f"Injected error {status}"), "application/json"))


# Fields gradio 5.1.0's message models do not have (server_messages.py): 5.50 added log
# titles and the success level, 6.x the completed message's title and cache fields.
_NOT_IN_5_1 = {
    "log": ("title",),
    "process_completed": ("title", "used_cache", "cache_duration", "avg_time"),
}


def gradio51_message(chunk: bytes) -> bytes:
    """One ``data: {...}`` SSE message as gradio 5.1.0 would have sent it.

    The error text itself is already 5.1.0's (``runtime.failure_error``); here the titles go
    (5.1.0 has no ``gr.Error(title=)``) and a success log is an info log (``spaces`` falls
    back to ``gr.Info`` where ``gr.Success`` is missing).
    """
    if not chunk.startswith(b"data:"):
        return chunk
    try:
        msg = json.loads(chunk[5:])
    except ValueError:
        return chunk
    if not isinstance(msg, dict) or msg.get("msg") not in _NOT_IN_5_1:
        return chunk
    for key in _NOT_IN_5_1[msg["msg"]]:
        msg.pop(key, None)
    if msg["msg"] == "log" and msg.get("level") == "success":
        msg["level"] = "info"
    output = msg.get("output")
    if isinstance(output, dict):
        output.pop("title", None)
    return b"data: " + json.dumps(msg).encode()


class ReplicaMiddleware:
    """Wraps the whole ASGI app; ``spaces`` maps a path prefix to (space id, stale check)."""

    def __init__(self, app: ASGIApp, state: ReplicaState,
                 spaces: dict[str, str], stale: Callable[[str, int], bool]) -> None:
        self.app = app
        self.state = state
        self.spaces = spaces
        self.stale = stale
        self.proxy = HubProxy(state)

    def _split(self, path: str) -> tuple[str | None, str]:
        for prefix, space in self.spaces.items():
            if path.startswith(prefix + "/") or path == prefix:
                return space, path[len(prefix):]
        return None, path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        space, sub = self._split(scope["path"])
        method = scope.get("method", "GET")
        if space is None:
            await self.app(scope, receive, send)
            return
        scope = self.proxy.rewrite(space, scope)
        if sub == "/gradio_api/queue/join" and method == "POST":
            await self._join(space, scope, receive, send, predict=False)
        elif sub.startswith(("/gradio_api/run/", "/gradio_api/api/")) and method == "POST":
            await self._join(space, scope, receive, send, predict=True)
        elif sub == "/gradio_api/upload" and method == "POST":
            await self._upload(scope, receive, send)
        elif sub == "/gradio_api/cancel" and method == "POST":
            self.state.stats.bump("cancels")
            await self.app(scope, receive, send)
        elif sub == "/gradio_api/queue/data":
            await self._stream(space, scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _join(self, space: str, scope: Scope, receive: Receive, send: Send,
                    predict: bool) -> None:
        body = await _read_body(receive)
        try:
            fn_index = json.loads(body or b"{}").get("fn_index")
        except (ValueError, AttributeError):
            fn_index = None
        state = self.state
        state.stats.join(space, fn_index, predict=predict)
        if not predict and state.faults.fire("join"):
            state.stats.bump("joins_rejected")
            status = int(state.faults.join_status or 503)
            data, ctype = status_body(status)
            extra = []
            if status in (429, 503):
                extra.append((b"retry-after", str(int(state.faults.retry_after)).encode()))
            await _respond(send, status, data, ctype, extra)
            return
        if isinstance(fn_index, int) and self.stale(space, fn_index):
            state.stats.bump("joins_rejected")
            detail = f"fn_index {fn_index} does not exist any more: the app changed, fetch /config"
            await _respond(send, 500, _json(detail), "application/json")
            return
        await self.app(scope, _replay(body, receive), send)

    async def _upload(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = self.state
        if state.faults.fire("upload"):
            await _read_body(receive)  # drain, so the client gets the answer, not a reset
            state.stats.bump("uploads_rejected")
            status = int(state.faults.upload_status or 413)
            data, ctype = status_body(status)
            await _respond(send, status, data, ctype)
            return
        state.stats.bump("uploads")

        async def counting() -> Message:
            msg = await receive()
            if msg["type"] == "http.request":
                state.stats.bump("upload_bytes", len(msg.get("body", b"")))
            return msg

        await self.app(scope, counting, send)

    async def _stream(self, space: str, scope: Scope, receive: Receive, send: Send) -> None:
        self.state.stats.bump("streams_opened")
        plan = self.state.faults.stream_plan()
        rewrite = gradio51_message if legacy_errors(self.state, space) else None
        if not plan and rewrite is None:
            await self.app(scope, receive, send)
            return
        faulty = _FaultyStream(self.state, plan, receive, send, rewrite)
        try:
            await self.app(scope, receive, faulty.send)
        except StreamCut:
            pass  # uvicorn closes the connection: the response never completed
        except Exception:
            if not faulty.cut:
                raise


class _FaultyStream:
    """Forwards SSE messages one by one (rewritten if asked) and breaks the stream as planned."""

    def __init__(self, state: ReplicaState, plan: dict[str, int], receive: Receive,
                 send: Send, rewrite: Callable[[bytes], bytes] | None = None) -> None:
        self.state = state
        self.rewrite = rewrite
        self.plan = dict(plan)
        self.receive = receive
        self._send = send
        self.buffer = b""
        self.count = 0
        self.cut = False

    async def send(self, message: Message) -> None:
        if self.cut:
            raise StreamCut(CUT_LOG_MARK)
        if message["type"] != "http.response.body":
            await self._send(message)
            return
        self.buffer += message.get("body", b"")
        while b"\n\n" in self.buffer:
            chunk, self.buffer = self.buffer.split(b"\n\n", 1)
            await self._before(chunk)
            if self.rewrite is not None:
                chunk = self.rewrite(chunk)
            await self._send({"type": "http.response.body", "body": chunk + b"\n\n",
                              "more_body": True})
            if b'"heartbeat"' not in chunk:
                self.count += 1
        if not message.get("more_body", False):
            await self._send({"type": "http.response.body", "body": self.buffer,
                              "more_body": False})

    async def _before(self, chunk: bytes) -> None:
        stats = self.state.stats
        plan = self.plan
        if plan.get("unexpected_error") == self.count:
            body = json.dumps({"msg": "unexpected_error", "event_id": None,
                               "message": "Session not found.", "session_not_found": True})
            # Counted before it is sent: the client may act on it before this task resumes.
            stats.bump("unexpected_errors_sent")
            await self._send({"type": "http.response.body", "body": f"data: {body}\n\n".encode(),
                              "more_body": True})
            self._abort()
        if plan.get("cut_stream") == self.count:
            stats.bump("streams_cut")
            self._abort()
        if plan.get("stall") == self.count:
            stats.bump("streams_stalled")
            await self._stall()
            self._abort()
        if plan.get("malformed") == self.count:
            plan.pop("malformed")
            stats.bump("malformed_sent")
            await self._send({"type": "http.response.body", "body": b"data: {not json\n\n",
                              "more_body": True})

    def _abort(self) -> None:
        self.cut = True
        raise StreamCut(CUT_LOG_MARK)

    async def _stall(self) -> None:
        """Send nothing (no heartbeats) until the client leaves or the bound passes."""

        async def disconnected() -> None:
            while (await self.receive())["type"] != "http.disconnect":
                pass

        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(disconnected(), timeout=float(self.state.faults.stall_timeout))
