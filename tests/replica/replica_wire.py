"""Raw Gradio-protocol helpers for the replica's own tests (no hfspaces client involved:
the replica is checked with the wire format itself)."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import gradio as gr

# The installed gradio decides the Chatbot's message shape (validated strictly, as on a real
# Space): gradio 6 content is a list of parts, gradio 5 a single part.
GRADIO6 = int(gr.__version__.split(".")[0]) >= 6
# Where an `append` diff of the last message's text points, per gradio major.
TEXT_TAIL: list[Any] = ["content", 0, "text"] if GRADIO6 else ["content"]
# Phi-4 chat's extra inputs after the history, at their declared defaults (OpenVINO demo):
# top_p, top_k, temperature, repetition_penalty, max_new_tokens.
CHAT_DEFAULTS: list[Any] = [0.95, 50, 0.8, 1.05, 512]


def text_message(text: str, role: str = "user") -> dict[str, Any]:
    """A chat message in the installed gradio's shape."""
    return {"role": role, "content": [{"type": "text", "text": text}] if GRADIO6 else text}


def file_message(file_data: dict[str, Any], role: str = "user") -> dict[str, Any]:
    content = [{"type": "file", "file": file_data}] if GRADIO6 else {"file": file_data}
    return {"role": role, "content": content}


def other_shape(message: dict[str, Any]) -> dict[str, Any]:
    """The same text message in the other gradio major's shape (which must be refused)."""
    content = message["content"]
    if GRADIO6:
        return {**message, "content": content[0]["text"]}
    return {**message, "content": [{"type": "text", "text": content}]}


def message_text(message: dict[str, Any]) -> str:
    """A chat message's text in the installed gradio's shape."""
    content = message["content"]
    if GRADIO6:
        assert isinstance(content, list), content
        return str(content[0]["text"])
    assert isinstance(content, str), content
    return content


def chat_inputs(history: list[dict[str, Any]]) -> list[Any]:
    """The full input list of Phi-4's chat: the history and the sampling defaults."""
    return [history, *CHAT_DEFAULTS]


def new_session() -> str:
    return uuid.uuid4().hex[:11]


async def read_events(resp: aiohttp.ClientResponse) -> AsyncIterator[dict[str, Any]]:
    """``data:`` messages of a ``queue/data`` stream, parsed (heartbeats skipped)."""
    async for raw in resp.content:
        line = raw.strip()
        if not line.startswith(b"data:"):
            continue
        msg = json.loads(line[5:])
        if msg.get("msg") != "heartbeat":
            yield msg


async def join(
    http: aiohttp.ClientSession,
    base: str,
    fn_index: int,
    data: list[Any],
    session_hash: str,
    trigger_id: int | None = None,
    headers: dict[str, str] | None = None,
) -> aiohttp.ClientResponse:
    body = {
        "data": data,
        "event_data": None,
        "fn_index": fn_index,
        "trigger_id": trigger_id,
        "session_hash": session_hash,
    }
    resp = await http.post(f"{base}/gradio_api/queue/join", json=body, headers=headers)
    await resp.read()  # releases the connection; .json() still works on the kept body
    return resp


async def run_job(
    http: aiohttp.ClientSession,
    base: str,
    fn_index: int,
    data: list[Any],
    trigger_id: int | None = None,
    headers: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Join, then read the session's stream to its ``process_completed``."""
    session_hash = new_session()
    resp = await join(http, base, fn_index, data, session_hash, trigger_id, headers)
    assert resp.status == 200, await resp.text()
    event_id = (await resp.json())["event_id"]
    out: list[dict[str, Any]] = []
    async with http.get(
        f"{base}/gradio_api/queue/data", params={"session_hash": session_hash}, headers=headers
    ) as stream:
        async for msg in read_events(stream):
            if msg.get("event_id") in (event_id, None):
                out.append(msg)
            if msg.get("msg") == "process_completed":
                break
    return out


def completed(msgs: list[dict[str, Any]]) -> dict[str, Any]:
    return next(m for m in msgs if m["msg"] == "process_completed")


async def upload(http: aiohttp.ClientSession, base: str, path: str, mime: str) -> dict[str, Any]:
    """Upload like the seeds' library and wrap the server path as FileData."""
    form = aiohttp.FormData()
    content = await asyncio.to_thread(Path(path).read_bytes)
    form.add_field("files", content, filename=os.path.basename(path), content_type=mime)
    async with http.post(f"{base}/gradio_api/upload", data=form) as resp:
        assert resp.status == 200, await resp.text()
        server_path = (await resp.json())[0]
    return {
        "path": server_path,
        "url": f"{base}/gradio_api/file={server_path}",
        "orig_name": os.path.basename(path),
        "size": len(content),
        "mime_type": mime,
        "is_stream": False,
        "meta": {"_type": "gradio.FileData"},
    }
