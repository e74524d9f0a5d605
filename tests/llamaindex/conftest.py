"""Fixtures for the LlamaIndex tests. Every LLM here talks to the session replica: the
session's HFSPACES_ENDPOINTS points the default endpoints at it, so no arguments needed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent

from llama_index_hfspaces import HFSpacesLLM, HFSpacesToolSpec


async def _closing(llm: HFSpacesLLM) -> AsyncIterator[HFSpacesLLM]:
    yield llm
    await llm.aclose()  # the session opened in the test loop (sync calls close at exit)


@pytest.fixture
async def phi4(fresh_replica: Any) -> AsyncIterator[HFSpacesLLM]:
    async for llm in _closing(HFSpacesLLM()):
        yield llm


@pytest.fixture
async def janus(fresh_replica: Any) -> AsyncIterator[HFSpacesLLM]:
    async for llm in _closing(HFSpacesLLM(model="janus-pro-7b")):
        yield llm


@pytest.fixture
async def janus_image(fresh_replica: Any) -> AsyncIterator[HFSpacesLLM]:
    async for llm in _closing(HFSpacesLLM(model="janus-pro-7b-image", num_images=2, seed=7)):
        yield llm


@pytest.fixture
async def spec(fresh_replica: Any, tmp_path: Path) -> AsyncIterator[HFSpacesToolSpec]:
    tools = HFSpacesToolSpec(output_dir=tmp_path / "images")
    yield tools
    await tools.aclose()


class _Collect(BaseEventHandler):
    events: list[BaseEvent]

    @classmethod
    def class_name(cls) -> str:
        return "Collect"

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        self.events.append(event)


@pytest.fixture
def collected() -> Any:
    """Every instrumentation event dispatched during the test, in order."""
    handler = _Collect(events=[])
    dispatcher = get_dispatcher()  # the root: events propagate up to it
    dispatcher.add_event_handler(handler)
    yield handler.events
    dispatcher.event_handlers.remove(handler)
