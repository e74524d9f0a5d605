"""The floor: the fewest HTTP requests the Gradio queue protocol needs, with bare aiohttp.

upload (when there is a file) → `queue/join` → read `queue/data` until `process_completed`.
Every `data:` line is parsed (stdlib json) and streamed text diffs are applied, so the floor
delivers what a client must: tokens as they arrive and the final outputs. fn_index is read
from `/config` once, on the first call, as the protocol notes ask.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from pathlib import Path
from typing import Any

import aiohttp


class Floor:
    def __init__(self, url: str) -> None:
        self.url = url
        self.api = url + "/gradio_api"
        self.fns: dict[str, int] | None = None
        self.session: aiohttp.ClientSession | None = None

    async def open(self) -> Floor:
        # Keep-alive below uvicorn's 5 s, like any client that reuses connections must.
        connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=3)
        self.session = aiohttp.ClientSession(connector=connector)
        return self

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()

    async def fn(self, api_name: str) -> int:
        if self.fns is None:
            assert self.session is not None
            async with self.session.get(self.url + "/config") as resp:
                config = await resp.json()
            self.fns = {d["api_name"]: d["id"] for d in config["dependencies"] if d["api_name"]}
        return self.fns[api_name]

    async def upload(self, data: bytes | Path, name: str = "image.png") -> dict[str, Any]:
        """One multipart POST; a Path is streamed from disk, never read whole."""
        assert self.session is not None
        form = aiohttp.FormData()
        if isinstance(data, Path):
            with data.open("rb") as fh:
                form.add_field("files", fh, filename=name, content_type="image/png")
                paths = await self._post_upload(form)
        else:
            form.add_field("files", data, filename=name, content_type="image/png")
            paths = await self._post_upload(form)
        return {"path": paths[0], "meta": {"_type": "gradio.FileData"}}

    async def _post_upload(self, form: aiohttp.FormData) -> list[str]:
        assert self.session is not None
        url = f"{self.api}/upload?upload_id={secrets.token_hex(6)}"
        async with self.session.post(url, data=form) as resp:
            resp.raise_for_status()
            paths: list[str] = await resp.json()
            return paths

    async def call(
        self, api_name: str, data: list[Any], *, t0: float | None = None
    ) -> tuple[list[Any], float | None, int]:
        """Join and read the stream. Returns (outputs, time of first text, events)."""
        assert self.session is not None
        fn_index = await self.fn(api_name)
        session_hash = secrets.token_hex(6)
        body = {
            "data": data,
            "fn_index": fn_index,
            "session_hash": session_hash,
            "trigger_id": None,
            "event_data": None,
        }
        async with self.session.post(self.api + "/queue/join", json=body) as resp:
            resp.raise_for_status()
            event_id = (await resp.json())["event_id"]
        outputs: list[Any] | None = None
        first: float | None = None
        events = 0
        url = f"{self.api}/queue/data?session_hash={session_hash}"
        async with self.session.get(url) as resp:
            resp.raise_for_status()
            async for line in resp.content:
                if not line.startswith(b"data:"):
                    continue
                msg = json.loads(line[5:])
                if msg.get("event_id") != event_id:
                    continue
                events += 1
                kind = msg["msg"]
                if kind == "process_generating":
                    got = msg["output"]["data"]
                    if outputs is None:
                        outputs = got
                    else:
                        outputs = [_apply(o, d) for o, d in zip(outputs, got, strict=True)]
                    if first is None and _has_text(outputs):
                        first = time.perf_counter()
                elif kind == "process_completed":
                    if not msg.get("success", True):
                        raise RuntimeError(f"floor call failed: {msg['output']}")
                    final: list[Any] = msg["output"]["data"]
                    return final, first or time.perf_counter(), events
        raise RuntimeError("stream ended before completion")

    async def get_bytes(self, url: str) -> bytes:
        assert self.session is not None
        async with self.session.get(url) as resp:
            resp.raise_for_status()
            return await resp.read()

    def file_url(self, file_data: dict[str, Any]) -> str:
        return f"{self.api}/file={file_data['path']}"


def _apply(value: Any, diff: list[list[Any]]) -> Any:
    """gradio's edits, just those the two Spaces send (replace / append / add)."""
    for action, path, new in diff:
        if not path:
            value = new if action == "replace" else value + new
            continue
        parent = value
        for key in path[:-1]:
            parent = parent[key]
        if action == "append":
            parent[path[-1]] += new
        elif action == "add" and isinstance(parent, list):
            parent.insert(path[-1], new)
        else:
            parent[path[-1]] = new
    return value


def _has_text(outputs: list[Any]) -> bool:
    """The chat history's last message is the assistant's, with some text."""
    history = outputs[0] if outputs else None
    if not isinstance(history, list) or not history:
        return isinstance(history, str) and bool(history)
    last = history[-1]
    return isinstance(last, dict) and last.get("role") == "assistant" and bool(last["content"])


async def gather_bytes(floor: Floor, urls: list[str], *, parallel: bool) -> list[bytes]:
    if parallel:
        return list(await asyncio.gather(*(floor.get_bytes(u) for u in urls)))
    return [await floor.get_bytes(u) for u in urls]
