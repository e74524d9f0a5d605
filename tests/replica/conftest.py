"""Fixtures for the replica's own tests: a replica per module, raw-protocol helpers."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


@pytest.fixture(scope="module")
def rep() -> Iterator[Any]:
    """The replica as it starts by default: ZeroGPU mode (one slot, one job per function)."""
    from hfspaces.replica import Replica, ReplicaConfig

    with Replica(ReplicaConfig(image_size=64)) as server:
        yield server


@pytest.fixture(scope="module")
def lenient() -> Iterator[Any]:
    """A replica with ZeroGPU's limits lifted, for tests that fire many joins at once."""
    from hfspaces.replica import Replica, ReplicaConfig

    with Replica(ReplicaConfig(image_size=64, zerogpu=False)) as server:
        yield server


@pytest.fixture(autouse=True)
def _clean(request: pytest.FixtureRequest) -> Iterator[None]:
    # Every test starts with faults off and zeroed stats (only if it uses a replica).
    for name in ("rep", "lenient"):
        if name in request.fixturenames:
            request.getfixturevalue(name).reset()
    yield


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield session
