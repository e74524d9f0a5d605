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
    from hfspaces.replica import Replica, ReplicaConfig

    with Replica(ReplicaConfig(image_size=64)) as server:
        yield server


@pytest.fixture(autouse=True)
def _clean(request: pytest.FixtureRequest) -> Iterator[None]:
    # Every test starts with faults off and zeroed stats (only if it uses the replica).
    if "rep" in request.fixturenames:
        request.getfixturevalue("rep").reset()
    yield


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield session
