"""LlamaIndex: `hf_token=False` is anonymous whatever HF_TOKEN says, and each wait in a
full queue reaches instrumentation as an `HFSpacesJobEvent` of kind "queue_wait"."""

from __future__ import annotations

from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent

from llama_index_hfspaces import HFSpacesLLM, HFSpacesToolSpec
from llama_index_hfspaces.events import HFSpacesJobEvent

IDENTITY = ("authorization", "x-hf-authorization", "x-zerogpu-token", "x-ip-token")


class _Collect(BaseEventHandler):
    events: list[BaseEvent]

    @classmethod
    def class_name(cls) -> str:
        return "CollectWaits"

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        self.events.append(event)


async def test_hf_token_false_sends_no_identity(
    fresh_replica: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_li_user")
    llm = HFSpacesLLM(hf_token=False, send_hf_token=True)
    assert (await llm.achat([ChatMessage(role="user", content="hello")])).message.content
    await llm.aclose()
    sent = [r["received"] for r in fresh_replica.stats()["requests"]]
    assert sent and not any(h in headers for headers in sent for h in IDENTITY)
    assert fresh_replica.stats()["hub_jwt_issued"] == 0
    spec = HFSpacesToolSpec(hf_token=False)
    assert spec._model("janus-pro-7b-image").client.caller == "anonymous"


async def test_queue_waits_reach_instrumentation(fresh_replica: Any) -> None:
    fresh_replica.configure(join_status=503, join_fail_count=2, retry_after=0)
    handler = _Collect(events=[])
    dispatcher = get_dispatcher()
    dispatcher.add_event_handler(handler)
    llm = HFSpacesLLM()
    llm.space_model.client.queue_backoff_range = (0.01, 0.05)
    try:
        stream = await llm.astream_chat([ChatMessage(role="user", content="hello")])
        [c async for c in stream]
    finally:
        dispatcher.event_handlers.remove(handler)
        await llm.aclose()
    waits = [
        e for e in handler.events if isinstance(e, HFSpacesJobEvent) and e.kind == "queue_wait"
    ]
    assert [w.data["attempt"] for w in waits] == [1, 2]
