"""Helpers of the LangChain tests: local media (copied from tests/conftest.py, which is
not importable as a module), a recording callback handler, and bounded polling."""

from __future__ import annotations

import asyncio
import base64
import io
import math
import struct
import time
import wave
from collections.abc import Callable
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler

#: Bound of every wait for the replica to reach a state (polling, not a timed assertion).
POLL_LIMIT = 20.0


def make_png(
    width: int = 32, height: int = 24, colour: tuple[int, int, int] = (220, 20, 20)
) -> bytes:
    """A small PNG: a solid colour with a white top stripe (as tests/conftest.py)."""
    from PIL import Image

    image = Image.new("RGB", (width, height), colour)
    for x in range(width):
        for y in range(height // 4):
            image.putpixel((x, y), (255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def make_wav(seconds: float = 1.0, rate: int = 8000) -> bytes:
    """A mono 16-bit sine tone (as tests/conftest.py)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
            for i in range(int(seconds * rate))
        )
        out.writeframes(frames)
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class Recorder(BaseCallbackHandler):
    """Records custom events and streamed tokens in arrival order."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[str, Any]] = []
        self.run_ids: set[UUID] = set()
        self.model_runs: list[tuple[UUID, dict[str, Any]]] = []

    def on_chat_model_start(
        self, serialized: Any, messages: Any, *, run_id: UUID, **kwargs: Any
    ) -> None:
        self.model_runs.append((run_id, kwargs.get("invocation_params") or {}))

    def on_custom_event(self, name: str, data: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self.log.append((name, data))
        self.run_ids.add(run_id)

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        if token:
            self.log.append(("token", token))

    def names(self) -> list[str]:
        return [name for name, _ in self.log]

    def events(self, name: str) -> list[dict[str, Any]]:
        return [data for n, data in self.log if n == name]


def wait_until(check: Callable[[], bool]) -> bool:
    """Poll `check` until true or POLL_LIMIT seconds pass (returns the last result)."""
    deadline = time.monotonic() + POLL_LIMIT
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


async def await_until(check: Callable[[], bool]) -> bool:
    """`wait_until` for async tests: yields to the loop between polls."""
    deadline = time.monotonic() + POLL_LIMIT
    while not check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True
