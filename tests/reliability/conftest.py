"""Fixtures of the reliability tests (helpers live in `rel_support.py`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from rel_support import RUNTIME_KEYS, FakeSpace


@pytest.fixture
def rep(fresh_replica: Any) -> Iterator[Any]:
    """The shared replica with faults off; runtime settings restored after the test."""
    saved = {k: getattr(fresh_replica.config, k) for k in RUNTIME_KEYS}
    yield fresh_replica
    fresh_replica.configure(**saved)


@pytest.fixture
async def fake_space() -> AsyncIterator[Callable[..., Awaitable[FakeSpace]]]:
    """Factory: `await fake_space(host=...)` starts a FakeSpace, stopped after the test."""
    started: list[FakeSpace] = []

    async def make(**kwargs: Any) -> FakeSpace:
        space = await FakeSpace(**kwargs).start()
        started.append(space)
        return space

    yield make
    for space in started:
        await space.stop()
