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
    return await http.post(f"{base}/gradio_api/queue/join", json=body, headers=headers)


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
        f"{base}/gradio_api/queue/data", params={"session_hash": session_hash}
    ) as stream:
        async for msg in read_events(stream):
            if msg.get("event_id") in (event_id, None):
                out.append(msg)
            if msg.get("msg") == "process_completed":
                break
    return out


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
