"""Fixtures of the LangChain tests (helpers live in `lc_support.py`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from lc_support import Recorder
from pytest_socket import disable_socket, enable_socket

from langchain_hfspaces import ChatHFSpaces

#: Replica settings tests may change at run time; restored after each test.
RUNTIME_KEYS = ("token_delay", "answer_words", "phi4_stream")


@pytest.fixture
def no_network() -> Iterator[None]:
    """No sockets but unix ones (the event loop's self-pipe), for one test."""
    disable_socket(allow_unix_socket=True)
    try:
        yield
    finally:
        enable_socket()


@pytest.fixture
def rep(fresh_replica: Any) -> Iterator[Any]:
    """The shared replica with faults off and counters cleared; runtime settings restored."""
    saved = {k: getattr(fresh_replica.config, k) for k in RUNTIME_KEYS}
    yield fresh_replica
    fresh_replica.configure(**saved)


@pytest.fixture
async def phi4(rep: Any) -> AsyncIterator[ChatHFSpaces]:
    """Phi-4 on the replica, reached through `HFSPACES_ENDPOINTS` (no arguments)."""
    model = ChatHFSpaces()
    yield model
    await model.aclose()


@pytest.fixture
async def janus(rep: Any) -> AsyncIterator[ChatHFSpaces]:
    model = ChatHFSpaces(model="janus-pro-7b")
    yield model
    await model.aclose()


@pytest.fixture
async def janus_image(rep: Any) -> AsyncIterator[ChatHFSpaces]:
    model = ChatHFSpaces(model="janus-pro-7b-image", num_images=2, seed=7)
    yield model
    await model.aclose()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()
