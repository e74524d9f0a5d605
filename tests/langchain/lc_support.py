"""Helpers of the LangChain tests: local media (copied from tests/conftest.py, which is
not importable as a module), a recording callback handler, and bounded polling."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler

#: Bound of every wait for the replica to reach a state (polling, not a timed assertion).
POLL_LIMIT = 20.0


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
